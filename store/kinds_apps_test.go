package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/zimport/zimport/importdata"
)

// The tests of applications, app keys, actions, trigger actions and project
// grant members (and of the project fields they depend on).

// appsStages are the steps these tests run, by stage, in import order.
var appsStages = []kindsStage{
	{StagePass1, []string{"org", "human_users", "projects", "oidc_apps", "api_apps", "app_keys", "actions", "project_roles", "unsupported"}},
	{StagePass2, []string{"trigger_actions", "project_grants"}},
	{StagePass3, []string{"project_grant_members"}},
}

// appsPEM is a PEM-encoded Ed25519 public key; appsKey is its base64, as in
// an import file.
var appsPEM = func() string {
	der, err := x509.MarshalPKIXPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}()

var appsKey = base64.StdEncoding.EncodeToString([]byte(appsPEM))

// Directory queries of these tests.
const (
	qApps = `SELECT id, org_id, project_id, kind, name, auth_method_type, client_secret_hash IS NOT NULL,
		coalesce(array_to_string(redirect_uris, ' '), '-'), coalesce(array_to_string(response_types, ' '), '-'),
		coalesce(array_to_string(grant_types, ' '), '-'), coalesce(app_type, '-'),
		coalesce(array_to_string(post_logout_redirect_uris, ' '), '-'), coalesce(version, '-'), coalesce(dev_mode::text, '-'),
		coalesce(access_token_type, '-'), coalesce(access_token_role_assertion::text, '-'),
		coalesce(id_token_role_assertion::text, '-'), coalesce(id_token_userinfo_assertion::text, '-'),
		coalesce(clock_skew, '-'), coalesce(array_to_string(additional_origins, ' '), '-'),
		coalesce(skip_native_app_success_page::text, '-'), coalesce(back_channel_logout_uri, '-'),
		coalesce(login_version, '-'), coalesce(login_base_uri, '-')
		FROM apps ORDER BY id`
	qAppKeys        = `SELECT id, project_id, app_id, client_id, key_type, convert_from(public_key, 'UTF8') = $PEM$, expires_at FROM app_keys ORDER BY id`
	qActions        = `SELECT id, org_id, name, script, timeout, allowed_to_fail FROM actions ORDER BY id`
	qTriggerActions = `SELECT org_id, flow_type, trigger_type, action_ids FROM trigger_actions ORDER BY 1, 2, 3`
	qGrantMembers   = `SELECT grant_id, user_id, project_id, org_id, roles FROM project_grant_members ORDER BY 1, 2`
)

// appsQuery returns q with appsPEM in place of $PEM$.
func appsQuery(q string) string {
	return strings.ReplaceAll(q, "$PEM$", "'"+strings.ReplaceAll(appsPEM, "'", "''")+"'")
}

// appsDump returns every row of this file's tables and of projects.
func appsDump(t testing.TB, s *Store) map[string][][]string {
	t.Helper()
	return dumpRows(t, s, qApps, appsQuery(qAppKeys), qActions, qTriggerActions, qGrantMembers, qProjects,
		`SELECT id, client_id, coalesce(client_secret_hash, '') FROM apps ORDER BY id`)
}

// appsUsers are two users of org o2, for the grant members.
const appsUsers = `"humanUsers": [
	{"userId": "u1", "user": {"userName": "alice", "profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "a@x.example"}}},
	{"userId": "u2", "user": {"userName": "bob", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "b@x.example"}}}]`

