package store

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/importdata"
)

// overwritePayload has the keys of exportPayload, in the same order, with
// every other value changed (see overwriteUnchanged for the exceptions).
// $MK1$, $MK2$ and $APPKEY$ are base64 PEM public keys.
const overwritePayload = `{"orgs": [
{"orgId": "o1", "org": {"name": "Org One Renamed"}, "orgState": "ORG_STATE_ACTIVE",
 "domains": [{"domainName": "two.example", "isVerified": true, "isPrimary": true}, {"domainName": "one.example", "isVerified": true}],
 "domainPolicy": {"orgId": "o1", "userLoginMustBeDomain": true, "validateOrgDomains": false, "smtpSenderAddressMatchesInstanceDomain": false},
 "labelPolicy": {"primaryColor": "#111111", "hideLoginNameSuffix": false, "warnColor": "#222222", "backgroundColor": "#333333",
	"fontColor": "#444444", "primaryColorDark": "#555555", "backgroundColorDark": "#666666", "warnColorDark": "#777777",
	"fontColorDark": "#888888", "disableWatermark": false, "themeMode": "THEME_MODE_LIGHT"},
 "lockoutPolicy": {"maxPasswordAttempts": 7, "maxOtpAttempts": "9"},
 "loginPolicy": {"allowUsernamePassword": false, "allowRegister": false, "allowExternalIdp": false, "forceMfa": false,
	"passwordlessType": "PASSWORDLESS_TYPE_NOT_ALLOWED", "hidePasswordReset": false, "ignoreUnknownUsernames": false,
	"defaultRedirectUri": "https://app.example/other", "passwordCheckLifetime": "3600s", "externalLoginCheckLifetime": "7200s",
	"mfaInitSkipLifetime": "60s", "secondFactorCheckLifetime": "120s", "multiFactorCheckLifetime": "180s",
	"secondFactors": ["SECOND_FACTOR_TYPE_U2F"],
	"multiFactors": [],
	"idps": [{"idpId": "idp2", "ownerType": "IDP_OWNER_TYPE_ORG"}],
	"allowDomainDiscovery": false, "disableLoginWithEmail": false, "disableLoginWithPhone": false, "forceMfaLocalOnly": false},
 "passwordComplexityPolicy": {"minLength": 9, "hasUppercase": false, "hasLowercase": false, "hasNumber": false, "hasSymbol": false},
 "privacyPolicy": {"tosLink": "https://o1.example/tos2", "privacyLink": "https://o1.example/privacy2", "helpLink": "https://o1.example/help2",
	"supportEmail": "help@o1.example", "docsLink": "https://docs2.o1.example", "customLink": "https://o1.example/y", "customLinkText": "Less"},
 "loginTexts": [
	{"language": "en", "loginText": {"title": "Hi", "nextButtonText": "Go"}, "footerText": {"tos": "Rules"}},
	{"loginText": {"title": "Hallo"}, "language": "de"}],
 "initMessages": [
	{"language": "en", "title": "Init2", "preHeader": "Pre2", "subject": "Activate2", "greeting": "Hi {{.DisplayName}}",
		"text": "Please activate2", "buttonText": "Activate2", "footerText": "Acme2"},
	{"language": "de", "title": "Init DE2", "preHeader": "Vor2", "subject": "Aktivieren2", "greeting": "Hallo2", "text": "Bitte2",
		"buttonText": "Los2", "footerText": "Fuss2"}],
 "passwordResetMessages": [{"language": "en", "title": "t2", "preHeader": "p2", "subject": "s2", "greeting": "g2", "text": "x2", "buttonText": "b2", "footerText": "f2"}],
 "verifyEmailMessages": [{"language": "en", "title": "t3", "preHeader": "p3", "subject": "s3", "greeting": "g3", "text": "x3", "buttonText": "b3", "footerText": "f3"}],
 "verifyPhoneMessages": [{"language": "en", "title": "t4", "preHeader": "p4", "subject": "s4", "greeting": "g4", "text": "x4", "buttonText": "b4", "footerText": "f4"}],
 "domainClaimedMessages": [{"language": "en", "title": "t5", "preHeader": "p5", "subject": "s5", "greeting": "g5", "text": "x5", "buttonText": "b5", "footerText": "f5"}],
 "passwordlessRegistrationMessages": [{"language": "en", "title": "t6", "preHeader": "p6", "subject": "s6", "greeting": "g6", "text": "x6", "buttonText": "b6", "footerText": "f6"}],
 "verifySmsOtpMessages": [{"language": "en", "text": "Code: {{.OTP}}"}],
 "verifyEmailOtpMessages": [{"language": "en", "title": "t8", "preHeader": "p8", "subject": "s8", "greeting": "g8", "text": "x8", "buttonText": "b8", "footerText": "f8"}],
 "inviteUserMessages": [{"language": "en", "title": "t9", "preHeader": "p9", "subject": "s9", "greeting": "g9", "text": "x9", "buttonText": "b9", "footerText": "f9"}],
 "oidcIdps": [
	{"idpId": "idp2", "idp": {"name": "Plain Two", "stylingType": "STYLING_TYPE_GOOGLE", "clientId": "c2b", "clientSecret": "other-secret",
		"issuer": "https://idp2.example", "scopes": ["openid", "email"], "displayNameMapping": 1, "usernameMapping": 1, "autoRegister": true}},
	{"idpId": "idp1", "idp": {"name": "Google Two", "clientId": "client-2",
		"clientSecret": "s3cret-client-2", "issuer": "https://accounts2.google.com", "scopes": ["openid"]}}],
 "jwtIdps": [{"idpId": "jwt1", "idp": {"name": "JWT Two", "jwtEndpoint": "https://jwt2.example/token",
	"issuer": "https://jwt2.example", "keysEndpoint": "https://jwt2.example/keys", "headerName": "x-auth-2"}}],
 "humanUsers": [
	{"userId": "h2", "state": "USER_STATE_INACTIVE", "user": {"userName": "bobby", "profile": {"firstName": "Robert", "lastName": "Braun",
		"nickName": "Rob", "displayName": "Robert B", "preferredLanguage": "en", "gender": 1}, "email": {"email": "robert@o1.example", "isEmailVerified": true},
		"phone": {"phone": "+41790000000"}, "password": "Other2?yz"}},
	{"userId": "h1", "state": "USER_STATE_LOCKED", "user": {"userName": "alicia",
		"profile": {"firstName": "Alicia", "lastName": "Alder", "nickName": "Ali", "displayName": "Alicia A.", "preferredLanguage": "fr",
			"gender": "GENDER_DIVERSE"},
		"email": {"email": "alicia@o1.example", "isEmailVerified": false}, "phone": {"phone": "+41797654321", "isPhoneVerified": false},
		"hashedPassword": {"value": "` + bcryptHash + `"}, "passwordChangeRequired": false, "requestPasswordlessRegistration": true,
		"otpCode": "KRSXG5CTMVRXEZLU",
		"idps": [{"configId": "jwt1", "externalUserId": "j-alice", "displayName": "Alicia J"},
			{"configId": "idp1", "externalUserId": "g-alice", "displayName": "Alicia G"}]}}],
 "machineUsers": [{"userId": "m1", "state": "USER_STATE_ACTIVE", "user": {"userName": "robot-two", "name": "Robot Two",
	"description": "does other things", "accessTokenType": "ACCESS_TOKEN_TYPE_BEARER", "userId": "ignored"}}],
 "userMetadata": [{"id": "m1", "key": "bin", "value": "AwI"}, {"id": "h1", "key": "color", "value": "Ymx1ZQ"}],
 "machineKeys": [
	{"keyId": "k2", "userId": "m1", "type": "KEY_TYPE_JSON", "expirationDate": "2098-05-06T07:08:09Z", "publicKey": "$MK1$"},
	{"keyId": "k1", "userId": "m1", "type": 1, "publicKey": "$MK2$"}],
 "userLinks": [{"userId": "h2", "idpId": "idp2", "idpName": "Plain Two", "providedUserId": "p-bob", "providedUserName": "bobby@idp",
	"idpType": "IDP_TYPE_OIDC"}],
 "projects": [{"projectId": "p1", "project": {"name": "Project Uno", "projectRoleAssertion": false, "projectRoleCheck": false,
	"hasProjectCheck": false, "privateLabelingSetting": "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"}}],
 "projectRoles": [{"projectId": "p1", "roleKey": "user", "displayName": "Member", "group": "folk"},
	{"projectId": "p1", "roleKey": "admin", "displayName": "Administrator", "group": "crew"}],
 "oidcApps": [
	{"appId": "web", "app": {"projectId": "p1", "name": "Web Two", "redirectUris": ["https://web2.example/cb"],
		"responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
		"grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
		"appType": "OIDC_APP_TYPE_WEB", "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
		"postLogoutRedirectUris": ["https://web2.example/out"], "version": "OIDC_VERSION_1_0", "devMode": false,
		"accessTokenType": "OIDC_TOKEN_TYPE_BEARER", "accessTokenRoleAssertion": false, "idTokenRoleAssertion": false,
		"idTokenUserinfoAssertion": false, "clockSkew": "2s", "additionalOrigins": ["https://other2.example"],
		"skipNativeAppSuccessPage": false, "backChannelLogoutUri": "https://web2.example/bcl",
		"loginVersion": {"loginV1": {}}}},
	{"appId": "jwt", "app": {"projectId": "p1", "name": "JWT Two", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
		"loginVersion": {"loginV2": {"baseUri": "https://login2.example"}}}}],
 "apiApps": [{"appId": "apikey", "app": {"projectId": "p1", "name": "API Key Two", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}},
	{"appId": "api", "app": {"projectId": "p1", "name": "API Two", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}],
 "appKeys": [{"id": "ak1", "projectId": "p1", "appId": "apikey", "clientId": "new@p1", "type": "KEY_TYPE_JSON",
	"expirationDate": "2101-01-02T03:04:05Z", "publicKey": "$MK1$"},
	{"id": "ak0", "projectId": "p1", "appId": "jwt", "type": 1, "expirationDate": "2102-01-02T03:04:05Z", "publicKey": "$APPKEY$"}],
 "actions": [{"actionId": "a2", "action": {"name": "Second Two", "script": "function SecondTwo(ctx, api) {}", "timeout": "3s", "allowedToFail": true}},
	{"actionId": "a1", "action": {"name": "First Two", "script": "function FirstTwo(ctx, api) {}", "timeout": "5s"}}],
 "triggerActions": [{"flowType": "FLOW_TYPE_CUSTOMISE_TOKEN", "triggerType": "TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION", "actionIds": ["a2", "a1"]},
	{"flowType": "1", "triggerType": "2", "actionIds": ["a1"]}],
 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2", "roleKeys": ["admin"]}}],
 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["user"]}],
 "orgMembers": [{"userId": "h2", "roles": ["ORG_OWNER"]}, {"userId": "h1", "roles": ["ORG_USER_MANAGER"]}],
 "projectMembers": [{"projectId": "p1", "userId": "m1", "roles": ["PROJECT_OWNER"]},
	{"projectId": "p1", "userId": "h2", "roles": ["PROJECT_OWNER_VIEWER"]}],
 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER_VIEWER"]}]},
{"orgId": "o2", "org": {"name": "Org Two Renamed"},
 "humanUsers": [{"userId": "u1", "user": {"userName": "gina2", "profile": {"firstName": "Georgina", "lastName": "Gee", "displayName": "Georgina G"},
	"email": {"email": "georgina@o2.example"}}}],
 "userGrants": [{"userId": "u1", "projectId": "p1", "projectGrantId": "g1", "roleKeys": ["admin"]}],
 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "h2", "roles": ["PROJECT_GRANT_OWNER"]}]}
]}`

