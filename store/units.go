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
	_, err = tx.Exec(ctx, `UPDATE jobs SET stage = $2, stage_pending = $3 WHERE id = $1`, jobID, next, pending)
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

// ReadyUnits returns the units that may run after the unit `after` is done
// (the zero UnitKey after the split): the next unit of its org while its stage
// goes on, else the first unit not done of every org in the job's current
// stage. Nothing while the job is not running.
func (s *Store) ReadyUnits(ctx context.Context, jobID string, after UnitKey) ([]UnitKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (u.org_index) u.stage, u.org_index, u.seq
		FROM jobs j JOIN job_units u ON u.job_id = j.id AND u.stage = j.stage AND NOT u.done
		WHERE j.id = $1 AND j.status = 'running' AND (j.stage <> $2 OR u.org_index = $3)
		ORDER BY u.org_index, u.seq`, jobID, after.Stage, after.OrgIndex)
	if err != nil {
		return nil, fmt.Errorf("ready units: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitKey, error) {
		k := UnitKey{JobID: jobID}
		return k, r.Scan(&k.Stage, &k.OrgIndex, &k.Seq)
	})
}
