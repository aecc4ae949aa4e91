package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// clashOrgs is the number of orgs of the clash file.
const clashOrgs = 30

// clashName is the name of org i of the clash file: most orgs have their
// own, every fifth (3, 8, …) takes that of the org two before it, every
// tenth (9, 19, 29) that of org 0, and org 26 that of org 27, which comes
// after it: the earlier org wins each.
func clashName(i int) string {
	switch {
	case i == 26:
		return "Clash 27"
	case i%10 == 9:
		return "clash 00"
	case i%5 == 3:
		return fmt.Sprintf("  CLASH %02d ", i-2)
	}
	return fmt.Sprintf("Clash %02d", i)
}

// clashDomains are org i's domains: a domain of six shared in turns (said
// to be verified by the even orgs only, which the instance's default domain
// policy ignores: each is verified when it is added, so the first org of each
// wins it), its own domain and, every seventh org, the shared one again,
// padded and in capitals.
func clashDomains(i int) []clashDomain {
	ds := []clashDomain{{fmt.Sprintf("d%d.example", i%6), i%2 == 0}, {fmt.Sprintf("own-%02d.example", i), true}}
	if i%7 == 0 {
		ds = append(ds, clashDomain{fmt.Sprintf(" D%d.EXAMPLE ", i%6), true})
	}
	return ds
}

type clashDomain struct {
	name     string
	verified bool
}

type clashUser struct {
	id, name string
	machine  bool
	badEmail bool
}

// clashUsers are org i's users: one of its own, two shared by overlapping
// groups of orgs (in other cases), one whose name ends in a shared domain,
// a fifth that repeats the org's first shared name (every sixth org), takes
// the name of the instance's machine user (org 4) or is the first of two
// "late-winner"s that fails on its e-mail address (org 12, so that org 20's
// wins), and a machine user shared by every third org.
func clashUsers(i int) []clashUser {
	u := func(j int, name string) clashUser { return clashUser{id: fmt.Sprintf("cl-u%02d-%d", i, j), name: name} }
	users := []clashUser{
		u(0, fmt.Sprintf("user-%02d", i)),
		u(1, fmt.Sprintf("shared-%d", i%4)),
		u(2, fmt.Sprintf("Shared-%d", (i+1)%4)),
		u(3, fmt.Sprintf("person-%02d@D%d.example", i, (i+3)%6)),
	}
	fifth := u(4, fmt.Sprintf("extra-%02d", i))
	switch {
	case i == 4:
		fifth.name = "IMPORTER"
	case i == 12:
		fifth.name, fifth.badEmail = "late-winner", true
	case i == 20:
		fifth.name = " Late-Winner"
	case i%6 == 5:
		fifth.name = fmt.Sprintf(" SHARED-%d", i%4)
	}
	users = append(users, fifth, clashUser{id: fmt.Sprintf("cl-m%02d", i), name: fmt.Sprintf("bot-%d", i%3), machine: true})
	return users
}

// clashOrgScoped says whether org i's user names are unique in the org
// only (its domain policy says userLoginMustBeDomain).
func clashOrgScoped(i int) bool { return i%8 == 7 }

// clashFile is the {"orgs": [...]} document of the clash test.
func clashFile() []byte {
	var orgs []string
	for i := range clashOrgs {
		var b strings.Builder
		fmt.Fprintf(&b, `{"orgId":"cl-o%02d","org":{"name":%q}`, i, clashName(i))
		if clashOrgScoped(i) {
			b.WriteString(`,"domainPolicy":{"userLoginMustBeDomain":true}`)
		}
		var domains, humans, machines []string
		for _, d := range clashDomains(i) {
			domains = append(domains, fmt.Sprintf(`{"domainName":%q,"isVerified":%t}`, d.name, d.verified))
		}
		for _, u := range clashUsers(i) {
			if u.machine {
				machines = append(machines, fmt.Sprintf(`{"userId":%q,"user":{"userName":%q,"name":"Bot"}}`, u.id, u.name))
				continue
			}
			email := "u@mail.example"
			if u.badEmail {
				email = "not an address"
			}
			humans = append(humans, fmt.Sprintf(`{"userId":%q,"user":{"userName":%q,"profile":{"firstName":"F","lastName":"L"},"email":{"email":%q}}}`,
				u.id, u.name, email))
		}
		fmt.Fprintf(&b, `,"domains":[%s],"humanUsers":[%s],"machineUsers":[%s]}`,
			strings.Join(domains, ","), strings.Join(humans, ","), strings.Join(machines, ","))
		orgs = append(orgs, b.String())
	}
	return []byte(`{"orgs":[` + strings.Join(orgs, ",\n") + "]}\n")
}

