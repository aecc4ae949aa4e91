package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step grants the org's projects to other orgs of the instance, with the
// given grant ids. It runs in pass 2, when every org of the job exists.
func init() {
	register(&Step{Name: "project_grants", Type: "project_grant", Fields: []string{"projectGrants"}, Stage: StagePass2, Order: 2,
		Success: "projectGrants", SuccessKeys: []string{"grantId", "projectId", "orgId"}, Chunkable: true,
		apply: applyProjectGrants})
}

const grantExists = "Errors.Project.Grant.AlreadyExists"

func applyProjectGrants(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.ProjectGrants
	o := newOutcomes(a, step, len(items))
	var grantIDs, projects, grantedOrgs []string
	for i, it := range items {
		g := it.V
		pg := g.ProjectGrant
		o.setID(i, a.orgID+"_"+pg.ProjectID+"_"+pg.GrantedOrgID)
		if o.check(i, "projectGrants", it.Err, &g, "PROJECT-3b8fs", "Errors.Project.Grant.Invalid") {
			grantIDs = append(grantIDs, g.GrantID)
			projects, grantedOrgs = append(projects, pg.ProjectID), append(grantedOrgs, pg.GrantedOrgID)
		}
	}
	if len(grantIDs) == 0 {
		return o.flush()
	}
	projectOwners, err := a.owners(ctx, "projects", distinctIDs(projects))
	if err != nil {
		return err
	}
	orgs, err := a.owners(ctx, "orgs", distinctIDs(grantedOrgs))
	if err != nil {
		return err
	}
	var own []string
	for _, p := range projects {
		if projectOwners[p] == a.orgID {
			own = append(own, p)
		}
	}
	roles, err := a.roleKeys(ctx, distinctIDs(own))
	if err != nil {
		return err
	}
	// Grants with these ids or of these (project, granted org) pairs; a union,
	// since an OR of the two conditions would scan the table.
	rows, err := a.textRows(ctx, "look up project grants", `SELECT id, project_id, granted_org_id FROM project_grants
			WHERE instance_id = $1 AND id = ANY($2)
		UNION SELECT g.id, g.project_id, g.granted_org_id
			FROM project_grants g JOIN unnest($3::text[], $4::text[]) AS t(project_id, granted_org_id)
				ON g.project_id = t.project_id AND g.granted_org_id = t.granted_org_id
			WHERE g.instance_id = $1`,
		a.job.InstanceID, grantIDs, projects, grantedOrgs)
	if err != nil {
		return err
	}
	idTaken, pairTaken := map[string]bool{}, map[tuple]bool{}
	for _, r := range rows {
		idTaken[r[0]], pairTaken[tuple{r[1], r[2]}] = true, true
	}

	var idx []int
	var gid, pid, oid, keys []string
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		g, pg := it.V, it.V.ProjectGrant
		pair := tuple{pg.ProjectID, pg.GrantedOrgID}
		switch {
		case projectOwners[pg.ProjectID] != a.orgID:
			o.fail(i, zerr("COMMAND-m9gsd", "Errors.Project.NotFound",
				fmt.Sprintf("project %q does not exist in org %q", pg.ProjectID, a.orgID)))
		case pg.GrantedOrgID == a.orgID:
			o.fail(i, zerr("PROJECT-3b8fs", "Errors.Project.Grant.Invalid",
				fmt.Sprintf("%s.projectGrant.grantedOrgId: a project cannot be granted to its own org %q", a.path("projectGrants", i), a.orgID)))
		case orgs[pg.GrantedOrgID] == "":
			o.fail(i, zerr("COMMAND-3m9gg", "Errors.Org.NotFound", fmt.Sprintf("org %q does not exist", pg.GrantedOrgID)))
		case missingKeys(pg.RoleKeys, roles[pg.ProjectID]) != "":
			o.fail(i, zerr("COMMAND-6m9gd", "Errors.Project.Role.NotFound",
				fmt.Sprintf("project %q has no role %s", pg.ProjectID, missingKeys(pg.RoleKeys, roles[pg.ProjectID]))))
		case idTaken[g.GrantID]:
			o.exists(i, zerr("V3-DKcYh", grantExists, fmt.Sprintf("a project grant with id %q exists", g.GrantID)))
		case pairTaken[pair]:
			o.fail(i, zerr("V3-DKcYh", grantExists,
				fmt.Sprintf("project %q is already granted to org %q", pg.ProjectID, pg.GrantedOrgID)))
		default:
			idTaken[g.GrantID], pairTaken[pair] = true, true
			idx = append(idx, i)
			gid, pid, oid, keys = append(gid, g.GrantID), append(pid, pg.ProjectID), append(oid, pg.GrantedOrgID), append(keys, jsonList(pg.RoleKeys))
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	rows, err = a.textRows(ctx, "insert project grants", `INSERT INTO project_grants (instance_id, id, project_id, granted_org_id, role_keys)
		SELECT $1, t.id, t.project_id, t.granted_org_id, `+fromJSONList("t.role_keys")+`
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, project_id, granted_org_id, role_keys)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, gid, pid, oid, keys)
	if err != nil {
		return err
	}
	inserted := firstColumn(rows)
	for _, i := range idx {
		g, pg := items[i].V, items[i].V.ProjectGrant
		if inserted[g.GrantID] {
			o.ok(i, o.list[i].id, g.GrantID, pg.ProjectID, pg.GrantedOrgID)
		} else {
			// Only the project's org grants it, so a parallel unit can only
			// have taken the grant id.
			o.exists(i, zerr("V3-DKcYh", grantExists, fmt.Sprintf("a project grant with id %q exists", g.GrantID)))
		}
	}
	return o.flush()
}
