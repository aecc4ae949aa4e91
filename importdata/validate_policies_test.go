package importdata

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPolicy_DecodesOnItsOwn(t *testing.T) {
	org, err := DecodeOrg([]byte(`{"orgId":"o",
		"labelPolicy":{"primaryColor":"#fff","theme_mode":"THEME_MODE_DARK","disableWatermark":true},
		"lockoutPolicy":{"maxPasswordAttempts":"x"},
		"privacyPolicy":7,
		"domainPolicy":null}`), nil)
	if err != nil {
		t.Fatalf("DecodeOrg: %v (a bad policy must not fail the org)", err)
	}
	if l := org.LabelPolicy; l.Err != nil || l.V == nil || l.V.PrimaryColor != "#fff" || l.V.ThemeMode.String() != "THEME_MODE_DARK" || !l.V.DisableWatermark {
		t.Errorf("labelPolicy = %+v, %v", l.V, l.Err)
	}
	if l := org.LockoutPolicy; l.V != nil || l.Err == nil || !l.Present() {
		t.Errorf("lockoutPolicy = %+v, want a decoding error", l)
	} else if got := DescribeError("lockoutPolicy", l.Err); !strings.HasPrefix(got, "lockoutPolicy.maxPasswordAttempts: ") {
		t.Errorf("DescribeError = %q, want the field path", got)
	}
	if p := org.PrivacyPolicy; p.Err == nil || p.Err.Error() != "expected an object, got number" {
		t.Errorf("privacyPolicy err = %v", p.Err)
	}
	for name, p := range map[string]bool{"domainPolicy": org.DomainPolicy.Present(), "loginPolicy": org.LoginPolicy.Present()} {
		if p {
			t.Errorf("%s is present, want absent (null or missing)", name)
		}
	}
}

func TestPolicy_StrictScanRefusesWrongTypes(t *testing.T) {
	_, err := ParseRequest([]byte(`{"dataOrgs":{"orgs":[{"orgId":"o","loginPolicy":{"passwordlessType":"MAYBE"}}]}}`), 10)
	if err == nil || !strings.Contains(err.Error(), "orgs[0].loginPolicy.passwordlessType: unknown value") {
		t.Fatalf("ParseRequest err = %v, want the policy's field path", err)
	}
	_, err = ParseRequest([]byte(`{"dataOrgs":{"orgs":[{"orgId":"o","labelPolicy":[1]}]}}`), 10)
	if err == nil || !strings.Contains(err.Error(), "orgs[0].labelPolicy") {
		t.Fatalf("ParseRequest err = %v, want the policy's path", err)
	}
	if _, err := ParseRequest([]byte(`{"dataOrgs":{"orgs":[{"orgId":"o","labelPolicy":null,"loginPolicy":{"idps":[{"idpId":"i","owner_type":2}]}}]}}`), 10); err != nil {
		t.Fatalf("ParseRequest of good policies: %v", err)
	}
}

