package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bcryptHash is a bcrypt hash of "password" (ZITADEL's passwap tests).
const bcryptHash = "$2a$12$aLYFkieuqJyeynvptPTxpehSViui5WeAPuR2Xw1wui9CPHEaacmFq"

// humanAnswer is ImportHumanUserResponse.
type humanAnswer struct {
	UserID  string `json:"userId"`
	Details struct {
		Sequence      string `json:"sequence"`
		CreationDate  string `json:"creationDate"`
		ResourceOwner string `json:"resourceOwner"`
	} `json:"details"`
	PasswordlessRegistration *struct {
		Link       string `json:"link"`
		Lifetime   string `json:"lifetime"`
		Expiration string `json:"expiration"`
	} `json:"passwordlessRegistration"`
}

// errorAnswer is ZITADEL's error body.
type errorAnswer struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"details"`
}

// human is the body of a user named name with a pre-hashed password; extra
// members are added as given (`"otpCode": "…"`).
func human(name string, extra ...string) []byte {
	body := fmt.Sprintf(`{"userName": %q, "profile": {"firstName": "Ada", "lastName": "Lovelace", "gender": "GENDER_FEMALE"},
		"email": {"email": "%s@example.com", "isEmailVerified": true}, "hashedPassword": {"value": %q}`,
		name, strings.ReplaceAll(name, "@", "."), bcryptHash)
	for _, e := range extra {
		body += ", " + e
	}
	return []byte(body + "}")
}

func (s *stack) importHuman(token string, body []byte, header ...string) (int, []byte) {
	s.t.Helper()
	return s.do("POST", "/users/human/_import", token, body, header...)
}

// wantHuman imports a user and expects 200.
func (s *stack) wantHuman(token string, body []byte, header ...string) humanAnswer {
	s.t.Helper()
	code, b := s.importHuman(token, body, header...)
	if code != http.StatusOK {
		s.t.Fatalf("POST /users/human/_import = %d %s", code, b)
	}
	var a humanAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		s.t.Fatal(err)
	}
	return a
}

// wantError imports a user and expects an error answer with the status.
func (s *stack) wantError(status int, token string, body []byte, header ...string) errorAnswer {
	s.t.Helper()
	code, b := s.importHuman(token, body, header...)
	if code != status {
		s.t.Fatalf("POST /users/human/_import = %d %s, want %d", code, b, status)
	}
	var e errorAnswer
	if err := json.Unmarshal(b, &e); err != nil || len(e.Details) != 1 {
		s.t.Fatalf("error body %s: %v, want one detail", b, err)
	}
	return e
}

// TestUsers_ImportHuman goes through every answer of POST
// /users/human/_import with the real binary: what is written, what is
// answered, and what never shows in answers or logs.
func TestUsers_ImportHuman(t *testing.T) {
	s := newStack(t)
	s.startWorker("w1")
	instA, patA := s.createInstance("Users A")
	instB, patB := s.createInstance("Users B")
	orgOf := func(inst string) string {
		return s.query(`SELECT default_org_id FROM instances WHERE id = $1`, inst)[0][0]
	}
	orgA, orgB := orgOf(instA), orgOf(instB)

	t.Run("200 with the caller's org", func(t *testing.T) {
		a := s.wantHuman(patA, human("alice"))
		if len(a.UserID) != 18 || a.Details.ResourceOwner != orgA || a.Details.Sequence != "1" || a.PasswordlessRegistration != nil {
			t.Errorf("answer %+v, want an 18-digit id, org %s, sequence 1", a, orgA)
		}
		created, err := time.Parse(time.RFC3339Nano, a.Details.CreationDate)
		if err != nil || time.Since(created) > time.Minute {
			t.Errorf("creationDate %q: %v", a.Details.CreationDate, err)
		}
		row := s.query(`SELECT org_id, username, first_name, gender, email, email_verified, password_hash, password_change_required,
			to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') FROM users WHERE instance_id = $1 AND id = $2`, instA, a.UserID)
		want := []string{orgA, "alice", "Ada", "GENDER_FEMALE", "alice@example.com", "true", bcryptHash, "false",
			created.UTC().Format("2006-01-02T15:04:05.000000")}
		if len(row) != 1 || fmt.Sprint(row[0]) != fmt.Sprint(want) {
			t.Errorf("row %v, want %v", row, want)
		}
	})

	t.Run("ZITADEL's path, snake_case and enum numbers, the org by header", func(t *testing.T) {
		code, b := s.do("POST", "/management/v1/users/human/_import", patA, []byte(`{"user_name": "bob",
			"profile": {"first_name": "Bob", "last_name": "B", "gender": 2, "unknownField": 1},
			"email": {"email": "bob@example.com"}, "hashed_password": {"value": "`+bcryptHash+`"}}`), "x-zitadel-orgid", orgA)
		if code != http.StatusOK {
			t.Fatalf("= %d %s", code, b)
		}
		var a humanAnswer
		json.Unmarshal(b, &a) //nolint:errcheck
		if got := s.query(`SELECT gender FROM users WHERE instance_id = $1 AND id = $2`, instA, a.UserID); len(got) != 1 || got[0][0] != "GENDER_MALE" {
			t.Errorf("gender %v", got)
		}
	})

	t.Run("a plain password is checked and hashed", func(t *testing.T) {
		e := s.wantError(http.StatusBadRequest, patA, []byte(`{"userName": "weak", "profile": {"firstName": "W", "lastName": "W"},
			"email": {"email": "weak@example.com"}, "password": "short"}`))
		if e.Code != 3 || !strings.Contains(e.Message, "PasswordComplexityPolicy") || len(e.Details) != 1 || e.Details[0].ID != "DOMAIN-HuJf6" {
			t.Errorf("weak password: %+v", e)
		}
		a := s.wantHuman(patA, []byte(`{"userName": "strong", "profile": {"firstName": "S", "lastName": "S"},
			"email": {"email": "strong@example.com"}, "password": "Corr3ct-Horse-Battery", "passwordChangeRequired": true}`))
		row := s.query(`SELECT password_hash, password_change_required FROM users WHERE instance_id = $1 AND id = $2`, instA, a.UserID)
		if !strings.HasPrefix(row[0][0], "$2a$04$") || row[0][1] != "true" {
			t.Errorf("stored %v, want a bcrypt hash at the configured cost and the change required", row)
		}
	})

	t.Run("400 names the field", func(t *testing.T) {
		for _, c := range []struct {
			name, body, want, id string
		}{
			{"no first name", `{"userName": "x1", "profile": {"lastName": "L"}, "email": {"email": "x1@example.com"}}`,
				"profile.firstName", "USER-4M90d"},
			{"bad e-mail", `{"userName": "x2", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "not-an-address"}}`,
				"email.email", "USER-4M90d"},
			{"no profile", `{"userName": "x3", "email": {"email": "x3@example.com"}}`, "profile", "USER-4M90d"},
			{"hash of an unknown scheme", `{"userName": "x4", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "x4@example.com"},
				"hashedPassword": {"value": "$9$dont-echo-this-hash"}}`, "hashedPassword.value: password hash encoding not supported", "USER-JDk4t"},
			{"OTP secret not base32", `{"userName": "x5", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "x5@example.com"},
				"otpCode": "not base32!"}`, "otpCode", "USER-4M90d"},
			{"wrong type", `{"userName": 7}`, "userName", ""},
			{"unknown enum", `{"userName": "x6", "profile": {"gender": "GENDER_X"}}`, "profile.gender", ""},
			{"broken JSON", `{"userName": "x7",`, "at byte", ""},
		} {
			e := s.wantError(http.StatusBadRequest, patA, []byte(c.body))
			if e.Code != 3 || !strings.Contains(e.Message, c.want) || c.id != "" && e.Details[0].ID != c.id {
				t.Errorf("%s: %+v, want code 3, %q in the message, detail id %q", c.name, e, c.want, c.id)
			}
			if strings.Contains(e.Message, "dont-echo-this-hash") {
				t.Errorf("%s: the hash is echoed: %s", c.name, e.Message)
			}
		}
		if n := s.query(`SELECT count(*) FROM users WHERE username LIKE 'x_'`)[0][0]; n != "0" {
			t.Errorf("%s users written by refused requests", n)
		}
	})

	t.Run("409 for a taken user name, ignoring case", func(t *testing.T) {
		e := s.wantError(http.StatusConflict, patA, human("ALICE"))
		if e.Code != 6 || !strings.Contains(e.Message, "ALICE") {
			t.Errorf("%+v", e)
		}
		// Another instance has its own names.
		s.wantHuman(patB, human("alice"))
	})

	t.Run("a user name in a domain another org verified", func(t *testing.T) {
		job := s.submit(patA, []byte(`{"dataOrgs": {"orgs": [{"orgId": "verifier", "org": {"name": "Verifier"},
			"domains": [{"domainName": "verified.example", "isVerified": true}]}]}}`))
		s.waitJob(job, patA, time.Minute)
		e := s.wantError(http.StatusBadRequest, patA, human("eve@verified.example"))
		if e.Code != 3 || e.Details[0].ID != "COMMAND-SFd21" || !strings.Contains(e.Message, "userName") {
			t.Errorf("%+v", e)
		}
		// In the org that verified it, the name is fine.
		s.wantHuman(patA, human("eve@verified.example"), "x-zitadel-orgid", "verifier")
	})

	t.Run("404 for an org that is not the caller's", func(t *testing.T) {
		unknown := s.wantError(http.StatusNotFound, patA, human("nobody"), "x-zitadel-orgid", "no-such-org")
		other := s.wantError(http.StatusNotFound, patA, human("nobody"), "x-zitadel-orgid", orgB)
		if unknown.Code != 5 || unknown.Message != other.Message {
			t.Errorf("unknown org %+v, another instance's org %+v: want the same 404", unknown, other)
		}
		s.wantError(http.StatusNotFound, patA, human("nobody"), "x-zitadel-orgid", strings.Repeat("x", 300))
		if n := s.query(`SELECT count(*) FROM users WHERE username = 'nobody'`)[0][0]; n != "0" {
			t.Errorf("%s users written", n)
		}
	})

	t.Run("401 and the system token", func(t *testing.T) {
		s.wantError(http.StatusUnauthorized, "", human("anon"))
		s.wantError(http.StatusUnauthorized, "not-a-token", human("anon"))
		s.wantError(http.StatusBadRequest, systemToken, human("anon")) // which instance?
		a := s.wantHuman(systemToken, human("sys-made"), "x-zitadel-instance-id", instB)
		if a.Details.ResourceOwner != orgB {
			t.Errorf("system caller's user in org %s, want the instance's first org %s", a.Details.ResourceOwner, orgB)
		}
	})

	var link string
	t.Run("passwordless registration link", func(t *testing.T) {
		a := s.wantHuman(patA, human("passkey", `"requestPasswordlessRegistration": true`))
		p := a.PasswordlessRegistration
		if p == nil || p.Lifetime != "3600s" || p.Expiration != "3600s" || a.Details.Sequence != "2" {
			t.Fatalf("answer %+v, want a link valid for 3600s and sequence 2", a)
		}
		link = p.Link
		u, err := url.Parse(link)
		if err != nil || !strings.HasSuffix(u.Path, "/ui/login/login/passwordless/init") || u.Query().Get("userID") != a.UserID ||
			u.Query().Get("orgID") != orgA || u.Query().Get("code") == "" {
			t.Fatalf("link %q", link)
		}
		sum := sha256.Sum256([]byte(u.Query().Get("code")))
		got := s.query(`SELECT count(*) FROM passwordless_codes WHERE instance_id = $1 AND user_id = $2 AND id = $3
			AND code_hash = decode($4, 'hex') AND expires_at > now() + interval '50 minutes'`,
			instA, a.UserID, u.Query().Get("codeID"), hex.EncodeToString(sum[:]))
		if got[0][0] != "1" {
			t.Errorf("no stored hash of the code")
		}
	})

	const otpSecret = "JBSWY3DPEHPK3PXPJBSWY3DP"
	t.Run("OTP secret", func(t *testing.T) {
		a := s.wantHuman(patA, human("otp-user", `"otpCode": "`+otpSecret+`"`))
		if a.Details.Sequence != "2" {
			t.Errorf("sequence %s, want 2", a.Details.Sequence)
		}
		row := s.query(`SELECT verified, position($3::bytea in secret_sealed) = 0 FROM user_otp WHERE instance_id = $1 AND user_id = $2`,
			instA, a.UserID, otpSecret)
		if len(row) != 1 || row[0][0] != "true" || row[0][1] != "true" {
			t.Errorf("user_otp %v, want a verified, sealed secret", row)
		}
	})

	t.Run("IdP links", func(t *testing.T) {
		job := s.submit(patA, []byte(`{"dataOrgs": {"orgs": [{"orgId": "`+orgA+`", "org": {"name": "ignored"},
			"oidcIdps": [{"idpId": "sso", "idp": {"name": "SSO", "clientId": "c", "clientSecret": "s", "issuer": "https://sso.example"}}]}]}}`))
		s.waitJob(job, patA, time.Minute)
		a := s.wantHuman(patA, human("linked", `"idps": [{"configId": "sso", "externalUserId": "ext-1", "displayName": "Linked"}]`))
		if a.Details.Sequence != "2" {
			t.Errorf("sequence %s, want 2", a.Details.Sequence)
		}
		if got := s.query(`SELECT user_id, display_name FROM user_links WHERE instance_id = $1 AND idp_id = 'sso' AND external_user_id = 'ext-1'`,
			instA); len(got) != 1 || got[0][0] != a.UserID || got[0][1] != "Linked" {
			t.Errorf("links %v", got)
		}
		e := s.wantError(http.StatusConflict, patA, human("linked-again", `"idps": [{"configId": "sso", "externalUserId": "ext-1"}]`))
		if e.Details[0].ID != "V3-DKcYh" {
			t.Errorf("external user linked twice: %+v", e)
		}
		e = s.wantError(http.StatusPreconditionFailed, patA, human("unlinked", `"idps": [{"configId": "nope", "externalUserId": "ext-2"}]`))
		if e.Code != 9 || e.Details[0].ID != "COMMAND-39nfs" || !strings.Contains(e.Message, "idps[0].configId") {
			t.Errorf("unknown IdP: %+v", e)
		}
	})

	t.Run("Idempotency-Key", func(t *testing.T) {
		body := human("idem", `"requestPasswordlessRegistration": true`)
		code, first := s.importHuman(patA, body, "Idempotency-Key", "k-1")
		if code != http.StatusOK || !strings.Contains(string(first), "code=") {
			t.Fatalf("= %d %s", code, first)
		}
		code, again := s.importHuman(patA, body, "Idempotency-Key", "k-1")
		if code != http.StatusOK || string(again) != string(first) {
			t.Errorf("replay = %d %s, want %s", code, again, first)
		}
		e := s.wantError(http.StatusConflict, patA, human("idem-other"), "Idempotency-Key", "k-1")
		if !strings.Contains(e.Message, "Idempotency-Key") {
			t.Errorf("same key, another body: %+v", e)
		}
		// The org is part of the request.
		s.query(`INSERT INTO orgs (instance_id, id, name) VALUES ($1, 'second-org', 'Second')`, instA)
		s.wantError(http.StatusConflict, patA, body, "Idempotency-Key", "k-1", "x-zitadel-orgid", "second-org")
		// The key is the caller's: another instance may use it.
		s.wantHuman(patB, human("idem-b"), "Idempotency-Key", "k-1")
		// Concurrent requests with one key: one user, one answer.
		var wg sync.WaitGroup
		answers := make([]string, 8)
		var replays atomic.Int32
		for i := range answers {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", s.apiURL+"/users/human/_import", strings.NewReader(string(human("idem-race"))))
				req.Header.Set("Authorization", "Bearer "+patA)
				req.Header.Set("Idempotency-Key", "k-race")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				answers[i] = fmt.Sprint(resp.StatusCode, string(b))
				if resp.Header.Get("Idempotent-Replayed") == "true" {
					replays.Add(1)
				}
			})
		}
		wg.Wait()
		for _, a := range answers {
			if a != answers[0] || !strings.HasPrefix(a, "200") {
				t.Fatalf("answers differ: %q", answers)
			}
		}
		if n := replays.Load(); n != int32(len(answers)-1) {
			t.Errorf("%d replays, want %d", n, len(answers)-1)
		}
		if n := s.query(`SELECT count(*) FROM users WHERE username = 'idem-race'`)[0][0]; n != "1" {
			t.Errorf("%s users for one key", n)
		}
		// A refusal is an answer too: the key is spent.
		refused := s.wantError(http.StatusConflict, patA, human("alice"), "Idempotency-Key", "k-refused")
		if again := s.wantError(http.StatusConflict, patA, human("alice"), "Idempotency-Key", "k-refused"); again.Message != refused.Message {
			t.Errorf("replay of a refusal: %+v, want %+v", again, refused)
		}
		s.wantError(http.StatusConflict, patA, human("not-alice"), "Idempotency-Key", "k-refused")
		if got := s.query(`SELECT count(*) FROM user_import_answers WHERE answer_sealed IS NULL OR position('code='::bytea in answer_sealed) > 0
			OR position('alice'::bytea in answer_sealed) > 0`); got[0][0] != "0" {
			t.Errorf("%s answers unsealed or empty", got[0][0])
		}
	})

	t.Run("no password, hash, code or secret in logs or answers", func(t *testing.T) {
		code := ""
		if u, err := url.Parse(link); err == nil {
			code = u.Query().Get("code")
		}
		logs := ""
		for name, path := range s.logs {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			logs += name + ": " + string(b)
		}
		for what, secret := range map[string]string{"plain password": "Corr3ct-Horse-Battery", "hash": bcryptHash,
			"unknown hash": "dont-echo-this-hash", "registration code": code, "OTP secret": otpSecret} {
			if secret == "" {
				t.Fatalf("%s unknown", what)
			}
			if strings.Contains(logs, secret) {
				t.Errorf("the %s is in a log", what)
			}
		}
		if !strings.Contains(logs, "human user imported") {
			t.Error("the API's debug log has no line per import: the check above saw nothing")
		}
	})
}

