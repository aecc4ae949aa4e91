// Package worker holds zimport's asynq handlers: the split of an import into
// units, the application of each unit, the deadline of a job and the creation
// of instances. Every handler is idempotent: the state lives in PostgreSQL,
// and a task retried after a crash finds what was done and goes on from there.
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/zimport/zimport/seal"
	"github.com/zimport/zimport/source"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// Enqueuer puts tasks on the queue; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Config tunes the import handlers.
type Config struct {
	// ChunkSize is the number of array elements per chunk unit.
	ChunkSize int
	// BcryptCost is the cost of hashes of plain passwords.
	BcryptCost int
	// Seal encrypts secrets at rest.
	Seal *seal.Box
	// Retention is how long finished jobs are kept; 0 keeps them for ever.
	Retention time.Duration
	// Sources are the rules for import files.
	Sources source.Config
	// Tasks, when set, wakes units that wait in asynq's retry set;
	// *asynq.Inspector is one.
	Tasks TaskRunner
	// Window is the most units of an instance in the queue at once (see
	// store.ReadyUnits). Default DefaultWindow.
	Window int
	// MaxRunningJobs is the most imports of an instance that run at once;
	// the others wait queued. 0: no bound.
	MaxRunningJobs int
	// MaxOrgs and MaxEntities bound an import's size; a larger one fails
	// at its split. 0: no bound.
	MaxOrgs, MaxEntities int
}

// DefaultWindow is the default Config.Window.
const DefaultWindow = 8

// TaskRunner moves a task of asynq's retry or scheduled set to pending.
type TaskRunner interface {
	RunTask(queue, id string) error
}

// Worker runs the import tasks.
type Worker struct {
	log *zap.Logger
	st  *store.Store
	q   Enqueuer
	cfg Config
	// files are the import files of the jobs the worker works on.
	files *files
}

// New returns a Worker.
func New(log *zap.Logger, st *store.Store, q Enqueuer, cfg Config) *Worker {
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 1000
	}
	return &Worker{log: log.Named("worker"), st: st, q: q, cfg: cfg, files: &files{cfg: cfg.Sources, box: cfg.Seal, st: st}}
}

// Register adds the import handlers to mux.
func (w *Worker) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(tasks.TypeImportSplit, w.split)
	mux.HandleFunc(tasks.TypeImportUnit, w.unit)
	mux.HandleFunc(tasks.TypeImportDeadline, w.deadline)
}

// enqueue puts a task on the queue; a task with the same id already queued
// or running is as good as a new one.
func (w *Worker) enqueue(ctx context.Context, t *asynq.Task) error {
	if _, err := w.q.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// enqueueUnits gives tasks to the units that may run now, after unit
// `after` (store.ReadyUnits). With regive, it gives their tasks again to all
// the queued units of the instance too (task ids make that harmless): after
// the split, at a reconcile, and when a unit's task runs again (a retry, or
// a unit found done: its worker may have died, or been stopped, between
// marking units queued and enqueuing them).
func (w *Worker) enqueueUnits(ctx context.Context, jobID string, after store.UnitKey, regive bool) error {
	keys, err := w.st.ReadyUnits(ctx, jobID, after, cmp.Or(w.cfg.Window, DefaultWindow))
	if err != nil {
		return err
	}
	if regive {
		queued, err := w.st.QueuedUnits(ctx, jobID)
		if err != nil {
			return err
		}
		keys = append(keys, queued...)
	}
	for _, k := range keys {
		if err := w.enqueue(ctx, tasks.NewImportUnitTask(tasks.UnitPayload{JobID: k.JobID, Stage: k.Stage, OrgIndex: k.OrgIndex, Seq: k.Seq})); err != nil {
			return err
		}
	}
	return nil
}

// fail ends a job that can never finish as failed, with err's message for
// the client, and returns err marked not to be retried. When the job cannot
// be failed now, the error is retried, and the retry fails it.
func (w *Worker) fail(ctx context.Context, jobID string, err error) error {
	if ferr := w.st.FailJob(ctx, jobID, err.Error()); ferr != nil {
		return ferr
	}
	return fmt.Errorf("job %s failed: %w: %w", jobID, err, asynq.SkipRetry)
}

// payloadGone handles err, a job's payload that is gone: deleted with the
// end of the job, so there is nothing left to do; in a job still running,
// which can never finish without it, it fails the job.
func (w *Worker) payloadGone(ctx context.Context, jobID string, err error) error {
	job, jerr := w.loadJob(ctx, jobID)
	if jerr != nil || store.Terminal(job.Status) {
		return jerr
	}
	return w.fail(ctx, jobID, fmt.Errorf("the import data is no longer stored: %w", err))
}

// loadJob returns the job of a task; a job that no longer exists can never
// be worked on, so its tasks are not retried.
func (w *Worker) loadJob(ctx context.Context, id string) (store.Job, error) {
	job, err := w.st.JobByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return job, fmt.Errorf("job %s: %w: %w", id, err, asynq.SkipRetry)
	}
	return job, err
}
