package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/store"
)

// stepNumber returns the result step number of a registered step.
func stepNumber(t *testing.T, name string) int {
	t.Helper()
	for _, s := range store.Steps() {
		if s.Name == name {
			return s.Stage*100 + s.Order
		}
	}
	t.Fatalf("step %q is not registered", name)
	return 0
}

// finishJob records an outcome for a job as a worker would: its orgs, result
// rows and final status.
func (e *testEnv) finishJob(id, status string) {
	e.t.Helper()
	t := e.t.(*testing.T)
	org, domains := stepNumber(t, "org"), stepNumber(t, "domains")
	ctx := context.Background()
	stmts := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO job_orgs (job_id, org_index, org_id, present) VALUES ($1, 0, 'o1', true), ($1, 1, 'o2', false)`, nil},
		{`INSERT INTO job_results (job_id, org_index, step, item, sub, pass, outcome, type, id, message) VALUES
			($1, 0, $2, 0, 0, 1, 'ok', 'org', 'o1', NULL),
			($1, 0, $3, 1, 0, 1, 'ok', 'domain', 'b.example.com', NULL),
			($1, 0, $3, 0, 0, 1, 'ok', 'domain', 'a.example.com', NULL),
			($1, 0, $3, 2, 0, 1, 'error', 'domain', 'o1_bad', 'ID=ORG-R24hb Message=Errors.Org.InvalidDomain'),
			($1, 1, $2, 0, 0, 1, 'error', 'org', 'o2', 'ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting')`,
			[]any{org, domains}},
		{`UPDATE jobs SET status = $2, started_at = now(), finished_at = now(), totals = '{"org": 2, "domains": 3}' WHERE id = $1`, []any{status}},
		{`INSERT INTO job_units (job_id, stage, org_index, seq, steps, src_start, src_end, done, counts) VALUES
			($1, 1, 0, 0, '{org,domains}', 0, 1, true, '{"org": {"done": 1}, "domains": {"done": 2, "failed": 1}}'),
			($1, 1, 1, 0, '{org,domains}', 0, 1, true, '{"org": {"failed": 1}}')`, nil},
	}
	for _, s := range stmts {
		if _, err := e.db.Exec(ctx, s.sql, append([]any{id}, s.args...)...); err != nil {
			e.t.Fatalf("record outcome: %v", err)
		}
	}
}

func TestJobs_Result(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, _ := e.submit(importBody, nil)

	// While queued: no outcome yet.
	r := e.do(req{method: "GET", path: "/jobs/" + id + "/result", token: e.pat})
	if want := `{"jobId":"` + id + `","status":"queued","success":{}}` + "\n"; r.status != 200 || string(r.body) != want {
		t.Errorf("result of a queued job: %d %s, want %s", r.status, r.body, want)
	}

	e.finishJob(id, store.StatusCompletedWithErrors)
	r = e.do(req{method: "GET", path: "/jobs/" + id + "/result", token: e.pat})
	want := `{"jobId":"` + id + `","status":"completed_with_errors",` +
		`"errors":[{"type":"domain","id":"o1_bad","message":"ID=ORG-R24hb Message=Errors.Org.InvalidDomain"},` +
		`{"type":"org","id":"o2","message":"ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting"}],` +
		`"success":{"orgs":[{"orgId":"o1","domains":["a.example.com","b.example.com"]}]}}` + "\n"
	if r.status != http.StatusOK || string(r.body) != want {
		t.Errorf("result:\n got %d %s\nwant %s", r.status, r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}

	r = e.do(req{method: "GET", path: "/jobs/" + id + "/result?format=ndjson", token: e.pat})
	wantLines := []string{
		`{"error":{"type":"domain","id":"o1_bad","message":"ID=ORG-R24hb Message=Errors.Org.InvalidDomain"}}`,
		`{"error":{"type":"org","id":"o2","message":"ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting"}}`,
		`{"org":{"orgId":"o1","domains":["a.example.com","b.example.com"]}}`,
		`{"jobId":"` + id + `","status":"completed_with_errors"}`,
	}
	if diff := cmp.Diff(wantLines, strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")); diff != "" || r.status != 200 {
		t.Errorf("ndjson %d (-want +got):\n%s", r.status, diff)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("ndjson Content-Type = %q", ct)
	}
	wantError(t, e.do(req{method: "GET", path: "/jobs/" + id + "/result?format=xml", token: e.pat}), 400, codeInvalidArgument, "format: ")

	// The job view has the progress.
	r = e.do(req{method: "GET", path: "/jobs/" + id, token: e.pat})
	var view struct {
		Progress json.RawMessage `json:"progress"`
	}
	if err := json.Unmarshal(r.body, &view); err != nil {
		t.Fatal(err)
	}
	wantProgress := `{"kinds":{"domains":{"total":3,"done":2,"failed":1},"org":{"total":2,"done":1,"failed":1}},"unitsTotal":2,"unitsDone":2,"bytesTotal":"48","percent":100}`
	if string(view.Progress) != wantProgress {
		t.Errorf("progress:\n got %s\nwant %s", view.Progress, wantProgress)
	}
}

func TestJobs_Errors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, _ := e.submit(importBody, nil)
	e.finishJob(id, store.StatusCompletedWithErrors)
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("pagination does not end")
		}
		q := "?limit=1"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := e.do(req{method: "GET", path: "/jobs/" + id + "/errors" + q, token: e.pat})
		if r.status != 200 {
			t.Fatalf("errors page %d: %d %s", page, r.status, r.body)
		}
		var p struct {
			Errors     []map[string]string `json:"errors"`
			NextCursor string              `json:"nextCursor"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Errors {
			got = append(got, e["type"]+"/"+e["id"])
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff([]string{"domain/o1_bad", "org/o2"}, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	r := e.do(req{method: "GET", path: "/jobs/" + id + "/errors", token: e.pat})
	if !strings.Contains(string(r.body), `"errors":[{"type":"domain"`) || strings.Contains(string(r.body), "nextCursor") {
		t.Errorf("errors, one page: %s", r.body)
	}
	wantError(t, e.do(req{method: "GET", path: "/jobs/" + id + "/errors?cursor=bad!", token: e.pat}), 400, codeInvalidArgument, "cursor: ")
	wantError(t, e.do(req{method: "GET", path: "/jobs/" + id + "/errors?limit=-1", token: e.pat}), 400, codeInvalidArgument, "limit: ")
}

func TestImport_PreferWait(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)

	// Nobody works on the job: the answer after the wait is the usual 202.
	start := time.Now()
	r := e.do(req{method: "POST", path: "/import", token: e.pat, body: importBody, header: map[string]string{"Prefer": "respond-async, wait=1"}})
	if r.status != http.StatusAccepted || time.Since(start) < time.Second {
		t.Errorf("wait on an idle job: %d after %s: %s", r.status, time.Since(start), r.body)
	}

	// A "worker" finishes the next job while the request waits.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			tag, err := e.db.Exec(ctx, `UPDATE jobs SET status = 'succeeded', finished_at = now()
				WHERE instance_id = $1 AND status = 'queued' AND idempotency_key = 'wait-2'`, e.instanceID)
			if err != nil || tag.RowsAffected() > 0 {
				done <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		done <- ctx.Err()
	}()
	r = e.do(req{method: "POST", path: "/import", token: e.pat, body: importBody,
		header: map[string]string{"Prefer": "wait=30", "Idempotency-Key": "wait-2"}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK {
		t.Fatalf("wait on a job that ends: %d %s", r.status, r.body)
	}
	id := strings.TrimPrefix(r.header.Get("Location"), "/jobs/")
	if want := `{"jobId":"` + id + `","status":"succeeded","success":{}}` + "\n"; string(r.body) != want {
		t.Errorf("body = %s, want %s", r.body, want)
	}
}

func TestPreferWaitHeader(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want time.Duration
	}{
		{nil, 0},
		{[]string{"wait=5"}, 5 * time.Second},
		{[]string{"respond-async, wait=10"}, 10 * time.Second},
		{[]string{"handling=lenient", "Wait = 2"}, 2 * time.Second},
		{[]string{"wait=600"}, 60 * time.Second},
		{[]string{"wait=x"}, 0},
		{[]string{"wait=-3"}, 0},
	} {
		if got := preferWait(tc.in); got != tc.want {
			t.Errorf("preferWait(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
