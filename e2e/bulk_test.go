package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bulkImport returns an import of orgs orgs with users human users each, a
// project per org granted to the next org (the last to the first), a user
// grant per user, and members.
func bulkImport(orgs, users int) []byte {
	var list []obj
	for o := range orgs {
		id := fmt.Sprintf("org%03d", o)
		next := fmt.Sprintf("org%03d", (o+1)%orgs)
		prev := fmt.Sprintf("org%03d", (o+orgs-1)%orgs)
		var humans, grants, members []obj
		for u := range users {
			uid := fmt.Sprintf("%s-u%05d", id, u)
			humans = append(humans, obj{"userId": uid, "user": obj{
				"userName": uid, "profile": obj{"firstName": "F" + uid, "lastName": "L"},
				"email":          obj{"email": uid + "@example.com", "isEmailVerified": true},
				"hashedPassword": obj{"value": "$2a$12$aLYFkieuqJyeynvptPTxpehSViui5WeAPuR2Xw1wui9CPHEaacmFq"},
			}})
			grants = append(grants, obj{"userId": uid, "projectId": "p-" + id, "roleKeys": []string{"user"}})
			if u%50 == 0 {
				members = append(members, obj{"userId": uid, "roles": []string{"ORG_USER_MANAGER"}})
			}
		}
		// A user of this org granted the previous org's project through its grant.
		grants = append(grants, obj{"userId": id + "-u00000", "projectId": "p-" + prev, "projectGrantId": "g-" + prev, "roleKeys": []string{"user"}})
		list = append(list, obj{
			"orgId": id, "org": obj{"name": "Org " + id},
			"humanUsers":     humans,
			"projects":       []obj{{"projectId": "p-" + id, "project": obj{"name": "Project " + id}}},
			"projectRoles":   []obj{{"projectId": "p-" + id, "roleKey": "user", "displayName": "User"}},
			"projectGrants":  []obj{{"grantId": "g-" + id, "projectGrant": obj{"projectId": "p-" + id, "grantedOrgId": next, "roleKeys": []string{"user"}}}},
			"userGrants":     grants,
			"orgMembers":     members,
			"projectMembers": []obj{{"projectId": "p-" + id, "userId": id + "-u00001", "roles": []string{"PROJECT_OWNER"}}},
		})
	}
	b, _ := json.Marshal(obj{"timeout": "30m", "dataOrgs": obj{"orgs": list}})
	return b
}

// directoryDump returns every imported row of an instance, without the
// instance id and generated values, sorted.
func directoryDump(s *stack, instanceID string) map[string][]string {
	queries := map[string]string{
		"orgs":            `SELECT id, name, state FROM orgs WHERE instance_id = $1 AND id LIKE 'org%'`,
		"users":           `SELECT id, org_id, type, username, email, password_hash, state FROM users WHERE instance_id = $1 AND id LIKE 'org%'`,
		"projects":        `SELECT id, org_id, name FROM projects WHERE instance_id = $1`,
		"project_roles":   `SELECT project_id, role_key FROM project_roles WHERE instance_id = $1`,
		"project_grants":  `SELECT id, project_id, granted_org_id, role_keys FROM project_grants WHERE instance_id = $1`,
		"user_grants":     `SELECT org_id, user_id, project_id, project_grant_id, role_keys FROM user_grants WHERE instance_id = $1`,
		"org_members":     `SELECT org_id, user_id, roles FROM org_members WHERE instance_id = $1 AND org_id LIKE 'org%'`,
		"project_members": `SELECT project_id, user_id, roles FROM project_members WHERE instance_id = $1`,
	}
	out := map[string][]string{}
	for table, q := range queries {
		var rows []string
		for _, r := range s.query(q, instanceID) {
			rows = append(rows, strings.Join(r, "|"))
		}
		sort.Strings(rows)
		out[table] = rows
	}
	return out
}

