package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/source"
)

// Job kinds.
const (
	KindImport         = "import"
	KindCreateInstance = "create_instance"
)

// Job statuses.
const (
	StatusQueued              = "queued"
	StatusRunning             = "running"
	StatusSucceeded           = "succeeded"
	StatusCompletedWithErrors = "completed_with_errors"
	StatusFailed              = "failed"
	StatusTimedOut            = "timed_out"
	StatusCanceled            = "canceled"
)

// Terminal reports whether a job in status s will not change any more.
func Terminal(s string) bool {
	switch s {
	case StatusQueued, StatusRunning:
		return false
	}
	return true
}

// Job is an import or instance-creation job.
type Job struct {
	ID          string
	Kind        string
	InstanceID  string
	Caller      string
	Status      string
	SourceField string
	OnConflict  string
	DryRun      bool
	Timeout     time.Duration
	Deadline    *time.Time
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Error       string
	SourceSize  int64
	// Source is where the import file is, nil for inline data.
	Source *source.Location
	// SourceVersion is the file's version pinned by the split, nil before.
	SourceVersion *source.Version
	// Stage is the stage whose units run now (0 before the split).
	Stage int
	// Totals counts the entities of each step, known after the split.
	Totals map[string]int
}

// NewJob is what CreateJob records.
type NewJob struct {
	Kind        string
	InstanceID  string
	Caller      string
	SourceField string
	OnConflict  string
	DryRun      bool
	Timeout     time.Duration
	// Payload is the inline import data, stored beside the job.
	Payload []byte
	// Source is where the import file is, for file sources.
	Source *source.Location
	// SourceSealed are the sealed credentials of Source, if any.
	SourceSealed []byte
	// RequestSealed is the sealed request of a job that carries secrets.
	RequestSealed []byte
	// IdempotencyKey and RequestHash deduplicate retried submissions.
	IdempotencyKey string
	RequestHash    []byte
	// MaxActive bounds the jobs of the kind queued or running in the
	// instance, this one included (0: no bound).
	MaxActive int
}

// ErrTooMany is returned by CreateJob past NewJob.MaxActive.
var ErrTooMany = errors.New("too many jobs of the instance queued or running")

// Scope says whose jobs a caller may see: those of InstanceID (and, for a
// system caller, the instance creations, which belong to no instance), or
// all of them for a system caller that names no instance.
type Scope struct {
	InstanceID string
	System     bool
}

// filter is the WHERE condition of sc on jobs, with the instance as
// parameter arg.
func (sc Scope) filter(arg int) string {
	switch {
	case sc.InstanceID == "" && sc.System:
		// Still names the parameter, so that callers pass the same arguments.
		return fmt.Sprintf("$%d::text IS NOT NULL", arg)
	case sc.System:
		return fmt.Sprintf("(instance_id = $%d OR instance_id IS NULL)", arg)
	}
	return fmt.Sprintf("instance_id = $%d", arg)
}

const jobColumns = `id::text, kind, coalesce(instance_id, ''), caller, status, source_field, on_conflict, dry_run,
	timeout_ms, deadline, created_at, started_at, finished_at, coalesce(error, ''), coalesce(source_size, 0), stage, totals,
	source, source_version`

