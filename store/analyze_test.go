package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestStore_AnalyzeStale analyses a table that grew without statistics, and
// leaves it alone once its statistics are fresh.
func TestStore_AnalyzeStale(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO orgs (instance_id, id, name) SELECT $1, 'o' || g, 'Org ' || g
		FROM generate_series(1, 3000) g`, kindsInstance); err != nil {
		t.Fatal(err)
	}
	// The statistics system learns of the inserts within a second.
	var analyzed []string
	for deadline := time.Now().Add(10 * time.Second); !slices.Contains(analyzed, "orgs"); {
		if time.Now().After(deadline) {
			t.Fatalf("AnalyzeStale never analysed orgs (last: %v)", analyzed)
		}
		time.Sleep(200 * time.Millisecond)
		var err error
		if analyzed, err = s.AnalyzeStale(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var tuples float64
	if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'orgs'::regclass`).Scan(&tuples); err != nil {
		t.Fatal(err)
	}
	if tuples < 3000 {
		t.Errorf("orgs has reltuples %v after the analysis, want 3000", tuples)
	}
	again, err := s.AnalyzeStale(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(again, "orgs") {
		t.Errorf("orgs analysed again without changes: %v", again)
	}
}
