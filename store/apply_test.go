package store

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/internal/testdb"
)

// The tests of this file check how a unit ends: refused data, bytes that do
// not decode, a job that ends meanwhile, unsupported members, the payload
// of ended jobs and when passwords are hashed.

// startPayloadJob creates and starts an import job with payload as its
// stored payload and one unit per org that applies the org step; it returns
// the bytes of each unit too.
func startPayloadJob(t testing.TB, s *Store, payload string) (Job, []Unit, [][]byte) {
	t.Helper()
	ctx := context.Background()
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test",
		OnConflict: importdata.OnConflictFail, Timeout: time.Hour, Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	if job, err = s.StartJob(ctx, job.ID, 0); err != nil {
		t.Fatalf("start job: %v", err)
	}
	split, orgs := kindsDecode(t, payload)
	var units []Unit
	for _, o := range split {
		units = append(units, Unit{JobID: job.ID, Stage: StagePass1, OrgIndex: o.Index, Steps: []string{"org"},
			SrcEnd: int64(len(payload))})
	}
	if err := s.SaveSplit(ctx, job.ID, split, units, map[string]int{}, nil); err != nil {
		t.Fatalf("save split: %v", err)
	}
	return job, units, orgs
}

// jobStatus returns the status and error of job id.
func jobStatus(t testing.TB, s *Store, id string) (string, string) {
	t.Helper()
	j, err := s.JobByID(context.Background(), id)
	if err != nil {
		t.Fatalf("load job: %v", err)
	}
	return j.Status, j.Error
}

