package store

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/zimport/zimport/importdata"
)

// The tests of onConflict OVERWRITE for apps, app keys, actions, project
// roles, trigger actions, project grants, user grants and members: an
// entity of another org, the same key twice in one file and a constraint
// other than the key are entity errors; the rest is updated in place.

// appsOverwritten is the result of an entity updated in place, with its
// success-list fields f.
func appsOverwritten(org int, step string, item int, typ, id string, f ...string) kindsResult {
	return kindsResult{Org: org, Step: step, Item: item, Outcome: outcomeOverwritten, Type: typ, ID: id, F: f}
}

// overwriteAppsBase is imported first by TestApplyUnit_OverwriteApps.
const overwriteAppsBase = `{"orgs": [
{"orgId": "o1", "org": {"name": "Org One"},
 "humanUsers": [{"userId": "h1", "user": {"userName": "alice", "profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "a@x.example"}}}],
 "projects": [{"projectId": "p1", "project": {"name": "One"}}, {"projectId": "p2", "project": {"name": "Two"}}],
 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "Admin"}, {"projectId": "p1", "roleKey": "user", "displayName": "User"}],
 "oidcApps": [{"appId": "web", "app": {"projectId": "p1", "name": "Web"}},
	{"appId": "jwt", "app": {"projectId": "p1", "name": "JWT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}],
 "apiApps": [{"appId": "api", "app": {"projectId": "p1", "name": "API", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}],
 "appKeys": [{"id": "k1", "projectId": "p1", "appId": "jwt", "clientId": "old", "type": 1, "publicKey": "$KEY$"}],
 "actions": [{"actionId": "a1", "action": {"name": "First", "script": "x"}}, {"actionId": "a2", "action": {"name": "Second", "script": "y"}}],
 "triggerActions": [{"flowType": "1", "triggerType": "1", "actionIds": ["a1"]}, {"flowType": "1", "triggerType": "2", "actionIds": ["a1", "a2"]}],
 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2", "roleKeys": ["user", "admin"]}}],
 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["admin"]}],
 "orgMembers": [{"userId": "h1", "roles": ["ORG_OWNER"]}],
 "projectMembers": [{"projectId": "p1", "userId": "h1", "roles": ["PROJECT_OWNER"]}],
 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "h1", "roles": ["PROJECT_GRANT_OWNER"]}]},
{"orgId": "o2", "org": {"name": "Org Two"},
 "humanUsers": [{"userId": "u1", "user": {"userName": "bob", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "b@x.example"}}}],
 "userGrants": [{"userId": "u1", "projectId": "p1", "projectGrantId": "g1", "roleKeys": ["user", "admin"]}]},
{"orgId": "o3", "org": {"name": "Org Three"},
 "projects": [{"projectId": "p3", "project": {"name": "Three"}}]}
]}`

