package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/source"
)

// splitBatch is how many rows SplitTables sends in one COPY.
const splitBatch = 20_000

// SplitTables are the temporary tables of one split, on one connection: the
// ids that the orgs of an import define, to find an id given in two orgs,
// and the values they claim (importdata.Claim), to order the units that
// claim the same value. The split holds neither in memory. Save records the
// split, with its claims, in a transaction on the same connection.
type SplitTables struct {
	conn         *pgxpool.Conn
	defs, claims [][]any
	defSeq       int64
}

// NewSplitTables opens empty tables; Close releases them.
func (s *Store) NewSplitTables(ctx context.Context) (*SplitTables, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("split tables: %w", err)
	}
	_, err = conn.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.split_definitions, pg_temp.split_claims;
		CREATE TEMP TABLE split_definitions (seq bigint, org int, kind text, key text, path text);
		CREATE TEMP TABLE split_claims (org int, step text, item int, kind text, key text, takes boolean)`)
	if err != nil {
		conn.Release()
		return nil, fmt.Errorf("split tables: %w", err)
	}
	return &SplitTables{conn: conn}, nil
}

// Define records an id that an org defines; rows are written in batches.
func (t *SplitTables) Define(ctx context.Context, def importdata.Definition) error {
	t.defSeq++
	t.defs = append(t.defs, []any{t.defSeq, def.Org, def.Kind, def.Key, def.Path})
	if len(t.defs) >= splitBatch {
		return t.flush(ctx)
	}
	return nil
}

// Claim records a value that an org claims; rows are written in batches.
func (t *SplitTables) Claim(ctx context.Context, c importdata.Claim) error {
	step := claimStep(c.Field)
	if step == nil {
		return fmt.Errorf("record claim: no step reads %q", c.Field)
	}
	if step.Stage != StagePass1 {
		// Units of a later stage of an earlier org cannot run first: a
		// unit waiting for one would wait for ever.
		return fmt.Errorf("record claim: step %q is not in the first stage", step.Name)
	}
	t.claims = append(t.claims, []any{c.Org, step.Name, c.Item, c.Kind, c.Key, c.Takes})
	if len(t.claims) >= splitBatch {
		return t.flush(ctx)
	}
	return nil
}

// claimStep returns the step that reads the member field.
func claimStep(field string) *Step { return stepsByField()[field] }

// stepsByField maps each DataOrg member to the step that reads it, once the
// steps are registered (the split looks a step up for every claim).
var stepsByField = sync.OnceValue(func() map[string]*Step {
	m := map[string]*Step{}
	for _, s := range registry {
		for _, f := range s.Fields {
			m[f] = s
		}
	}
	return m
})

func (t *SplitTables) flush(ctx context.Context) error {
	for _, b := range []struct {
		table   string
		columns []string
		rows    *[][]any
	}{
		{"split_definitions", []string{"seq", "org", "kind", "key", "path"}, &t.defs},
		{"split_claims", []string{"org", "step", "item", "kind", "key", "takes"}, &t.claims},
	} {
		if len(*b.rows) == 0 {
			continue
		}
		_, err := t.conn.CopyFrom(ctx, pgx.Identifier{b.table}, b.columns, pgx.CopyFromRows(*b.rows))
		*b.rows = (*b.rows)[:0]
		if err != nil {
			return fmt.Errorf("record %s: %w", b.table, err)
		}
	}
	return nil
}

// FirstTwice returns the first id, in file order, that an org defines
// after an earlier org defined it, and the index of that earlier org.
func (t *SplitTables) FirstTwice(ctx context.Context) (def importdata.Definition, firstOrg int, found bool, err error) {
	if err := t.flush(ctx); err != nil {
		return def, 0, false, err
	}
	err = t.conn.QueryRow(ctx, `
		WITH shared AS (
			SELECT kind, key, min(org) AS org FROM split_definitions
			GROUP BY kind, key HAVING min(org) <> max(org))
		SELECT d.org, d.path, d.kind, d.key, s.org FROM split_definitions d JOIN shared s USING (kind, key)
		WHERE d.org > s.org ORDER BY d.seq LIMIT 1`).Scan(&def.Org, &def.Path, &def.Kind, &def.Key, &firstOrg)
	if errors.Is(err, pgx.ErrNoRows) {
		return def, 0, false, nil
	}
	if err != nil {
		return def, 0, false, fmt.Errorf("find ids given twice: %w", err)
	}
	return def, firstOrg, true, nil
}

// Save records the split of job (as Store.SaveSplit does) and, in the same
// transaction, the claims that units of two or more orgs share: for each
// value (its case folded by lower()) claimed by two orgs, one of which takes
// it, the units that claim it. With onConflict OVERWRITE an org or user of
// the file may be renamed, giving its name up: the names they have now are
// claimed too, by the units that import them. (User ids are compared as they
// are: only a derived one can be shared.)
func (t *SplitTables) Save(ctx context.Context, job Job, orgs []SplitOrg, units []Unit, totals map[string]int, pin *source.Version) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	return saveSplit(ctx, t.conn, job.ID, orgs, units, totals, pin, func(tx pgx.Tx) error {
		// A human user without an id takes the id derived from its name
		// and its org's id (generatedUserID), which another org may give.
		if _, err := tx.Exec(ctx, `UPDATE split_claims c SET kind = $3, key = `+derivedUserIDSQL("o.org_id", "c.key")+`
			FROM job_orgs o WHERE c.kind = $2 AND o.job_id = $1 AND o.org_index = c.org`,
			job.ID, importdata.ClaimDerivedUserID, importdata.ClaimUserID); err != nil {
			return fmt.Errorf("derive user ids: %w", err)
		}
		if job.OnConflict == importdata.OnConflictOverwrite {
			// (A name longer than any entity may take is not claimed.)
			_, err := tx.Exec(ctx, `INSERT INTO split_claims (org, step, item, kind, key, takes)
				SELECT o.org_index, 'org', 0, $3, x.name, true
				FROM job_orgs o JOIN orgs x ON x.instance_id = $2 AND x.id = o.org_id
				WHERE o.job_id = $1 AND char_length(x.name) <= $6
				UNION ALL
				SELECT c.org, c.step, c.item, $4, u.username, true
				FROM split_claims c JOIN users u ON u.instance_id = $2 AND u.id = c.key
				WHERE c.kind = $5 AND char_length(u.username) <= $6`,
				job.ID, job.InstanceID, importdata.ClaimOrgName, importdata.ClaimUserName, importdata.ClaimUserID, importdata.MaxClaimed)
			if err != nil {
				return fmt.Errorf("claim the names that entities of the file have: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `
			WITH keyed AS (SELECT org, step, item, kind, CASE WHEN kind = $3 THEN key ELSE lower(key) END AS key, takes FROM split_claims),
			shared AS (SELECT kind, key FROM keyed GROUP BY kind, key HAVING min(org) <> max(org) AND bool_or(takes))
			INSERT INTO job_claims (job_id, kind, key, org_index, stage, seq, takes)
			SELECT $1, k.kind, k.key, k.org, u.stage, u.seq, bool_or(k.takes)
			FROM keyed k JOIN shared USING (kind, key)
			CROSS JOIN LATERAL (SELECT stage, seq FROM job_units u
				WHERE u.job_id = $1 AND u.stage = $2 AND u.org_index = k.org AND k.step = ANY(u.steps) AND u.first_item <= k.item
				ORDER BY u.first_item DESC LIMIT 1) u
			GROUP BY k.kind, k.key, k.org, u.stage, u.seq`, job.ID, StagePass1, importdata.ClaimUserID)
		if err != nil {
			return fmt.Errorf("save claims: %w", err)
		}
		return nil
	})
}

// Close drops the tables and releases their connection.
func (t *SplitTables) Close() {
	ctx := context.Background()
	if _, err := t.conn.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.split_definitions, pg_temp.split_claims`); err != nil {
		t.conn.Conn().Close(ctx) //nolint:errcheck // its temporary tables go with it
	}
	t.conn.Release()
}