// CreateJob records a queued job and its payload. With an idempotency key
// already used by the same caller it returns the existing job and created
// false, or ErrConflict when the earlier request was different. A job that
// would make more than MaxActive of its kind queued or running in its
// instance is not recorded: ErrTooMany.
func (s *Store) CreateJob(ctx context.Context, nj NewJob) (job Job, created bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var key, instance any
		if nj.IdempotencyKey != "" {
			key = nj.IdempotencyKey
		}
		if nj.InstanceID != "" {
			instance = nj.InstanceID
		}
		row := tx.QueryRow(ctx, `
			INSERT INTO jobs (id, kind, instance_id, caller, source_field, on_conflict, dry_run, timeout_ms,
				request_sealed, idempotency_key, request_hash, source)
			VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT DO NOTHING
			RETURNING `+jobColumns,
			nj.Kind, instance, nj.Caller, nj.SourceField, nj.OnConflict, nj.DryRun, nj.Timeout.Milliseconds(),
			nj.RequestSealed, key, nj.RequestHash, nj.Source)
		job, err = scanJob(row)
		if errors.Is(err, ErrNotFound) && nj.IdempotencyKey != "" {
			var hash []byte
			row := tx.QueryRow(ctx, `SELECT `+jobColumns+`, request_hash FROM jobs
				WHERE caller = $1 AND coalesce(instance_id, '') = $2 AND idempotency_key = $3`,
				nj.Caller, nj.InstanceID, nj.IdempotencyKey)
			job, err = scanJob(row, &hash)
			if err != nil {
				return fmt.Errorf("load job of idempotency key: %w", err)
			}
			if !bytes.Equal(hash, nj.RequestHash) {
				return fmt.Errorf("idempotency key %q was used for a different request: %w", nj.IdempotencyKey, ErrConflict)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert job: %w", err)
		}
		created = true
		if nj.MaxActive > 0 {
			// Counted with this job; submissions at the same moment do not
			// see each other's, so each may pass: the bound is passed by at
			// most their number.
			var active int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE instance_id = $1 AND kind = $2 AND status IN ('queued', 'running')`,
				nj.InstanceID, nj.Kind).Scan(&active); err != nil {
				return fmt.Errorf("count active jobs: %w", err)
			}
			if active > nj.MaxActive {
				return ErrTooMany
			}
		}
		if nj.SourceSealed != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO job_source_secrets (job_id, sealed) VALUES ($1, $2)`, job.ID, nj.SourceSealed); err != nil {
				return fmt.Errorf("insert source credentials: %w", err)
			}
		}
		if nj.Payload != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO job_payloads (job_id, data) VALUES ($1, $2)`, job.ID, nj.Payload); err != nil {
				return fmt.Errorf("insert payload: %w", err)
			}
			job.SourceSize = int64(len(nj.Payload))
			if _, err := tx.Exec(ctx, `UPDATE jobs SET source_size = $2 WHERE id = $1`, job.ID, job.SourceSize); err != nil {
				return fmt.Errorf("set source size: %w", err)
			}
		}
		return nil
	})
	return job, created, err
}

// scanJob scans a row of jobColumns followed by extra.
func scanJob(row pgx.Row, extra ...any) (Job, error) {
	var j Job
	var timeoutMS int64
	dest := []any{&j.ID, &j.Kind, &j.InstanceID, &j.Caller, &j.Status, &j.SourceField, &j.OnConflict, &j.DryRun,
		&timeoutMS, &j.Deadline, &j.CreatedAt, &j.StartedAt, &j.FinishedAt, &j.Error, &j.SourceSize, &j.Stage, &j.Totals,
		&j.Source, &j.SourceVersion}
	err := row.Scan(append(dest, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return j, ErrNotFound
	}
	j.Timeout = time.Duration(timeoutMS) * time.Millisecond
	return j, err
}

// DeleteJob removes a job that could not be enqueued.
func (s *Store) DeleteJob(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM jobs WHERE id = $1`, id)
	return err
}

// Job returns the job id if sc may see it, else ErrNotFound.
func (s *Store) Job(ctx context.Context, id string, sc Scope) (Job, error) {
	if !ValidJobID(id) {
		return Job{}, ErrNotFound
	}
	return scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1 AND `+sc.filter(2), id, sc.InstanceID))
}

// jobByID returns a job regardless of scope (workers).
func (s *Store) jobByID(ctx context.Context, q querier, id string) (Job, error) {
	return scanJob(q.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
}

// JobByID returns a job regardless of scope, for workers.
func (s *Store) JobByID(ctx context.Context, id string) (Job, error) {
	return s.jobByID(ctx, s.pool, id)
}

// JobPage is a page of ListJobs.
type JobPage struct {
	Jobs []Job
	// Next is the cursor of the next page, empty on the last page.
	Next string
}

// ListJobs returns the jobs sc may see, newest first. cursor is a job id from
// a previous page's Next.
func (s *Store) ListJobs(ctx context.Context, sc Scope, cursor string, limit int) (JobPage, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	args := []any{sc.InstanceID, limit + 1}
	where := sc.filter(1)
	if cursor != "" {
		if !ValidJobID(cursor) {
			return JobPage{}, fmt.Errorf("cursor %q: %w", cursor, ErrNotFound)
		}
		args = append(args, cursor)
		// A job the caller cannot see is no cursor: the page is empty, as
		// for an id that does not exist.
		where += ` AND (created_at, id) < (SELECT created_at, id FROM jobs WHERE id = $3 AND ` + sc.filter(1) + `)`
	}
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs WHERE ($1::text IS NOT NULL) AND `+where+
		` ORDER BY created_at DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return JobPage{}, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var page JobPage
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return JobPage{}, fmt.Errorf("list jobs: %w", err)
		}
		page.Jobs = append(page.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return JobPage{}, fmt.Errorf("list jobs: %w", err)
	}
	if len(page.Jobs) > limit {
		page.Jobs = page.Jobs[:limit]
		page.Next = page.Jobs[limit-1].ID
	}
	return page, nil
}

// endJob extends update, an UPDATE of jobs that ends the jobs it matches, to
// delete their payloads in the same statement: the inline data of a job,
// which may hold plain passwords, is kept only while the job may read it.
// (The scratch instance of a dry run is left to PurgeDryRuns: deleting it
// here could deadlock with a unit that holds its rows and waits for the job.)
func endJob(update string) string {
	return `WITH ended AS (` + update + ` RETURNING id),
		payloads AS (DELETE FROM job_payloads WHERE job_id IN (SELECT id FROM ended))
		DELETE FROM job_source_secrets WHERE job_id IN (SELECT id FROM ended)`
}

// SourceSecrets returns the sealed credentials of a job's import file, nil
// when it has none; they are gone once the job has ended.
func (s *Store) SourceSecrets(ctx context.Context, jobID string) ([]byte, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT sealed FROM job_source_secrets WHERE job_id = $1`, jobID).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read source credentials of job %s: %w", jobID, err)
	}
	return sealed, nil
}

