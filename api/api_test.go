package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"

	"github.com/zimport/zimport/tasks"
)

const importBody = `{"dataOrgs":{"orgs":[{"orgId":"o1","org":{"name":"Org 1"}}]},"timeout":"10m"}`

// wantError checks an error answer: HTTP status, ZITADEL's body with the
// gRPC code, and a message containing msg.
func wantError(t *testing.T, r response, status, code int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	m := r.json(t)
	if got, _ := m["code"].(float64); int(got) != code {
		t.Errorf("code = %v, want %d; body %s", m["code"], code, r.body)
	}
	if got, _ := m["message"].(string); !strings.Contains(got, msg) {
		t.Errorf("message = %q, want it to contain %q", got, msg)
	}
	details, _ := m["details"].([]any)
	if len(details) != 1 {
		t.Fatalf("details = %v, want one", m["details"])
	}
	d, _ := details[0].(map[string]any)
	if d["@type"] != errorDetailType {
		t.Errorf("details[0].@type = %v, want %s", d["@type"], errorDetailType)
	}
	if d["id"] != r.header.Get("X-Request-Id") {
		t.Errorf("details[0].id = %v, want the request id %s", d["id"], r.header.Get("X-Request-Id"))
	}
}

// submit posts an import as the main tenant and returns the job id.
func (e *testEnv) submit(body string, header map[string]string) (string, response) {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/import", token: e.pat, body: body, header: header})
	if r.status != http.StatusAccepted {
		e.t.Fatalf("POST /import: status %d, want 202; body %s", r.status, r.body)
	}
	id, _ := r.json(e.t)["jobId"].(string)
	return id, r
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"no token", nil},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}},
		{"expired pat", map[string]string{"Authorization": "Bearer " + e.expiredPAT}},
		{"not bearer", map[string]string{"Authorization": "Token " + testSystemToken}},
		{"basic auth", map[string]string{"Authorization": "Basic eDp5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []struct{ method, path string }{
				{"GET", "/jobs"}, {"POST", "/import"}, {"POST", "/instances/_create"},
				{"GET", "/jobs/00000000-0000-0000-0000-000000000000"},
			} {
				r := e.do(req{method: p.method, path: p.path, header: tc.header, body: importBody})
				wantError(t, r, http.StatusUnauthorized, codeUnauthenticated, "authentication required")
				if r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: no WWW-Authenticate", p.method, p.path)
				}
			}
		})
	}
	for _, tok := range []string{testSystemToken, "another-system-token-abcdefgh", e.pat} {
		if r := e.do(req{method: "GET", path: "/jobs", token: tok}); r.status != http.StatusOK {
			t.Errorf("GET /jobs with a valid token: %d %s", r.status, r.body)
		}
	}
}

