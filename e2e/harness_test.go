package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/zimport/zimport/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// binary is the zimport binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "zimport-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "zimport")
	build := exec.Command("go", "build", "-o", binary, "../cmd/zimport")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build zimport:", err)
		os.Exit(1)
	}
	stop, err := privateRedis(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "private redis:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// privateRedis starts a redis-server of the package's own, when the binary
// is installed, and points ZIMPORT_TEST_REDIS_ADDR at it: two e2e runs at
// once (or any other user of the shared Redis) then never take each other's
// tasks. Without the binary the shared Redis of ZIMPORT_TEST_REDIS_ADDR is
// used. It returns the function that stops the server.
func privateRedis(dir string) (stop func(), err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return func() {}, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--databases", "64", "--dir", dir)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for start := time.Now(); rdb.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			stop()
			return nil, fmt.Errorf("redis-server on %s did not answer within 10s", addr)
		}
	}
	redisDB.Store(-1) // the server is ours: its databases from 0
	os.Setenv("ZIMPORT_TEST_REDIS_ADDR", addr)
	return stop, nil
}

const systemToken = "e2e-system-token"

// redisDB hands out a Redis database index per stack (the next one) so
// tests never share a queue.
var redisDB atomic.Int32

func init() { redisDB.Store(8) }

// stack is one zimport deployment: its own database, Redis database, API
// process and worker processes.
type stack struct {
	t       testing.TB
	env     []string
	redis   *redis.Options
	dbURL   string
	apiURL  string
	workers map[string]*exec.Cmd
	logs    map[string]string
}

// newStack migrates a fresh database and starts the API. extraEnv adds
// ZIMPORT_* settings.
func newStack(t testing.TB, extraEnv ...string) *stack {
	t.Helper()
	redisAddr := os.Getenv("ZIMPORT_TEST_REDIS_ADDR")
	if redisAddr == "" {
		t.Fatal("ZIMPORT_TEST_REDIS_ADDR must be set (make test sets it)")
	}
	dbURL := testdb.New(t, "zimport_e2e")
	db := int(redisDB.Add(1))
	key := make([]byte, 32)
	rand.Read(key)
	s := &stack{t: t, dbURL: dbURL, redis: &redis.Options{Addr: redisAddr, DB: db}, workers: map[string]*exec.Cmd{}, logs: map[string]string{}}
	s.flushRedis()
	s.env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"ZIMPORT_DATABASE_URL=" + s.dbURL,
		"ZIMPORT_REDIS_ADDR=" + redisAddr,
		fmt.Sprintf("ZIMPORT_REDIS_DB=%d", db),
		"ZIMPORT_SYSTEM_TOKENS=" + systemToken,
		"ZIMPORT_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key),
		"ZIMPORT_BCRYPT_COST=4",
		"ZIMPORT_LOG_LEVEL=debug",
	}, extraEnv...)
	if out, err := s.command("migrate").CombinedOutput(); err != nil {
		t.Fatalf("zimport migrate: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	s.apiURL = "http://" + addr
	s.start("api", "api", "ZIMPORT_HTTP_ADDR="+addr)
	s.waitReady()
	return s
}

// flushRedis empties the stack's Redis database: every task is lost.
func (s *stack) flushRedis() {
	s.t.Helper()
	rdb := redis.NewClient(s.redis)
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		s.t.Fatalf("flush redis db %d: %v", s.redis.DB, err)
	}
}

func (s *stack) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = s.env
	return cmd
}

// start runs a zimport process named name, logging to a file of the test.
func (s *stack) start(name, mode string, env ...string) *exec.Cmd {
	s.t.Helper()
	cmd := s.command(mode)
	cmd.Env = append(cmd.Env, env...)
	logPath := filepath.Join(s.t.TempDir(), fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	s.workers[name] = cmd
	s.logs[name] = logPath
	s.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }() //nolint:errcheck
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-done
		}
		f.Close()
		if s.t.Failed() {
			b, _ := os.ReadFile(logPath)
			s.t.Logf("--- log of %s (last 4 KiB):\n%s", name, tail(b, 4096))
		}
	})
	return cmd
}

// startWorker starts a worker process.
func (s *stack) startWorker(name string, env ...string) *exec.Cmd {
	return s.start(name, "worker", env...)
}

// kill stops a process with SIGKILL and waits for it.
func (s *stack) kill(name string) {
	cmd := s.workers[name]
	cmd.Process.Kill() //nolint:errcheck
	cmd.Wait()         //nolint:errcheck
}

