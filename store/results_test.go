package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// resultSteps are steps of the result tests, independent of the registered
// kinds: their numbers are fixed and their lists cover every rendering rule.
var resultSteps = []Step{
	{Name: "org", Stage: StagePass1, Order: 1},                         // 101
	{Name: "domain_policy", Stage: StagePass1, Order: 2},               // 102, no list
	{Name: "domains", Stage: StagePass1, Order: 3, Success: "domains"}, // 103
	{Name: "human_users", Stage: StagePass1, Order: 13, Success: "humanUserIds"},
	{Name: "passwordless", Stage: StagePass1, Order: 30, Success: "passwordlessLinks", SuccessKeys: []string{"userId", "link"}},
	{Name: "user_links", Stage: StagePass1, Order: 17, Success: "userLinks", SuccessKeys: []string{"userId", "externalUserId", "displayName", "idpId"}},
	{Name: "projects", Stage: StagePass1, Order: 18, Success: "projectIds"},
	{Name: "trigger_actions", Stage: StagePass2, Order: 1, Success: "triggerActions", SuccessKeys: []string{"flowType", "triggerType", "actionIds[]"}},
	{Name: "project_grants", Stage: StagePass2, Order: 2, Success: "projectGrants", SuccessKeys: []string{"grantId", "projectId", "orgId"}},
	{Name: "org_members", Stage: StagePass3, Order: 1, Success: "orgMembers"},
}

// resultRow is one job_results row.
type resultRow struct {
	org, step, item, sub  int
	outcome, typ, id, msg string
	f                     [4]string
}

func rOK(org, step, item int, typ, id string, f ...string) resultRow {
	r := resultRow{org: org, step: step, item: item, outcome: "ok", typ: typ, id: id}
	copy(r.f[:], f)
	return r
}

func rFailed(org, step, item int, typ, id, msg string) resultRow {
	return resultRow{org: org, step: step, item: item, outcome: "error", typ: typ, id: id, msg: msg}
}

func rSkipped(org, step, item int, typ, id string) resultRow {
	return resultRow{org: org, step: step, item: item, outcome: "skipped", typ: typ, id: id}
}

// newResultJob creates an import job with its orgs (org id → present) and
// result rows, in status status.
func newResultJob(t testing.TB, s *Store, status string, orgs []SplitOrg, present []*bool, rows []resultRow) Job {
	t.Helper()
	ctx := context.Background()
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: "inst1", Caller: "system", Timeout: 10 * time.Second,
		SourceField: "dataOrgs", OnConflict: "FAIL", Payload: []byte(`{"orgs":[]}`)})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	for i, o := range orgs {
		if _, err := s.pool.Exec(ctx, `INSERT INTO job_orgs (job_id, org_index, org_id, present) VALUES ($1, $2, $3, $4)`,
			job.ID, o.Index, o.OrgID, present[i]); err != nil {
			t.Fatalf("insert org: %v", err)
		}
	}
	for _, r := range rows {
		if _, err := s.pool.Exec(ctx, `INSERT INTO job_results (job_id, org_index, step, item, sub, pass, outcome, type, id, message, f1, f2, f3, f4)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			job.ID, r.org, r.step, r.item, r.sub, Pass(r.step/100), r.outcome, r.typ, r.id,
			nullable(r.msg), nullable(r.f[0]), nullable(r.f[1]), nullable(r.f[2]), nullable(r.f[3])); err != nil {
			t.Fatalf("insert result: %v", err)
		}
	}
	if _, err := s.pool.Exec(ctx, `UPDATE jobs SET status = $2 WHERE id = $1`, job.ID, status); err != nil {
		t.Fatalf("set status: %v", err)
	}
	job, err = s.JobByID(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func ptr[T any](v T) *T { return &v }

// resultFixture is a job with three orgs: o1 created with successes of
// every shape, o2 that existed (an error, yet present: its data was
// imported), o3 that could not be created (left out of success).
func resultFixture(t testing.TB, s *Store, status string) Job {
	orgs := []SplitOrg{{0, "o1"}, {1, "o2"}, {2, "o3"}, {3, "o4"}}
	present := []*bool{ptr(true), ptr(true), ptr(false), ptr(true)}
	rows := []resultRow{
		rOK(0, 101, 0, "org", "o1"),
		rOK(0, 102, 0, "domain_policy", "o1"), // no list
		rOK(0, 103, 1, "domain", "b.example.com"),
		rOK(0, 103, 0, "domain", "a.example.com"),
		rFailed(0, 103, 2, "domain", "o1_bad", "ID=ORG-R24hb Message=Errors.Org.InvalidDomain"),
		rOK(0, 113, 0, "human_user", "u1"),
		rOK(0, 113, 1, "human_user", `u"2\`),
		rOK(0, 117, 0, "user_link", "u1_idp1", "u1", "ext-1", "", "idp1"),
		rOK(0, 118, 0, "project", "p1"),
		rOK(0, 130, 0, "passwordless", "u1", "u1", "https://example.com/link"),
		rOK(0, 201, 0, "trigger_action", "1_2", "FLOW_TYPE_EXTERNAL_AUTHENTICATION", "TRIGGER_TYPE_POST_AUTHENTICATION", `["a1","a2"]`),
		rOK(0, 201, 1, "trigger_action", "1_3", "1", "3", `[]`),
		rOK(0, 202, 0, "project_grant", "o1_p1_o2", "g1", "p1", "o2"),
		rFailed(0, 202, 1, "project_grant", "o1_p1_o3", "ID=PROJECT-3M9sd Message=Errors.Org.NotFound (org o3)"),
		rOK(0, 401, 0, "org_member", "u1"),
		rSkipped(0, 401, 1, "org_member", "o1_u9"),
		rFailed(1, 101, 0, "org", "o2", "ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting"),
		rOK(1, 113, 0, "human_user", "u3"),
		rFailed(2, 101, 0, "org", "o3", "ID=ORG-4nd8s Message=Errors.Org.Invalid"),
		rSkipped(3, 101, 0, "org", "o4"),
	}
	return newResultJob(t, s, status, orgs, present, rows)
}