func TestApplyUnit_AppsSuccess(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, appsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "projects": [{"projectId": "p1", "project": {"name": "Project One", "projectRoleAssertion": true, "projectRoleCheck": true,
		"hasProjectCheck": true, "privateLabelingSetting": "PRIVATE_LABELING_SETTING_ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY"}},
		{"projectId": "p2", "project": {"name": "Project Two", "privateLabelingSetting": 1}}],
	 "oidcApps": [
		{"appId": "web", "app": {"projectId": "p1", "name": "Web", "redirectUris": ["https://web.example/cb", "https://web.example/cb"],
			"responseTypes": ["OIDC_RESPONSE_TYPE_CODE", "OIDC_RESPONSE_TYPE_ID_TOKEN"],
			"grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_IMPLICIT", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
			"appType": "OIDC_APP_TYPE_WEB", "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
			"postLogoutRedirectUris": ["https://web.example/out"], "version": "OIDC_VERSION_1_0", "devMode": true,
			"accessTokenType": "OIDC_TOKEN_TYPE_JWT", "accessTokenRoleAssertion": true, "idTokenRoleAssertion": true,
			"idTokenUserinfoAssertion": true, "clockSkew": "1.5s", "additionalOrigins": ["https://other.example"],
			"skipNativeAppSuccessPage": true, "backChannelLogoutUri": "https://web.example/bcl",
			"loginVersion": {"loginV2": {"baseUri": "https://login.example"}}}},
		{"appId": "native", "app": {"projectId": "p1", "name": "Native", "redirectUris": ["com.example.app:/cb"],
			"appType": 2, "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE", "loginVersion": {"loginV2": {}}}},
		{"appId": "jwt", "app": {"projectId": "p2", "name": "Web", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
			"loginVersion": {"loginV1": {}}}},
		{"appId": "post", "app": {"projectId": "p2", "name": "Post", "authMethodType": "OIDC_AUTH_METHOD_TYPE_POST"}}],
	 "apiApps": [{"appId": "api", "app": {"projectId": "p1", "name": "API"}},
		{"appId": "apikey", "app": {"projectId": "p1", "name": "API Key", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}],
	 "appKeys": [{"id": "k1", "projectId": "p2", "appId": "jwt", "clientId": "old@p2", "type": "KEY_TYPE_JSON",
			"expirationDate": "2100-01-02T03:04:05Z", "publicKey": "`+appsKey+`"},
		{"id": "k2", "projectId": "p1", "appId": "apikey", "type": 1, "publicKey": "`+appsKey+`"}],
	 "actions": [{"actionId": "a1", "action": {"name": "First", "script": "function First(ctx, api) {}", "timeout": "10s", "allowedToFail": true}},
		{"actionId": "a2", "action": {"name": "Second", "script": "function Second(ctx, api) {}"}}],
	 "triggerActions": [{"flowType": "1", "triggerType": "1", "actionIds": ["a2", "a1"]},
		{"flowType": "FLOW_TYPE_CUSTOMISE_TOKEN", "triggerType": "TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION", "actionIds": ["a1"]}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"}, `+appsUsers+`,
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u2", "roles": ["PROJECT_GRANT_OWNER_VIEWER", "PROJECT_GRANT_OWNER"]}]}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "projects", 0, "project", "p1"),
		resOK(0, "projects", 1, "project", "p2"),
		resOK(0, "oidc_apps", 0, "oidc_app", "web"),
		resOK(0, "oidc_apps", 1, "oidc_app", "native"),
		resOK(0, "oidc_apps", 2, "oidc_app", "jwt"),
		resOK(0, "oidc_apps", 3, "oidc_app", "post"),
		resOK(0, "api_apps", 0, "api_app", "api"),
		resOK(0, "api_apps", 1, "api_app", "apikey"),
		resOK(0, "app_keys", 0, "app_key", "k1"),
		resOK(0, "app_keys", 1, "app_key", "k2"),
		resOK(0, "actions", 0, "action", "a1"),
		resOK(0, "actions", 1, "action", "a2"),
		resOK(0, "trigger_actions", 0, "trigger_action", "1_1", "1", "1", `["a2","a1"]`),
		resOK(0, "trigger_actions", 1, "trigger_action", "FLOW_TYPE_CUSTOMISE_TOKEN_TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION",
			"FLOW_TYPE_CUSTOMISE_TOKEN", "TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION", `["a1"]`),
		resOK(0, "project_grants", 0, "project_grant", "o1_p1_o2", "g1", "p1", "o2"),
		resOK(0, "project_grant_members", 0, "project_grant_member", "o1_p1_g1_u1", "p1", "g1", "u1"),
		resOK(1, "human_users", 0, "human_user", "u1"),
		resOK(1, "human_users", 1, "human_user", "u2"),
		resOK(1, "project_grant_members", 0, "project_grant_member", "o2_p1_g1_u2", "p1", "g1", "u2"),
	}, kindsResults(t, s, r.job.ID))

	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, org_id, name, project_role_assertion, project_role_check, has_project_check, private_labeling_setting FROM projects ORDER BY id`,
			[][]string{
				{"p1", "o1", "Project One", "true", "true", "true", "PRIVATE_LABELING_SETTING_ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY"},
				{"p2", "o1", "Project Two", "false", "false", "false", "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"},
			}},
		{qApps, [][]string{
			{"api", "o1", "p1", "api", "API", "API_AUTH_METHOD_TYPE_BASIC", "true",
				"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"},
			{"apikey", "o1", "p1", "api", "API Key", "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT", "false",
				"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"},
			{"jwt", "o1", "p2", "oidc", "Web", "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT", "false",
				"", "", "", "OIDC_APP_TYPE_WEB", "", "OIDC_VERSION_1_0", "false", "OIDC_TOKEN_TYPE_BEARER", "false", "false", "false",
				"0s", "", "false", "", "v1", "-"},
			{"native", "o1", "p1", "oidc", "Native", "OIDC_AUTH_METHOD_TYPE_NONE", "false",
				"com.example.app:/cb", "", "", "OIDC_APP_TYPE_NATIVE", "", "OIDC_VERSION_1_0", "false", "OIDC_TOKEN_TYPE_BEARER",
				"false", "false", "false", "0s", "", "false", "", "v2", "-"},
			{"post", "o1", "p2", "oidc", "Post", "OIDC_AUTH_METHOD_TYPE_POST", "true",
				"", "", "", "OIDC_APP_TYPE_WEB", "", "OIDC_VERSION_1_0", "false", "OIDC_TOKEN_TYPE_BEARER", "false", "false", "false",
				"0s", "", "false", "", "-", "-"},
			{"web", "o1", "p1", "oidc", "Web", "OIDC_AUTH_METHOD_TYPE_BASIC", "true",
				"https://web.example/cb https://web.example/cb", "OIDC_RESPONSE_TYPE_CODE OIDC_RESPONSE_TYPE_ID_TOKEN",
				"OIDC_GRANT_TYPE_AUTHORIZATION_CODE OIDC_GRANT_TYPE_IMPLICIT OIDC_GRANT_TYPE_REFRESH_TOKEN", "OIDC_APP_TYPE_WEB",
				"https://web.example/out", "OIDC_VERSION_1_0", "true", "OIDC_TOKEN_TYPE_JWT", "true", "true", "true",
				"1.500s", "https://other.example", "true", "https://web.example/bcl", "v2", "https://login.example"},
		}},
		{appsQuery(qAppKeys), [][]string{
			{"k1", "p2", "jwt", "old@p2", "KEY_TYPE_JSON", "true", "2100-01-02 03:04:05 +0000 UTC"},
			{"k2", "p1", "apikey", "", "KEY_TYPE_JSON", "true", "9999-12-31 23:59:59 +0000 UTC"},
		}},
		{qActions, [][]string{
			{"a1", "o1", "First", "function First(ctx, api) {}", "10s", "true"},
			{"a2", "o1", "Second", "function Second(ctx, api) {}", "0s", "false"},
		}},
		{qTriggerActions, [][]string{{"o1", "1", "1", "[a2 a1]"}, {"o1", "2", "5", "[a1]"}}},
		{qGrantMembers, [][]string{
			{"g1", "u1", "p1", "o1", "[PROJECT_GRANT_OWNER]"},
			{"g1", "u2", "p1", "o2", "[PROJECT_GRANT_OWNER_VIEWER PROJECT_GRANT_OWNER]"},
		}},
		// An empty loginV2 keeps its absent baseUri apart from an empty one.
		{`SELECT id FROM apps WHERE login_base_uri IS NULL AND login_version = 'v2'`, [][]string{{"native"}}},
		{`SELECT count(DISTINCT client_id) FROM apps WHERE client_id ~ '^[1-9][0-9]{17}$'`, [][]string{{"6"}}},
		{`SELECT count(*) FROM apps WHERE client_secret_hash LIKE '$2a$04$%'`, [][]string{{"3"}}},
	})

	// The result renders the lists, trigger actions with their action ids,
	// and shows no client id or secret.
	job, err := s.JobByID(context.Background(), r.job.ID)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.WriteResult(context.Background(), &buf, job); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{"orgId":"o1","projectIds":["p1","p2"],"oidcAppIds":["web","native","jwt","post"],"apiAppIds":["api","apikey"],` +
			`"actionIds":["a1","a2"],"triggerActions":[{"flowType":"1","triggerType":"1","actionIds":["a2","a1"]},` +
			`{"flowType":"FLOW_TYPE_CUSTOMISE_TOKEN","triggerType":"TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION","actionIds":["a1"]}],` +
			`"projectGrants":[{"grantId":"g1","projectId":"p1","orgId":"o2"}],` +
			`"projectGrantMembers":[{"projectId":"p1","grantId":"g1","userId":"u1"}],"appKeys":["k1","k2"]}`,
		`{"orgId":"o2","humanUserIds":["u1","u2"],"projectGrantMembers":[{"projectId":"p1","grantId":"g1","userId":"u2"}]}`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("result %s\nlacks %s", buf.String(), want)
		}
	}
	for _, row := range kindsRows(t, s, `SELECT client_id FROM apps`) {
		if strings.Contains(buf.String(), row[0]) {
			t.Errorf("result shows client id %s", row[0])
		}
	}
	if regexp.MustCompile(`(?i)secret|\$2a\$`).MatchString(buf.String()) {
		t.Errorf("result shows a secret: %s", buf.String())
	}
	if job.Status != StatusSucceeded {
		t.Errorf("job status = %q, want %q", job.Status, StatusSucceeded)
	}
}

