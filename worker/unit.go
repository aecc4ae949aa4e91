package worker

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// racedRetries is how often a unit that raced with a parallel unit
// (store.ErrRaced) is retried before it is rejected.
const racedRetries = 3

// unit applies one unit and enqueues what may run after it. A unit of a job
// that is no longer running does nothing. Data that the database refuses
// (unless it raced with a parallel unit, which is retried) is recorded as
// the unit's error (store.RejectUnit), and the job goes on; only when that
// cannot be recorded either does the job fail.
func (w *Worker) unit(ctx context.Context, t *asynq.Task) error {
	var p tasks.UnitPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	job, err := w.loadJob(ctx, p.JobID)
	if err != nil {
		return err
	}
	if job.Status == store.StatusRunning && job.Deadline != nil && time.Now().After(*job.Deadline) {
		if err := w.st.TimeOutJob(ctx, job.ID); err != nil {
			return err
		}
		job.Status = store.StatusTimedOut
	}
	if job.Status != store.StatusRunning {
		// Its place in the instance's window goes to another import.
		return w.enqueueUnits(ctx, job.ID, store.UnitKey{}, false)
	}
	key := store.UnitKey{JobID: p.JobID, Stage: p.Stage, OrgIndex: p.OrgIndex, Seq: p.Seq}
	u, err := w.st.Unit(ctx, key)
	if err != nil {
		return err
	}
	if !u.Done {
		if wait, err := w.st.Blocked(ctx, key); err != nil || wait {
			return cmp.Or(err, store.ErrBlocked) // not read before it may run
		}
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
		if errors.Is(err, store.ErrBlocked) {
			return err // asynq retries it (not as a failure), or the unit it waits for wakes it
		}
		if n, _ := asynq.GetRetryCount(ctx); errors.Is(err, store.ErrRaced) && n < racedRetries {
			return err // asynq retries; the parallel unit has committed by then
		}
		if errors.Is(err, store.ErrRaced) {
			return w.fail(ctx, job.ID, err) // a race that retries did not settle
		}
		if errors.Is(err, store.ErrRejected) {
			// The unit's error, not the job's: the other units go on.
			w.log.Warn("unit rejected by the database", zap.String("job_id", job.ID), zap.Int("stage", u.Stage),
				zap.Int("org_index", u.OrgIndex), zap.Int("seq", u.Seq), zap.Error(err))
			if rerr := w.st.RejectUnit(ctx, job, u, err.Error()); rerr != nil {
				if errors.Is(rerr, store.ErrRejected) {
					return w.fail(ctx, job.ID, err)
				}
				return rerr
			}
		}
		if err != nil && !errors.Is(err, store.ErrRejected) || res.JobEnded {
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
	w.wake(ctx, key)
	retried, _ := asynq.GetRetryCount(ctx)
	return w.enqueueUnits(ctx, job.ID, key, u.Done || retried > 0)
}

// wake runs now the units that unit k, done, may have kept waiting
// (store.ErrBlocked), rather than at their next retry. A unit not in
// asynq's retry set is left alone (it has not been enqueued yet, or is
// pending), except one that is still running, about to return ErrBlocked
// because it looked before k was done: it is woken again a moment later.
func (w *Worker) wake(ctx context.Context, k store.UnitKey) {
	if w.cfg.Tasks == nil {
		return
	}
	keys, err := w.st.Waiting(ctx, k)
	if err != nil {
		w.log.Warn("find waiting units", zap.String("job_id", k.JobID), zap.Error(err))
		return
	}
	var running []string
	for _, k := range keys {
		id := tasks.UnitTaskID(tasks.UnitPayload{JobID: k.JobID, Stage: k.Stage, OrgIndex: k.OrgIndex, Seq: k.Seq})
		if err := w.cfg.Tasks.RunTask(tasks.Queue, id); err != nil && strings.Contains(err.Error(), "already running") {
			running = append(running, id)
		}
	}
	if len(running) > 0 {
		go w.wakeAgain(running)
	}
}

// wakeAgain runs the waiting tasks ids once they have left the running
// state, trying a few times.
func (w *Worker) wakeAgain(ids []string) {
	for try := 0; try < 5 && len(ids) > 0; try++ {
		time.Sleep(wakeAgainAfter)
		ids = slices.DeleteFunc(ids, func(id string) bool {
			err := w.cfg.Tasks.RunTask(tasks.Queue, id)
			return err == nil || !strings.Contains(err.Error(), "already running")
		})
	}
}

// wakeAgainAfter is how long wakeAgain waits for a task that was running.
const wakeAgainAfter = 100 * time.Millisecond

// IsFailure tells asynq which errors of a handler are failures: a unit that
// waits (store.ErrBlocked) and an import that waits for its turn
// (store.ErrTurn) are retried without counting as one.
func IsFailure(err error) bool {
	return !errors.Is(err, store.ErrBlocked) && !errors.Is(err, store.ErrTurn)
}

// blockedRetry is how long a waiting unit stays in asynq's retry set when
// no unit wakes it. It is a safety net (the unit it waits for wakes it), and
// long: in a file whose thousands of orgs share a name, the units that wait
// would otherwise keep the workers busy looking again.
const blockedRetry = 30 * time.Second

// turnRetry is how often an import that waits for its turn (store.ErrTurn)
// looks again.
const turnRetry = 2 * time.Second

// RetryDelay is asynq's RetryDelayFunc for the import tasks: a waiting unit
// is retried after blockedRetry, an import waiting for its turn after
// turnRetry, other tasks after a second per retry, up to 30 s.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	switch {
	case errors.Is(err, store.ErrBlocked):
		return blockedRetry
	case errors.Is(err, store.ErrTurn):
		return turnRetry // a job ahead of it may end any time
	}
	return min(time.Duration(n+1)*time.Second, 30*time.Second)
}

// unitBytes reads the bytes unit u decodes, from the stored payload or
// from the job's file.
func (w *Worker) unitBytes(ctx context.Context, job store.Job, u store.Unit) ([]byte, error) {
	if job.Source != nil {
		return w.fileUnitBytes(ctx, job, u)
	}
	return w.st.UnitBytes(ctx, u)
}
