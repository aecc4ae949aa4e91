package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The look-ups of an import find rows by their keys among ids given as an
// array (id = ANY($2)). Without planner statistics, PostgreSQL cannot tell
// that such a look-up matches a few rows and scans every row of the
// instance instead: on a fresh database, or while an import makes a table
// many times larger, look-ups become a hundred times slower until
// autovacuum analyses the table (a minute or more later). AnalyzeStale
// closes that gap.

// analyzeLock is the advisory lock that lets one session at a time analyse.
const analyzeLock = 0x7a696d706f7274 // "zimport"

// Thresholds of AnalyzeStale: a table is analysed when it has had at least
// staleRows changes since its last analysis and they are at least
// staleShare of its rows, so a table that grows is analysed a number of
// times logarithmic in its size.
const (
	staleRows  = 1000
	staleShare = 0.5
)

// AnalyzeStale refreshes the planner statistics of the tables of the schema
// whose rows changed much since they were last analysed, and returns their
// names. When another session is analysing, it returns at once.
func (s *Store) AnalyzeStale(ctx context.Context) ([]string, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, analyzeLock).Scan(&locked); err != nil || !locked {
		return nil, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, analyzeLock) //nolint:errcheck // released with the session anyway
	// Only tables this role may analyse (as a member of their owner or of
	// the database's): ANALYZE skips others with a warning.
	rows, err := conn.Query(ctx, `SELECT s.relname::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
		WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze >= $1
			AND s.n_mod_since_analyze >= $2 * greatest(s.n_live_tup, 0)
			AND (pg_has_role(c.relowner, 'USAGE') OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE'))
		ORDER BY s.relname`, staleRows, staleShare)
	if err != nil {
		return nil, fmt.Errorf("analyze: find stale tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("analyze: find stale tables: %w", err)
	}
	for _, t := range tables {
		if _, err := conn.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
			return nil, fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return tables, nil
}