func TestImport_BadInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	big := `{"dataOrgs":{"orgs":[{"orgId":"o1","org":{"name":"` + strings.Repeat("x", 200<<10) + `"}}]}}`
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   int
		msg    string
	}{
		{"malformed json", `{"dataOrgs": {"orgs": [}`, 400, codeInvalidArgument, "body is not valid JSON at byte 23"},
		{"empty body", ``, 400, codeInvalidArgument, "body is not valid JSON"},
		{"not an object", `[1]`, 400, codeInvalidArgument, "body: expected a JSON object, got array"},
		{"wrong type", `{"dataOrgs":{"orgs":[{"orgId":5}]}}`, 400, codeInvalidArgument, "dataOrgs: orgs[0].orgId: expected a string, got number"},
		{"wrong nested type", `{"dataOrgs":{"orgs":[{"orgId":"a","humanUsers":[{"userId":"u","user":{"userName":7}}]}]}}`, 400, codeInvalidArgument, "orgs[0].humanUsers[0].user.userName: expected a string"},
		{"two data fields", `{"dataOrgs":{"orgs":[]},"dataOrgsS3":{"bucket":"b"}}`, 400, codeInvalidArgument, "only one data field may be set, got dataOrgs and dataOrgsS3"},
		{"missing data", `{"timeout":"10m"}`, 400, codeInvalidArgument, "one of dataOrgs, dataOrgsv1"},
		{"timeout words", `{"dataOrgs":{"orgs":[]},"timeout":"ten minutes"}`, 400, codeInvalidArgument, `timeout: invalid duration "ten minutes"`},
		{"timeout zero", `{"dataOrgs":{"orgs":[]},"timeout":"0s"}`, 400, codeInvalidArgument, `timeout: "0s" is not positive`},
		{"timeout negative", `{"dataOrgs":{"orgs":[]},"timeout":"-1m"}`, 400, codeInvalidArgument, `timeout: "-1m" is not positive`},
		{"timeout above max", `{"dataOrgs":{"orgs":[]},"timeout":"25h"}`, 400, codeInvalidArgument, `timeout: "25h" is above the maximum of 24h0m0s`},
		{"timeout number", `{"dataOrgs":{"orgs":[]},"timeout":5}`, 400, codeInvalidArgument, "timeout: expected a string, got number"},
		{"s3 without bucket", `{"dataOrgsS3":{"path":"p"}}`, 400, codeInvalidArgument, "dataOrgsS3.bucket is required"},
		{"s3 without path", `{"dataOrgsv1S3":{"bucket":"b"}}`, 400, codeInvalidArgument, "dataOrgsv1S3.path is required"},
		{"s3 one key", `{"dataOrgsS3":{"bucket":"b","path":"p","accessKeyId":"AK"}}`, 400, codeInvalidArgument, "give both accessKeyId and secretAccessKey"},
		{"s3 endpoint not listed", `{"dataOrgsS3":{"endpoint":"minio.internal:9000","bucket":"b","path":"p"}}`, 400, codeInvalidArgument,
			`dataOrgsS3.endpoint: endpoint "minio.internal:9000" is not allowed; the operator lists the S3 endpoints requests may name in ZIMPORT_S3_ALLOWED_ENDPOINTS`},
		{"s3 metadata endpoint", `{"dataOrgsS3":{"endpoint":"169.254.169.254","bucket":"b","path":"p"}}`, 400, codeInvalidArgument, "is never contacted"},
		{"s3 endpoint with scheme", `{"dataOrgsS3":{"endpoint":"https://s3.amazonaws.com","bucket":"b","path":"p"}}`, 400, codeInvalidArgument, "without scheme or path"},
		{"s3 ssl not a boolean", `{"dataOrgsS3":{"bucket":"b","path":"p","ssl":"yes"}}`, 400, codeInvalidArgument, "dataOrgsS3.ssl: expected a boolean"},
		{"local not enabled", `{"dataOrgsv1Local":{"path":"p"}}`, 400, codeInvalidArgument, "local files are not enabled; the operator sets ZIMPORT_LOCAL_IMPORT_DIR"},
		{"s3 bucket with NUL", `{"dataOrgsS3":{"bucket":"b\u0000","path":"p"}}`, 400, codeInvalidArgument, "dataOrgsS3: bucket and path must not contain the NUL character"},
		{"gcs path with NUL", `{"dataOrgsGcs":{"bucket":"b","path":"p\u0000"}}`, 400, codeInvalidArgument, "dataOrgsGcs: bucket and path must not contain the NUL character"},
		{"s3 key with a newline", `{"dataOrgsS3":{"bucket":"b","path":"p","accessKeyId":"a\nb","secretAccessKey":"s"}}`, 400, codeInvalidArgument,
			"dataOrgsS3.accessKeyId: must not contain spaces or control characters"},
		{"gcs without bucket", `{"dataOrgsv1Gcs":{"path":"p"}}`, 400, codeInvalidArgument, "dataOrgsv1Gcs.bucket is required"},
		{"gcs key not base64", `{"dataOrgsGcs":{"bucket":"b","path":"p","serviceaccountJson":"%%%"}}`, 400, codeInvalidArgument, "dataOrgsGcs.serviceaccountJson: not valid base64"},
		{"gcs key of another type", `{"dataOrgsGcs":{"bucket":"b","path":"p","serviceaccountJson":"eyJ0eXBlIjoiZXh0ZXJuYWxfYWNjb3VudCJ9"}}`, 400, codeInvalidArgument,
			`dataOrgsGcs.serviceaccountJson must be a key of type "service_account", not "external_account"`},
		{"v1 trigger type", `{"dataOrgsv1":{"orgs":[{"orgId":"o","triggerActions":[{"flowType":1,"triggerType":"TRIGGER_TYPE_PRE_USERINFO_CREATION"}]}]}}`,
			400, codeInvalidArgument, "dataOrgsv1: orgs[0].triggerActions[0].triggerType: unknown value"},
		{"v1 iamPolicy type", `{"dataOrgsv1":{"orgs":[{"orgId":"o","iamPolicy":{"userLoginMustBeDomain":"yes"}}]}}`,
			400, codeInvalidArgument, "dataOrgsv1: orgs[0].iamPolicy.userLoginMustBeDomain: expected a boolean"},
		{"dryRun not a boolean", `{"dataOrgs":{"orgs":[]},"dryRun":"yes"}`, 400, codeInvalidArgument, "dryRun: expected a boolean, got string"},
		{"unknown onConflict", `{"dataOrgs":{"orgs":[]},"onConflict":"MERGE"}`, 400, codeInvalidArgument, `onConflict: unknown value "MERGE"`},
		{"too large", big, 413, codeResourceExhausted, "dataOrgsS3 or dataOrgsGcs"},
		{"nul in orgId", `{"dataOrgs":{"orgs":[{"orgId":"o\u0000"}]}}`, 400, codeInvalidArgument,
			`dataOrgs: orgs[0].orgId: must not contain the NUL character (\u0000), at byte 30`},
		{"nul in org name", `{"dataOrgs":{"orgs":[{"orgId":"o","org":{"name":"\u0000"}}]}}`, 400, codeInvalidArgument,
			`dataOrgs: orgs[0].org.name: must not contain the NUL character (\u0000), at byte 48`},
		{"nul in user name", `{"dataOrgs":{"orgs":[{"orgId":"o","humanUsers":[{"userId":"u","user":{"userName":"a\u0000b"}}]}]}}`, 400, codeInvalidArgument,
			`dataOrgs: orgs[0].humanUsers[0].user.userName: must not contain the NUL character (\u0000)`},
		{"member twice", `{"dataOrgs":{"orgs":[{"orgId":"o","projectGrants":[],"project_grants":[]}]}}`, 400, codeInvalidArgument,
			"dataOrgs: orgs[0]: projectGrants and project_grants are the same member; give it once"},
		{"nested member twice", `{"dataOrgs":{"orgs":[{"orgId":"o","humanUsers":[{"userId":"u","user_id":"v"}]}]}}`, 400, codeInvalidArgument,
			"dataOrgs: orgs[0].humanUsers[0]: userId and user_id are the same member; give it once"},
		{"data field twice", `{"dataOrgs":{"orgs":[]},"data_orgs":{"orgs":[]}}`, 400, codeInvalidArgument,
			"dataOrgs and data_orgs are the same member; give it once"},
		{"two data fields spelled", `{"data_orgs":{"orgs":[]},"data_orgs_s3":{}}`, 400, codeInvalidArgument,
			"only one data field may be set, got data_orgs and data_orgs_s3"},
		{"onConflict unknown number", `{"dataOrgs":{"orgs":[]},"onConflict":7}`, 400, codeInvalidArgument,
			"onConflict: unknown value 7 (want FAIL, SKIP or OVERWRITE, or their numbers 0, 1 or 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/import", token: e.pat, body: tc.body})
			wantError(t, r, tc.status, tc.code, tc.msg)
		})
	}
	t.Run("system without instance", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/import", token: testSystemToken, body: importBody})
		wantError(t, r, 400, codeInvalidArgument, "x-zitadel-instance-id is required for system callers")
	})
	t.Run("system with unknown instance", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/import", token: testSystemToken, body: importBody,
			header: map[string]string{"x-zitadel-instance-id": "nope"}})
		wantError(t, r, 404, codeNotFound, "not found")
	})
	t.Run("too large without content length", func(t *testing.T) {
		hr, _ := http.NewRequest("POST", e.http.URL+"/import", strings.NewReader(big))
		hr.ContentLength = -1 // chunked
		hr.Header.Set("Authorization", "Bearer "+e.pat)
		wantError(t, e.send(hr), 413, codeResourceExhausted, "larger than the limit of 65536 bytes")
	})
	if r := e.do(req{method: "GET", path: "/jobs", token: e.pat}); !strings.Contains(string(r.body), `"jobs":[]`) {
		t.Errorf("rejected requests created jobs: %s", r.body)
	}
}

