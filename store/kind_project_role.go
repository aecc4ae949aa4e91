package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step adds roles to the org's projects. With onConflict OVERWRITE an
// existing role of a project of the org is updated in place (display name
// and group).
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
	var ins, upd roleRows
	for i, it := range items {
		r := it.V
		k := tuple{r.ProjectID, r.RoleKey}
		switch {
		case !o.open(i):
		case owners[r.ProjectID] != a.orgID:
			o.fail(i, zerr("PROJECT-0oVYW", "Errors.Project.NotFound",
				fmt.Sprintf("project %q does not exist in org %q", r.ProjectID, a.orgID)))
		case seen[k] || existing[k] && !a.overwriting():
			o.exists(i, roleExists)
		case existing[k]:
			seen[k] = true
			upd.add(i, r)
		default:
			seen[k] = true
			ins.add(i, r)
		}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert project roles", `INSERT INTO project_roles (instance_id, project_id, role_key, display_name, role_group)
			SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(project_id, role_key, display_name, role_group)
			ON CONFLICT DO NOTHING RETURNING project_id, role_key`,
			ins.args(a)...)
		if err != nil {
			return err
		}
		ins.settle(o, inserted, false)
	}
	if len(upd.idx) > 0 {
		updated, err := a.set(ctx, "update project roles", `UPDATE project_roles r SET display_name = t.display_name, role_group = t.role_group
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(project_id, role_key, display_name, role_group)
			WHERE r.instance_id = $1 AND r.project_id = t.project_id AND r.role_key = t.role_key
				AND EXISTS (SELECT 1 FROM projects p WHERE p.instance_id = $1 AND p.id = r.project_id AND p.org_id = $6)
			RETURNING r.project_id, r.role_key`,
			append(upd.args(a), a.orgID)...)
		if err != nil {
			return err
		}
		upd.settle(o, updated, true)
	}
	return o.flush()
}

// roleRows are the columns of project_roles to insert or update.
type roleRows struct {
	idx                    []int
	pid, rkey, name, group []string
}

func (r *roleRows) add(i int, role importdata.AddProjectRoleRequest) {
	r.idx = append(r.idx, i)
	r.pid, r.rkey, r.name, r.group = append(r.pid, role.ProjectID), append(r.rkey, role.RoleKey), append(r.name, role.DisplayName), append(r.group, role.Group)
}

// args are the parameters $1 to $5 of the insert and the update.
func (r *roleRows) args(a *applier) []any {
	return []any{a.job.InstanceID, r.pid, r.rkey, r.name, r.group}
}

// settle records the outcome of the roles a statement was given: those it
// returned were written (overwritten with updated); another was added by a
// parallel unit meanwhile, or deleted.
func (r *roleRows) settle(o *outcomes, written map[tuple]bool, updated bool) {
	for j, i := range r.idx {
		switch id := r.pid[j] + "_" + r.rkey[j]; {
		case !written[tuple{r.pid[j], r.rkey[j]}]:
			o.exists(i, roleExists)
		case updated:
			o.overwrote(i, id)
		default:
			o.ok(i, id)
		}
	}
}
