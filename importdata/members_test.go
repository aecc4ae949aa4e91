package importdata

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMembers(t *testing.T) {
	raw := []byte(`, {"orgId": "o1", "domain_policy": {"userLoginMustBeDomain": true, "nested": {"x": "y"}},
		"oidcIdps": [{"idpId": "i1", "idp": {"name": "N"}}, 7, {"idp_id": "i2"}], "userMetadata": null, "actions": [],
		"humanUsers": [{"userId": "u1"}], "loginTexts": [{"language": "de", "language": "en"}]}`)
	got, err := Members(raw, []string{"domainPolicy", "oidcIdps", "userMetadata", "actions", "loginTexts", "jwtIdps"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Element{
		"domainPolicy": {{"userloginmustbedomain": "true"}},
		"oidcIdps":     {{"idpid": "i1"}, {}, {"idpid": "i2"}},
		"loginTexts":   {{"language": "en"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Members (-want +got):\n%s", diff)
	}
	if id := got["oidcIdps"][2].Get("idpId"); id != "i2" {
		t.Errorf("Get(idpId) = %q, want i2", id)
	}
}

func TestPresent(t *testing.T) {
	users := `{"userId": "a", "user": {"idps": [{"configId": "c"}]}},
		{"userId": "b", "user": {"idps": []}},
		{"userId": "c", "user": {"IDPs": [ ]}},
		{"userId": "d", "user": {"i_d_ps": [{}]}},
		{"userId": "e", "user": null}, 5`
	for _, tc := range []struct {
		name  string
		raw   string
		chunk bool
		want  []int
	}{
		{"org", `{"orgId": "o", "humanUsers": [` + users + `]}`, false, []int{0, 3}},
		{"chunk", ",\n" + users, true, []int{0, 3}},
		{"no such array", `{"orgId": "o"}`, false, nil},
		{"no such member", `{"orgId": "o", "humanUsers": [{"userId": "a", "user": {"userName": "x"}}]}`, false, nil},
		{"escaped name", `{"humanUsers": [{"user": {"\u0069dps": [1]}}]}`, false, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Present([]byte(tc.raw), tc.chunk, "humanUsers", "user", "idps")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Present (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMayHold(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want bool
	}{
		{`"idps"`, true}, {`"IDPs"`, true}, {`"i_d-ps"`, true}, {`"idp"`, false}, {`"userName": "ids"`, false},
	} {
		if got := mayHold([]byte(tc.raw), "idps"); got != tc.want {
			t.Errorf("mayHold(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
