package worker

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zaptest"

	"github.com/zimport/zimport/internal/testdb"
	"github.com/zimport/zimport/store"
)

// testRedisDB is the Redis database index of this package's tests.
const testRedisDB = 12

// testEnv is a worker on a fresh database and the package's Redis database.
type testEnv struct {
	w   *Worker
	st  *store.Store
	db  *pgxpool.Pool // for setting up and checking rows directly
	q   *asynq.Client
	rdb asynq.RedisClientOpt
}

var flushOnce sync.Once

// newTestEnv returns a worker on a fresh migrated database, dropped when the
// test ends, with instance "inst1". It fails the test when
// ZIMPORT_TEST_DATABASE_URL or ZIMPORT_TEST_REDIS_ADDR is unset.
func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	addr := os.Getenv("ZIMPORT_TEST_REDIS_ADDR")
	if addr == "" {
		t.Fatal("ZIMPORT_TEST_REDIS_ADDR must be set; run make test, or source .run/env")
	}
	url := testdb.New(t, "zimport_w")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	db, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Exec(ctx, `INSERT INTO instances (id, name, default_org_id) VALUES ('inst1', 'Test', '')`); err != nil {
		t.Fatalf("insert instance: %v", err)
	}

	rdb := asynq.RedisClientOpt{Addr: addr, DB: testRedisDB}
	flushOnce.Do(func() {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: testRedisDB})
		defer c.Close()
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Fatalf("flush redis db %d: %v", testRedisDB, err)
		}
	})
	q := asynq.NewClient(rdb)
	t.Cleanup(func() { q.Close() })
	w := New(zaptest.NewLogger(t), st, q, Config{ChunkSize: 100, BcryptCost: 4})
	return &testEnv{w: w, st: st, db: db, q: q, rdb: rdb}
}

// submit records a queued import job of payload in instance inst1.
func (e *testEnv) submit(t testing.TB, payload string) store.Job {
	t.Helper()
	job, _, err := e.st.CreateJob(context.Background(), store.NewJob{Kind: store.KindImport, InstanceID: "inst1",
		Caller: "test", OnConflict: "FAIL", Timeout: time.Hour, Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	return job
}

// job returns job id as it is now.
func (e *testEnv) job(t testing.TB, id string) store.Job {
	t.Helper()
	j, err := e.st.JobByID(context.Background(), id)
	if err != nil {
		t.Fatalf("load job: %v", err)
	}
	return j
}

// exec runs SQL on the test database.
func (e *testEnv) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := e.db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// count returns the single number a query returns.
func (e *testEnv) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
