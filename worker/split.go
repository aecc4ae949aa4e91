package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// split starts a job: it streams the payload once, records its orgs and
// units, and enqueues the first units. A retried split finds the units saved
// and only enqueues.
func (w *Worker) split(ctx context.Context, t *asynq.Task) error {
	var p tasks.JobPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	job, err := w.loadJob(ctx, p.JobID)
	if err != nil || store.Terminal(job.Status) {
		return err
	}
	if job, err = w.st.StartJob(ctx, job.ID); err != nil {
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
			return w.st.FailJob(ctx, job.ID, "the import data is not usable: "+shape.Msg)
		case errors.Is(err, store.ErrRejected):
			return w.fail(ctx, job.ID, err)
		case errors.Is(err, store.ErrNotFound):
			return w.payloadGone(ctx, job.ID, err)
		case err != nil:
			return err
		}
	}
	return w.enqueueUnits(ctx, job.ID, store.UnitKey{})
}

// ended reports whether job id has ended (false when that cannot be read).
func (w *Worker) ended(ctx context.Context, id string) bool {
	job, err := w.st.JobByID(ctx, id)
	return err == nil && store.Terminal(job.Status)
}

func (w *Worker) saveSplit(ctx context.Context, job store.Job) error {
	steps := store.Steps()
	var orgs []store.SplitOrg
	var units []store.Unit
	totals := map[string]int{}
	src := w.st.PayloadReader(ctx, job.ID, job.SourceSize, 0)
	v1 := job.SourceField == importdata.FieldDataOrgsV1
	err := importdata.ScanOrgs(src, importdata.ScanOptions{ChunkSize: w.cfg.ChunkSize, V1: v1}, func(org importdata.OrgLayout) error {
		orgs = append(orgs, store.SplitOrg{Index: org.Index, OrgID: org.OrgID})
		units = append(units, planUnits(job.ID, org, steps, totals, v1)...)
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("split job %s: %w", job.ID, err)
	}
	w.log.Info("import split", zap.String("job_id", job.ID), zap.Int("orgs", len(orgs)), zap.Int("units", len(units)))
	return w.st.SaveSplit(ctx, job.ID, orgs, units, totals)
}

// deadline ends a job still running when its deadline comes.
func (w *Worker) deadline(ctx context.Context, t *asynq.Task) error {
	var p tasks.JobPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	return w.st.TimeOutJob(ctx, p.JobID)
}