const fixtureErrors = `"errors":[` +
	`{"type":"domain","id":"o1_bad","message":"ID=ORG-R24hb Message=Errors.Org.InvalidDomain"},` +
	`{"type":"org","id":"o2","message":"ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting"},` +
	`{"type":"org","id":"o3","message":"ID=ORG-4nd8s Message=Errors.Org.Invalid"},` +
	`{"type":"project_grant","id":"o1_p1_o3","message":"ID=PROJECT-3M9sd Message=Errors.Org.NotFound (org o3)"}]`

var fixtureOrgs = []string{
	`{"orgId":"o1","projectIds":["p1"],"humanUserIds":["u1","u\"2\\"],` +
		`"triggerActions":[{"flowType":"FLOW_TYPE_EXTERNAL_AUTHENTICATION","triggerType":"TRIGGER_TYPE_POST_AUTHENTICATION","actionIds":["a1","a2"]},{"flowType":"1","triggerType":"3"}],` +
		`"projectGrants":[{"grantId":"g1","projectId":"p1","orgId":"o2"}],` +
		`"orgMembers":["u1"],` +
		`"userLinks":[{"userId":"u1","externalUserId":"ext-1","idpId":"idp1"}],` +
		`"domains":["a.example.com","b.example.com"],` +
		`"passwordlessLinks":[{"userId":"u1","link":"https://example.com/link"}]}`,
	`{"orgId":"o2","humanUserIds":["u3"]}`,
	`{"orgId":"o4"}`,
}

const fixtureSkipped = `"skipped":[{"type":"org","id":"o4"},{"type":"org_member","id":"o1_u9"}]`

