package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/crypto/bcrypt"

	"github.com/zimport/zimport/importdata"
)

// exportPayload sets every field of every kind; $MK1$, $MK2$ and $APPKEY$
// are base64 PEM public keys. Lists are deliberately out of key order.
const exportPayload = `{"orgs": [
{"orgId": "o1", "org": {"name": "Org One"}, "orgState": "ORG_STATE_INACTIVE",
 "domains": [{"domainName": "two.example"}, {"domainName": "one.example", "isVerified": true, "isPrimary": true}],
 "domainPolicy": {"orgId": "o1", "userLoginMustBeDomain": true, "validateOrgDomains": true, "smtpSenderAddressMatchesInstanceDomain": true},
 "labelPolicy": {"primaryColor": "#5469d4", "hideLoginNameSuffix": true, "warnColor": "#cd3d56", "backgroundColor": "#fafafa",
	"fontColor": "#000000", "primaryColorDark": "#a0a0ff", "backgroundColorDark": "#111111", "warnColorDark": "#ff3b5b",
	"fontColorDark": "#ffffff", "disableWatermark": true, "themeMode": "THEME_MODE_DARK"},
 "lockoutPolicy": {"maxPasswordAttempts": 5, "maxOtpAttempts": "3"},
 "loginPolicy": {"allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true, "forceMfa": true,
	"passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "hidePasswordReset": true, "ignoreUnknownUsernames": true,
	"defaultRedirectUri": "https://app.example/home", "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "240h1m0s",
	"mfaInitSkipLifetime": "2592000.5s", "secondFactorCheckLifetime": "64800s", "multiFactorCheckLifetime": "43200s",
	"secondFactors": ["SECOND_FACTOR_TYPE_OTP_SMS", "SECOND_FACTOR_TYPE_OTP", 2, "SECOND_FACTOR_TYPE_OTP_EMAIL"],
	"multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
	"idps": [{"idpId": "jwt1", "ownerType": "IDP_OWNER_TYPE_ORG"}, {"idpId": "idp1", "owner_type": 2}],
	"allowDomainDiscovery": true, "disableLoginWithEmail": true, "disableLoginWithPhone": true, "forceMfaLocalOnly": true},
 "passwordComplexityPolicy": {"minLength": 8, "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true},
 "privacyPolicy": {"tosLink": "https://o1.example/tos", "privacyLink": "https://o1.example/privacy", "helpLink": "https://o1.example/help",
	"supportEmail": "support@o1.example", "docsLink": "https://docs.o1.example", "customLink": "https://o1.example/x", "customLinkText": "More"},
 "loginTexts": [
	{"language": "en", "loginText": {"title": "Welcome", "nextButtonText": "Next"}, "footerText": {"tos": "Terms"}},
	{"loginText": {"title": "Willkommen"}, "language": "de"}],
 "initMessages": [
	{"language": "en", "title": "Init", "preHeader": "Pre", "subject": "Activate", "greeting": "Hello {{.DisplayName}}",
		"text": "Please activate", "buttonText": "Activate", "footerText": "Acme"},
	{"language": "de", "title": "Init DE", "preHeader": "Vor", "subject": "Aktivieren", "greeting": "Hallo", "text": "Bitte",
		"buttonText": "Los", "footerText": "Fuss"}],
 "passwordResetMessages": [{"language": "en", "title": "T2", "preHeader": "P2", "subject": "S2", "greeting": "G2", "text": "X2", "buttonText": "B2", "footerText": "F2"}],
 "verifyEmailMessages": [{"language": "en", "title": "T3", "preHeader": "P3", "subject": "S3", "greeting": "G3", "text": "X3", "buttonText": "B3", "footerText": "F3"}],
 "verifyPhoneMessages": [{"language": "en", "title": "T4", "preHeader": "P4", "subject": "S4", "greeting": "G4", "text": "X4", "buttonText": "B4", "footerText": "F4"}],
 "domainClaimedMessages": [{"language": "en", "title": "T5", "preHeader": "P5", "subject": "S5", "greeting": "G5", "text": "X5", "buttonText": "B5", "footerText": "F5"}],
 "passwordlessRegistrationMessages": [{"language": "en", "title": "T6", "preHeader": "P6", "subject": "S6", "greeting": "G6", "text": "X6", "buttonText": "B6", "footerText": "F6"}],
 "verifySmsOtpMessages": [{"language": "en", "text": "Your code is {{.OTP}}"}],
 "verifyEmailOtpMessages": [{"language": "en", "title": "T8", "preHeader": "P8", "subject": "S8", "greeting": "G8", "text": "X8", "buttonText": "B8", "footerText": "F8"}],
 "inviteUserMessages": [{"language": "en", "title": "T9", "preHeader": "P9", "subject": "S9", "greeting": "G9", "text": "X9", "buttonText": "B9", "footerText": "F9"}],
 "oidcIdps": [
	{"idpId": "idp2", "idp": {"name": "Plain", "clientId": "c2", "clientSecret": "second-secret", "issuer": "https://idp.example",
		"scopes": ["openid"]}},
	{"idpId": "idp1", "idp": {"name": "Google", "stylingType": "STYLING_TYPE_GOOGLE", "clientId": "client-1",
		"clientSecret": "s3cret-client", "issuer": "https://accounts.google.com", "scopes": ["openid", "profile", "email"],
		"displayNameMapping": "OIDC_MAPPING_FIELD_EMAIL", "usernameMapping": 1, "autoRegister": true}}],
 "jwtIdps": [{"idpId": "jwt1", "idp": {"name": "JWT", "stylingType": 1, "jwtEndpoint": "https://jwt.example/token",
	"issuer": "https://jwt.example", "keysEndpoint": "https://jwt.example/keys", "headerName": "x-auth", "autoRegister": true}}],
 "humanUsers": [
	{"userId": "h2", "state": "USER_STATE_LOCKED", "user": {"userName": "bob", "profile": {"firstName": "Bob", "lastName": "Brown",
		"displayName": "Bobby", "gender": 2}, "email": {"email": "bob@o1.example"}, "password": "Secret1!x", "passwordChangeRequired": true}},
	{"userId": "h1", "state": "USER_STATE_INACTIVE", "user": {"userName": "alice",
		"profile": {"firstName": "Alice", "lastName": "Adams", "nickName": "Al", "displayName": "Alice A.", "preferredLanguage": "de",
			"gender": "GENDER_FEMALE"},
		"email": {"email": "alice@o1.example", "isEmailVerified": true}, "phone": {"phone": "+41791234567", "isPhoneVerified": true},
		"hashedPassword": {"value": "` + argon2Hash + `"}, "passwordChangeRequired": true, "requestPasswordlessRegistration": true,
		"otpCode": "` + otpSecret + `",
		"idps": [{"configId": "jwt1", "externalUserId": "j-alice", "displayName": "Alice J"},
			{"configId": "idp1", "externalUserId": "g-alice", "displayName": "Alice G"}]}}],
 "machineUsers": [{"userId": "m1", "state": "USER_STATE_INACTIVE", "user": {"userName": "robot", "name": "Robot",
	"description": "does things", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT", "userId": "ignored"}}],
 "userMetadata": [{"id": "m1", "key": "bin", "value": "AAEC/w"}, {"id": "h1", "key": "color", "value": "cmVk"}],
 "machineKeys": [
	{"keyId": "k2", "userId": "m1", "type": "KEY_TYPE_JSON", "publicKey": "$MK2$"},
	{"keyId": "k1", "userId": "m1", "type": 1, "expirationDate": "2099-01-02T04:04:05+01:00", "publicKey": "$MK1$"}],
 "userLinks": [{"userId": "h2", "idpId": "idp2", "idpName": "Plain", "providedUserId": "p-bob", "providedUserName": "bob@idp",
	"idpType": "IDP_TYPE_OIDC"}],
 "projects": [{"projectId": "p1", "project": {"name": "Project One", "projectRoleAssertion": true, "projectRoleCheck": true,
	"hasProjectCheck": true, "privateLabelingSetting": "PRIVATE_LABELING_SETTING_ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY"}}],
 "projectRoles": [{"projectId": "p1", "roleKey": "user", "displayName": "User", "group": "people"},
	{"projectId": "p1", "roleKey": "admin", "displayName": "Admin", "group": "staff"}],
 "oidcApps": [
	{"appId": "web", "app": {"projectId": "p1", "name": "Web", "redirectUris": ["https://web.example/cb", "https://web.example/cb2"],
		"responseTypes": ["OIDC_RESPONSE_TYPE_ID_TOKEN", "OIDC_RESPONSE_TYPE_CODE"],
		"grantTypes": ["OIDC_GRANT_TYPE_REFRESH_TOKEN", "OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_IMPLICIT"],
		"appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_POST",
		"postLogoutRedirectUris": ["https://web.example/out"], "version": "OIDC_VERSION_1_0", "devMode": true,
		"accessTokenType": "OIDC_TOKEN_TYPE_JWT", "accessTokenRoleAssertion": true, "idTokenRoleAssertion": true,
		"idTokenUserinfoAssertion": true, "clockSkew": "1.5s", "additionalOrigins": ["https://other.example"],
		"skipNativeAppSuccessPage": true, "backChannelLogoutUri": "https://web.example/bcl",
		"loginVersion": {"loginV2": {"baseUri": "https://login.example"}}}},
	{"appId": "jwt", "app": {"projectId": "p1", "name": "JWT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
		"loginVersion": {"loginV1": {}}}}],
 "apiApps": [{"appId": "apikey", "app": {"projectId": "p1", "name": "API Key", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}},
	{"appId": "api", "app": {"projectId": "p1", "name": "API"}}],
 "appKeys": [{"id": "ak1", "projectId": "p1", "appId": "apikey", "clientId": "old@p1", "type": "KEY_TYPE_JSON",
	"expirationDate": "2100-01-02T03:04:05Z", "publicKey": "$APPKEY$"},
	{"id": "ak0", "projectId": "p1", "appId": "jwt", "type": 1, "publicKey": "$APPKEY$"}],
 "actions": [{"actionId": "a2", "action": {"name": "Second", "script": "function Second(ctx, api) {}", "timeout": "2.5s"}},
	{"actionId": "a1", "action": {"name": "First", "script": "function First(ctx, api) {}", "timeout": "10s", "allowedToFail": true}}],
 "triggerActions": [{"flowType": "FLOW_TYPE_CUSTOMISE_TOKEN", "triggerType": "TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION", "actionIds": ["a1"]},
	{"flowType": "1", "triggerType": "2", "actionIds": ["a2", "a1"]}],
 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2", "roleKeys": ["user", "admin"]}}],
 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["user", "admin"]}],
 "orgMembers": [{"userId": "h2", "roles": ["ORG_USER_MANAGER"]}, {"userId": "h1", "roles": ["ORG_OWNER", "ORG_OWNER_VIEWER"]}],
 "projectMembers": [{"projectId": "p1", "userId": "m1", "roles": ["PROJECT_OWNER_VIEWER"]},
	{"projectId": "p1", "userId": "h2", "roles": ["PROJECT_OWNER", "PROJECT_OWNER_VIEWER"]}],
 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER"]}]},
{"orgId": "o2", "org": {"name": "Org Two"},
 "humanUsers": [{"userId": "u1", "user": {"userName": "gina", "profile": {"firstName": "Gina", "lastName": "G", "displayName": "Gina G"},
	"email": {"email": "gina@o2.example"}}}],
 "userGrants": [{"userId": "u1", "projectId": "p1", "projectGrantId": "g1", "roleKeys": ["user"]}],
 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "h2", "roles": ["PROJECT_GRANT_OWNER_VIEWER"]}]}
]}`