// bcryptHash is a bcrypt hash (of "password"), a scheme other than argon2Hash's.
const bcryptHash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

// overwriteUnchanged are the fields of the model that overwritePayload keeps
// as exportPayload has them: keys, fields with a single valid value, and
// the domain policy's userLoginMustBeDomain, which an overwrite may not change
// while the org has users (their names would change scope).
var overwriteUnchanged = map[string]bool{
	"importdata.DataOrg.OrgID":                                          true,
	"importdata.Domain.DomainName":                                      true,
	"importdata.AddCustomDomainPolicyRequest.OrgID":                     true,
	"importdata.AddCustomDomainPolicyRequest.UserLoginMustBeDomain":     true,
	"importdata.IDPProvider.IDPID":                                      true,
	"importdata.LoginPolicyIDP.OwnerType":                               true, // IDP_OWNER_TYPE_ORG: zimport has no instance IdPs
	"importdata.SetCustomLoginTextsRequest.Language":                    true,
	"importdata.SetCustomMessageTextRequest.Language":                   true,
	"importdata.SetCustomVerifyPhoneMessageTextRequest.Language":        true,
	"importdata.SetCustomVerifySMSOTPMessageTextRequest.Language":       true,
	"importdata.DataOIDCIDP.IDPID":                                      true,
	"importdata.DataJWTIDP.IDPID":                                       true,
	"importdata.DataHumanUser.UserID":                                   true,
	"importdata.HumanIDP.ConfigID":                                      true,
	"importdata.HumanIDP.ExternalUserID":                                true,
	"importdata.ImportHumanUserRequest.RequestPasswordlessRegistration": true, // a request, not a value
	"importdata.DataMachineUser.UserID":                                 true,
	"importdata.AddMachineUserRequest.UserID":                           true, // ignored, as in ZITADEL
	"importdata.SetUserMetadataRequest.ID":                              true,
	"importdata.SetUserMetadataRequest.Key":                             true,
	"importdata.DataMachineKey.KeyID":                                   true,
	"importdata.DataMachineKey.UserID":                                  true,
	"importdata.DataMachineKey.Type":                                    true, // KEY_TYPE_JSON is the only type
	"importdata.IDPUserLink.UserID":                                     true,
	"importdata.IDPUserLink.IDPID":                                      true,
	"importdata.IDPUserLink.ProvidedUserID":                             true,
	"importdata.IDPUserLink.IDPType":                                    true,
	"importdata.DataProject.ProjectID":                                  true,
	"importdata.AddProjectRoleRequest.ProjectID":                        true,
	"importdata.AddProjectRoleRequest.RoleKey":                          true,
	"importdata.DataOIDCApplication.AppID":                              true,
	"importdata.AddOIDCAppRequest.ProjectID":                            true,
	"importdata.DataAPIApplication.AppID":                               true,
	"importdata.AddAPIAppRequest.ProjectID":                             true,
	"importdata.DataAppKey.ID":                                          true,
	"importdata.DataAppKey.ProjectID":                                   true,
	"importdata.DataAppKey.AppID":                                       true,
	"importdata.DataAppKey.Type":                                        true,
	"importdata.DataAction.ActionID":                                    true,
	"importdata.SetTriggerActionsRequest.FlowType":                      true,
	"importdata.SetTriggerActionsRequest.TriggerType":                   true,
	"importdata.DataProjectGrant.GrantID":                               true,
	"importdata.AddProjectGrantRequest.ProjectID":                       true,
	"importdata.AddProjectGrantRequest.GrantedOrgID":                    true,
	"importdata.AddUserGrantRequest.UserID":                             true,
	"importdata.AddUserGrantRequest.ProjectID":                          true,
	"importdata.AddUserGrantRequest.ProjectGrantID":                     true,
	"importdata.AddOrgMemberRequest.UserID":                             true,
	"importdata.AddProjectMemberRequest.ProjectID":                      true,
	"importdata.AddProjectMemberRequest.UserID":                         true,
	"importdata.AddProjectGrantMemberRequest.ProjectID":                 true,
	"importdata.AddProjectGrantMemberRequest.GrantID":                   true,
	"importdata.AddProjectGrantMemberRequest.UserID":                    true,
}

