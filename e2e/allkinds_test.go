package e2e

import (
	"bytes"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// directoryTables are the tables that hold imported entities.
var directoryTables = []string{
	"orgs", "org_domains", "domain_policies", "label_policies", "lockout_policies", "login_policies",
	"login_policy_idps", "password_complexity_policies", "privacy_policies", "login_texts", "message_texts",
	"idps", "users", "user_otp", "passwordless_codes", "user_metadata", "machine_keys", "user_links",
	"projects", "apps", "app_keys", "actions", "project_roles", "trigger_actions", "project_grants",
	"user_grants", "org_members", "project_grant_members", "project_members",
}

// snapshot returns every row of the instance's directory as JSON text, by
// table, sorted.
func snapshot(s *stack, instanceID string) map[string][]string {
	out := map[string][]string{}
	for _, table := range directoryTables {
		var rows []string
		for _, r := range s.query(`SELECT (to_jsonb(t) - 'instance_id')::text FROM `+table+` t WHERE instance_id = $1`, instanceID) {
			rows = append(rows, r[0])
		}
		sort.Strings(rows)
		out[table] = rows
	}
	return out
}

// runValues matches the values of a result that differ between runs: the
// instance domain, code and expiration of passwordless links.
var runValues = regexp.MustCompile(`(https://)[^/"]*(/ui/)|(codeID=|code=)[^&"]*|("expiration": ")[^"]*`)

// TestImport_AllKindsGolden imports every kind of entity, with invalid
// values, cross-org references and dependants of failed entities, through
// the real API and worker, and compares the result with a golden file. A
// second run with onConflict SKIP reports the existing entities as skipped,
// a third with FAIL as errors; neither changes anything.
func TestImport_AllKindsGolden(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("All kinds")

	body, err := os.ReadFile("testdata/allkinds.json")
	if err != nil {
		t.Fatal(err)
	}
	id := s.submit(pat, body)
	if job := s.waitJob(id, pat, 2*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("status = %v, want completed_with_errors: %v", job["status"], job)
	}
	got := runValues.ReplaceAll(normalizeResult(t, s.result(id, pat)), []byte("${1}${3}${4}…${2}"))
	compareGolden(t, "testdata/allkinds.golden.json", got)
	before := snapshot(s, instanceID)
	for _, table := range directoryTables {
		if len(before[table]) == 0 {
			t.Errorf("table %s holds nothing after the import", table)
		}
	}

	skip := bytes.Replace(body, []byte(`"timeout": "2m"`), []byte(`"timeout": "2m", "onConflict": "SKIP"`), 1)
	if bytes.Equal(skip, body) {
		t.Fatal("testdata/allkinds.json has no timeout member to add onConflict to")
	}
	again := s.submit(pat, skip)
	if job := s.waitJob(again, pat, 2*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("re-run status = %v, want completed_with_errors (the invalid entities fail again): %v", job["status"], job)
	}
	got = normalizeResult(t, s.result(again, pat))
	compareGolden(t, "testdata/allkinds.skip.golden.json", got)
	if diff := cmp.Diff(before, snapshot(s, instanceID)); diff != "" {
		t.Errorf("the SKIP re-run changed the directory (-before +after):\n%s", diff)
	}

	// With FAIL (the default), every existing entity is an error of the
	// catalogue's type and id, and nothing changes either.
	again = s.submit(pat, body)
	if job := s.waitJob(again, pat, 2*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("FAIL re-run status = %v, want completed_with_errors: %v", job["status"], job)
	}
	compareGolden(t, "testdata/allkinds.fail.golden.json", normalizeResult(t, s.result(again, pat)))
	if diff := cmp.Diff(before, snapshot(s, instanceID)); diff != "" {
		t.Errorf("the FAIL re-run changed the directory (-before +after):\n%s", diff)
	}
}
