package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/internal/testdb"
)

// TestMigrate_ExistingInstancesGetDefaultPolicies: an instance created by
// a release before the default policies (migrations up to 0008) has
// ZITADEL's default policies after the migration, the same as a new one.
func TestMigrate_ExistingInstancesGetDefaultPolicies(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testdb.New(t, "zimport_t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.migrateUpTo(ctx, "0008_job_claims.sql"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO instances (id, name, default_org_id) VALUES ('old', 'Old', 'o1')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	policies := func(instance string) map[string]string {
		rows, err := s.pool.Query(ctx, `SELECT kind, policy::text FROM instance_policies WHERE instance_id = $1`, instance)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for rows.Next() {
			var kind, policy string
			if err := rows.Scan(&kind, &policy); err != nil {
				t.Fatal(err)
			}
			out[kind] = policy
		}
		return out
	}
	got := policies("old")
	for _, kind := range []string{"password_complexity", "domain", "login", "lockout", "privacy", "label", "notification"} {
		if got[kind] == "" {
			t.Errorf("the existing instance has no default %s policy: %v", kind, got)
		}
	}
	if want := `{"hasNumber": true, "hasSymbol": true, "minLength": 8, "hasLowercase": true, "hasUppercase": true}`; got["password_complexity"] != want {
		t.Errorf("password complexity = %s, want %s", got["password_complexity"], want)
	}
	// A new instance gets the same copy.
	if _, err := s.pool.Exec(ctx, `INSERT INTO instances (id, name, default_org_id) VALUES ('new', 'New', 'o2');
		INSERT INTO instance_policies (instance_id, kind, policy) SELECT 'new', kind, policy FROM default_policies`); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, policies("new")); diff != "" {
		t.Errorf("new and migrated instances differ (-old +new):\n%s", diff)
	}
}
