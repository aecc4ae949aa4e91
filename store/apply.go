package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/importdata"
)

// ApplyOptions are the settings of the importing process.
type ApplyOptions struct {
	// BcryptCost is the cost of hashes of plain passwords.
	BcryptCost int
}

// Counts are the outcomes of one kind of entity.
type Counts struct {
	Done    int `json:"done,omitempty"`
	Failed  int `json:"failed,omitempty"`
	Skipped int `json:"skipped,omitempty"`
}

// ApplyResult says what applying a unit did.
type ApplyResult struct {
	// AlreadyDone is true when an earlier attempt had applied the unit.
	AlreadyDone bool
	// TimedOut is true when the deadline stopped the unit part-way.
	TimedOut bool
	// Entities is the number of entities with an outcome.
	Entities int
}

// ApplyUnit applies a unit's steps to the directory and records their
// outcomes, the unit's completion and the job's stage in one transaction, so
// a retried unit neither duplicates an entity nor counts twice. org is the
// unit's decoded data; decodeErr, when set, is recorded instead as an error
// of the org. The deadline stops the unit between steps; what is done is kept.
func (s *Store) ApplyUnit(ctx context.Context, job Job, u Unit, org *importdata.DataOrg, decodeErr error, opts ApplyOptions) (ApplyResult, error) {
	var res ApplyResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var done bool
		err := tx.QueryRow(ctx, `SELECT done FROM job_units WHERE job_id = $1 AND stage = $2 AND org_index = $3 AND seq = $4 FOR UPDATE`,
			u.JobID, u.Stage, u.OrgIndex, u.Seq).Scan(&done)
		if err != nil {
			return fmt.Errorf("lock unit: %w", err)
		}
		if done {
			res.AlreadyDone = true
			return nil
		}
		a := &applier{tx: tx, job: job, unit: u, opts: opts, counts: map[string]*Counts{}}
		var present *bool
		if err := tx.QueryRow(ctx, `SELECT org_id, present FROM job_orgs WHERE job_id = $1 AND org_index = $2`,
			u.JobID, u.OrgIndex).Scan(&a.orgID, &present); err != nil {
			return fmt.Errorf("load org of unit: %w", err)
		}
		a.orgPresent = present != nil && *present
		if decodeErr != nil {
			a.fail(registry["org"], 0, "org", a.orgID, "invalid org data: "+importdata.DescribeError(fmt.Sprintf("orgs[%d]", u.OrgIndex), decodeErr))
		} else if err := a.run(ctx, org); err != nil {
			return err
		}
		res.TimedOut = a.timedOut
		res.Entities = len(a.results)
		return a.finish(ctx)
	})
	if err != nil {
		return res, fmt.Errorf("apply unit %d/%d/%d of job %s: %w", u.Stage, u.OrgIndex, u.Seq, u.JobID, err)
	}
	return res, nil
}

// applier is the state of one unit's transaction.
type applier struct {
	tx         pgx.Tx
	job        Job
	unit       Unit
	opts       ApplyOptions
	orgID      string
	orgPresent bool
	timedOut   bool
	results    []result
	counts     map[string]*Counts
}

// result is one row of job_results.
type result struct {
	step    *Step
	item    int
	sub     int
	outcome string
	typ, id string
	message string
	f       [4]string
}

func (a *applier) run(ctx context.Context, org *importdata.DataOrg) error {
	for _, name := range a.unit.Steps {
		step := registry[name]
		if step == nil {
			return fmt.Errorf("unknown step %q", name)
		}
		if name != "org" && !a.orgPresent {
			return nil // ZITADEL skips the data of an org it could neither create nor find
		}
		if a.job.Deadline != nil && time.Now().After(*a.job.Deadline) {
			a.timedOut = true
			return nil
		}
		if err := step.apply(ctx, a, step, org); err != nil {
			return fmt.Errorf("step %s: %w", name, err)
		}
	}
	return nil
}

// item returns the index in its org's array of the i-th element of the unit.
func (a *applier) item(i int) int { return a.unit.FirstItem + i }

// path names the i-th element of field in messages, e.g. "humanUsers[3]".
func (a *applier) path(field string, i int) string { return fmt.Sprintf("%s[%d]", field, a.item(i)) }

func (a *applier) count(step *Step) *Counts {
	c := a.counts[step.Name]
	if c == nil {
		c = &Counts{}
		a.counts[step.Name] = c
	}
	return c
}

// fail records an entity error of type typ with ZITADEL's id format.
func (a *applier) fail(step *Step, item int, typ, id, msg string) {
	a.failSub(step, item, 0, typ, id, msg)
}

func (a *applier) failSub(step *Step, item, sub int, typ, id, msg string) {
	a.count(step).Failed++
	a.results = append(a.results, result{step: step, item: item, sub: sub, outcome: "error", typ: typ, id: id, message: msg})
}

// succeed records a success with the fields of its success-list entry.
func (a *applier) succeed(step *Step, item int, typ, id string, f ...string) {
	a.count(step).Done++
	r := result{step: step, item: item, outcome: "ok", typ: typ, id: id}
	copy(r.f[:], f)
	a.results = append(a.results, r)
}

// skip records an entity that existed and was left alone (onConflict SKIP).
func (a *applier) skip(step *Step, item int, typ, id string) {
	a.count(step).Skipped++
	a.results = append(a.results, result{step: step, item: item, outcome: "skipped", typ: typ, id: id})
}

// finish writes the results, marks the unit done and moves the job's stage.
func (a *applier) finish(ctx context.Context) error {
	u := a.unit
	_, err := a.tx.CopyFrom(ctx, pgx.Identifier{"job_results"},
		[]string{"job_id", "org_index", "step", "item", "sub", "pass", "outcome", "type", "id", "message", "f1", "f2", "f3", "f4"},
		pgx.CopyFromSlice(len(a.results), func(i int) ([]any, error) {
			r := a.results[i]
			return []any{u.JobID, u.OrgIndex, r.step.number(), r.item, r.sub, Pass(r.step.Stage), r.outcome, r.typ, r.id,
				nullable(r.message), nullable(r.f[0]), nullable(r.f[1]), nullable(r.f[2]), nullable(r.f[3])}, nil
		}))
	if err != nil {
		return fmt.Errorf("save results: %w", err)
	}
	if _, err := a.tx.Exec(ctx, `UPDATE job_units SET done = true, counts = $5
		WHERE job_id = $1 AND stage = $2 AND org_index = $3 AND seq = $4`,
		u.JobID, u.Stage, u.OrgIndex, u.Seq, a.counts); err != nil {
		return fmt.Errorf("mark unit done: %w", err)
	}
	// The job row is locked last, so parallel units hold it only for their commit.
	var stage, pending int
	if err := a.tx.QueryRow(ctx, `UPDATE jobs SET stage_pending = stage_pending - 1
		WHERE id = $1 AND stage = $2 RETURNING stage, stage_pending`, u.JobID, u.Stage).Scan(&stage, &pending); err != nil {
		return fmt.Errorf("count down stage %d: %w", u.Stage, err)
	}
	if a.timedOut {
		if _, err := a.tx.Exec(ctx, `UPDATE jobs SET status = 'timed_out', finished_at = now()
			WHERE id = $1 AND status = 'running'`, u.JobID); err != nil {
			return fmt.Errorf("time out job: %w", err)
		}
	}
	if pending > 0 {
		return nil
	}
	return openNextStage(ctx, a.tx, u.JobID, stage)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
