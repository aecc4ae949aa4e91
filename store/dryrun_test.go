package store

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/importdata"
)

// dryRunPayload refers to what exportPayload imported: existing entities
// (errors under FAIL), references to existing projects, users and orgs, a
// user name that is taken, and new entities.
const dryRunPayload = `{"orgs": [
{"orgId": "o1", "org": {"name": "Org One"},
 "humanUsers": [` + `{"userId": "h3", "user": {"userName": "carol", "profile": {"firstName": "C", "lastName": "D"},
		"email": {"email": "carol@o1.example"}, "password": "Secret1!x"}},
	{"userId": "h4", "user": {"userName": "alice", "profile": {"firstName": "A", "lastName": "B"}, "email": {"email": "a@o1.example"}}},
	{"userId": "h1", "user": {"userName": "alice2", "profile": {"firstName": "A", "lastName": "B"}, "email": {"email": "a@o1.example"}}}],
 "projectRoles": [{"projectId": "p1", "roleKey": "viewer"}, {"projectId": "p1", "roleKey": "user"}],
 "userGrants": [{"userId": "h3", "projectId": "p1", "roleKeys": ["viewer", "user"]}, {"userId": "h3", "projectId": "p-missing"}],
 "orgMembers": [{"userId": "h3", "roles": ["ORG_OWNER"]}, {"userId": "h1", "roles": ["ORG_OWNER"]}]},
{"orgId": "o3", "org": {"name": "Org Three"},
 "projects": [{"projectId": "p3", "project": {"name": "Three"}}, {"projectId": "p1", "project": {"name": "Taken"}}],
 "projectRoles": [{"projectId": "p3", "roleKey": "r"}],
 "humanUsers": [{"userId": "u3", "user": {"userName": "gina", "profile": {"firstName": "G", "lastName": "H"}, "email": {"email": "g@o3.example"}}}],
 "projectGrants": [{"grantId": "g3", "projectGrant": {"projectId": "p3", "grantedOrgId": "o2", "roleKeys": ["r"]}}],
 "userGrants": [{"userId": "u1", "projectId": "p3", "projectGrantId": "g3", "roleKeys": ["r"]}],
 "projectMembers": [{"projectId": "p3", "userId": "h2", "roles": ["PROJECT_OWNER"]}]}
]}`

// TestStore_DryRun runs dryRunPayload as a dry run on an instance that holds
// exportPayload: the scratch instance is a copy of the instance, the instance
// is unchanged afterwards, the scratch instance is purged once the job has
// ended, and the results are those of a real run of the same payload.
func TestStore_DryRun(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	keys, _ := testPublicKeys(t)
	base := strings.NewReplacer("$MK1$", keys[0], "$MK2$", keys[2], "$APPKEY$", appsKey).Replace(exportPayload)
	kindsImport(t, s, allStages(), importdata.OnConflictFail, base)
	before := directorySnapshot(t, s, kindsInstance)

	split, orgs := kindsDecode(t, dryRunPayload)
	var units []Unit
	var data [][]byte
	for _, st := range allStages() {
		for i := range orgs {
			units = append(units, Unit{Stage: st.stage, OrgIndex: i, Steps: st.steps})
			data = append(data, orgs[i])
		}
	}
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test",
		OnConflict: importdata.OnConflictFail, DryRun: true, Timeout: time.Hour})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	if job, err = s.StartJob(ctx, job.ID, 0); err != nil {
		t.Fatalf("start job: %v", err)
	}
	for range 2 { // a retried start copies once
		if err := s.PrepareDryRun(ctx, job); err != nil {
			t.Fatalf("PrepareDryRun: %v", err)
		}
	}
	if diff := cmp.Diff(before, directorySnapshot(t, s, DryRunInstance(job.ID))); diff != "" {
		t.Fatalf("the scratch instance is not a copy of the instance (-instance +scratch):\n%s", diff)
	}
	for i := range units {
		units[i].JobID = job.ID
	}
	if err := s.SaveSplit(ctx, job.ID, split, units, map[string]int{}, nil); err != nil {
		t.Fatalf("save split: %v", err)
	}
	dry := &kindsRun{job: job, units: units, data: data}
	dry.applyAll(t, s)

	if diff := cmp.Diff(before, directorySnapshot(t, s, kindsInstance)); diff != "" {
		t.Errorf("the dry run changed the instance (-before +after):\n%s", diff)
	}
	if n, err := s.PurgeDryRuns(ctx); err != nil || n != 1 {
		t.Errorf("PurgeDryRuns after the dry run = %d, %v; want its scratch instance", n, err)
	}
	var scratch int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM instances WHERE starts_with(id, $1)`, dryRunPrefix).Scan(&scratch); err != nil {
		t.Fatal(err)
	}
	if scratch != 0 {
		t.Errorf("%d scratch instances remain after the purge", scratch)
	}
	if j, err := s.JobByID(ctx, job.ID); err != nil || j.Status != StatusCompletedWithErrors {
		t.Errorf("dry-run job: status %q, err %v; want completed_with_errors", j.Status, err)
	}

	real := kindsImport(t, s, allStages(), importdata.OnConflictFail, dryRunPayload)
	want, got := kindsResults(t, s, real.job.ID), kindsResults(t, s, job.ID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dry-run results differ from a real run's (-real +dry):\n%s", diff)
	}
	if len(directorySnapshot(t, s, kindsInstance)["users"]) == len(before["users"]) {
		t.Error("the real run imported no user: the payload does not test the dry run")
	}
}

// TestStore_PurgeDryRuns deletes scratch instances whose job is not running.
func TestStore_PurgeDryRuns(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	running, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: kindsInstance, Caller: "test", DryRun: true, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if running, err = s.StartJob(ctx, running.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PrepareDryRun(ctx, running); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.InstanceExists(ctx, DryRunInstance(running.ID)); ok || err != nil {
		t.Errorf("InstanceExists(scratch instance) = %v, %v; want false: clients may not address it", ok, err)
	}
	orphan := DryRunInstance("00000000-0000-0000-0000-000000000000")
	if _, err := s.pool.Exec(ctx, `INSERT INTO instances (id, name, default_org_id) VALUES ($1, 'x', '')`, orphan); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeDryRuns(ctx); err != nil || n != 1 {
		t.Fatalf("PurgeDryRuns = %d, %v; want the orphan only", n, err)
	}
	if err := s.FailJob(ctx, running.ID, "stop"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeDryRuns(ctx); err != nil || n != 1 {
		t.Fatalf("PurgeDryRuns after the job failed = %d, %v; want its copy", n, err)
	}
}

// directorySnapshot returns the rows of an instance's directory as JSON text
// without the instance id, by table, sorted.
func directorySnapshot(t testing.TB, s *Store, instanceID string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tables, err := directoryTables(ctx, tx)
		if err != nil {
			return err
		}
		for _, tb := range tables {
			rows, err := tx.Query(ctx, `SELECT (to_jsonb(t) - 'instance_id' - 'created_at')::text FROM `+
				pgx.Identifier{tb.name}.Sanitize()+` t WHERE instance_id = $1`, instanceID)
			if err != nil {
				return err
			}
			list, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			sort.Strings(list)
			out[tb.name] = list
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", instanceID, err)
	}
	return out
}
