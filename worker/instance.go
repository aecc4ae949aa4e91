package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/zimport/zimport/instance"
	"github.com/zimport/zimport/seal"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// CreateInstanceHandler returns the handler of tasks.TypeInstanceCreate: it
// opens the job's sealed CreateInstanceRequest, plans the instance and
// writes it, with the sealed CreateInstanceResponse, in one transaction.
// cfg.Now is ignored (the plan is made at time.Now); the request's
// expiration dates are checked against the job's creation time, so a retry
// does not fail on time.
//
// A request that can never succeed (invalid, a domain already used, a
// request that cannot be opened) ends the job as failed and is not retried;
// so does data that the database refuses, whose task returns an error that
// asynq does not retry (store.ErrRejected). Infrastructure errors are
// returned, and asynq retries until the job's deadline, which ends the job
// as timed_out. A retried task finds the job ended and does nothing.
// Nothing secret is logged.
func CreateInstanceHandler(st *store.Store, box *seal.Box, cfg instance.BuildConfig, log *zap.Logger) asynq.HandlerFunc {
	h := &instanceHandler{st: st, box: box, cfg: cfg, log: log.Named("worker")}
	return h.process
}

type instanceHandler struct {
	st  *store.Store
	box *seal.Box
	cfg instance.BuildConfig
	log *zap.Logger
}

func (h *instanceHandler) process(ctx context.Context, t *asynq.Task) error {
	var p tasks.JobPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	job, err := h.st.JobByID(ctx, p.JobID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("job %s: %w: %w", p.JobID, err, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("load job %s: %w", p.JobID, err)
	}
	if job.Kind != store.KindCreateInstance {
		return fmt.Errorf("job %s is a %s job, not %s: %w", job.ID, job.Kind, store.KindCreateInstance, asynq.SkipRetry)
	}
	if store.Terminal(job.Status) {
		return nil
	}
	if job, err = h.st.StartJob(ctx, job.ID, 0); err != nil {
		return err
	}
	if store.Terminal(job.Status) {
		return nil
	}
	if job.Deadline != nil && time.Now().After(*job.Deadline) {
		// Retried for the whole budget: the job ends rather than run for ever.
		return h.st.TimeOutJob(ctx, job.ID)
	}

	sealed, err := h.st.JobRequestSealed(ctx, job.ID)
	if errors.Is(err, store.ErrNotFound) {
		return h.fail(ctx, job.ID, "the job has no request")
	}
	if err != nil {
		return err
	}
	body, err := h.box.Open(sealed)
	if err != nil {
		// The request was sealed with another ZIMPORT_ENCRYPTION_KEY: no
		// retry can open it.
		return h.fail(ctx, job.ID, "the stored request cannot be decrypted (was ZIMPORT_ENCRYPTION_KEY changed?)")
	}
	req, err := instance.ParseRequest(body, job.CreatedAt)
	if err != nil {
		var re *instance.RequestError
		if errors.As(err, &re) {
			return h.fail(ctx, job.ID, "invalid request: "+re.Msg)
		}
		return h.fail(ctx, job.ID, "invalid request")
	}

	cfg := h.cfg
	cfg.Now = time.Now()
	plan, secrets, err := instance.Build(req, cfg)
	if err != nil {
		return fmt.Errorf("job %s: %w", job.ID, err)
	}
	resp, err := instance.NewResponse(plan, secrets).Marshal()
	if err != nil {
		return fmt.Errorf("job %s: marshal response: %w", job.ID, err)
	}
	err = h.st.CreateInstance(ctx, job.ID, plan, h.box.Seal(resp))
	switch {
	case errors.Is(err, store.ErrConflict):
		return h.fail(ctx, job.ID, err.Error())
	case errors.Is(err, store.ErrRejected):
		// Unforeseen data that no retry can write; the task is archived.
		if ferr := h.st.FailJob(ctx, job.ID, err.Error()); ferr != nil {
			return ferr
		}
		return fmt.Errorf("job %s failed: %w: %w", job.ID, err, asynq.SkipRetry)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("job %s: %w: %w", job.ID, err, asynq.SkipRetry)
	case err != nil:
		return fmt.Errorf("job %s: %w", job.ID, err)
	}
	h.log.Info("instance created", zap.String("job_id", job.ID), zap.String("instance_id", plan.InstanceID),
		zap.String("org_id", plan.Org.ID))
	return nil
}

// fail ends the job as failed with msg, a message for the client that holds
// no secret.
func (h *instanceHandler) fail(ctx context.Context, jobID, msg string) error {
	if err := h.st.FailJob(ctx, jobID, msg); err != nil {
		return err
	}
	h.log.Info("instance job failed", zap.String("job_id", jobID), zap.String("reason", msg))
	return nil
}
