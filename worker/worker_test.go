package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap/zaptest"

	"github.com/zimport/zimport/instance"
	"github.com/zimport/zimport/seal"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

const oneOrg = `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`

// orgUnit is the task of the first unit of the only org of a job.
func orgUnit(jobID string) *asynq.Task {
	return tasks.NewImportUnitTask(tasks.UnitPayload{JobID: jobID, Stage: store.StagePass1})
}

// checkFailed checks that err is not retried and that the job failed with
// a message holding each of want, and kept no payload.
func checkFailed(t *testing.T, e *testEnv, jobID string, err error, want ...string) {
	t.Helper()
	if !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("handler = %v, want an error that is not retried", err)
	}
	j := e.job(t, jobID)
	if j.Status != store.StatusFailed {
		t.Fatalf("job status = %q, want failed", j.Status)
	}
	for _, w := range want {
		if !strings.Contains(j.Error, w) {
			t.Errorf("job error %q does not say %q", j.Error, w)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM job_payloads WHERE job_id = $1`, jobID); n != 0 {
		t.Errorf("the failed job kept its payload")
	}
}

func TestUnit_RejectedDataFailsJob(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	job := e.submit(t, oneOrg)
	if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
		t.Fatalf("split: %v", err)
	}
	// A result row that nothing foresaw: the database refuses the unit's
	// own, every time the unit runs.
	e.exec(t, `INSERT INTO job_results (job_id, org_index, step, item, sub, pass, outcome, type, id)
		VALUES ($1, 0, 101, 0, 0, 1, 'ok', 'org', 'o1')`, job.ID)

	err := e.w.unit(ctx, orgUnit(job.ID))
	checkFailed(t, e, job.ID, err, `orgs[0] (org "o1")`, "(SQLSTATE 23505)")
	if n := e.count(t, `SELECT count(*) FROM orgs`); n != 0 {
		t.Errorf("%d orgs written", n)
	}
}

// TestSplit_OrgIDWithNULFailsJob: an org id PostgreSQL cannot store (the
// API refuses it in inline data; a file can hold it) fails the job at the
// split, before anything is written, and the task is done.
func TestSplit_OrgIDWithNULFailsJob(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	job := e.submit(t, `{"orgs": [{"orgId": "o\u0000", "org": {"name": "Org One"}}]}`)
	if err := e.w.split(context.Background(), tasks.NewImportSplitTask(job.ID)); err != nil {
		t.Errorf("split = %v, want nil: the job has failed, nothing to retry", err)
	}
	j := e.job(t, job.ID)
	if want := `the import data is not usable: orgs[0].orgId: must not contain the NUL character`; j.Status != store.StatusFailed || !strings.HasPrefix(j.Error, want) {
		t.Errorf("job %s %q, want failed %q", j.Status, j.Error, want)
	}
	if n := e.count(t, `SELECT count(*) FROM job_units WHERE job_id = $1`, job.ID); n != 0 {
		t.Errorf("the split recorded %d units", n)
	}
}

func TestUnit_PayloadGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("job ended", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		job := e.submit(t, oneOrg)
		if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
			t.Fatalf("split: %v", err)
		}
		if _, err := e.st.CancelJob(ctx, job.ID, store.Scope{System: true}); err != nil {
			t.Fatal(err)
		}
		// A unit that loaded the job before the cancellation finds no payload.
		_, err := e.st.PayloadRange(ctx, job.ID, 0, 10)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("PayloadRange of a canceled job = %v, want ErrNotFound", err)
		}
		if err := e.w.payloadGone(ctx, job.ID, err); err != nil {
			t.Errorf("payloadGone = %v, want nil", err)
		}
		if err := e.w.unit(ctx, orgUnit(job.ID)); err != nil {
			t.Errorf("unit of a canceled job = %v, want nil", err)
		}
		if n := e.count(t, `SELECT count(*) FROM job_units WHERE done`); n != 0 {
			t.Errorf("%d units done after the cancellation", n)
		}
	})

	t.Run("job running", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		job := e.submit(t, oneOrg)
		if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
			t.Fatalf("split: %v", err)
		}
		e.exec(t, `DELETE FROM job_payloads WHERE job_id = $1`, job.ID)
		err := e.w.unit(ctx, orgUnit(job.ID))
		checkFailed(t, e, job.ID, err, "the import data is no longer stored")
	})
}

func TestCreateInstance_PastDeadline(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	box, err := seal.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := e.st.CreateJob(ctx, store.NewJob{Kind: store.KindCreateInstance, Caller: "system", Timeout: time.Minute,
		RequestSealed: box.Seal([]byte(`{"instanceName": "Acme", "machine": {"userName": "importer", "name": "Importer"}}`))})
	if err != nil {
		t.Fatal(err)
	}
	// Started long ago and retried ever since.
	e.exec(t, `UPDATE jobs SET status = 'running', started_at = now() - interval '2 minutes',
		deadline = now() - interval '1 minute' WHERE id = $1`, job.ID)
	h := CreateInstanceHandler(e.st, box, instance.BuildConfig{ExternalDomain: "zimport.test", BcryptCost: 4}, zaptest.NewLogger(t))
	if err := h.ProcessTask(ctx, tasks.NewInstanceCreateTask(job.ID)); err != nil {
		t.Fatalf("handler: %v", err)
	}
	if j := e.job(t, job.ID); j.Status != store.StatusTimedOut {
		t.Errorf("job status = %q, want timed_out", j.Status)
	}
	if n := e.count(t, `SELECT count(*) FROM instances`); n != 1 {
		t.Errorf("%d instances, want only inst1", n)
	}
}

func TestReconcile_EndsJobsPastDeadlineAndEnqueuesInstanceJobs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	newJob := func(kind string) store.Job {
		nj := store.NewJob{Kind: kind, Caller: "system", Timeout: time.Minute}
		if kind == store.KindImport {
			nj.InstanceID, nj.Payload = "inst1", []byte(oneOrg)
		}
		j, _, err := e.st.CreateJob(ctx, nj)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	queued := newJob(store.KindCreateInstance)
	late := []store.Job{newJob(store.KindCreateInstance), newJob(store.KindImport)}
	for _, j := range late {
		e.exec(t, `UPDATE jobs SET status = 'running', deadline = now() - interval '1 second' WHERE id = $1`, j.ID)
	}

	if err := e.w.reconcileOnce(ctx, 0); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	for _, j := range late {
		if got := e.job(t, j.ID).Status; got != store.StatusTimedOut {
			t.Errorf("%s job past its deadline is %q, want timed_out", j.Kind, got)
		}
	}
	insp := asynq.NewInspector(e.rdb)
	defer insp.Close()
	info, err := insp.GetTaskInfo(tasks.SystemQueue, "instance:"+queued.ID)
	if err != nil {
		t.Fatalf("task of the queued instance job: %v", err)
	}
	if info.Type != tasks.TypeInstanceCreate {
		t.Errorf("task type = %q, want %q", info.Type, tasks.TypeInstanceCreate)
	}
}

// TestWaitingUnitsAreNotFailures: a unit that waits for a unit of an
// earlier org (store.ErrBlocked) is retried soon and not counted as a
// failure by asynq; other errors are failures with a growing delay.
func TestWaitingUnitsAreNotFailures(t *testing.T) {
	blocked := fmt.Errorf("apply: %w", store.ErrBlocked)
	if IsFailure(blocked) || !IsFailure(errors.New("boom")) {
		t.Errorf("IsFailure(blocked) = %v, IsFailure(other) = %v; want false, true", IsFailure(blocked), IsFailure(errors.New("boom")))
	}
	if d := RetryDelay(50, blocked, nil); d != blockedRetry {
		t.Errorf("RetryDelay of a waiting unit = %s, want %s", d, blockedRetry)
	}
	if d := RetryDelay(2, errors.New("boom"), nil); d != 3*time.Second {
		t.Errorf("RetryDelay(2) of a failure = %s, want 3s", d)
	}
}

// taskRunner records the tasks the worker wakes.
type taskRunner struct{ ids []string }

func (r *taskRunner) RunTask(queue, id string) error {
	r.ids = append(r.ids, id)
	return nil
}

// TestUnit_WaitsForTheEarlierOrg: the unit of an org that claims the name
// of an earlier org of the file waits (store.ErrBlocked) while the earlier
// org's unit is not done; that unit, once done, wakes it, and it then
// finds the name taken.
func TestUnit_WaitsForTheEarlierOrg(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	runner := &taskRunner{}
	e.w.cfg.Tasks = runner
	ctx := context.Background()
	job := e.submit(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Same"}}, {"orgId": "o2", "org": {"name": " SAME "}}]}`)
	if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
		t.Fatalf("split: %v", err)
	}
	second := tasks.UnitPayload{JobID: job.ID, Stage: store.StagePass1, OrgIndex: 1}
	if err := e.w.unit(ctx, tasks.NewImportUnitTask(second)); !errors.Is(err, store.ErrBlocked) {
		t.Fatalf("unit of the second org = %v, want ErrBlocked", err)
	}
	if n := e.count(t, `SELECT count(*) FROM orgs`); n != 0 {
		t.Fatalf("the waiting unit wrote %d orgs", n)
	}
	if err := e.w.unit(ctx, orgUnit(job.ID)); err != nil {
		t.Fatalf("unit of the first org: %v", err)
	}
	if want := []string{tasks.UnitTaskID(second)}; !slices.Equal(runner.ids, want) {
		t.Errorf("woken tasks %v, want %v", runner.ids, want)
	}
	if err := e.w.unit(ctx, tasks.NewImportUnitTask(second)); err != nil {
		t.Fatalf("unit of the second org, woken: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM orgs WHERE id = 'o1'`); n != 1 || e.count(t, `SELECT count(*) FROM orgs`) != 1 {
		t.Errorf("orgs: want only o1, the earlier org")
	}
}

