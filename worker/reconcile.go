package worker

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// Reconcile re-enqueues, every interval, the work of unfinished jobs
// (imports and instance creations) whose tasks may have been lost: a job the
// API recorded but could not enqueue, or tasks gone with a Redis restart.
// Task ids make this harmless when the tasks still exist, and handlers are
// idempotent when they ran already. A job past its deadline is ended as
// timed_out, so that no job stays running for ever; finished jobs older than
// the retention are purged, and so are the answers recorded for the
// Idempotency-Keys of POST /users/human/_import after a day; passwordless
// registration links whose codes have expired are blanked in the results.
// It returns when ctx ends.
func (w *Worker) Reconcile(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		if err := w.reconcileOnce(ctx, interval); err != nil && ctx.Err() == nil {
			w.log.Warn("reconcile", zap.Error(err))
		}
		if w.cfg.Retention > 0 {
			if err := w.purgeExpired(ctx, w.cfg.Retention); err != nil && ctx.Err() == nil {
				w.log.Warn("purge", zap.Error(err))
			}
		}
		if err := w.purgeUserAnswers(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("purge idempotency answers", zap.Error(err))
		}
		if err := w.blankExpiredLinks(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("blank expired passwordless links", zap.Error(err))
		}
	})
}

// every calls fn every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

func (w *Worker) reconcileOnce(ctx context.Context, grace time.Duration) error {
	jobs, err := w.st.UnfinishedJobs(ctx, grace, 1000)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, j := range jobs {
		switch {
		case j.Deadline != nil && now.After(*j.Deadline):
			// Its deadline task, or the retries of its task, may be lost.
			err = w.st.TimeOutJob(ctx, j.ID)
		case j.Kind == store.KindCreateInstance:
			err = w.enqueue(ctx, tasks.NewInstanceCreateTask(j.ID))
		case j.Status == store.StatusQueued || j.Stage == 0:
			err = w.enqueue(ctx, tasks.NewImportSplitTask(j.ID))
		default:
			err = w.enqueueUnits(ctx, j.ID, store.UnitKey{}, true)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
