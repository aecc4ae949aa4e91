package importdata

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanOrgs_Claims: the scan reports the org name, domains and user
// names each org claims, trimmed, with the domain a human user name ends in
// as read; an element that does not decode as a whole (a wrong type) still
// claims its user name; blank names, and names too long to be valid, claim
// nothing; each user takes its id, or the name its id derives from. It says the same whether
// or not the scan decodes elements to check ids (Defines).
func TestScanOrgs_Claims(t *testing.T) {
	payload := `{"orgs": [
		{"orgId": "o1", "org": {"name": "  Acme "}, "domains": [{"domainName": "acme.example"}, {"domainName": "  "}],
		 "humanUsers": [{"userId": "h1", "user": {"userName": " Bob@Shared.Example "}},
			{"userId": "h2", "state": [], "user": {"userName": "carol"}},
			{"userId": "h3", "user": {"userName": ""}}, {"userId": "h4", "user": {"userName": "` + strings.Repeat("é", 201) + `"}},
			{"user": {"userName": " noid "}}, {"userId": " sp ", "user": {"userName": "sp"}}]},
		{"orgId": "o2", "org": {"name": "Beta"}, "machineUsers": [{"userId": "m1", "user": {"userName": "bot@x.example"}}],
		 "orgMembers": [{"userId": "h1", "roles": ["ORG_OWNER"]}]}]}`
	want := []Claim{
		{Org: 0, Field: "org", Kind: ClaimOrgName, Key: "Acme", Takes: true},
		{Org: 0, Field: "domains", Kind: ClaimDomain, Key: "acme.example", Takes: true},
		{Org: 0, Field: "humanUsers", Kind: ClaimUserName, Key: "Bob@Shared.Example", Takes: true},
		{Org: 0, Field: "humanUsers", Kind: ClaimDomain, Key: "Shared.Example"},
		{Org: 0, Field: "humanUsers", Kind: ClaimUserID, Key: "h1", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 1, Kind: ClaimUserName, Key: "carol", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 1, Kind: ClaimUserID, Key: "h2", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 2, Kind: ClaimUserID, Key: "h3", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 3, Kind: ClaimUserID, Key: "h4", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 4, Kind: ClaimUserName, Key: "noid", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 4, Kind: ClaimDerivedUserID, Key: "noid", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 5, Kind: ClaimUserName, Key: "sp", Takes: true},
		{Org: 0, Field: "humanUsers", Item: 5, Kind: ClaimUserID, Key: " sp ", Takes: true}, // ids are kept as given
		{Org: 1, Field: "org", Kind: ClaimOrgName, Key: "Beta", Takes: true},
		{Org: 1, Field: "machineUsers", Kind: ClaimUserName, Key: "bot@x.example", Takes: true},
		{Org: 1, Field: "machineUsers", Kind: ClaimUserID, Key: "m1", Takes: true},
	}
	for _, defines := range []bool{false, true} {
		var got []Claim
		opts := ScanOptions{ChunkSize: 1, Defines: defines, Claim: func(c Claim) error {
			got = append(got, c)
			return nil
		}}
		if err := ScanOrgs(strings.NewReader(payload), opts, func(OrgLayout) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("claims with Defines %t (-want +got):\n%s", defines, diff)
		}
	}
}
