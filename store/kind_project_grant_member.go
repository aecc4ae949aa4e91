package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step makes users of the instance members of project grants. It runs in
// pass 3, when every user and project grant of the job exists. As in
// ZITADEL, the grant may be to any org, but the org that lists the member
// must own the granted project or be the granted org. With onConflict
// OVERWRITE an existing member listed by the org gets the new roles; one
// listed by the other org of the grant stays an error.
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
		if !o.checkRoles(i, a.path("projectGrantMembers", i), m.Roles, projectGrantMemberRoles) {
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
	// The existing members, with the org that listed them.
	rows, err = a.textRows(ctx, "look up project grant members", `SELECT grant_id, user_id, org_id FROM project_grant_members
		WHERE instance_id = $1 AND (grant_id, user_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, grants, users)
	if err != nil {
		return err
	}
	owners := make(map[tuple]string, len(rows))
	for _, r := range rows {
		owners[tuple{r[0], r[1]}] = r[2]
	}
	seen := map[tuple]bool{}
	var ins, upd memberRows
	for i, it := range items {
		m := it.V
		g, found := grantOf[m.GrantID]
		k := tuple{m.GrantID, m.UserID}
		owner := owners[k]
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
		case seen[k]:
			o.exists(i, projectGrantMemberExists)
		case owner != "" && (!a.overwriting() || owner != a.orgID):
			o.exists(i, a.existsIn(projectGrantMemberExists, owner))
		case owner != "":
			seen[k] = true
			upd.add(i, tuple{m.GrantID, m.UserID, m.ProjectID}, m.Roles)
		default:
			seen[k] = true
			ins.add(i, tuple{m.GrantID, m.UserID, m.ProjectID}, m.Roles)
		}
	}
	entry := func(i int) (string, []string) {
		m := items[i].V
		return o.list[i].id, []string{m.ProjectID, m.GrantID, m.UserID}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert project grant members", `INSERT INTO project_grant_members (instance_id, org_id,
				grant_id, user_id, project_id, roles)
			SELECT $1, $2, t.grant_id, t.user_id, t.project_id, `+fromJSONList("t.roles")+`
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(grant_id, user_id, project_id, roles)
			ON CONFLICT DO NOTHING RETURNING grant_id, user_id, project_id`,
			a.job.InstanceID, a.orgID, ins.col(0), ins.col(1), ins.col(2), ins.roles)
		if err != nil {
			return err
		}
		ins.settle(o, inserted, false, projectGrantMemberExists, entry)
	}
	if len(upd.idx) > 0 {
		updated, err := a.set(ctx, "update project grant members", `UPDATE project_grant_members x SET roles = `+fromJSONList("t.roles")+`
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(grant_id, user_id, project_id, roles)
			WHERE x.instance_id = $1 AND x.org_id = $2 AND x.grant_id = t.grant_id AND x.user_id = t.user_id
				AND x.project_id = t.project_id
			RETURNING x.grant_id, x.user_id, x.project_id`,
			a.job.InstanceID, a.orgID, upd.col(0), upd.col(1), upd.col(2), upd.roles)
		if err != nil {
			return err
		}
		upd.settle(o, updated, true, projectGrantMemberExists, entry)
	}
	return o.flush()
}