func TestApplyUnit_RejectedData(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`)
	r := startKindsJob(t, s, importdata.OnConflictFail, split, []Unit{{Stage: StagePass1, Steps: []string{"org"}}}, orgs)
	// A result row that nothing foresaw: the database refuses the unit's own.
	if _, err := s.pool.Exec(ctx, `INSERT INTO job_results (job_id, org_index, step, item, sub, pass, outcome, type, id)
		VALUES ($1, 0, $2, 0, 0, 1, 'ok', 'org', 'o1')`, r.job.ID, registry["org"].number()); err != nil {
		t.Fatal(err)
	}

	_, err := s.ApplyUnit(ctx, r.job, r.units[0], r.data[0], kindsOpts)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("ApplyUnit = %v, want ErrRejected", err)
	}
	want := `orgs[0] (org "o1"), stage 1 unit 0, saving its results: the database rejected the data: ` +
		`duplicate key value violates unique constraint "job_results_pkey" (SQLSTATE 23505)`
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
	checkKindsRows(t, s, []kindsRowCheck{{`SELECT id FROM orgs`, [][]string{}}})
}

func TestSaveSplit_RejectedData(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	job, _, err := s.CreateJob(context.Background(), NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	err = s.SaveSplit(context.Background(), job.ID, []SplitOrg{{0, "o\x00"}}, nil, map[string]int{}, nil)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "(SQLSTATE 22021)") {
		t.Errorf("SaveSplit = %v, want ErrRejected with SQLSTATE 22021", err)
	}
}

func TestStore_CreateInstanceRejected(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	job := newInstanceJob(t, st, []byte("sealed request"))
	p, _ := buildPlan(t, machineRequest)
	p.Name = "Acme\x00"
	err := st.CreateInstance(context.Background(), job.ID, p, []byte("sealed result"))
	if !errors.Is(err, ErrRejected) || !strings.HasPrefix(err.Error(), "the database rejected the instance: ") {
		t.Fatalf("CreateInstance = %v, want ErrRejected", err)
	}
	if n := countAll(t, st, "instances"); n != 0 {
		t.Errorf("%d instances written", n)
	}
}

func TestApplyUnit_DecodeErrorOfLaterStage(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	// projectGrants is not an array: the units of pass 1 decode, those of
	// pass 2 do not. o2 can be neither created nor found: its data is skipped.
	o1 := []byte(`{"orgId": "o1", "org": {"name": "Org One"}, "projectGrants": 5}`)
	o2 := []byte(`{"orgId": "o2", "projectGrants": 5}`)
	r := startKindsJob(t, s, importdata.OnConflictFail, []SplitOrg{{0, "o1"}, {1, "o2"}}, []Unit{
		{Stage: StagePass1, OrgIndex: 0, Steps: []string{"org"}},
		{Stage: StagePass1, OrgIndex: 1, Steps: []string{"org"}},
		{Stage: StagePass2, OrgIndex: 0, Steps: []string{"project_grants"}},
		{Stage: StagePass2, OrgIndex: 1, Steps: []string{"project_grants"}},
	}, [][]byte{o1, o2, o1, o2})
	r.applyAll(t, s)
	checkResults(t, []kindsResult{
		resFailed(0, "project_grants", 0, "project_grant", "o1", "invalid org data: orgs[0].projectGrants: expected an array, got number"),
	}, kindsResults(t, s, r.job.ID))
	if status, _ := jobStatus(t, s, r.job.ID); status != StatusCompletedWithErrors {
		t.Errorf("job status = %q, want %q", status, StatusCompletedWithErrors)
	}
}

func TestApplyUnit_JobEndedMeanwhile(t *testing.T) {
	t.Parallel()
	const payload = `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`
	check := func(t *testing.T, s *Store, job Job, res ApplyResult) {
		t.Helper()
		if diff := cmp.Diff(ApplyResult{JobEnded: true}, res); diff != "" {
			t.Errorf("ApplyUnit (-want +got):\n%s", diff)
		}
		checkKindsRows(t, s, []kindsRowCheck{
			{`SELECT id FROM orgs`, [][]string{}},
			{`SELECT count(*) FROM job_results`, [][]string{{"0"}}},
			{`SELECT u.done, j.stage FROM job_units u JOIN jobs j ON j.id = u.job_id`, [][]string{{"false", "1"}}},
		})
		if status, _ := jobStatus(t, s, job.ID); status != StatusCanceled {
			t.Errorf("job status = %q, want canceled", status)
		}
	}

	t.Run("before the unit", func(t *testing.T) {
		t.Parallel()
		s := newKindsStore(t)
		job, units, raw := startPayloadJob(t, s, payload)
		if _, err := s.CancelJob(context.Background(), job.ID, Scope{System: true}); err != nil {
			t.Fatal(err)
		}
		res, err := s.ApplyUnit(context.Background(), job, units[0], raw[0], kindsOpts)
		if err != nil {
			t.Fatalf("ApplyUnit: %v", err)
		}
		check(t, s, job, res)
	})

	t.Run("while the unit runs", func(t *testing.T) {
		t.Parallel()
		s := newKindsStore(t)
		ctx := context.Background()
		job, units, raw := startPayloadJob(t, s, payload)
		// The cancellation holds the job row until the unit has done its
		// work and waits for the row.
		cancel, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer cancel.Rollback(ctx) //nolint:errcheck
		if _, err := cancel.Exec(ctx, `UPDATE jobs SET status = 'canceled', finished_at = now() WHERE id = $1`, job.ID); err != nil {
			t.Fatal(err)
		}
		type applied struct {
			res ApplyResult
			err error
		}
		done := make(chan applied, 1)
		go func() {
			res, err := s.ApplyUnit(ctx, job, units[0], raw[0], kindsOpts)
			done <- applied{res, err}
		}()
		waitForLockWait(t, s)
		if err := cancel.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		got := <-done
		if got.err != nil {
			t.Fatalf("ApplyUnit: %v", got.err)
		}
		check(t, s, job, got.res)
	})
}

// waitForLockWait waits until a session of the store's database waits for
// a lock.
func waitForLockWait(t testing.TB, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		var n int
		if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no session waits for a lock")
}

func TestStore_EndedJobLosesPayload(t *testing.T) {
	t.Parallel()
	const payload = `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`
	ctx := context.Background()
	for _, tc := range []struct {
		name, status string
		end          func(t *testing.T, s *Store, job Job, u Unit, raw []byte)
	}{
		{"succeeded", StatusSucceeded, func(t *testing.T, s *Store, job Job, u Unit, raw []byte) {
			if _, err := s.ApplyUnit(ctx, job, u, raw, kindsOpts); err != nil {
				t.Fatal(err)
			}
		}},
		{"timed out by its unit", StatusTimedOut, func(t *testing.T, s *Store, job Job, u Unit, raw []byte) {
			past := time.Now().Add(-time.Second)
			job.Deadline = &past
			if _, err := s.ApplyUnit(ctx, job, u, raw, kindsOpts); err != nil {
				t.Fatal(err)
			}
		}},
		{"timed out", StatusTimedOut, func(t *testing.T, s *Store, job Job, _ Unit, _ []byte) {
			if _, err := s.pool.Exec(ctx, `UPDATE jobs SET deadline = now() - interval '1 second' WHERE id = $1`, job.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.TimeOutJob(ctx, job.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"failed", StatusFailed, func(t *testing.T, s *Store, job Job, _ Unit, _ []byte) {
			if err := s.FailJob(ctx, job.ID, "broken"); err != nil {
				t.Fatal(err)
			}
		}},
		{"canceled", StatusCanceled, func(t *testing.T, s *Store, job Job, _ Unit, _ []byte) {
			if _, err := s.CancelJob(ctx, job.ID, Scope{InstanceID: kindsInstance}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newKindsStore(t)
			job, units, raw := startPayloadJob(t, s, payload)
			if _, err := s.PayloadRange(ctx, job.ID, 0, 8); err != nil {
				t.Fatalf("payload of the running job: %v", err)
			}
			tc.end(t, s, job, units[0], raw[0])
			if status, _ := jobStatus(t, s, job.ID); status != tc.status {
				t.Fatalf("job status = %q, want %q", status, tc.status)
			}
			if _, err := s.PayloadRange(ctx, job.ID, 0, 8); !errors.Is(err, ErrNotFound) {
				t.Errorf("payload of the ended job: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestApplyUnit_UnsupportedMembers(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	user := `"profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "%s@x.example"}`
	r := kindsImport(t, s, kindsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "domain_policy": {"userLoginMustBeDomain": true},
	 "labelPolicy": {},
	 "loginTexts": [{"language": "de"}, {"language": "en"}],
	 "initMessages": [],
	 "iamPolicy": {"orgId": "o1", "userLoginMustBeDomain": true},
	 "humanUsers": [
		{"userId": "h1", "user": {"userName": "alice", `+strings.ReplaceAll(user, "%s", "a")+`}},
		{"userId": "h2", "user": {"userName": "bob", `+strings.ReplaceAll(user, "%s", "b")+`, "idps": [],
			"requestPasswordlessRegistration": false}}],
	 "projects": [{"projectId": "p1", "project": {"name": "One"}}]},
	{"orgId": "o2", "domainPolicy": {}}
	]}`)
	item := func(member string) int {
		for i, m := range unsupportedMembers {
			if m.member == member {
				return i
			}
		}
		t.Fatalf("%s is not in unsupportedMembers", member)
		return 0
	}
	unsupported := func(member string, sub int, typ, id, path string) kindsResult {
		return kindsResult{Org: 0, Step: "unsupported", Item: item(member), Sub: sub, Outcome: "error", Type: typ, ID: id,
			Msg: path + " is not supported by zimport yet"}
	}
	checkResults(t, []kindsResult{
		resOK(0, "human_users", 0, "human_user", "h1"),
		resOK(0, "human_users", 1, "human_user", "h2"),
		resOK(0, "projects", 0, "project", "p1"),
		unsupported("iamPolicy", 0, "domain_policy", "o1", "orgs[0].iamPolicy"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id FROM users ORDER BY id`, [][]string{{"h1"}, {"h2"}}},
		{`SELECT id FROM projects`, [][]string{{"p1"}}},
	})
	if status, _ := jobStatus(t, s, r.job.ID); status != StatusCompletedWithErrors {
		t.Errorf("job status = %q, want %q", status, StatusCompletedWithErrors)
	}
	p, err := s.Progress(context.Background(), r.job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(KindProgress{Failed: 1}, p.Kinds["unsupported"]); diff != "" {
		t.Errorf("progress of unsupported (-want +got):\n%s", diff)
	}
}

