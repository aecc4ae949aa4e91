package store

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/importdata"
)

// The tests of the policy and text kinds.

// policiesStages are the steps these tests run: one pass-1 unit per org that
// runs the org, its IdPs (which login policies name), its policies and its
// texts.
var policiesStages = []kindsStage{{StagePass1, []string{"org", "domain_policy", "label_policy", "lockout_policy",
	"oidc_idps", "jwt_idps", "login_policy", "password_complexity_policy", "privacy_policy", "login_texts", "message_texts"}}}

// Directory queries of the policies and texts.
const (
	qDomainPolicies = `SELECT org_id, user_login_must_be_domain, validate_org_domains, smtp_sender_address_matches_instance_domain
		FROM domain_policies ORDER BY org_id`
	qLabelPolicies = `SELECT org_id, primary_color, hide_login_name_suffix, warn_color, background_color, font_color,
		primary_color_dark, background_color_dark, warn_color_dark, font_color_dark, disable_watermark, theme_mode
		FROM label_policies ORDER BY org_id`
	qLockoutPolicies = `SELECT org_id, max_password_attempts, max_otp_attempts FROM lockout_policies ORDER BY org_id`
	qLoginPolicies   = `SELECT org_id, allow_username_password, allow_register, allow_external_idp, force_mfa, passwordless_type,
		hide_password_reset, ignore_unknown_usernames, default_redirect_uri,
		coalesce(extract(epoch FROM password_check_lifetime)::text, 'null'),
		coalesce(extract(epoch FROM external_login_check_lifetime)::text, 'null'),
		coalesce(extract(epoch FROM mfa_init_skip_lifetime)::text, 'null'),
		coalesce(extract(epoch FROM second_factor_check_lifetime)::text, 'null'),
		coalesce(extract(epoch FROM multi_factor_check_lifetime)::text, 'null'),
		second_factors, multi_factors, allow_domain_discovery, disable_login_with_email, disable_login_with_phone, force_mfa_local_only
		FROM login_policies ORDER BY org_id`
	qLoginPolicyIDPs = `SELECT org_id, position, idp_id, owner_type FROM login_policy_idps ORDER BY org_id, position`
	qComplexity      = `SELECT org_id, min_length, has_uppercase, has_lowercase, has_number, has_symbol
		FROM password_complexity_policies ORDER BY org_id`
	qPrivacyPolicies = `SELECT org_id, tos_link, privacy_link, help_link, support_email, docs_link, custom_link, custom_link_text
		FROM privacy_policies ORDER BY org_id`
	qLoginTexts   = `SELECT org_id, language, language_tag, texts::text FROM login_texts ORDER BY org_id, language_tag`
	qMessageTexts = `SELECT org_id, message_type, language, language_tag, title, pre_header, subject, greeting, text, button_text, footer_text
		FROM message_texts ORDER BY org_id, message_type, language_tag`
)

// policiesTables are the tables of the policies and texts.
var policiesTables = []string{"domain_policies", "label_policies", "lockout_policies", "login_policies", "login_policy_idps",
	"password_complexity_policies", "privacy_policies", "login_texts", "message_texts"}

// policyRowCounts returns the number of rows of each of policiesTables.
func policyRowCounts(t testing.TB, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tbl := range policiesTables {
		out[tbl] = kindsRows(t, s, `SELECT count(*) FROM `+tbl)[0][0]
	}
	return out
}

func TestSteps_PolicyKinds(t *testing.T) {
	checkSteps(t, map[string]stepMeta{
		"domain_policy":              {"domain_policy", []string{"domainPolicy"}, StagePass1, 2, "", nil, false, false},
		"label_policy":               {"label_policy", []string{"labelPolicy"}, StagePass1, 4, "", nil, false, false},
		"lockout_policy":             {"lockout_policy", []string{"lockoutPolicy"}, StagePass1, 5, "", nil, false, false},
		"login_policy":               {"login_policy", []string{"loginPolicy"}, StagePass1, 8, "", nil, false, false},
		"password_complexity_policy": {"password_complexity_policy", []string{"passwordComplexityPolicy"}, StagePass1, 9, "", nil, false, false},
		"privacy_policy":             {"privacy_policy", []string{"privacyPolicy"}, StagePass1, 10, "", nil, false, false},
		"login_texts":                {"login_texts", []string{"loginTexts"}, StagePass1, 11, "", nil, true, false},
		"message_texts": {"init_message", []string{"initMessages", "passwordResetMessages", "verifyEmailMessages",
			"verifyPhoneMessages", "domainClaimedMessages", "passwordlessRegistrationMessages", "inviteUserMessages",
			"verifySmsOtpMessages", "verifyEmailOtpMessages"}, StagePass1, 12, "", nil, false, false},
	})
}

