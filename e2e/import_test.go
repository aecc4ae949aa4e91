package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestImport_ThreePassesGolden imports a file that exercises all three passes,
// cross-org references (a project granted to an org later in the file and a
// user grant on that grant), invalid entities, duplicates and a skipped org,
// through the real API and worker, and compares the result with a golden file.
func TestImport_ThreePassesGolden(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	_, pat := s.createInstance("Golden")

	body, err := os.ReadFile("testdata/threepasses.json")
	if err != nil {
		t.Fatal(err)
	}
	id := s.submit(pat, body)
	job := s.waitJob(id, pat, 2*time.Minute)
	if job["status"] != "completed_with_errors" {
		t.Fatalf("status = %v, want completed_with_errors: %v", job["status"], job)
	}
	got := normalizeResult(t, s.result(id, pat))
	compareGolden(t, "testdata/threepasses.golden.json", got)

	// The directory holds what the result says, in the right orgs.
	wantRows := [][]string{
		{"b-anna", "beta", "human", "anna", "USER_STATE_ACTIVE"},
		{"b-bot", "beta", "machine", "beta-bot", "USER_STATE_ACTIVE"},
		{"b-dora", "beta", "human", "dora", "USER_STATE_LOCKED"},
		{"g-gus", "gamma", "human", "gus", "USER_STATE_ACTIVE"},
	}
	gotRows := s.query(`SELECT id, org_id, type, username, state FROM users WHERE org_id IN ('beta','gamma') ORDER BY id`)
	if diff := cmp.Diff(wantRows, gotRows); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if got := s.query(`SELECT password_hash LIKE '$2%', password_change_required FROM users WHERE id = 'b-dora'`); got[0][0] != "true" || got[0][1] != "true" {
		t.Errorf("plain password not stored as a bcrypt hash with change required: %v", got)
	}
	if got := s.query(`SELECT user_id, project_id, project_grant_id FROM user_grants ORDER BY user_id`); len(got) != 2 || got[1][2] != "g-gamma" {
		t.Errorf("user grants = %v, want b-anna's and g-gus's on grant g-gamma", got)
	}
	if got := s.query(`SELECT count(*) FROM orgs WHERE id = 'ghost'`); got[0][0] != "0" {
		t.Errorf("org ghost was created")
	}
}

// jobIDMember matches the jobId member of a result, which differs between runs.
var jobIDMember = regexp.MustCompile(`"jobId":"[^"]*",?`)

// normalizeResult drops the job id and indents the result, keeping the
// order of its members as the API wrote them.
func normalizeResult(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, jobIDMember.ReplaceAll(b, nil), "", "  "); err != nil {
		t.Fatalf("result is not JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func compareGolden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("result differs from %s (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}