// TestUsers_CollideWithImport: a user name taken by POST /import is taken
// for POST /users/human/_import, and the other way round.
func TestUsers_CollideWithImport(t *testing.T) {
	s := newStack(t)
	s.startWorker("w1")
	inst, pat := s.createInstance("Collide")
	org := s.query(`SELECT default_org_id FROM instances WHERE id = $1`, inst)[0][0]
	bulk := func(name string) []byte {
		return []byte(`{"dataOrgs": {"orgs": [{"orgId": "` + org + `", "org": {"name": "First"}, "humanUsers": [{"userId": "bulk-` + name +
			`", "user": {"userName": "` + name + `", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "b@example.com"}}}]}]}}`)
	}

	// The import first.
	job := s.submit(pat, bulk("carol"))
	s.waitJob(job, pat, time.Minute)
	if !strings.Contains(string(s.result(job, pat)), `"bulk-carol"`) {
		t.Fatalf("carol not imported: %s", s.result(job, pat))
	}
	e := s.wantError(http.StatusConflict, pat, human("Carol"))
	if e.Details[0].ID != "V3-DKcYh" {
		t.Errorf("after the import: %+v", e)
	}

	// The single user first.
	a := s.wantHuman(pat, human("dave"))
	job = s.submit(pat, bulk("DAVE"))
	s.waitJob(job, pat, time.Minute)
	res := string(s.result(job, pat))
	if !strings.Contains(res, `"bulk-DAVE"`) || !strings.Contains(res, `user name \"DAVE\" is taken`) {
		t.Errorf("the import of a taken name: %s", res)
	}
	if got := s.query(`SELECT id FROM users WHERE instance_id = $1 AND lower(username) = 'dave'`, inst); len(got) != 1 || got[0][0] != a.UserID {
		t.Errorf("dave rows %v, want only %s", got, a.UserID)
	}
}

