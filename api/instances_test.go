package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/tasks"
)

const (
	ownerPassword = "Own3r-Passw0rd!-never-shown"
	instanceBody  = `{"instanceName":"Acme","firstOrgName":"Acme Org","customDomain":"acme.example.com",` +
		`"human":{"userName":"admin","email":{"email":"admin@example.com","isEmailVerified":true},` +
		`"profile":{"firstName":"Ada","lastName":"Admin"},"password":{"password":"` + ownerPassword + `"}},"defaultLanguage":"en"}`
)

func TestInstances_Create(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.addSecret(ownerPassword)

	t.Run("pat is denied", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/instances/_create", token: e.pat, body: instanceBody})
		wantError(t, r, http.StatusForbidden, codePermissionDenied, "system token")
	})
	t.Run("bad body", func(t *testing.T) {
		for _, body := range []string{`{`, `{"firstOrgName":"x"}`, `[]`} {
			r := e.do(req{method: "POST", path: "/system/v1/instances/_create", token: testSystemToken, body: body})
			wantError(t, r, http.StatusBadRequest, codeInvalidArgument, "")
		}
	})
	t.Run("nul", func(t *testing.T) {
		for _, tc := range []struct{ from, to, want string }{
			{`"Acme"`, `"Ac\u0000me"`, "instanceName: must not contain the NUL character (\\u0000)"},
			{`"acme.example.com"`, `"acme.example.com\u0000"`, "customDomain: must not contain the NUL character"},
			{`"admin"`, `"\u0000"`, "human.userName: must not contain the NUL character"},
			{`"Ada"`, `"A\u0000da"`, "human.profile.firstName: must not contain the NUL character"},
		} {
			body := strings.Replace(instanceBody, tc.from, tc.to, 1)
			r := e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: body})
			wantError(t, r, http.StatusBadRequest, codeInvalidArgument, tc.want)
		}
		body := `{"instanceName":"A","machine":{"userName":"importer","name":"Imp\u0000orter"}}`
		r := e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: body})
		wantError(t, r, http.StatusBadRequest, codeInvalidArgument, "machine.name: must not contain the NUL character")
	})
	t.Run("too large", func(t *testing.T) {
		body := `{"instanceName":"` + strings.Repeat("x", 1<<20) + `"}`
		wantError(t, e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: body}),
			http.StatusRequestEntityTooLarge, codeResourceExhausted, "larger than 1048576 bytes")
	})

	var id string
	t.Run("accepted", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: instanceBody})
		if r.status != http.StatusAccepted {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		got := r.json(t)
		id, _ = got["jobId"].(string)
		if got["kind"] != "create_instance" || got["status"] != "queued" || r.header.Get("Location") != "/jobs/"+id {
			t.Errorf("answer: %s", r.body)
		}
		info, err := e.inspector.GetTaskInfo(tasks.SystemQueue, "instance:"+id)
		if err != nil {
			t.Fatalf("task instance:%s is not in Redis: %v", id, err)
		}
		if strings.Contains(string(info.Payload), ownerPassword) {
			t.Errorf("the task payload holds the password")
		}
		// The request is stored sealed only.
		var sealed []byte
		if err := e.db.QueryRow(context.Background(), `SELECT request_sealed FROM jobs WHERE id = $1`, id).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(sealed), ownerPassword) {
			t.Error("the stored request holds the password in clear")
		}
		plain, err := e.box.Open(sealed)
		if err != nil || string(plain) != instanceBody {
			t.Errorf("sealed request: %v %q", err, plain)
		}
	})
	if id == "" {
		t.FailNow()
	}

	t.Run("system token naming an instance", func(t *testing.T) {
		// The instance job belongs to no instance; the system token reads it
		// whatever instance it names, so a client never retries a created
		// instance because it could not read the answer.
		named := map[string]string{"x-zitadel-instance-id": e.instanceID}
		r := e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: instanceBody, header: named})
		if r.status != http.StatusAccepted {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		for _, path := range []string{r.header.Get("Location"), r.header.Get("Location") + "/result"} {
			if r := e.do(req{method: "GET", path: path, token: testSystemToken, header: named}); r.status != http.StatusOK {
				t.Errorf("GET %s = %d %s", path, r.status, r.body)
			}
		}
	})

	t.Run("result before the end", func(t *testing.T) {
		r := e.do(req{method: "GET", path: "/jobs/" + id + "/result", token: testSystemToken})
		if want := `{"jobId":"` + id + `","status":"queued"}`; r.status != 200 || strings.TrimSpace(string(r.body)) != want {
			t.Errorf("got %d %s, want %s", r.status, r.body, want)
		}
		// A tenant never sees instance jobs.
		wantError(t, e.do(req{method: "GET", path: "/jobs/" + id, token: e.pat}), 404, codeNotFound, "job not found")
	})

	t.Run("result", func(t *testing.T) {
		resp := `{"instanceId":"i-1","details":{"sequence":"3","resourceOwner":"org-1"},"pat":"new-pat-of-the-owner"}`
		if _, err := e.db.Exec(context.Background(), `UPDATE jobs SET status = 'succeeded', finished_at = now(), result_sealed = $2 WHERE id = $1`,
			id, e.box.Seal([]byte(resp))); err != nil {
			t.Fatal(err)
		}
		r := e.do(req{method: "GET", path: "/jobs/" + id + "/result", token: testSystemToken})
		want := `{"jobId":"` + id + `","instanceId":"i-1","details":{"sequence":"3","resourceOwner":"org-1"},"pat":"new-pat-of-the-owner"}`
		if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
			t.Errorf("got %d %s\nwant %s", r.status, r.body, want)
		}
	})

	t.Run("failed", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: instanceBody})
		fid := r.json(t)["jobId"].(string)
		if _, err := e.db.Exec(context.Background(), `UPDATE jobs SET status = 'failed', finished_at = now(), error = 'custom domain acme.example.com is taken' WHERE id = $1`, fid); err != nil {
			t.Fatal(err)
		}
		r = e.do(req{method: "GET", path: "/jobs/" + fid + "/result", token: testSystemToken})
		var got map[string]string
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"jobId": fid, "status": "failed", "message": "custom domain acme.example.com is taken"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("idempotency", func(t *testing.T) {
		key := map[string]string{"Idempotency-Key": "inst-1"}
		r := e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: instanceBody, header: key})
		first := r.json(t)["jobId"]
		r = e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: instanceBody, header: key})
		if r.status != 200 || r.json(t)["jobId"] != first {
			t.Errorf("replay: %d %s", r.status, r.body)
		}
		r = e.do(req{method: "POST", path: "/instances/_create", token: testSystemToken, body: strings.Replace(instanceBody, "Acme", "Other", 1), header: key})
		wantError(t, r, http.StatusConflict, codeAlreadyExists, "Idempotency-Key")
	})
}
