package store

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestRejection sorts PostgreSQL errors: data the database refuses for good,
// unique violations in the directory that a retry may avoid, and the rest.
func TestRejection(t *testing.T) {
	for _, tc := range []struct {
		code, table string
		msg         bool
		raced       bool
	}{
		{"23505", "users", true, true},        // a name a parallel unit took
		{"23505", "job_results", true, false}, // a bug of ours: retrying cannot help
		{"23503", "users", true, false},       // foreign key
		{"22021", "orgs", true, false},        // a NUL character
		{"21000", "user_otp", true, false},    // a statement writing a row twice
		{"40P01", "users", false, false},      // a deadlock: retried as any error
	} {
		err := fmt.Errorf("apply: %w", &pgconn.PgError{Code: tc.code, TableName: tc.table, Message: "m"})
		msg, raced := rejection(err)
		if (msg != "") != tc.msg || raced != tc.raced {
			t.Errorf("%s on %s: message %q, raced %v; want a message %v, raced %v", tc.code, tc.table, msg, raced, tc.msg, tc.raced)
		}
	}
}
