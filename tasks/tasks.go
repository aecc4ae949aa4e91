// Package tasks is the queue contract between the API and the workers: task
// type names, payloads and constructors. Payloads hold ids, never data or
// secrets (asynqmon shows them).
package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Queue is the asynq queue of the imports' tasks (splits and units).
const Queue = "zimport"

// SystemQueue is the queue of short system work: instance creation and
// the ends of imports at their deadlines. Workers take its tasks before any
// of Queue (strict priority), so they never wait behind imports.
const SystemQueue = "zimport-system"

// Task type names.
const (
	TypeImportSplit    = "import:split"
	TypeImportUnit     = "import:unit"
	TypeImportDeadline = "import:deadline"
	TypeInstanceCreate = "instance:create"
)

// maxRetry is generous: a task is retried after every worker crash, and
// handlers are idempotent.
const maxRetry = 100

// JobPayload names a job.
type JobPayload struct {
	JobID string `json:"jobId"`
}

// UnitPayload names one unit of an import job.
type UnitPayload struct {
	JobID    string `json:"jobId"`
	Stage    int    `json:"stage"`
	OrgIndex int    `json:"orgIndex"`
	Seq      int    `json:"seq"`
}

// NewImportSplitTask returns the task that reads a job's source and records its units.
func NewImportSplitTask(jobID string) *asynq.Task {
	return newTask(TypeImportSplit, JobPayload{JobID: jobID}, "split:"+jobID, 2*time.Hour)
}

// NewImportUnitTask returns the task that applies one unit.
func NewImportUnitTask(p UnitPayload) *asynq.Task {
	return newTask(TypeImportUnit, p, UnitTaskID(p), 30*time.Minute)
}

// UnitTaskID is the asynq task id of a unit.
func UnitTaskID(p UnitPayload) string {
	return fmt.Sprintf("unit:%s:%d:%d:%d", p.JobID, p.Stage, p.OrgIndex, p.Seq)
}

// NewImportDeadlineTask returns the task that ends a job still running at its deadline.
func NewImportDeadlineTask(jobID string, deadline time.Time) *asynq.Task {
	return newTask(TypeImportDeadline, JobPayload{JobID: jobID}, "deadline:"+jobID, time.Minute, asynq.ProcessAt(deadline),
		asynq.Queue(SystemQueue))
}

// NewInstanceCreateTask returns the task that creates the instance of a job.
func NewInstanceCreateTask(jobID string) *asynq.Task {
	return newTask(TypeInstanceCreate, JobPayload{JobID: jobID}, "instance:"+jobID, 5*time.Minute, asynq.Queue(SystemQueue))
}

func newTask(typ string, payload any, id string, timeout time.Duration, extra ...asynq.Option) *asynq.Task {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("tasks: marshal %s payload: %v", typ, err)) // payloads are plain structs
	}
	opts := append([]asynq.Option{asynq.Queue(Queue), asynq.TaskID(id), asynq.MaxRetry(maxRetry), asynq.Timeout(timeout)}, extra...)
	return asynq.NewTask(typ, b, opts...)
}

// Decode reads a task payload; a payload that does not decode can never
// succeed, so the error wraps asynq.SkipRetry.
func Decode(t *asynq.Task, v any) error {
	if err := json.Unmarshal(t.Payload(), v); err != nil {
		return fmt.Errorf("decode %s payload: %w: %w", t.Type(), err, asynq.SkipRetry)
	}
	return nil
}
