package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStore_PurgeFinishedJobs(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	old := newResultJob(t, s, StatusSucceeded, []SplitOrg{{0, "o1"}}, []*bool{ptr(true)},
		[]resultRow{rOK(0, 101, 0, "org", "o1")})
	recent := newResultJob(t, s, StatusSucceeded, nil, nil, nil)
	running := newResultJob(t, s, StatusRunning, nil, nil, nil)
	for id, finished := range map[string]string{old.ID: "now() - interval '2 hours'", recent.ID: "now()"} {
		if _, err := s.pool.Exec(ctx, `UPDATE jobs SET finished_at = `+finished+` WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}

	n, err := s.PurgeFinishedJobs(ctx, time.Now().Add(-time.Hour), 10)
	if err != nil || n != 1 {
		t.Fatalf("PurgeFinishedJobs = %d, %v; want 1 job", n, err)
	}
	if _, err := s.JobByID(ctx, old.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("old job still readable: %v", err)
	}
	for _, table := range []string{"job_results", "job_orgs", "job_payloads"} {
		var left int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE job_id = $1`, old.ID).Scan(&left); err != nil || left != 0 {
			t.Errorf("%s keeps %d rows of the purged job (%v)", table, left, err)
		}
	}
	for _, j := range []Job{recent, running} {
		if _, err := s.JobByID(ctx, j.ID); err != nil {
			t.Errorf("job %s (%s) purged too early: %v", j.ID, j.Status, err)
		}
	}
}
