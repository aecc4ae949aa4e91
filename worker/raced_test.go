package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// TestUnit_RacedUnitIsRetried renames an org (onConflict OVERWRITE) to the
// name that a parallel transaction inserts and commits meanwhile: the unit
// fails with store.ErrRaced and is left to asynq's retry (the job keeps
// running), and the retry reports the name as taken.
func TestUnit_RacedUnitIsRetried(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	e.exec(t, `INSERT INTO orgs (instance_id, id, name) VALUES ('inst1', 'o1', 'Org One')`)
	job := e.submit(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Org X"}}]}`)
	e.exec(t, `UPDATE jobs SET on_conflict = 'OVERWRITE' WHERE id = $1`, job.ID)
	if err := e.w.split(ctx, tasks.NewImportSplitTask(job.ID)); err != nil {
		t.Fatalf("split: %v", err)
	}

	parallel, err := e.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer parallel.Rollback(ctx) //nolint:errcheck
	if _, err := parallel.Exec(ctx, `INSERT INTO orgs (instance_id, id, name) VALUES ('inst1', 'o2', 'Org X')`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.w.unit(ctx, orgUnit(job.ID)) }()
	for deadline := time.Now().Add(10 * time.Second); e.count(t, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the unit never waited for the parallel insert")
		}
	}
	if err := parallel.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if !errors.Is(err, store.ErrRaced) || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("unit during the race = %v; want ErrRaced, retried", err)
	}
	if j := e.job(t, job.ID); j.Status != store.StatusRunning {
		t.Fatalf("job status after the race = %q, want running", j.Status)
	}

	if err := e.w.unit(ctx, orgUnit(job.ID)); err != nil {
		t.Fatalf("retried unit: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM job_results WHERE job_id = $1 AND type = 'org' AND outcome = 'error'
		AND message LIKE '%Org X%'`, job.ID); n != 1 {
		t.Errorf("%d org errors naming the taken name, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM orgs WHERE id = 'o1' AND name = 'Org One'`); n != 1 {
		t.Error("org o1 was renamed although its new name is taken")
	}
}
