package importdata

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecode_UsersKinds(t *testing.T) {
	var org DataOrg
	err := Unmarshal([]byte(`{
		"oidc_idps": [{"idp_id": "i1", "idp": {"name": "G", "styling_type": 1, "client_id": "c", "client_secret": "s",
			"issuer": "https://i", "scopes": ["openid"], "display_name_mapping": "OIDC_MAPPING_FIELD_EMAIL", "auto_register": true}}],
		"jwtIdps": [{"idpId": "j1", "idp": {"jwtEndpoint": "e", "keysEndpoint": "k", "headerName": "h", "stylingType": "STYLING_TYPE_GOOGLE"}}],
		"userMetadata": [{"id": "u", "key": "k", "value": "AAEC/w=="}],
		"machineKeys": [{"keyId": "k1", "userId": "u", "type": "KEY_TYPE_JSON", "expirationDate": "2030-01-01T00:00:00Z", "publicKey": "cGVt"}],
		"userLinks": [{"userId": "u", "idpId": "i1", "idpName": "G", "providedUserId": "x", "providedUserName": "X", "idpType": "IDP_TYPE_JWT"}],
		"humanUsers": [{"userId": "h", "user": {"idps": [{"configId": "i1", "externalUserId": "x", "displayName": "X"}]}}]}`), &org)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{
		fmt.Sprintf("%+v", org.OIDCIDPs[0].V),
		fmt.Sprintf("%+v", org.JWTIDPs[0].V),
		fmt.Sprintf("%s %s %v", org.UserMetadata[0].V.ID, org.UserMetadata[0].V.Key, []byte(org.UserMetadata[0].V.Value)),
		fmt.Sprintf("%s %s %s %s %s", org.MachineKeys[0].V.KeyID, org.MachineKeys[0].V.UserID, org.MachineKeys[0].V.Type,
			org.MachineKeys[0].V.ExpirationDate.Format("2006-01-02"), org.MachineKeys[0].V.PublicKey),
		fmt.Sprintf("%+v %s", org.UserLinks[0].V, org.UserLinks[0].V.IDPType),
		fmt.Sprintf("%+v", org.HumanUsers[0].V.User.IDPs),
	}
	want := []string{
		"{IDPID:i1 IDP:{Name:G StylingType:STYLING_TYPE_GOOGLE ClientID:c ClientSecret:s Issuer:https://i Scopes:[openid] " +
			"DisplayNameMapping:OIDC_MAPPING_FIELD_EMAIL UsernameMapping:OIDC_MAPPING_FIELD_UNSPECIFIED AutoRegister:true}}",
		"{IDPID:j1 IDP:{Name: StylingType:STYLING_TYPE_GOOGLE JWTEndpoint:e Issuer: KeysEndpoint:k HeaderName:h AutoRegister:false}}",
		"u k [0 1 2 255]",
		"k1 u KEY_TYPE_JSON 2030-01-01 pem",
		"{UserID:u IDPID:i1 IDPName:G ProvidedUserID:x ProvidedUserName:X IDPType:IDP_TYPE_JWT} IDP_TYPE_JWT",
		"[{ConfigID:i1 ExternalUserID:x DisplayName:X}]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}

func TestIDPType(t *testing.T) {
	for in, want := range map[string]string{`0`: "IDP_TYPE_UNSPECIFIED", `"1"`: "IDP_TYPE_OIDC", `3`: "IDP_TYPE_JWT",
		`"IDP_TYPE_JWT"`: "IDP_TYPE_JWT", `null`: "IDP_TYPE_UNSPECIFIED"} {
		var v IDPType
		if err := Unmarshal([]byte(in), &v); err != nil || v.String() != want {
			t.Errorf("%s: %v (%v), want %s", in, v, err, want)
		}
	}
	for _, in := range []string{`2`, `"2"`, `""`, `4`, `"IDP_TYPE_SAML"`} {
		var v IDPType
		if err := Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s: decoded to %v, want an error", in, v)
		}
	}
}

func TestValidate_UsersKinds(t *testing.T) {
	pemKey := func(pub any) Bytes {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edPrivate, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 201)
	tests := []struct {
		name string
		v    interface{ Validate(string) error }
		want string
	}{
		{"oidc ok", &DataOIDCIDP{IDPID: "i", IDP: AddOrgOIDCIDPRequest{Name: "n", ClientID: "c", ClientSecret: "s", Issuer: "i"}}, ""},
		{"oidc", &DataOIDCIDP{IDP: AddOrgOIDCIDPRequest{Name: long, ClientSecret: "s\x00", Scopes: []string{"", "a\x00"}}},
			"p.idpId: is required; p.idp.name: at most 200 characters; p.idp.clientId: is required; " +
				`p.idp.clientSecret: must not contain the NUL character (\u0000); p.idp.issuer: is required; ` +
				`p.idp.scopes[1]: must not contain the NUL character (\u0000)`},
		{"jwt ok", &DataJWTIDP{IDPID: "j", IDP: AddOrgJWTIDPRequest{Name: "n", JWTEndpoint: "e", Issuer: "i", KeysEndpoint: "k", HeaderName: "h"}}, ""},
		{"jwt", &DataJWTIDP{IDPID: "j", IDP: AddOrgJWTIDPRequest{Name: "n", JWTEndpoint: long}},
			"p.idp.jwtEndpoint: at most 200 characters; p.idp.issuer: is required; p.idp.keysEndpoint: is required; p.idp.headerName: is required"},
		{"metadata ok", &SetUserMetadataRequest{ID: "u", Key: "k", Value: make(Bytes, MaxMetadataBytes)}, ""},
		{"metadata", &SetUserMetadataRequest{Key: long, Value: make(Bytes, MaxMetadataBytes+1)},
			"p.id: is required; p.key: at most 200 characters; p.value: at most 500000 bytes"},
		{"metadata empty", &SetUserMetadataRequest{ID: "u", Key: "k"}, "p.value: is required"},
		{"key ecdsa", &DataMachineKey{KeyID: "k", UserID: "u", PublicKey: pemKey(&ec.PublicKey)}, ""},
		{"key ed25519", &DataMachineKey{KeyID: "k", UserID: "u", PublicKey: pemKey(ed)}, ""},
		{"key missing", &DataMachineKey{}, "p.keyId: is required; p.userId: is required; p.publicKey: is required"},
		{"key not pem", &DataMachineKey{KeyID: "k", UserID: "u", PublicKey: Bytes("ssh-ed25519 AAAA")}, "p.publicKey: is not PEM-encoded"},
		{"key not pkix", &DataMachineKey{KeyID: "k", UserID: "u",
			PublicKey: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("nope")})},
			`p.publicKey: is not a PKIX public key: the "PUBLIC KEY" block holds no DER-encoded SubjectPublicKeyInfo`},
		{"key pkcs1", &DataMachineKey{KeyID: "k", UserID: "u",
			PublicKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})},
			`p.publicKey: is not a PKIX public key: a PKCS #1 RSA key ("RSA PUBLIC KEY"); convert it to PKIX ("PUBLIC KEY"), e.g. with openssl rsa -RSAPublicKey_in -pubout`},
		{"key private", &DataMachineKey{KeyID: "k", UserID: "u",
			PublicKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edPrivate})},
			`p.publicKey: is not a PKIX public key: the "PRIVATE KEY" block holds no DER-encoded SubjectPublicKeyInfo`},
		{"link ok", &IDPUserLink{UserID: "u", IDPID: "i", ProvidedUserID: "x"}, ""},
		{"link", &IDPUserLink{ProvidedUserName: long, IDPName: long},
			"p.userId: is required; p.idpId: is required; p.providedUserId: is required; p.providedUserName: at most 200 characters; p.idpName: at most 200 characters"},
		{"human idps", &DataHumanUser{UserID: "h", User: ImportHumanUserRequest{UserName: "a", Profile: &Profile{FirstName: "F", LastName: "L"},
			Email: &Email{Email: "a@x.example"}, IDPs: []HumanIDP{{ConfigID: "i", ExternalUserID: "x"}, {DisplayName: long}}}},
			"p.user.idps[1].configId: is required; p.user.idps[1].externalUserId: is required; p.user.idps[1].displayName: at most 200 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := tt.v.Validate("p"); err != nil {
				got = err.Error()
			}
			if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
				t.Errorf("Validate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateOTPCode(t *testing.T) {
	for code, want := range map[string]string{
		"JBSWY3DPEHPK3PXP":                 "",
		"jbswy3dpehpk3pxp":                 "",
		"JBSWY3DPEHPK3PXP====":             "",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ": "",
		"JBSWY3DPEHPK3PX1":                 "p.otpCode: is not a base32 TOTP secret",
		"JBSW Y3DPEHPK3PXP":                "p.otpCode: is not a base32 TOTP secret",
		"JBS":                              "p.otpCode: a TOTP secret of at least 16 base32 characters (80 bits) is required",
		"AA":                               "p.otpCode: a TOTP secret of at least 16 base32 characters (80 bits) is required",
		"JBSWY3DPEHPK3PX":                  "p.otpCode: a TOTP secret of at least 16 base32 characters (80 bits) is required",
		"JBSWY3DPEHPK3PXPJBSWY3DP":         "",
		"":                                 "p.otpCode: is required",
		strings.Repeat("A", 208):           "p.otpCode: at most 200 characters",
		"JBSWY3DP\x00":                     `p.otpCode: must not contain the NUL character (\u0000)`,
	} {
		got := ""
		if err := ValidateOTPCode("p", code); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("ValidateOTPCode(%q) = %q, want %q", code, got, want)
		}
		if code != "" && strings.Contains(got, code) {
			t.Errorf("ValidateOTPCode(%q) quotes the secret", code)
		}
	}
}
