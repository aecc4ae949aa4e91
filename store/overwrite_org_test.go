package store

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/importdata"
)

// The tests of onConflict OVERWRITE for the org, its domains, policies and
// texts: what may not be overwritten (a constraint other than the key, the
// same key twice in one file) is an entity error, and the rest is updated.

// overwrittenResult is the result of an entity updated in place.
func overwrittenResult(org int, step string, item int, typ, id string) kindsResult {
	return kindsResult{Org: org, Step: step, Item: item, Outcome: outcomeOverwritten, Type: typ, ID: id}
}

// orgResultsQuery selects the orgs' own results of job jobID: org index,
// outcome, id and message.
func orgResultsQuery(jobID string) string {
	return `SELECT org_index, outcome, id, CASE WHEN outcome = 'overwritten' THEN '' ELSE coalesce(message, '') END FROM job_results
		WHERE type = 'org' AND job_id = '` + jobID + `' ORDER BY org_index`
}

func TestApplyUnit_OverwriteOrg(t *testing.T) {
	t.Parallel()
	stages := []kindsStage{{StagePass1, []string{"org", "privacy_policy"}}}
	s := newKindsStore(t)
	kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [
		{"orgId": "o1", "org": {"name": "Org One"}, "orgState": "ORG_STATE_INACTIVE"},
		{"orgId": "o2", "org": {"name": "Org Two"}},
		{"orgId": "o3", "org": {"name": "Org Three"}},
		{"orgId": "o4", "org": {"name": "Org Four"}, "orgState": "ORG_STATE_INACTIVE"}]}`)
	r := kindsImport(t, s, stages, importdata.OnConflictOverwrite, `{"orgs": [
		{"orgId": "o1", "org": {"name": "Org Uno"}},
		{"orgId": "o2", "org": {"name": "ORG UNO"}, "privacyPolicy": {"helpLink": "https://two.example/help"}},
		{"orgId": "o3", "org": {"name": "ORG THREE"}, "orgState": "ORG_STATE_INACTIVE"},
		{"orgId": "o4", "privacyPolicy": {"helpLink": "https://four.example/help"}},
		{"orgId": "o5", "org": {"name": "Org Five"}}]}`)
	checkKindsRows(t, s, []kindsRowCheck{
		{orgResultsQuery(r.job.ID), [][]string{
			{"0", "overwritten", "o1", ""},
			// Another org has the name (ignoring case): o2 keeps its name,
			// and its data is imported all the same.
			{"1", "error", "o2", `ID=ORG-lapo2n Message=Errors.Org.AlreadyExists (an org named "ORG UNO" exists)`},
			// Its own name in another case is no clash.
			{"2", "overwritten", "o3", ""},
			// Without org there is nothing to overwrite: as with FAIL.
			{"3", "error", "o4", "ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting"},
			{"4", "ok", "o5", ""},
		}},
		{`SELECT id, name, state FROM orgs ORDER BY id`, [][]string{
			{"o1", "Org Uno", "ORG_STATE_ACTIVE"},
			{"o2", "Org Two", "ORG_STATE_ACTIVE"},
			{"o3", "ORG THREE", "ORG_STATE_INACTIVE"},
			{"o4", "Org Four", "ORG_STATE_INACTIVE"},
			{"o5", "Org Five", "ORG_STATE_ACTIVE"},
		}},
		{`SELECT org_index, present FROM job_orgs WHERE job_id = '` + r.job.ID + `' ORDER BY 1`,
			[][]string{{"0", "true"}, {"1", "true"}, {"2", "true"}, {"3", "true"}, {"4", "true"}}},
		{`SELECT org_id, help_link FROM privacy_policies ORDER BY 1`,
			[][]string{{"o2", "https://two.example/help"}, {"o4", "https://four.example/help"}}},
	})
	checkResults(t, []kindsResult{
		resOK(1, "privacy_policy", 0, "privacy_policy", "o2"),
		resOK(3, "privacy_policy", 0, "privacy_policy", "o4"),
	}, kindsResults(t, s, r.job.ID))
}

func TestApplyUnit_OverwriteDomains(t *testing.T) {
	t.Parallel()
	stages := []kindsStage{{StagePass1, []string{"org", "domain_policy", "domains"}}}
	s := newKindsStore(t)
	// Both orgs validate their domains: only isVerified ones are verified.
	kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [
		{"orgId": "o1", "org": {"name": "Org One"}, "domainPolicy": {"validateOrgDomains": true},
			"domains": [{"domainName": "a.example", "isVerified": true, "isPrimary": true},
			{"domainName": "b.example"}, {"domainName": "c.example"}]},
		{"orgId": "o2", "org": {"name": "Org Two"}, "domainPolicy": {"validateOrgDomains": true},
			"domains": [{"domainName": "c.example", "isVerified": true}, {"domainName": "e.example"}]}]}`)
	r := kindsImport(t, s, stages, importdata.OnConflictOverwrite, `{"orgs": [
		{"orgId": "o1", "org": {"name": "Org One"}, "domains": [
			{"domainName": "b.example", "isVerified": true, "isPrimary": true},
			{"domainName": "B.EXAMPLE"},
			{"domainName": "c.example", "isVerified": true},
			{"domainName": "d.example", "isVerified": true},
			{"domainName": "A.example", "isPrimary": true},
			{"domainName": "e.example", "isVerified": true}]}]}`)
	primary := kindsResult{Org: 0, Step: "domains", Item: 4, Sub: 1, Outcome: "error", Type: "domain_isprimary", ID: "o1_A.example",
		Msg: `ID=ORG-Ggd32 Message=Errors.Org.DomainNotVerified (domain "A.example" is not verified and cannot be primary)`}
	checkResults(t, []kindsResult{
		overwrittenResult(0, "domains", 0, "domain", "b.example"),
		// The same domain twice in one file: the second is an error.
		resFailed(0, "domains", 1, "domain", "o1_B.EXAMPLE", `ID=COMMA-Bd2jj Message=Errors.Org.Domain.AlreadyExists (org "o1" has domain "B.EXAMPLE")`),
		// Verified by o2: it cannot be verified in o1 too.
		resFailed(0, "domains", 2, "domain", "o1_c.example", `ID=V3-DKcYh Message=Errors.Org.Domain.AlreadyExists `+
			`(domain "c.example" is verified by another org; it cannot be verified in org "o1" too and was not overwritten)`),
		resOK(0, "domains", 3, "domain", "d.example"),
		overwrittenResult(0, "domains", 4, "domain", "A.example"), primary,
		// o2's unverified domain of the same name is another entity.
		resOK(0, "domains", 5, "domain", "e.example"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{qDomains, [][]string{
			{"o1", "A.example", "false", "false"}, // unverified, so no longer primary; named as given
			{"o1", "b.example", "true", "true"},   // made primary: a.example is not any more
			{"o1", "c.example", "false", "false"},
			{"o1", "d.example", "true", "false"},
			{"o1", "e.example", "true", "false"},
			{"o2", "c.example", "true", "false"},
			{"o2", "e.example", "false", "false"},
		}},
		{`SELECT counts->'domains' FROM job_units WHERE job_id = '` + r.job.ID + `' AND stage = 1 AND org_index = 0`,
			[][]string{{"map[done:2 failed:2 overwritten:2]"}}},
	})
}

