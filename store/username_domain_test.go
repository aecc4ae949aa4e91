package store

import (
	"fmt"
	"testing"

	"github.com/zimport/zimport/importdata"
)

// userDomainStages are the steps that the tests of this file need.
var userDomainStages = []kindsStage{
	{StagePass1, []string{"org", "domain_policy", "domains", "human_users", "machine_users"}},
}

// TestApplyUnit_UserNameDomainOfAnotherOrg checks ZITADEL's
// DomainNotAllowedAsUsername (reference §4.3, item 3): without
// userLoginMustBeDomain, a human user's name may not end in "@domain" of a
// domain that another org has verified (ignoring case), on insert and on an
// update with onConflict OVERWRITE. The org's own domains, unverified
// domains, machine users and orgs whose login must be a domain are not
// concerned.
func TestApplyUnit_UserNameDomainOfAnotherOrg(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	human := func(id, name string) string {
		return fmt.Sprintf(`{"userId": %q, "user": {"userName": %q, "profile": {"firstName": "F", "lastName": "L"},
			"email": {"email": "%s@mail.example"}}}`, id, name, id)
	}
	kindsImport(t, s, userDomainStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "taken", "org": {"name": "Taken"},
		"domainPolicy": {"validateOrgDomains": true},
		"domains": [{"domainName": "Claimed.example", "isVerified": true}, {"domainName": "open.example"}]}]}`)
	r := kindsImport(t, s, userDomainStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "domains": [{"domainName": "mine.example", "isVerified": true}],
	 "humanUsers": [`+human("h1", "carol@claimed.EXAMPLE")+`, `+human("h2", "dave@mine.example")+`,
		`+human("h3", "erin@open.example")+`, `+human("h4", "a@b@claimed.example")+`, `+human("h5", "frank@claimed.example.org")+`,
		`+human("h6", "gina")+`, `+human("h7", "  hugo@claimed.example  ")+`],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "bot@claimed.example", "name": "Bot"}}]},
	{"orgId": "o2", "org": {"name": "Org Two"}, "domainPolicy": {"userLoginMustBeDomain": true},
	 "humanUsers": [`+human("h8", "carol@claimed.example")+`]}]}`)
	notAllowed := func(item int, name, domain string) string {
		return fmt.Sprintf(`ID=COMMAND-SFd21 Message=Errors.User.DomainNotAllowedAsUsername (humanUsers[%d].user.userName: %q ends in "@%s", a domain verified by org "taken")`,
			item, name, domain)
	}
	checkResults(t, []kindsResult{
		resOK(0, "domains", 0, "domain", "mine.example"),
		resFailed(0, "human_users", 0, "human_user", "h1", notAllowed(0, "carol@claimed.EXAMPLE", "claimed.EXAMPLE")),
		resOK(0, "human_users", 1, "human_user", "h2"),
		resOK(0, "human_users", 2, "human_user", "h3"),
		resFailed(0, "human_users", 3, "human_user", "h4", notAllowed(3, "a@b@claimed.example", "claimed.example")),
		resOK(0, "human_users", 4, "human_user", "h5"),
		resOK(0, "human_users", 5, "human_user", "h6"),
		resFailed(0, "human_users", 6, "human_user", "h7", notAllowed(6, "hugo@claimed.example", "claimed.example")),
		resOK(0, "machine_users", 0, "machine_user", "m1"),
		{Org: 1, Step: "domain_policy", Outcome: "ok", Type: "domain_policy", ID: "o2"},
		resOK(1, "human_users", 0, "human_user", "h8"),
	}, kindsResults(t, s, r.job.ID))

	// OVERWRITE: renaming a user to a name of another org's domain fails
	// and leaves the user as it was; a name of the org's own domain is fine.
	r = kindsImport(t, s, userDomainStages, importdata.OnConflictOverwrite, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "humanUsers": [`+human("h6", "gina@Claimed.Example")+`, `+human("h2", "dave2@mine.example")+`]}]}`)
	checkResults(t, []kindsResult{
		resFailed(0, "human_users", 0, "human_user", "h6", notAllowed(0, "gina@Claimed.Example", "Claimed.Example")),
		overwrittenResult(0, "human_users", 1, "human_user", "h2"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, username FROM users WHERE org_id <> 'taken' ORDER BY id`, [][]string{
			{"h2", "dave2@mine.example"}, {"h3", "erin@open.example"}, {"h5", "frank@claimed.example.org"},
			{"h6", "gina"}, {"h8", "carol@claimed.example"}, {"m1", "bot@claimed.example"},
		}},
	})

	// A domain that an earlier org of the same job verified counts, as in
	// ZITADEL, which imports org after org; one of a later org does not.
	r = kindsImport(t, s, userDomainStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o3", "org": {"name": "Org Three"}, "domains": [{"domainName": "three.example", "isVerified": true}]},
	{"orgId": "o4", "org": {"name": "Org Four"}, "humanUsers": [`+human("h9", "ivy@three.example")+`]},
	{"orgId": "o5", "org": {"name": "Org Five"}, "humanUsers": [`+human("h10", "jo@five.example")+`]},
	{"orgId": "o6", "org": {"name": "Org Six"}, "domains": [{"domainName": "five.example", "isVerified": true}]}]}`)
	checkResults(t, []kindsResult{
		resOK(0, "domains", 0, "domain", "three.example"),
		resFailed(1, "human_users", 0, "human_user", "h9", `ID=COMMAND-SFd21 Message=Errors.User.DomainNotAllowedAsUsername `+
			`(humanUsers[0].user.userName: "ivy@three.example" ends in "@three.example", a domain verified by org "o3")`),
		resOK(2, "human_users", 0, "human_user", "h10"),
		resOK(3, "domains", 0, "domain", "five.example"),
	}, kindsResults(t, s, r.job.ID))
}

// TestApplyUnit_HumanPreferredLanguage checks that a human user's preferred
// language is stored as ZITADEL stores it (reference §4.2): parsed as BCP
// 47, canonical, and dropped (NULL) when it does not parse, on insert and
// on an update with onConflict OVERWRITE.
func TestApplyUnit_HumanPreferredLanguage(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	human := func(id, lang string) string {
		return fmt.Sprintf(`{"userId": %q, "user": {"userName": %q, "profile": {"firstName": "F", "lastName": "L",
			"preferredLanguage": %q}, "email": {"email": "%s@mail.example"}}}`, id, id, lang, id)
	}
	r := kindsImport(t, s, userDomainStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "humanUsers": [`+human("h1", "de")+`, `+human("h2", "EN-us")+`, `+human("h3", "no tag!")+`, `+human("h4", "")+`,
		`+human("h5", "und")+`, `+human("h6", "de-CH-1996")+`, `+human("h7", "xx-zz")+`]}]}`)
	var want []kindsResult
	for i := range 7 {
		want = append(want, resOK(0, "human_users", i, "human_user", fmt.Sprintf("h%d", i+1)))
	}
	checkResults(t, want, kindsResults(t, s, r.job.ID))
	const q = `SELECT id, coalesce(preferred_language, '<null>') FROM users ORDER BY id`
	checkKindsRows(t, s, []kindsRowCheck{{q, [][]string{
		{"h1", "de"}, {"h2", "en-US"}, {"h3", "<null>"}, {"h4", "<null>"}, {"h5", "<null>"}, {"h6", "de-CH-1996"}, {"h7", "<null>"},
	}}})

	kindsImport(t, s, userDomainStages, importdata.OnConflictOverwrite, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "humanUsers": [`+human("h1", "!!")+`, `+human("h3", "fr-ca")+`]}]}`)
	checkKindsRows(t, s, []kindsRowCheck{{q, [][]string{
		{"h1", "<null>"}, {"h2", "en-US"}, {"h3", "fr-CA"}, {"h4", "<null>"}, {"h5", "<null>"}, {"h6", "de-CH-1996"}, {"h7", "<null>"},
	}}})
}

// TestApplyUnit_UserNameDomainVerifiedByOverwrite: a domain that org A had
// unverified and that an OVERWRITE job verifies counts against org B's
// "bob@x.example" of the same job when A comes first in the file, as in
// ZITADEL, and does not when B comes first.
func TestApplyUnit_UserNameDomainVerifiedByOverwrite(t *testing.T) {
	t.Parallel()
	human := `{"userId": "h1", "user": {"userName": "bob@x.example", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "b@mail.example"}}}`
	orgA := `{"orgId": "a", "org": {"name": "A"}, "domains": [{"domainName": "x.example", "isVerified": true}]}`
	orgB := `{"orgId": "b", "org": {"name": "B"}, "humanUsers": [` + human + `]}`
	outcome := func(domainFirst bool) string {
		s := newKindsStore(t)
		kindsImport(t, s, userDomainStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "a", "org": {"name": "A"},
			"domainPolicy": {"validateOrgDomains": true}, "domains": [{"domainName": "x.example"}]}]}`)
		payload := fmt.Sprintf(`{"orgs": [%s, %s]}`, orgB, orgA)
		if domainFirst {
			payload = fmt.Sprintf(`{"orgs": [%s, %s]}`, orgA, orgB)
		}
		r := kindsImport(t, s, userDomainStages, importdata.OnConflictOverwrite, payload)
		for _, res := range kindsResults(t, s, r.job.ID) {
			if res.Step == "human_users" {
				return res.Outcome
			}
		}
		return "none"
	}
	if a, b := outcome(true), outcome(false); a != "error" || b != "ok" {
		t.Errorf("human user outcome: domain first %q, user first %q; want error, then ok", a, b)
	}
}