// TestStore_Overwrite imports exportPayload, then overwritePayload (the same
// keys, every other value changed) with onConflict OVERWRITE: every entity
// is reported overwritten and the export is overwritePayload.
func TestStore_Overwrite(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	keys, _ := testPublicKeys(t)
	replace := strings.NewReplacer("$MK1$", keys[0], "$MK2$", keys[2], "$APPKEY$", appsKey)
	first := replace.Replace(exportPayload)
	kindsImport(t, s, allStages(), importdata.OnConflictFail, first)

	second := replace.Replace(overwritePayload)
	r := kindsImport(t, s, allStages(), importdata.OnConflictOverwrite, second)
	for _, res := range kindsResults(t, s, r.job.ID) {
		// A new passwordless registration is a new code, not an overwrite.
		if res.Outcome != outcomeOverwritten && !(res.Step == "passwordless_links" && res.Outcome == "ok") {
			t.Errorf("overwrite: every entity must be overwritten, got %+v", res)
		}
	}

	var got []importdata.DataOrg
	if err := s.ExportOrgs(ctx, kindsInstance, nil, testBox, func(o *importdata.DataOrg) error {
		got = append(got, *o)
		return nil
	}); err != nil {
		t.Fatalf("ExportOrgs: %v", err)
	}
	before, after := decodeOrgs(t, first), decodeOrgs(t, second)
	checkEveryFieldChanged(t, before, after)
	for i := range after {
		exportExpected(t, &after[i], got)
	}
	if diff := cmp.Diff(after, got, exportCmpOptions...); diff != "" {
		t.Errorf("export after the overwrite (-want +got):\n%s", diff)
	}
}