// allStages runs every registered step, by stage, in import order.
func allStages() []kindsStage {
	var out []kindsStage
	for _, st := range Steps() {
		if len(out) == 0 || out[len(out)-1].stage != st.Stage {
			out = append(out, kindsStage{stage: st.Stage})
		}
		out[len(out)-1].steps = append(out[len(out)-1].steps, st.Name)
	}
	return out
}

func TestStore_ExportOrgs(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	keys, _ := testPublicKeys(t)
	payload := strings.NewReplacer("$MK1$", keys[0], "$MK2$", keys[2], "$APPKEY$", appsKey).Replace(exportPayload)

	r := kindsImport(t, s, allStages(), importdata.OnConflictFail, payload)
	for _, res := range kindsResults(t, s, r.job.ID) {
		if res.Outcome != "ok" {
			t.Fatalf("import: every entity must succeed, got %+v", res)
		}
	}

	var got []importdata.DataOrg
	if err := s.ExportOrgs(ctx, kindsInstance, nil, testBox, func(o *importdata.DataOrg) error {
		got = append(got, *o)
		return nil
	}); err != nil {
		t.Fatalf("ExportOrgs: %v", err)
	}

	_, raws := kindsDecode(t, payload)
	var want []importdata.DataOrg
	for i, raw := range raws {
		org, err := importdata.DecodeOrg(raw, nil)
		if err != nil {
			t.Fatalf("decode org %d: %v", i, err)
		}
		want = append(want, *org)
	}
	checkEveryField(t, want)
	for i := range want {
		exportExpected(t, &want[i], got)
	}
	if diff := cmp.Diff(want, got, exportCmpOptions...); diff != "" {
		t.Errorf("export of the import (-want +got):\n%s", diff)
	}

	// Without a box the secrets stay empty.
	var sealed *importdata.DataOrg
	if err := s.ExportOrgs(ctx, kindsInstance, []string{"o1"}, nil, func(o *importdata.DataOrg) error {
		sealed = o
		return nil
	}); err != nil {
		t.Fatalf("ExportOrgs without a box: %v", err)
	}
	for _, idp := range sealed.OIDCIDPs {
		if idp.V.IDP.ClientSecret != "" {
			t.Errorf("IdP %s: client secret exported without a box", idp.V.IDPID)
		}
	}
	for _, u := range sealed.HumanUsers {
		if u.V.User.OTPCode != "" {
			t.Errorf("user %s: OTP secret exported without a box", u.V.UserID)
		}
	}
}

