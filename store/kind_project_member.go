package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step makes users of the instance members of the org's projects. It runs in
// pass 3, when every user of the job exists. With onConflict OVERWRITE an
// existing member gets the new roles.
func init() {
	register(&Step{Name: "project_members", Type: "project_member", Fields: []string{"projectMembers"}, Stage: StagePass3, Order: 3,
		Success: "projectMembers", SuccessKeys: []string{"projectId", "userId"}, Chunkable: true,
		apply: applyProjectMembers})
	// Order 2 of the stage is left for project grant members.
}

const projectMemberExists = "ID=V3-DKcYh Message=Errors.Project.Member.AlreadyExists"

func applyProjectMembers(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.ProjectMembers
	o := newOutcomes(a, step, len(items))
	var projects, users []string
	for i, it := range items {
		m := it.V
		o.setID(i, a.orgID+"_"+m.ProjectID+"_"+m.UserID)
		if !o.check(i, "projectMembers", it.Err, &m, "PROJECT-W8m4l", "Errors.Project.Member.Invalid") {
			continue
		}
		if !o.checkRoles(i, a.path("projectMembers", i), m.Roles, projectMemberRoles) {
			continue
		}
		projects, users = append(projects, m.ProjectID), append(users, m.UserID)
	}
	if len(users) == 0 {
		return o.flush()
	}
	projectOwners, err := a.owners(ctx, "projects", distinctIDs(projects))
	if err != nil {
		return err
	}
	userOwners, err := a.owners(ctx, "users", distinctIDs(users))
	if err != nil {
		return err
	}
	existing, err := a.set(ctx, "look up project members", `SELECT project_id, user_id FROM project_members
		WHERE instance_id = $1 AND (project_id, user_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, projects, users)
	if err != nil {
		return err
	}
	seen := map[tuple]bool{}
	var ins, upd memberRows
	for i, it := range items {
		m := it.V
		k := tuple{m.ProjectID, m.UserID}
		switch {
		case !o.open(i):
		case projectOwners[m.ProjectID] != a.orgID:
			o.fail(i, zerr("COMMAND-m9gsd", "Errors.Project.NotFound",
				fmt.Sprintf("project %q does not exist in org %q", m.ProjectID, a.orgID)))
		case userOwners[m.UserID] == "":
			o.fail(i, userNotFound(m.UserID))
		case seen[k] || existing[k] && !a.overwriting():
			o.exists(i, projectMemberExists)
		case existing[k]:
			seen[k] = true
			upd.add(i, k, m.Roles)
		default:
			seen[k] = true
			ins.add(i, k, m.Roles)
		}
	}
	entry := func(i int) (string, []string) {
		return o.list[i].id, []string{items[i].V.ProjectID, items[i].V.UserID}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert project members", `INSERT INTO project_members (instance_id, project_id, user_id, roles)
			SELECT $1, t.project_id, t.user_id, `+fromJSONList("t.roles")+`
			FROM unnest($2::text[], $3::text[], $4::text[]) AS t(project_id, user_id, roles)
			ON CONFLICT DO NOTHING RETURNING project_id, user_id`, a.job.InstanceID, ins.col(0), ins.col(1), ins.roles)
		if err != nil {
			return err
		}
		ins.settle(o, inserted, false, projectMemberExists, entry)
	}
	if len(upd.idx) > 0 {
		updated, err := a.set(ctx, "update project members", `UPDATE project_members x SET roles = `+fromJSONList("t.roles")+`
			FROM unnest($2::text[], $3::text[], $4::text[]) AS t(project_id, user_id, roles)
			WHERE x.instance_id = $1 AND x.project_id = t.project_id AND x.user_id = t.user_id
				AND EXISTS (SELECT 1 FROM projects p WHERE p.instance_id = $1 AND p.id = x.project_id AND p.org_id = $5)
			RETURNING x.project_id, x.user_id`, a.job.InstanceID, upd.col(0), upd.col(1), upd.roles, a.orgID)
		if err != nil {
			return err
		}
		upd.settle(o, updated, true, projectMemberExists, entry)
	}
	return o.flush()
}