// decodeOrgs decodes every org of an import payload.
func decodeOrgs(t testing.TB, payload string) []importdata.DataOrg {
	t.Helper()
	_, raws := kindsDecode(t, payload)
	var out []importdata.DataOrg
	for i, raw := range raws {
		org, err := importdata.DecodeOrg(raw, nil)
		if err != nil {
			t.Fatalf("decode org %d: %v", i, err)
		}
		out = append(out, *org)
	}
	return out
}

// checkEveryFieldChanged fails the test when a field of the model that is
// not in overwriteUnchanged has the same value in every place of before and
// after (whose lists are in the same order): the test would not show that
// an overwrite updates it.
func checkEveryFieldChanged(t testing.TB, before, after []importdata.DataOrg) {
	t.Helper()
	changed := map[string]bool{}
	var walk func(b, a reflect.Value)
	walk = func(b, a reflect.Value) {
		switch b.Kind() {
		case reflect.Pointer:
			if !b.IsNil() && !a.IsNil() {
				walk(b.Elem(), a.Elem())
			}
		case reflect.Slice:
			for i := 0; i < min(b.Len(), a.Len()); i++ {
				walk(b.Index(i), a.Index(i))
			}
		case reflect.Struct:
			typ := b.Type()
			if typ.PkgPath() != reflect.TypeFor[importdata.DataOrg]().PkgPath() {
				return
			}
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if !f.IsExported() || f.Type == reflect.TypeFor[error]() {
					continue
				}
				key := typ.String() + "." + f.Name
				if _, ok := changed[key]; !ok {
					changed[key] = false
				}
				if !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
					changed[key] = true
				}
				walk(b.Field(i), a.Field(i))
			}
		}
	}
	for i := range before {
		walk(reflect.ValueOf(before[i]), reflect.ValueOf(after[i]))
	}
	for key, ok := range changed {
		if !ok && !overwriteUnchanged[key] && !alwaysZero[key] {
			t.Errorf("overwritePayload does not change %s", key)
		}
	}
}
