package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// catalogueTypes are the error types of ZITADEL's catalogue (reference
// §2.7) plus zimport's types of the OTP message texts, which ZITADEL never
// imports. Each must occur in the result of testdata/invalid.json.
var catalogueTypes = []string{
	"org",
	"domain_policy", "label_policy", "lockout_policy", "login_policy", "password_complexity_policy", "privacy_policy",
	"domain", "domain_isverified", "domain_isprimary",
	"oidc_idp", "jwt_idp",
	"login_texts", "init_message", "password_reset_message", "verify_email_message", "verify_phone_message",
	"domain_claimed_message", "passwordless_registration_message", "invite_user_messages",
	"verify_sms_otp_message", "verify_email_otp_message",
	"human_user", "human_user_otp", "machine_user", "user_metadata", "machine_user_key", "user_link",
	"project", "oidc_app", "api_app", "app_key", "action", "project_role",
	"trigger_action", "project_grant", "user_grant",
	"org_member", "project_grant_member", "project_member",
}

// repeatMarker is "<repeat N s>" inside a JSON string of a testdata file:
// s repeated N times, for values too long to write out.
var repeatMarker = regexp.MustCompile(`<repeat (\d+) ([^>]*)>`)

// expandRepeats replaces the repeat markers of b.
func expandRepeats(t testing.TB, b []byte) []byte {
	t.Helper()
	return repeatMarker.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := repeatMarker.FindSubmatch(m)
		n, err := strconv.Atoi(string(sub[1]))
		if err != nil {
			t.Fatalf("bad marker %s: %v", m, err)
		}
		return bytes.Repeat(sub[2], n)
	})
}

// TestImport_InvalidValuesGolden imports entities that break each rule of
// their fields, one rule per entity (testdata/invalid.json), through the
// real API and worker, and compares the result with a golden file. The
// import runs after testdata/invalid.setup.json, whose org exists and has
// verified a domain, so that the result holds every error type of the
// catalogue, domain_isverified and domain_isprimary included. Values of
// the wrong JSON type or not in their enum are refused by the API before a
// job starts; testdata/invalid_requests.json holds one request per such
// value, whose responses are compared with a golden file too.
func TestImport_InvalidValuesGolden(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("Invalid values")

	setup, err := os.ReadFile("testdata/invalid.setup.json")
	if err != nil {
		t.Fatal(err)
	}
	id := s.submit(pat, setup)
	if job := s.waitJob(id, pat, 2*time.Minute); job["status"] != "succeeded" {
		t.Fatalf("setup status = %v, want succeeded: %v", job["status"], job)
	}

	body, err := os.ReadFile("testdata/invalid.json")
	if err != nil {
		t.Fatal(err)
	}
	id = s.submit(pat, expandRepeats(t, body))
	if job := s.waitJob(id, pat, 2*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("status = %v, want completed_with_errors: %v", job["status"], job)
	}
	res := s.result(id, pat)
	compareGolden(t, "testdata/invalid.golden.json", runValues.ReplaceAll(normalizeResult(t, res), []byte("${1}${3}${4}…${2}")))

	var r struct {
		Errors []struct{ Type, ID, Message string }
	}
	if err := json.Unmarshal(res, &r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range r.Errors {
		seen[e.Type] = true
		if e.Message == "" {
			t.Errorf("error %s %q has no message", e.Type, e.ID)
		}
	}
	for _, typ := range catalogueTypes {
		if !seen[typ] {
			t.Errorf("no error of type %s in the result", typ)
		}
		delete(seen, typ)
	}
	for typ := range seen {
		t.Errorf("error type %s is not in the catalogue", typ)
	}

	// Org "second" validates its domains: a domain verified by another org
	// is added unverified and cannot be primary; the other org keeps it
	// verified and primary.
	want := [][]string{
		{"second", "claimed.example", "false", "false"},
		{"second", "second.example", "true", "true"},
		{"second", "unverified.example", "false", "false"},
		{"taken", "claimed.example", "true", "true"},
	}
	got := s.query(`SELECT org_id, domain, is_verified, is_primary FROM org_domains
		WHERE instance_id = $1 AND domain IN ('claimed.example', 'second.example', 'unverified.example') ORDER BY 1, 2`, instanceID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("domains (-want +got):\n%s", diff)
	}

	t.Run("requests", func(t *testing.T) {
		testInvalidRequests(t, s, pat)
	})
}

// testInvalidRequests posts each org of testdata/invalid_requests.json as
// an import of its own, expects 400, and compares the responses with a
// golden file.
func testInvalidRequests(t *testing.T, s *stack, pat string) {
	b, err := os.ReadFile("testdata/invalid_requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name string
		Org  json.RawMessage
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var out bytes.Buffer
	out.WriteString("{\n")
	for i, c := range cases {
		if names[c.Name] {
			t.Fatalf("case %q is given twice", c.Name)
		}
		names[c.Name] = true
		req := []byte(`{"timeout": "2m", "dataOrgs": {"orgs": [` + string(c.Org) + `]}}`)
		code, resp := s.do("POST", "/import", pat, req)
		if code != http.StatusBadRequest {
			t.Errorf("%s: POST /import = %d %s, want 400", c.Name, code, resp)
		}
		var e struct{ Message string }
		if err := json.Unmarshal(resp, &e); err != nil || e.Message == "" {
			t.Errorf("%s: response without message: %s", c.Name, resp)
		}
		name, _ := json.Marshal(c.Name)
		msg, _ := json.Marshal(strconv.Itoa(code) + " " + e.Message)
		out.WriteString("  " + string(name) + ": " + string(msg))
		if i < len(cases)-1 {
			out.WriteString(",")
		}
		out.WriteString("\n")
	}
	out.WriteString("}\n")
	compareGolden(t, "testdata/invalid_requests.golden.json", out.Bytes())
}