// exportCmpOptions compare DataOrg values: empty and absent lists alike,
// timestamps as instants, login texts as JSON values.
var exportCmpOptions = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b importdata.Timestamp) bool { return a.Equal(b.Time) }),
	cmp.Comparer(func(a, b importdata.SetCustomLoginTextsRequest) bool {
		return a.Language == b.Language && jsonEqual(a.Texts, b.Texts)
	}),
}

// jsonEqual reports whether a and b are the same JSON value (member order
// and white space aside).
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

// exportExpected turns the imported org want into what the export gives
// back. These are the only differences between an import and its export:
//
//   - humanUsers[].user.password is stored as a bcrypt hash: exported as
//     hashedPassword (checked against the password here);
//   - passwordChangeRequired is false for a user imported with a
//     hashedPassword (ZITADEL's rule);
//   - orgState and users' state other than inactive (and locked for users)
//     are stored as active;
//   - trigger actions' flowType and triggerType are exported as their
//     numbers ("2"), names being normalised;
//   - domainPolicy.orgId and machineUsers[].user.userId are not stored (the
//     policy belongs to the DataOrg's org; the user's id is userId);
//   - lists of entities are in key order (the tables do not keep the input
//     order); lists inside an entity keep their order.
func exportExpected(t testing.TB, want *importdata.DataOrg, got []importdata.DataOrg) {
	t.Helper()
	if want.OrgState != importdata.OrgStateInactive {
		want.OrgState = importdata.OrgStateActive
	}
	if p := want.DomainPolicy.V; p != nil {
		p.OrgID = ""
	}
	for i := range want.HumanUsers {
		d := &want.HumanUsers[i].V
		d.State = storedUserState(d.State)
		u := &d.User
		if u.HashedPassword != nil {
			u.PasswordChangeRequired = false
			continue
		}
		if u.Password == "" {
			continue
		}
		hash := exportedHash(got, want.OrgID, d.UserID)
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(u.Password)); err != nil {
			t.Errorf("user %s: exported hash does not match the imported password: %v", d.UserID, err)
		}
		u.Password, u.HashedPassword = "", &importdata.HashedPassword{Value: hash}
	}
	for i := range want.MachineUsers {
		d := &want.MachineUsers[i].V
		d.State, d.User.UserID = storedUserState(d.State), ""
	}
	for i := range want.TriggerActions {
		ta := &want.TriggerActions[i].V
		ta.FlowType = strconv.Itoa(importdata.FlowTypeID(ta.FlowType))
		ta.TriggerType = strconv.Itoa(importdata.TriggerTypeID(ta.TriggerType))
	}

	sortItems(want.Domains, func(v importdata.Domain) string { return v.DomainName })
	sortItems(want.HumanUsers, func(v importdata.DataHumanUser) string { return v.UserID })
	for i := range want.HumanUsers {
		slices.SortStableFunc(want.HumanUsers[i].V.User.IDPs, func(a, b importdata.HumanIDP) int {
			return strings.Compare(a.ConfigID+"\x00"+a.ExternalUserID, b.ConfigID+"\x00"+b.ExternalUserID)
		})
	}
	sortItems(want.MachineUsers, func(v importdata.DataMachineUser) string { return v.UserID })
	sortItems(want.Projects, func(v importdata.DataProject) string { return v.ProjectID })
	sortItems(want.ProjectRoles, func(v importdata.AddProjectRoleRequest) string { return v.ProjectID + "\x00" + v.RoleKey })
	sortItems(want.ProjectGrants, func(v importdata.DataProjectGrant) string { return v.GrantID })
	sortItems(want.UserGrants, func(v importdata.AddUserGrantRequest) string {
		return v.UserID + "\x00" + v.ProjectID + "\x00" + v.ProjectGrantID
	})
	sortItems(want.OrgMembers, func(v importdata.AddOrgMemberRequest) string { return v.UserID })
	sortItems(want.ProjectMembers, func(v importdata.AddProjectMemberRequest) string { return v.ProjectID + "\x00" + v.UserID })
	sortItems(want.UserMetadata, func(v importdata.SetUserMetadataRequest) string { return v.ID + "\x00" + v.Key })
	sortItems(want.OIDCIDPs, func(v importdata.DataOIDCIDP) string { return v.IDPID })
	sortItems(want.JWTIDPs, func(v importdata.DataJWTIDP) string { return v.IDPID })
	sortItems(want.UserLinks, func(v importdata.IDPUserLink) string {
		return v.UserID + "\x00" + v.IDPID + "\x00" + v.ProvidedUserID
	})
	sortItems(want.MachineKeys, func(v importdata.DataMachineKey) string { return v.KeyID })
	sortItems(want.APIApps, func(v importdata.DataAPIApplication) string { return v.AppID })
	sortItems(want.OIDCApps, func(v importdata.DataOIDCApplication) string { return v.AppID })
	sortItems(want.TriggerActions, func(v importdata.SetTriggerActionsRequest) string { return v.FlowType + "\x00" + v.TriggerType })
	sortItems(want.Actions, func(v importdata.DataAction) string { return v.ActionID })
	sortItems(want.ProjectGrantMembers, func(v importdata.AddProjectGrantMemberRequest) string { return v.GrantID + "\x00" + v.UserID })
	sortItems(want.AppKeys, func(v importdata.DataAppKey) string { return v.ID })
	sortItems(want.LoginTexts, func(v importdata.SetCustomLoginTextsRequest) string { return v.Language })
	for _, texts := range []importdata.Items[importdata.SetCustomMessageTextRequest]{want.InitMessages, want.PasswordResetMessages,
		want.VerifyEmailMessages, want.DomainClaimedMessages, want.PasswordlessRegistrationMessages, want.VerifyEmailOTPMessages,
		want.InviteUserMessages} {
		sortItems(texts, func(v importdata.SetCustomMessageTextRequest) string { return v.Language })
	}
	sortItems(want.VerifyPhoneMessages, func(v importdata.SetCustomVerifyPhoneMessageTextRequest) string { return v.Language })
	sortItems(want.VerifySMSOTPMessages, func(v importdata.SetCustomVerifySMSOTPMessageTextRequest) string { return v.Language })
}