// clashExpected computes the directory rows of the clash file imported into
// a new instance by ZITADEL's rule, org after org in file order: an org
// whose name an earlier org took is skipped; a domain is verified when it is
// added (the instance's default domain policy), and one that another org
// verified fails; a user name taken in its scope fails, and so does a
// human user's name (in the instance's scope) that ends in "@<domain>" of a
// domain another org verified before it. The instance's machine user
// "importer" exists before.
func clashExpected() map[string][]string {
	orgNames := map[string]bool{}
	verifiedBy := map[string]int{}
	userNames := map[string]bool{"importer": true} // instance scope
	out := map[string][]string{}
	for i := range clashOrgs {
		name := strings.TrimSpace(clashName(i))
		if orgNames[strings.ToLower(name)] {
			continue
		}
		orgNames[strings.ToLower(name)] = true
		org := fmt.Sprintf("cl-o%02d", i)
		out["orgs"] = append(out["orgs"], org+"|"+name)
		own := map[string]bool{}
		for _, d := range clashDomains(i) {
			dn := strings.TrimSpace(d.name)
			folded := strings.ToLower(dn)
			if own[folded] {
				continue // the org has it: an error
			}
			if _, taken := verifiedBy[folded]; taken {
				continue // verified by another org: an error
			}
			own[folded] = true
			verifiedBy[folded] = i
			out["org_domains"] = append(out["org_domains"], fmt.Sprintf("%s|%s|true", org, dn))
		}
		scoped := map[string]bool{}
		for _, u := range clashUsers(i) {
			name := strings.TrimSpace(u.name)
			folded := strings.ToLower(name)
			taken := userNames
			if clashOrgScoped(i) {
				taken = scoped
			}
			if at := strings.LastIndex(folded, "@"); !u.machine && !clashOrgScoped(i) && at >= 0 {
				if by, ok := verifiedBy[folded[at+1:]]; ok && by != i {
					continue // DomainNotAllowedAsUsername
				}
			}
			if u.badEmail || taken[folded] {
				continue
			}
			taken[folded] = true
			out["users"] = append(out["users"], fmt.Sprintf("%s|%s|%s", u.id, org, name))
		}
	}
	for _, rows := range out {
		slices.Sort(rows)
	}
	return out
}

// clashDirectory returns the orgs, domains and users of the clash file in
// the instance, as clashExpected gives them.
func clashDirectory(s *stack, instanceID string) map[string][]string {
	queries := map[string]string{
		"orgs":        `SELECT id, name FROM orgs WHERE instance_id = $1 AND id LIKE 'cl-%'`,
		"org_domains": `SELECT org_id, domain, is_verified FROM org_domains WHERE instance_id = $1 AND org_id LIKE 'cl-%'`,
		"users":       `SELECT id, org_id, username FROM users WHERE instance_id = $1 AND org_id LIKE 'cl-%'`,
	}
	out := map[string][]string{}
	for table, q := range queries {
		for _, r := range s.query(q, instanceID) {
			out[table] = append(out[table], strings.Join(r, "|"))
		}
		slices.Sort(out[table])
	}
	return out
}