func TestImport_OnConflictAndDryRun(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct{ body, onConflict string }{
		{`{"dataOrgs":{"orgs":[]},"onConflict":1}`, "SKIP"},
		{`{"dataOrgs":{"orgs":[]},"onConflict":2,"dryRun":true}`, "OVERWRITE"},
		{`{"dataOrgs":{"orgs":[]},"onConflict":"ON_CONFLICT_OVERWRITE"}`, "OVERWRITE"},
	} {
		id, _ := e.submit(tc.body, nil)
		var got string
		var dryRun bool
		if err := e.db.QueryRow(context.Background(), `SELECT on_conflict, dry_run FROM jobs WHERE id = $1`, id).Scan(&got, &dryRun); err != nil {
			t.Fatal(err)
		}
		if want := strings.Contains(tc.body, `"dryRun":true`); got != tc.onConflict || dryRun != want {
			t.Errorf("%s: on_conflict = %q, dry_run = %v; want %q, %v", tc.body, got, dryRun, tc.onConflict, want)
		}
	}
}

func TestImport_V1(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	payload := `{"orgs":[{"orgId":"o1","org":{"name":"O"},"iamPolicy":{"orgId":"o1","userLoginMustBeDomain":true},` +
		`"secondFactors":[{"type":"SECOND_FACTOR_TYPE_OTP"}],"triggerActions":[{"flowType":"FLOW_TYPE_EXTERNAL_AUTHENTICATION","triggerType":2}]}]}`
	id, _ := e.submit(`{"dataOrgsv1":`+payload+`,"timeout":"10m"}`, nil)
	var field, stored string
	if err := e.db.QueryRow(context.Background(), `SELECT j.source_field, convert_from(p.data, 'UTF8') FROM jobs j JOIN job_payloads p ON p.job_id = j.id WHERE j.id = $1`, id).Scan(&field, &stored); err != nil {
		t.Fatal(err)
	}
	if field != "dataOrgsv1" || stored != payload {
		t.Errorf("job source_field %q, payload %s; want dataOrgsv1 and the v1 payload as sent", field, stored)
	}
}