// TestUsers_ConcurrentRequests: many requests at once (imported in shared
// transactions) each get their own answer: distinct names are imported,
// and of requests for one name exactly one wins.
func TestUsers_ConcurrentRequests(t *testing.T) {
	s := newStack(t)
	s.startWorker("w1")
	inst, pat := s.createInstance("Concurrent")
	var wg sync.WaitGroup
	codes := make([]int, 120)
	for i := range codes {
		name := fmt.Sprintf("user-%d", i)
		var extra []string
		switch {
		case i >= 100: // 20 requests for one name
			name = "contested"
		case i%7 == 0:
			extra = append(extra, `"profile": {"firstName": ""}`) // refused: repeats profile
		case i%11 == 0:
			extra = append(extra, `"requestPasswordlessRegistration": true`)
		}
		wg.Go(func() { codes[i], _ = s.importHuman(pat, human(name, extra...)) })
	}
	wg.Wait()
	won := 0
	for i, code := range codes {
		switch {
		case i >= 100 && code == http.StatusOK:
			won++
		case i >= 100 && code != http.StatusConflict:
			t.Errorf("request %d for the contested name: %d", i, code)
		case i < 100 && i%7 == 0 && code != http.StatusBadRequest:
			t.Errorf("request %d (invalid) = %d", i, code)
		case i < 100 && i%7 != 0 && code != http.StatusOK:
			t.Errorf("request %d = %d", i, code)
		}
	}
	if won != 1 {
		t.Errorf("%d requests won the contested name, want 1", won)
	}
	if got := s.query(`SELECT count(*) FROM users WHERE instance_id = $1 AND type = 'human'`, inst)[0][0]; got != "86" {
		t.Errorf("%s human users, want 85 distinct + 1 contested", got)
	}
	if got := s.query(`SELECT count(*) FROM passwordless_codes WHERE instance_id = $1`, inst)[0][0]; got != "8" {
		t.Errorf("%s registration codes, want 8", got)
	}
}
