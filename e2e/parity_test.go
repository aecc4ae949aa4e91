package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// parityUser is a human user of the parity cases.
func parityUser(id string) string {
	return fmt.Sprintf(`{"userId":%q,"user":{"userName":%q,"profile":{"firstName":"F","lastName":"L"},"email":{"email":"%s@mail.example"}}}`, id, id, id)
}

// TestImport_MemberRoles: member roles are checked as ZITADEL checks them
// (domain.CheckForInvalidRoles against its default roles): an org member
// needs org roles (or SELF_MANAGEMENT_GLOBAL alone), a project member
// roles starting with PROJECT (so PROJECT_GRANT_OWNER is one, as in
// ZITADEL), a project grant member project grant roles. Any other role is
// that member's error with ZITADEL's id; the member is not added.
func TestImport_MemberRoles(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("Roles")
	users := `"humanUsers":[` + parityUser("ro-u1") + `,` + parityUser("ro-u2") + `,` + parityUser("ro-u3") + `,` +
		parityUser("ro-u4") + `,` + parityUser("ro-u5") + `]`
	body := `{"timeout":"10m","dataOrgs":{"orgs":[` +
		`{"orgId":"ro-a","org":{"name":"Roles A"},` + users + `,` +
		`"projects":[{"projectId":"ro-p","project":{"name":"P"}}],` +
		`"projectGrants":[{"grantId":"ro-g","projectGrant":{"projectId":"ro-p","grantedOrgId":"ro-b"}}],` +
		`"orgMembers":[{"userId":"ro-u1","roles":["ORG_OWNER","ORG_USER_MANAGER"]},{"userId":"ro-u2","roles":["PROJECT_OWNER"]},` +
		`{"userId":"ro-u3","roles":["SELF_MANAGEMENT_GLOBAL"]},{"userId":"ro-u4","roles":["ORG_OWNER","SELF_MANAGEMENT_GLOBAL"]},` +
		`{"userId":"ro-u5","roles":["org_owner","ORG_ADMIN"]}],` +
		`"projectMembers":[{"projectId":"ro-p","userId":"ro-u1","roles":["PROJECT_OWNER_VIEWER"]},` +
		`{"projectId":"ro-p","userId":"ro-u2","roles":["PROJECT_GRANT_OWNER"]},` +
		`{"projectId":"ro-p","userId":"ro-u3","roles":["ORG_OWNER"]},{"projectId":"ro-p","userId":"ro-u4","roles":["admin"]}],` +
		`"projectGrantMembers":[{"projectId":"ro-p","grantId":"ro-g","userId":"ro-u1","roles":["PROJECT_GRANT_OWNER_VIEWER"]},` +
		`{"projectId":"ro-p","grantId":"ro-g","userId":"ro-u2","roles":["PROJECT_OWNER"]}]},` +
		`{"orgId":"ro-b","org":{"name":"Roles B"}}]}}`
	id := s.submit(pat, []byte(body))
	if job := s.waitJob(id, pat, time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("status %v: %v", job["status"], job)
	}
	compareGolden(t, "testdata/roles.golden.json", normalizeResult(t, s.result(id, pat)))
	got := map[string][][]string{
		"org_members": s.query(`SELECT user_id, array_to_string(roles, ' ') FROM org_members
			WHERE instance_id = $1 AND org_id = 'ro-a' ORDER BY 1`, instanceID),
		"project_members": s.query(`SELECT user_id, array_to_string(roles, ' ') FROM project_members
			WHERE instance_id = $1 ORDER BY 1`, instanceID),
		"project_grant_members": s.query(`SELECT user_id, array_to_string(roles, ' ') FROM project_grant_members
			WHERE instance_id = $1 ORDER BY 1`, instanceID),
	}
	want := map[string][][]string{
		"org_members":           {{"ro-u1", "ORG_OWNER ORG_USER_MANAGER"}, {"ro-u3", "SELF_MANAGEMENT_GLOBAL"}},
		"project_members":       {{"ro-u1", "PROJECT_OWNER_VIEWER"}, {"ro-u2", "PROJECT_GRANT_OWNER"}},
		"project_grant_members": {{"ro-u1", "PROJECT_GRANT_OWNER_VIEWER"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	for _, msg := range []string{"Org-4N8es Message=Errors.Org.MemberInvalid", "PROJECT-3m9ds Message=Errors.Project.Member.Invalid",
		"PROJECT-m9gKK Message=Errors.Project.Grant.Member.Invalid"} {
		if !strings.Contains(string(s.result(id, pat)), msg) {
			t.Errorf("the result has no %q", msg)
		}
	}
}

// parityUserWith is a human user with extra members of "user" (a password).
func parityUserWith(id, extra string) string {
	return fmt.Sprintf(`{"userId":%q,"user":{"userName":%q,"profile":{"firstName":"F","lastName":"L"},"email":{"email":"%s@mail.example"},%s}}`,
		id, id, id, extra)
}

// TestImport_InstanceDefaultPolicies: a new instance has ZITADEL's default
// policies, and they apply to orgs without a policy of their own: a plain
// password must meet the default complexity (8 characters, lower and upper
// case, number, symbol); under the default domain policy a domain is
// verified when it is added (so an unverified one can be primary), and one
// that another org verified is that domain's error and is not added. An org
// policy overrides the default. A login policy naming an IdP of the
// instance (owner SYSTEM) stays an error: zimport has no instance IdPs.
func TestImport_InstanceDefaultPolicies(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("Defaults")
	if n := s.query(`SELECT count(*) FROM instance_policies WHERE instance_id = $1`, instanceID)[0][0]; n != "8" {
		t.Errorf("the new instance has %s default policies, want 8", n)
	}
	body := `{"timeout":"10m","dataOrgs":{"orgs":[` +
		`{"orgId":"df-a","org":{"name":"Defaults A"},"domains":[{"domainName":"df-a.example","isPrimary":true}],"humanUsers":[` +
		parityUserWith("df-weak", `"password":"secret"`) + `,` + parityUserWith("df-nosymbol", `"password":"Passw0rdx"`) + `,` +
		parityUserWith("df-strong", `"password":"Passw0rd!"`) + `]},` +
		`{"orgId":"df-b","org":{"name":"Defaults B"},"domains":[{"domainName":"DF-A.example","isVerified":true},{"domainName":"df-b.example"}]},` +
		`{"orgId":"df-c","org":{"name":"Defaults C"},"domainPolicy":{"validateOrgDomains":true},"passwordComplexityPolicy":{"minLength":4},` +
		`"domains":[{"domainName":"df-c.example","isPrimary":true}],"humanUsers":[` + parityUserWith("df-own-policy", `"password":"abcd"`) + `]},` +
		`{"orgId":"df-d","org":{"name":"Defaults D"},"loginPolicy":{"allowUsernamePassword":true,"idps":[{"idpId":"sys-idp","ownerType":"IDP_OWNER_TYPE_SYSTEM"}]}}]}}`
	id := s.submit(pat, []byte(body))
	if job := s.waitJob(id, pat, time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("status %v: %v", job["status"], job)
	}
	compareGolden(t, "testdata/defaults.golden.json", normalizeResult(t, s.result(id, pat)))
	got := map[string][][]string{
		"org_domains": s.query(`SELECT org_id, domain, is_verified::text, is_primary::text FROM org_domains
			WHERE instance_id = $1 AND org_id LIKE 'df-%' ORDER BY 1, 2`, instanceID),
		"users": s.query(`SELECT id FROM users WHERE instance_id = $1 AND id LIKE 'df-%' ORDER BY 1`, instanceID),
	}
	want := map[string][][]string{
		"org_domains": {{"df-a", "df-a.example", "true", "true"}, {"df-b", "df-b.example", "true", "false"},
			{"df-c", "df-c.example", "false", "false"}},
		"users": {{"df-own-policy"}, {"df-strong"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

// TestImport_EmptyUserIDGetsAnID: a human user without a userId is imported
// with an id that zimport derives from its org and user name (ZITADEL
// generates a random one and lists ""); the success list names it, so the
// caller can find the user, and a second run of the same file finds the
// same user (skipped with onConflict SKIP).
func TestImport_EmptyUserIDGetsAnID(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("Empty ids")
	users := `{"userName":"no-id-1","profile":{"firstName":"F","lastName":"L"},"email":{"email":"n1@mail.example"}}`
	body := `{"timeout":"10m","dataOrgs":{"orgs":[{"orgId":"ni-o","org":{"name":"No Ids"},"humanUsers":[` +
		`{"userId":"","user":` + users + `},` +
		`{"user":{"userName":"no-id-2","profile":{"firstName":"F","lastName":"L"},"email":{"email":"n2@mail.example"}}},` +
		parityUser("ni-given") + `]}]}}`
	id := s.submit(pat, []byte(body))
	if job := s.waitJob(id, pat, time.Minute); job["status"] != "succeeded" {
		t.Fatalf("status %v: %v", job["status"], job)
	}
	result := normalizeResult(t, s.result(id, pat))
	compareGolden(t, "testdata/emptyid.golden.json", result)
	rows := s.query(`SELECT id, username FROM users WHERE instance_id = $1 AND org_id = 'ni-o' ORDER BY username`, instanceID)
	if len(rows) != 3 || rows[0][0] != "ni-given" {
		t.Fatalf("users %v, want three with ni-given", rows)
	}
	for _, r := range rows[1:] {
		if len(r[0]) != 18 || !strings.Contains(string(result), `"`+r[0]+`"`) {
			t.Errorf("user %s has id %q: want 18 digits, listed in the result", r[1], r[0])
		}
	}
	again := s.submit(pat, []byte(strings.Replace(body, `"timeout":"10m"`, `"timeout":"10m","onConflict":"SKIP"`, 1)))
	if job := s.waitJob(again, pat, time.Minute); job["status"] != "succeeded" {
		t.Fatalf("second run: %v", job)
	}
	if res := string(s.result(again, pat)); !strings.Contains(res, rows[1][0]) || !strings.Contains(res, `"skipped"`) {
		t.Errorf("second run does not skip the users it made: %s", res)
	}
	if n := s.query(`SELECT count(*) FROM users WHERE instance_id = $1 AND org_id = 'ni-o'`, instanceID)[0][0]; n != "3" {
		t.Errorf("%s users after the second run, want 3", n)
	}
}
