package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

// unit applies one unit and enqueues what may run after it. A unit of a job
// that is no longer running does nothing.
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
		raw, err := w.st.PayloadRange(ctx, u.JobID, u.SrcStart, u.SrcEnd)
		if err != nil {
			return err
		}
		org, decodeErr := decodeUnit(u, raw)
		res, err := w.st.ApplyUnit(ctx, job, u, org, decodeErr, store.ApplyOptions{BcryptCost: w.cfg.BcryptCost})
		if err != nil {
			return err
		}
		w.log.Debug("unit applied", zap.String("job_id", job.ID), zap.Int("stage", u.Stage), zap.Int("org_index", u.OrgIndex),
			zap.Int("seq", u.Seq), zap.Int("entities", res.Entities), zap.Bool("already_done", res.AlreadyDone),
			zap.Duration("duration", time.Since(start)))
	}
	return w.enqueueUnits(ctx, job.ID, key)
}

// decodeUnit decodes the members of the unit's bytes that its steps need.
func decodeUnit(u store.Unit, raw []byte) (*importdata.DataOrg, error) {
	if u.Field != "" {
		return importdata.DecodeChunk(raw, u.Field)
	}
	return importdata.DecodeOrg(raw, fieldsOf(store.Steps(), u.Steps))
}