func TestApplyUnit_AppsInvalidFields(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, appsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "projects": [{"projectId": "p1", "project": {"name": "P", "privateLabelingSetting": "NOPE"}}],
	 "oidcApps": [{"appId": "o", "app": {"projectId": "p1", "name": "O", "redirectUris": ["myapp:/cb"], "clockSkew": "6s"}},
		{"appId": "o2", "app": {"projectId": "p1", "name": "O2", "grantTypes": ["NOPE"]}},
		{"appId": "o3", "app": {"projectId": "p1", "name": "O3\u0000"}}],
	 "apiApps": [{"appId": "", "app": {"projectId": "p1", "name": "A"}}, {"appId": "a2", "app": {"projectId": "p1", "name": "A", "authMethodType": 2}}],
	 "appKeys": [{"id": "k", "projectId": "p1", "appId": "a", "type": "KEY_TYPE_JSON", "publicKey": "bm8ga2V5"},
		{"id": "k2", "projectId": "p1", "appId": "a", "type": "KEY_TYPE_JSON", "publicKey": "%%"},
		{"id": "k3", "projectId": "p1", "appId": "a", "publicKey": "`+appsKey+`", "expirationDate": "tomorrow"}],
	 "actions": [{"actionId": "x", "action": {"name": "X", "script": "", "timeout": "21s"}}],
	 "triggerActions": [{"flowType": "FLOW_TYPE_UNSPECIFIED", "triggerType": "1", "actionIds": ["x"]}],
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": ""}]}
	]}`)
	checkResults(t, []kindsResult{
		resFailed(0, "projects", 0, "project", "p1", `ID=PROJECT-IOVCC Message=Errors.Project.Invalid (projects[0].project.privateLabelingSetting: unknown value "NOPE"`),
		resFailed(0, "oidc_apps", 0, "oidc_app", "o", `ID=PROJECT-1n8df Message=Errors.Project.App.Invalid (oidcApps[0].app.redirectUris[0]: custom scheme "myapp" is allowed for native apps only; oidcApps[0].app.clockSkew: 6s is not between 0s and 5s)`),
		resFailed(0, "oidc_apps", 1, "oidc_app", "o2", `ID=PROJECT-1n8df Message=Errors.Project.App.Invalid (oidcApps[1].app.grantTypes[0]: unknown value "NOPE"`),
		resFailed(0, "oidc_apps", 2, "oidc_app", "o3", `ID=PROJECT-1n8df Message=Errors.Project.App.Invalid (oidcApps[2].app.name: must not contain the NUL character`),
		resFailed(0, "api_apps", 0, "api_app", "", "ID=PROJECT-Bff2g Message=Errors.Project.App.Invalid (apiApps[0].appId: is required)"),
		resFailed(0, "api_apps", 1, "api_app", "a2", "ID=PROJECT-Bff2g Message=Errors.Project.App.Invalid (apiApps[1].app.authMethodType: unknown value 2 (want API_AUTH_METHOD_TYPE_BASIC or API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT, or their numbers 0 or 1))"),
		resFailed(0, "app_keys", 0, "app_key", "k", `ID=COMMAND-55m9fs Message=Errors.Project.App.Key.Invalid (appKeys[0].publicKey: is not PEM-encoded`),
		resFailed(0, "app_keys", 1, "app_key", "k2", `ID=COMMAND-55m9fs Message=Errors.Project.App.Key.Invalid (appKeys[1].publicKey: invalid base64`),
		resFailed(0, "app_keys", 2, "app_key", "k3", `ID=COMMAND-55m9fs Message=Errors.Project.App.Key.Invalid (appKeys[2].expirationDate: invalid timestamp "tomorrow"`),
		resFailed(0, "actions", 0, "action", "x", "ID=COMMAND-eg2gf Message=Errors.Action.Invalid (actions[0].action.script: is required; actions[0].action.timeout: 21s is not between 0s and 20s)"),
		resFailed(0, "trigger_actions", 0, "trigger_action", "FLOW_TYPE_UNSPECIFIED_1", `ID=COMMAND-Dfhj5 Message=Errors.Flow.FlowTypeMissing (triggerActions[0].flowType: unknown flow type "FLOW_TYPE_UNSPECIFIED"`),
		resFailed(0, "project_grant_members", 0, "project_grant_member", "o1_p1_g1_", "ID=PROJECT-8fi7G Message=Errors.Project.Grant.Member.Invalid (projectGrantMembers[0].userId: is required)"),
	}, kindsResults(t, s, r.job.ID))
	for q, rows := range appsDump(t, s) {
		if len(rows) != 0 {
			t.Errorf("%s: %v, want no rows", q, rows)
		}
	}
}

// appsBase is imported first by the tests of references and of existing
// entities: o1 with a project, apps of each method, a key, actions, a grant
// to o2; o2 with users and its own project, app and action.
const appsBase = `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "projects": [{"projectId": "p1", "project": {"name": "One"}}],
	 "oidcApps": [{"appId": "web", "app": {"projectId": "p1", "name": "Web"}},
		{"appId": "jwt", "app": {"projectId": "p1", "name": "JWT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}],
	 "apiApps": [{"appId": "api", "app": {"projectId": "p1", "name": "API", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}],
	 "appKeys": [{"id": "k1", "projectId": "p1", "appId": "jwt", "type": "KEY_TYPE_JSON", "publicKey": "` + "$KEY$" + `"}],
	 "actions": [{"actionId": "a1", "action": {"name": "First", "script": "x"}}, {"actionId": "a2", "action": {"name": "Second", "script": "y"}}],
	 "triggerActions": [{"flowType": "1", "triggerType": "1", "actionIds": ["a1"]}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"}, ` + appsUsers + `,
	 "projects": [{"projectId": "p2", "project": {"name": "Two"}}],
	 "oidcApps": [{"appId": "other", "app": {"projectId": "p2", "name": "Other", "authMethodType": 3}}],
	 "actions": [{"actionId": "b1", "action": {"name": "First", "script": "z"}}]},
	{"orgId": "o3", "org": {"name": "Org Three"}}
]}`

func appsBasePayload() string { return strings.ReplaceAll(appsBase, "$KEY$", appsKey) }

func TestApplyUnit_AppsMissingReferences(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, appsStages, importdata.OnConflictFail, appsBasePayload())
	before := appsDump(t, s)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	r := kindsImport(t, s, appsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1",
	 "oidcApps": [{"appId": "n1", "app": {"projectId": "p9", "name": "N"}}, {"appId": "n2", "app": {"projectId": "p2", "name": "N"}}],
	 "apiApps": [{"appId": "n3", "app": {"projectId": "p2", "name": "N"}}],
	 "appKeys": [{"id": "x1", "projectId": "p1", "appId": "nope", "type": 1, "publicKey": "`+appsKey+`"},
		{"id": "x2", "projectId": "p2", "appId": "jwt", "type": 1, "publicKey": "`+appsKey+`"},
		{"id": "x3", "projectId": "p2", "appId": "other", "type": 1, "publicKey": "`+appsKey+`"},
		{"id": "x4", "projectId": "p1", "appId": "web", "type": 1, "publicKey": "`+appsKey+`"},
		{"id": "x5", "projectId": "p1", "appId": "api", "type": 1, "publicKey": "`+appsKey+`", "expirationDate": "`+past+`"}],
	 "triggerActions": [{"flowType": "1", "triggerType": "2", "actionIds": ["a1", "b1", "zz", "a2"]},
		{"flowType": "2", "triggerType": "1", "actionIds": ["a1"]},
		{"flowType": "3", "triggerType": "3", "actionIds": []}],
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u9", "roles": ["PROJECT_GRANT_OWNER"]},
		{"projectId": "p1", "grantId": "g9", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER"]},
		{"projectId": "p2", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER"]},
		{"projectId": "p1", "grantId": "g1", "userId": "u2", "roles": []}]},
	{"orgId": "o3",
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u2", "roles": ["PROJECT_GRANT_OWNER"]}]}
	]}`)
	checkResults(t, []kindsResult{
		resFailed(0, "oidc_apps", 0, "oidc_app", "n1", `ID=PROJECT-3m9s2 Message=Errors.Project.NotFound (project "p9" does not exist in org "o1")`),
		resFailed(0, "oidc_apps", 1, "oidc_app", "n2", `ID=PROJECT-3m9s2 Message=Errors.Project.NotFound (project "p2" does not exist in org "o1")`),
		resFailed(0, "api_apps", 0, "api_app", "n3", `ID=PROJECT-9fnsa Message=Errors.Project.NotFound (project "p2" does not exist in org "o1")`),
		resFailed(0, "app_keys", 0, "app_key", "x1", `ID=COMMAND-sak24 Message=Errors.Project.App.NotFound (app "nope" does not exist in project "p1" of org "o1")`),
		resFailed(0, "app_keys", 1, "app_key", "x2", `ID=COMMAND-sak24 Message=Errors.Project.App.NotFound (app "jwt" does not exist in project "p2" of org "o1")`),
		resFailed(0, "app_keys", 2, "app_key", "x3", `ID=COMMAND-sak24 Message=Errors.Project.App.NotFound (app "other" does not exist in project "p2" of org "o1")`),
		resFailed(0, "app_keys", 3, "app_key", "x4", `ID=COMMAND-Dff54 Message=Errors.Project.App.AuthMethodNoPrivateKeyJWT (app "web" authenticates with OIDC_AUTH_METHOD_TYPE_BASIC)`),
		resFailed(0, "app_keys", 4, "app_key", "x5", `ID=DOMAIN-dv3t5 Message=Errors.AuthNKey.ExpireBeforeNow (appKeys[4].expirationDate: `+past+` is in the past)`),
		resFailed(0, "trigger_actions", 0, "trigger_action", "1_2", `ID=COMMAND-dg422 Message=Errors.Flow.ActionIDsNotExist (org "o1" has no action "b1", "zz")`),
		resFailed(0, "trigger_actions", 1, "trigger_action", "2_1", `ID=COMMAND-Dfgh6 Message=Errors.Flow.WrongTriggerType (triggerActions[1]: flow type "2" has no trigger type "1")`),
		resFailed(0, "trigger_actions", 2, "trigger_action", "3_3", `ID=COMMAND-Nfh52 Message=Errors.Flow.NoChanges (triggerActions[2].actionIds: is empty)`),
		resFailed(0, "project_grant_members", 0, "project_grant_member", "o1_p1_g1_u9", `ID=COMMAND-4M0fs Message=Errors.User.NotFound (user "u9" does not exist)`),
		resFailed(0, "project_grant_members", 1, "project_grant_member", "o1_p1_g9_u1", `ID=PROJECT-D8JxR Message=Errors.Project.Grant.NotFound (project grant "g9" of project "p1" does not exist)`),
		resFailed(0, "project_grant_members", 2, "project_grant_member", "o1_p2_g1_u1", `ID=PROJECT-D8JxR Message=Errors.Project.Grant.NotFound (project grant "g1" of project "p2" does not exist)`),
		resFailed(0, "project_grant_members", 3, "project_grant_member", "o1_p1_g1_u2", "ID=PROJECT-8fi7G Message=Errors.Project.Grant.Member.Invalid (projectGrantMembers[3].roles: is required)"),
		resFailed(1, "project_grant_members", 0, "project_grant_member", "o3_p1_g1_u2", `ID=PROJECT-0l10S9OmZV Message=Errors.Project.Grant.Invalid (project grant "g1" is of org "o1" to org "o2", not of or to org "o3")`),
	}, kindsResults(t, s, r.job.ID))
	checkUnchanged(t, before, appsDump(t, s))
}

func TestApplyUnit_AppsDuplicatesInFile(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, appsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "projects": [{"projectId": "p1", "project": {"name": "One"}}, {"projectId": "p2", "project": {"name": "Two"}}],
	 "oidcApps": [{"appId": "a1", "app": {"projectId": "p1", "name": "App", "authMethodType": 3}},
		{"appId": "a1", "app": {"projectId": "p2", "name": "Other"}},
		{"appId": "a2", "app": {"projectId": "p1", "name": "App"}},
		{"appId": "a3", "app": {"projectId": "p2", "name": "App"}}],
	 "apiApps": [{"appId": "a3", "app": {"projectId": "p1", "name": "API"}}, {"appId": "a4", "app": {"projectId": "p1", "name": "App"}}],
	 "appKeys": [{"id": "k1", "projectId": "p1", "appId": "a1", "type": 1, "publicKey": "`+appsKey+`"},
		{"id": "k1", "projectId": "p1", "appId": "a1", "type": 1, "publicKey": "`+appsKey+`"}],
	 "actions": [{"actionId": "x1", "action": {"name": "X", "script": "s"}}, {"actionId": "x1", "action": {"name": "Y", "script": "s"}},
		{"actionId": "x2", "action": {"name": "X", "script": "s"}}, {"actionId": "x3", "action": {"name": "x", "script": "s"}}],
	 "triggerActions": [{"flowType": "1", "triggerType": "1", "actionIds": ["x1"]},
		{"flowType": "FLOW_TYPE_EXTERNAL_AUTHENTICATION", "triggerType": "1", "actionIds": ["x1"]},
		{"flowType": "1", "triggerType": "TRIGGER_TYPE_POST_AUTHENTICATION", "actionIds": ["x3", "x1"]}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER"]},
		{"projectId": "p1", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER_VIEWER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"}, `+appsUsers+`,
	 "projectGrantMembers": [{"projectId": "p1", "grantId": "g1", "userId": "u1", "roles": ["PROJECT_GRANT_OWNER"]}]}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "projects", 0, "project", "p1"),
		resOK(0, "projects", 1, "project", "p2"),
		resOK(0, "oidc_apps", 0, "oidc_app", "a1"),
		resFailed(0, "oidc_apps", 1, "oidc_app", "a1", "ID=PROJECT-lxowmp Message=Errors.Project.App.AlreadyExisting"),
		resFailed(0, "oidc_apps", 2, "oidc_app", "a2", `ID=V3-DKcYh Message=Errors.Project.App.AlreadyExists (app name "App" is taken in project "p1")`),
		resOK(0, "oidc_apps", 3, "oidc_app", "a3"),
		resFailed(0, "api_apps", 0, "api_app", "a3", "ID=PROJECT-mabu12 Message=Errors.Project.App.AlreadyExisting"),
		resFailed(0, "api_apps", 1, "api_app", "a4", `ID=V3-DKcYh Message=Errors.Project.App.AlreadyExists (app name "App" is taken in project "p1")`),
		resOK(0, "app_keys", 0, "app_key", "k1"),
		resFailed(0, "app_keys", 1, "app_key", "k1", "ID=COMMAND-so20alo Message=Errors.Project.App.Key.AlreadyExisting"),
		resOK(0, "actions", 0, "action", "x1"),
		resFailed(0, "actions", 1, "action", "x1", "ID=COMMAND-nau2k Message=Errors.Action.AlreadyExisting"),
		resFailed(0, "actions", 2, "action", "x2", `ID=V3-DKcYh Message=Errors.Action.AlreadyExists (action name "X" is taken in org "o1")`),
		resOK(0, "actions", 3, "action", "x3"),
		resOK(0, "trigger_actions", 0, "trigger_action", "1_1", "1", "1", `["x1"]`),
		resFailed(0, "trigger_actions", 1, "trigger_action", "FLOW_TYPE_EXTERNAL_AUTHENTICATION_1", "ID=COMMAND-Nfh52 Message=Errors.Flow.NoChanges"),
		resFailed(0, "trigger_actions", 2, "trigger_action", "1_TRIGGER_TYPE_POST_AUTHENTICATION", `ID=V3-DKcYh Message=Errors.Flow.AlreadyExists (the trigger already has actions ["x1"])`),
		resOK(0, "project_grants", 0, "project_grant", "o1_p1_o2", "g1", "p1", "o2"),
		resOK(0, "project_grant_members", 0, "project_grant_member", "o1_p1_g1_u1", "p1", "g1", "u1"),
		resFailed(0, "project_grant_members", 1, "project_grant_member", "o1_p1_g1_u1", "ID=PROJECT-37fug Message=Errors.AlreadyExists"),
		resOK(1, "human_users", 0, "human_user", "u1"),
		resOK(1, "human_users", 1, "human_user", "u2"),
		resFailed(1, "project_grant_members", 0, "project_grant_member", "o2_p1_g1_u1", "ID=PROJECT-37fug Message=Errors.AlreadyExists"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, project_id, kind, name FROM apps ORDER BY id`, [][]string{{"a1", "p1", "oidc", "App"}, {"a3", "p2", "oidc", "App"}}},
		{qActions, [][]string{{"x1", "o1", "X", "s", "0s", "false"}, {"x3", "o1", "x", "s", "0s", "false"}}},
		{qTriggerActions, [][]string{{"o1", "1", "1", "[x1]"}}},
		{qGrantMembers, [][]string{{"g1", "u1", "p1", "o1", "[PROJECT_GRANT_OWNER]"}}},
	})
}

func TestApplyUnit_AppsExisting(t *testing.T) {
	t.Parallel()
	// The second import repeats the base, plus entities whose names are
	// taken (not the same entity: errors with SKIP too) and a trigger
	// whose actions differ.
	again := strings.Replace(appsBasePayload(), `"oidcApps": [{"appId": "web", "app": {"projectId": "p1", "name": "Web"}},`,
		`"oidcApps": [{"appId": "web", "app": {"projectId": "p1", "name": "Web"}}, {"appId": "web2", "app": {"projectId": "p1", "name": "Web"}},`, 1)
	again = strings.Replace(again, `{"actionId": "a2", "action": {"name": "Second", "script": "y"}}],`,
		`{"actionId": "a2", "action": {"name": "Second", "script": "y"}}, {"actionId": "a3", "action": {"name": "Second", "script": "y"}}],`, 1)
	again = strings.Replace(again, `"triggerActions": [{"flowType": "1", "triggerType": "1", "actionIds": ["a1"]}],`,
		`"triggerActions": [{"flowType": "1", "triggerType": "1", "actionIds": ["a1"]}, {"flowType": "1", "triggerType": "1", "actionIds": ["a2"]},
			{"flowType": "1", "triggerType": "1"}, {"flowType": "1", "triggerType": "1", "actionIds": ["zz"]}],`, 1)
	notIdentical := []kindsResult{
		resFailed(0, "oidc_apps", 1, "oidc_app", "web2", `ID=V3-DKcYh Message=Errors.Project.App.AlreadyExists (app name "Web" is taken in project "p1")`),
		resFailed(0, "actions", 2, "action", "a3", `ID=V3-DKcYh Message=Errors.Action.AlreadyExists (action name "Second" is taken in org "o1")`),
		resFailed(0, "trigger_actions", 3, "trigger_action", "1_1", `ID=COMMAND-dg422 Message=Errors.Flow.ActionIDsNotExist (org "o1" has no action "zz")`),
	}
	tests := []struct {
		onConflict string
		want       []kindsResult
	}{
		{importdata.OnConflictFail, []kindsResult{
			resFailed(0, "projects", 0, "project", "p1", "ID=PROJECT-37fug Message=Errors.AlreadyExists"),
			resFailed(0, "oidc_apps", 0, "oidc_app", "web", "ID=PROJECT-lxowmp Message=Errors.Project.App.AlreadyExisting"),
			notIdentical[0],
			resFailed(0, "oidc_apps", 2, "oidc_app", "jwt", "ID=PROJECT-lxowmp Message=Errors.Project.App.AlreadyExisting"),
			resFailed(0, "api_apps", 0, "api_app", "api", "ID=PROJECT-mabu12 Message=Errors.Project.App.AlreadyExisting"),
			resFailed(0, "app_keys", 0, "app_key", "k1", "ID=COMMAND-so20alo Message=Errors.Project.App.Key.AlreadyExisting"),
			resFailed(0, "actions", 0, "action", "a1", "ID=COMMAND-nau2k Message=Errors.Action.AlreadyExisting"),
			resFailed(0, "actions", 1, "action", "a2", "ID=COMMAND-nau2k Message=Errors.Action.AlreadyExisting"),
			notIdentical[1],
			resFailed(0, "trigger_actions", 0, "trigger_action", "1_1", "ID=COMMAND-Nfh52 Message=Errors.Flow.NoChanges"),
			resFailed(0, "trigger_actions", 1, "trigger_action", "1_1", `ID=V3-DKcYh Message=Errors.Flow.AlreadyExists (the trigger already has actions ["a1"])`),
			resFailed(0, "trigger_actions", 2, "trigger_action", "1_1", `ID=V3-DKcYh Message=Errors.Flow.AlreadyExists (the trigger already has actions ["a1"])`),
			notIdentical[2],
			resFailed(0, "project_grants", 0, "project_grant", "o1_p1_o2", `ID=V3-DKcYh Message=Errors.Project.Grant.AlreadyExists (a project grant with id "g1" exists)`),
			resFailed(0, "project_grant_members", 0, "project_grant_member", "o1_p1_g1_u1", "ID=PROJECT-37fug Message=Errors.AlreadyExists"),
			resFailed(1, "human_users", 0, "human_user", "u1", "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"),
			resFailed(1, "human_users", 1, "human_user", "u2", "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"),
			resFailed(1, "projects", 0, "project", "p2", "ID=PROJECT-37fug Message=Errors.AlreadyExists"),
			resFailed(1, "oidc_apps", 0, "oidc_app", "other", "ID=PROJECT-lxowmp Message=Errors.Project.App.AlreadyExisting"),
			resFailed(1, "actions", 0, "action", "b1", "ID=COMMAND-nau2k Message=Errors.Action.AlreadyExisting"),
		}},
		{importdata.OnConflictSkip, []kindsResult{
			resSkipped(0, "projects", 0, "project", "p1"),
			resSkipped(0, "oidc_apps", 0, "oidc_app", "web"),
			notIdentical[0],
			resSkipped(0, "oidc_apps", 2, "oidc_app", "jwt"),
			resSkipped(0, "api_apps", 0, "api_app", "api"),
			resSkipped(0, "app_keys", 0, "app_key", "k1"),
			resSkipped(0, "actions", 0, "action", "a1"),
			resSkipped(0, "actions", 1, "action", "a2"),
			notIdentical[1],
			resSkipped(0, "trigger_actions", 0, "trigger_action", "1_1"),
			resSkipped(0, "trigger_actions", 1, "trigger_action", "1_1"),
			resSkipped(0, "trigger_actions", 2, "trigger_action", "1_1"),
			notIdentical[2],
			resSkipped(0, "project_grants", 0, "project_grant", "o1_p1_o2"),
			resSkipped(0, "project_grant_members", 0, "project_grant_member", "o1_p1_g1_u1"),
			resSkipped(1, "human_users", 0, "human_user", "u1"),
			resSkipped(1, "human_users", 1, "human_user", "u2"),
			resSkipped(1, "projects", 0, "project", "p2"),
			resSkipped(1, "oidc_apps", 0, "oidc_app", "other"),
			resSkipped(1, "actions", 0, "action", "b1"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.onConflict, func(t *testing.T) {
			t.Parallel()
			s := newKindsStore(t)
			kindsImport(t, s, appsStages, importdata.OnConflictFail, appsBasePayload())
			before := appsDump(t, s)
			r := kindsImport(t, s, appsStages, tt.onConflict, again)
			checkResults(t, tt.want, kindsResults(t, s, r.job.ID))
			checkUnchanged(t, before, appsDump(t, s))
		})
	}
}

func TestApplyUnit_AppsChunks(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	// A chunk of OIDC apps, as the split cuts a large array: its items are
	// numbered from the chunk's first, and its secrets are prepared too.
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"projects": [{"projectId": "p1", "project": {"name": "One"}}]}]}`)
	chunk := []byte(`, {"appId": "c1", "app": {"projectId": "p1", "name": "C1"}}, {"appId": "c2", "app": {"projectId": "p9", "name": "C2"}}`)
	r := startKindsJob(t, s, importdata.OnConflictFail, split, []Unit{
		{Stage: StagePass1, Seq: 0, Steps: []string{"org", "projects"}},
		{Stage: StagePass1, Seq: 1, Steps: []string{"oidc_apps"}, Field: "oidcApps", FirstItem: 5},
	}, [][]byte{orgs[0], chunk})
	r.applyAll(t, s)
	checkResults(t, []kindsResult{
		resOK(0, "projects", 0, "project", "p1"),
		resOK(0, "oidc_apps", 5, "oidc_app", "c1"),
		resFailed(0, "oidc_apps", 6, "oidc_app", "c2", `(project "p9" does not exist in org "o1")`),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, client_secret_hash LIKE '$2a$04$%' FROM apps`, [][]string{{"c1", "true"}}},
	})
}

func TestSteps_AppsKinds(t *testing.T) {
	checkSteps(t, map[string]stepMeta{
		"oidc_apps":             {"oidc_app", []string{"oidcApps"}, StagePass1, 19, "oidcAppIds", nil, true, false},
		"api_apps":              {"api_app", []string{"apiApps"}, StagePass1, 20, "apiAppIds", nil, true, false},
		"app_keys":              {"app_key", []string{"appKeys"}, StagePass1, 21, "appKeys", nil, true, false},
		"actions":               {"action", []string{"actions"}, StagePass1, 22, "actionIds", nil, true, false},
		"trigger_actions":       {"trigger_action", []string{"triggerActions"}, StagePass2, 1, "triggerActions", []string{"flowType", "triggerType", "actionIds[]"}, true, false},
		"project_grant_members": {"project_grant_member", []string{"projectGrantMembers"}, StagePass3, 2, "projectGrantMembers", []string{"projectId", "grantId", "userId"}, true, false},
	})
}

func TestApplyUnit_AppSecretsOutsideTransaction(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	kindsImport(t, s, appsStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"projects": [{"projectId": "p1", "project": {"name": "One"}}],
		"oidcApps": [{"appId": "old", "app": {"projectId": "p1", "name": "Old"}}]}]}`)
	// Secrets are made for new, valid apps with BASIC or POST (OIDC) or
	// BASIC (API): not for "old" (taken), "none", "bad" (invalid), "key".
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1",
		"oidcApps": [{"appId": "old", "app": {"projectId": "p1", "name": "Old again"}},
			{"appId": "basic", "app": {"projectId": "p1", "name": "Basic"}},
			{"appId": "post", "app": {"projectId": "p1", "name": "Post", "authMethodType": "OIDC_AUTH_METHOD_TYPE_POST"}},
			{"appId": "none", "app": {"projectId": "p1", "name": "None", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"}},
			{"appId": "bad", "app": {"projectId": "p1", "name": ""}}],
		"apiApps": [{"appId": "api", "app": {"projectId": "p1", "name": "API"}},
			{"appId": "key", "app": {"projectId": "p1", "name": "Key", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}]}]}`)
	r := startKindsJob(t, s, importdata.OnConflictFail, split,
		[]Unit{{Stage: StagePass1, Steps: []string{"org", "oidc_apps", "api_apps"}}}, orgs)
	var mu sync.Mutex
	hashed := 0
	opts := kindsOpts
	opts.hash = func(pw []byte, cost int) ([]byte, error) {
		if err := lockUnitRows(ctx, s, r.job.ID); err != nil {
			t.Errorf("hashing a secret while the unit's transaction holds its row: %v", err)
		}
		if len(pw) != 26 {
			t.Errorf("secret of %d characters, want 26 (crypto/rand.Text, 130 bits)", len(pw))
		}
		mu.Lock()
		hashed++
		mu.Unlock()
		return bcrypt.GenerateFromPassword(pw, cost)
	}
	if _, err := s.ApplyUnit(ctx, r.job, r.units[0], r.data[0], opts); err != nil {
		t.Fatal(err)
	}
	if hashed != 3 {
		t.Errorf("hashed %d secrets, want 3", hashed)
	}
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, coalesce(substr(client_secret_hash, 1, 7), '') FROM apps ORDER BY id`, [][]string{
			{"api", "$2a$04$"}, {"basic", "$2a$04$"}, {"key", ""}, {"none", ""}, {"old", "$2a$04$"}, {"post", "$2a$04$"},
		}},
	})
}