func TestImport_BadHeaders(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, id := range []string{"inst-a\xff", "\xc3\x28", strings.Repeat("i", 300)} {
		r := e.do(req{method: "POST", path: "/import", token: testSystemToken, body: importBody,
			header: map[string]string{"x-zitadel-instance-id": id}})
		wantError(t, r, http.StatusNotFound, codeNotFound, "instance not found")
		r = e.do(req{method: "GET", path: "/jobs", token: testSystemToken, header: map[string]string{"x-zitadel-instance-id": id}})
		wantError(t, r, http.StatusNotFound, codeNotFound, "instance not found")
	}
	for _, key := range []string{"k-\xff", "a\tb"} {
		for _, p := range []struct{ path, token, body string }{
			{"/import", e.pat, importBody}, {"/instances/_create", testSystemToken, instanceBody},
		} {
			r := e.do(req{method: "POST", path: p.path, token: p.token, body: p.body, header: map[string]string{"Idempotency-Key": key}})
			wantError(t, r, http.StatusBadRequest, codeInvalidArgument, "Idempotency-Key must be UTF-8 text without control characters")
		}
	}
	if r := e.do(req{method: "GET", path: "/jobs", token: testSystemToken}); !strings.Contains(string(r.body), `"jobs":[]`) {
		t.Errorf("rejected requests created jobs: %s", r.body)
	}
}

func TestImport_ContentType(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, p := range []struct{ path, token, body string }{
		{"/import", e.pat, importBody}, {"/instances/_create", testSystemToken, instanceBody},
	} {
		for _, tc := range []struct {
			contentType, body string
			status            int
		}{
			{"application/json", p.body, http.StatusAccepted},
			{"Application/JSON; charset=UTF-8", p.body, http.StatusAccepted},
			{"", p.body, http.StatusAccepted},
			{"application/x-www-form-urlencoded", p.body, http.StatusAccepted}, // curl -d
			{"application/x-www-form-urlencoded", "dataOrgs=x", http.StatusUnsupportedMediaType},
			{"text/plain", p.body, http.StatusUnsupportedMediaType},
			{"multipart/form-data; boundary=x", p.body, http.StatusUnsupportedMediaType},
			{"application/json; charset=latin1", p.body, http.StatusUnsupportedMediaType},
			{"not a media type", p.body, http.StatusUnsupportedMediaType},
		} {
			hr, _ := http.NewRequest("POST", e.http.URL+p.path, strings.NewReader(tc.body))
			hr.Header.Set("Authorization", "Bearer "+p.token)
			if tc.contentType != "" {
				hr.Header.Set("Content-Type", tc.contentType)
			}
			r := e.send(hr)
			if tc.status != http.StatusUnsupportedMediaType {
				if r.status != tc.status {
					t.Errorf("POST %s as %q: %d %s, want %d", p.path, tc.contentType, r.status, r.body, tc.status)
				}
				continue
			}
			wantError(t, r, tc.status, codeInvalidArgument, "is not supported; send JSON with Content-Type: application/json")
		}
	}
}

