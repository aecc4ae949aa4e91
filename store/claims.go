package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrBlocked is returned by ApplyUnit for a unit that claims a value (see
// job_claims) that a unit of an earlier org claims too, while that unit is
// not done: the earlier org must win, as in ZITADEL's import, whatever the
// order the units happen to run in. The unit is to be applied again later;
// Waiting names it once the unit it waits for is done.
var ErrBlocked = errors.New("the unit waits for a unit of an earlier org that claims the same value")

// blockedSQL finds a unit not done of an earlier org that claims a value
// the unit $1..$4 claims, unless both only read it. It looks back only to
// the nearest earlier org that takes the value: that org's units waited for
// every claim before theirs, so when they are done, all before are. (A long
// chain of orgs that share one name costs each unit one step back, not the
// whole chain.) Each statement of a unit's transaction sees the units
// committed before it started, so a unit found done has its rows in the
// directory for the unit's look-ups.
const blockedSQL = `SELECT EXISTS (SELECT 1 FROM job_claims c
	CROSS JOIN LATERAL (SELECT max(t.org_index) AS org_index FROM job_claims t
		WHERE t.job_id = c.job_id AND t.kind = c.kind AND t.key = c.key AND t.org_index < c.org_index AND t.takes) prev
	JOIN job_claims e ON e.job_id = c.job_id AND e.kind = c.kind AND e.key = c.key
		AND e.org_index < c.org_index AND e.org_index >= coalesce(prev.org_index, -1) AND (e.takes OR c.takes)
	JOIN job_units u ON u.job_id = e.job_id AND u.stage = e.stage AND u.org_index = e.org_index AND u.seq = e.seq
	WHERE c.job_id = $1 AND c.stage = $2 AND c.org_index = $3 AND c.seq = $4 AND NOT u.done)`

// blocked reports whether unit u must wait (ErrBlocked).
func blocked(ctx context.Context, db dbtx, u Unit) (bool, error) {
	var b bool
	if err := db.QueryRow(ctx, blockedSQL, u.JobID, u.Stage, u.OrgIndex, u.Seq).Scan(&b); err != nil {
		return false, fmt.Errorf("look up earlier claims: %w", err)
	}
	return b, nil
}

// Blocked reports whether unit k must wait for a unit of an earlier org
// (see ErrBlocked), so that a worker need not read its bytes yet.
func (s *Store) Blocked(ctx context.Context, k UnitKey) (bool, error) {
	return blocked(ctx, s.pool, Unit{JobID: k.JobID, Stage: k.Stage, OrgIndex: k.OrgIndex, Seq: k.Seq})
}

// Waiting returns the units that unit k, now done, may have kept waiting
// (ErrBlocked): per value k claims, the units of later orgs that claim it,
// up to the first that takes it (units after that one wait for it), when
// one of the two takes the value. They may still wait for other units.
func (s *Store) Waiting(ctx context.Context, k UnitKey) ([]UnitKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT c.stage, c.org_index, c.seq
		FROM job_claims m
		JOIN job_claims c ON c.job_id = m.job_id AND c.kind = m.kind AND c.key = m.key
			AND c.org_index > m.org_index AND (m.takes OR c.takes)
		JOIN job_units u ON u.job_id = c.job_id AND u.stage = c.stage AND u.org_index = c.org_index AND u.seq = c.seq
		WHERE m.job_id = $1 AND m.stage = $2 AND m.org_index = $3 AND m.seq = $4 AND NOT u.done
			AND c.org_index <= coalesce((SELECT min(t.org_index) FROM job_claims t
				WHERE t.job_id = m.job_id AND t.kind = m.kind AND t.key = m.key AND t.org_index > m.org_index AND t.takes), c.org_index)
		ORDER BY c.org_index, c.stage, c.seq`, k.JobID, k.Stage, k.OrgIndex, k.Seq)
	if err != nil {
		return nil, fmt.Errorf("waiting units: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitKey, error) {
		w := UnitKey{JobID: k.JobID}
		return w, r.Scan(&w.Stage, &w.OrgIndex, &w.Seq)
	})
}
