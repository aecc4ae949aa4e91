package e2e

import (
	"bytes"
	"encoding/json"
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
// dry run before it has the same result and writes nothing. A second run
// with onConflict SKIP reports the existing entities as skipped, a third
// with FAIL as errors; neither changes anything. A fourth with OVERWRITE
// updates them in place with the same values.
func TestImport_AllKindsGolden(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("All kinds")

	body, err := os.ReadFile("testdata/allkinds.json")
	if err != nil {
		t.Fatal(err)
	}

	// A dry run first: the instance stays as it is, and the result is the
	// one of the real run below.
	created := snapshot(s, instanceID)
	dry := s.submit(pat, withOption(t, body, `"dryRun": true`))
	if job := s.waitJob(dry, pat, 2*time.Minute); job["status"] != "completed_with_errors" || job["dryRun"] != true {
		t.Fatalf("dry run: status = %v, dryRun = %v; want completed_with_errors, true: %v", job["status"], job["dryRun"], job)
	}
	dryRaw := s.result(dry, pat)
	if !bytes.Contains(dryRaw, []byte("code=DRY-RUN")) {
		t.Error("the dry run's passwordless links do not say code=DRY-RUN")
	}
	dryResult := runValues.ReplaceAll(normalizeResult(t, dryRaw), []byte("${1}${3}${4}…${2}"))
	if diff := cmp.Diff(created, snapshot(s, instanceID)); diff != "" {
		t.Errorf("the dry run changed the directory (-before +after):\n%s", diff)
	}
	// Workers delete the scratch copy within seconds of the job's end.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		n := s.query(`SELECT count(*) FROM instances WHERE id LIKE 'dry-run:%'`)[0][0]
		if n == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s scratch instances remain 30s after the dry run", n)
		}
	}

	id := s.submit(pat, body)
	if job := s.waitJob(id, pat, 2*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("status = %v, want completed_with_errors: %v", job["status"], job)
	}
	got := runValues.ReplaceAll(normalizeResult(t, s.result(id, pat)), []byte("${1}${3}${4}…${2}"))
	compareGolden(t, "testdata/allkinds.golden.json", got)
	if diff := cmp.Diff(string(got), string(dryResult)); diff != "" {
		t.Errorf("the dry run's result differs from the real run's (-real +dry):\n%s", diff)
	}
	before := snapshot(s, instanceID)
	for _, table := range directoryTables {
		if len(before[table]) == 0 {
			t.Errorf("table %s holds nothing after the import", table)
		}
	}

	again := s.submit(pat, withOption(t, body, `"onConflict": "SKIP"`))
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

	// With OVERWRITE, every existing entity is updated in place with the
	// same values: listed as overwritten and in its success list, and the
	// directory holds what it held, but for secrets sealed or hashed anew
	// and the new passwordless registration codes.
	again = s.submit(pat, withOption(t, body, `"onConflict": "OVERWRITE"`))
	if job := s.waitJob(again, pat, 2*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("OVERWRITE re-run status = %v, want completed_with_errors: %v", job["status"], job)
	}
	got = runValues.ReplaceAll(normalizeResult(t, s.result(again, pat)), []byte("${1}${3}${4}…${2}"))
	compareGolden(t, "testdata/allkinds.overwrite.golden.json", got)
	regenerated := map[string][]string{"users": {"password_hash"}, "user_otp": {"secret_sealed"}, "idps": {"client_secret_sealed"}}
	after := snapshot(s, instanceID)
	delete(after, "passwordless_codes")
	delete(before, "passwordless_codes")
	if diff := cmp.Diff(withoutColumns(t, before, regenerated), withoutColumns(t, after, regenerated)); diff != "" {
		t.Errorf("the OVERWRITE re-run with the same data changed the directory (-before +after):\n%s", diff)
	}
}

// withOption adds a member (`"dryRun": true`) to an import request that has
// a "timeout" member.
func withOption(t testing.TB, body []byte, member string) []byte {
	t.Helper()
	out := bytes.Replace(body, []byte(`"timeout": "2m"`), []byte(`"timeout": "2m", `+member), 1)
	if bytes.Equal(out, body) {
		t.Fatal("the request has no timeout member to add " + member + " to")
	}
	return out
}

// withoutColumns returns a snapshot without the named columns of its tables.
func withoutColumns(t testing.TB, snap map[string][]string, columns map[string][]string) map[string][]string {
	t.Helper()
	out := make(map[string][]string, len(snap))
	for table, rows := range snap {
		for _, r := range rows {
			var row map[string]any
			if err := json.Unmarshal([]byte(r), &row); err != nil {
				t.Fatalf("%s row %s: %v", table, r, err)
			}
			for _, c := range columns[table] {
				delete(row, c)
			}
			b, _ := json.Marshal(row)
			out[table] = append(out[table], string(b))
		}
		sort.Strings(out[table])
	}
	return out
}