// CancelJob cancels a queued or running job and deletes its payload. It
// returns the job as it is afterwards; a job that had already ended is
// returned unchanged.
func (s *Store) CancelJob(ctx context.Context, id string, sc Scope) (Job, error) {
	if !ValidJobID(id) {
		return Job{}, ErrNotFound
	}
	_, err := s.pool.Exec(ctx, endJob(`UPDATE jobs SET status = 'canceled', finished_at = now()
		WHERE id = $1 AND status IN ('queued', 'running') AND `+sc.filter(2)), id, sc.InstanceID)
	if err != nil {
		return Job{}, fmt.Errorf("cancel job: %w", err)
	}
	return s.Job(ctx, id, sc)
}

// StartJob moves a queued job to running, fixing its deadline from now; a
// job already running keeps its deadline. It returns the job as it is. An
// import whose instance runs maxRunning imports already (0: no bound) stays
// queued: ErrTurn; so does one while imports of the instance made before
// it still wait, so that an instance's imports start in order.
func (s *Store) StartJob(ctx context.Context, id string, maxRunning int) (Job, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var instanceID *string
		var status, kind string
		err := tx.QueryRow(ctx, `SELECT instance_id, status, kind FROM jobs WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&instanceID, &status, &kind)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && status != StatusQueued {
			return nil
		}
		if err != nil {
			return err
		}
		if instanceID != nil && kind == KindImport && maxRunning > 0 {
			// Serialized per instance, so that two jobs never both take the
			// last place.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($2, $1))`, startLock, *instanceID); err != nil {
				return err
			}
			// The running imports and the queued ones made before this one
			// go first: an instance's imports start in the order they came.
			var ahead int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM jobs x, jobs j WHERE j.id = $2 AND x.instance_id = $1 AND x.kind = 'import'
				AND (x.status = 'running' OR x.status = 'queued' AND (x.created_at, x.id) < (j.created_at, j.id))`,
				*instanceID, id).Scan(&ahead); err != nil {
				return err
			}
			if ahead >= maxRunning {
				return ErrTurn
			}
		}
		_, err = tx.Exec(ctx, `UPDATE jobs SET status = 'running', started_at = now(),
			deadline = now() + timeout_ms * interval '1 millisecond'
			WHERE id = $1 AND status = 'queued'`, id)
		return err
	})
	if errors.Is(err, ErrTurn) {
		return Job{}, err
	}
	if err != nil {
		return Job{}, fmt.Errorf("start job: %w", err)
	}
	return s.JobByID(ctx, id)
}

// ErrTurn is returned by StartJob for an import whose instance runs as many
// imports as it may at once: the job stays queued, and its deadline has
// not started.
var ErrTurn = errors.New("the instance runs as many imports as it may at once; the job waits for its turn")

// startLock seeds the hash of the instance id that keys the advisory lock that serializes the
// starts of an instance's imports.
const startLock = 7_263_118_003

// FailJob ends a queued or running job as failed with a message for the
// client, and deletes its payload.
func (s *Store) FailJob(ctx context.Context, id, msg string) error {
	_, err := s.pool.Exec(ctx, endJob(`UPDATE jobs SET status = 'failed', error = $2, finished_at = now()
		WHERE id = $1 AND status IN ('queued', 'running')`), id, safeText(msg))
	if err != nil {
		return fmt.Errorf("fail job %s: %w", id, err)
	}
	return nil
}

// TimeOutJob ends a running job whose deadline has passed as timed_out, and
// deletes its payload.
func (s *Store) TimeOutJob(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, endJob(`UPDATE jobs SET status = 'timed_out', finished_at = now()
		WHERE id = $1 AND status = 'running' AND deadline <= now()`), id)
	if err != nil {
		return fmt.Errorf("time out job %s: %w", id, err)
	}
	return nil
}

// ValidJobID reports whether s has the form of a job id (a UUID).
func ValidJobID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// UnfinishedJobs returns the jobs (imports and instance creations) that are
// queued or running and were created more than olderThan ago, at most
// limit: the running ones first (imports waiting for their turn must not
// crowd them out), each oldest first.
func (s *Store) UnfinishedJobs(ctx context.Context, olderThan time.Duration, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE status IN ('queued', 'running') AND created_at < now() - $1 * interval '1 millisecond'
		ORDER BY status = 'running' DESC, created_at LIMIT $2`, olderThan.Milliseconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("unfinished jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("unfinished jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
