package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zimport/zimport/importdata"
)

// definitionBatch is how many ids Definitions sends in one COPY.
const definitionBatch = 20_000

// Definitions collects the ids that the orgs of an import file define in a
// temporary table of one connection, so that the split finds an id given
// in two orgs without holding every id of the file in memory.
type Definitions struct {
	conn  *pgxpool.Conn
	batch [][]any
	seq   int64
}

// NewDefinitions opens an empty collection; Close releases it.
func (s *Store) NewDefinitions(ctx context.Context) (*Definitions, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("definitions: %w", err)
	}
	_, err = conn.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.split_definitions;
		CREATE TEMP TABLE split_definitions (seq bigint, org int, kind text, key text, path text)`)
	if err != nil {
		conn.Release()
		return nil, fmt.Errorf("definitions: %w", err)
	}
	return &Definitions{conn: conn}, nil
}

// Add records d; it is written in batches.
func (d *Definitions) Add(ctx context.Context, def importdata.Definition) error {
	d.seq++
	d.batch = append(d.batch, []any{d.seq, def.Org, def.Kind, def.Key, def.Path})
	if len(d.batch) >= definitionBatch {
		return d.flush(ctx)
	}
	return nil
}

func (d *Definitions) flush(ctx context.Context) error {
	if len(d.batch) == 0 {
		return nil
	}
	_, err := d.conn.CopyFrom(ctx, pgx.Identifier{"split_definitions"}, []string{"seq", "org", "kind", "key", "path"},
		pgx.CopyFromRows(d.batch))
	d.batch = d.batch[:0]
	if err != nil {
		return fmt.Errorf("record definitions: %w", err)
	}
	return nil
}

// FirstTwice returns the first id, in file order, that an org defines
// after an earlier org defined it, and the index of that earlier org.
func (d *Definitions) FirstTwice(ctx context.Context) (def importdata.Definition, firstOrg int, found bool, err error) {
	if err := d.flush(ctx); err != nil {
		return def, 0, false, err
	}
	err = d.conn.QueryRow(ctx, `
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

// Close drops the collection and releases its connection.
func (d *Definitions) Close() {
	ctx := context.Background()
	if _, err := d.conn.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.split_definitions`); err != nil {
		d.conn.Conn().Close(ctx) //nolint:errcheck // its temporary table goes with it
	}
	d.conn.Release()
}
