package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step adds roles to the org's projects.
func init() {
	register(&Step{Name: "project_roles", Type: "project_role", Fields: []string{"projectRoles"}, Stage: StagePass1, Order: 23,
		Success: "projectRoles", Chunkable: true, apply: applyProjectRoles})
	// Success rows and errors share the id "projectId_roleKey", which is also
	// the success entry.
}

const roleExists = "ID=PROJECT-0oVYW Message=Errors.Project.Role.AlreadyExists"

func applyProjectRoles(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.ProjectRoles
	o := newOutcomes(a, step, len(items))
	var projects, keys []string
	for i, it := range items {
		r := it.V
		o.setID(i, r.ProjectID+"_"+r.RoleKey)
		if o.check(i, "projectRoles", it.Err, &r, "COMMAND-4m9vS", "Errors.Project.Role.Invalid") {
			projects, keys = append(projects, r.ProjectID), append(keys, r.RoleKey)
		}
	}
	if len(projects) == 0 {
		return o.flush()
	}
	owners, err := a.owners(ctx, "projects", distinctIDs(projects))
	if err != nil {
		return err
	}
	existing, err := a.set(ctx, "look up project roles", `SELECT project_id, role_key FROM project_roles
		WHERE instance_id = $1 AND (project_id, role_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, projects, keys)
	if err != nil {
		return err
	}
	seen := map[tuple]bool{}
	var idx []int
	var pid, rkey, name, group []string
	for i, it := range items {
		r := it.V
		k := tuple{r.ProjectID, r.RoleKey}
		switch {
		case !o.open(i):
		case owners[r.ProjectID] != a.orgID:
			o.fail(i, zerr("PROJECT-0oVYW", "Errors.Project.NotFound",
				fmt.Sprintf("project %q does not exist in org %q", r.ProjectID, a.orgID)))
		case existing[k] || seen[k]:
			o.exists(i, roleExists)
		default:
			seen[k] = true
			idx = append(idx, i)
			pid, rkey, name, group = append(pid, r.ProjectID), append(rkey, r.RoleKey), append(name, r.DisplayName), append(group, r.Group)
		}
	}
	if len(idx) > 0 {
		inserted, err := a.set(ctx, "insert project roles", `INSERT INTO project_roles (instance_id, project_id, role_key, display_name, role_group)
			SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(project_id, role_key, display_name, role_group)
			ON CONFLICT DO NOTHING RETURNING project_id, role_key`,
			a.job.InstanceID, pid, rkey, name, group)
		if err != nil {
			return err
		}
		for _, i := range idx {
			r := items[i].V
			if inserted[tuple{r.ProjectID, r.RoleKey}] {
				o.ok(i, r.ProjectID+"_"+r.RoleKey)
			} else {
				o.exists(i, roleExists)
			}
		}
	}
	return o.flush()
}