func TestImport_SizeLimit(t *testing.T) {
	t.Parallel()
	const limit = 1000
	e := newTestEnv(t, withConfig(func(c *Config) { c.MaxInlineBytes = limit }))
	body := func(n int) string {
		b := `{"dataOrgs":{"orgs":[{"orgId":"o1","org":{"name":"Org 1"}}]},"pad":""}`
		return strings.Replace(b, `""`, `"`+strings.Repeat("x", n-len(b))+`"`, 1)
	}
	for _, chunked := range []bool{false, true} {
		for _, tc := range []struct {
			size, status int
		}{{limit, http.StatusAccepted}, {limit + 1, http.StatusRequestEntityTooLarge}} {
			hr, _ := http.NewRequest("POST", e.http.URL+"/import", strings.NewReader(body(tc.size)))
			hr.Header.Set("Authorization", "Bearer "+e.pat)
			if chunked {
				hr.ContentLength = -1
			}
			r := e.send(hr)
			if tc.status == http.StatusAccepted {
				if r.status != tc.status {
					t.Errorf("%d bytes (chunked %v): %d %s, want 202", tc.size, chunked, r.status, r.body)
				}
				continue
			}
			wantError(t, r, tc.status, codeResourceExhausted, "larger than the limit of 1000 bytes for inline data")
		}
	}
}

func TestImport_Submit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, path := range []string{"/import", "/admin/v1/import"} {
		t.Run(path, func(t *testing.T) {
			r := e.do(req{method: "POST", path: path, token: e.pat, body: importBody})
			if r.status != http.StatusAccepted {
				t.Fatalf("status %d, want 202: %s", r.status, r.body)
			}
			got := r.json(t)
			id, _ := got["jobId"].(string)
			if loc := r.header.Get("Location"); loc != "/jobs/"+id {
				t.Errorf("Location = %q, want /jobs/%s", loc, id)
			}
			if _, err := time.Parse(time.RFC3339Nano, got["createdAt"].(string)); err != nil {
				t.Errorf("createdAt: %v", err)
			}
			delete(got, "createdAt")
			want := map[string]any{"jobId": id, "kind": "import", "status": "queued", "timeout": "10m0s", "onConflict": "FAIL",
				"progress": map[string]any{"bytesTotal": "48"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("job (-want +got):\n%s", diff)
			}
			info, err := e.inspector.GetTaskInfo(tasks.Queue, "split:"+id)
			if err != nil {
				t.Fatalf("task split:%s is not in Redis: %v", id, err)
			}
			if info.Type != tasks.TypeImportSplit || !strings.Contains(string(info.Payload), id) {
				t.Errorf("task = %s %s", info.Type, info.Payload)
			}
			// The job is visible to its tenant and to system callers.
			for _, h := range []struct {
				token  string
				header map[string]string
			}{{e.pat, nil}, {testSystemToken, nil}, {testSystemToken, map[string]string{"x-zitadel-instance-id": e.instanceID}}} {
				r := e.do(req{method: "GET", path: "/jobs/" + id, token: h.token, header: h.header})
				if r.status != http.StatusOK || r.json(t)["jobId"] != id {
					t.Errorf("GET /jobs/%s: %d %s", id, r.status, r.body)
				}
			}
		})
	}
	t.Run("system with instance header", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/import", token: testSystemToken, body: importBody,
			header: map[string]string{"x-zitadel-instance-id": e.instanceID}})
		if r.status != http.StatusAccepted {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		id := r.json(t)["jobId"].(string)
		if r := e.do(req{method: "GET", path: "/jobs/" + id, token: e.pat}); r.status != http.StatusOK {
			t.Errorf("the tenant does not see the job a system caller made for it: %d %s", r.status, r.body)
		}
	})
	t.Run("default timeout", func(t *testing.T) {
		_, r := e.submit(`{"data_orgs":{"orgs":[]}}`, nil)
		if got := r.json(t)["timeout"]; got != "30m0s" {
			t.Errorf("timeout = %v, want 30m0s", got)
		}
	})
}

