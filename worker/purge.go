package worker

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// purgeBatch bounds one purge statement, so that it holds locks briefly.
const purgeBatch = 500

// purgeExpired deletes the jobs that finished more than retention ago, in
// batches, and logs how many went.
func (w *Worker) purgeExpired(ctx context.Context, retention time.Duration) error {
	before := time.Now().Add(-retention)
	var total int64
	for {
		n, err := w.st.PurgeFinishedJobs(ctx, before, purgeBatch)
		total += n
		if err != nil || n < purgeBatch {
			if total > 0 {
				w.log.Info("purged finished jobs", zap.Int64("jobs", total), zap.Duration("retention", retention))
			}
			return err
		}
	}
}

// purgeUserAnswers deletes the expired answers of the Idempotency-Keys of
// POST /users/human/_import, in batches.
func (w *Worker) purgeUserAnswers(ctx context.Context) error {
	for {
		n, err := w.st.PurgeUserAnswers(ctx, purgeBatch)
		if err != nil || n < purgeBatch {
			return err
		}
	}
}

// blankExpiredLinks removes from the results the passwordless registration
// links whose codes have expired, in batches.
func (w *Worker) blankExpiredLinks(ctx context.Context) error {
	for {
		n, err := w.st.BlankExpiredLinks(ctx, purgeBatch)
		if err != nil || n < purgeBatch {
			return err
		}
	}
}