// TestImport_SurvivesWorkerKills kills the only worker with SIGKILL several
// times in the middle of a multi-org import and restarts it; the job's
// result and the stored entities must equal those of an undisturbed run.
func TestImport_SurvivesWorkerKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and recovers workers: takes minutes")
	}
	s := newStack(t, "ZIMPORT_CHUNK_SIZE=100", "ZIMPORT_WORKER_CONCURRENCY=2")
	body := bulkImport(8, 500) // 4,000 users, 4,008 user grants, members, grants

	baseInstance, basePAT := s.createInstanceWith("Baseline", "calm")
	baseID := s.submit(basePAT, body)
	if job := s.waitJob(baseID, basePAT, 5*time.Minute); job["status"] != "succeeded" {
		t.Fatalf("undisturbed run ended %v: %v\n%s", job["status"], job, s.result(baseID, basePAT))
	}
	s.stopWorker("calm")

	crashInstance, crashPAT := s.createInstanceWith("Crashy", "crashy-0")
	crashID := s.submit(crashPAT, body)
	for i, at := range []float64{0.2, 0.45, 0.7} {
		s.waitProgress(crashID, crashPAT, at, 3*time.Minute)
		s.kill(fmt.Sprintf("crashy-%d", i))
		t.Logf("worker killed at %.0f%% of units", at*100)
		s.startWorker(fmt.Sprintf("crashy-%d", i+1), "ZIMPORT_CHUNK_SIZE=100", "ZIMPORT_WORKER_CONCURRENCY=2")
	}
	if job := s.waitJob(crashID, crashPAT, 10*time.Minute); job["status"] != "succeeded" {
		t.Fatalf("crashed run ended %v: %v", job["status"], job)
	}

	if diff := cmp.Diff(normalizeResult(t, s.result(baseID, basePAT)), normalizeResult(t, s.result(crashID, crashPAT))); diff != "" {
		t.Errorf("result after kills differs from the undisturbed one (-want +got):\n%s", diff)
	}
	want, got := directoryDump(s, baseInstance), directoryDump(s, crashInstance)
	if len(want["users"]) != 4000 || len(want["user_grants"]) != 4008 {
		t.Fatalf("baseline has %d users and %d user grants, want 4000 and 4008", len(want["users"]), len(want["user_grants"]))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("directory after kills differs from the undisturbed one (-want +got):\n%s", diff)
	}
	progress := s.job(crashID, crashPAT)["progress"]
	if diff := cmp.Diff(s.job(baseID, basePAT)["progress"], progress); diff != "" {
		t.Errorf("progress counts differ (-want +got):\n%s", diff)
	}
	// The kills must have interrupted units: asynq re-runs those as retries.
	retried := 0
	for i := 1; i <= 3; i++ {
		retried += s.countLogLines(fmt.Sprintf("crashy-%d", i), "unit applied", `"retry":`)
	}
	if retried == 0 {
		t.Error("no unit was retried after the kills: the test did not interrupt any work")
	}
	t.Logf("%d units re-ran after a kill", retried)
}

// TestImport_TwoWorkersShareAJob runs one job on two worker processes and
// checks that both applied units and the result is complete.
func TestImport_TwoWorkersShareAJob(t *testing.T) {
	s := newStack(t, "ZIMPORT_CHUNK_SIZE=50", "ZIMPORT_WORKER_CONCURRENCY=1")
	s.startWorker("w1")
	s.startWorker("w2")
	_, pat := s.createInstance("Shared")
	id := s.submit(pat, bulkImport(6, 300))
	if job := s.waitJob(id, pat, 5*time.Minute); job["status"] != "succeeded" {
		t.Fatalf("job ended %v: %v", job["status"], job)
	}
	var res struct {
		Success struct {
			Orgs []struct {
				HumanUserIDs []string `json:"humanUserIds"`
				UserGrants   []any    `json:"userGrants"`
			} `json:"orgs"`
		} `json:"success"`
	}
	if err := json.Unmarshal(s.result(id, pat), &res); err != nil {
		t.Fatal(err)
	}
	users, grants := 0, 0
	for _, o := range res.Success.Orgs {
		users += len(o.HumanUserIDs)
		grants += len(o.UserGrants)
	}
	if len(res.Success.Orgs) != 6 || users != 1800 || grants != 1806 {
		t.Errorf("result has %d orgs, %d users, %d user grants; want 6, 1800, 1806", len(res.Success.Orgs), users, grants)
	}
	for _, w := range []string{"w1", "w2"} {
		if s.countLogLines(w, "unit applied") == 0 {
			t.Errorf("worker %s applied no unit", w)
		}
		// Parallel units must not get in each other's way (a deadlock or a
		// lock timeout is a failed task, retried a second later).
		if n := s.countLogLines(w, "task failed"); n > 0 {
			t.Errorf("worker %s has %d failed tasks", w, n)
		}
	}
}
