package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/seal"
)

// The tests of the entity kinds import payloads into a fresh database, unit
// by unit as the workers do, and check the directory and job_results.

const kindsInstance = "inst1"

// kindsStage is a stage and the steps of it that a test runs, in import order.
type kindsStage struct {
	stage int
	steps []string
}

// kindsStages are the steps of this file's kinds by stage, in import order.
var kindsStages = []kindsStage{
	{StagePass1, []string{"org", "domains", "human_users", "machine_users", "projects", "project_roles", "unsupported"}},
	{StagePass2, []string{"project_grants"}},
	{StagePass2UserGrant, []string{"user_grants"}},
	{StagePass3, []string{"org_members", "project_members"}},
}

// kindsOpts hash plain passwords cheaply and seal secrets with a zero key.
var kindsOpts = ApplyOptions{BcryptCost: bcrypt.MinCost, Seal: testBox}

var testBox = func() *seal.Box {
	b, err := seal.NewBox(make([]byte, 32))
	if err != nil {
		panic(err)
	}
	return b
}()

// newKindsStore returns a store on a fresh database with instance "inst1".
func newKindsStore(t testing.TB) *Store {
	t.Helper()
	s := newTestStore(t)
	// An instance as CreateInstance makes it, with ZITADEL's default policies.
	for _, q := range []string{`INSERT INTO instances (id, name, default_org_id) VALUES ($1, 'Test', '')`,
		`INSERT INTO instance_policies (instance_id, kind, policy) SELECT $1, kind, policy FROM default_policies`} {
		if _, err := s.pool.Exec(context.Background(), q, kindsInstance); err != nil {
			t.Fatalf("insert instance: %v", err)
		}
	}
	return s
}

// kindsRun is an import job split into units.
type kindsRun struct {
	job   Job
	units []Unit
	data  [][]byte // the bytes of each unit
}

// kindsDecode splits a {"orgs": [...]} payload into its orgs and their bytes.
func kindsDecode(t testing.TB, payload string) ([]SplitOrg, [][]byte) {
	t.Helper()
	var doc struct {
		Orgs []json.RawMessage `json:"orgs"`
	}
	if err := json.Unmarshal([]byte(payload), &doc); err != nil {
		t.Fatalf("payload: %v", err)
	}
	var split []SplitOrg
	var orgs [][]byte
	for i, raw := range doc.Orgs {
		org, err := importdata.DecodeOrg(raw, nil)
		if err != nil {
			t.Fatalf("decode org %d: %v", i, err)
		}
		split = append(split, SplitOrg{Index: i, OrgID: org.OrgID})
		orgs = append(orgs, raw)
	}
	return split, orgs
}

// startKindsJob creates and starts an import job and records its split: units[i]
// applies data[i].
func startKindsJob(t testing.TB, s *Store, onConflict string, orgs []SplitOrg, units []Unit, data [][]byte) *kindsRun {
	t.Helper()
	return startKindsJobOf(t, s, "", onConflict, orgs, units, data)
}

// startKindsJobOf is startKindsJob of a job whose data came in the member
// sourceField (importdata.FieldDataOrgsV1 for v1 data).
func startKindsJobOf(t testing.TB, s *Store, sourceField, onConflict string, orgs []SplitOrg, units []Unit, data [][]byte) *kindsRun {
	t.Helper()
	ctx := context.Background()
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test",
		SourceField: sourceField, OnConflict: onConflict, Timeout: time.Hour})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	if job, err = s.StartJob(ctx, job.ID, 0); err != nil {
		t.Fatalf("start job: %v", err)
	}
	for i := range units {
		units[i].JobID = job.ID
	}
	if err := s.SaveSplit(ctx, job.ID, orgs, units, map[string]int{}, nil); err != nil {
		t.Fatalf("save split: %v", err)
	}
	return &kindsRun{job: job, units: units, data: data}
}

// applyAll applies every unit in order (units must be sorted by stage).
func (r *kindsRun) applyAll(t testing.TB, s *Store) {
	t.Helper()
	for i, u := range r.units {
		res, err := s.ApplyUnit(context.Background(), r.job, u, r.data[i], kindsOpts)
		if err != nil {
			t.Fatalf("apply unit %d: %v", i, err)
		}
		if res.AlreadyDone || res.JobEnded {
			t.Fatalf("apply unit %d: %+v", i, res)
		}
	}
}

// kindsImport imports payload as one job with one unit per org and stage of
// stages, each running that stage's steps.
func kindsImport(t testing.TB, s *Store, stages []kindsStage, onConflict, payload string) *kindsRun {
	t.Helper()
	return kindsImportOf(t, s, stages, "", onConflict, payload)
}

// kindsImportOf is kindsImport of data given in the member sourceField:
// importdata.FieldDataOrgsV1 imports v1 data.
func kindsImportOf(t testing.TB, s *Store, stages []kindsStage, sourceField, onConflict, payload string) *kindsRun {
	t.Helper()
	split, orgs := kindsDecode(t, payload)
	var units []Unit
	var data [][]byte
	for _, st := range stages {
		for i := range orgs {
			units = append(units, Unit{Stage: st.stage, OrgIndex: i, Steps: st.steps})
			data = append(data, orgs[i])
		}
	}
	r := startKindsJobOf(t, s, sourceField, onConflict, split, units, data)
	r.applyAll(t, s)
	return r
}

// kindsResult is a row of job_results; Msg is compared as a substring.
type kindsResult struct {
	Org     int
	Step    string
	Item    int
	Sub     int
	Outcome string
	Type    string
	ID      string
	Msg     string
	F       []string
}

func resOK(org int, step string, item int, typ, id string, f ...string) kindsResult {
	return kindsResult{Org: org, Step: step, Item: item, Outcome: "ok", Type: typ, ID: id, F: f}
}

func resFailed(org int, step string, item int, typ, id, msg string) kindsResult {
	return kindsResult{Org: org, Step: step, Item: item, Outcome: "error", Type: typ, ID: id, Msg: msg}
}

func resSkipped(org int, step string, item int, typ, id string) kindsResult {
	return kindsResult{Org: org, Step: step, Item: item, Outcome: "skipped", Type: typ, ID: id}
}

