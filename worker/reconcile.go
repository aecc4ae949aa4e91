package worker

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// Reconcile re-enqueues, every interval, the work of unfinished jobs whose
// tasks may have been lost: a job the API recorded but could not enqueue, or
// tasks gone with a Redis restart. Task ids make this harmless when the tasks
// still exist, and handlers are idempotent when they ran already. It returns
// when ctx ends.
func (w *Worker) Reconcile(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.reconcileOnce(ctx, interval); err != nil && ctx.Err() == nil {
			w.log.Warn("reconcile", zap.Error(err))
		}
	}
}

func (w *Worker) reconcileOnce(ctx context.Context, grace time.Duration) error {
	jobs, err := w.st.UnfinishedJobs(ctx, grace, 1000)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Status == store.StatusQueued || j.Stage == 0 {
			err = w.enqueue(ctx, tasks.NewImportSplitTask(j.ID))
		} else {
			err = w.enqueueUnits(ctx, j.ID, store.UnitKey{})
		}
		if err != nil {
			return err
		}
	}
	return nil
}