// fullPolicies is an org member list with every policy and text, all
// fields set.
const fullPolicies = `
	"jwtIdps": [{"idpId": "jwt1", "idp": {"name": "JWT", "jwtEndpoint": "https://j.example/jwt", "issuer": "https://j.example",
		"keysEndpoint": "https://j.example/keys", "headerName": "x-auth"}}],
	"domainPolicy": {"orgId": "not-used", "userLoginMustBeDomain": true, "validateOrgDomains": true, "smtpSenderAddressMatchesInstanceDomain": true},
	"labelPolicy": {"primaryColor": "#5469d4", "hideLoginNameSuffix": true, "warnColor": "#CD3D56", "backgroundColor": "#FAFAFA",
		"fontColor": "#000", "primaryColorDark": "#BBBAFA", "backgroundColorDark": "#111827", "warnColorDark": "#FF3B5B",
		"fontColorDark": "#FFFFFF", "disableWatermark": true, "themeMode": "THEME_MODE_DARK"},
	"lockoutPolicy": {"maxPasswordAttempts": 5, "maxOtpAttempts": "7"},
	"loginPolicy": {"allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true, "forceMfa": true,
		"passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "hidePasswordReset": true, "ignoreUnknownUsernames": true,
		"defaultRedirectUri": "https://app.example/home", "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "240h0m0s",
		"mfaInitSkipLifetime": "2592000s", "secondFactorCheckLifetime": "64800.5s",
		"secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F", 3], "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
		"idps": [{"idpId": "jwt1", "ownerType": "IDP_OWNER_TYPE_ORG"}],
		"allowDomainDiscovery": true, "disableLoginWithEmail": true, "disableLoginWithPhone": true, "forceMfaLocalOnly": true},
	"passwordComplexityPolicy": {"minLength": "8", "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true},
	"privacyPolicy": {"tosLink": "https://x.example/tos", "privacyLink": "https://x.example/privacy", "helpLink": "https://x.example/help",
		"supportEmail": "support@x.example", "docsLink": "https://x.example/docs", "customLink": "https://x.example/c", "customLinkText": "Custom"},
	"loginTexts": [{"language": "de", "loginText": {"title": "Anmelden", "nextButtonText": "weiter"}},
		{"language": "en-us", "passwordText": {"title": "Password"}, "footerText": {"tos": "Terms"}}],
	"initMessages": [{"language": "de", "title": "T", "preHeader": "P", "subject": "S", "greeting": "G", "text": "X", "buttonText": "B", "footerText": "F"}],
	"passwordResetMessages": [{"language": "de", "title": "Reset"}],
	"verifyEmailMessages": [{"language": "de", "title": "Verify"}],
	"verifyPhoneMessages": [{"language": "de", "text": "Code {{.Code}}"}],
	"domainClaimedMessages": [{"language": "de", "subject": "Claimed"}],
	"passwordlessRegistrationMessages": [{"language": "de", "buttonText": "Add"}],
	"inviteUserMessages": [{"language": "de", "greeting": "Hi"}],
	"verifySmsOtpMessages": [{"language": "de", "text": "OTP {{.OTP}}"}],
	"verifyEmailOtpMessages": [{"language": "de", "title": "OTP"}]`

// fullPolicyResults are the results of fullPolicies in org index org, id o.
func fullPolicyResults(org int, o string) []kindsResult {
	return []kindsResult{
		resOK(org, "domain_policy", 0, "domain_policy", o),
		resOK(org, "label_policy", 0, "label_policy", o),
		resOK(org, "lockout_policy", 0, "lockout_policy", o),
		resOK(org, "jwt_idps", 0, "jwt_idp", "jwt1"),
		resOK(org, "login_policy", 0, "login_policy", o),
		resOK(org, "password_complexity_policy", 0, "password_complexity_policy", o),
		resOK(org, "privacy_policy", 0, "privacy_policy", o),
		resOK(org, "login_texts", 0, "login_texts", o+"_de"),
		resOK(org, "login_texts", 1, "login_texts", o+"_en-us"),
		resOK(org, "message_texts", 0, "init_message", o+"_de"),
		resOK(org, "message_texts", 1, "password_reset_message", o+"_de"),
		resOK(org, "message_texts", 2, "verify_email_message", o+"_de"),
		resOK(org, "message_texts", 3, "verify_phone_message", o+"_de"),
		resOK(org, "message_texts", 4, "domain_claimed_message", o+"_de"),
		resOK(org, "message_texts", 5, "passwordless_registration_message", o+"_de"),
		resOK(org, "message_texts", 6, "invite_user_messages", o+"_de"),
		resOK(org, "message_texts", 7, "verify_sms_otp_message", o+"_de"),
		resOK(org, "message_texts", 8, "verify_email_otp_message", o+"_de"),
	}
}

