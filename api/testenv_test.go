package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zaptest"

	"github.com/zimport/zimport/internal/testdb"
	"github.com/zimport/zimport/seal"
	"github.com/zimport/zimport/store"
)

// testRedisDB is the Redis database index of this package's tests.
const testRedisDB = 5

const testSystemToken = "sys-token-for-api-tests-0123456789"

var flushOnce sync.Once

// testRedis returns the connection options of the package's Redis database,
// flushed once per test binary.
func testRedis(t testing.TB) asynq.RedisClientOpt {
	t.Helper()
	addr := os.Getenv("ZIMPORT_TEST_REDIS_ADDR")
	if addr == "" {
		t.Fatal("ZIMPORT_TEST_REDIS_ADDR is not set; run make test, or source .run/env")
	}
	flushOnce.Do(func() {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: testRedisDB})
		defer c.Close()
		if err := c.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("flush redis db %d: %v", testRedisDB, err)
		}
	})
	return asynq.RedisClientOpt{Addr: addr, DB: testRedisDB}
}

// redisPinger adapts go-redis to Pinger.
type redisPinger struct{ c *redis.Client }

func (p redisPinger) Ping(ctx context.Context) error { return p.c.Ping(ctx).Err() }

// pingFunc is a Pinger made of a function.
type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

// testDB creates a fresh migrated database for one test and returns its
// store and a pool for direct SQL.
func testDB(t testing.TB) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	url := testdb.New(t, "zimport_api")
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return st, pool
}

// testEnv is a running API on a fresh database and the package's Redis
// database, with two instances and their PATs.
type testEnv struct {
	t         testing.TB
	st        *store.Store
	db        *pgxpool.Pool
	box       *seal.Box
	srv       *Server
	http      *httptest.Server
	inspector *asynq.Inspector
	redisOpt  asynq.RedisClientOpt

	instanceID, pat           string // the main tenant
	otherInstanceID, otherPAT string // another tenant
	expiredPAT                string

	mu      sync.Mutex
	bodies  [][]byte // every answer body, checked for secrets at the end
	secrets []string
}

type envOption func(*Config, *Enqueuer)

// withQueue makes the server enqueue with q.
func withQueue(q Enqueuer) envOption { return func(_ *Config, e *Enqueuer) { *e = q } }

// withConfig changes the server's configuration.
func withConfig(f func(*Config)) envOption { return func(c *Config, _ *Enqueuer) { f(c) } }

func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	redisOpt := testRedis(t)
	st, db := testDB(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := seal.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { client.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: redisOpt.Addr, DB: redisOpt.DB})
	t.Cleanup(func() { rdb.Close() })
	cfg := Config{
		SystemTokens:   []string{"another-system-token-abcdefgh", testSystemToken},
		MaxInlineBytes: 64 << 10,
		DefaultTimeout: 30 * time.Minute,
		MaxTimeout:     24 * time.Hour,
		ChunkSize:      1000,
		RedisConnOpt:   redisOpt,
		Redis:          redisPinger{rdb},
	}
	var q Enqueuer = client
	for _, o := range opts {
		o(&cfg, &q)
	}
	srv, err := New(zaptest.NewLogger(t), st, q, box, cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	insp := asynq.NewInspector(redisOpt)
	t.Cleanup(func() { insp.Close() })

	e := &testEnv{t: t, st: st, db: db, box: box, srv: srv, http: hs, inspector: insp, redisOpt: redisOpt}
	e.instanceID, e.pat = e.addInstance("inst-a", time.Hour)
	e.otherInstanceID, e.otherPAT = e.addInstance("inst-b", time.Hour)
	_, e.expiredPAT = e.addInstance("inst-c", -time.Hour)
	e.secrets = []string{testSystemToken, "another-system-token-abcdefgh", e.pat, e.otherPAT, e.expiredPAT}
	t.Cleanup(e.checkNoSecrets)
	return e
}

// addInstance inserts an instance and a PAT of its owner valid for ttl
// (expired when negative).
func (e *testEnv) addInstance(id string, ttl time.Duration) (instanceID, pat string) {
	e.t.Helper()
	var b [16]byte
	_, _ = rand.Read(b[:])
	pat = "pat-" + hex.EncodeToString(b[:])
	hash := sha256.Sum256([]byte(pat))
	ctx := context.Background()
	if _, err := e.db.Exec(ctx, `INSERT INTO instances (id, name, default_org_id) VALUES ($1, $1, $1 || '-org')`, id); err != nil {
		e.t.Fatalf("insert instance: %v", err)
	}
	if _, err := e.db.Exec(ctx, `INSERT INTO personal_access_tokens (id, instance_id, user_id, token_hash, expires_at)
		VALUES ($1 || '-pat', $1, $1 || '-owner', $2, now() + $3 * interval '1 second')`, id, hash[:], ttl.Seconds()); err != nil {
		e.t.Fatalf("insert pat: %v", err)
	}
	return id, pat
}

// addSecret adds a string that no answer may contain.
func (e *testEnv) addSecret(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, s)
}

func (e *testEnv) checkNoSecrets() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.bodies {
		for _, s := range e.secrets {
			if bytes.Contains(b, []byte(s)) {
				e.t.Errorf("an answer contains the secret %q: %s", s, b)
			}
		}
	}
}

// response is an answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// req is one request of a test.
type req struct {
	method, path string
	token        string // bearer token; empty for none
	body         string
	header       map[string]string
}

// do sends r and reads the answer. Every answer must carry X-Request-Id.
func (e *testEnv) do(r req) response {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, e.http.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	return e.send(hr)
}

func (e *testEnv) send(hr *http.Request) response {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", hr.Method, hr.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read answer of %s %s: %v", hr.Method, hr.URL.Path, err)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		e.t.Errorf("%s %s: answer without X-Request-Id", hr.Method, hr.URL.Path)
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, b)
	e.mu.Unlock()
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}
