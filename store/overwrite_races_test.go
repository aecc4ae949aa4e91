package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zimport/zimport/importdata"
)

const reviewHuman = `{"userId": "%ID%", "user": {"userName": "%NAME%", "profile": {"firstName": "A", "lastName": "B"},
	"email": {"email": "a@o1.example"}%EXTRA%}}`

func reviewUser(id, name, extra string) string {
	return strings.NewReplacer("%ID%", id, "%NAME%", name, "%EXTRA%", extra).Replace(reviewHuman)
}

// The same user twice under OVERWRITE, the first invalid, both with an OTP
// code: the user's secret is written once (one statement may not write a row
// twice), the second is reported as existing.
func TestApplyUnit_OverwriteOTPTwice(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	stages := []kindsStage{{StagePass1, []string{"org", "human_users"}}}
	kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"humanUsers": [`+reviewUser("u1", "alice", "")+`]}]}`)
	otp := `, "otpCode": "KRSXG5CTMVRXEZLU"`
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"humanUsers": [`+reviewUser("u1", "  ", otp)+`, `+reviewUser("u1", "alice", otp)+`]}]}`)
	r := startKindsJob(t, s, importdata.OnConflictOverwrite, split,
		[]Unit{{Stage: StagePass1, Steps: stages[0].steps}}, orgs)
	_, err := s.ApplyUnit(context.Background(), r.job, r.units[0], r.data[0], kindsOpts)
	if err != nil {
		t.Fatalf("ApplyUnit: %v (rejected: %v)", err, errors.Is(err, ErrRejected))
	}
}

// An org that has users and no domain policy may not get one with
// userLoginMustBeDomain: its users' names would change scope (a second
// "alice" would be created in the org).
func TestApplyUnit_DomainPolicyAddedToOrgWithUsers(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	stages := []kindsStage{{StagePass1, []string{"org", "domain_policy", "human_users"}}}
	kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"humanUsers": [`+reviewUser("u1", "alice", "")+`]}]}`)
	kindsImport(t, s, stages, importdata.OnConflictOverwrite, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"domainPolicy": {"orgId": "o1", "userLoginMustBeDomain": true},
		"humanUsers": [`+reviewUser("u2", "alice", "")+`]}]}`)
	rows := kindsRows(t, s, `SELECT id, username_scope FROM users WHERE org_id = 'o1' AND lower(username) = 'alice' ORDER BY id`)
	if len(rows) > 1 {
		t.Errorf("org o1 has %d users named alice: %v", len(rows), rows)
	}
}

// renameRace runs unit 0 of an OVERWRITE import while a parallel unit (tx,
// of another org of the same file) has inserted what the rename wants and
// not committed yet: the unit must fail with ErrRaced, and its retry, which
// sees the committed row, must succeed and report the entity.
func renameRace(t *testing.T, s *Store, parallel, payload string, steps []string) {
	t.Helper()
	ctx := context.Background()
	split, orgs := kindsDecode(t, payload)
	r := startKindsJob(t, s, importdata.OnConflictOverwrite, split, []Unit{{Stage: StagePass1, Steps: steps}}, orgs)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, parallel); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.ApplyUnit(ctx, r.job, r.units[0], r.data[0], kindsOpts)
		done <- err
	}()
	waitForLockWait(t, s)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrRaced) || !errors.Is(err, ErrRejected) {
		t.Fatalf("ApplyUnit during the race: %v; want ErrRaced (and ErrRejected once retries are spent)", err)
	}
	if _, err := s.ApplyUnit(ctx, r.job, r.units[0], r.data[0], kindsOpts); err != nil {
		t.Fatalf("ApplyUnit retried: %v", err)
	}
	failed := false
	for _, res := range kindsResults(t, s, r.job.ID) {
		failed = failed || res.Outcome == "error"
	}
	for _, res := range kindsRows(t, s, `SELECT outcome FROM job_results WHERE job_id = '`+r.job.ID+`' AND type = 'org'`) {
		failed = failed || res[0] == "error"
	}
	if !failed {
		t.Error("the retried unit reports no error for what the parallel unit took")
	}
}

