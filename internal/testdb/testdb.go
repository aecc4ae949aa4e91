// Package testdb gives tests fresh PostgreSQL databases on the server that
// ZIMPORT_TEST_DATABASE_URL names (make test sets it; so does sourcing
// .run/env). It is for tests only.
package testdb

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

// URLEnv names the variable with the connection string of the test server.
// Its database is only used to create and drop the per-test databases.
const URLEnv = "ZIMPORT_TEST_DATABASE_URL"

// New creates an empty database named prefix_<random> and returns its
// connection string; the database is dropped when the test ends (register
// cleanups that close pools after calling New, so that they run first). It
// fails the test when URLEnv is unset or the server cannot be reached: it
// never skips.
func New(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv(URLEnv)
	if base == "" {
		t.Fatalf("%s is not set; run make test, or source .run/env after scripts/services.sh up", URLEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", URLEnv, err)
	}
	defer admin.Close(context.Background())

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random database name: %v", err)
	}
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := drop(base, name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, base, name)
}

// withDatabase returns the connection string base with its database
// replaced by name. base is a URL (postgres://...) or a key=value string.
func withDatabase(t testing.TB, base, name string) string {
	t.Helper()
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse %s: %v", URLEnv, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	// In key=value form the last setting wins.
	return base + " dbname=" + name
}

// drop drops database name through the server of base. An autovacuum
// worker in the database makes the drop fail for a user that is not a
// superuser (SQLSTATE 42501): it is tried again until the worker is done,
// for up to 30 seconds.
func drop(base, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
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
