package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/seal"
)

// ApplyOptions are the settings of the importing process.
type ApplyOptions struct {
	// BcryptCost is the cost of hashes of plain passwords.
	BcryptCost int
	// Seal encrypts secrets at rest (IdP client secrets, OTP secrets).
	Seal *seal.Box
	// HashSlots, when set, bounds the passwords hashed at once by all the
	// calls that share it (one slot per hash), so that bcrypt cannot take
	// every core of a process that serves other requests too.
	HashSlots chan struct{}
	// hash hashes a password at a cost; bcrypt.GenerateFromPassword when nil.
	hash func(password []byte, cost int) ([]byte, error)
}

// Counts are the outcomes of one kind of entity.
type Counts struct {
	Done    int `json:"done,omitempty"`
	Failed  int `json:"failed,omitempty"`
	Skipped int `json:"skipped,omitempty"`
	// Overwritten counts existing entities updated in place (onConflict OVERWRITE).
	Overwritten int `json:"overwritten,omitempty"`
}

// Outcomes of an entity in job_results besides "ok" and "error", each
// listed in the result under its name.
const (
	outcomeSkipped     = "skipped"
	outcomeOverwritten = "overwritten"
)

// ApplyResult says what applying a unit did.
type ApplyResult struct {
	// AlreadyDone is true when an earlier attempt had applied the unit.
	AlreadyDone bool
	// JobEnded is true when the job was no longer running (canceled, failed
	// or timed out): nothing of the unit was kept.
	JobEnded bool
	// Entities is the number of entities with an outcome.
	Entities int
}

// dryRunHash stands in for bcrypt in a dry run: the hash is never used, and
// bcrypt's cost would only slow the validation down.
func dryRunHash([]byte, int) ([]byte, error) { return []byte("dry run: not hashed"), nil }

// errJobEnded rolls back the transaction of a unit whose job has ended.
var errJobEnded = errors.New("the job is no longer running")

// ApplyUnit applies a unit's steps to the directory and records their
// outcomes, the unit's completion and the job's stage in one transaction, so
// a retried unit neither duplicates an entity nor counts twice. raw is the
// unit's bytes of the payload; when they do not decode, that is recorded as
// an error of the unit's first step. Work that needs no lock, such as hashing
// passwords, is done before the transaction opens. The deadline stops the
// unit between steps; what is done is kept. When the job is no longer
// running at the commit, the transaction is rolled back and the result says
// JobEnded. A unit that must wait for a unit of an earlier org (a value
// both claim, see job_claims) does nothing and returns ErrBlocked; callers
// look first (Blocked), before they read its bytes and it prepares. A dry-run
// job (job.DryRun) is applied to its scratch instance (see PrepareDryRun).
// Data that the database refuses is an error wrapping ErrRejected, and
// ErrRaced too when a retry may succeed, whose message names the unit, its
// org and what PostgreSQL said.
func (s *Store) ApplyUnit(ctx context.Context, job Job, u Unit, raw []byte, opts ApplyOptions) (ApplyResult, error) {
	var res ApplyResult
	home := job.InstanceID
	if job.DryRun {
		job.InstanceID = DryRunInstance(job.ID)
		opts.hash = dryRunHash
	}
	a := &applier{db: s.pool, job: job, home: home, unit: u, opts: opts, raw: raw, counts: map[string]*Counts{}}
	org, decodeErr := decodeUnit(u, raw, importdata.IsV1(job.SourceField))
	var err error
	if decodeErr == nil {
		// The steps prepare for the org's id (a chunk does not hold it).
		if err = s.pool.QueryRow(ctx, `SELECT org_id FROM job_orgs WHERE job_id = $1 AND org_index = $2`,
			u.JobID, u.OrgIndex).Scan(&a.orgID); err != nil {
			err = fmt.Errorf("load org of unit: %w", err)
		}
	}
	if err == nil && decodeErr == nil {
		err = a.prepare(ctx, org)
	}
	if err == nil {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			a.db = tx
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
			var present *bool
			var status string
			if err := tx.QueryRow(ctx, `SELECT o.org_id, o.present, j.status FROM job_orgs o JOIN jobs j ON j.id = o.job_id
				WHERE o.job_id = $1 AND o.org_index = $2`, u.JobID, u.OrgIndex).Scan(&a.orgID, &present, &status); err != nil {
				return fmt.Errorf("load org of unit: %w", err)
			}
			if status != StatusRunning {
				return errJobEnded // ended while the unit prepared: spare the work
			}
			if wait, err := blocked(ctx, tx, u); err != nil || wait {
				return cmp.Or(err, ErrBlocked)
			}
			a.orgPresent = present != nil && *present
			if decodeErr != nil {
				a.decodeFailed(decodeErr)
			} else if err := a.run(ctx, org); err != nil {
				return err
			}
			res.Entities = len(a.results)
			return a.finish(ctx)
		})
	}
	switch msg, raced := rejection(err); {
	case errors.Is(err, errJobEnded):
		return ApplyResult{JobEnded: true}, nil
	case errors.Is(err, ErrBlocked):
		return ApplyResult{}, err
	case raced:
		return ApplyResult{}, &racedError{rejectedError{msg: a.rejected(msg)}}
	case msg != "":
		return ApplyResult{}, &rejectedError{msg: a.rejected(msg)}
	case err != nil:
		return ApplyResult{}, fmt.Errorf("apply unit %d/%d/%d of job %s: %w", u.Stage, u.OrgIndex, u.Seq, u.JobID, err)
	}
	return res, nil
}

