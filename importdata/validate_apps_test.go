package importdata

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
)

func TestDuration_JSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		out     string
		wantErr string
	}{
		{`"0s"`, 0, `"0s"`, ""},
		{`"5s"`, 5 * time.Second, `"5s"`, ""},
		{`"1.5s"`, 1500 * time.Millisecond, `"1.500s"`, ""},
		{`"0.000001s"`, time.Microsecond, `"0.000001s"`, ""},
		{`"-0.000000001s"`, -1, `"-0.000000001s"`, ""},
		{`null`, 0, `"0s"`, ""},
		{`"1m"`, 0, "", `invalid duration "1m"`},
		{`"1.s"`, 0, "", `invalid duration "1.s"`},
		{`"1.0000000001s"`, 0, "", `invalid duration`},
		{`"99999999999s"`, 0, "", `is out of range`},
		{`5`, 0, "", `expected a duration such as "1.5s", got number`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			err := Unmarshal([]byte(tt.in), &d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Unmarshal(%s) = %v, want error containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || time.Duration(d) != tt.want {
				t.Fatalf("Unmarshal(%s) = %v, %v, want %v", tt.in, time.Duration(d), err, tt.want)
			}
			out, err := json.Marshal(d)
			if err != nil || string(out) != tt.out {
				t.Errorf("Marshal = %s, %v, want %s", out, err, tt.out)
			}
		})
	}
}

