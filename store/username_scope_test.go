package store

import (
	"testing"

	"github.com/zimport/zimport/importdata"
)

// TestApplyUnit_UserNamesPerOrgWhenLoginMustBeDomain checks the scope of
// user names: per org when the org's domain policy says
// userLoginMustBeDomain, else the whole instance.
func TestApplyUnit_UserNamesPerOrgWhenLoginMustBeDomain(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	user := func(id, name string) string {
		return `{"userId": "` + id + `", "user": {"userName": "` + name + `", "profile": {"firstName": "F", "lastName": "L"},
			"email": {"email": "` + id + `@x.example"}}}`
	}
	scoped := `"domainPolicy": {"userLoginMustBeDomain": true}, `
	split, orgs := kindsDecode(t, `{"orgs": [
	{"orgId": "o1", "org": {"name": "One"}, `+scoped+`"humanUsers": [`+user("o1-alice", "alice")+`]},
	{"orgId": "o2", "org": {"name": "Two"}, "humanUsers": [`+user("o2-alice", "alice")+`]},
	{"orgId": "o3", "org": {"name": "Three"}, `+scoped+`"humanUsers": [`+user("o3-bob", "bob")+`, `+user("o3-bob2", "BOB")+`],
	 "machineUsers": [{"userId": "o3-alice", "user": {"userName": "alice", "name": "Bot"}}]},
	{"orgId": "o4", "org": {"name": "Four"}, "humanUsers": [`+user("o4-alice", "Alice")+`]}]}`)
	steps := []string{"org", "domain_policy", "human_users", "machine_users"}
	var units []Unit
	for i := range orgs {
		units = append(units, Unit{Stage: StagePass1, OrgIndex: i, Steps: steps})
	}
	r := startKindsJob(t, s, importdata.OnConflictFail, split, units, orgs)
	r.applyAll(t, s)
	checkResults(t, []kindsResult{
		{Org: 0, Step: "domain_policy", Outcome: "ok", Type: "domain_policy", ID: "o1"},
		resOK(0, "human_users", 0, "human_user", "o1-alice"),
		resOK(1, "human_users", 0, "human_user", "o2-alice"),
		{Org: 2, Step: "domain_policy", Outcome: "ok", Type: "domain_policy", ID: "o3"},
		resOK(2, "human_users", 0, "human_user", "o3-bob"),
		resFailed(2, "human_users", 1, "human_user", "o3-bob2", nameTaken("BOB")),
		resOK(2, "machine_users", 0, "machine_user", "o3-alice"),
		resFailed(3, "human_users", 0, "human_user", "o4-alice", nameTaken("Alice")),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, username_scope FROM users WHERE org_id <> '' ORDER BY id`,
			[][]string{{"o1-alice", "o1"}, {"o2-alice", ""}, {"o3-alice", "o3"}, {"o3-bob", "o3"}}},
	})
}