func (s *stack) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.apiURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("API not ready after 30s")
}

// do sends a request and returns the status and body.
func (s *stack) do(method, path, token string, body []byte, header ...string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.apiURL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// createInstance creates an instance with a machine owner and returns its PAT.
func (s *stack) createInstance(name string) (instanceID, pat string) {
	s.t.Helper()
	code, b := s.do("POST", "/instances/_create", systemToken, []byte(fmt.Sprintf(
		`{"instanceName":%q,"machine":{"userName":"importer","name":"Importer","personalAccessToken":{}}}`, name)))
	if code != http.StatusAccepted {
		s.t.Fatalf("POST /instances/_create = %d %s", code, b)
	}
	job := s.waitJob(jobID(s.t, b), systemToken, 2*time.Minute)
	if job["status"] != "succeeded" {
		s.t.Fatalf("instance job ended %v: %v", job["status"], job)
	}
	_, res := s.do("GET", "/jobs/"+jobID(s.t, b)+"/result", systemToken, nil)
	var r struct {
		InstanceID string `json:"instanceId"`
		PAT        string `json:"pat"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.PAT == "" {
		s.t.Fatalf("instance result without PAT: %s", res)
	}
	return r.InstanceID, r.PAT
}

// submit posts an import and returns the job id.
func (s *stack) submit(token string, body []byte) string {
	s.t.Helper()
	code, b := s.do("POST", "/import", token, body)
	if code != http.StatusAccepted {
		s.t.Fatalf("POST /import = %d %s", code, b)
	}
	return jobID(s.t, b)
}

// job returns GET /jobs/{id} decoded.
func (s *stack) job(id, token string) map[string]any {
	s.t.Helper()
	code, b := s.do("GET", "/jobs/"+id, token, nil)
	if code != http.StatusOK {
		s.t.Fatalf("GET /jobs/%s = %d %s", id, code, b)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		s.t.Fatal(err)
	}
	return j
}

// waitJob polls a job until it ends or the deadline passes.
func (s *stack) waitJob(id, token string, within time.Duration) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		j := s.job(id, token)
		if st := j["status"]; st != "queued" && st != "running" {
			return j
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s still %v after %s: %v", id, j["status"], within, j)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// result returns GET /jobs/{id}/result.
func (s *stack) result(id, token string) []byte {
	s.t.Helper()
	code, b := s.do("GET", "/jobs/"+id+"/result", token, nil)
	if code != http.StatusOK {
		s.t.Fatalf("GET /jobs/%s/result = %d %s", id, code, b)
	}
	return b
}

// query runs SQL on the stack's database and returns the rows as strings.
func (s *stack) query(sql string, args ...any) [][]string {
	s.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		s.t.Fatalf("query %q: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			s.t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func jobID(t testing.TB, body []byte) string {
	t.Helper()
	var j struct {
		JobID string `json:"jobId"`
	}
	if err := json.Unmarshal(body, &j); err != nil || j.JobID == "" {
		t.Fatalf("no jobId in %s", body)
	}
	return j.JobID
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// createInstanceWith starts a worker named worker, then creates an instance.
func (s *stack) createInstanceWith(name, worker string, env ...string) (string, string) {
	s.t.Helper()
	s.startWorker(worker, env...)
	return s.createInstance(name)
}

// stopWorker stops a worker gracefully.
func (s *stack) stopWorker(name string) {
	cmd := s.workers[name]
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	cmd.Wait()                          //nolint:errcheck
}

// waitProgress waits until a job has done at least share of its units.
func (s *stack) waitProgress(id, token string, share float64, within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		j := s.job(id, token)
		if p, ok := j["progress"].(map[string]any); ok {
			total, _ := p["unitsTotal"].(float64)
			done, _ := p["unitsDone"].(float64)
			if total > 0 && done/total >= share {
				return
			}
		}
		if st := j["status"]; st != "queued" && st != "running" {
			s.t.Fatalf("job ended %v before reaching %.0f%%", st, share*100)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("job did not reach %.0f%% within %s", share*100, within)
}

// countLogLines counts the lines of a process's log with the message msg
// that contain every one of the substrings also.
func (s *stack) countLogLines(name, msg string, also ...string) int {
	s.t.Helper()
	b, err := os.ReadFile(s.logs[name])
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
lines:
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.Contains(line, []byte(`"msg":"`+msg+`"`)) {
			continue
		}
		for _, a := range also {
			if !bytes.Contains(line, []byte(a)) {
				continue lines
			}
		}
		n++
	}
	return n
}