// kindsResults returns a job's results other than the orgs' own, in order.
func kindsResults(t testing.TB, s *Store, jobID string) []kindsResult {
	t.Helper()
	names := map[int]string{}
	for _, st := range Steps() {
		names[st.number()] = st.Name
	}
	// An overwritten entity's message is its id in the error format.
	rows, err := s.pool.Query(context.Background(), `SELECT org_index, step, item, sub, outcome, type, id,
			CASE WHEN outcome = 'overwritten' THEN '' ELSE coalesce(message, '') END, coalesce(f1, ''), coalesce(f2, ''), coalesce(f3, ''), coalesce(f4, '')
		FROM job_results WHERE job_id = $1 AND type <> 'org' ORDER BY org_index, step, item, sub`, jobID)
	if err != nil {
		t.Fatalf("read results: %v", err)
	}
	defer rows.Close()
	var out []kindsResult
	for rows.Next() {
		var r kindsResult
		var step int
		var f [4]string
		if err := rows.Scan(&r.Org, &step, &r.Item, &r.Sub, &r.Outcome, &r.Type, &r.ID, &r.Msg, &f[0], &f[1], &f[2], &f[3]); err != nil {
			t.Fatalf("read results: %v", err)
		}
		r.Step = names[step]
		for _, v := range f {
			if v != "" {
				r.F = append(r.F, v)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read results: %v", err)
	}
	return out
}

// checkResults compares results, each message by substring.
func checkResults(t testing.TB, want, got []kindsResult) {
	t.Helper()
	for i := range got {
		if i < len(want) && want[i].Msg != "" && strings.Contains(got[i].Msg, want[i].Msg) {
			got[i].Msg = want[i].Msg
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// kindsRows returns the rows of a query, each value formatted with fmt.Sprint.
func kindsRows(t testing.TB, s *Store, sql string) [][]string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	out := [][]string{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// Directory queries used by the tests.
const (
	qUsers = `SELECT id, org_id, type, username, state, coalesce(display_name, ''), coalesce(name, ''),
		coalesce(email, ''), password_change_required FROM users ORDER BY id`
	qDomains         = `SELECT org_id, domain, is_verified, is_primary FROM org_domains ORDER BY org_id, domain`
	qProjects        = `SELECT id, org_id, name FROM projects ORDER BY id`
	qRoles           = `SELECT project_id, role_key, display_name, role_group FROM project_roles ORDER BY 1, 2`
	qProjectGrants   = `SELECT id, project_id, granted_org_id, role_keys FROM project_grants ORDER BY id`
	qUserGrants      = `SELECT org_id, user_id, project_id, project_grant_id, role_keys FROM user_grants ORDER BY 1, 2, 3, 4`
	qOrgMembers      = `SELECT org_id, user_id, roles FROM org_members ORDER BY 1, 2`
	qProjectMembers  = `SELECT project_id, user_id, roles FROM project_members ORDER BY 1, 2`
	bcryptOfPassword = "$2a$12$aLYFkieuqJyeynvptPTxpehSViui5WeAPuR2Xw1wui9CPHEaacmFq"
)

type kindsRowCheck struct {
	query string
	want  [][]string
}

func checkKindsRows(t testing.TB, s *Store, checks []kindsRowCheck) {
	t.Helper()
	for _, c := range checks {
		if diff := cmp.Diff(c.want, kindsRows(t, s, c.query)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.query, diff)
		}
	}
}

// unsupportedNames are the members the unsupported step reports.
func unsupportedNames() []string {
	var names []string
	for _, m := range unsupportedMembers {
		names = append(names, m.member)
	}
	return names
}

// stepMeta is what the TestSteps tests check of a registered Step.
type stepMeta struct {
	Type         string
	Fields       []string
	Stage, Order int
	Success      string
	SuccessKeys  []string
	Chunkable    bool
	Uncounted    bool
}

// checkSteps compares the registered steps named in want with want.
func checkSteps(t testing.TB, want map[string]stepMeta) {
	t.Helper()
	got := map[string]stepMeta{}
	for _, st := range Steps() {
		if _, mine := want[st.Name]; mine {
			got[st.Name] = stepMeta{st.Type, st.Fields, st.Stage, st.Order, st.Success, st.SuccessKeys, st.Chunkable, st.Uncounted}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestSteps_Kinds(t *testing.T) {
	checkSteps(t, map[string]stepMeta{
		"unsupported":     {"", unsupportedNames(), StagePass1, 99, "", nil, false, true},
		"domains":         {"domain", []string{"domains"}, StagePass1, 3, "domains", nil, true, false},
		"human_users":     {"human_user", []string{"humanUsers"}, StagePass1, 13, "humanUserIds", nil, true, false},
		"machine_users":   {"machine_user", []string{"machineUsers"}, StagePass1, 14, "machineUserIds", nil, true, false},
		"projects":        {"project", []string{"projects"}, StagePass1, 18, "projectIds", nil, true, false},
		"project_roles":   {"project_role", []string{"projectRoles"}, StagePass1, 23, "projectRoles", nil, true, false},
		"project_grants":  {"project_grant", []string{"projectGrants"}, StagePass2, 2, "projectGrants", []string{"grantId", "projectId", "orgId"}, true, false},
		"user_grants":     {"user_grant", []string{"userGrants"}, StagePass2UserGrant, 1, "userGrants", []string{"projectId", "userId"}, true, false},
		"org_members":     {"org_member", []string{"orgMembers"}, StagePass3, 1, "orgMembers", nil, true, false},
		"project_members": {"project_member", []string{"projectMembers"}, StagePass3, 3, "projectMembers", []string{"projectId", "userId"}, true, false},
	})
	wantFields := map[string]bool{"orgId": true, "org": true, "orgState": true, "projects": true}
	if diff := cmp.Diff(wantFields, fieldsOf([]string{"org", "projects"})); diff != "" {
		t.Errorf("fieldsOf (-want +got):\n%s", diff)
	}
}

func TestApplyUnit_KindsSuccess(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, kindsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "domains": [{"domainName": "one.example", "isVerified": true, "isPrimary": true}, {"domainName": "other.example"}],
	 "humanUsers": [
		{"userId": "h1", "state": "USER_STATE_LOCKED", "user": {"userName": "alice",
			"profile": {"firstName": "Alice", "lastName": "Able", "preferredLanguage": "de", "gender": "GENDER_FEMALE"},
			"email": {"email": "alice@one.example", "isEmailVerified": true},
			"phone": {"phone": "+41 79 123 45 67", "isPhoneVerified": true},
			"hashedPassword": {"value": "`+bcryptOfPassword+`"}, "passwordChangeRequired": true}},
		{"userId": "h2", "state": "USER_STATE_DELETED", "user": {"userName": "bob",
			"profile": {"firstName": "Bob", "lastName": "Baker", "displayName": "Bobby"},
			"email": {"email": "bob@one.example"}, "password": "Secret1!", "passwordChangeRequired": true}}],
	 "machineUsers": [{"userId": "m1", "state": "USER_STATE_INACTIVE", "user": {"userName": "robot", "name": "Robot",
		"description": "does things", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT", "userId": "not-this-one"}}],
	 "projects": [{"projectId": "p1", "project": {"name": "Project One", "projectRoleAssertion": true}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "Admin", "group": "g"},
		{"projectId": "p1", "roleKey": "viewer", "displayName": "Viewer"}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2", "roleKeys": ["viewer"]}}],
	 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["admin", "viewer"]}],
	 "orgMembers": [{"userId": "h1", "roles": ["ORG_OWNER"]}],
	 "projectMembers": [{"projectId": "p1", "userId": "m1", "roles": ["PROJECT_OWNER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"},
	 "humanUsers": [{"userId": "h3", "user": {"userName": "carol", "profile": {"firstName": "Carol", "lastName": "Cole"},
		"email": {"email": "carol@two.example"}}}],
	 "userGrants": [{"userId": "h3", "projectId": "p1", "projectGrantId": "g1", "roleKeys": ["viewer"]},
		{"userId": "h1", "projectId": "p1", "roleKeys": ["viewer"]}],
	 "orgMembers": [{"userId": "h1", "roles": ["ORG_USER_MANAGER"]}]}
	]}`)

	checkResults(t, []kindsResult{
		resOK(0, "domains", 0, "domain", "one.example"),
		resOK(0, "domains", 1, "domain", "other.example"),
		resOK(0, "human_users", 0, "human_user", "h1"),
		resOK(0, "human_users", 1, "human_user", "h2"),
		resOK(0, "machine_users", 0, "machine_user", "m1"),
		resOK(0, "projects", 0, "project", "p1"),
		resOK(0, "project_roles", 0, "project_role", "p1_admin"),
		resOK(0, "project_roles", 1, "project_role", "p1_viewer"),
		resOK(0, "project_grants", 0, "project_grant", "o1_p1_o2", "g1", "p1", "o2"),
		resOK(0, "user_grants", 0, "user_grant", "o1_p1_h1", "p1", "h1"),
		resOK(0, "org_members", 0, "org_member", "h1"),
		resOK(0, "project_members", 0, "project_member", "o1_p1_m1", "p1", "m1"),
		resOK(1, "human_users", 0, "human_user", "h3"),
		resOK(1, "user_grants", 0, "user_grant", "o2_p1_h3", "p1", "h3"),
		resOK(1, "user_grants", 1, "user_grant", "o2_p1_h1", "p1", "h1"),
		resOK(1, "org_members", 0, "org_member", "h1"),
	}, kindsResults(t, s, r.job.ID))

	checkKindsRows(t, s, []kindsRowCheck{
		{qUsers, [][]string{
			{"h1", "o1", "human", "alice", "USER_STATE_LOCKED", "Alice Able", "", "alice@one.example", "false"},
			{"h2", "o1", "human", "bob", "USER_STATE_ACTIVE", "Bobby", "", "bob@one.example", "true"},
			{"h3", "o2", "human", "carol", "USER_STATE_ACTIVE", "Carol Cole", "", "carol@two.example", "false"},
			{"m1", "o1", "machine", "robot", "USER_STATE_INACTIVE", "", "Robot", "", "false"},
		}},
		{`SELECT id, preferred_language, gender, email_verified, phone, phone_verified, nick_name FROM users WHERE id = 'h1'`,
			[][]string{{"h1", "de", "GENDER_FEMALE", "true", "+41 79 123 45 67", "true", "<nil>"}}},
		{`SELECT id, description, access_token_type FROM users WHERE type = 'machine'`,
			[][]string{{"m1", "does things", "ACCESS_TOKEN_TYPE_JWT"}}},
		{`SELECT id, coalesce(password_hash, '') FROM users WHERE id IN ('h1', 'h3') ORDER BY id`,
			[][]string{{"h1", bcryptOfPassword}, {"h3", ""}}},
		{qDomains, [][]string{{"o1", "one.example", "true", "true"}, {"o1", "other.example", "true", "false"}}}, // verified: the default domain policy does not validate
		{qProjects, [][]string{{"p1", "o1", "Project One"}}},
		{qRoles, [][]string{{"p1", "admin", "Admin", "g"}, {"p1", "viewer", "Viewer", ""}}},
		{qProjectGrants, [][]string{{"g1", "p1", "o2", "[viewer]"}}},
		{qUserGrants, [][]string{
			{"o1", "h1", "p1", "", "[admin viewer]"},
			{"o2", "h1", "p1", "g1", "[viewer]"},
			{"o2", "h3", "p1", "g1", "[viewer]"},
		}},
		{qOrgMembers, [][]string{{"o1", "h1", "[ORG_OWNER]"}, {"o2", "h1", "[ORG_USER_MANAGER]"}}},
		{qProjectMembers, [][]string{{"p1", "m1", "[PROJECT_OWNER]"}}},
	})

	var hash string
	if err := s.pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE id = 'h2'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("Secret1!")); err != nil {
		t.Errorf("hash of h2's plain password: %v", err)
	}
	job, err := s.JobByID(context.Background(), r.job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != StatusSucceeded {
		t.Errorf("job status = %q, want %q", job.Status, StatusSucceeded)
	}
}

// kindsExistingPayload is imported first by TestApplyUnit_KindsExisting.
const kindsExistingPayload = `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "domains": [{"domainName": "one.example", "isVerified": true}],
	 "humanUsers": [{"userId": "h1", "user": {"userName": "alice", "profile": {"firstName": "Alice", "lastName": "Able"},
		"email": {"email": "alice@one.example"}}}],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "robot", "name": "Robot"}}],
	 "projects": [{"projectId": "p1", "project": {"name": "Project One"}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "Admin"}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["admin"]}],
	 "orgMembers": [{"userId": "h1", "roles": ["ORG_OWNER"]}],
	 "projectMembers": [{"projectId": "p1", "userId": "h1", "roles": ["PROJECT_OWNER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"}}
]}`

func TestApplyUnit_KindsExisting(t *testing.T) {
	t.Parallel()
	// The second import repeats the first, plus entities whose other unique
	// keys are taken: user names (any case, humans and machines share them)
	// and a second grant of the same project to the same org.
	again := `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "domains": [{"domainName": "ONE.example"}],
	 "humanUsers": [{"userId": "h1", "user": {"userName": "alice", "profile": {"firstName": "Alice", "lastName": "Able"},
		"email": {"email": "alice@one.example"}}},
		{"userId": "h9", "user": {"userName": "ALICE", "profile": {"firstName": "A", "lastName": "B"}, "email": {"email": "a@b.example"}}}],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "robot", "name": "Robot"}},
		{"userId": "m9", "user": {"userName": "Robot", "name": "Robot Nine"}}],
	 "projects": [{"projectId": "p1", "project": {"name": "Project One"}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "Admin"}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}},
		{"grantId": "g2", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["admin"]}],
	 "orgMembers": [{"userId": "h1", "roles": ["ORG_OWNER"]}],
	 "projectMembers": [{"projectId": "p1", "userId": "h1", "roles": ["PROJECT_OWNER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"}}
	]}`
	notIdentical := []kindsResult{
		resFailed(0, "human_users", 1, "human_user", "h9", `ID=V3-DKcYh Message=Errors.User.AlreadyExists (user name "ALICE" is taken)`),
		resFailed(0, "machine_users", 1, "machine_user", "m9", `ID=V3-DKcYh Message=Errors.User.AlreadyExists (user name "Robot" is taken)`),
		resFailed(0, "project_grants", 1, "project_grant", "o1_p1_o2", `ID=V3-DKcYh Message=Errors.Project.Grant.AlreadyExists (project "p1" is already granted to org "o2")`),
	}
	tests := []struct {
		onConflict string
		wantOrgs   [][]string // the orgs' own results
		want       []kindsResult
	}{
		{importdata.OnConflictFail, [][]string{
			{"0", "error", "o1", "ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting"},
			{"1", "error", "o2", "ID=ORG-lapo2n Message=Errors.Org.AlreadyExisting"},
		}, []kindsResult{
			resFailed(0, "domains", 0, "domain", "o1_ONE.example", "ID=COMMA-Bd2jj Message=Errors.Org.Domain.AlreadyExists"),
			resFailed(0, "human_users", 0, "human_user", "h1", "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"),
			notIdentical[0],
			resFailed(0, "machine_users", 0, "machine_user", "m1", "ID=COMMAND-k2una Message=Errors.User.AlreadyExisting"),
			notIdentical[1],
			resFailed(0, "projects", 0, "project", "p1", "ID=PROJECT-37fug Message=Errors.AlreadyExists"),
			resFailed(0, "project_roles", 0, "project_role", "p1_admin", "ID=PROJECT-0oVYW Message=Errors.Project.Role.AlreadyExists"),
			resFailed(0, "project_grants", 0, "project_grant", "o1_p1_o2", `ID=V3-DKcYh Message=Errors.Project.Grant.AlreadyExists (a project grant with id "g1" exists)`),
			notIdentical[2],
			resFailed(0, "user_grants", 0, "user_grant", "o1_p1_h1", "ID=V3-DKcYh Message=Errors.UserGrant.AlreadyExists"),
			resFailed(0, "org_members", 0, "org_member", "o1_h1", "ID=V3-DKcYh Message=Errors.Org.Member.AlreadyExists"),
			resFailed(0, "project_members", 0, "project_member", "o1_p1_h1", "ID=V3-DKcYh Message=Errors.Project.Member.AlreadyExists"),
		}},
		{importdata.OnConflictSkip, [][]string{{"0", "skipped", "o1", "<nil>"}, {"1", "skipped", "o2", "<nil>"}}, []kindsResult{
			resSkipped(0, "domains", 0, "domain", "o1_ONE.example"),
			resSkipped(0, "human_users", 0, "human_user", "h1"),
			notIdentical[0],
			resSkipped(0, "machine_users", 0, "machine_user", "m1"),
			notIdentical[1],
			resSkipped(0, "projects", 0, "project", "p1"),
			resSkipped(0, "project_roles", 0, "project_role", "p1_admin"),
			resSkipped(0, "project_grants", 0, "project_grant", "o1_p1_o2"),
			notIdentical[2],
			resSkipped(0, "user_grants", 0, "user_grant", "o1_p1_h1"),
			resSkipped(0, "org_members", 0, "org_member", "o1_h1"),
			resSkipped(0, "project_members", 0, "project_member", "o1_p1_h1"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.onConflict, func(t *testing.T) {
			t.Parallel()
			s := newKindsStore(t)
			kindsImport(t, s, kindsStages, importdata.OnConflictFail, kindsExistingPayload)
			before := kindsDump(t, s)
			r := kindsImport(t, s, kindsStages, tt.onConflict, again)
			checkResults(t, tt.want, kindsResults(t, s, r.job.ID))
			// An existing org has one result, and its data is imported into it.
			checkKindsRows(t, s, []kindsRowCheck{
				{`SELECT org_index, outcome, id, message FROM job_results WHERE type = 'org' AND job_id = '` + r.job.ID + `' ORDER BY 1`, tt.wantOrgs},
				{`SELECT org_index, present FROM job_orgs WHERE job_id = '` + r.job.ID + `' ORDER BY 1`, [][]string{{"0", "true"}, {"1", "true"}}},
			})
			checkUnchanged(t, before, kindsDump(t, s))
		})
	}
}

// kindsDump returns every row of the directory tables.
func kindsDump(t testing.TB, s *Store) map[string][][]string {
	t.Helper()
	return dumpRows(t, s, qUsers, qDomains, qProjects, qRoles, qProjectGrants, qOrgMembers, qProjectMembers, qUserGrants)
}

// dumpRows returns the rows of each of queries, keyed by query.
func dumpRows(t testing.TB, s *Store, queries ...string) map[string][][]string {
	t.Helper()
	out := make(map[string][][]string, len(queries))
	for _, q := range queries {
		out[q] = kindsRows(t, s, q)
	}
	return out
}

// checkUnchanged reports the rows that differ between two dumps of the
// directory, taken before and after an import that must not change it.
func checkUnchanged(t testing.TB, before, after map[string][][]string) {
	t.Helper()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("directory changed (-before +after):\n%s", diff)
	}
}

func TestApplyUnit_KindsDuplicatesInUnit(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, kindsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "domains": [{"domainName": "dup.example"}, {"domainName": "DUP.example", "isVerified": true}],
	 "humanUsers": [
		{"userId": "h1", "user": {"userName": "alice", "profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "a@x.example"}}},
		{"userId": "h1", "user": {"userName": "bob", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "b@x.example"}}},
		{"userId": "h2", "user": {"userName": "Alice", "profile": {"firstName": "C", "lastName": "C"}, "email": {"email": "c@x.example"}}}],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "robot", "name": "First"}},
		{"userId": "m1", "user": {"userName": "robot2", "name": "Second"}},
		{"userId": "m2", "user": {"userName": "alice", "name": "Taken by h1"}}],
	 "projects": [{"projectId": "p1", "project": {"name": "First"}}, {"projectId": "p1", "project": {"name": "Second"}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "First"},
		{"projectId": "p1", "roleKey": "admin", "displayName": "Second"}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}},
		{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o3"}},
		{"grantId": "g2", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "userGrants": [{"userId": "h1", "projectId": "p1", "roleKeys": ["admin"]}, {"userId": "h1", "projectId": "p1"}],
	 "orgMembers": [{"userId": "h1", "roles": ["ORG_OWNER"]}, {"userId": "h1", "roles": ["ORG_USER_MANAGER"]}],
	 "projectMembers": [{"projectId": "p1", "userId": "h1", "roles": ["PROJECT_OWNER"]}, {"projectId": "p1", "userId": "h1", "roles": ["PROJECT_OWNER_VIEWER"]}]},
	{"orgId": "o2", "org": {"name": "Org Two"}},
	{"orgId": "o3", "org": {"name": "Org Three"}}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "domains", 0, "domain", "dup.example"),
		resFailed(0, "domains", 1, "domain", "o1_DUP.example", `Errors.Org.Domain.AlreadyExists (org "o1" has domain "DUP.example")`),
		resOK(0, "human_users", 0, "human_user", "h1"),
		resFailed(0, "human_users", 1, "human_user", "h1", "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"),
		resFailed(0, "human_users", 2, "human_user", "h2", `ID=V3-DKcYh Message=Errors.User.AlreadyExists (user name "Alice" is taken)`),
		resOK(0, "machine_users", 0, "machine_user", "m1"),
		resFailed(0, "machine_users", 1, "machine_user", "m1", "ID=COMMAND-k2una Message=Errors.User.AlreadyExisting"),
		resFailed(0, "machine_users", 2, "machine_user", "m2", `(user name "alice" is taken)`),
		resOK(0, "projects", 0, "project", "p1"),
		resFailed(0, "projects", 1, "project", "p1", "ID=PROJECT-37fug Message=Errors.AlreadyExists"),
		resOK(0, "project_roles", 0, "project_role", "p1_admin"),
		resFailed(0, "project_roles", 1, "project_role", "p1_admin", "ID=PROJECT-0oVYW Message=Errors.Project.Role.AlreadyExists"),
		resOK(0, "project_grants", 0, "project_grant", "o1_p1_o2", "g1", "p1", "o2"),
		resFailed(0, "project_grants", 1, "project_grant", "o1_p1_o3", `(a project grant with id "g1" exists)`),
		resFailed(0, "project_grants", 2, "project_grant", "o1_p1_o2", `(project "p1" is already granted to org "o2")`),
		resOK(0, "user_grants", 0, "user_grant", "o1_p1_h1", "p1", "h1"),
		resFailed(0, "user_grants", 1, "user_grant", "o1_p1_h1", "ID=V3-DKcYh Message=Errors.UserGrant.AlreadyExists"),
		resOK(0, "org_members", 0, "org_member", "h1"),
		resFailed(0, "org_members", 1, "org_member", "o1_h1", "ID=V3-DKcYh Message=Errors.Org.Member.AlreadyExists"),
		resOK(0, "project_members", 0, "project_member", "o1_p1_h1", "p1", "h1"),
		resFailed(0, "project_members", 1, "project_member", "o1_p1_h1", "ID=V3-DKcYh Message=Errors.Project.Member.AlreadyExists"),
	}, kindsResults(t, s, r.job.ID))
	// The first of each wins.
	checkKindsRows(t, s, []kindsRowCheck{
		{qDomains, [][]string{{"o1", "dup.example", "true", "false"}}},
		{`SELECT id, username, coalesce(name, '') FROM users ORDER BY id`, [][]string{{"h1", "alice", ""}, {"m1", "robot", "First"}}},
		{qProjects, [][]string{{"p1", "o1", "First"}}},
		{qRoles, [][]string{{"p1", "admin", "First", ""}}},
		{qProjectGrants, [][]string{{"g1", "p1", "o2", "[]"}}},
		{qUserGrants, [][]string{{"o1", "h1", "p1", "", "[admin]"}}},
		{qOrgMembers, [][]string{{"o1", "h1", "[ORG_OWNER]"}}},
		{qProjectMembers, [][]string{{"p1", "h1", "[PROJECT_OWNER]"}}},
	})
}

func TestApplyUnit_KindsMissingReferences(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	r := kindsImport(t, s, kindsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "humanUsers": [{"userId": "h1", "user": {"userName": "alice", "profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "a@x.example"}}},
		{"userId": "h5", "user": {"userName": "no-email", "profile": {"firstName": "A", "lastName": "A"}}}],
	 "projects": [{"projectId": "p1", "project": {"name": "One"}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "Admin"},
		{"projectId": "p9", "roleKey": "admin", "displayName": "Admin"},
		{"projectId": "p2", "roleKey": "admin", "displayName": "Admin"}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p9", "grantedOrgId": "o2"}},
		{"grantId": "g2", "projectGrant": {"projectId": "p1", "grantedOrgId": "o9"}},
		{"grantId": "g3", "projectGrant": {"projectId": "p1", "grantedOrgId": "o1"}},
		{"grantId": "g4", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2", "roleKeys": ["admin", "nope", "nada"]}},
		{"grantId": "g5", "projectGrant": {"projectId": "p2", "grantedOrgId": "o2"}}],
	 "userGrants": [{"userId": "u9", "projectId": "p1"},
		{"userId": "h5", "projectId": "p1"},
		{"userId": "h1", "projectId": "p9"},
		{"userId": "h1", "projectId": "p3"},
		{"userId": "h1", "projectId": "p1", "projectGrantId": "g9"},
		{"userId": "h1", "projectId": "p1", "roleKeys": ["nope"]}],
	 "orgMembers": [{"userId": "u9", "roles": ["ORG_OWNER"]}, {"userId": "h1"}],
	 "projectMembers": [{"projectId": "p9", "userId": "h1", "roles": ["PROJECT_OWNER"]}, {"projectId": "p2", "userId": "h1", "roles": ["PROJECT_OWNER"]},
		{"projectId": "p1", "userId": "u9", "roles": ["PROJECT_OWNER"]}, {"projectId": "p1", "userId": "h1"}]},
	{"orgId": "o2", "org": {"name": "Org Two"},
	 "projects": [{"projectId": "p2", "project": {"name": "Two"}}, {"projectId": "p3", "project": {"name": "Three"}}],
	 "projectRoles": [{"projectId": "p2", "roleKey": "r", "displayName": "R"}],
	 "projectGrants": [{"grantId": "g7", "projectGrant": {"projectId": "p2", "grantedOrgId": "o1", "roleKeys": ["r"]}}],
	 "userGrants": [{"userId": "h1", "projectId": "p2", "projectGrantId": "g7", "roleKeys": ["r"]}]}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "human_users", 0, "human_user", "h1"),
		resFailed(0, "human_users", 1, "human_user", "h5", "humanUsers[1].user.email: is required"),
		resOK(0, "projects", 0, "project", "p1"),
		resOK(0, "project_roles", 0, "project_role", "p1_admin"),
		resFailed(0, "project_roles", 1, "project_role", "p9_admin", `ID=PROJECT-0oVYW Message=Errors.Project.NotFound (project "p9" does not exist in org "o1")`),
		resFailed(0, "project_roles", 2, "project_role", "p2_admin", `(project "p2" does not exist in org "o1")`),
		resFailed(0, "project_grants", 0, "project_grant", "o1_p9_o2", `Errors.Project.NotFound (project "p9" does not exist in org "o1")`),
		resFailed(0, "project_grants", 1, "project_grant", "o1_p1_o9", `Errors.Org.NotFound (org "o9" does not exist)`),
		resFailed(0, "project_grants", 2, "project_grant", "o1_p1_o1", `projectGrants[2].projectGrant.grantedOrgId: a project cannot be granted to its own org "o1"`),
		resFailed(0, "project_grants", 3, "project_grant", "o1_p1_o2", `Errors.Project.Role.NotFound (project "p1" has no role "nope", "nada")`),
		resFailed(0, "project_grants", 4, "project_grant", "o1_p2_o2", `(project "p2" does not exist in org "o1")`),
		resFailed(0, "user_grants", 0, "user_grant", "o1_p1_u9", `ID=COMMAND-4M0fs Message=Errors.User.NotFound (user "u9" does not exist)`),
		resFailed(0, "user_grants", 1, "user_grant", "o1_p1_h5", `(user "h5" does not exist)`),
		resFailed(0, "user_grants", 2, "user_grant", "o1_p9_h1", `Errors.Project.NotFound (project "p9" does not exist)`),
		resFailed(0, "user_grants", 3, "user_grant", "o1_p3_h1", `ID=COMMAND-4m9ff Message=Errors.Project.Grant.NotFound (project "p3" belongs to org "o2" and is not granted to org "o1")`),
		resFailed(0, "user_grants", 4, "user_grant", "o1_p1_h1", `Errors.Project.Grant.NotFound (project grant "g9" of project "p1" to org "o1" does not exist)`),
		resFailed(0, "user_grants", 5, "user_grant", "o1_p1_h1", `Errors.Project.Role.NotFound (project "p1" has no role "nope")`),
		resFailed(0, "org_members", 0, "org_member", "o1_u9", `(user "u9" does not exist)`),
		resFailed(0, "org_members", 1, "org_member", "o1_h1", "ID=ORG-4m9fs Message=Errors.Org.MemberInvalid (orgMembers[1].roles: is required)"),
		resFailed(0, "project_members", 0, "project_member", "o1_p9_h1", `(project "p9" does not exist in org "o1")`),
		resFailed(0, "project_members", 1, "project_member", "o1_p2_h1", `(project "p2" does not exist in org "o1")`),
		resFailed(0, "project_members", 2, "project_member", "o1_p1_u9", `(user "u9" does not exist)`),
		resFailed(0, "project_members", 3, "project_member", "o1_p1_h1", "ID=PROJECT-W8m4l Message=Errors.Project.Member.Invalid (projectMembers[3].roles: is required)"),
		resOK(1, "projects", 0, "project", "p2"),
		resOK(1, "projects", 1, "project", "p3"),
		resOK(1, "project_roles", 0, "project_role", "p2_r"),
		resOK(1, "project_grants", 0, "project_grant", "o2_p2_o1", "g7", "p2", "o1"),
		resFailed(1, "user_grants", 0, "user_grant", "o2_p2_h1", `(project grant "g7" of project "p2" to org "o2" does not exist)`),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{qProjectGrants, [][]string{{"g7", "p2", "o1", "[r]"}}},
		{qUserGrants, [][]string{}},
		{qOrgMembers, [][]string{}},
		{qProjectMembers, [][]string{}},
	})
	job, err := s.JobByID(context.Background(), r.job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != StatusCompletedWithErrors {
		t.Errorf("job status = %q, want %q", job.Status, StatusCompletedWithErrors)
	}
}

func TestApplyUnit_KindsGrantedProject(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	// o2's users are granted o1's project through g1, by its id or implicitly;
	// only roles of the grant may be given.
	r := kindsImport(t, s, kindsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "projects": [{"projectId": "p1", "project": {"name": "One"}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "admin", "displayName": "A"}, {"projectId": "p1", "roleKey": "viewer", "displayName": "V"}],
	 "projectGrants": [{"grantId": "g1", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2", "roleKeys": ["viewer", "viewer"]}}]},
	{"orgId": "o2", "org": {"name": "Org Two"},
	 "humanUsers": [{"userId": "h1", "user": {"userName": "alice", "profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "a@x.example"}}},
		{"userId": "h2", "user": {"userName": "bob", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "b@x.example"}}}],
	 "userGrants": [{"userId": "h1", "projectId": "p1", "projectGrantId": "g1", "roleKeys": ["viewer"]},
		{"userId": "h2", "projectId": "p1", "roleKeys": ["viewer"]},
		{"userId": "h1", "projectId": "p1", "roleKeys": ["viewer"]},
		{"userId": "h2", "projectId": "p1", "projectGrantId": "g1", "roleKeys": ["admin"]}]}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "projects", 0, "project", "p1"),
		resOK(0, "project_roles", 0, "project_role", "p1_admin"),
		resOK(0, "project_roles", 1, "project_role", "p1_viewer"),
		resOK(0, "project_grants", 0, "project_grant", "o1_p1_o2", "g1", "p1", "o2"),
		resOK(1, "human_users", 0, "human_user", "h1"),
		resOK(1, "human_users", 1, "human_user", "h2"),
		resOK(1, "user_grants", 0, "user_grant", "o2_p1_h1", "p1", "h1"),
		resOK(1, "user_grants", 1, "user_grant", "o2_p1_h2", "p1", "h2"),
		resFailed(1, "user_grants", 2, "user_grant", "o2_p1_h1", "ID=V3-DKcYh Message=Errors.UserGrant.AlreadyExists"),
		resFailed(1, "user_grants", 3, "user_grant", "o2_p1_h2", `Errors.Project.Role.NotFound (project grant "g1" does not grant role "admin")`),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{qProjectGrants, [][]string{{"g1", "p1", "o2", "[viewer]"}}},
		{qUserGrants, [][]string{{"o2", "h1", "p1", "g1", "[viewer]"}, {"o2", "h2", "p1", "g1", "[viewer]"}}},
	})
}

func TestApplyUnit_KindsInvalidFields(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	long := strings.Repeat("x", 80)
	r := kindsImport(t, s, kindsStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "domains": [{"domainName": "bad domain"}, 7],
	 "humanUsers": [
		{"userId": "h1", "user": {"userName": "a", "profile": {"firstName": "A", "lastName": "A"}}},
		{"userId": "h2", "user": {"userName": "b", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "not-an-email"}}},
		{"userId": "h3", "user": {"userName": 5}},
		{"userId": "h4", "user": {"userName": "d", "profile": {"firstName": "D\u0000", "lastName": "D"}, "email": {"email": "d@x.example"}}},
		{"userId": "h5", "user": {"userName": "  ", "profile": {"firstName": "E", "lastName": "E"}, "email": {"email": "e@x.example"}}},
		{"userId": "h6", "user": {"userName": "f", "profile": {"firstName": "F", "lastName": "F"}, "email": {"email": "f@x.example"}, "password": "`+long+`"}},
		{"userId": "h\u0000", "user": {"userName": "g", "profile": {"firstName": "G", "lastName": "G"}, "email": {"email": "g@x.example"}}}],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "robot"}}, {"userId": "m2", "state": "NOPE", "user": {"userName": "r2", "name": "R"}}],
	 "projects": [{"projectId": "p1", "project": {"name": ""}}],
	 "projectRoles": [{"projectId": "p1", "roleKey": "", "displayName": "X"}],
	 "projectGrants": [{"grantId": "", "projectGrant": {"projectId": "p1", "grantedOrgId": "o2"}}],
	 "userGrants": [{"userId": "", "projectId": "p1"}],
	 "orgMembers": [{"userId": "h1", "roles": [""]}],
	 "projectMembers": [{"projectId": "p1", "userId": "", "roles": ["PROJECT_OWNER"]}]}
	]}`)
	checkResults(t, []kindsResult{
		resFailed(0, "domains", 0, "domain", "o1_bad domain", "ID=ORG-R24hb Message=Errors.Org.InvalidDomain (domains[0].domainName: contains an invalid character)"),
		resFailed(0, "domains", 1, "domain", "o1_", "(domains[1]: expected an object, got number)"),
		resFailed(0, "human_users", 0, "human_user", "h1", "ID=USER-4M90d Message=Errors.User.Invalid (humanUsers[0].user.email: is required)"),
		resFailed(0, "human_users", 1, "human_user", "h2", "humanUsers[1].user.email.email: is not a valid e-mail address"),
		resFailed(0, "human_users", 2, "human_user", "h3", "humanUsers[2].user.userName: expected a string, got number"),
		resFailed(0, "human_users", 3, "human_user", "h4", "humanUsers[3].user.profile.firstName: must not contain the NUL character"),
		resFailed(0, "human_users", 4, "human_user", "h5", "humanUsers[4].user.userName: is blank"),
		resFailed(0, "human_users", 5, "human_user", "h6", "humanUsers[5].user.password: at most 72 bytes"),
		resFailed(0, "human_users", 6, "human_user", "h\uFFFD", "humanUsers[6].userId: must not contain the NUL character"),
		resFailed(0, "machine_users", 0, "machine_user", "m1", "ID=COMMAND-bm3Ds Message=Errors.User.Invalid (machineUsers[0].user.name: is required)"),
		resFailed(0, "machine_users", 1, "machine_user", "m2", `machineUsers[1].state: unknown value "NOPE"`),
		resFailed(0, "projects", 0, "project", "p1", "ID=PROJECT-IOVCC Message=Errors.Project.Invalid (projects[0].project.name: is required)"),
		resFailed(0, "project_roles", 0, "project_role", "p1_", "ID=COMMAND-4m9vS Message=Errors.Project.Role.Invalid (projectRoles[0].roleKey: is required)"),
		resFailed(0, "project_grants", 0, "project_grant", "o1_p1_o2", "ID=PROJECT-3b8fs Message=Errors.Project.Grant.Invalid (projectGrants[0].grantId: is required)"),
		resFailed(0, "user_grants", 0, "user_grant", "o1_p1_", "ID=COMMAND-kVfMa Message=Errors.UserGrant.Invalid (userGrants[0].userId: is required)"),
		resFailed(0, "org_members", 0, "org_member", "o1_h1", "ID=ORG-4m9fs Message=Errors.Org.MemberInvalid (orgMembers[0].roles[0]: is required)"),
		resFailed(0, "project_members", 0, "project_member", "o1_p1_", "ID=PROJECT-W8m4l Message=Errors.Project.Member.Invalid (projectMembers[0].userId: is required)"),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{{qUsers, [][]string{}}, {qDomains, [][]string{}}, {qProjects, [][]string{}}})
}