func TestApplyUnit_PoliciesSuccess(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"}, `+fullPolicies+`},
	{"orgId": "o2", "org": {"name": "Org Two"},
	 "lockoutPolicy": {}, "loginPolicy": {}, "passwordComplexityPolicy": {"minLength": 1},
	 "loginTexts": [], "verifyPhoneMessages": [{"language": "fr", "title": "Vérifier"}]}
	]}`)
	want := fullPolicyResults(0, "o1")
	want = append(want,
		resOK(1, "lockout_policy", 0, "lockout_policy", "o2"),
		resOK(1, "login_policy", 0, "login_policy", "o2"),
		resOK(1, "password_complexity_policy", 0, "password_complexity_policy", "o2"),
		resOK(1, "message_texts", 0, "verify_phone_message", "o2_fr"))
	checkResults(t, want, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{qDomainPolicies, [][]string{{"o1", "true", "true", "true"}}},
		{qLabelPolicies, [][]string{{"o1", "#5469d4", "true", "#CD3D56", "#FAFAFA", "#000", "#BBBAFA", "#111827", "#FF3B5B", "#FFFFFF", "true", "THEME_MODE_DARK"}}},
		{qLockoutPolicies, [][]string{{"o1", "5", "7"}, {"o2", "0", "0"}}},
		{qLoginPolicies, [][]string{
			{"o1", "true", "true", "true", "true", "PASSWORDLESS_TYPE_ALLOWED", "true", "true", "https://app.example/home",
				"864000.000000", "864000.000000", "2592000.000000", "64800.500000", "null",
				"[SECOND_FACTOR_TYPE_OTP SECOND_FACTOR_TYPE_U2F SECOND_FACTOR_TYPE_OTP_EMAIL]", "[MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION]",
				"true", "true", "true", "true"},
			{"o2", "false", "false", "false", "false", "PASSWORDLESS_TYPE_NOT_ALLOWED", "false", "false", "",
				"null", "null", "null", "null", "null", "[]", "[]", "false", "false", "false", "false"}}},
		{qLoginPolicyIDPs, [][]string{{"o1", "0", "jwt1", "IDP_OWNER_TYPE_ORG"}}},
		{qComplexity, [][]string{{"o1", "8", "true", "true", "true", "true"}, {"o2", "1", "false", "false", "false", "false"}}},
		{qPrivacyPolicies, [][]string{{"o1", "https://x.example/tos", "https://x.example/privacy", "https://x.example/help",
			"support@x.example", "https://x.example/docs", "https://x.example/c", "Custom"}}},
		{qLoginTexts, [][]string{
			{"o1", "de", "de", `{"language": "de", "loginText": {"title": "Anmelden", "nextButtonText": "weiter"}}`},
			{"o1", "en-us", "en-US", `{"language": "en-us", "footerText": {"tos": "Terms"}, "passwordText": {"title": "Password"}}`}}},
		{qMessageTexts, [][]string{
			{"o1", "DomainClaimed", "de", "de", "", "", "Claimed", "", "", "", ""},
			{"o1", "InitCode", "de", "de", "T", "P", "S", "G", "X", "B", "F"},
			{"o1", "InviteUser", "de", "de", "", "", "", "Hi", "", "", ""},
			{"o1", "PasswordReset", "de", "de", "Reset", "", "", "", "", "", ""},
			{"o1", "PasswordlessRegistration", "de", "de", "", "", "", "", "", "Add", ""},
			{"o1", "VerifyEmail", "de", "de", "Verify", "", "", "", "", "", ""},
			{"o1", "VerifyEmailOTP", "de", "de", "OTP", "", "", "", "", "", ""},
			{"o1", "VerifyPhone", "de", "de", "", "", "", "", "Code {{.Code}}", "", ""},
			{"o1", "VerifySMSOTP", "de", "de", "", "", "", "", "OTP {{.OTP}}", "", ""},
			{"o2", "VerifyPhone", "fr", "fr", "Vérifier", "", "", "", "", "", ""}}},
	})
	// Policies have no success list: the orgs' entries hold their ids only.
	var buf bytes.Buffer
	if err := s.WriteResult(context.Background(), &buf, r.job); err != nil {
		t.Fatal(err)
	}
	if want := `"success":{"orgs":[{"orgId":"o1","jwtIdps":["jwt1"]},{"orgId":"o2"}]}`; !strings.Contains(buf.String(), want) {
		t.Errorf("result = %s, want it to contain %s", buf.String(), want)
	}
	if strings.Contains(buf.String(), `"errors"`) {
		t.Errorf("result = %s, want no errors", buf.String())
	}
}

func TestApplyUnit_PoliciesInvalid(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	long := strings.Repeat("x", 201)
	r := kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "a0", "org": {"name": "A0"},
	 "domainPolicy": {"orgId": "`+long+`"},
	 "labelPolicy": {"primaryColor": "`+long[:51]+`"},
	 "lockoutPolicy": {"maxOtpAttempts": -1},
	 "loginPolicy": {"idps": [{"idpId": "i"}]},
	 "passwordComplexityPolicy": {"minLength": 0},
	 "privacyPolicy": {"supportEmail": "nope"},
	 "loginTexts": [{"language": "xx yy"}, {"language": ""}, {"language": "de", "loginText": "x"}, 5],
	 "initMessages": [{"language": "de", "title": "`+strings.Repeat("é", 1001)+`"}],
	 "verifyPhoneMessages": [{"language": "de", "text": "`+strings.Repeat("x", 801)+`"}],
	 "verifySmsOtpMessages": [{"language": "not a tag!"}],
	 "inviteUserMessages": [{"language": "de", "title": 5}]},
	{"orgId": "a1", "org": {"name": "A1"},
	 "labelPolicy": {"warnColor": "red"},
	 "loginPolicy": {"defaultRedirectUri": "https://"},
	 "passwordComplexityPolicy": {"minLength": 73},
	 "lockoutPolicy": "x"},
	{"orgId": "a2", "org": {"name": "A2"},
	 "labelPolicy": {"themeMode": "THEME_MODE_NEON"},
	 "loginPolicy": {"secondFactors": ["SECOND_FACTOR_TYPE_UNSPECIFIED"]}},
	{"orgId": "a3", "org": {"name": "A3"}, "loginPolicy": {"multiFactors": [0]}, "privacyPolicy": {"tosLink": "a\u0000"}},
	{"orgId": "a4", "org": {"name": "A4"}, "loginPolicy": {"passwordCheckLifetime": "soon"}}
	]}`)
	checkResults(t, []kindsResult{
		resFailed(0, "domain_policy", 0, "domain_policy", "a0",
			"ID=ZIMPORT-DomPol Message=Errors.Org.DomainPolicy.Invalid (domainPolicy.orgId: at most 200 characters)"),
		resFailed(0, "label_policy", 0, "label_policy", "a0",
			"ID=ZIMPORT-LblPol Message=Errors.Org.LabelPolicy.Invalid (labelPolicy.primaryColor: at most 50 characters)"),
		resFailed(0, "lockout_policy", 0, "lockout_policy", "a0",
			`ID=ZIMPORT-LckPol Message=Errors.Org.LockoutPolicy.Invalid (lockoutPolicy.maxOtpAttempts: invalid value "-1" (want an unsigned 32-bit integer))`),
		resFailed(0, "login_policy", 0, "login_policy", "a0",
			"ID=ZIMPORT-LgnPol Message=Errors.Org.LoginPolicy.Invalid (loginPolicy.idps[0].ownerType: must be IDP_OWNER_TYPE_SYSTEM or IDP_OWNER_TYPE_ORG)"),
		resFailed(0, "password_complexity_policy", 0, "password_complexity_policy", "a0",
			"ID=MODEL-Lsp0e Message=Errors.User.PasswordComplexityPolicy.MinLengthNotAllowed (passwordComplexityPolicy.minLength: 0 is not between 1 and 72)"),
		resFailed(0, "privacy_policy", 0, "privacy_policy", "a0",
			"ID=ZIMPORT-PrvPol Message=Errors.Org.PrivacyPolicy.Invalid (privacyPolicy.supportEmail: is not a valid e-mail address)"),
		resFailed(0, "login_texts", 0, "login_texts", "a0_xx yy",
			`ID=LANG-3M9f2 Message=Errors.Language.Undefined (loginTexts[0].language: "xx yy" is not a language tag`),
		resFailed(0, "login_texts", 1, "login_texts", "a0_",
			"ID=ORG-PPo2w Message=Errors.CustomText.Invalid (loginTexts[1].language: is required)"),
		resFailed(0, "login_texts", 2, "login_texts", "a0_de",
			"ID=ORG-PPo2w Message=Errors.CustomText.Invalid (loginTexts[2].loginText: expected an object, got string)"),
		resFailed(0, "login_texts", 3, "login_texts", "a0_",
			"ID=ORG-PPo2w Message=Errors.CustomText.Invalid (loginTexts[3]: expected an object, got number)"),
		resFailed(0, "message_texts", 0, "init_message", "a0_de",
			"ID=ORG-2jfsf Message=Errors.CustomText.Invalid (initMessages[0].title: at most 2000 bytes)"),
		resFailed(0, "message_texts", 1, "verify_phone_message", "a0_de",
			"ID=ORG-2jfsf Message=Errors.CustomText.Invalid (verifyPhoneMessages[0].text: at most 800 characters)"),
		resFailed(0, "message_texts", 2, "invite_user_messages", "a0_de",
			"ID=ORG-2jfsf Message=Errors.CustomText.Invalid (inviteUserMessages[0].title: expected a string, got number)"),
		resFailed(0, "message_texts", 3, "verify_sms_otp_message", "a0_not a tag!",
			`ID=LANG-3M9f2 Message=Errors.Language.Undefined (verifySmsOtpMessages[0].language: "not a tag!" is not a language tag`),
		resFailed(1, "label_policy", 0, "label_policy", "a1",
			`ID=POLICY-nvw33 Message=Errors.Policy.Label.Invalid.WarnColor (labelPolicy.warnColor: "red" is not a colour (want #rgb or #rrggbb))`),
		resFailed(1, "lockout_policy", 0, "lockout_policy", "a1",
			"ID=ZIMPORT-LckPol Message=Errors.Org.LockoutPolicy.Invalid (lockoutPolicy: expected an object, got string)"),
		resFailed(1, "login_policy", 0, "login_policy", "a1",
			`ID=Org-WSfdq Message=Errors.Org.LoginPolicy.RedirectURIInvalid (loginPolicy.defaultRedirectUri: "https://" is not an absolute URI)`),
		resFailed(1, "password_complexity_policy", 0, "password_complexity_policy", "a1",
			"ID=MODEL-Lsp0e Message=Errors.User.PasswordComplexityPolicy.MinLengthNotAllowed (passwordComplexityPolicy.minLength: 73 is not between 1 and 72)"),
		resFailed(2, "label_policy", 0, "label_policy", "a2",
			`ID=ZIMPORT-LblPol Message=Errors.Org.LabelPolicy.Invalid (labelPolicy.themeMode: unknown value "THEME_MODE_NEON"`),
		resFailed(2, "login_policy", 0, "login_policy", "a2",
			"ID=Org-SFeea Message=Errors.Org.LoginPolicy.MFA.Unspecified (loginPolicy.secondFactors[0] is SECOND_FACTOR_TYPE_UNSPECIFIED)"),
		resFailed(3, "login_policy", 0, "login_policy", "a3",
			"ID=Org-WSfrg Message=Errors.Org.LoginPolicy.MFA.Unspecified (loginPolicy.multiFactors[0] is MULTI_FACTOR_TYPE_UNSPECIFIED)"),
		resFailed(3, "privacy_policy", 0, "privacy_policy", "a3",
			"ID=ZIMPORT-PrvPol Message=Errors.Org.PrivacyPolicy.Invalid (privacyPolicy.tosLink: must not contain the NUL character"),
		resFailed(4, "login_policy", 0, "login_policy", "a4",
			`ID=ZIMPORT-LgnPol Message=Errors.Org.LoginPolicy.Invalid (loginPolicy.passwordCheckLifetime: invalid duration "soon"`),
	}, kindsResults(t, s, r.job.ID))
	want := map[string]string{}
	for _, tbl := range policiesTables {
		want[tbl] = "0"
	}
	if diff := cmp.Diff(want, policyRowCounts(t, s)); diff != "" {
		t.Errorf("rows of invalid policies (-want +got):\n%s", diff)
	}
}