func TestApplyUnit_OverwriteDomainPolicy(t *testing.T) {
	t.Parallel()
	stages := []kindsStage{{StagePass1, []string{"org", "domain_policy", "human_users"}}}
	user := func(id, name string) string {
		return `{"userId": "` + id + `", "user": {"userName": "` + name + `", "profile": {"firstName": "F", "lastName": "L"},
			"email": {"email": "` + name + `@x.example"}}}`
	}
	policy := func(mustBeDomain, validate bool) string {
		return `"domainPolicy": {"userLoginMustBeDomain": ` + strconv.FormatBool(mustBeDomain) +
			`, "validateOrgDomains": ` + strconv.FormatBool(validate) + `}`
	}
	tests := []struct {
		name          string
		first, second string
		want          kindsResult
		wantPolicy    []string // user_login_must_be_domain, validate_org_domains
		wantScopes    [][]string
	}{
		{"scope change with users",
			`"humanUsers": [` + user("u1", "ann") + `], ` + policy(false, false),
			policy(true, true),
			resFailed(0, "domain_policy", 0, "domain_policy", "o1", `ID=ZIMPORT-DomScp Message=Errors.Org.DomainPolicy.UserLoginMustBeDomain `+
				`(domainPolicy.userLoginMustBeDomain cannot change to true: org "o1" has users, whose names are unique in the instance; `+
				`the policy was not written)`),
			[]string{"false", "false"}, [][]string{{"u1", ""}}},
		{"same scope with users",
			`"humanUsers": [` + user("u1", "ann") + `], ` + policy(true, false),
			policy(true, true),
			overwrittenResult(0, "domain_policy", 0, "domain_policy", "o1"),
			[]string{"true", "true"}, [][]string{{"u1", "o1"}}},
		{"scope change without users",
			policy(false, false),
			policy(true, false) + `, "humanUsers": [` + user("u2", "bea") + `]`,
			overwrittenResult(0, "domain_policy", 0, "domain_policy", "o1"),
			// The user imported after the policy has the new scope.
			[]string{"true", "false"}, [][]string{{"u2", "o1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newKindsStore(t)
			kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}, `+tc.first+`}]}`)
			r := kindsImport(t, s, stages, importdata.OnConflictOverwrite, `{"orgs": [{"orgId": "o1", `+tc.second+`}]}`)
			got := kindsResults(t, s, r.job.ID)
			var policy []kindsResult
			for _, g := range got {
				if g.Step == "domain_policy" {
					policy = append(policy, g)
				}
			}
			checkResults(t, []kindsResult{tc.want}, policy)
			checkKindsRows(t, s, []kindsRowCheck{
				{`SELECT user_login_must_be_domain, validate_org_domains FROM domain_policies`, [][]string{tc.wantPolicy}},
				{`SELECT id, username_scope FROM users ORDER BY id`, tc.wantScopes},
			})
		})
	}
}

func TestApplyUnit_OverwritePoliciesAndTexts(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}, `+fullPolicies+`}]}`)
	// Other values, the login policy without IdPs and factors, and texts
	// given twice, which stay errors.
	again := strings.NewReplacer(`"maxPasswordAttempts": 5`, `"maxPasswordAttempts": 9`,
		`"idps": [{"idpId": "jwt1", "ownerType": "IDP_OWNER_TYPE_ORG"}]`, `"idps": []`,
		`"secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F", 3]`, `"secondFactors": []`,
		`"minLength": "8"`, `"minLength": "12"`, `"title": "Anmelden"`, `"title": "Login"`,
		`{"language": "en-us", "passwordText"`, `{"language": "DE", "loginText": {"title": "zweimal"}}, {"language": "en-US", "passwordText"`,
		`"initMessages": [{"language": "de", "title": "T"`, `"initMessages": [{"language": "de", "title": "Neu"}, {"language": "de", "title": "T"`,
	).Replace(fullPolicies)
	r := kindsImport(t, s, policiesStages, importdata.OnConflictOverwrite, `{"orgs": [{"orgId": "o1", `+again+`}]}`)

	var want []kindsResult
	for _, res := range fullPolicyResults(0, "o1") {
		res.Outcome = outcomeOverwritten
		switch {
		case res.Step == "jwt_idps":
			continue // another kind's
		case res.Step == "login_texts" && res.Item == 1:
			res.ID = "o1_en-US"
			want = append(want, resFailed(0, "login_texts", 1, "login_texts", "o1_DE",
				`ID=ZIMPORT-TxtEx Message=Errors.CustomText.AlreadyExists (language "DE" is given twice (as in loginTexts[0]))`))
			res.Item = 2
		case res.Step == "message_texts" && res.Item == 0:
			want = append(want, res)
			res = resFailed(0, "message_texts", 1, "init_message", "o1_de",
				`ID=ZIMPORT-TxtEx Message=Errors.CustomText.AlreadyExists (language "de" is given twice (as in initMessages[0]))`)
		case res.Step == "message_texts":
			res.Item++
		}
		want = append(want, res)
	}
	var got []kindsResult
	for _, res := range kindsResults(t, s, r.job.ID) {
		if res.Step != "jwt_idps" {
			got = append(got, res)
		}
	}
	checkResults(t, want, got)
	checkKindsRows(t, s, []kindsRowCheck{
		{qLockoutPolicies, [][]string{{"o1", "9", "7"}}},
		{`SELECT second_factors, multi_factors FROM login_policies`, [][]string{{"[]", "[MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION]"}}},
		{qLoginPolicyIDPs, [][]string{}},
		{`SELECT min_length FROM password_complexity_policies`, [][]string{{"12"}}},
		{`SELECT language, texts::text FROM login_texts ORDER BY language_tag`, [][]string{
			{"de", `{"language": "de", "loginText": {"title": "Login", "nextButtonText": "weiter"}}`},
			{"en-US", `{"language": "en-US", "footerText": {"tos": "Terms"}, "passwordText": {"title": "Password"}}`},
		}},
		{`SELECT message_type, title, text FROM message_texts WHERE message_type = 'InitCode'`, [][]string{{"InitCode", "Neu", ""}}},
	})
}