func TestTimestampAndBytes_JSON(t *testing.T) {
	var v struct {
		T Timestamp `json:"t"`
		B Bytes     `json:"b"`
	}
	if err := Unmarshal([]byte(`{"t": "2030-01-02T03:04:05+01:00", "b": "aGk-_w"}`), &v); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2030, 1, 2, 2, 4, 5, 0, time.UTC); !v.T.Equal(want) || v.T.Location() != time.UTC {
		t.Errorf("T = %v, want %v in UTC", v.T, want)
	}
	if string(v.B) != "hi\x3e\xff" {
		t.Errorf("B = %q", v.B)
	}
	out, err := json.Marshal(v)
	if err != nil || string(out) != `{"t":"2030-01-02T02:04:05Z","b":"aGk+/w=="}` {
		t.Errorf("Marshal = %s, %v", out, err)
	}
	for in, want := range map[string]string{
		`{"t": "2030-01-02"}`: `invalid timestamp "2030-01-02"`,
		`{"t": 5}`:            "expected a timestamp",
		`{"b": "!!"}`:         "invalid base64",
	} {
		if err := Unmarshal([]byte(in), &v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Unmarshal(%s) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestTriggerTypes(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "FLOW_TYPE_EXTERNAL_AUTHENTICATION": 1, "4": 4, "FLOW_TYPE_SAML_RESPONSE": 4,
		"0": 0, "5": 0, "FLOW_TYPE_UNSPECIFIED": 0, "": 0, "01": 0, "flow_type_customise_token": 0} {
		if got := FlowTypeID(in); got != want {
			t.Errorf("FlowTypeID(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]int{"6": 6, "TRIGGER_TYPE_PRE_SAML_RESPONSE_CREATION": 6, "7": 0, "TRIGGER_TYPE_UNSPECIFIED": 0} {
		if got := TriggerTypeID(in); got != want {
			t.Errorf("TriggerTypeID(%q) = %d, want %d", in, got, want)
		}
	}
	if !FlowHasTrigger(2, 5) || FlowHasTrigger(2, 1) || !FlowHasTrigger(4, 6) || FlowHasTrigger(1, 6) {
		t.Error("FlowHasTrigger does not match domain.FlowType.HasTrigger")
	}
}

// testPublicKey is base64 of a PEM-encoded Ed25519 public key.
func testPublicKey(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestValidate_Apps(t *testing.T) {
	key := testPublicKey(t)
	tests := []struct {
		name string
		v    interface{ Validate(string) error }
		in   string
		want []string
	}{
		{"oidc ok", &DataOIDCApplication{}, `{"appId": "a", "app": {"projectId": "p", "name": "n",
			"redirectUris": ["https://x.example/cb", "http://localhost:8080/cb"], "responseTypes": ["OIDC_RESPONSE_TYPE_ID_TOKEN", 0],
			"grantTypes": ["OIDC_GRANT_TYPE_IMPLICIT", "OIDC_GRANT_TYPE_AUTHORIZATION_CODE"], "clockSkew": "5s",
			"additionalOrigins": ["https://x.example:8443"], "backChannelLogoutUri": "https://x.example/bcl",
			"loginVersion": {"loginV2": {"baseUri": "https://login.example"}}}}`, nil},
		{"oidc device code", &DataOIDCApplication{}, `{"appId": "a", "app": {"projectId": "p", "name": "n",
			"grantTypes": ["OIDC_GRANT_TYPE_DEVICE_CODE"]}}`, nil},
		{"oidc native", &DataOIDCApplication{}, `{"appId": "a", "app": {"projectId": "p", "name": "n", "appType": "OIDC_APP_TYPE_NATIVE",
			"redirectUris": ["com.example.app:/cb"], "postLogoutRedirectUris": ["com.example.app:/out"]}}`, nil},
		{"oidc bad", &DataOIDCApplication{}, `{"appId": "", "app": {"projectId": "p", "name": " ",
			"redirectUris": ["/relative", "com.example.app:/cb", "https:///nohost", ""], "postLogoutRedirectUris": [" https://x.example"],
			"responseTypes": ["OIDC_RESPONSE_TYPE_CODE", "OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN"], "grantTypes": ["OIDC_GRANT_TYPE_REFRESH_TOKEN"],
			"clockSkew": "5.000000001s", "additionalOrigins": ["https://x.example/path", "x.example"],
			"backChannelLogoutUri": "ftp://x.example", "loginVersion": {"loginV1": {}, "loginV2": {}}}}`, []string{
			"o.appId: is required",
			"o.app.name: is blank",
			"o.app.redirectUris[0]: is not an absolute URI",
			`o.app.redirectUris[1]: custom scheme "com.example.app" is allowed for native apps only`,
			"o.app.redirectUris[2]: is not an absolute URI (http and https URIs need a host)",
			"o.app.redirectUris[3]: is required",
			"o.app.postLogoutRedirectUris[0]: is not an absolute URI",
			"o.app.additionalOrigins[0]: is not an origin (want scheme://host[:port])",
			"o.app.additionalOrigins[1]: is not an origin (want scheme://host[:port])",
			"o.app.clockSkew: 5.000000001s is not between 0s and 5s",
			"o.app.backChannelLogoutUri: is not an absolute http or https URI",
			"o.app.loginVersion: give loginV1 or loginV2, not both",
			"o.app.grantTypes: must contain OIDC_GRANT_TYPE_AUTHORIZATION_CODE for the response types",
			"o.app.grantTypes: must contain OIDC_GRANT_TYPE_IMPLICIT for the response types",
		}},
		{"oidc negative skew, bad base uri", &DataOIDCApplication{}, `{"appId": "a", "app": {"projectId": "p", "name": "n",
			"clockSkew": "-1s", "loginVersion": {"loginV2": {"baseUri": "login"}}}}`, []string{
			"o.app.clockSkew: -1s is not between 0s and 5s",
			"o.app.loginVersion.loginV2.baseUri: is not an absolute URI",
		}},
		{"api bad", &DataAPIApplication{}, `{"appId": "a", "app": {"projectId": "", "name": "` + strings.Repeat("n", 201) + `"}}`, []string{
			"o.app.projectId: is required", "o.app.name: at most 200 characters",
		}},
		{"key ok", &DataAppKey{}, `{"id": "k", "projectId": "p", "appId": "a", "type": "KEY_TYPE_JSON", "publicKey": "` + key + `"}`, nil},
		{"key bad", &DataAppKey{}, `{"id": "k", "projectId": "p", "appId": "", "clientId": "` + strings.Repeat("c", 201) + `",
			"publicKey": "` + base64.StdEncoding.EncodeToString([]byte("no key")) + `"}`, []string{
			"o.appId: is required", "o.clientId: at most 200 characters",
			`o.publicKey: is not PEM-encoded (want base64 of "-----BEGIN PUBLIC KEY-----...")`,
		}},
		// ZITADEL stores a key of KEY_TYPE_UNSPECIFIED as given, for apps as for machine users.
		{"key type unspecified", &DataAppKey{}, `{"id": "k", "projectId": "p", "appId": "a", "type": "KEY_TYPE_UNSPECIFIED", "publicKey": "` + key + `"}`, nil},
		{"key without type", &DataAppKey{}, `{"id": "k", "projectId": "p", "appId": "a", "publicKey": "` + key + `"}`, nil},
		{"key missing", &DataAppKey{}, `{"id": "k", "projectId": "p", "appId": "a", "type": 1}`, []string{"o.publicKey: is required"}},
		{"action ok", &DataAction{}, `{"actionId": "x", "action": {"name": "n", "script": "` + strings.Repeat("s", 40000) + `", "timeout": "20s"}}`, nil},
		{"action bad", &DataAction{}, `{"actionId": "x", "action": {"name": "", "script": "` + strings.Repeat("é", 20001) + `", "timeout": "20.5s"}}`, []string{
			"o.action.name: is required", "o.action.script: at most 40000 bytes, got 40002", "o.action.timeout: 20.500s is not between 0s and 20s",
		}},
		{"action no script", &DataAction{}, `{"actionId": "x", "action": {"name": "n"}}`, []string{"o.action.script: is required"}},
		{"trigger ok", &SetTriggerActionsRequest{}, `{"flowType": "FLOW_TYPE_CUSTOMISE_TOKEN", "triggerType": "5", "actionIds": ["a"]}`, nil},
		{"trigger bad", &SetTriggerActionsRequest{}, `{"flowType": "9", "triggerType": "", "actionIds": [""]}`, []string{
			`o.flowType: unknown flow type "9" (want 1 to 4 or one of FLOW_TYPE_EXTERNAL_AUTHENTICATION, FLOW_TYPE_CUSTOMISE_TOKEN, FLOW_TYPE_INTERNAL_AUTHENTICATION, FLOW_TYPE_SAML_RESPONSE)`,
			"o.triggerType: is required", "o.actionIds[0]: is required",
		}},
		{"grant member bad", &AddProjectGrantMemberRequest{}, `{"projectId": "p", "grantId": "", "userId": "u", "roles": [""]}`, []string{
			"o.grantId: is required", "o.roles[0]: is required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Unmarshal([]byte(tt.in), tt.v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			var got []string
			if err := tt.v.Validate("o"); err != nil {
				got = err.(*ValidationError).Problems
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecode_AppsEnums(t *testing.T) {
	var app DataOIDCApplication
	err := Unmarshal([]byte(`{"app": {"responseTypes": ["OIDC_RESPONSE_TYPE_CODE", "NOPE"]}}`), &app)
	if err == nil || !strings.Contains(DescribeError("oidcApps[0]", err), `oidcApps[0].app.responseTypes[1]: unknown value "NOPE"`) {
		t.Errorf("decode = %v", err)
	}
	if err := Unmarshal([]byte(`{"app": {"authMethodType": 4}}`), &app); err == nil {
		t.Error("auth method 4 decoded")
	}
	var api DataAPIApplication
	if err := Unmarshal([]byte(`{"app": {"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}`), &api); err != nil ||
		api.App.AuthMethodType != APIAuthMethodTypePrivateKeyJWT {
		t.Errorf("decode = %v, %v", api.App.AuthMethodType, err)
	}
}