func TestApplyUnit_PoliciesExisting(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}, `+fullPolicies+`}]}`)
	before := [][][]string{}
	queries := []string{qDomainPolicies, qLabelPolicies, qLockoutPolicies, qLoginPolicies, qLoginPolicyIDPs, qComplexity,
		qPrivacyPolicies, qLoginTexts, qMessageTexts}
	for _, q := range queries {
		before = append(before, kindsRows(t, s, q))
	}
	// The same org again with other values (the IdP is the same): nothing
	// may change.
	again := strings.NewReplacer(`"maxPasswordAttempts": 5`, `"maxPasswordAttempts": 9`, `"title": "Anmelden"`, `"title": "Login"`,
		`"title": "T"`, `"title": "Other"`, `"minLength": "8"`, `"minLength": "12"`).Replace(fullPolicies)
	payload := `{"orgs": [{"orgId": "o1", ` + again + `}]}`

	fail := kindsImport(t, s, policiesStages, importdata.OnConflictFail, payload)
	exists := func(step string, item int, typ, id, msg string) kindsResult {
		return resFailed(0, step, item, typ, id, msg)
	}
	textMsg := func(what, lang string) string {
		return `ID=ZIMPORT-TxtEx Message=Errors.CustomText.AlreadyExists (the org has ` + what + ` for language "` + lang + `")`
	}
	checkResults(t, []kindsResult{
		exists("domain_policy", 0, "domain_policy", "o1", "ID=ORG-1M8ds Message=Errors.Org.DomainPolicy.AlreadyExists"),
		exists("label_policy", 0, "label_policy", "o1", "ID=Org-2B0ps Message=Errors.Org.LabelPolicy.AlreadyExists"),
		exists("lockout_policy", 0, "lockout_policy", "o1", "ID=ORG-0olDf Message=Errors.ORG.LockoutPolicy.AlreadyExists"),
		exists("jwt_idps", 0, "jwt_idp", "jwt1", ""),
		exists("login_policy", 0, "login_policy", "o1", "ID=Org-Dgfb2 Message=Errors.Org.LoginPolicy.AlreadyExists"),
		exists("password_complexity_policy", 0, "password_complexity_policy", "o1", "ID=Org-LdhbS Message=Errors.Org.PasswordComplexityPolicy.AlreadyExists"),
		exists("privacy_policy", 0, "privacy_policy", "o1", "ID=Org-0oLpd Message=Errors.Org.PrivacyPolicy.AlreadyExists"),
		exists("login_texts", 0, "login_texts", "o1_de", textMsg("login texts", "de")),
		exists("login_texts", 1, "login_texts", "o1_en-us", textMsg("login texts", "en-us")),
		exists("message_texts", 0, "init_message", "o1_de", textMsg("initMessages", "de")),
		exists("message_texts", 1, "password_reset_message", "o1_de", textMsg("passwordResetMessages", "de")),
		exists("message_texts", 2, "verify_email_message", "o1_de", textMsg("verifyEmailMessages", "de")),
		exists("message_texts", 3, "verify_phone_message", "o1_de", textMsg("verifyPhoneMessages", "de")),
		exists("message_texts", 4, "domain_claimed_message", "o1_de", textMsg("domainClaimedMessages", "de")),
		exists("message_texts", 5, "passwordless_registration_message", "o1_de", textMsg("passwordlessRegistrationMessages", "de")),
		exists("message_texts", 6, "invite_user_messages", "o1_de", textMsg("inviteUserMessages", "de")),
		exists("message_texts", 7, "verify_sms_otp_message", "o1_de", textMsg("verifySmsOtpMessages", "de")),
		exists("message_texts", 8, "verify_email_otp_message", "o1_de", textMsg("verifyEmailOtpMessages", "de")),
	}, blankMessage(kindsResults(t, s, fail.job.ID), "jwt_idps"))

	skip := kindsImport(t, s, policiesStages, importdata.OnConflictSkip, payload)
	var want []kindsResult
	for _, r := range fullPolicyResults(0, "o1") {
		want = append(want, resSkipped(r.Org, r.Step, r.Item, r.Type, r.ID))
	}
	checkResults(t, want, kindsResults(t, s, skip.job.ID))
	for i, q := range queries {
		if diff := cmp.Diff(before[i], kindsRows(t, s, q)); diff != "" {
			t.Errorf("%s changed by the re-imports (-before +after):\n%s", q, diff)
		}
	}
}

// blankMessage clears the messages of the results of step, another kind's,
// whose wording is not this file's to check.
func blankMessage(rs []kindsResult, step string) []kindsResult {
	for i := range rs {
		if rs[i].Step == step {
			rs[i].Msg = ""
		}
	}
	return rs
}

func TestApplyUnit_TextsTwiceInOneOrg(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, policiesStages, importdata.OnConflictSkip, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "loginTexts": [{"language": "de"}, {"language": "en"}, {"language": "DE", "loginText": {"title": "zweimal"}}],
	 "initMessages": [{"language": "de", "title": "eins"}, {"language": "de", "title": "zwei"}],
	 "verifyEmailOtpMessages": [{"language": "de", "title": "other type"}]}]}`)
	checkResults(t, []kindsResult{
		resOK(0, "login_texts", 0, "login_texts", "o1_de"),
		resOK(0, "login_texts", 1, "login_texts", "o1_en"),
		resFailed(0, "login_texts", 2, "login_texts", "o1_DE",
			`ID=ZIMPORT-TxtEx Message=Errors.CustomText.AlreadyExists (language "DE" is given twice (as in loginTexts[0]))`),
		resOK(0, "message_texts", 0, "init_message", "o1_de"),
		resFailed(0, "message_texts", 1, "init_message", "o1_de",
			`ID=ZIMPORT-TxtEx Message=Errors.CustomText.AlreadyExists (language "de" is given twice (as in initMessages[0]))`),
		resOK(0, "message_texts", 2, "verify_email_otp_message", "o1_de"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT language, texts::text FROM login_texts ORDER BY language_tag`, [][]string{{"de", `{"language": "de"}`}, {"en", `{"language": "en"}`}}},
		{`SELECT message_type, title FROM message_texts ORDER BY 1`, [][]string{{"InitCode", "eins"}, {"VerifyEmailOTP", "other type"}}},
	})
}

func TestApplyUnit_LoginPolicyIDPs(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	// An org with an IdP from before the import.
	for _, q := range []string{`INSERT INTO orgs (instance_id, id, name) VALUES ($1, 'old', 'Old Org')`,
		`INSERT INTO idps (instance_id, id, org_id, kind, name, issuer, jwt_endpoint, keys_endpoint, header_name)
		VALUES ($1, 'old-idp', 'old', 'jwt', 'Old', 'https://i.example', 'https://i.example/jwt', 'https://i.example/keys', 'h')`} {
		if _, err := s.pool.Exec(ctx, q, kindsInstance); err != nil {
			t.Fatal(err)
		}
	}
	jwt := `{"idpId": "b-idp", "idp": {"name": "B", "jwtEndpoint": "https://b.example/jwt", "issuer": "https://b.example",
		"keysEndpoint": "https://b.example/keys", "headerName": "h"}}`
	r := kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "old", "loginPolicy": {"idps": [{"idpId": "old-idp", "ownerType": 2}]}},
	{"orgId": "b", "org": {"name": "B"}, "jwtIdps": [`+jwt+`],
	 "loginPolicy": {"idps": [{"idpId": "b-idp", "ownerType": "IDP_OWNER_TYPE_ORG"}, {"idpId": "old-idp", "ownerType": "IDP_OWNER_TYPE_ORG"}]}},
	{"orgId": "c", "org": {"name": "C"}, "loginPolicy": {"idps": [{"idpId": "google", "ownerType": "IDP_OWNER_TYPE_SYSTEM"},
		{"idpId": "nowhere", "ownerType": "IDP_OWNER_TYPE_ORG"}]}},
	{"orgId": "d", "loginPolicy": {}}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "login_policy", 0, "login_policy", "old"),
		resOK(1, "jwt_idps", 0, "jwt_idp", "b-idp"),
		resFailed(1, "login_policy", 0, "login_policy", "b",
			`ID=Org-FEd32 Message=Errors.IDPConfig.NotExisting (loginPolicy.idps[1]: IdP "old-idp" does not exist in org "b")`),
		resFailed(2, "login_policy", 0, "login_policy", "c",
			`ID=Org-FEd32 Message=Errors.IDPConfig.NotExisting (loginPolicy.idps[0]: the instance has no IdP "google" (zimport has no instance IdPs); `+
				`loginPolicy.idps[1]: IdP "nowhere" does not exist in org "c")`),
		// Org d neither exists nor is created: its data is skipped.
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT org_id FROM login_policies`, [][]string{{"old"}}},
		{qLoginPolicyIDPs, [][]string{{"old", "0", "old-idp", "IDP_OWNER_TYPE_ORG"}}},
	})
}