func TestLoginPolicy_Decode(t *testing.T) {
	org, err := DecodeOrg([]byte(`{"loginPolicy":{"allowUsernamePassword":true,"passwordlessType":1,
		"passwordCheckLifetime":"864000s","externalLoginCheckLifetime":"240h0m0s","mfaInitSkipLifetime":"0.5s",
		"secondFactors":["SECOND_FACTOR_TYPE_OTP",4],"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
		"idps":[{"idpId":"i1","ownerType":"IDP_OWNER_TYPE_ORG"},{"idp_id":"i2","owner_type":"1"}]}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := org.LoginPolicy.V
	if org.LoginPolicy.Err != nil || p == nil {
		t.Fatalf("loginPolicy err = %v", org.LoginPolicy.Err)
	}
	got := []string{p.PasswordlessType.String(), time.Duration(*p.PasswordCheckLifetime).String(),
		time.Duration(*p.ExternalLoginCheckLifetime).String(), time.Duration(*p.MFAInitSkipLifetime).String(),
		p.SecondFactors[0].String(), p.SecondFactors[1].String(), p.MultiFactors[0].String(),
		p.IDPs[0].IDPID, p.IDPs[0].OwnerType.String(), p.IDPs[1].IDPID, p.IDPs[1].OwnerType.String()}
	want := []string{"PASSWORDLESS_TYPE_ALLOWED", "240h0m0s", "240h0m0s", "500ms", "SECOND_FACTOR_TYPE_OTP",
		"SECOND_FACTOR_TYPE_OTP_SMS", "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION", "i1", "IDP_OWNER_TYPE_ORG", "i2", "IDP_OWNER_TYPE_SYSTEM"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("login policy (-want +got):\n%s", diff)
	}
	if p.SecondFactorCheckLifetime != nil || p.MultiFactorCheckLifetime != nil {
		t.Errorf("lifetimes not given must stay nil")
	}
}

func TestLifetimeAndUints_Decode(t *testing.T) {
	tests := []struct {
		json, want string
	}{
		{`{"passwordCheckLifetime":"3600s"}`, "1h0m0s"},
		{`{"passwordCheckLifetime":"-1.5s"}`, "-1.5s"},
		{`{"passwordCheckLifetime":"1h30m"}`, "1h30m0s"},
		{`{"passwordCheckLifetime":"ten days"}`, `invalid duration "ten days"`},
		{`{"passwordCheckLifetime":""}`, `invalid duration ""`},
		{`{"passwordCheckLifetime":3600}`, "expected a duration"},
		{`{"passwordCheckLifetime":"99999999999999s"}`, `invalid duration`},
	}
	for _, tc := range tests {
		var p AddCustomLoginPolicyRequest
		err := Unmarshal([]byte(tc.json), &p)
		got := ""
		if err != nil {
			got = DescribeError("loginPolicy", err)
		} else {
			got = time.Duration(*p.PasswordCheckLifetime).String()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.json, got, tc.want)
		}
	}
	uints := []struct {
		json, want string
	}{
		{`{"maxPasswordAttempts":5,"maxOtpAttempts":"7"}`, "5 7"},
		{`{"maxPasswordAttempts":4294967295,"maxOtpAttempts":1e2}`, "4294967295 100"},
		{`{"maxPasswordAttempts":4294967296}`, "want an unsigned 32-bit integer"},
		{`{"maxPasswordAttempts":-1}`, "want an unsigned 32-bit integer"},
		{`{"maxPasswordAttempts":1.5}`, "want an unsigned 32-bit integer"},
		{`{"maxPasswordAttempts":true}`, "expected an unsigned integer, got boolean"},
	}
	for _, tc := range uints {
		var p AddCustomLockoutPolicyRequest
		err := Unmarshal([]byte(tc.json), &p)
		got := ""
		if err != nil {
			got = DescribeError("lockoutPolicy", err)
		} else {
			got = fmt.Sprint(p.MaxPasswordAttempts, " ", p.MaxOTPAttempts)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.json, got, tc.want)
		}
	}
	var c AddCustomPasswordComplexityPolicyRequest
	if err := Unmarshal([]byte(`{"minLength":"18446744073709551615"}`), &c); err != nil || c.MinLength != 18446744073709551615 {
		t.Errorf("uint64 minLength = %d, %v", c.MinLength, err)
	}
}

func TestPolicies_Validate(t *testing.T) {
	long := strings.Repeat("x", 51)
	tests := []struct {
		name string
		v    interface{ Validate(string) error }
		want []string
	}{
		{"domain ok", &AddCustomDomainPolicyRequest{}, nil},
		{"domain orgId", &AddCustomDomainPolicyRequest{OrgID: strings.Repeat("o", 201)}, []string{"domainPolicy.orgId: at most 200 characters"}},
		{"label colours", &AddCustomLabelPolicyRequest{PrimaryColor: long, FontColorDark: long + "é"},
			[]string{"labelPolicy.primaryColor: at most 50 characters", "labelPolicy.fontColorDark: at most 50 characters"}},
		{"label 50 runes", &AddCustomLabelPolicyRequest{WarnColor: strings.Repeat("é", 50)}, nil},
		{"login idps", &AddCustomLoginPolicyRequest{IDPs: []LoginPolicyIDP{{IDPID: "a", OwnerType: IDPOwnerOrg},
			{IDPID: "", OwnerType: IDPOwnerSystem}, {IDPID: "a", OwnerType: IDPOwnerUnspecified}, {IDPID: strings.Repeat("i", 201), OwnerType: IDPOwnerOrg}}},
			[]string{"loginPolicy.idps[1].idpId: is required", `loginPolicy.idps[2].idpId: repeats idps[0].idpId "a"`,
				"loginPolicy.idps[2].ownerType: must be IDP_OWNER_TYPE_SYSTEM or IDP_OWNER_TYPE_ORG", "loginPolicy.idps[3].idpId: at most 200 characters"}},
		{"privacy email", &AddCustomPrivacyPolicyRequest{SupportEmail: "not an address"}, []string{"privacyPolicy.supportEmail: is not a valid e-mail address"}},
		{"privacy empty email", &AddCustomPrivacyPolicyRequest{SupportEmail: ""}, nil},
		{"privacy long email", &AddCustomPrivacyPolicyRequest{SupportEmail: strings.Repeat("a", 310) + "@example.com"},
			[]string{"privacyPolicy.supportEmail: at most 320 characters"}},
		{"privacy NUL", &AddCustomPrivacyPolicyRequest{HelpLink: "a\x00"}, []string{"privacyPolicy.helpLink: " + nulMsg}},
		{"message limits", &SetCustomMessageTextRequest{Language: "", Title: strings.Repeat("é", 1001), Text: strings.Repeat("x", 40001),
			FooterText: strings.Repeat("x", 8000)},
			[]string{"initMessages[0].language: is required", "initMessages[0].title: at most 2000 bytes", "initMessages[0].text: at most 40000 bytes"}},
		{"message language", &SetCustomMessageTextRequest{Language: strings.Repeat("l", 201)}, []string{"initMessages[0].language: at most 200 characters"}},
		{"verify phone text", &SetCustomVerifyPhoneMessageTextRequest{Language: "de", Text: strings.Repeat("é", 801), Greeting: strings.Repeat("x", 4001)},
			[]string{"initMessages[0].greeting: at most 4000 bytes", "initMessages[0].text: at most 800 characters"}},
		{"verify phone 800 runes", &SetCustomVerifyPhoneMessageTextRequest{Language: "de", Text: strings.Repeat("é", 800)}, nil},
		{"sms otp", &SetCustomVerifySMSOTPMessageTextRequest{Text: strings.Repeat("x", 801)},
			[]string{"initMessages[0].language: is required", "initMessages[0].text: at most 800 characters"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := map[string]string{"dom": "domainPolicy", "lab": "labelPolicy", "log": "loginPolicy", "pri": "privacyPolicy"}[tc.name[:3]]
			if path == "" {
				path = "initMessages[0]"
			}
			var got []string
			if err := tc.v.Validate(path); err != nil {
				got = err.(*ValidationError).Problems
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoginTexts_DecodeAndValidate(t *testing.T) {
	org, err := DecodeOrg([]byte(`{"loginTexts":[
		{"language":"de","loginText":{"title":"Anmelden","description":null},"unknownThing":[1],"footerText":null},
		{"Language":"en","password_text":{"title":5},"mfaProvidersText":"x"},
		{"loginText":{"title":"a\u0000b"}},
		{"language":7},
		{"language":"`+strings.Repeat("l", 201)+`"},
		"not an object",
		{"language":"fr","title":1e1000000},
		{"language":"it","custom":{"deep":[1, 2.5e-3, -1e308, 1`+strings.Repeat("0", 100)+`]}},
		{"language":"es","custom":[1e-300, 0.0e-99999, 0, -0, 123456789012345678901234567890]},
		{"language":"pt","custom":[1e-17000]}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	items := org.LoginTexts
	if len(items) != 10 || items[5].Err == nil {
		t.Fatalf("loginTexts = %+v", items)
	}
	if items[0].V.Language != "de" || !strings.HasPrefix(string(items[0].V.Texts), `{"language":"de","loginText":{"title":"Anmelden"`) {
		t.Errorf("loginTexts[0] = %q %s, want the language and the element as given", items[0].V.Language, items[0].V.Texts)
	}
	if items[1].V.Language != "en" {
		t.Errorf("loginTexts[1].Language = %q, want the language matched ignoring case", items[1].V.Language)
	}
	want := [][]string{
		nil,
		{"loginTexts[1].password_text.title: expected a string, got number", "loginTexts[1].mfaProvidersText: expected an object, got string"},
		{"loginTexts[2].language: is required", "loginTexts[2].loginText.title: " + nulMsg},
		{"loginTexts[3].language: expected a string, got number"},
		{"loginTexts[4].language: at most 200 characters"},
		nil, // not an object
		{"loginTexts[6].title: a number out of range, or longer than 100 characters"},
		{"loginTexts[7].custom.deep[3]: a number out of range, or longer than 100 characters"},
		nil,
		{"loginTexts[9].custom[0]: a number out of range, or longer than 100 characters"},
	}
	for i, w := range want {
		if i == 5 {
			continue // not an object: a decoding error
		}
		var got []string
		if err := items[i].V.Validate(fmt.Sprintf("loginTexts[%d]", i)); err != nil {
			got = err.(*ValidationError).Problems
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("loginTexts[%d] problems (-want +got):\n%s", i, diff)
		}
	}
}