// TestImport_ClashesEarlierOrgWins imports a file of 30 orgs whose names,
// domains and user names clash in overlapping groups 20 times, each time
// into a new instance, with two worker processes at concurrency 8 and
// chunks of 1 to 1000 elements, inline and from a local file. Every run has
// the same result, equal to the golden file, and the same directory, equal
// to what importing org after org gives (clashExpected).
func TestImport_ClashesEarlierOrgWins(t *testing.T) {
	dir := t.TempDir()
	s := newStack(t, "ZIMPORT_LOCAL_IMPORT_DIR="+dir, "ZIMPORT_WORKER_CONCURRENCY=8")
	file := clashFile()
	want := clashExpected()
	chunks := []int{1, 2, 3, 5, 1000}
	var first []byte
	for run := range 20 {
		chunk := chunks[run%len(chunks)]
		for _, w := range []string{"worker-a", "worker-b"} {
			if s.workers[w] != nil {
				s.stopWorker(w)
			}
			s.startWorker(w, fmt.Sprintf("ZIMPORT_CHUNK_SIZE=%d", chunk))
		}
		instanceID, pat := s.createInstance(fmt.Sprintf("Clash run %d", run))
		body := []byte(`{"timeout":"10m","dataOrgs":` + string(file) + `}`)
		if run%2 == 1 {
			os.MkdirAll(filepath.Join(dir, instanceID), 0o755) //nolint:errcheck
			if err := os.WriteFile(filepath.Join(dir, instanceID, "clash.json"), file, 0o644); err != nil {
				t.Fatal(err)
			}
			body = []byte(`{"timeout":"10m","dataOrgsLocal":{"path":"clash.json"}}`)
		}
		id := s.submit(pat, body)
		if job := s.waitJob(id, pat, 3*time.Minute); job["status"] != "completed_with_errors" {
			t.Fatalf("run %d (chunks of %d): status %v: %v", run, chunk, job["status"], job)
		}
		got := normalizeResult(t, s.result(id, pat))
		if first == nil {
			first = got
			compareGolden(t, "testdata/clash.golden.json", got)
		} else if !bytes.Equal(first, got) {
			t.Errorf("run %d (chunks of %d) has another result than run 0 (-run 0 +run %d):\n%s", run, chunk, run, cmp.Diff(string(first), string(got)))
		}
		if diff := cmp.Diff(want, clashDirectory(s, instanceID)); diff != "" {
			t.Errorf("run %d (chunks of %d): directory differs from importing org after org (-want +got):\n%s", run, chunk, diff)
		}
	}
	// The golden file holds each kind of clash.
	for _, msg := range []string{"Errors.Org.AlreadyExists", "Errors.User.AlreadyExists", "DomainNotAllowedAsUsername",
		"is verified by another org", "Errors.Org.Domain.AlreadyExists", "email.email: is not a valid"} {
		if !bytes.Contains(first, []byte(msg)) {
			t.Errorf("the result has no %q", msg)
		}
	}
}

// TestImport_ClashesSurviveWorkerKills imports the clash file with chunks of
// one element while its only worker is killed (SIGKILL) three times: units
// that were waiting for an earlier org, or running, are recovered, and the
// result and directory are those of the calm runs (the golden file and
// importing org after org).
func TestImport_ClashesSurviveWorkerKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and recovers workers: takes minutes")
	}
	env := []string{"ZIMPORT_CHUNK_SIZE=1", "ZIMPORT_WORKER_CONCURRENCY=2"}
	s := newStack(t, env...)
	instanceID, pat := s.createInstanceWith("Clash kills", "crashy-0", env...)
	id := s.submit(pat, []byte(`{"timeout":"10m","dataOrgs":`+string(clashFile())+`}`))
	for i, at := range []float64{0.2, 0.45, 0.7} {
		s.waitProgress(id, pat, at, 3*time.Minute)
		s.kill(fmt.Sprintf("crashy-%d", i))
		s.startWorker(fmt.Sprintf("crashy-%d", i+1), env...)
	}
	if job := s.waitJob(id, pat, 10*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("status %v: %v", job["status"], job)
	}
	want, err := os.ReadFile("testdata/clash.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := normalizeResult(t, s.result(id, pat)); !bytes.Equal(want, got) {
		t.Errorf("result after kills differs from the golden file (-want +got):\n%s", cmp.Diff(string(want), string(got)))
	}
	if diff := cmp.Diff(clashExpected(), clashDirectory(s, instanceID)); diff != "" {
		t.Errorf("directory after kills differs from importing org after org (-want +got):\n%s", diff)
	}
}
