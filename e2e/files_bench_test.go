package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/gen"
)

// BenchmarkImport_S3Million imports one S3 object, generated: 100 orgs with
// 1,000,000 pre-hashed human users in all (ZIMPORT_BENCH_S3_USERS changes
// that), a user grant each, metadata for half of them and org membership
// for a quarter, from the in-process S3 server, end to end (submission to
// finished job) on one worker process. It reports entities/s, the worker's
// peak RSS, and the time PostgreSQL's COPY takes to load the same rows
// into empty copies of the same tables (same indexes): the import's speed
// as a share of COPY's is the product's headline figure.
func BenchmarkImport_S3Million(b *testing.B) {
	users := 1_000_000
	if v := os.Getenv("ZIMPORT_BENCH_S3_USERS"); v != "" {
		var err error
		if users, err = strconv.Atoi(v); err != nil {
			b.Fatalf("ZIMPORT_BENCH_S3_USERS: %v", err)
		}
	}
	const orgs = 100
	opts := gen.Options{Orgs: orgs, Users: users / orgs, Grants: true, Metadata: 0.5, Members: 0.25, Seed: 1, OrgPrefix: "m-"}
	entities := 0
	for _, n := range opts.Entities() {
		entities += n
	}
	f := newFileServers(b)
	var data bytes.Buffer
	if err := gen.Write(&data, opts); err != nil {
		b.Fatal(err)
	}
	f.putS3("million.json", data.Bytes())
	size := data.Len()
	data = bytes.Buffer{}
	s := newStack(b, append(f.env(), "ZIMPORT_LOG_LEVEL=warn")...)
	worker := s.startWorker("bench")
	b.SetBytes(int64(size))
	b.ResetTimer()
	var total time.Duration
	var instanceID string
	for i := range b.N {
		var pat string
		instanceID, pat = s.createInstance(fmt.Sprintf("Million %d", i))
		start := time.Now()
		id := s.submit(pat, f.request("s3", "million.json", false, nil))
		if job := s.waitJob(id, pat, 2*time.Hour); job["status"] != "succeeded" {
			b.Fatalf("job ended %v: %v", job["status"], job)
		}
		total += time.Since(start)
	}
	b.StopTimer()
	perImport := total / time.Duration(b.N)
	b.ReportMetric(float64(entities)/perImport.Seconds(), "entities/s")
	if kib, err := peakRSSKiB(worker.Process.Pid); err == nil {
		b.ReportMetric(float64(kib)/1024, "worker-peak-MiB")
	}
	copied := copyTime(b, s, instanceID, "orgs", "projects", "project_roles", "users", "user_grants", "user_metadata", "org_members")
	b.ReportMetric(copied.Seconds(), "copy-s")
	b.ReportMetric(100*copied.Seconds()/perImport.Seconds(), "%-of-COPY")
	b.Logf("%d entities, %d MB object: import %s, COPY of its rows %s", entities, size>>20, perImport.Round(time.Millisecond), copied.Round(time.Millisecond))
}

// copyTime copies the rows of an instance in tables into empty copies of
// them (same columns, indexes and constraints but foreign keys) with COPY
// and returns the time COPY FROM took in all.
func copyTime(b *testing.B, s *stack, instanceID string, tables ...string) time.Duration {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var total time.Duration
	for _, table := range tables {
		copyOf := "bench_copy_" + table
		if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS `+copyOf+`; CREATE TABLE `+copyOf+` (LIKE `+table+` INCLUDING ALL)`); err != nil {
			b.Fatal(err)
		}
		var rows bytes.Buffer
		if _, err := conn.PgConn().CopyTo(ctx, &rows, `COPY (SELECT * FROM `+table+` WHERE instance_id = '`+instanceID+`') TO STDOUT`); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := conn.PgConn().CopyFrom(ctx, &rows, `COPY `+copyOf+` FROM STDIN`); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if _, err := conn.Exec(ctx, `DROP TABLE `+copyOf); err != nil {
			b.Fatal(err)
		}
	}
	return total
}
