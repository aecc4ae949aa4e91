package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/source"
)

// Unit is a piece of a job's work: a run of steps of one org in one stage, or
// one chunk of a large entity array. The units of one org and stage run one
// after the other, in Seq order; different orgs run in parallel.
type Unit struct {
	JobID    string
	Stage    int
	OrgIndex int
	Seq      int
	// Steps are the names of the steps the unit applies, in order.
	Steps []string
	// Field is the array member of a chunk unit, empty for other units.
	Field string
	// FirstItem is the index in Field of the chunk's first element.
	FirstItem int
	// SrcStart and SrcEnd delimit the bytes to decode in the payload: the
	// chunk, or the whole org.
	SrcStart, SrcEnd int64
	// Spans, when not nil, are the org members the unit decodes, read
	// instead of the whole org (see UnitBytes).
	Spans []Span
	Done  bool
}

// Span is a byte range [Start, End) of a payload.
type Span struct{ Start, End int64 }

// flatSpans encodes spans as the int8[] column src_spans: start, end, ...
func flatSpans(spans []Span) []int64 {
	if spans == nil {
		return nil
	}
	out := make([]int64, 0, 2*len(spans))
	for _, s := range spans {
		out = append(out, s.Start, s.End)
	}
	return out
}

// unflatSpans decodes src_spans; NULL is nil, an empty array an empty slice.
func unflatSpans(flat []int64) []Span {
	if flat == nil {
		return nil
	}
	out := make([]Span, len(flat)/2)
	for i := range out {
		out[i] = Span{flat[2*i], flat[2*i+1]}
	}
	return out
}

// beginner opens transactions: the pool, or one of its connections.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// UnitKey names a unit.
type UnitKey struct {
	JobID    string
	Stage    int
	OrgIndex int
	Seq      int
}

// SplitOrg is an org found by the split.
type SplitOrg struct {
	Index int
	OrgID string
}

// SaveSplit records the orgs and units of a job and opens its first stage. A
// job that was split before is left as it is, so a retried split is harmless.
// Data the database refuses (an org id holding NUL) is ErrRejected.
// The version of an import file, pin, is recorded too (nil for inline data).
func (s *Store) SaveSplit(ctx context.Context, jobID string, orgs []SplitOrg, units []Unit, totals map[string]int, pin *source.Version) error {
	return saveSplit(ctx, s.pool, jobID, orgs, units, totals, pin, nil)
}

