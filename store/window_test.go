package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestReadyUnits_Window: an instance has at most a window of units queued;
// a done unit hands its place to its org's next unit, else to the first org
// not started of the running job with the fewest units queued.
func TestReadyUnits_Window(t *testing.T) {
	s := newKindsStore(t)
	ctx := context.Background()
	// Two jobs of the instance: three orgs, the first with two units; one org.
	jobA := startWindowJob(t, s, []int{2, 1, 1})
	jobB := startWindowJob(t, s, []int{1})
	keys := func(ks []UnitKey) string {
		var out string
		for _, k := range ks {
			job := "A"
			if k.JobID == jobB {
				job = "B"
			}
			out += fmt.Sprintf("%s%d.%d ", job, k.OrgIndex, k.Seq)
		}
		return out
	}
	step := func(after UnitKey, want string) {
		t.Helper()
		if after != (UnitKey{}) {
			if _, err := s.pool.Exec(ctx, `UPDATE job_units SET done = true WHERE job_id = $1 AND stage = $2 AND org_index = $3 AND seq = $4`,
				after.JobID, after.Stage, after.OrgIndex, after.Seq); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ReadyUnits(ctx, cmpJob(after, jobA), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if keys(got) != want {
			t.Errorf("after %v: ready %q, want %q", after, keys(got), want)
		}
	}
	step(UnitKey{}, "A0.0 A1.0 ")
	step(UnitKey{}, "") // the window is full
	step(UnitKey{JobID: jobA, Stage: 1, OrgIndex: 0, Seq: 0}, "A0.1 ")
	// The job with the fewest units queued takes a free place.
	step(UnitKey{JobID: jobA, Stage: 1, OrgIndex: 1, Seq: 0}, "B0.0 ")
	step(UnitKey{JobID: jobA, Stage: 1, OrgIndex: 0, Seq: 1}, "A2.0 ")
	queued, err := s.QueuedUnits(ctx, jobA)
	if err != nil || keys(queued) != "A2.0 B0.0 " {
		t.Errorf("queued units %q, %v", keys(queued), err)
	}
}

// cmpJob is k's job, or def for the zero key.
func cmpJob(k UnitKey, def string) string {
	if k.JobID == "" {
		return def
	}
	return k.JobID
}

// startWindowJob starts an import of the test instance whose org i has
// units[i] units in stage 1, and returns its id.
func startWindowJob(t *testing.T, s *Store, units []int) string {
	t.Helper()
	ctx := context.Background()
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartJob(ctx, job.ID, 0); err != nil {
		t.Fatal(err)
	}
	var orgs []SplitOrg
	var us []Unit
	for i, n := range units {
		orgs = append(orgs, SplitOrg{Index: i, OrgID: fmt.Sprintf("o%d", i)})
		for seq := range n {
			us = append(us, Unit{JobID: job.ID, Stage: StagePass1, OrgIndex: i, Seq: seq, Steps: []string{"org"}})
		}
	}
	if err := s.SaveSplit(ctx, job.ID, orgs, us, map[string]int{}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // jobs of the instance go in the order they were made
	return job.ID
}

// TestStartJob_Turns: an instance runs at most maxRunning imports; the
// next waits queued (ErrTurn) until one ends. Instance creations are not
// counted.
func TestStartJob_Turns(t *testing.T) {
	s := newKindsStore(t)
	ctx := context.Background()
	create := func() string {
		job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", Timeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return job.ID
	}
	first, second, third := create(), create(), create()
	if j, err := s.StartJob(ctx, first, 1); err != nil || j.Status != StatusRunning {
		t.Fatalf("first: %v %v", j.Status, err)
	}
	if _, err := s.StartJob(ctx, second, 1); !errors.Is(err, ErrTurn) {
		t.Fatalf("second while the first runs: %v, want ErrTurn", err)
	}
	if j, _ := s.JobByID(ctx, second); j.Status != StatusQueued || j.Deadline != nil {
		t.Errorf("the waiting job is %s with deadline %v; want queued without one", j.Status, j.Deadline)
	}
	if err := s.FailJob(ctx, first, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartJob(ctx, third, 1); !errors.Is(err, ErrTurn) {
		t.Errorf("third before the second, older, started: %v, want ErrTurn", err)
	}
	if j, err := s.StartJob(ctx, second, 1); err != nil || j.Status != StatusRunning {
		t.Errorf("second after the first ended: %v %v", j.Status, err)
	}
	if err := s.FailJob(ctx, third, "not needed"); err != nil {
		t.Fatal(err)
	}
	// A bound on queued and running jobs.
	if _, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", Timeout: time.Hour, MaxActive: 2}); err != nil {
		t.Errorf("a second active job within a bound of 2: %v", err)
	}
	if _, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", Timeout: time.Hour, MaxActive: 2}); !errors.Is(err, ErrTooMany) {
		t.Errorf("a third active job within a bound of 2: %v, want ErrTooMany", err)
	}
}

// TestUnfinishedJobs_RunningFirst: the reconcile's page of unfinished jobs
// holds the running ones before imports that wait for their turn.
func TestUnfinishedJobs_RunningFirst(t *testing.T) {
	s := newKindsStore(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", Timeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID)
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := s.StartJob(ctx, ids[2], 0); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.UnfinishedJobs(ctx, 0, 1)
	if err != nil || len(jobs) != 1 || jobs[0].ID != ids[2] {
		t.Errorf("UnfinishedJobs(limit 1) = %v, %v; want the running job %s", jobs, err, ids[2])
	}
}
