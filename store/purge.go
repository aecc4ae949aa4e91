package store

import (
	"context"
	"fmt"
	"time"
)

// PurgeFinishedJobs deletes up to limit jobs that finished before `before`,
// with everything recorded for them (payload, units, results). Imported
// entities stay. It returns how many jobs it deleted.
func (s *Store) PurgeFinishedJobs(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM jobs WHERE id IN (
		SELECT id FROM jobs WHERE finished_at < $1 ORDER BY finished_at LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("purge jobs: %w", err)
	}
	return tag.RowsAffected(), nil
}
