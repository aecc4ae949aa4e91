package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestImport_V1Golden imports a v1 file (dataOrgsv1: iamPolicy, the v1
// trigger-action enums, the v1 secondFactors/multiFactors/idps lists)
// through the real API and worker, compares the result with a golden file,
// and checks that it imports exactly like its v2 conversion
// (testdata/v1.v2.json) does into another instance.
func TestImport_V1Golden(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	importFile := func(instance, path string) ([]byte, string) {
		t.Helper()
		instanceID, pat := s.createInstance(instance)
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		id := s.submit(pat, body)
		job := s.waitJob(id, pat, 2*time.Minute)
		if job["status"] != "completed_with_errors" {
			t.Fatalf("%s: status = %v, want completed_with_errors: %v", path, job["status"], job)
		}
		return normalizeResult(t, s.result(id, pat)), instanceID
	}
	gotV1, v1Instance := importFile("V1", "testdata/v1.json")
	compareGolden(t, "testdata/v1.golden.json", gotV1)

	gotV2, v2Instance := importFile("V1 as v2", "testdata/v1.v2.json")
	if diff := cmp.Diff(string(gotV2), string(gotV1)); diff != "" {
		t.Errorf("v1 result differs from its v2 conversion's (-v2 +v1):\n%s", diff)
	}
	for _, q := range []string{
		`SELECT org_id, user_login_must_be_domain, validate_org_domains, smtp_sender_address_matches_instance_domain FROM domain_policies WHERE instance_id = $1 ORDER BY org_id`,
		`SELECT org_id, extract(epoch FROM password_check_lifetime)::text, extract(epoch FROM external_login_check_lifetime)::text,
			extract(epoch FROM mfa_init_skip_lifetime)::text, extract(epoch FROM second_factor_check_lifetime)::text,
			extract(epoch FROM multi_factor_check_lifetime)::text, second_factors::text, multi_factors::text
			FROM login_policies WHERE instance_id = $1 ORDER BY org_id`,
		`SELECT org_id, position::text, idp_id, owner_type FROM login_policy_idps WHERE instance_id = $1 ORDER BY org_id, position`,
		`SELECT org_id, flow_type::text, trigger_type::text, action_ids::text FROM trigger_actions WHERE instance_id = $1 ORDER BY 1, 2, 3`,
		`SELECT id, org_id, state FROM users WHERE instance_id = $1 AND org_id LIKE 'v1-%' ORDER BY id`,
	} {
		if diff := cmp.Diff(s.query(q, v2Instance), s.query(q, v1Instance)); diff != "" {
			t.Errorf("%s: v1 rows differ from v2 rows (-v2 +v1):\n%s", q, diff)
		}
	}
	want := [][]string{{"v1-alpha", "864000.000000", "864000.000000", "2592000.000000", "64800.000000", "43200.000000",
		"{SECOND_FACTOR_TYPE_U2F,SECOND_FACTOR_TYPE_OTP_EMAIL}", "{MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION}"}}
	got := s.query(`SELECT org_id, extract(epoch FROM password_check_lifetime)::text, extract(epoch FROM external_login_check_lifetime)::text,
		extract(epoch FROM mfa_init_skip_lifetime)::text, extract(epoch FROM second_factor_check_lifetime)::text,
		extract(epoch FROM multi_factor_check_lifetime)::text, second_factors::text, multi_factors::text
		FROM login_policies WHERE instance_id = $1`, v1Instance)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("v1 login policy (-want +got):\n%s", diff)
	}
	if got := s.query(`SELECT org_id, user_login_must_be_domain::text FROM domain_policies WHERE instance_id = $1`, v1Instance); len(got) != 1 || got[0][1] != "true" {
		t.Errorf("v1 domain policy = %v, want v1-alpha's from iamPolicy", got)
	}
}