func TestStore_WriteResult(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	plan := newSuccessPlan(resultSteps)
	job := resultFixture(t, s, StatusCompletedWithErrors)

	var buf bytes.Buffer
	if err := s.writeResult(ctx, &buf, job, formatJSON, plan); err != nil {
		t.Fatal(err)
	}
	want := `{"jobId":"` + job.ID + `","status":"completed_with_errors",` + fixtureErrors +
		`,"success":{"orgs":[` + strings.Join(fixtureOrgs, ",") + `]},` + fixtureSkipped + "}\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if !json.Valid(buf.Bytes()) {
		t.Error("result is not valid JSON")
	}

	buf.Reset()
	if err := s.writeResult(ctx, &buf, job, formatNDJSON, plan); err != nil {
		t.Fatal(err)
	}
	var wantLines []string
	var errs []json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimPrefix(fixtureErrors, `"errors":`)), &errs); err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		wantLines = append(wantLines, `{"error":`+string(e)+`}`)
	}
	for _, o := range fixtureOrgs {
		wantLines = append(wantLines, `{"org":`+o+`}`)
	}
	wantLines = append(wantLines, `{"skipped":{"type":"org","id":"o4"}}`, `{"skipped":{"type":"org_member","id":"o1_u9"}}`,
		`{"jobId":"`+job.ID+`","status":"completed_with_errors"}`)
	if diff := cmp.Diff(strings.Join(wantLines, "\n")+"\n", buf.String()); diff != "" {
		t.Errorf("ndjson (-want +got):\n%s", diff)
	}
}

