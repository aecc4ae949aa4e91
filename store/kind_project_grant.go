package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step grants the org's projects to other orgs of the instance, with the
// given grant ids. It runs in pass 2, when every org of the job exists.
// With onConflict OVERWRITE an existing grant (by id) of a project of the
// org gets the new role keys; its project and granted org cannot change.
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
	// Grants with these ids or of these (project, granted org) pairs, with
	// the org of their project; a union, since an OR of the two conditions
	// would scan the table.
	rows, err := a.textRows(ctx, "look up project grants", `SELECT x.id, x.project_id, x.granted_org_id, coalesce(p.org_id, '')
		FROM (SELECT id, project_id, granted_org_id FROM project_grants
				WHERE instance_id = $1 AND id = ANY($2)
			UNION SELECT g.id, g.project_id, g.granted_org_id
				FROM project_grants g JOIN unnest($3::text[], $4::text[]) AS t(project_id, granted_org_id)
					ON g.project_id = t.project_id AND g.granted_org_id = t.granted_org_id
				WHERE g.instance_id = $1) x
			LEFT JOIN projects p ON p.instance_id = $1 AND p.id = x.project_id`,
		a.job.InstanceID, grantIDs, projects, grantedOrgs)
	if err != nil {
		return err
	}
	existing, pairTaken := map[string]existingGrant{}, map[tuple]bool{}
	for _, r := range rows {
		existing[r[0]], pairTaken[tuple{r[1], r[2]}] = existingGrant{project: r[1], grantedOrg: r[2], owner: r[3]}, true
	}

	seen := map[string]bool{}
	var ins, upd grantRows
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		g, pg := it.V, it.V.ProjectGrant
		pair := tuple{pg.ProjectID, pg.GrantedOrgID}
		ex, found := existing[g.GrantID]
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
		case seen[g.GrantID]:
			o.exists(i, grantIDExists(g.GrantID))
		case found && (!a.overwriting() || ex.owner != a.orgID):
			o.exists(i, a.existsIn(grantIDExists(g.GrantID), ex.owner))
		case found && (ex.project != pg.ProjectID || ex.grantedOrg != pg.GrantedOrgID):
			o.exists(i, grantIDExists(g.GrantID)+fmt.Sprintf(
				" (it grants project %q to org %q; onConflict OVERWRITE does not change the project or the granted org of a grant)",
				ex.project, ex.grantedOrg))
		case found:
			seen[g.GrantID] = true
			upd.add(i, g)
		case pairTaken[pair]:
			o.fail(i, zerr("V3-DKcYh", grantExists,
				fmt.Sprintf("project %q is already granted to org %q", pg.ProjectID, pg.GrantedOrgID)))
		default:
			seen[g.GrantID], pairTaken[pair] = true, true
			ins.add(i, g)
		}
	}
	if len(ins.idx) > 0 {
		rows, err = a.textRows(ctx, "insert project grants", `INSERT INTO project_grants (instance_id, id, project_id, granted_org_id, role_keys)
			SELECT $1, t.id, t.project_id, t.granted_org_id, `+fromJSONList("t.role_keys")+`
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, project_id, granted_org_id, role_keys)
			ON CONFLICT DO NOTHING RETURNING id`,
			a.job.InstanceID, ins.gid, ins.pid, ins.oid, ins.keys)
		if err != nil {
			return err
		}
		// Only the project's org grants it, so a parallel unit can only
		// have taken the grant id.
		ins.settle(o, items, firstColumn(rows), false)
	}
	if len(upd.idx) > 0 {
		// The grant's role keys are replaced; as in ZITADEL, the user grants
		// of the grant lose the role keys it no longer grants.
		rows, err = a.textRows(ctx, "update project grants", `WITH g AS (
				UPDATE project_grants g SET role_keys = `+fromJSONList("t.role_keys")+`
				FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, project_id, granted_org_id, role_keys)
				WHERE g.instance_id = $1 AND g.id = t.id AND g.project_id = t.project_id AND g.granted_org_id = t.granted_org_id
					AND EXISTS (SELECT 1 FROM projects p WHERE p.instance_id = $1 AND p.id = g.project_id AND p.org_id = $6)
				RETURNING g.id, g.role_keys),
			u AS (UPDATE user_grants ug SET role_keys = ARRAY(
					SELECT r.k FROM unnest(ug.role_keys) WITH ORDINALITY AS r(k, n) WHERE r.k = ANY(g.role_keys) ORDER BY r.n)
				FROM g WHERE ug.instance_id = $1 AND ug.project_grant_id = g.id AND NOT ug.role_keys <@ g.role_keys)
			SELECT id FROM g`,
			a.job.InstanceID, upd.gid, upd.pid, upd.oid, upd.keys, a.orgID)
		if err != nil {
			return err
		}
		upd.settle(o, items, firstColumn(rows), true)
	}
	return o.flush()
}

// grantIDExists is the error of a project grant whose id exists.
func grantIDExists(id string) string {
	return zerr("V3-DKcYh", grantExists, fmt.Sprintf("a project grant with id %q exists", id))
}

// existingGrant is what the step needs of a project grant in the directory;
// owner is the org of its project.
type existingGrant struct {
	project, grantedOrg, owner string
}

// grantRows are the columns of project_grants to insert or update.
type grantRows struct {
	idx                 []int
	gid, pid, oid, keys []string
}

func (r *grantRows) add(i int, g importdata.DataProjectGrant) {
	pg := g.ProjectGrant
	r.idx = append(r.idx, i)
	r.gid, r.pid, r.oid, r.keys = append(r.gid, g.GrantID), append(r.pid, pg.ProjectID), append(r.oid, pg.GrantedOrgID), append(r.keys, jsonList(pg.RoleKeys))
}

// settle records the outcome of the grants a statement was given: those it
// returned were written (overwritten with updated); another's id was taken
// by a parallel unit meanwhile, or it was deleted.
func (r *grantRows) settle(o *outcomes, items importdata.Items[importdata.DataProjectGrant], written map[string]bool, updated bool) {
	for _, i := range r.idx {
		g, pg := items[i].V, items[i].V.ProjectGrant
		switch {
		case !written[g.GrantID]:
			o.exists(i, grantIDExists(g.GrantID))
		case updated:
			o.overwrote(i, o.list[i].id, g.GrantID, pg.ProjectID, pg.GrantedOrgID)
		default:
			o.ok(i, o.list[i].id, g.GrantID, pg.ProjectID, pg.GrantedOrgID)
		}
	}
}