func TestSteps_UnsupportedMembersHaveNoStep(t *testing.T) {
	read := map[string]string{}
	for _, st := range Steps() {
		for _, f := range st.Fields {
			if st.Name != "unsupported" {
				read[f] = st.Name
			}
		}
	}
	for _, m := range unsupportedMembers {
		if step, ok := read[m.member]; ok {
			t.Errorf("%s is imported by step %s: remove it from unsupportedMembers", m.member, step)
		}
	}
}

// lockUnitRows locks the rows of a job's units without waiting, in a
// transaction of its own: it fails while a unit's transaction is open, as
// the unit's row is the first that transaction locks.
func lockUnitRows(ctx context.Context, s *Store, jobID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT 1 FROM job_units WHERE job_id = $1 FOR UPDATE NOWAIT`, jobID)
		return err
	})
}

func TestApplyUnit_HashesOutsideTransaction(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	kindsImport(t, s, kindsStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"humanUsers": [{"userId": "h9", "user": {"userName": "old", "profile": {"firstName": "O", "lastName": "O"},
			"email": {"email": "o@x.example"}, "hashedPassword": {"value": "`+bcryptOfPassword+`"}}}]}]}`)
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1",
		"humanUsers": [
			{"userId": "h1", "user": {"userName": "a", "profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "a@x.example"}, "password": "Passw0rd!a"}},
			{"userId": "h9", "user": {"userName": "o2", "profile": {"firstName": "O", "lastName": "O"}, "email": {"email": "o@x.example"}, "password": "Passw0rd!o"}},
			{"userId": "h2", "user": {"userName": "b", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "b@x.example"}, "password": "Passw0rd!b"}}]}]}`)
	r := startKindsJob(t, s, importdata.OnConflictFail, split, []Unit{{Stage: StagePass1, Steps: []string{"org", "human_users"}}}, orgs)

	var mu sync.Mutex
	var hashed []string
	opts := kindsOpts
	opts.hash = func(pw []byte, cost int) ([]byte, error) {
		if err := lockUnitRows(ctx, s, r.job.ID); err != nil {
			t.Errorf("hashing %q while the unit's transaction holds its row: %v", pw, err)
		}
		mu.Lock()
		hashed = append(hashed, string(pw))
		mu.Unlock()
		return bcrypt.GenerateFromPassword(pw, cost)
	}
	if _, err := s.ApplyUnit(ctx, r.job, r.units[0], r.data[0], opts); err != nil {
		t.Fatal(err)
	}
	slices.Sort(hashed)
	if diff := cmp.Diff([]string{"Passw0rd!a", "Passw0rd!b"}, hashed); diff != "" {
		t.Errorf("hashed passwords (-want +got):\n%s", diff)
	}
	var hash string
	if err := s.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = 'h2'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("Passw0rd!b")) != nil {
		t.Errorf("hash of h2 does not match its password")
	}
}

func TestOpen_MaxConns(t *testing.T) {
	t.Parallel()
	st, err := Open(context.Background(), os.Getenv(testdb.URLEnv), WithMaxConns(3))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.pool.Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d, want 3", got)
	}
}
