// Package store is zimport's PostgreSQL layer: jobs, their units and
// results, instances and tokens, and the imported directory. No pgx type
// leaves this package; driver errors become the sentinels below.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zimport/zimport/migrations"
)

// Sentinel errors.
var (
	// ErrNotFound is returned when a row does not exist or is not visible to the caller.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a row with the same key already exists.
	ErrConflict = errors.New("already exists")
	// ErrInvalid is returned when an argument, such as a page cursor, is malformed.
	ErrInvalid = errors.New("invalid argument")
	// ErrRejected is returned when the database refuses data for good: a
	// data exception (SQLSTATE class 22, e.g. a NUL character in text) or an
	// integrity violation (class 23) that no check of ours foresaw.
	// Retrying cannot help. The error's message is meant for the client.
	ErrRejected = errors.New("rejected by the database")
	// ErrRaced is returned, together with ErrRejected, when a unit's write
	// broke a unique constraint: most likely on a row that a parallel unit
	// had written but not committed when the unit checked, so that applying
	// the unit again reports the entity instead. A unit that keeps failing so
	// is rejected.
	ErrRaced = errors.New("raced with a parallel unit")
)

// Store is a handle on the database.
type Store struct {
	pool *pgxpool.Pool
}

// Option tunes Open.
type Option struct{ apply func(*pgxpool.Config) }

// WithMaxConns sets the most connections the pool opens; n <= 0 keeps the
// default: pool_max_conns of the URL, else the greater of 4 and the number
// of CPUs.
func WithMaxConns(n int) Option {
	return Option{func(c *pgxpool.Config) {
		if n > 0 {
			c.MaxConns = int32(min(n, math.MaxInt32))
		}
	}}
}

// Open connects to the database at url and checks the connection.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	for _, o := range opts {
		o.apply(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes all connections.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// migrationLock is the advisory lock key that serializes concurrent migrations.
const migrationLock = 7_263_118_001

// Migrate applies the embedded migrations that have not been applied yet.
// Concurrent callers wait for each other.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateUpTo(ctx, "") }

// migrateUpTo is Migrate that stops after the migration named last (all of
// them when last is ""), as an older release would have.
func (s *Store) migrateUpTo(ctx context.Context, last string) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		var applied bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&applied); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if applied {
			continue
		}
		sql, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if name == last {
			break
		}
	}
	return nil
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isConstraint reports whether err is a violation of the named constraint.
func isConstraint(err error, name string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.EqualFold(pe.ConstraintName, name)
}

// rejectedError is an ErrRejected whose message is meant for the client.
type rejectedError struct{ msg string }

func (e *rejectedError) Error() string { return e.msg }
func (e *rejectedError) Unwrap() error { return ErrRejected }

// racedError is a rejectedError that a retry may avoid (ErrRaced).
type racedError struct{ rejectedError }

func (e *racedError) Unwrap() []error { return []error{ErrRejected, ErrRaced} }

// rejection returns what PostgreSQL said when err is a cardinality
// violation (class 21: a statement given the same key twice), a data
// exception (22) or an integrity violation (23), else "": its message and
// SQLSTATE, never its detail, which holds the offending values. raced is
// true for a unique violation in the directory (not in the job_ tables,
// which parallel units do not share keys of).
func rejection(err error) (msg string, raced bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !slices.Contains([]string{"21", "22", "23"}, pe.Code[:min(2, len(pe.Code))]) {
		return "", false
	}
	raced = pe.Code == "23505" && !strings.HasPrefix(pe.TableName, "job_")
	return safeText(fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)), raced
}

// FoldsASCIIOnly reports whether the database's LC_CTYPE is C or POSIX,
// where lower() folds ASCII letters only: user names and domains that
// differ in the case of other letters ("Ä", "ä") are then different.
func (s *Store) FoldsASCIIOnly(ctx context.Context) (bool, error) {
	var ctype string
	if err := s.pool.QueryRow(ctx, `SELECT datctype FROM pg_database WHERE datname = current_database()`).Scan(&ctype); err != nil {
		return false, fmt.Errorf("look up LC_CTYPE: %w", err)
	}
	return ctype == "C" || ctype == "POSIX", nil
}
