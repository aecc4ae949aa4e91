package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/importdata"
)

// v1Stages are the steps the v1 tests run: the org with its IdPs, actions
// and policies, then its trigger actions. Not "unsupported": its iamPolicy
// is v2 data's, and the planner does not run it for v1 data.
var v1Stages = []kindsStage{
	{StagePass1, []string{"org", "domain_policy", "label_policy", "oidc_idps", "jwt_idps", "login_policy", "actions"}},
	{StagePass2, []string{"trigger_actions"}},
}

const v1JWTIDP = `{"idpId": "idp1", "idp": {"name": "J", "jwtEndpoint": "https://j.example/jwt", "issuer": "https://j.example",
	"keysEndpoint": "https://j.example/keys", "headerName": "h"}}`

// v1Payload is an import in the v1 format and v2Payload its conversion.
const (
	v1Payload = `{"orgs": [
	{"orgId": "a", "org": {"name": "A"}, "iamPolicy": {"orgId": "a", "userLoginMustBeDomain": true},
	 "domainPolicy": {"validateOrgDomains": true}, "orgState": "ORG_STATE_INACTIVE",
	 "labelPolicy": {"primaryColor": "#111"}, "jwtIdps": [` + v1JWTIDP + `],
	 "loginPolicy": {"allowRegister": true, "passwordCheckLifetime": "60s", "secondFactors": ["SECOND_FACTOR_TYPE_OTP"]},
	 "secondFactors": [{"type": "SECOND_FACTOR_TYPE_U2F"}, {"type": 3}], "multiFactors": [{"type": 1}],
	 "idps": [{"idpId": "idp1", "ownerType": "IDP_OWNER_TYPE_ORG"}],
	 "actions": [{"actionId": "act1", "action": {"name": "A1", "script": "function A1() {}"}}],
	 "triggerActions": [{"flowType": "FLOW_TYPE_EXTERNAL_AUTHENTICATION", "triggerType": "TRIGGER_TYPE_PRE_CREATION", "actionIds": ["act1"]},
	   {"flowType": 1, "triggerType": 3, "actionIds": ["act1"]}]},
	{"orgId": "b", "org": {"name": "B"}, "secondFactors": [{"type": 1}], "idps": [{"idpId": "x", "ownerType": 2}]}
	]}`
	v2Payload = `{"orgs": [
	{"orgId": "a", "org": {"name": "A"}, "domainPolicy": {"orgId": "a", "userLoginMustBeDomain": true},
	 "labelPolicy": {"primaryColor": "#111"}, "jwtIdps": [` + v1JWTIDP + `],
	 "loginPolicy": {"allowRegister": true, "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "864000s",
	   "mfaInitSkipLifetime": "2592000s", "secondFactorCheckLifetime": "64800s", "multiFactorCheckLifetime": "43200s",
	   "secondFactors": ["SECOND_FACTOR_TYPE_U2F", 3], "multiFactors": [1],
	   "idps": [{"idpId": "idp1", "ownerType": "IDP_OWNER_TYPE_ORG"}]},
	 "actions": [{"actionId": "act1", "action": {"name": "A1", "script": "function A1() {}"}}],
	 "triggerActions": [{"flowType": "1", "triggerType": "2", "actionIds": ["act1"]}, {"flowType": "1", "triggerType": "3", "actionIds": ["act1"]}]},
	{"orgId": "b", "org": {"name": "B"}}
	]}`
)

// v1Queries read what the v1 tests import.
var v1Queries = []string{`SELECT id, name, state FROM orgs ORDER BY id`, qDomainPolicies, qLabelPolicies, qLoginPolicies,
	qLoginPolicyIDPs, qActions, qTriggerActions}

func TestApplyUnit_V1(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImportOf(t, s, v1Stages, importdata.FieldDataOrgsV1, importdata.OnConflictFail, v1Payload)
	checkKindsRows(t, s, []kindsRowCheck{
		// iamPolicy: userLoginMustBeDomain, the rest ZITADEL's instance
		// defaults; the v1 org's domainPolicy is not a v1 member.
		{qDomainPolicies, [][]string{{"a", "true", "false", "false"}}},
		// The default lifetimes (240h, 240h, 720h, 18h, 12h) and the v1
		// lists; org b's lists without a login policy are ignored.
		{qLoginPolicies, [][]string{{"a", "false", "true", "false", "false", "PASSWORDLESS_TYPE_NOT_ALLOWED", "false", "false", "",
			"864000.000000", "864000.000000", "2592000.000000", "64800.000000", "43200.000000",
			"[SECOND_FACTOR_TYPE_U2F SECOND_FACTOR_TYPE_OTP_EMAIL]", "[MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION]",
			"false", "false", "false", "false"}}},
		{qLoginPolicyIDPs, [][]string{{"a", "0", "idp1", "IDP_OWNER_TYPE_ORG"}}},
		{qTriggerActions, [][]string{{"a", "1", "2", "[act1]"}, {"a", "1", "3", "[act1]"}}},
	})
	for _, res := range kindsResults(t, s, r.job.ID) {
		if res.Outcome != "ok" {
			t.Errorf("v1 import result %+v, want only successes", res)
		}
	}

	// The v1 import is the import of its v2 conversion.
	v2 := newKindsStore(t)
	r2 := kindsImport(t, v2, v1Stages, importdata.OnConflictFail, v2Payload)
	if diff := cmp.Diff(dumpRows(t, v2, v1Queries...), dumpRows(t, s, v1Queries...)); diff != "" {
		t.Errorf("v1 rows differ from v2 rows (-v2 +v1):\n%s", diff)
	}
	if diff := cmp.Diff(kindsResults(t, v2, r2.job.ID), kindsResults(t, s, r.job.ID)); diff != "" {
		t.Errorf("v1 results differ from v2 results (-v2 +v1):\n%s", diff)
	}
}
