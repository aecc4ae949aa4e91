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
