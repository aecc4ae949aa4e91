package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step authorizes users on projects: the org's own projects, or projects of
// other orgs granted to it. It runs after every project grant of the job.
// The grant's id is generated. With onConflict OVERWRITE an existing user
// grant of the org (same user, project and project grant) gets the new role
// keys and keeps its id.
func init() {
	register(&Step{Name: "user_grants", Type: "user_grant", Fields: []string{"userGrants"}, Stage: StagePass2UserGrant, Order: 1,
		Success: "userGrants", SuccessKeys: []string{"projectId", "userId"}, Chunkable: true, apply: applyUserGrants})
}

const userGrantExists = "ID=V3-DKcYh Message=Errors.UserGrant.AlreadyExists"

// projectGrant is a row of project_grants.
type projectGrant struct {
	id, project, grantedOrg string
	roles                   map[string]bool
}

func applyUserGrants(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.UserGrants
	o := newOutcomes(a, step, len(items))
	var users, projects, grantIDs []string
	for i, it := range items {
		g := it.V
		o.setID(i, a.orgID+"_"+g.ProjectID+"_"+g.UserID)
		if o.check(i, "userGrants", it.Err, &g, "COMMAND-kVfMa", "Errors.UserGrant.Invalid") {
			users, projects, grantIDs = append(users, g.UserID), append(projects, g.ProjectID), append(grantIDs, g.ProjectGrantID)
		}
	}
	if len(users) == 0 {
		return o.flush()
	}
	userOwners, err := a.owners(ctx, "users", distinctIDs(users))
	if err != nil {
		return err
	}
	projects = distinctIDs(projects)
	projectOwners, err := a.owners(ctx, "projects", projects)
	if err != nil {
		return err
	}
	roles, err := a.roleKeys(ctx, projects)
	if err != nil {
		return err
	}
	// The grants named, and the grants to this org of other orgs' projects
	// (a user grant without a grant id on such a project uses that grant).
	var foreign []string
	for _, p := range projects {
		if owner := projectOwners[p]; owner != "" && owner != a.orgID {
			foreign = append(foreign, p)
		}
	}
	grants, grantOf, err := a.projectGrants(ctx, distinctIDs(grantIDs), foreign)
	if err != nil {
		return err
	}

	// resolved is the grant id of each open item, "" for the org's own project.
	resolved := make([]string, len(items))
	var cu, cp, cg []string
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		g := it.V
		var pg *projectGrant
		switch {
		case userOwners[g.UserID] == "":
			o.fail(i, userNotFound(g.UserID))
			continue
		case projectOwners[g.ProjectID] == "":
			o.fail(i, zerr("COMMAND-m9gsd", "Errors.Project.NotFound", fmt.Sprintf("project %q does not exist", g.ProjectID)))
			continue
		case g.ProjectGrantID != "":
			pg = grants[g.ProjectGrantID]
			if pg == nil || pg.project != g.ProjectID || pg.grantedOrg != a.orgID {
				o.fail(i, zerr("COMMAND-huvKF", "Errors.Project.Grant.NotFound",
					fmt.Sprintf("project grant %q of project %q to org %q does not exist", g.ProjectGrantID, g.ProjectID, a.orgID)))
				continue
			}
		case projectOwners[g.ProjectID] != a.orgID:
			pg = grantOf[g.ProjectID]
			if pg == nil {
				o.fail(i, zerr("COMMAND-4m9ff", "Errors.Project.Grant.NotFound",
					fmt.Sprintf("project %q belongs to org %q and is not granted to org %q", g.ProjectID, projectOwners[g.ProjectID], a.orgID)))
				continue
			}
		}
		if m := missingKeys(g.RoleKeys, roles[g.ProjectID]); m != "" {
			o.fail(i, zerr("COMMAND-mm9F4", "Errors.Project.Role.NotFound", fmt.Sprintf("project %q has no role %s", g.ProjectID, m)))
			continue
		}
		if pg != nil {
			if m := missingKeys(g.RoleKeys, pg.roles); m != "" {
				o.fail(i, zerr("COMMAND-mm9F4", "Errors.Project.Role.NotFound", fmt.Sprintf("project grant %q does not grant role %s", pg.id, m)))
				continue
			}
			resolved[i] = pg.id
		}
		cu, cp, cg = append(cu, g.UserID), append(cp, g.ProjectID), append(cg, resolved[i])
	}
	if len(cu) == 0 {
		return o.flush()
	}
	// The existing user grants of these keys, with their org.
	rows, err := a.textRows(ctx, "look up user grants", `SELECT user_id, project_id, project_grant_id, org_id FROM user_grants
		WHERE instance_id = $1 AND (user_id, project_id, project_grant_id) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))`,
		a.job.InstanceID, cu, cp, cg)
	if err != nil {
		return err
	}
	owners := make(map[tuple]string, len(rows))
	for _, r := range rows {
		owners[tuple{r[0], r[1], r[2]}] = r[3]
	}
	seen := map[tuple]bool{}
	var ins, upd userGrantRows
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		g := it.V
		k := tuple{g.UserID, g.ProjectID, resolved[i]}
		switch owner := owners[k]; {
		case seen[k]:
			o.exists(i, userGrantExists)
		case owner != "" && (!a.overwriting() || owner != a.orgID):
			o.exists(i, a.existsIn(userGrantExists, owner))
		case owner != "":
			seen[k] = true
			upd.add(i, g, resolved[i])
		default:
			seen[k] = true
			ins.add(i, g, resolved[i])
		}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert user grants", `INSERT INTO user_grants (instance_id, id, org_id, user_id, project_id, project_grant_id, role_keys)
			SELECT $1, gen_random_uuid()::text, $2, t.user_id, t.project_id, t.grant_id, `+fromJSONList("t.role_keys")+`
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(user_id, project_id, grant_id, role_keys)
			ON CONFLICT DO NOTHING RETURNING user_id, project_id, project_grant_id`,
			a.job.InstanceID, a.orgID, ins.uid, ins.pid, ins.gid, ins.keys)
		if err != nil {
			return err
		}
		ins.settle(o, items, inserted, false)
	}
	if len(upd.idx) > 0 {
		// The user grant keeps its generated id; its role keys are replaced.
		updated, err := a.set(ctx, "update user grants", `UPDATE user_grants x SET role_keys = `+fromJSONList("t.role_keys")+`
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(user_id, project_id, grant_id, role_keys)
			WHERE x.instance_id = $1 AND x.org_id = $2 AND x.user_id = t.user_id AND x.project_id = t.project_id
				AND x.project_grant_id = t.grant_id
			RETURNING x.user_id, x.project_id, x.project_grant_id`,
			a.job.InstanceID, a.orgID, upd.uid, upd.pid, upd.gid, upd.keys)
		if err != nil {
			return err
		}
		upd.settle(o, items, updated, true)
	}
	return o.flush()
}

// userGrantRows are the columns of user_grants to insert or update.
type userGrantRows struct {
	idx                 []int
	uid, pid, gid, keys []string
}

func (r *userGrantRows) add(i int, g importdata.AddUserGrantRequest, grantID string) {
	r.idx = append(r.idx, i)
	r.uid, r.pid, r.gid, r.keys = append(r.uid, g.UserID), append(r.pid, g.ProjectID), append(r.gid, grantID), append(r.keys, jsonList(g.RoleKeys))
}

// settle records the outcome of the user grants a statement was given:
// those it returned were written (overwritten with updated); another was
// added by a parallel unit meanwhile, or deleted.
func (r *userGrantRows) settle(o *outcomes, items importdata.Items[importdata.AddUserGrantRequest], written map[tuple]bool, updated bool) {
	for j, i := range r.idx {
		g := items[i].V
		switch {
		case !written[tuple{r.uid[j], r.pid[j], r.gid[j]}]:
			o.exists(i, userGrantExists)
		case updated:
			o.overwrote(i, o.list[i].id, g.ProjectID, g.UserID)
		default:
			o.ok(i, o.list[i].id, g.ProjectID, g.UserID)
		}
	}
}

// projectGrants returns the project grants with the given ids, and the grants
// to this org of the given projects by project.
func (a *applier) projectGrants(ctx context.Context, ids, projects []string) (byID, byProject map[string]*projectGrant, err error) {
	byID, byProject = map[string]*projectGrant{}, map[string]*projectGrant{}
	if len(ids) == 0 && len(projects) == 0 {
		return byID, byProject, nil
	}
	rows, err := a.textRows(ctx, "look up project grants", `SELECT id, project_id, granted_org_id, to_json(role_keys)::text
		FROM project_grants WHERE instance_id = $1 AND (id = ANY($2) OR (granted_org_id = $3 AND project_id = ANY($4)))`,
		a.job.InstanceID, ids, a.orgID, projects)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		var keys []string
		if err := json.Unmarshal([]byte(r[3]), &keys); err != nil {
			return nil, nil, fmt.Errorf("look up project grants: role keys of %s: %w", r[0], err)
		}
		pg := &projectGrant{id: r[0], project: r[1], grantedOrg: r[2], roles: map[string]bool{}}
		for _, k := range keys {
			pg.roles[k] = true
		}
		byID[pg.id] = pg
		if pg.grantedOrg == a.orgID {
			byProject[pg.project] = pg
		}
	}
	return byID, byProject, nil
}