// TestSplit_ImportTooLarge: an import with more orgs or entities than the
// worker allows fails at its split, with the setting to change, and writes
// nothing.
func TestSplit_ImportTooLarge(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	payload := `{"orgs":[{"orgId":"o1","org":{"name":"A"}},{"orgId":"o2","org":{"name":"B"},
		"projects":[{"projectId":"p1","project":{"name":"P"}},{"projectId":"p2","project":{"name":"Q"}}]}]}`
	for _, c := range []struct {
		orgs, entities int
		want           string
	}{
		{1, 0, "more than 1 orgs, the most an import may have (ZIMPORT_MAX_IMPORT_ORGS)"},
		{0, 3, "more than 3 entities, the most an import may have (ZIMPORT_MAX_IMPORT_ENTITIES)"},
	} {
		e.w.cfg.MaxOrgs, e.w.cfg.MaxEntities = c.orgs, c.entities
		job := e.submit(t, payload)
		if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
			t.Fatalf("split: %v", err)
		}
		if j := e.job(t, job.ID); j.Status != store.StatusFailed || !strings.Contains(j.Error, c.want) {
			t.Errorf("job %s %q, want failed with %q", j.Status, j.Error, c.want)
		}
	}
	e.w.cfg.MaxOrgs, e.w.cfg.MaxEntities = 2, 4
	job := e.submit(t, payload)
	if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
		t.Fatalf("split: %v", err)
	}
	if j := e.job(t, job.ID); j.Status != store.StatusRunning {
		t.Errorf("an import at the bounds: %s %q", j.Status, j.Error)
	}
}