// TestApplyUnit_KindsDomainVerification: under the instance's default
// domain policy (validateOrgDomains false, as ZITADEL's) every domain is
// verified when it is added, so any may be primary, and a domain another org
// verified is an error and is not added. Under an org policy that validates
// domains, only isVerified domains are verified: one verified elsewhere is
// added unverified with a note, and an unverified one cannot be primary.
func TestApplyUnit_KindsDomainVerification(t *testing.T) {
	t.Parallel()
	stages := []kindsStage{{StagePass1, []string{"org", "domain_policy", "domains"}}}
	domains := `"domains": [{"domainName": "Shared.example", "isVerified": true, "isPrimary": true},
			{"domainName": "plain.example", "isPrimary": true},
			{"domainName": "first.example", "isVerified": true, "isPrimary": true},
			{"domainName": "second.example", "isVerified": true, "isPrimary": true}]`
	t.Run("default policy", func(t *testing.T) {
		s := newKindsStore(t)
		kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o2", "org": {"name": "Org Two"},
			"domains": [{"domainName": "shared.example", "isPrimary": true}]}]}`)
		r := kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}, `+domains+`}]}`)
		checkResults(t, []kindsResult{
			resFailed(0, "domains", 0, "domain", "o1_Shared.example",
				`ID=V3-DKcYh Message=Errors.Org.Domain.AlreadyExists (domain "Shared.example" is verified by another org; it was not added)`),
			resOK(0, "domains", 1, "domain", "plain.example"),
			resOK(0, "domains", 2, "domain", "first.example"),
			resOK(0, "domains", 3, "domain", "second.example"),
		}, kindsResults(t, s, r.job.ID))
		checkKindsRows(t, s, []kindsRowCheck{
			{qDomains, [][]string{
				{"o1", "first.example", "true", "false"},
				{"o1", "plain.example", "true", "false"},
				{"o1", "second.example", "true", "true"},
				{"o2", "shared.example", "true", "true"},
			}},
			{`SELECT counts->'domains' FROM job_units WHERE job_id = '` + r.job.ID + `' AND stage = 1`,
				[][]string{{"map[done:3 failed:1]"}}},
		})
	})
	t.Run("validating policy", func(t *testing.T) {
		s := newKindsStore(t)
		kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o2", "org": {"name": "Org Two"},
			"domains": [{"domainName": "shared.example", "isVerified": true, "isPrimary": true}]}]}`)
		r := kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
			"domainPolicy": {"validateOrgDomains": true}, `+domains+`}]}`)
		verify := kindsResult{Org: 0, Step: "domains", Item: 0, Sub: 1, Outcome: "error", Type: "domain_isverified", ID: "o1_Shared.example",
			Msg: `ID=V3-DKcYh Message=Errors.Org.Domain.AlreadyExists (domain "Shared.example" is verified by another org; it was added unverified)`}
		primary := kindsResult{Org: 0, Step: "domains", Item: 0, Sub: 2, Outcome: "error", Type: "domain_isprimary", ID: "o1_Shared.example",
			Msg: "ID=ORG-Ggd32 Message=Errors.Org.DomainNotVerified"}
		primary2 := primary
		primary2.Item, primary2.Sub, primary2.ID = 1, 1, "o1_plain.example"
		checkResults(t, []kindsResult{
			{Org: 0, Step: "domain_policy", Outcome: "ok", Type: "domain_policy", ID: "o1"},
			resOK(0, "domains", 0, "domain", "Shared.example"), verify, primary,
			resOK(0, "domains", 1, "domain", "plain.example"), primary2,
			resOK(0, "domains", 2, "domain", "first.example"),
			resOK(0, "domains", 3, "domain", "second.example"),
		}, kindsResults(t, s, r.job.ID))
		checkKindsRows(t, s, []kindsRowCheck{
			{qDomains, [][]string{
				{"o1", "Shared.example", "false", "false"},
				{"o1", "first.example", "true", "false"},
				{"o1", "plain.example", "false", "false"},
				{"o1", "second.example", "true", "true"},
				{"o2", "shared.example", "true", "true"},
			}},
			// A domain with an error besides its success counts once, as done.
			{`SELECT counts->'domains' FROM job_units WHERE job_id = '` + r.job.ID + `' AND stage = 1`,
				[][]string{{"map[done:4]"}}},
		})
	})
}

