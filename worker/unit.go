package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// racedRetries is how often a unit that raced with a parallel unit
// (store.ErrRaced) is retried before its job fails.
const racedRetries = 3

// unit applies one unit and enqueues what may run after it. A unit of a job
// that is no longer running does nothing. Data that the database refuses
// ends the job as failed, and the task is not retried, unless it raced with
// a parallel unit.
func (w *Worker) unit(ctx context.Context, t *asynq.Task) error {
	var p tasks.UnitPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	job, err := w.loadJob(ctx, p.JobID)
	if err != nil || job.Status != store.StatusRunning {
		return err
	}
	if job.Deadline != nil && time.Now().After(*job.Deadline) {
		return w.st.TimeOutJob(ctx, job.ID)
	}
	key := store.UnitKey{JobID: p.JobID, Stage: p.Stage, OrgIndex: p.OrgIndex, Seq: p.Seq}
	u, err := w.st.Unit(ctx, key)
	if err != nil {
		return err
	}
	if !u.Done {
		start := time.Now()
		raw, err := w.unitBytes(ctx, job, u)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return w.payloadGone(ctx, job.ID, err)
		case fileFailure(err) != "":
			return w.fail(ctx, job.ID, errors.New(fileFailure(err)))
		case errors.Is(err, errNoCredentials):
			return nil // the job has ended
		case err != nil && job.Source != nil:
			return w.retryOrFail(ctx, job.ID, err)
		case err != nil:
			return err
		}
		res, err := w.st.ApplyUnit(ctx, job, u, raw, store.ApplyOptions{BcryptCost: w.cfg.BcryptCost, Seal: w.cfg.Seal})
		if n, _ := asynq.GetRetryCount(ctx); errors.Is(err, store.ErrRaced) && n < racedRetries {
			return err // asynq retries; the parallel unit has committed by then
		}
		if errors.Is(err, store.ErrRejected) {
			return w.fail(ctx, job.ID, err)
		}
		if err != nil || res.JobEnded {
			return err
		}
		fields := []zap.Field{zap.String("job_id", job.ID), zap.Int("stage", u.Stage), zap.Int("org_index", u.OrgIndex),
			zap.Int("seq", u.Seq), zap.Int("entities", res.Entities), zap.Bool("already_done", res.AlreadyDone),
			zap.Duration("duration", time.Since(start))}
		if n, _ := asynq.GetRetryCount(ctx); n > 0 {
			fields = append(fields, zap.Int("retry", n)) // e2e tests look for re-runs after a crash
		}
		w.log.Debug("unit applied", fields...)
	}
	return w.enqueueUnits(ctx, job.ID, key)
}

// unitBytes reads the bytes unit u decodes, from the stored payload or
// from the job's file.
func (w *Worker) unitBytes(ctx context.Context, job store.Job, u store.Unit) ([]byte, error) {
	if job.Source != nil {
		return w.fileUnitBytes(ctx, job, u)
	}
	return w.st.UnitBytes(ctx, u)
}