func TestStore_WriteResultStatus(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	for _, tc := range []struct {
		status, errMsg string
		stage          int
		want           string
	}{
		{StatusQueued, "", 0, `{"jobId":"%s","status":"queued","success":{}}`},
		{StatusFailed, "source is not JSON at byte 3", 0, `{"jobId":"%s","status":"failed","message":"source is not JSON at byte 3","success":{}}`},
		{StatusTimedOut, "", 2, `{"jobId":"%s","status":"timed_out","message":"deadline of 10s exceeded; 7 entities not attempted","success":{}}`},
		{StatusCanceled, "", 2, `{"jobId":"%s","status":"canceled","message":"job was canceled; 7 entities not attempted","success":{}}`},
		{StatusTimedOut, "", 0, `{"jobId":"%s","status":"timed_out","message":"deadline of 10s exceeded before the data was split; nothing was imported","success":{}}`},
	} {
		t.Run(fmt.Sprintf("%s stage %d", tc.status, tc.stage), func(t *testing.T) {
			job := newResultJob(t, s, tc.status, nil, nil, nil)
			// 10 entities, 3 with an outcome.
			if _, err := s.pool.Exec(ctx, `UPDATE jobs SET error = nullif($2, ''), totals = '{"org": 2, "human_users": 8}', stage = $3
				WHERE id = $1`, job.ID, tc.errMsg, tc.stage); err != nil {
				t.Fatal(err)
			}
			if _, err := s.pool.Exec(ctx, `INSERT INTO job_units (job_id, stage, org_index, seq, steps, src_start, src_end, done, counts) VALUES
				($1, 1, 0, 0, '{org}', 0, 1, true, '{"org": {"done": 1}, "human_users": {"failed": 1, "skipped": 1}}'),
				($1, 1, 1, 0, '{org}', 0, 1, false, '{}')`, job.ID); err != nil {
				t.Fatal(err)
			}
			job, err := s.JobByID(ctx, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := s.WriteResult(ctx, &buf, job); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fmt.Sprintf(tc.want, job.ID)+"\n", buf.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestStore_WriteResultRegistered renders with the registered steps.
func TestStore_WriteResultRegistered(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	var org, domains int
	for _, st := range Steps() {
		switch st.Name {
		case "org":
			org = st.number()
		case "domains":
			domains = st.number()
		}
	}
	if org == 0 || domains == 0 {
		t.Fatal("org and domains steps are not registered")
	}
	job := newResultJob(t, s, StatusSucceeded, []SplitOrg{{0, "o1"}}, []*bool{ptr(true)},
		[]resultRow{rOK(0, org, 0, "org", "o1"), rOK(0, domains, 0, "domain", "d.example.com")})
	var buf bytes.Buffer
	if err := s.WriteResult(context.Background(), &buf, job); err != nil {
		t.Fatal(err)
	}
	want := `{"jobId":"` + job.ID + `","status":"succeeded","success":{"orgs":[{"orgId":"o1","domains":["d.example.com"]}]}}` + "\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// countingWriter counts the writes that reach it and fails after failAfter bytes.
type countingWriter struct {
	buf       bytes.Buffer
	writes    int
	failAfter int
}

var errClientGone = errors.New("client gone")

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.failAfter > 0 && w.buf.Len()+len(p) > w.failAfter {
		return 0, errClientGone
	}
	w.writes++
	return w.buf.Write(p)
}

func TestStore_WriteResultStreams(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	job := newResultJob(t, s, StatusSucceeded, []SplitOrg{{0, "o1"}, {1, "o2"}}, []*bool{ptr(true), ptr(true)}, nil)
	const n = 30000
	if _, err := s.pool.Exec(ctx, `INSERT INTO job_results (job_id, org_index, step, item, sub, pass, outcome, type, id)
		SELECT $1, i % 2, CASE WHEN i % 3 = 0 THEN 103 ELSE 113 END, i, 0, 1, 'ok', 't', 'id-' || i
		FROM generate_series(0, $2 - 1) i`, job.ID, n); err != nil {
		t.Fatal(err)
	}
	plan := newSuccessPlan(resultSteps)
	w := &countingWriter{}
	if err := s.writeResult(ctx, w, job, formatJSON, plan); err != nil {
		t.Fatal(err)
	}
	if w.writes < w.buf.Len()/(32<<10) || w.writes < 5 {
		t.Errorf("%d bytes came in %d writes: not streamed", w.buf.Len(), w.writes)
	}
	var got struct {
		Success struct {
			Orgs []struct {
				OrgID        string   `json:"orgId"`
				HumanUserIDs []string `json:"humanUserIds"`
				Domains      []string `json:"domains"`
			} `json:"orgs"`
		} `json:"success"`
	}
	if err := json.Unmarshal(w.buf.Bytes(), &got); err != nil {
		t.Fatalf("result is not JSON: %v", err)
	}
	total := 0
	for i, o := range got.Success.Orgs {
		total += len(o.HumanUserIDs) + len(o.Domains)
		if o.HumanUserIDs[0] != fmt.Sprintf("id-%d", []int{2, 1}[i]) || o.Domains[0] != fmt.Sprintf("id-%d", []int{0, 3}[i]) {
			t.Errorf("org %s starts with %s, %s", o.OrgID, o.HumanUserIDs[0], o.Domains[0])
		}
	}
	if total != n || len(got.Success.Orgs) != 2 {
		t.Errorf("%d orgs, %d entries, want 2, %d", len(got.Success.Orgs), total, n)
	}

	// A client that goes away ends the rendering with an error.
	w = &countingWriter{failAfter: 100 << 10}
	if err := s.writeResult(ctx, w, job, formatNDJSON, plan); !errors.Is(err, errClientGone) {
		t.Errorf("err = %v, want %v", err, errClientGone)
	}
}

func TestStore_Progress(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	job := newResultJob(t, s, StatusRunning, nil, nil, nil)
	if _, err := s.pool.Exec(ctx, `UPDATE jobs SET totals = '{"org": 2, "human_users": 8, "projects": 1}' WHERE id = $1`, job.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO job_units (job_id, stage, org_index, seq, steps, src_start, src_end, done, counts) VALUES
		($1, 1, 0, 0, '{org,human_users}', 0, 1, true, '{"org": {"done": 1}, "human_users": {"done": 3, "failed": 1}}'),
		($1, 1, 0, 1, '{human_users}', 0, 1, true, '{"human_users": {"done": 2, "skipped": 1}, "extra": {"done": 1}}'),
		($1, 1, 1, 0, '{org,human_users}', 0, 1, false, '{}')`, job.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Progress(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := Progress{
		Kinds: map[string]KindProgress{
			"org":         {Total: 2, Done: 1},
			"human_users": {Total: 8, Done: 5, Failed: 1, Skipped: 1},
			"projects":    {Total: 1},
			"extra":       {Done: 1},
		},
		UnitsTotal: 3, UnitsDone: 2, BytesTotal: int64(len(`{"orgs":[]}`)), Percent: 66.6,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("running (-want +got):\n%s", diff)
	}
	if n := got.NotAttempted(); n != 3 {
		t.Errorf("NotAttempted = %d, want 3", n) // 11 counted, 9 with an outcome, the extra kind has no total
	}

	for status, want := range map[string]float64{StatusTimedOut: 66.6, StatusCanceled: 66.6, StatusCompletedWithErrors: 100} {
		if _, err := s.pool.Exec(ctx, `UPDATE jobs SET status = $2 WHERE id = $1`, job.ID, status); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Progress(ctx, job.ID); got.Percent != want {
			t.Errorf("percent of a %s job = %v, want %v", status, got.Percent, want)
		}
	}
	for _, id := range []string{"7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00", "not-a-uuid"} {
		if _, err := s.Progress(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Progress(%s): err = %v, want ErrNotFound", id, err)
		}
	}
}

func TestStore_Errors(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	job := resultFixture(t, s, StatusCompletedWithErrors)
	var all []json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimPrefix(fixtureErrors, `"errors":`)), &all); err != nil {
		t.Fatal(err)
	}
	var want []EntityError
	for _, raw := range all {
		var e EntityError
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}

	for _, limit := range []int{1, 3, 4, 0} {
		var got []EntityError
		cursor, pages := "", 0
		for {
			page, err := s.Errors(ctx, job.ID, cursor, limit)
			if err != nil {
				t.Fatalf("limit %d: %v", limit, err)
			}
			got = append(got, page.Errors...)
			pages++
			if cursor = page.Next; cursor == "" {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("limit %d (-want +got):\n%s", limit, diff)
		}
		if wantPages := map[int]int{1: 4, 3: 2, 4: 1, 0: 1}[limit]; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}

	for _, c := range []string{"x", "!!!", encodeErrorCursor([5]int64{1, 2, 3, 4, 5})[:6], "ZTEuMS4y", "ZTEuLTEuMC4wLjAuMA"} {
		if _, err := s.Errors(ctx, job.ID, c, 10); !errors.Is(err, ErrInvalid) {
			t.Errorf("cursor %q: err = %v, want ErrInvalid", c, err)
		}
	}
	if page, err := s.Errors(ctx, "7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00", "", 10); err != nil || len(page.Errors) != 0 {
		t.Errorf("errors of an unknown job: %v %v", page, err)
	}
	if _, err := s.Errors(ctx, "nope", "", 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("malformed job id: err = %v", err)
	}
}

// BenchmarkStore_WriteResult renders the result of a job with 100 orgs of
// 2,000 successes each and reports entities per second.
func BenchmarkStore_WriteResult(b *testing.B) {
	s := newTestStore(b)
	ctx := context.Background()
	const orgs, perOrg = 100, 2000
	var split []SplitOrg
	var present []*bool
	for i := range orgs {
		split = append(split, SplitOrg{i, fmt.Sprintf("org-%d", i)})
		present = append(present, ptr(true))
	}
	job := newResultJob(b, s, StatusSucceeded, split, present, nil)
	if _, err := s.pool.Exec(ctx, `INSERT INTO job_results (job_id, org_index, step, item, sub, pass, outcome, type, id, f1, f2)
		SELECT $1, o, st, i, 0, st / 100, 'ok', 't', 'id-' || i, 'p-' || i, 'u-' || i
		FROM generate_series(0, $2 - 1) o, unnest(ARRAY[113, 202, 401]) st, generate_series(0, $3 - 1) i`,
		job.ID, orgs, perOrg/3); err != nil {
		b.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE job_results`); err != nil {
		b.Fatal(err)
	}
	plan := newSuccessPlan(resultSteps)
	b.ResetTimer()
	for range b.N {
		if err := s.writeResult(ctx, io.Discard, job, formatJSON, plan); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(orgs*(perOrg/3)*3*b.N)/b.Elapsed().Seconds(), "entities/s")
}

func TestStore_Progresses(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	done := newResultJob(t, s, StatusSucceeded, nil, nil, nil)
	running := newResultJob(t, s, StatusRunning, nil, nil, nil)
	if _, err := s.pool.Exec(ctx, `UPDATE jobs SET totals = '{"org": 2}' WHERE id = $1`, running.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Progresses(ctx, []string{done.ID, running.ID, "not-a-uuid", "7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Progress{
		done.ID:    {Kinds: map[string]KindProgress{}, BytesTotal: int64(len(`{"orgs":[]}`)), Percent: 100},
		running.ID: {Kinds: map[string]KindProgress{"org": {Total: 2}}, BytesTotal: int64(len(`{"orgs":[]}`))},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Progresses (-want +got):\n%s", diff)
	}
	for id, p := range got {
		if one, err := s.Progress(ctx, id); err != nil || !cmp.Equal(one, p) {
			t.Errorf("Progress(%s) = %+v, %v; Progresses gave %+v", id, one, err, p)
		}
	}
}
