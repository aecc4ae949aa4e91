package store

import (
	"testing"

	"github.com/zimport/zimport/importdata"
)

// TestApplyUnit_GeneratedUserIDs: a human user without a userId gets an id
// derived from its org and user name: the same name in two orgs (whose
// names are unique per org) gives two users, each listed with its id.
func TestApplyUnit_GeneratedUserIDs(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	admin := `{"user": {"userName": "admin", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "a@x.example"}}}`
	r := kindsImport(t, s, userDomainStages, importdata.OnConflictFail, `{"orgs": [
		{"orgId": "o1", "org": {"name": "One"}, "domainPolicy": {"userLoginMustBeDomain": true}, "humanUsers": [`+admin+`]},
		{"orgId": "o2", "org": {"name": "Two"}, "domainPolicy": {"userLoginMustBeDomain": true}, "humanUsers": [`+admin+`]}]}`)
	id1, id2 := generatedUserID("o1", "admin"), generatedUserID("o2", "admin")
	if id1 == id2 || len(id1) != 18 {
		t.Fatalf("generated ids %q and %q: want two different ids of 18 digits", id1, id2)
	}
	checkResults(t, []kindsResult{
		{Org: 0, Step: "domain_policy", Outcome: "ok", Type: "domain_policy", ID: "o1"},
		resOK(0, "human_users", 0, "human_user", id1),
		{Org: 1, Step: "domain_policy", Outcome: "ok", Type: "domain_policy", ID: "o2"},
		resOK(1, "human_users", 0, "human_user", id2),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, org_id FROM users ORDER BY org_id`, [][]string{{id1, "o1"}, {id2, "o2"}}},
	})
}