// TestUnit_RejectedDataFailsOnlyItsUnit: data that passed every check but
// that the database refuses is the error of its unit; the job's other units
// are imported and the job ends completed_with_errors.
func TestUnit_RejectedDataFailsOnlyItsUnit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	// A check no rule of zimport knows, as a stand-in for any data error.
	e.exec(t, `CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.name = 'Poison' THEN RAISE check_violation USING MESSAGE = 'poison refused'; END IF; RETURN NEW; END $$`)
	e.exec(t, `CREATE TRIGGER refuse_poison BEFORE INSERT ON orgs FOR EACH ROW EXECUTE FUNCTION refuse_poison()`)
	job := e.submit(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Poison"}}, {"orgId": "o2", "org": {"name": "Fine"}}]}`)
	if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
		t.Fatalf("split: %v", err)
	}
	for org := range 2 {
		if err := e.w.unit(ctx, tasks.NewImportUnitTask(tasks.UnitPayload{JobID: job.ID, Stage: store.StagePass1, OrgIndex: org})); err != nil {
			t.Fatalf("unit of org %d: %v", org, err)
		}
	}
	if j := e.job(t, job.ID); j.Status != store.StatusCompletedWithErrors {
		t.Errorf("job %s %q, want completed_with_errors", j.Status, j.Error)
	}
	if n := e.count(t, `SELECT count(*) FROM orgs WHERE id = 'o2'`); n != 1 {
		t.Error("the other org was not imported")
	}
	if n := e.count(t, `SELECT count(*) FROM job_results WHERE job_id = $1 AND outcome = 'error' AND id = 'o1'
		AND message LIKE '%the database rejected the data: poison refused (SQLSTATE 23514); the entities of this unit were not imported'`, job.ID); n != 1 {
		t.Errorf("%d errors for the refused unit, want 1", n)
	}
}
