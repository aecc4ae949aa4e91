package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zimport/zimport/importdata"
)

// claimsPayload has orgs that claim the same values: "Acme" (orgs 0 and 2),
// user name "bob" (orgs 0, 1 and 3), domain shared.example (read by user
// names of orgs 1 and 4, verified by org 3).
const claimsPayload = `{"orgs": [
	{"orgId": "o0", "org": {"name": "Acme"}, "humanUsers": [` + claimsUser0 + `]},
	{"orgId": "o1", "org": {"name": "Beta"}, "humanUsers": [` + claimsUser1 + `]},
	{"orgId": "o2", "org": {"name": " acme "}},
	{"orgId": "o3", "org": {"name": "Gamma"}, "domains": [{"domainName": "Shared.Example", "isVerified": true}],
		"humanUsers": [{"userId": "u3", "user": {"userName": "bob", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "b@x.example"}}}]},
	{"orgId": "o4", "org": {"name": "Delta"},
		"humanUsers": [{"userId": "u4", "user": {"userName": "dave@shared.example", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "d@x.example"}}}]}]}`

const (
	claimsUser0 = `{"userId": "u0", "user": {"userName": "bob", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "b@x.example"}}}`
	claimsUser1 = `{"userId": "u1a", "user": {"userName": "alice@shared.example", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "a@x.example"}}},
		{"userId": "u1b", "user": {"userName": " BOB", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "b@x.example"}}}`
)

