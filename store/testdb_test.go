package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// testDatabaseURLEnv names the variable that points the store tests at a
// PostgreSQL server (source .run/env). The database in the URL is only used
// to create and drop the per-test databases.
const testDatabaseURLEnv = "ZIMPORT_TEST_DATABASE_URL"

// newTestStore returns a Store on a fresh, migrated database that is dropped
// when the test ends. It fails the test when ZIMPORT_TEST_DATABASE_URL is
// unset or the server cannot be reached; it never skips.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	baseURL := os.Getenv(testDatabaseURLEnv)
	if baseURL == "" {
		t.Fatalf("%s is not set; run `. ./.run/env` (scripts/services.sh starts PostgreSQL)", testDatabaseURLEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", testDatabaseURLEnv, err)
	}
	defer admin.Close(context.Background())

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random database name: %v", err)
	}
	name := "zimport_t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(baseURL, name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	st, err := Open(ctx, withDatabase(t, baseURL, name))
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

// withDatabase returns the connection string base with its database
// replaced by name. base is a URL (postgres://...) or a key=value string.
func withDatabase(t testing.TB, base, name string) string {
	t.Helper()
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse %s: %v", testDatabaseURLEnv, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	// In key=value form the last setting wins.
	return base + " dbname=" + name
}

// dropDatabase drops database name through the server of baseURL. An
// autovacuum worker in the database makes the drop fail for a user that is
// not a superuser (SQLSTATE 42501): it is tried again until the worker is
// done, for up to 30 seconds.
func dropDatabase(baseURL, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
