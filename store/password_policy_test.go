package store

import (
	"testing"

	"github.com/zimport/zimport/importdata"
)

// TestApplyUnit_PlainPasswordsFollowTheOrgPolicy checks plain passwords
// against the password complexity policy that the same org imports, and
// those of an org without a policy against the instance's default
// (ZITADEL's: at least 8 characters, lower and upper case, a number and a
// symbol); a hashed password is not checked.
func TestApplyUnit_PlainPasswordsFollowTheOrgPolicy(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	user := func(id, password string) string {
		return `{"userId": "` + id + `", "user": {"userName": "` + id + `", "profile": {"firstName": "F", "lastName": "L"},
			"email": {"email": "` + id + `@x.example"}, ` + password + `}}`
	}
	split, orgs := kindsDecode(t, `{"orgs": [
	{"orgId": "o1", "org": {"name": "One"}, "passwordComplexityPolicy": {"minLength": 10, "hasUppercase": true},
	 "humanUsers": [`+user("short", `"password": "Short-1"`)+`, `+user("lower", `"password": "all-lower-case-1"`)+`,
		`+user("good", `"password": "Long-Enough-1"`)+`, `+user("hashed", `"hashedPassword": {"value": "$2y$12$hXUrnqdq1RIIYZ2HPytIIe5lXdIvbhqrTvdPsSF7o.jFh817Z6lwm"}`)+`]},
	{"orgId": "o2", "org": {"name": "Two"}, "humanUsers": [`+user("tiny", `"password": "x"`)+`, `+user("nosymbol", `"password": "Abcdefg1"`)+`,
		`+user("strong", `"password": "Str0ng!pass"`)+`]}]}`)
	steps := []string{"org", "password_complexity_policy", "human_users"}
	r := startKindsJob(t, s, importdata.OnConflictFail, split,
		[]Unit{{Stage: StagePass1, OrgIndex: 0, Steps: steps}, {Stage: StagePass1, OrgIndex: 1, Steps: steps}}, orgs)
	r.applyAll(t, s)
	checkResults(t, []kindsResult{
		{Org: 0, Step: "password_complexity_policy", Outcome: "ok", Type: "password_complexity_policy", ID: "o1"},
		resFailed(0, "human_users", 0, "human_user", "short",
			"ID=DOMAIN-HuJf6 Message=Errors.User.PasswordComplexityPolicy.MinLength (the password is shorter than 10 bytes)"),
		resFailed(0, "human_users", 1, "human_user", "lower",
			"ID=DOMAIN-VoaRj Message=Errors.User.PasswordComplexityPolicy.HasUpper (the password has no upper case letter)"),
		resOK(0, "human_users", 2, "human_user", "good"),
		resOK(0, "human_users", 3, "human_user", "hashed"),
		resFailed(1, "human_users", 0, "human_user", "tiny",
			"ID=DOMAIN-HuJf6 Message=Errors.User.PasswordComplexityPolicy.MinLength (the password is shorter than 8 bytes)"),
		resFailed(1, "human_users", 1, "human_user", "nosymbol", "Errors.User.PasswordComplexityPolicy.HasSymbol"),
		resOK(1, "human_users", 2, "human_user", "strong"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id FROM users ORDER BY id`, [][]string{{"good"}, {"hashed"}, {"strong"}}},
	})
}