func TestImport_Idempotency(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	key := map[string]string{"Idempotency-Key": "k-1"}
	id, _ := e.submit(importBody, key)
	r := e.do(req{method: "POST", path: "/import", token: e.pat, body: importBody, header: key})
	if r.status != http.StatusOK || r.json(t)["jobId"] != id {
		t.Fatalf("replay: %d %s, want 200 with job %s", r.status, r.body, id)
	}
	r = e.do(req{method: "POST", path: "/import", token: e.pat, body: `{"dataOrgs":{"orgs":[]}}`, header: key})
	wantError(t, r, http.StatusConflict, codeAlreadyExists, "Idempotency-Key was already used for a different request")
	// Only a request with a key keeps a digest of its body, which may hold
	// passwords: a keyed one (HMAC), never a plain hash.
	unkeyed, _ := e.submit(importBody, nil)
	var keyed, none []byte
	if err := e.db.QueryRow(context.Background(), `SELECT (SELECT request_hash FROM jobs WHERE id = $1),
		(SELECT request_hash FROM jobs WHERE id = $2)`, id, unkeyed).Scan(&keyed, &none); err != nil {
		t.Fatal(err)
	}
	if plain := sha256.Sum256([]byte(importBody)); none != nil || len(keyed) == 0 || bytes.Equal(keyed, plain[:]) {
		t.Errorf("request digests: keyed %x, unkeyed %x; want an HMAC only for the keyed request", keyed, none)
	}
	// Another tenant may use the same key.
	r = e.do(req{method: "POST", path: "/import", token: e.otherPAT, body: importBody, header: key})
	if r.status != http.StatusAccepted || r.json(t)["jobId"] == id {
		t.Errorf("same key, other tenant: %d %s", r.status, r.body)
	}
	r = e.do(req{method: "POST", path: "/import", token: e.pat, body: importBody,
		header: map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}})
	wantError(t, r, http.StatusBadRequest, codeInvalidArgument, "Idempotency-Key is longer than 255 bytes")
}

func TestImport_QueueDown(t *testing.T) {
	t.Parallel()
	down := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	e := newTestEnv(t, withQueue(down))
	r := e.do(req{method: "POST", path: "/import", token: e.pat, body: importBody})
	wantError(t, r, http.StatusServiceUnavailable, codeUnavailable, "the job queue is unavailable")
	if strings.Contains(string(r.body), "127.0.0.1") || strings.Contains(string(r.body), "dial") {
		t.Errorf("503 answer leaks the cause: %s", r.body)
	}
	if r := e.do(req{method: "GET", path: "/jobs", token: e.pat}); !strings.Contains(string(r.body), `"jobs":[]`) {
		t.Errorf("the job that could not be enqueued was kept: %s", r.body)
	}
}

func TestJobs_Scope(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, _ := e.submit(importBody, nil)
	unknown := "7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00"
	notFound := func(r response) string {
		t.Helper()
		wantError(t, r, http.StatusNotFound, codeNotFound, "job not found")
		m := r.json(t)
		return m["message"].(string)
	}
	for _, path := range []string{"/jobs/%s", "/jobs/%s/result", "/jobs/%s/errors", "/jobs/%s/cancel"} {
		method := "GET"
		if strings.HasSuffix(path, "cancel") {
			method = "POST"
		}
		t.Run(path, func(t *testing.T) {
			other := notFound(e.do(req{method: method, path: strings.Replace(path, "%s", id, 1), token: e.otherPAT}))
			unk := notFound(e.do(req{method: method, path: strings.Replace(path, "%s", unknown, 1), token: e.otherPAT}))
			bad := notFound(e.do(req{method: method, path: strings.Replace(path, "%s", "not-a-uuid", 1), token: e.otherPAT}))
			if other != unk || unk != bad {
				t.Errorf("another tenant's job, an unknown and a malformed id answer differently: %q, %q, %q", other, unk, bad)
			}
			notFound(e.do(req{method: method, path: strings.Replace(path, "%s", id, 1), token: testSystemToken,
				header: map[string]string{"x-zitadel-instance-id": e.otherInstanceID}}))
		})
	}
	// The job is untouched by the other tenant's cancel.
	if r := e.do(req{method: "GET", path: "/jobs/" + id, token: e.pat}); r.json(t)["status"] != "queued" {
		t.Errorf("job after another tenant's cancel: %s", r.body)
	}
	if r := e.do(req{method: "GET", path: "/jobs", token: e.otherPAT}); !strings.Contains(string(r.body), `"jobs":[]`) {
		t.Errorf("another tenant lists the job: %s", r.body)
	}
}