func TestApplyUnit_PoliciesOfExistingOrg(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`)
	// The org exists: its error is the org's, and its policies are imported.
	r := kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"privacyPolicy": {"helpLink": "https://help.example"}, "initMessages": [{"language": "it", "text": "Ciao"}]}]}`)
	checkResults(t, []kindsResult{
		resOK(0, "privacy_policy", 0, "privacy_policy", "o1"),
		resOK(0, "message_texts", 0, "init_message", "o1_it"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT org_id, help_link FROM privacy_policies`, [][]string{{"o1", "https://help.example"}}},
		{`SELECT org_id, message_type, language, text FROM message_texts`, [][]string{{"o1", "InitCode", "it", "Ciao"}}},
	})
}

func TestCheckPasswordComplexity(t *testing.T) {
	all := &importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 8, HasUppercase: true, HasLowercase: true, HasNumber: true, HasSymbol: true}
	tests := []struct {
		policy   *importdata.AddCustomPasswordComplexityPolicyRequest
		password string
		want     string
	}{
		{nil, "", ""},
		{all, "Secret1!", ""},
		{all, "Secr1!", "ID=DOMAIN-HuJf6 Message=Errors.User.PasswordComplexityPolicy.MinLength (the password is shorter than 8 bytes)"},
		{all, "SECRET11!", "ID=DOMAIN-co3Xw Message=Errors.User.PasswordComplexityPolicy.HasLower"},
		{all, "secret11!", "ID=DOMAIN-VoaRj Message=Errors.User.PasswordComplexityPolicy.HasUpper"},
		{all, "Secretxx!", "ID=DOMAIN-ZBv4H Message=Errors.User.PasswordComplexityPolicy.HasNumber"},
		{all, "Secret111", "ID=DOMAIN-ZDLwA Message=Errors.User.PasswordComplexityPolicy.HasSymbol"},
		{all, "Sécret11", ""}, // é is a symbol (not ASCII), as in ZITADEL
		{&importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 4}, "ééé", ""}, // bytes, not characters
		{&importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 4}, "abc", "MinLength"},
	}
	for _, tc := range tests {
		err := checkPasswordComplexity(tc.policy, tc.password)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if tc.want == "" && got != "" || tc.want != "" && !strings.HasPrefix(got, tc.want) && !strings.Contains(got, tc.want) {
			t.Errorf("checkPasswordComplexity(%+v, %q) = %q, want %q", tc.policy, tc.password, got, tc.want)
		}
	}
}

func TestApplier_ComplexityPolicy(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [
		{"orgId": "o1", "org": {"name": "One"}, "passwordComplexityPolicy": {"minLength": 10, "hasNumber": true}},
		{"orgId": "o2", "org": {"name": "Two"}}]}`)
	withPolicy := func(p string) *importdata.DataOrg {
		org, err := importdata.DecodeOrg([]byte(`{"orgId":"o2","passwordComplexityPolicy":`+p+`}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return org
	}
	// ZITADEL's default, which the instance has.
	instanceDefault := &importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 8, HasUppercase: true, HasLowercase: true,
		HasNumber: true, HasSymbol: true}
	tests := []struct {
		name  string
		org   string
		steps []string
		data  *importdata.DataOrg
		want  *importdata.AddCustomPasswordComplexityPolicyRequest
	}{
		{"in the directory", "o1", []string{"human_users"}, withPolicy(`{"minLength": 3}`),
			&importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 10, HasNumber: true}},
		{"none: the instance's default", "o2", []string{"human_users"}, nil, instanceDefault},
		{"imported by the unit", "o2", []string{"password_complexity_policy", "human_users"}, withPolicy(`{"minLength": 3, "hasSymbol": true}`),
			&importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 3, HasSymbol: true}},
		{"imported by another unit", "o2", []string{"human_users"}, withPolicy(`{"minLength": 3}`), instanceDefault},
		{"invalid in the unit", "o2", []string{"password_complexity_policy", "human_users"}, withPolicy(`{"minLength": 0}`), instanceDefault},
		{"none in an instance without defaults", "o3", []string{"human_users"}, nil, nil},
	}
	for _, tc := range tests {
		inst := kindsInstance
		if tc.org == "o3" {
			inst = "no-such-instance"
		}
		a := &applier{db: s.pool, job: Job{InstanceID: inst}, unit: Unit{Steps: tc.steps}, orgID: tc.org}
		got, err := a.complexityPolicy(ctx, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: complexityPolicy (-want +got):\n%s", tc.name, diff)
		}
	}
}
