package store

import (
	"context"
	"testing"
	"time"

	"github.com/zimport/zimport/internal/testdb"
)

// newTestStore returns a Store on a fresh, migrated database that is dropped
// when the test ends. It fails the test when ZIMPORT_TEST_DATABASE_URL is
// unset or the server cannot be reached; it never skips.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	url := testdb.New(t, "zimport_t")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	// Registered after the drop, so it runs first: close the pool, then drop.
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return st
}