func TestApplier_ComplexityPolicyOverwrite(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	kindsImport(t, s, policiesStages, importdata.OnConflictFail, `{"orgs": [
		{"orgId": "o1", "org": {"name": "One"}, "passwordComplexityPolicy": {"minLength": 10, "hasNumber": true}}]}`)
	org, err := importdata.DecodeOrg([]byte(`{"orgId": "o1", "passwordComplexityPolicy": {"minLength": 3, "hasSymbol": true}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	inDirectory := &importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 10, HasNumber: true}
	imported := &importdata.AddCustomPasswordComplexityPolicyRequest{MinLength: 3, HasSymbol: true}
	// Before the unit's transaction the directory has the org's old policy:
	// the one the unit overwrites it with applies to its users.
	tests := []struct {
		onConflict string
		steps      []string
		want       *importdata.AddCustomPasswordComplexityPolicyRequest
	}{
		{importdata.OnConflictOverwrite, []string{"password_complexity_policy", "human_users"}, imported},
		{importdata.OnConflictOverwrite, []string{"human_users"}, inDirectory},
		{importdata.OnConflictFail, []string{"password_complexity_policy", "human_users"}, inDirectory},
		{importdata.OnConflictSkip, []string{"password_complexity_policy", "human_users"}, inDirectory},
	}
	for _, tc := range tests {
		a := &applier{db: s.pool, job: Job{InstanceID: kindsInstance, OnConflict: tc.onConflict}, unit: Unit{Steps: tc.steps}, orgID: "o1"}
		got, err := a.complexityPolicy(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %v: complexityPolicy (-want +got):\n%s", tc.onConflict, tc.steps, diff)
		}
	}
}