func TestApplyUnit_OverwriteApps(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, allStages(), importdata.OnConflictFail, strings.ReplaceAll(overwriteAppsBase, "$KEY$", appsKey))
	qSecrets := `SELECT id, client_id, coalesce(client_secret_hash, '') FROM apps ORDER BY id`
	before := kindsRows(t, s, qSecrets)

	// Each kind: an update, the same key again (an error), and where the
	// kind has them, a constraint other than the key that the update would
	// break and a key of another org (o2, o3).
	r := kindsImport(t, s, allStages(), importdata.OnConflictOverwrite, strings.ReplaceAll(`{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcApps": [{"appId": "web", "app": {"projectId": "p1", "name": "Web 2", "authMethodType": "OIDC_AUTH_METHOD_TYPE_POST"}},
		{"appId": "web", "app": {"projectId": "p1", "name": "Web 3"}},
		{"appId": "jwt", "app": {"projectId": "p1", "name": "API", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}},
		{"appId": "jwt", "app": {"projectId": "p2", "name": "JWT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}},
		{"appId": "api", "app": {"projectId": "p1", "name": "API"}}],
	 "apiApps": [{"appId": "api", "app": {"projectId": "p1", "name": "API 2"}}, {"appId": "api", "app": {"projectId": "p1", "name": "API 3"}}],
	 "appKeys": [{"id": "k1", "projectId": "p1", "appId": "api", "type": 1, "publicKey": "$KEY$"},
		{"id": "k1", "projectId": "p1", "appId": "jwt", "clientId": "new", "type": 1, "expirationDate": "2100-01-02T03:04:05Z", "publicKey": "$KEY$"},
		{"id": "k1", "projectId": "p1", "appId": "jwt", "type": 1, "publicKey": "$KEY$"}],
	 "actions": [{"actionId": "a1", "action": {"name": "Second", "script": "x"}},
		{"actionId": "a2", "action": {"name": "Second", "script": "z", "timeout": "3s", "allowedToFail": true}},
		{"actionId": "a2", "action": {"name": "Second", "script": "w"}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "Administrator", "group": "staff"},
		{"projectId": "p1", "roleKey": "admin", "displayName": "Again"}],
	 "triggerActions": [{"flowType": "1", "triggerType": "1", "actionIds": ["a2", "a1"]}, {"flowType": "1", "triggerType": "1", "actionIds": ["a1"]},
		{"flowType": "1", "triggerType": "2", "actionIds": []}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o3"}},
		{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2", "roleKeys": ["admin"]}},
		{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["user"]}, {"userId": "h1", "projectId": "p1"}],
	 "orgMembers": [{"userId": "h1", "roles": ["ORG_OWNER_VIEWER"]}, {"userId": "h1", "roles": ["ORG_OWNER"]}],
	 "projectMembers": [{"projectId": "p1", "userId": "h1", "roles": ["PROJECT_OWNER_VIEWER"]},
		{"projectId": "p1", "userId": "h1", "roles": ["PROJECT_OWNER"]}],
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "h1", "roles": ["PROJECT_GRANT_OWNER_VIEWER"]},
		{"projectId": "p1", "grantId": "g1", "userId": "h1", "roles": ["PROJECT_GRANT_OWNER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"},
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "h1", "roles": ["PROJECT_GRANT_OWNER"]}]},
	{"orgId": "o3", "org": {"name": "Org Three"},
	 "oidcApps": [{"appId": "web", "app": {"projectId": "p3", "name": "Web"}}],
	 "appKeys": [{"id": "k1", "projectId": "p3", "appId": "web", "type": 1, "publicKey": "$KEY$"}],
	 "actions": [{"actionId": "a1", "action": {"name": "First", "script": "x"}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "Admin"}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p3", "grantedOrgId": "o2"}}]}
	]}`, "$KEY$", appsKey))

	otherOrg := func(org string) string {
		return ` (it belongs to org "` + org + `"; onConflict OVERWRITE updates only entities of the imported org)`
	}
	const (
		appExists    = "ID=PROJECT-lxowmp Message=Errors.Project.App.AlreadyExisting"
		apiExists    = "ID=PROJECT-mabu12 Message=Errors.Project.App.AlreadyExisting"
		g1Exists     = `ID=V3-DKcYh Message=Errors.Project.Grant.AlreadyExists (a project grant with id "g1" exists`
		memberExists = "ID=PROJECT-37fug Message=Errors.AlreadyExists"
	)
	checkResults(t, []kindsResult{
		appsOverwritten(0, "oidc_apps", 0, "oidc_app", "web"),
		resFailed(0, "oidc_apps", 1, "oidc_app", "web", appExists),
		resFailed(0, "oidc_apps", 2, "oidc_app", "jwt", `ID=V3-DKcYh Message=Errors.Project.App.AlreadyExists (app name "API" is taken in project "p1")`),
		resFailed(0, "oidc_apps", 3, "oidc_app", "jwt", appExists+` (app "jwt" belongs to project "p1"; onConflict OVERWRITE does not move an app to another project)`),
		resFailed(0, "oidc_apps", 4, "oidc_app", "api", appExists+` (app "api" is an API app; onConflict OVERWRITE does not change the kind of an app)`),
		appsOverwritten(0, "api_apps", 0, "api_app", "api"),
		resFailed(0, "api_apps", 1, "api_app", "api", apiExists),
		resFailed(0, "app_keys", 0, "app_key", "k1", `ID=COMMAND-so20alo Message=Errors.Project.App.Key.AlreadyExisting (key "k1" belongs to app "jwt"; onConflict OVERWRITE does not move a key to another app)`),
		appsOverwritten(0, "app_keys", 1, "app_key", "k1"),
		resFailed(0, "app_keys", 2, "app_key", "k1", "ID=COMMAND-so20alo Message=Errors.Project.App.Key.AlreadyExisting"),
		resFailed(0, "actions", 0, "action", "a1", `ID=V3-DKcYh Message=Errors.Action.AlreadyExists (action name "Second" is taken in org "o1")`),
		appsOverwritten(0, "actions", 1, "action", "a2"),
		resFailed(0, "actions", 2, "action", "a2", "ID=COMMAND-nau2k Message=Errors.Action.AlreadyExisting"),
		appsOverwritten(0, "project_roles", 0, "project_role", "p1_admin"),
		resFailed(0, "project_roles", 1, "project_role", "p1_admin", "ID=PROJECT-0oVYW Message=Errors.Project.Role.AlreadyExists"),
		appsOverwritten(0, "trigger_actions", 0, "trigger_action", "1_1", "1", "1", `["a2","a1"]`),
		resFailed(0, "trigger_actions", 1, "trigger_action", "1_1", `ID=V3-DKcYh Message=Errors.Flow.AlreadyExists (the trigger already has actions ["a2","a1"])`),
		appsOverwritten(0, "trigger_actions", 2, "trigger_action", "1_2", "1", "2", `[]`),
		resFailed(0, "project_grants", 0, "project_grant", "o1_p1_o3", g1Exists+`) (it grants project "p1" to org "o2"; onConflict OVERWRITE does not change the project or the granted org of a grant)`),
		appsOverwritten(0, "project_grants", 1, "project_grant", "o1_p1_o2", "g1", "p1", "o2"),
		resFailed(0, "project_grants", 2, "project_grant", "o1_p1_o2", g1Exists),
		appsOverwritten(0, "user_grants", 0, "user_grant", "o1_p1_h1", "p1", "h1"),
		resFailed(0, "user_grants", 1, "user_grant", "o1_p1_h1", "ID=V3-DKcYh Message=Errors.UserGrant.AlreadyExists"),
		appsOverwritten(0, "org_members", 0, "org_member", "h1"),
		resFailed(0, "org_members", 1, "org_member", "o1_h1", "ID=V3-DKcYh Message=Errors.Org.Member.AlreadyExists"),
		appsOverwritten(0, "project_grant_members", 0, "project_grant_member", "o1_p1_g1_h1", "p1", "g1", "h1"),
		resFailed(0, "project_grant_members", 1, "project_grant_member", "o1_p1_g1_h1", memberExists),
		appsOverwritten(0, "project_members", 0, "project_member", "o1_p1_h1", "p1", "h1"),
		resFailed(0, "project_members", 1, "project_member", "o1_p1_h1", "ID=V3-DKcYh Message=Errors.Project.Member.AlreadyExists"),
		resFailed(1, "project_grant_members", 0, "project_grant_member", "o2_p1_g1_h1", memberExists+otherOrg("o1")),
		resFailed(2, "oidc_apps", 0, "oidc_app", "web", appExists+otherOrg("o1")),
		resFailed(2, "app_keys", 0, "app_key", "k1", "ID=COMMAND-so20alo Message=Errors.Project.App.Key.AlreadyExisting"+otherOrg("o1")),
		resFailed(2, "actions", 0, "action", "a1", "ID=COMMAND-nau2k Message=Errors.Action.AlreadyExisting"+otherOrg("o1")),
		resFailed(2, "project_roles", 0, "project_role", "p1_admin", `Errors.Project.NotFound (project "p1" does not exist in org "o3")`),
		resFailed(2, "project_grants", 0, "project_grant", "o3_p3_o2", g1Exists+")"+otherOrg("o1")),
	}, kindsResults(t, s, r.job.ID))

	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, project_id, kind, name, auth_method_type FROM apps ORDER BY id`, [][]string{
			{"api", "p1", "api", "API 2", "API_AUTH_METHOD_TYPE_BASIC"},
			{"jwt", "p1", "oidc", "JWT", "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"},
			{"web", "p1", "oidc", "Web 2", "OIDC_AUTH_METHOD_TYPE_POST"},
		}},
		{`SELECT id, app_id, client_id, expires_at FROM app_keys`, [][]string{{"k1", "jwt", "new", "2100-01-02 03:04:05 +0000 UTC"}}},
		{`SELECT id, name, script, timeout, allowed_to_fail FROM actions ORDER BY id`, [][]string{
			{"a1", "First", "x", "0s", "false"}, {"a2", "Second", "z", "3s", "true"},
		}},
		{`SELECT role_key, display_name, role_group FROM project_roles ORDER BY 1`, [][]string{{"admin", "Administrator", "staff"}, {"user", "User", ""}}},
		// An empty list leaves the trigger without actions.
		{`SELECT flow_type, trigger_type, action_ids FROM trigger_actions`, [][]string{{"1", "1", "[a2 a1]"}}},
		{`SELECT id, granted_org_id, role_keys FROM project_grants`, [][]string{{"g1", "o2", "[admin]"}}},
		// u1's grant lost the role its project grant no longer grants.
		{`SELECT org_id, user_id, project_grant_id, role_keys FROM user_grants ORDER BY 1`, [][]string{
			{"o1", "h1", "", "[user]"}, {"o2", "u1", "g1", "[admin]"},
		}},
		{`SELECT user_id, roles FROM org_members`, [][]string{{"h1", "[ORG_OWNER_VIEWER]"}}},
		{`SELECT user_id, roles FROM project_members`, [][]string{{"h1", "[PROJECT_OWNER_VIEWER]"}}},
		{`SELECT org_id, user_id, roles FROM project_grant_members`, [][]string{{"o1", "h1", "[PROJECT_GRANT_OWNER_VIEWER]"}}},
	})

	// Client ids are kept, and secrets: web keeps its own, api, whose new
	// method needs one, gets one.
	after := kindsRows(t, s, qSecrets)
	if diff := cmp.Diff(before[1:], after[1:]); diff != "" {
		t.Errorf("client ids and secrets of jwt and web (-before +after):\n%s", diff)
	}
	if before[0][0] != "api" || before[0][1] != after[0][1] || before[0][2] != "" || !strings.HasPrefix(after[0][2], "$2a$") {
		t.Errorf("api app before %q, after %q: want the same client id and a new secret", before[0], after[0])
	}
}

func TestApplyUnit_OverwriteAppSecretsOutsideTransaction(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	kindsImport(t, s, appsStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"projects": [{"projectId": "p1", "project": {"name": "One"}}],
		"oidcApps": [{"appId": "basic", "app": {"projectId": "p1", "name": "Basic"}},
			{"appId": "key", "app": {"projectId": "p1", "name": "Key", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}],
		"apiApps": [{"appId": "api", "app": {"projectId": "p1", "name": "API", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}]}]}`)
	// Secrets are made for the apps that need one and have none: "key" and
	// "new"; not for "basic" (it has one) nor "api" (an API app, listed as
	// an OIDC app).
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1",
		"oidcApps": [{"appId": "basic", "app": {"projectId": "p1", "name": "Basic", "authMethodType": "OIDC_AUTH_METHOD_TYPE_POST"}},
			{"appId": "key", "app": {"projectId": "p1", "name": "Key"}},
			{"appId": "api", "app": {"projectId": "p1", "name": "API"}},
			{"appId": "new", "app": {"projectId": "p1", "name": "New"}}]}]}`)
	r := startKindsJob(t, s, importdata.OnConflictOverwrite, split, []Unit{{Stage: StagePass1, Steps: []string{"org", "oidc_apps"}}}, orgs)
	var mu sync.Mutex
	hashed := 0
	opts := kindsOpts
	opts.hash = func(pw []byte, cost int) ([]byte, error) {
		if err := lockUnitRows(ctx, s, r.job.ID); err != nil {
			t.Errorf("hashing a secret while the unit's transaction holds its row: %v", err)
		}
		mu.Lock()
		hashed++
		mu.Unlock()
		return bcrypt.GenerateFromPassword(pw, cost)
	}
	if _, err := s.ApplyUnit(ctx, r.job, r.units[0], r.data[0], opts); err != nil {
		t.Fatal(err)
	}
	if hashed != 2 {
		t.Errorf("hashed %d secrets, want 2", hashed)
	}
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, auth_method_type, client_secret_hash IS NOT NULL FROM apps ORDER BY id`, [][]string{
			{"api", "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT", "false"}, {"basic", "OIDC_AUTH_METHOD_TYPE_POST", "true"},
			{"key", "OIDC_AUTH_METHOD_TYPE_BASIC", "true"}, {"new", "OIDC_AUTH_METHOD_TYPE_BASIC", "true"},
		}},
	})
}
