package importdata

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeEnum_Messages checks that an unknown enum value is quoted in
// the error, which lists the allowed names and numbers, and that the
// unused number of an enum with a gap (IDPType's 2) is neither accepted
// nor listed.
func TestDecodeEnum_Messages(t *testing.T) {
	t.Parallel()
	const idpWant = "(want IDP_TYPE_UNSPECIFIED, IDP_TYPE_OIDC or IDP_TYPE_JWT, or their numbers 0, 1 or 3)"
	const keyWant = "(want KEY_TYPE_UNSPECIFIED or KEY_TYPE_JSON, or their numbers 0 or 1)"
	tests := []struct {
		name, in string
		want     IDPType
		wantErr  string
	}{
		{"name", `"IDP_TYPE_JWT"`, 3, ""},
		{"number", `1`, 1, ""},
		{"number as string", `"3"`, 3, ""},
		{"null", `null`, 0, ""},
		{"unknown name", `"IDP_TYPE_SAML"`, 0, `t: unknown value "IDP_TYPE_SAML" ` + idpWant},
		{"unused number", `2`, 0, "t: unknown value 2 " + idpWant},
		{"unused number as string", `"2"`, 0, `t: unknown value "2" ` + idpWant},
		{"empty string", `""`, 0, `t: unknown value "" ` + idpWant},
		{"negative", `-1`, 0, "t: unknown value -1 " + idpWant},
		{"too large", `4`, 0, "t: unknown value 4 " + idpWant},
		{"fraction", `1.5`, 0, "t: unknown value 1.5 " + idpWant},
		{"wrong kind", `true`, 0, "t: expected an enum name or number, got boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct {
				T IDPType `json:"t"`
			}
			err := Unmarshal([]byte(`{"t": `+tt.in+`}`), &v)
			gotErr := ""
			if err != nil {
				gotErr = DescribeError("", err)
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if err == nil && v.T != tt.want {
				t.Errorf("value = %d, want %d", v.T, tt.want)
			}
		})
	}

	var version struct {
		V OIDCVersion `json:"v"`
	}
	err := Unmarshal([]byte(`{"v": "OIDC_VERSION_2_0"}`), &version)
	if got, want := DescribeError("", err), `v: unknown value "OIDC_VERSION_2_0" (want OIDC_VERSION_1_0 or its number 0)`; got != want {
		t.Errorf("version error = %q, want %q", got, want)
	}

	var k struct {
		K KeyType `json:"k"`
	}
	err = Unmarshal([]byte(`{"k": "KEY_TYPE_PEM"}`), &k)
	if got, want := DescribeError("", err), `k: unknown value "KEY_TYPE_PEM" `+keyWant; got != want {
		t.Errorf("key type error = %q, want %q", got, want)
	}
}