// TestClaims_EarlierOrgWins splits a payload whose orgs claim the same org
// name, user name and domain, with one unit per org, and applies the units
// last org first, over and over: a unit waits (ErrBlocked) until every
// unit of an earlier org that claims one of its values is done, Waiting
// names the units to wake, and the outcome is that of org after org.
func TestClaims_EarlierOrgWins(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	job, units, orgs := claimsSplit(t, s, importdata.OnConflictFail, claimsPayload)
	checkKindsRows(t, s, []kindsRowCheck{{`SELECT kind, key, org_index, stage, seq, takes FROM job_claims WHERE job_id = '` + job.ID + `' ORDER BY 1, 2, 3`,
		[][]string{
			{"domain", "shared.example", "1", "1", "0", "false"},
			{"domain", "shared.example", "3", "1", "0", "true"},
			{"domain", "shared.example", "4", "1", "0", "false"},
			{"org_name", "acme", "0", "1", "0", "true"},
			{"org_name", "acme", "2", "1", "0", "true"},
			{"user_name", "bob", "0", "1", "0", "true"},
			{"user_name", "bob", "1", "1", "0", "true"},
			{"user_name", "bob", "3", "1", "0", "true"},
		}}})

	order := applyLastFirst(t, s, job, units, orgs, func(pass int, applied []int) {
		if pass != 0 {
			return
		}
		// Org 0 waits for nothing; it wakes the first later taker of
		// each of its values: org 2 (acme) and org 1 (bob).
		if !slices.Equal(applied, []int{0}) {
			t.Fatalf("first pass applied orgs %v, want [0]", applied)
		}
		waiting, err := s.Waiting(ctx, UnitKey{JobID: job.ID, Stage: StagePass1, OrgIndex: 0})
		if err != nil {
			t.Fatal(err)
		}
		var woken []int
		for _, k := range waiting {
			woken = append(woken, k.OrgIndex)
		}
		if !slices.Equal(woken, []int{1, 2}) {
			t.Errorf("Waiting(org 0) = orgs %v, want [1 2]", woken)
		}
	})
	// Pass 2: orgs 2 and 1 (org 3 waits for org 1's bob); pass 3: org 3;
	// pass 4: org 4, which waits for org 3's domain.
	if want := []int{0, 2, 1, 3, 4}; !slices.Equal(order, want) {
		t.Errorf("units applied in order %v, want %v", order, want)
	}
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, name FROM orgs ORDER BY 1`, [][]string{{"o0", "Acme"}, {"o1", "Beta"}, {"o3", "Gamma"}, {"o4", "Delta"}}},
		{`SELECT org_index, outcome, coalesce(message, '') FROM job_results WHERE job_id = '` + job.ID + `' AND type = 'org' ORDER BY 1`,
			[][]string{{"0", "ok", ""}, {"1", "ok", ""}, {"2", "error", `ID=ORG-lapo2n Message=Errors.Org.AlreadyExists (an org named "acme" exists)`},
				{"3", "ok", ""}, {"4", "ok", ""}}},
	})
	checkResults(t, []kindsResult{
		resOK(0, "human_users", 0, "human_user", "u0"),
		resOK(1, "human_users", 0, "human_user", "u1a"), // org 3 verifies shared.example later
		resFailed(1, "human_users", 1, "human_user", "u1b", `Errors.User.AlreadyExists (user name "BOB" is taken)`),
		resOK(3, "domains", 0, "domain", "Shared.Example"),
		resFailed(3, "human_users", 0, "human_user", "u3", `Errors.User.AlreadyExists (user name "bob" is taken)`),
		resFailed(4, "human_users", 0, "human_user", "u4", `Errors.User.DomainNotAllowedAsUsername`),
	}, kindsResults(t, s, job.ID))
}

// claimsSplit splits payload as the worker does, with one unit per org that
// imports the org, its domains and its users, claims included.
func claimsSplit(t *testing.T, s *Store, onConflict, payload string) (Job, []Unit, [][]byte) {
	t.Helper()
	ctx := context.Background()
	split, orgs := kindsDecode(t, payload)
	var units []Unit
	for i := range orgs {
		units = append(units, Unit{Stage: StagePass1, OrgIndex: i, Steps: []string{"org", "domains", "human_users"}})
	}
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", OnConflict: onConflict, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if job, err = s.StartJob(ctx, job.ID, 0); err != nil {
		t.Fatal(err)
	}
	for i := range units {
		units[i].JobID = job.ID
	}
	tables, err := s.NewSplitTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Close()
	opts := importdata.ScanOptions{ChunkSize: 100, Claim: func(c importdata.Claim) error { return tables.Claim(ctx, c) }}
	if err := importdata.ScanOrgs(strings.NewReader(payload), opts, func(importdata.OrgLayout) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := tables.Save(ctx, job, split, units, map[string]int{}, nil); err != nil {
		t.Fatal(err)
	}
	return job, units, orgs
}

// applyLastFirst applies the units, last org first, over and over, until
// all are done; it returns the orgs in the order their units were applied.
// after, when set, is called after each pass with the orgs it applied.
func applyLastFirst(t *testing.T, s *Store, job Job, units []Unit, orgs [][]byte, after func(pass int, applied []int)) []int {
	t.Helper()
	var order []int
	for pass := 0; len(order) < len(units) && pass < len(units); pass++ {
		var applied []int
		for i := len(units) - 1; i >= 0; i-- {
			if slices.Contains(order, i) {
				continue
			}
			_, err := s.ApplyUnit(context.Background(), job, units[i], orgs[i], kindsOpts)
			switch {
			case errors.Is(err, ErrBlocked):
			case err != nil:
				t.Fatalf("apply unit of org %d: %v", i, err)
			default:
				applied = append(applied, i)
			}
		}
		if after != nil {
			after(pass, applied)
		}
		order = append(order, applied...)
	}
	return order
}

// TestClaims_OverwriteRename: with onConflict OVERWRITE an org or a user of
// the file that exists may be renamed, giving its name up; the names they
// have are claimed too, so an org later in the file that takes them waits
// for the rename (and gets them), and one earlier does not (and fails), as
// org after org would do, whatever the order the units run in.
func TestClaims_OverwriteRename(t *testing.T) {
	t.Parallel()
	user := func(id, name string) string {
		return `{"userId": "` + id + `", "user": {"userName": "` + name + `", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "e@x.example"}}}`
	}
	existing := `{"orgs": [{"orgId": "o1", "org": {"name": "Acme"}, "humanUsers": [` + user("u1", "bob") + `]}]}`
	rename := `{"orgId": "o1", "org": {"name": "Acme Corp"}, "humanUsers": [` + user("u1", "robert") + `]}`
	taker := `{"orgId": "o2", "org": {"name": "acme"}, "humanUsers": [` + user("u2", "BOB") + `]}`
	for _, tc := range []struct {
		name, payload string
		wantOrgs      [][]string
	}{
		{"rename first", `{"orgs": [` + rename + `, ` + taker + `]}`,
			[][]string{{"o1", "Acme Corp"}, {"o2", "acme"}}},
		{"rename last", `{"orgs": [` + taker + `, ` + rename + `]}`,
			[][]string{{"o1", "Acme Corp"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newKindsStore(t)
			kindsImport(t, s, []kindsStage{{StagePass1, []string{"org", "human_users"}}}, importdata.OnConflictFail, existing)
			job, units, orgs := claimsSplit(t, s, importdata.OnConflictOverwrite, tc.payload)
			if order := applyLastFirst(t, s, job, units, orgs, nil); !slices.Equal(order, []int{0, 1}) {
				t.Errorf("units applied in order %v, want [0 1]: the later org waits for the earlier", order)
			}
			checkKindsRows(t, s, []kindsRowCheck{{`SELECT id, name FROM orgs ORDER BY id`, tc.wantOrgs}})
			wantUsers := [][]string{{"u1", "robert"}}
			if tc.name == "rename first" {
				wantUsers = append(wantUsers, []string{"u2", "BOB"})
			}
			checkKindsRows(t, s, []kindsRowCheck{{`SELECT id, username FROM users ORDER BY id`, wantUsers}})
		})
	}
}

// TestDerivedUserIDSQL: the split derives a user's id in SQL as the applier
// does in Go.
func TestDerivedUserIDSQL(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	for _, tc := range [][2]string{{"o1", "admin"}, {"", "x"}, {"org/with/slashes", "Bob@Example.com"}, {"ü-org", "名前"}, {"o", strings.Repeat("z", 200)}} {
		var got string
		if err := s.pool.QueryRow(context.Background(), `SELECT `+derivedUserIDSQL("$1::text", "$2::text"), tc[0], tc[1]).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := generatedUserID(tc[0], tc[1]); got != want || len(got) != 18 {
			t.Errorf("derived id of %q in org %q: SQL %s, Go %s", tc[1], tc[0], got, want)
		}
	}
}

// TestClaims_DerivedUserIDs: a human user without an id takes the id
// derived from its org and name; an explicit id of another org that equals
// it is ordered by file order like any shared value.
func TestClaims_DerivedUserIDs(t *testing.T) {
	t.Parallel()
	noID := `{"user": {"userName": "bob", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "e@x.example"}}}`
	derived := generatedUserID("a0", "bob")
	explicit := `{"userId": "` + derived + `", "user": {"userName": "other", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "e@x.example"}}}`
	orgA := `{"orgId": "a0", "org": {"name": "A"}, "humanUsers": [` + noID + `]}`
	orgB := `{"orgId": "b0", "org": {"name": "B"}, "humanUsers": [` + explicit + `]}`
	for _, tc := range []struct {
		name, payload, owner string
	}{
		{"derived first", `{"orgs": [` + orgA + `, ` + orgB + `]}`, "a0"},
		{"explicit first", `{"orgs": [` + orgB + `, ` + orgA + `]}`, "b0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newKindsStore(t)
			job, units, orgs := claimsSplit(t, s, importdata.OnConflictFail, tc.payload)
			if order := applyLastFirst(t, s, job, units, orgs, nil); !slices.Equal(order, []int{0, 1}) {
				t.Errorf("units applied in order %v, want [0 1]", order)
			}
			checkKindsRows(t, s, []kindsRowCheck{{`SELECT id, org_id FROM users`, [][]string{{derived, tc.owner}}}})
		})
	}
}