// storedUserState is the state the import stores for s.
func storedUserState(s importdata.UserState) importdata.UserState {
	if s == importdata.UserStateInactive || s == importdata.UserStateLocked {
		return s
	}
	return importdata.UserStateActive
}

// exportedHash returns the exported hashedPassword of a user of org orgID.
func exportedHash(orgs []importdata.DataOrg, orgID, userID string) string {
	for _, o := range orgs {
		for _, u := range o.HumanUsers {
			if o.OrgID == orgID && u.V.UserID == userID && u.V.User.HashedPassword != nil {
				return u.V.User.HashedPassword.Value
			}
		}
	}
	return ""
}

// sortItems orders items by key, as byte strings (the export's COLLATE "C").
func sortItems[T any](items importdata.Items[T], key func(T) string) {
	slices.SortStableFunc(items, func(a, b importdata.Item[T]) int { return strings.Compare(key(a.V), key(b.V)) })
}

// alwaysZero are the fields of the model whose only value is the zero value.
var alwaysZero = map[string]bool{
	"importdata.AddOIDCAppRequest.Version": true, // OIDC_VERSION_1_0 (0) is the only version
}

// checkEveryField fails the test when a field of the model is zero in every
// value of the payload that has its type: the round trip would not show
// that the field is stored and exported.
func checkEveryField(t testing.TB, orgs []importdata.DataOrg) {
	t.Helper()
	set := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			typ := v.Type()
			if typ.PkgPath() != reflect.TypeFor[importdata.DataOrg]().PkgPath() {
				return // a leaf, such as time.Time
			}
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if !f.IsExported() || f.Type == reflect.TypeFor[error]() {
					continue
				}
				key := typ.String() + "." + f.Name
				if _, ok := set[key]; !ok {
					set[key] = false
				}
				if !v.Field(i).IsZero() {
					set[key] = true
				}
				walk(v.Field(i))
			}
		}
	}
	for _, o := range orgs {
		walk(reflect.ValueOf(o))
	}
	for key, ok := range set {
		if !ok && !alwaysZero[key] {
			t.Errorf("the payload never sets %s", key)
		}
	}
}

func TestStore_ExportOrgsNotFound(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, allStages(), importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`)
	var got []string
	err := s.ExportOrgs(context.Background(), kindsInstance, []string{"o1", "nope"}, nil, func(o *importdata.DataOrg) error {
		got = append(got, o.OrgID)
		return nil
	})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("ExportOrgs: got error %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff([]string{"o1"}, got); diff != "" {
		t.Errorf("visited orgs (-want +got):\n%s", diff)
	}
}