// saveSplit is SaveSplit in a transaction of db, which also runs more, when
// set, after the units are saved.
func saveSplit(ctx context.Context, db beginner, jobID string, orgs []SplitOrg, units []Unit, totals map[string]int, pin *source.Version,
	more func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var stage int
		if err := tx.QueryRow(ctx, `SELECT stage FROM jobs WHERE id = $1 FOR NO KEY UPDATE`, jobID).Scan(&stage); err != nil {
			return fmt.Errorf("lock job: %w", err)
		}
		if stage != 0 {
			return nil
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"job_orgs"}, []string{"job_id", "org_index", "org_id"},
			pgx.CopyFromSlice(len(orgs), func(i int) ([]any, error) {
				return []any{jobID, orgs[i].Index, orgs[i].OrgID}, nil
			}))
		if err != nil {
			return fmt.Errorf("save orgs: %w", err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"job_units"},
			[]string{"job_id", "stage", "org_index", "seq", "steps", "field", "first_item", "src_start", "src_end", "src_spans"},
			pgx.CopyFromSlice(len(units), func(i int) ([]any, error) {
				u := units[i]
				return []any{jobID, u.Stage, u.OrgIndex, u.Seq, u.Steps, u.Field, u.FirstItem, u.SrcStart, u.SrcEnd, flatSpans(u.Spans)}, nil
			}))
		if err != nil {
			return fmt.Errorf("save units: %w", err)
		}
		if more != nil {
			if err := more(tx); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs SET totals = $2, source_version = coalesce($3, source_version),
			source_size = coalesce($4, source_size) WHERE id = $1`, jobID, totals, pin, pinSize(pin)); err != nil {
			return fmt.Errorf("save totals: %w", err)
		}
		return openNextStage(ctx, tx, jobID, 0)
	})
	if msg, _ := rejection(err); msg != "" {
		return &rejectedError{msg: "the database rejected the orgs of the import: " + msg}
	}
	if err != nil {
		return fmt.Errorf("save split of job %s: %w", jobID, err)
	}
	return nil
}

// pinSize is the size of a pinned file, nil for inline data.
func pinSize(pin *source.Version) any {
	if pin == nil {
		return nil
	}
	return pin.Size
}

// openNextStage moves the job to the first stage after `after` that has
// units, or finishes it (deleting its payload) when there is none. The job
// row must be locked.
func openNextStage(ctx context.Context, tx dbtx, jobID string, after int) error {
	var next, pending int
	err := tx.QueryRow(ctx, `SELECT stage, count(*) FROM job_units WHERE job_id = $1 AND stage > $2
		GROUP BY stage ORDER BY stage LIMIT 1`, jobID, after).Scan(&next, &pending)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = tx.Exec(ctx, endJob(`UPDATE jobs SET stage = 99, stage_pending = 0, finished_at = now(),
			status = CASE WHEN EXISTS (SELECT 1 FROM job_results WHERE job_id = $1 AND outcome = 'error')
				THEN 'completed_with_errors' ELSE 'succeeded' END
			WHERE id = $1 AND status = 'running'`), jobID)
		if err != nil {
			return fmt.Errorf("finish job: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE jobs SET stage = 99 WHERE id = $1`, jobID)
		return err
	}
	if err != nil {
		return fmt.Errorf("find next stage: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE jobs SET stage = $2, stage_pending = $3, fill_org = 0 WHERE id = $1`, jobID, next, pending)
	return err
}

const unitColumns = `job_id::text, stage, org_index, seq, steps, field, first_item, src_start, src_end, src_spans, done`

func scanUnit(row pgx.Row) (Unit, error) {
	var u Unit
	var spans []int64
	err := row.Scan(&u.JobID, &u.Stage, &u.OrgIndex, &u.Seq, &u.Steps, &u.Field, &u.FirstItem, &u.SrcStart, &u.SrcEnd, &spans, &u.Done)
	u.Spans = unflatSpans(spans)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// Unit returns one unit.
func (s *Store) Unit(ctx context.Context, k UnitKey) (Unit, error) {
	return scanUnit(s.pool.QueryRow(ctx, `SELECT `+unitColumns+` FROM job_units
		WHERE job_id = $1 AND stage = $2 AND org_index = $3 AND seq = $4`, k.JobID, k.Stage, k.OrgIndex, k.Seq))
}

// ReadyUnits returns the units to give a task now, after the unit `after`
// is done (the zero UnitKey after the split, or to look again), and marks
// them queued. An org's units run one after the other: the next unit of
// after's org takes its place. Then, while the job's instance has fewer than
// window units queued and not done, the first unit of each org not started
// yet, of the instance's running job that has the fewest units queued (the
// oldest first), in org order. So an
// instance never has more than about window tasks in the queue, whatever the
// size of its imports, and the instances share the workers. The refill of an
// instance is serialized by an advisory lock; nothing is returned while the
// job is not running.
func (s *Store) ReadyUnits(ctx context.Context, jobID string, after UnitKey, window int) ([]UnitKey, error) {
	var keys []UnitKey
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		keys = nil
		var instanceID string
		err := tx.QueryRow(ctx, `SELECT instance_id FROM jobs WHERE id = $1`, jobID).Scan(&instanceID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($2, $1))`, windowLock, instanceID); err != nil {
			return err
		}
		if after != (UnitKey{}) {
			// Also when it is queued already: after's task may run again
			// because it died before it gave the next unit its task.
			rows, err := tx.Query(ctx, `SELECT u.stage, u.org_index, u.seq FROM jobs j
				JOIN job_units u ON u.job_id = j.id AND u.stage = j.stage AND u.org_index = $3 AND NOT u.done
				WHERE j.id = $1 AND j.status = 'running' AND j.stage = $2
				ORDER BY u.seq LIMIT 1`, jobID, after.Stage, after.OrgIndex)
			if err != nil {
				return err
			}
			if keys, err = collectUnitKeys(rows, jobID); err != nil {
				return err
			}
		}
		var free int
		if err := tx.QueryRow(ctx, `SELECT $2 - count(*) FROM job_units u JOIN jobs j ON j.id = u.job_id AND u.stage = j.stage
			WHERE j.instance_id = $1 AND j.status = 'running' AND u.queued AND NOT u.done
				AND NOT (u.job_id = $3 AND u.stage = $4 AND u.org_index = $5)`,
			instanceID, window, jobID, after.Stage, after.OrgIndex).Scan(&free); err != nil {
			return err
		}
		free -= len(keys)
		// The job with the fewest units queued first, so that the running
		// imports of an instance share its window.
		jobs, err := tx.Query(ctx, `SELECT j.id::text, j.stage, j.fill_org FROM jobs j
			WHERE j.instance_id = $1 AND j.status = 'running' AND j.stage BETWEEN 1 AND 98
			ORDER BY (SELECT count(*) FROM job_units u WHERE u.job_id = j.id AND u.queued AND NOT u.done), j.created_at, j.id`, instanceID)
		if err != nil {
			return err
		}
		type fill struct {
			job         string
			stage, from int
		}
		fills, err := pgx.CollectRows(jobs, func(r pgx.CollectableRow) (fill, error) {
			var f fill
			return f, r.Scan(&f.job, &f.stage, &f.from)
		})
		if err != nil {
			return err
		}
		for _, f := range fills {
			if free <= 0 {
				break
			}
			rows, err := tx.Query(ctx, `SELECT DISTINCT ON (org_index) stage, org_index, seq FROM job_units
				WHERE job_id = $1 AND stage = $2 AND org_index >= $3 AND NOT done
				ORDER BY org_index, seq LIMIT $4`, f.job, f.stage, f.from, free)
			if err != nil {
				return err
			}
			more, err := collectUnitKeys(rows, f.job)
			if err != nil {
				return err
			}
			if len(more) == 0 {
				continue
			}
			keys, free = append(keys, more...), free-len(more)
			if _, err := tx.Exec(ctx, `UPDATE jobs SET fill_org = $2 WHERE id = $1`, f.job, more[len(more)-1].OrgIndex+1); err != nil {
				return err
			}
		}
		if len(keys) == 0 {
			return nil
		}
		jobIDs, stages, orgs, seqs := make([]string, len(keys)), make([]int, len(keys)), make([]int, len(keys)), make([]int, len(keys))
		for i, k := range keys {
			jobIDs[i], stages[i], orgs[i], seqs[i] = k.JobID, k.Stage, k.OrgIndex, k.Seq
		}
		_, err = tx.Exec(ctx, `UPDATE job_units u SET queued = true FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) AS t(j, st, o, sq)
			WHERE u.job_id = t.j AND u.stage = t.st AND u.org_index = t.o AND u.seq = t.sq AND NOT u.queued`, jobIDs, stages, orgs, seqs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ready units: %w", err)
	}
	return keys, nil
}

// windowLock seeds the hash of the instance id that keys the advisory lock that serializes the
// refill of an instance's window.
const windowLock = 7_263_118_002

// QueuedUnits returns the units of the running jobs of jobID's instance
// that have been given a task and are not done (at most about the window):
// the tasks to give again when they may have been lost (a worker died
// between marking them and enqueuing them, or Redis lost its data).
func (s *Store) QueuedUnits(ctx context.Context, jobID string) ([]UnitKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT u.job_id::text, u.stage, u.org_index, u.seq FROM jobs x
		JOIN jobs j ON j.instance_id = x.instance_id AND j.status = 'running'
		JOIN job_units u ON u.job_id = j.id AND u.stage = j.stage AND u.queued AND NOT u.done
		WHERE x.id = $1 ORDER BY j.created_at, u.org_index, u.seq`, jobID)
	if err != nil {
		return nil, fmt.Errorf("queued units: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitKey, error) {
		var k UnitKey
		return k, r.Scan(&k.JobID, &k.Stage, &k.OrgIndex, &k.Seq)
	})
	if err != nil {
		return nil, fmt.Errorf("queued units: %w", err)
	}
	return keys, nil
}

// collectUnitKeys reads rows of stage, org_index, seq of job jobID.
func collectUnitKeys(rows pgx.Rows, jobID string) ([]UnitKey, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitKey, error) {
		k := UnitKey{JobID: jobID}
		return k, r.Scan(&k.Stage, &k.OrgIndex, &k.Seq)
	})
}