func TestApplyUnit_KindsRetriedUnit(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"humanUsers": [{"userId": "h1", "user": {"userName": "alice", "profile": {"firstName": "A", "lastName": "A"},
			"email": {"email": "a@x.example"}, "password": "Passw0rd!"}}],
		"projects": [{"projectId": "p1", "project": {"name": "One"}}]}]}`)
	r := startKindsJob(t, s, importdata.OnConflictFail, split,
		[]Unit{{Stage: StagePass1, Steps: kindsStages[0].steps}, {Stage: StagePass3, Steps: kindsStages[3].steps}},
		[][]byte{orgs[0], orgs[0]})
	ctx := context.Background()
	if _, err := s.ApplyUnit(ctx, r.job, r.units[0], orgs[0], kindsOpts); err != nil {
		t.Fatalf("apply: %v", err)
	}
	before, beforeResults := kindsDump(t, s), kindsResults(t, s, r.job.ID)
	res, err := s.ApplyUnit(ctx, r.job, r.units[0], orgs[0], kindsOpts)
	if err != nil {
		t.Fatalf("apply again: %v", err)
	}
	if diff := cmp.Diff(ApplyResult{AlreadyDone: true}, res); diff != "" {
		t.Errorf("second ApplyUnit (-want +got):\n%s", diff)
	}
	checkUnchanged(t, before, kindsDump(t, s))
	if diff := cmp.Diff(beforeResults, kindsResults(t, s, r.job.ID)); diff != "" {
		t.Errorf("results changed (-before +after):\n%s", diff)
	}
	checkResults(t, []kindsResult{
		resOK(0, "human_users", 0, "human_user", "h1"),
		resOK(0, "projects", 0, "project", "p1"),
	}, beforeResults)
}

func TestApplyUnit_KindsChunks(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"humanUsers": [
			{"userId": "h1", "user": {"userName": "a", "profile": {"firstName": "A", "lastName": "A"}, "email": {"email": "a@x.example"}}},
			{"userId": "h2", "user": {"userName": "b", "profile": {"firstName": "B", "lastName": "B"}, "email": {"email": "b@x.example"}}},
			{"userId": "h3", "user": {"userName": "c", "profile": {"firstName": "C", "lastName": "C"}}},
			{"userId": "h1", "user": {"userName": "d", "profile": {"firstName": "D", "lastName": "D"}, "email": {"email": "d@x.example"}}},
			{"userId": "h4", "user": {"userName": "B", "profile": {"firstName": "E", "lastName": "E"}, "email": {"email": "e@x.example"}}}]}]}`)
	whole := orgs[0]
	var doc struct {
		HumanUsers []json.RawMessage `json:"humanUsers"`
	}
	if err := json.Unmarshal(whole, &doc); err != nil {
		t.Fatal(err)
	}
	chunk := func(from, to int) []byte { // as the split cuts them: from the comma before the first
		var parts [][]byte
		for _, u := range doc.HumanUsers[from:to] {
			parts = append(parts, u)
		}
		return append([]byte(", "), bytes.Join(parts, []byte(","))...)
	}
	r := startKindsJob(t, s, importdata.OnConflictFail, split, []Unit{
		{Stage: StagePass1, Seq: 0, Steps: []string{"org"}},
		{Stage: StagePass1, Seq: 1, Steps: []string{"human_users"}, Field: "humanUsers", FirstItem: 0},
		{Stage: StagePass1, Seq: 2, Steps: []string{"human_users"}, Field: "humanUsers", FirstItem: 2},
	}, [][]byte{whole, chunk(0, 2), chunk(2, 5)})
	r.applyAll(t, s)
	checkResults(t, []kindsResult{
		resOK(0, "human_users", 0, "human_user", "h1"),
		resOK(0, "human_users", 1, "human_user", "h2"),
		resFailed(0, "human_users", 2, "human_user", "h3", "humanUsers[2].user.email: is required"),
		resFailed(0, "human_users", 3, "human_user", "h1", "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"),
		resFailed(0, "human_users", 4, "human_user", "h4", `(user name "B" is taken)`),
	}, kindsResults(t, s, r.job.ID))
}
