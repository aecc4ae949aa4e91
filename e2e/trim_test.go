package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestImport_NamesTrimmed: org and domain names are trimmed before they are
// checked and stored, as ZITADEL does: an org name that is empty after
// trimming is the org's error (its entities are skipped), and a padded name
// of an existing org is taken.
func TestImport_NamesTrimmed(t *testing.T) {
	s := newStack(t)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("Trim")
	existing := s.query(`SELECT name FROM orgs WHERE instance_id = $1`, instanceID)[0][0]
	user := func(id string) string {
		return fmt.Sprintf(`{"userId":%q,"user":{"userName":%q,"profile":{"firstName":"F","lastName":"L"},"email":{"email":"%s@example.com"}}}`, id, id, id)
	}
	body := `{"timeout":"10m","dataOrgs":{"orgs":[` +
		`{"orgId":"tr-padded","org":{"name":"  Padded Org  "},"domains":[{"domainName":"  padded.example  ","isVerified":true,"isPrimary":true}],"humanUsers":[` + user("tr-u1") + `]},` +
		`{"orgId":"tr-blank","org":{"name":" \t "},"humanUsers":[` + user("tr-u2") + `]},` +
		`{"orgId":"tr-taken","org":{"name":"  ` + existing + ` "},"humanUsers":[` + user("tr-u3") + `]}]}}`
	id := s.submit(pat, []byte(body))
	if job := s.waitJob(id, pat, time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("status %v: %v", job["status"], job)
	}
	got := normalizeResult(t, []byte(strings.ReplaceAll(string(s.result(id, pat)), existing, "<first org>")))
	compareGolden(t, "testdata/trim.golden.json", got)
	rows := s.query(`SELECT o.id, o.name, coalesce(d.domain, '') FROM orgs o LEFT JOIN org_domains d ON d.instance_id = o.instance_id AND d.org_id = o.id
		WHERE o.instance_id = $1 AND o.id LIKE 'tr-%' ORDER BY 1`, instanceID)
	if diff := cmp.Diff([][]string{{"tr-padded", "Padded Org", "padded.example"}}, rows); diff != "" {
		t.Errorf("orgs (-want +got):\n%s", diff)
	}
	if n := s.query(`SELECT count(*) FROM users WHERE instance_id = $1 AND id LIKE 'tr-%'`, instanceID)[0][0]; n != "1" {
		t.Errorf("%s users imported, want only tr-u1's (the other orgs do not exist)", n)
	}
}
