package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step makes users of the instance members of project grants. It runs in
// pass 3, when every user and project grant of the job exists. As in
// ZITADEL, the grant may be to any org, but the org that lists the member
// must own the granted project or be the granted org.
func init() {
	register(&Step{Name: "project_grant_members", Type: "project_grant_member", Fields: []string{"projectGrantMembers"},
		Stage: StagePass3, Order: 2, Success: "projectGrantMembers", SuccessKeys: []string{"projectId", "grantId", "userId"},
		Chunkable: true, apply: applyProjectGrantMembers})
	// Success rows and errors share ZITADEL's error id
	// "orgId_projectId_grantId_userId".
}

const projectGrantMemberExists = "ID=PROJECT-37fug Message=Errors.AlreadyExists"

// grantRow is what project grant members need of a project grant.
type grantRow struct {
	project, grantedOrg, projectOrg string
}

func applyProjectGrantMembers(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.ProjectGrantMembers
	o := newOutcomes(a, step, len(items))
	var grants, users []string
	for i, it := range items {
		m := it.V
		o.setID(i, a.orgID+"_"+m.ProjectID+"_"+m.GrantID+"_"+m.UserID)
		if !o.check(i, "projectGrantMembers", it.Err, &m, "PROJECT-8fi7G", "Errors.Project.Grant.Member.Invalid") {
			continue
		}
		if len(m.Roles) == 0 {
			o.fail(i, zerr("PROJECT-8fi7G", "Errors.Project.Grant.Member.Invalid", "roles is empty"))
			continue
		}
		grants, users = append(grants, m.GrantID), append(users, m.UserID)
	}
	if len(users) == 0 {
		return o.flush()
	}
	userOwners, err := a.owners(ctx, "users", distinctIDs(users))
	if err != nil {
		return err
	}
	rows, err := a.textRows(ctx, "look up project grants", `SELECT g.id, g.project_id, g.granted_org_id, p.org_id
		FROM project_grants g JOIN projects p ON p.instance_id = g.instance_id AND p.id = g.project_id
		WHERE g.instance_id = $1 AND g.id = ANY($2)`, a.job.InstanceID, distinctIDs(grants))
	if err != nil {
		return err
	}
	grantOf := make(map[string]grantRow, len(rows))
	for _, r := range rows {
		grantOf[r[0]] = grantRow{project: r[1], grantedOrg: r[2], projectOrg: r[3]}
	}
	existing, err := a.set(ctx, "look up project grant members", `SELECT grant_id, user_id FROM project_grant_members
		WHERE instance_id = $1 AND (grant_id, user_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, grants, users)
	if err != nil {
		return err
	}
	var idx []int
	var pid, gid, uid, roles []string
	for i, it := range items {
		m := it.V
		g, found := grantOf[m.GrantID]
		k := tuple{m.GrantID, m.UserID}
		switch {
		case !o.open(i):
		case userOwners[m.UserID] == "":
			o.fail(i, userNotFound(m.UserID))
		case !found || g.project != m.ProjectID:
			o.fail(i, zerr("PROJECT-D8JxR", "Errors.Project.Grant.NotFound",
				fmt.Sprintf("project grant %q of project %q does not exist", m.GrantID, m.ProjectID)))
		case a.orgID != g.grantedOrg && a.orgID != g.projectOrg:
			o.fail(i, zerr("PROJECT-0l10S9OmZV", "Errors.Project.Grant.Invalid",
				fmt.Sprintf("project grant %q is of org %q to org %q, not of or to org %q", m.GrantID, g.projectOrg, g.grantedOrg, a.orgID)))
		case existing[k]:
			o.exists(i, projectGrantMemberExists)
		default:
			existing[k] = true
			idx = append(idx, i)
			pid, gid, uid, roles = append(pid, m.ProjectID), append(gid, m.GrantID), append(uid, m.UserID), append(roles, jsonList(m.Roles))
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	inserted, err := a.set(ctx, "insert project grant members", `INSERT INTO project_grant_members (instance_id, org_id,
			grant_id, user_id, project_id, roles)
		SELECT $1, $2, t.grant_id, t.user_id, t.project_id, `+fromJSONList("t.roles")+`
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(grant_id, user_id, project_id, roles)
		ON CONFLICT DO NOTHING RETURNING grant_id, user_id`, a.job.InstanceID, a.orgID, gid, uid, pid, roles)
	if err != nil {
		return err
	}
	for _, i := range idx {
		m := items[i].V
		if inserted[tuple{m.GrantID, m.UserID}] {
			o.ok(i, o.list[i].id, m.ProjectID, m.GrantID, m.UserID)
		} else {
			o.exists(i, projectGrantMemberExists) // added by a parallel unit meanwhile
		}
	}
	return o.flush()
}