// An org renamed by OVERWRITE to the name that another org of the same file
// is creating in a parallel unit: the UPDATE meets the unique index and the
// whole job fails (ErrRejected), instead of an entity error.
func TestApplyUnit_OverwriteOrgRenameRace(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, []kindsStage{{StagePass1, []string{"org"}}}, importdata.OnConflictFail,
		`{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`)
	renameRace(t, s, `INSERT INTO orgs (instance_id, id, name) VALUES ('inst1', 'o2', 'Org X')`,
		`{"orgs": [{"orgId": "o1", "org": {"name": "Org X"}}]}`, []string{"org"})
}

// The same for a user renamed by OVERWRITE (user names unique in the
// instance): the NOT EXISTS guard does not see an uncommitted insert.
func TestApplyUnit_OverwriteUserRenameRace(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	stages := []kindsStage{{StagePass1, []string{"org", "human_users"}}}
	kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"humanUsers": [`+reviewUser("u1", "alice", "")+`]}, {"orgId": "o2", "org": {"name": "Org Two"}}]}`)
	renameRace(t, s, `INSERT INTO users (instance_id, id, org_id, type, username) VALUES ('inst1', 'u9', 'o2', 'human', 'bob')`,
		`{"orgs": [{"orgId": "o1", "humanUsers": [`+reviewUser("u1", "bob", "")+`]}]}`, []string{"org", "human_users"})
}

// Canceling a dry run while one of its units holds rows of the scratch
// instance neither deadlocks nor fails: ending the job does not touch the
// scratch instance, which PurgeDryRuns deletes afterwards.
func TestApplyUnit_DryRunCancel(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	kindsImport(t, s, []kindsStage{{StagePass1, []string{"org"}}}, importdata.OnConflictFail,
		`{"orgs": [{"orgId": "o1", "org": {"name": "Org One"}}]}`)
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1", "humanUsers": [`+reviewUser("u1", "alice", "")+`],
		"machineUsers": [{"userId": "m1", "user": {"userName": "robot", "name": "R"}}]}]}`)
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test",
		OnConflict: importdata.OnConflictFail, DryRun: true, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if job, err = s.StartJob(ctx, job.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PrepareDryRun(ctx, job); err != nil {
		t.Fatal(err)
	}
	units := []Unit{{JobID: job.ID, Stage: StagePass1, Steps: []string{"org", "human_users", "machine_users"}}}
	if err := s.SaveSplit(ctx, job.ID, split, units, map[string]int{}, nil); err != nil {
		t.Fatal(err)
	}
	// A parallel writer holds machine user m1 of the scratch instance, so
	// the unit stops there, its human user written, before finish.
	hold, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck
	if _, err := hold.Exec(ctx, `INSERT INTO users (instance_id, id, org_id, type, username) VALUES ($1, 'm1', 'o1', 'machine', 'robot')`,
		DryRunInstance(job.ID)); err != nil {
		t.Fatal(err)
	}
	applied := make(chan error, 1)
	go func() {
		_, err := s.ApplyUnit(ctx, job, units[0], orgs[0], kindsOpts)
		applied <- err
	}()
	waitForLockWait(t, s)
	if _, err := s.CancelJob(ctx, job.ID, Scope{System: true}); err != nil {
		t.Fatalf("CancelJob: %v", err)
	}
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-applied; err != nil {
		t.Errorf("ApplyUnit: %v", err)
	}
	if n, err := s.PurgeDryRuns(ctx); err != nil || n != 1 {
		t.Errorf("PurgeDryRuns after the cancel = %d, %v; want the job's scratch instance", n, err)
	}
}

// The same for a domain of the org verified by OVERWRITE while another org
// of the file verifies it in a parallel unit.
func TestApplyUnit_OverwriteDomainVerifyRace(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	stages := []kindsStage{{StagePass1, []string{"org", "domain_policy", "domains"}}}
	// o1 validates its domains: x.example stays unverified until the
	// OVERWRITE job verifies it.
	kindsImport(t, s, stages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"domainPolicy": {"validateOrgDomains": true}, "domains": [{"domainName": "x.example"}]}, {"orgId": "o2", "org": {"name": "Org Two"}}]}`)
	renameRace(t, s, `INSERT INTO org_domains (instance_id, org_id, domain, is_verified) VALUES ('inst1', 'o2', 'x.example', true)`,
		`{"orgs": [{"orgId": "o1", "domains": [{"domainName": "x.example", "isVerified": true}]}]}`, []string{"org", "domains"})
}
