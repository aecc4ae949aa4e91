package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/source"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// split starts a job: it streams the payload or the import file once,
// records its orgs and units, and enqueues the first units. A retried split
// finds the units saved and only enqueues. Nothing is enqueued before the
// whole data is known to be well formed.
func (w *Worker) split(ctx context.Context, t *asynq.Task) error {
	var p tasks.JobPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	job, err := w.loadJob(ctx, p.JobID)
	if err != nil || store.Terminal(job.Status) {
		return err
	}
	if job, err = w.st.StartJob(ctx, job.ID, w.cfg.MaxRunningJobs); err != nil {
		return err
	}
	if store.Terminal(job.Status) {
		return nil
	}
	if job.Deadline != nil {
		if err := w.enqueue(ctx, tasks.NewImportDeadlineTask(job.ID, *job.Deadline)); err != nil {
			return err
		}
	}
	if job.Stage == 0 {
		if job.DryRun {
			if err := w.st.PrepareDryRun(ctx, job); err != nil {
				return err
			}
		}
		err := w.saveSplit(ctx, job)
		if err != nil && w.ended(ctx, job.ID) {
			return nil // timed out or canceled while it was split, its payload gone
		}
		var shape *importdata.ShapeError
		switch {
		case errors.As(err, &shape):
			w.log.Info("import payload rejected", zap.String("job_id", job.ID), zap.String("reason", shape.Msg))
			what := "data"
			if job.Source != nil {
				what = "file"
			}
			return w.st.FailJob(ctx, job.ID, "the import "+what+" is not usable: "+shape.Msg)
		case fileFailure(err) != "":
			w.log.Info("import file unreadable", zap.String("job_id", job.ID), zap.Error(err))
			return w.st.FailJob(ctx, job.ID, fileFailure(err))
		case errors.Is(err, store.ErrRejected):
			return w.fail(ctx, job.ID, err)
		case errors.Is(err, store.ErrNotFound):
			return w.payloadGone(ctx, job.ID, err)
		case errors.Is(err, errNoCredentials):
			return nil // the job has ended
		case err != nil:
			return w.retryOrFail(ctx, job.ID, err)
		}
	}
	return w.enqueueUnits(ctx, job.ID, store.UnitKey{}, true)
}

// ended reports whether job id has ended (false when that cannot be read).
func (w *Worker) ended(ctx context.Context, id string) bool {
	job, err := w.st.JobByID(ctx, id)
	return err == nil && store.Terminal(job.Status)
}

// saveSplit scans the job's data, its stored payload or its file (pinning
// the file's version), and records its orgs, its units and the values that
// units of different orgs claim (store.SplitTables).
func (w *Worker) saveSplit(ctx context.Context, job store.Job) error {
	ctx, stop := w.whileRunning(ctx, job.ID)
	defer stop()
	tables, err := w.st.NewSplitTables(ctx)
	if err != nil {
		return err
	}
	defer tables.Close()
	var src io.Reader
	var pin *source.Version
	var orgStarts []int64
	checkTwice := func() error { return nil }
	opts := importdata.ScanOptions{ChunkSize: w.cfg.ChunkSize, V1: importdata.IsV1(job.SourceField),
		Claim: func(c importdata.Claim) error { return tables.Claim(ctx, c) }}
	if job.Source == nil {
		src = w.st.PayloadReader(ctx, job.ID, job.SourceSize, 0)
	} else {
		obj, release, err := w.files.get(ctx, job)
		if err != nil {
			return err
		}
		defer release()
		v, err := source.Pin(ctx, obj)
		if err != nil {
			return err
		}
		r := source.NewReader(ctx, obj, v)
		defer r.Close()
		src, pin = r, &v
		// Inline data was checked at the API; a file's ids go to the
		// database, which finds an id given in two orgs in bounded memory.
		opts.Defines = true
		opts.Define = func(d importdata.Definition) error { return tables.Define(ctx, d) }
		checkTwice = func() error {
			d, first, found, err := tables.FirstTwice(ctx)
			if err != nil || !found {
				return err
			}
			return importdata.InOrgAt(importdata.TwiceError(d, first), orgStarts[d.Org])
		}
	}
	steps := store.Steps()
	var orgs []store.SplitOrg
	var units []store.Unit
	totals := map[string]int{}
	entities := 0
	err = importdata.ScanOrgs(src, opts, func(org importdata.OrgLayout) error {
		orgs = append(orgs, store.SplitOrg{Index: org.Index, OrgID: org.OrgID})
		orgStarts = append(orgStarts, org.Start)
		before := sum(totals)
		units = append(units, planUnits(job.ID, org, steps, totals, opts.V1)...)
		entities += sum(totals) - before
		switch maxOrgs, maxEntities := w.cfg.MaxOrgs, w.cfg.MaxEntities; {
		case maxOrgs > 0 && len(orgs) > maxOrgs:
			return &importdata.ShapeError{Msg: fmt.Sprintf("it has more than %d orgs, the most an import may have (ZIMPORT_MAX_IMPORT_ORGS)", maxOrgs)}
		case maxEntities > 0 && entities > maxEntities:
			return &importdata.ShapeError{Msg: fmt.Sprintf("it has more than %d entities, the most an import may have (ZIMPORT_MAX_IMPORT_ENTITIES)", maxEntities)}
		}
		return ctx.Err()
	})
	if err == nil {
		err = checkTwice()
	}
	if err != nil {
		return fmt.Errorf("split job %s: %w", job.ID, err)
	}
	w.log.Info("import split", zap.String("job_id", job.ID), zap.Int("orgs", len(orgs)), zap.Int("units", len(units)))
	return tables.Save(ctx, job, orgs, units, totals, pin)
}

// endedPoll is how often a split looks whether its job has ended.
const endedPoll = 2 * time.Second

// whileRunning returns a context that ends with ctx or when job id ends
// (canceled, timed out), so that the split of a large file stops reading.
func (w *Worker) whileRunning(ctx context.Context, id string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	go every(ctx, endedPoll, func() {
		if w.ended(ctx, id) {
			cancel() // every returns: ctx is done
		}
	})
	return ctx, cancel
}

// fileRetries is how often a task whose file read failed with an error of
// no known kind (after the reads' own retries) is retried before its job
// fails.
const fileRetries = 3

// retryOrFail returns err for asynq to retry the task, or, once the task
// was retried fileRetries times, fails the job with err: a file that cannot
// be read is never retried in a loop.
func (w *Worker) retryOrFail(ctx context.Context, jobID string, err error) error {
	if n, _ := asynq.GetRetryCount(ctx); n < fileRetries || ctx.Err() != nil {
		return err
	}
	return w.fail(ctx, jobID, fmt.Errorf("the import file cannot be read: %w", err))
}

// deadline ends a job still running when its deadline comes.
func (w *Worker) deadline(ctx context.Context, t *asynq.Task) error {
	var p tasks.JobPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if err := w.st.TimeOutJob(ctx, p.JobID); err != nil {
		return err
	}
	// Its place in the instance's window goes to another import.
	return w.enqueueUnits(ctx, p.JobID, store.UnitKey{}, false)
}

// sum adds up the totals per kind.
func sum(totals map[string]int) int {
	n := 0
	for _, v := range totals {
		n += v
	}
	return n
}