// dbtx is what steps use of the unit's transaction; the pool has it too.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// applier is the state of one unit's transaction.
type applier struct {
	// db is the unit's transaction; the pool while the steps prepare.
	db  dbtx
	job Job
	// home is the instance the job imports into; job.InstanceID is its
	// scratch copy in a dry run.
	home string
	unit Unit
	opts ApplyOptions
	// raw is the unit's bytes of the payload, for members that DataOrg
	// does not hold.
	raw        []byte
	orgID      string
	orgPresent bool
	timedOut   bool
	// step is the step that runs, for messages.
	step *Step
	// hashes are the bcrypt hashes of plain passwords by index in the
	// unit's human users, made before the transaction.
	hashes map[int]string
	// secretHashes are the bcrypt hashes of the client secrets generated
	// for apps, by step name and index in the step's list, made before the
	// transaction.
	secretHashes map[string]map[int]string
	// usernameScope caches the scope of the org's user names, once known.
	usernameScope *string
	results       []result
	counts        map[string]*Counts
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

// prepare runs the prepare functions of the unit's steps, before the
// transaction.
func (a *applier) prepare(ctx context.Context, org *importdata.DataOrg) error {
	for _, name := range a.unit.Steps {
		if step := registry[name]; step != nil && step.prepare != nil {
			a.step = step
			if err := step.prepare(ctx, a, step, org); err != nil {
				return fmt.Errorf("prepare step %s: %w", name, err)
			}
		}
	}
	a.step = nil
	return nil
}

func (a *applier) run(ctx context.Context, org *importdata.DataOrg) error {
	for _, name := range a.unit.Steps {
		step := registry[name]
		if step == nil {
			return fmt.Errorf("unknown step %q", name)
		}
		if name != "org" && !a.orgPresent {
			break // ZITADEL skips the data of an org it could neither create nor find
		}
		if a.job.Deadline != nil && time.Now().After(*a.job.Deadline) {
			a.timedOut = true
			break
		}
		a.step = step
		if err := step.apply(ctx, a, step, org); err != nil {
			return fmt.Errorf("step %s: %w", name, err)
		}
	}
	a.step = nil
	return nil
}

// decodeFailed records that the unit's bytes did not decode as an error of
// its first step, whose results only this unit records. Like run, it
// records nothing for the data of an org that is not there.
func (a *applier) decodeFailed(err error) {
	step := registry[a.unit.Steps[0]]
	if step == nil || step.Name != "org" && !a.orgPresent {
		return
	}
	msg := "invalid org data: " + importdata.DescribeError(fmt.Sprintf("orgs[%d]", a.unit.OrgIndex), err)
	a.fail(step, a.item(0), step.Type, a.orgID, safeText(msg))
}

// rejected is the message, for the client, of a unit whose data the
// database refused with pg.
func (a *applier) rejected(pg string) string {
	org := fmt.Sprintf("orgs[%d]", a.unit.OrgIndex)
	if a.orgID != "" {
		org += fmt.Sprintf(" (org %q)", a.orgID)
	}
	where := "saving its results"
	if a.step != nil {
		where = "step " + a.step.Name
	}
	return fmt.Sprintf("%s, stage %d unit %d, %s: the database rejected the data: %s", org, a.unit.Stage, a.unit.Seq, where, pg)
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

// overwrote records an existing entity that was updated in place
// (onConflict OVERWRITE). Like a success, it has an entry in the step's
// success list (entry, with the fields f); id, its id in the error format,
// names it in the result's overwritten list (kept in the message column).
func (a *applier) overwrote(step *Step, item int, typ, id, entry string, f ...string) {
	a.count(step).Overwritten++
	r := result{step: step, item: item, outcome: outcomeOverwritten, typ: typ, id: entry, message: id}
	copy(r.f[:], f)
	a.results = append(a.results, r)
}

// overwriting reports whether existing entities are updated in place
// (onConflict OVERWRITE).
func (a *applier) overwriting() bool { return a.job.OnConflict == importdata.OnConflictOverwrite }

// skip records an entity that existed and was left alone (onConflict SKIP).
func (a *applier) skip(step *Step, item int, typ, id string) {
	a.count(step).Skipped++
	a.results = append(a.results, result{step: step, item: item, outcome: outcomeSkipped, typ: typ, id: id})
}

// finish writes the results, marks the unit done and moves the job's stage.
func (a *applier) finish(ctx context.Context) error {
	u := a.unit
	_, err := a.db.CopyFrom(ctx, pgx.Identifier{"job_results"},
		[]string{"job_id", "org_index", "step", "item", "sub", "pass", "outcome", "type", "id", "message", "f1", "f2", "f3", "f4"},
		pgx.CopyFromSlice(len(a.results), func(i int) ([]any, error) {
			r := a.results[i]
			return []any{u.JobID, u.OrgIndex, r.step.number(), r.item, r.sub, Pass(r.step.Stage), r.outcome, r.typ, r.id,
				nullable(r.message), nullable(r.f[0]), nullable(r.f[1]), nullable(r.f[2]), nullable(r.f[3])}, nil
		}))
	if err != nil {
		return fmt.Errorf("save results: %w", err)
	}
	if _, err := a.db.Exec(ctx, `UPDATE job_units SET done = true, counts = $5
		WHERE job_id = $1 AND stage = $2 AND org_index = $3 AND seq = $4`,
		u.JobID, u.Stage, u.OrgIndex, u.Seq, a.counts); err != nil {
		return fmt.Errorf("mark unit done: %w", err)
	}
	// The job row is locked last, so parallel units hold it only for their
	// commit. A job that ended meanwhile keeps nothing of the unit. NO KEY
	// UPDATE, like the UPDATE below, does not conflict with the key-share
	// locks that the foreign keys of other units' rows take on the job row;
	// FOR UPDATE would, and parallel units would deadlock.
	var status string
	if err := a.db.QueryRow(ctx, `SELECT status FROM jobs WHERE id = $1 FOR NO KEY UPDATE`, u.JobID).Scan(&status); err != nil {
		return fmt.Errorf("lock job: %w", err)
	}
	if status != StatusRunning {
		return errJobEnded
	}
	var stage, pending int
	if err := a.db.QueryRow(ctx, `UPDATE jobs SET stage_pending = stage_pending - 1
		WHERE id = $1 AND stage = $2 RETURNING stage, stage_pending`, u.JobID, u.Stage).Scan(&stage, &pending); err != nil {
		return fmt.Errorf("count down stage %d: %w", u.Stage, err)
	}
	if a.timedOut {
		if _, err := a.db.Exec(ctx, endJob(`UPDATE jobs SET status = 'timed_out', finished_at = now()
			WHERE id = $1 AND status = 'running'`), u.JobID); err != nil {
			return fmt.Errorf("time out job: %w", err)
		}
	}
	if pending > 0 {
		return nil
	}
	return openNextStage(ctx, a.db, u.JobID, stage)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// RejectUnit records that the database refused the data of unit u (msg,
// the message of ApplyUnit's ErrRejected): one error of the unit's first
// step, for its first element, naming the unit and saying that its entities
// were not imported; and the unit done, in one transaction as ApplyUnit
// would, so that the job goes on with its other units and ends
// completed_with_errors rather than failed. A unit done already, or a job
// no longer running, is left alone. When even this is refused, the error
// wraps ErrRejected and the caller fails the job.
func (s *Store) RejectUnit(ctx context.Context, job Job, u Unit, msg string) error {
	step := registry[u.Steps[0]]
	if step == nil {
		return fmt.Errorf("reject unit: unknown step %q", u.Steps[0])
	}
	a := &applier{job: job, unit: u, counts: map[string]*Counts{}}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a.db = tx
		var done bool
		var orgID string
		if err := tx.QueryRow(ctx, `SELECT u.done, o.org_id FROM job_units u
			JOIN job_orgs o ON o.job_id = u.job_id AND o.org_index = u.org_index
			WHERE u.job_id = $1 AND u.stage = $2 AND u.org_index = $3 AND u.seq = $4 FOR UPDATE OF u`,
			u.JobID, u.Stage, u.OrgIndex, u.Seq).Scan(&done, &orgID); err != nil {
			return fmt.Errorf("lock unit: %w", err)
		}
		if done {
			return nil
		}
		a.fail(step, a.item(0), step.Type, safeText(orgID), safeText(msg)+"; the entities of this unit were not imported")
		return a.finish(ctx)
	})
	if msg, _ := rejection(err); msg != "" {
		return &rejectedError{msg: "recording that the database rejected a unit: " + msg}
	}
	if err != nil && !errors.Is(err, errJobEnded) {
		return fmt.Errorf("reject unit %d/%d/%d of job %s: %w", u.Stage, u.OrgIndex, u.Seq, u.JobID, err)
	}
	return nil
}
