package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// A dry run (dryRun: true) imports into a scratch instance: a copy of the
// job's instance made when the job starts, so that every check, the
// references to entities that already exist included, runs exactly as in a
// real import, and the instance itself is never written. Workers delete the
// scratch instance, with all its rows, once the job has ended
// (PurgeDryRuns, every few seconds).

// dryRunPrefix starts the id of a scratch instance.
const dryRunPrefix = "dry-run:"

// DryRunInstance is the id of the scratch instance of dry-run job jobID.
func DryRunInstance(jobID string) string { return dryRunPrefix + jobID }

// notCopied are the tables with an instance_id that a dry run does not copy:
// jobs, and the instance's own domains and tokens, unique across instances.
var notCopied = map[string]bool{"jobs": true, "instance_domains": true, "personal_access_tokens": true}

// PrepareDryRun copies the directory of the instance of dry-run job job into
// its scratch instance, in one transaction; a copy that exists is kept, so a
// retried start does not copy twice.
func (s *Store) PrepareDryRun(ctx context.Context, job Job) error {
	scratch := DryRunInstance(job.ID)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Not locked: a job that ends during the copy keeps a copy that
		// PurgeDryRuns deletes, and a cancel does not wait for the copy.
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM jobs WHERE id = $1`, job.ID).Scan(&status); err != nil {
			return fmt.Errorf("lock dry-run job %s: %w", job.ID, err)
		}
		if status != StatusRunning {
			return nil
		}
		tag, err := tx.Exec(ctx, `INSERT INTO instances (id, name, default_language, default_org_id)
			SELECT $2, name, default_language, default_org_id FROM instances WHERE id = $1
			ON CONFLICT DO NOTHING`, job.InstanceID, scratch)
		if err != nil {
			return fmt.Errorf("create the scratch instance of job %s: %w", job.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return nil // copied by an earlier attempt, or the instance is gone
		}
		tables, err := directoryTables(ctx, tx)
		if err != nil {
			return err
		}
		for _, t := range tables {
			cols := make([]string, len(t.columns))
			values := make([]string, len(t.columns))
			for i, c := range t.columns {
				cols[i] = pgx.Identifier{c}.Sanitize()
				values[i] = cols[i]
				if c == "instance_id" {
					values[i] = "$2"
				}
			}
			name := pgx.Identifier{t.name}.Sanitize()
			_, err := tx.Exec(ctx, `INSERT INTO `+name+` (`+strings.Join(cols, ", ")+`)
				SELECT `+strings.Join(values, ", ")+` FROM `+name+` WHERE instance_id = $1`, job.InstanceID, scratch)
			if err != nil {
				return fmt.Errorf("copy %s into the scratch instance of job %s: %w", t.name, job.ID, err)
			}
		}
		return nil
	})
}

// PurgeDryRuns deletes the scratch instances of dry-run jobs that are no
// longer running (or no longer exist), and returns how many went.
func (s *Store) PurgeDryRuns(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM instances i WHERE starts_with(i.id, $1) AND NOT EXISTS (
		SELECT 1 FROM jobs j WHERE $1 || j.id::text = i.id AND j.status IN ('queued', 'running'))`, dryRunPrefix)
	if err != nil {
		return 0, fmt.Errorf("purge dry-run instances: %w", err)
	}
	return tag.RowsAffected(), nil
}

// table is a directory table and its columns.
type table struct {
	name    string
	columns []string
}

// directoryTables returns the tables of an instance's directory (those with
// an instance_id column but notCopied), parents before the tables whose
// foreign keys name them, read from the catalog so that a new table is
// copied without a change here.
func directoryTables(ctx context.Context, tx pgx.Tx) ([]table, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname::text,
			array(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
				AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum),
			array(SELECT DISTINCT r.relname::text FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
				WHERE k.conrelid = c.oid AND k.contype = 'f' AND r.oid <> c.oid)
		FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
			AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'instance_id' AND NOT a.attisdropped)
		ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("read the directory tables: %w", err)
	}
	type node struct {
		table
		parents []string
	}
	nodes := map[string]*node{}
	var names []string
	for rows.Next() {
		var n node
		if err := rows.Scan(&n.name, &n.columns, &n.parents); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the directory tables: %w", err)
		}
		if !notCopied[n.name] {
			nodes[n.name] = &n
			names = append(names, n.name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the directory tables: %w", err)
	}
	sort.Strings(names)
	var out []table
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string) error
	visit = func(name string) error {
		n := nodes[name]
		switch {
		case n == nil || state[name] == 2:
			return nil // instances, or a table outside the directory
		case state[name] == 1:
			return errors.New("the directory tables' foreign keys form a cycle at " + name)
		}
		state[name] = 1
		for _, p := range n.parents {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, n.table)
		return nil
	}
	for _, name := range names {
		if err := visit(name); err != nil {
			return nil, err
		}
	}
	return out, nil
}
