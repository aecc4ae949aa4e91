package importdata

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanOrgs_MemberSpans checks that the spans of an org's members, joined,
// decode as the org itself restricted to those members, whatever the
// spelling, spacing and position of the members.
func TestScanOrgs_MemberSpans(t *testing.T) {
	payload := `{"orgs": [
	  {"humanUsers": [{"userId": "u1", "user": {"userName": "n1"}}] ,
	   "unknownKind": {"x": [1, 2]},
	   "org_id" : "a",
	   "domainPolicy": null,
	   "org": {"name": "A"},
	   "projects":[{"projectId":"p"}]}]}`
	var org OrgLayout
	if err := ScanOrgs(strings.NewReader(payload), ScanOptions{}, func(o OrgLayout) error { org = o; return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"humanusers", "org", "orgid", "projects", "unknownkind"}, slices.Sorted(maps.Keys(org.Members))); diff != "" {
		t.Errorf("member keys (-want +got):\n%s", diff) // null members are left out
	}
	part := func(name string) []byte {
		sp := org.Members[MemberKey(name)]
		return []byte(payload[sp.Start:sp.End])
	}
	joined := JoinMembers([][]byte{part("humanUsers"), part("orgId"), part("org")})
	got, err := DecodeOrg(joined, nil)
	if err != nil {
		t.Fatalf("decode %s: %v", joined, err)
	}
	if got.OrgID != "a" || got.Org == nil || got.Org.Name != "A" || len(got.HumanUsers) != 1 || got.HumanUsers[0].V.UserID != "u1" || got.Projects != nil {
		t.Errorf("joined members decode as %+v", got)
	}
	if s := string(JoinMembers(nil)); s != "{}" {
		t.Errorf("JoinMembers(nil) = %q", s)
	}
	if !strings.Contains(string(part("unknownKind")), `{"x": [1, 2]}`) {
		t.Errorf("span of an unknown member = %q", part("unknownKind"))
	}
}
