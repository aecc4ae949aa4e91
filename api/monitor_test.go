package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zimport/zimport/tasks"
)

func TestMonitoring(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, _ := e.submit(importBody, nil)

	paths := []string{"/monitoring", "/monitoring/", "/monitoring/api/queues", "/monitoring/api/queues/zimport/tasks/split:" + id}
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"no credentials", nil},
		{"wrong bearer token", map[string]string{"Authorization": "Bearer nope"}},
		{"expired pat", map[string]string{"Authorization": "Bearer " + e.expiredPAT}},
		{"wrong basic password", map[string]string{"Authorization": basic("admin", "nope")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range paths {
				for _, method := range []string{"GET", "POST", "DELETE"} {
					r := e.do(req{method: method, path: p, header: tc.header})
					wantError(t, r, http.StatusUnauthorized, codeUnauthenticated, "")
					if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="zimport"` {
						t.Errorf("%s %s: WWW-Authenticate = %q", method, p, got)
					}
				}
			}
		})
	}
	// An instance caller is authenticated, but not allowed.
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"pat", map[string]string{"Authorization": "Bearer " + e.pat}},
		{"pat as basic password", map[string]string{"Authorization": basic("admin", e.pat)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range paths {
				for _, method := range []string{"GET", "POST", "DELETE"} {
					r := e.do(req{method: method, path: p, header: tc.header})
					wantError(t, r, http.StatusForbidden, codePermissionDenied, "this endpoint needs a system token")
				}
			}
		})
	}

	for _, h := range []map[string]string{
		{"Authorization": "Bearer " + testSystemToken},
		{"Authorization": basic("anyone", testSystemToken)},
	} {
		r := e.do(req{method: "GET", path: "/monitoring/", header: h})
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "<html") {
			t.Errorf("dashboard with %v: %d %.200s", h, r.status, r.body)
		}
		r = e.do(req{method: "GET", path: "/monitoring/api/queues/zimport/tasks/split:" + id, header: h})
		if r.status != http.StatusOK {
			t.Fatalf("task: %d %s", r.status, r.body)
		}
		if got, want := r.json(t)["payload"], "import:split jobId="+id; got != want {
			t.Errorf("payload shown = %q, want %q", got, want)
		}
	}
}

// TestMonitoring_Changes: the dashboard is read-only by default; when
// writable, a change asked for from another site (a form that a browser
// posts with its cached basic credentials) is refused.
func TestMonitoring_Changes(t *testing.T) {
	t.Parallel()
	pause := "/monitoring/api/queues/" + tasks.Queue + ":pause"
	sys := map[string]string{"Authorization": "Bearer " + testSystemToken}
	e := newTestEnv(t)
	if r := e.do(req{method: "POST", path: pause, header: sys}); r.status != http.StatusMethodNotAllowed {
		t.Errorf("read-only dashboard: POST %s = %d %s", pause, r.status, r.body)
	}

	e = newTestEnv(t, withConfig(func(c *Config) { c.MonitoringWritable = true }))
	e.submit(importBody, nil) // the queue exists
	browser := basic("admin", testSystemToken)
	for name, h := range map[string]map[string]string{
		"another origin":      {"Authorization": browser, "Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
		"cross-site fetch":    {"Authorization": browser, "Sec-Fetch-Site": "cross-site"},
		"same site, not ours": {"Authorization": browser, "Sec-Fetch-Site": "same-site"},
		"an opaque origin":    {"Authorization": browser, "Origin": "null"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, e.do(req{method: "POST", path: pause, header: h}), http.StatusForbidden, codePermissionDenied, "another site")
		})
	}
	if qs, _ := e.inspector.GetQueueInfo(tasks.Queue); qs != nil && qs.Paused {
		t.Fatal("a cross-site request paused the queue")
	}
	for name, h := range map[string]map[string]string{
		"bearer, no browser":   sys,
		"the dashboard itself": {"Authorization": browser, "Sec-Fetch-Site": "same-origin"},
		"an older browser":     {"Authorization": browser, "Origin": e.http.URL},
	} {
		r := e.do(req{method: "POST", path: pause, header: h})
		if r.status/100 != 2 {
			t.Errorf("%s: POST %s = %d %s", name, pause, r.status, r.body)
		}
		e.inspector.UnpauseQueue(tasks.Queue) //nolint:errcheck
	}
}

func basic(user, password string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, password)
	return r.Header.Get("Authorization")
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ typ, payload, want string }{
		{"import:split", `{"jobId":"7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00"}`, "import:split jobId=7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00"},
		{"import:unit", `{"jobId":"7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00","stage":1,"secret":"x"}`, "import:unit jobId=7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00"},
		{"instance:create", `{"jobId":"password123"}`, "instance:create (redacted)"},
		{"x", `not json`, "x (redacted)"},
	} {
		if got := redact(tc.typ, []byte(tc.payload)); got != tc.want {
			t.Errorf("redact(%s, %s) = %q, want %q", tc.typ, tc.payload, got, tc.want)
		}
	}
}