// TestJobs_CursorOfAnotherTenant: a cursor naming another tenant's job is
// no cursor, so the answer does not tell whether the job exists or when it
// was made.
func TestJobs_CursorOfAnotherTenant(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	r := e.do(req{method: "POST", path: "/import", token: e.otherPAT, body: importBody})
	if r.status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	theirs, _ := e.submit(importBody, nil) // newer than the other tenant's job
	for _, cursor := range []string{theirs, "7b0b3c5e-1d0a-4a57-9a5e-2f4d3c2b1a00"} {
		r := e.do(req{method: "GET", path: "/jobs?cursor=" + cursor, token: e.otherPAT})
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"jobs":[]`) {
			t.Errorf("cursor %s: %d %s, want an empty page", cursor, r.status, r.body)
		}
	}
}

// TestAnswers_ClipInput: an answer never repeats an unbounded value of the
// request.
func TestAnswers_ClipInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	long := strings.Repeat("é", 25_000) // 50 KB
	for name, body := range map[string]string{
		"onConflict":     `{"dataOrgs":{"orgs":[]},"onConflict":"` + long + `"}`,
		"a member twice": `{"dataOrgs":{"orgs":[]},"data_orgs` + strings.Repeat("_", 50_000) + `":{"orgs":[]}}`,
		"an enum":        `{"dataOrgs":{"orgs":[{"orgId":"o","org":{"name":"O"},"humanUsers":[{"userId":"u","user":{"profile":{"gender":"` + long + `"}}}]}]}}`,
		"a timeout":      `{"dataOrgs":{"orgs":[]},"timeout":"` + long + `"}`,
	} {
		r := e.do(req{method: "POST", path: "/import", token: e.pat, body: body})
		if r.status != http.StatusBadRequest || len(r.body) > 1024 || !utf8.Valid(r.body) {
			t.Errorf("%s: %d, %d bytes: %.300s", name, r.status, len(r.body), r.body)
		}
	}
}

func TestJobs_Cancel(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, _ := e.submit(importBody, nil)
	r := e.do(req{method: "POST", path: "/jobs/" + id + "/cancel", token: e.pat})
	if r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	got := r.json(t)
	if got["status"] != "canceled" || got["finishedAt"] == nil {
		t.Errorf("after cancel: %s", r.body)
	}
	if p, _ := got["progress"].(map[string]any); p["percent"] != nil {
		t.Errorf("progress of a job canceled before it started: %v", got["progress"])
	}
	// Cancelling again changes nothing.
	if r := e.do(req{method: "POST", path: "/jobs/" + id + "/cancel", token: e.pat}); r.status != http.StatusOK || r.json(t)["status"] != "canceled" {
		t.Errorf("second cancel: %d %s", r.status, r.body)
	}
}

func TestJobs_List(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var ids []string
	for range 3 {
		id, _ := e.submit(importBody, nil)
		ids = append([]string{id}, ids...) // newest first
	}
	other, _ := func() (string, response) {
		r := e.do(req{method: "POST", path: "/import", token: e.otherPAT, body: importBody})
		return r.json(t)["jobId"].(string), r
	}()
	list := func(token, query string) ([]string, string) {
		t.Helper()
		r := e.do(req{method: "GET", path: "/jobs" + query, token: token})
		if r.status != http.StatusOK {
			t.Fatalf("GET /jobs%s: %d %s", query, r.status, r.body)
		}
		m := r.json(t)
		var got []string
		for _, j := range m["jobs"].([]any) {
			got = append(got, j.(map[string]any)["jobId"].(string))
		}
		next, _ := m["nextCursor"].(string)
		return got, next
	}
	got, next := list(e.pat, "?limit=2")
	if diff := cmp.Diff(ids[:2], got); diff != "" || next == "" {
		t.Fatalf("page 1 (-want +got):\n%s\nnext %q", diff, next)
	}
	got, next = list(e.pat, "?limit=2&cursor="+next)
	if diff := cmp.Diff(ids[2:], got); diff != "" || next != "" {
		t.Fatalf("page 2 (-want +got):\n%s\nnext %q", diff, next)
	}
	got, _ = list(testSystemToken, "")
	if diff := cmp.Diff(append([]string{other}, ids...), got); diff != "" {
		t.Errorf("system list (-want +got):\n%s", diff)
	}
	got, _ = list(testSystemToken, "")
	if len(got) != 4 {
		t.Errorf("system list: %v", got)
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?limit=501"} {
		wantError(t, e.do(req{method: "GET", path: "/jobs" + q, token: e.pat}), 400, codeInvalidArgument, "limit: ")
	}
	wantError(t, e.do(req{method: "GET", path: "/jobs?cursor=zzz", token: e.pat}), 400, codeInvalidArgument, "cursor: ")
}

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.do(req{method: "GET", path: p}); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	bad := newTestEnv(t, withConfig(func(c *Config) {
		c.Redis = pingFunc(func(context.Context) error { return context.DeadlineExceeded })
	}))
	r := bad.do(req{method: "GET", path: "/readyz"})
	wantError(t, r, http.StatusServiceUnavailable, codeUnavailable, "not ready: redis not reachable")
}

func TestEchoErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	// A handler that panics, added before the first request.
	e.srv.echo.GET("/panic", func(echo.Context) error { panic("boom: " + testSystemToken) })
	r := e.do(req{method: "GET", path: "/panic"})
	wantError(t, r, 500, codeInternal, "internal error (request id ")
	if strings.Contains(string(r.body), "boom") {
		t.Errorf("500 answer shows the panic: %s", r.body)
	}
	wantError(t, e.do(req{method: "GET", path: "/nope", token: e.pat}), 404, codeNotFound, "")
	wantError(t, e.do(req{method: "GET", path: "/import", token: e.pat}), 405, codeUnimplemented, "")
	wantError(t, e.do(req{method: "DELETE", path: "/healthz"}), 405, codeUnimplemented, "")
}

func TestInternalErrorHidesCause(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.st.Close() // every database call fails from now on
	r := e.do(req{method: "GET", path: "/jobs", token: testSystemToken})
	wantError(t, r, http.StatusInternalServerError, codeInternal, "internal error (request id "+r.header.Get("X-Request-Id")+")")
	for _, leak := range []string{"pool", "closed", "sql", "postgres"} {
		if strings.Contains(strings.ToLower(string(r.body)), leak) {
			t.Errorf("500 answer mentions %q: %s", leak, r.body)
		}
	}
}

func TestTimestamp(t *testing.T) {
	base := time.Date(2026, 12, 8, 1, 2, 3, 0, time.FixedZone("x", 3600))
	for ns, want := range map[int]string{
		0:         "2026-12-08T00:02:03Z",
		120000000: "2026-12-08T00:02:03.120Z",
		949100000: "2026-12-08T00:02:03.949100Z",
		872110000: "2026-12-08T00:02:03.872110Z",
		1:         "2026-12-08T00:02:03.000000001Z",
	} {
		if got := timestamp(base.Add(time.Duration(ns))); got != want {
			t.Errorf("timestamp(+%dns) = %s, want %s", ns, got, want)
		}
	}
}

// TestImport_LargeBodiesInFlight: the API holds at most
// MaxBodyBytesInFlight of large bodies; one that finds no room in time is
// 503, and small bodies never wait for room.
func TestImport_LargeBodiesInFlight(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withConfig(func(c *Config) { c.MaxInlineBytes, c.MaxBodyBytesInFlight = 3<<20, 3<<20 }))
	e.srv.bodyWait = 200 * time.Millisecond
	// A 3 MiB upload that stalls after its first bytes holds all the room.
	pr, pw := io.Pipe()
	stalled, _ := http.NewRequest("POST", e.http.URL+"/import", pr)
	stalled.ContentLength = 3 << 20
	stalled.Header.Set("Authorization", "Bearer "+e.pat)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(stalled); err == nil {
			resp.Body.Close()
		}
	}()
	// However the test ends, the stalled upload ends too (the test server
	// waits for its requests when it closes).
	t.Cleanup(func() { pw.CloseWithError(errors.New("client gone")); <-done })
	if _, err := pw.Write([]byte(`{"dataOrgs":`)); err != nil {
		t.Fatal(err)
	}
	// Its handler holds the room before the next upload comes.
	for deadline := time.Now().Add(30 * time.Second); e.srv.bodyBytes.TryAcquire(1); {
		e.srv.bodyBytes.Release(1)
		if time.Now().After(deadline) {
			t.Fatal("the stalled upload never took the room")
		}
		time.Sleep(time.Millisecond)
	}
	big := `{"dataOrgs":{"orgs":[]},"padding":"` + strings.Repeat("x", 2<<20) + `"}`
	r := e.do(req{method: "POST", path: "/import", token: e.pat, body: big})
	wantError(t, r, http.StatusServiceUnavailable, codeUnavailable, "large request bodies")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if r := e.do(req{method: "POST", path: "/import", token: e.pat, body: importBody}); r.status != http.StatusAccepted {
		t.Errorf("a small body waited for room: %d %s", r.status, r.body)
	}
	pw.CloseWithError(errors.New("client gone"))
	<-done
	// The room is given back.
	if r := e.do(req{method: "POST", path: "/import", token: e.pat, body: big}); r.status != http.StatusAccepted {
		t.Errorf("after the stalled upload ended: %d %s", r.status, r.body)
	}
}

// TestImport_MaxActive: past MaxActiveImports queued or running imports of
// an instance, a submission is 429; other instances are not counted.
func TestImport_MaxActive(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withConfig(func(c *Config) { c.MaxActiveImports = 1 }))
	e.submit(importBody, nil)
	r := e.do(req{method: "POST", path: "/import", token: e.pat, body: importBody})
	wantError(t, r, http.StatusTooManyRequests, codeResourceExhausted, "imports queued or running")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if r := e.do(req{method: "POST", path: "/import", token: e.otherPAT, body: importBody}); r.status != http.StatusAccepted {
		t.Errorf("another instance: %d %s", r.status, r.body)
	}
}
