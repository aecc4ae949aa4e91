package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step makes users of the instance members of the org's projects. It runs in
// pass 3, when every user of the job exists.
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
		if len(m.Roles) == 0 {
			o.fail(i, zerr("PROJECT-W8m4l", "Errors.Project.Member.Invalid", "roles is empty"))
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
	var idx []int
	var pid, uid, roles []string
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
		case existing[k]:
			o.exists(i, projectMemberExists)
		default:
			existing[k] = true
			idx = append(idx, i)
			pid, uid, roles = append(pid, m.ProjectID), append(uid, m.UserID), append(roles, jsonList(m.Roles))
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	inserted, err := a.set(ctx, "insert project members", `INSERT INTO project_members (instance_id, project_id, user_id, roles)
		SELECT $1, t.project_id, t.user_id, `+fromJSONList("t.roles")+`
		FROM unnest($2::text[], $3::text[], $4::text[]) AS t(project_id, user_id, roles)
		ON CONFLICT DO NOTHING RETURNING project_id, user_id`, a.job.InstanceID, pid, uid, roles)
	if err != nil {
		return err
	}
	for _, i := range idx {
		m := items[i].V
		if inserted[tuple{m.ProjectID, m.UserID}] {
			o.ok(i, o.list[i].id, m.ProjectID, m.UserID)
		} else {
			o.exists(i, projectMemberExists)
		}
	}
	return o.flush()
}
