package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step makes users of the instance members of the org. It runs in pass 3,
// when every user of the job exists. With onConflict OVERWRITE an existing
// member gets the new roles.
func init() {
	register(&Step{Name: "org_members", Type: "org_member", Fields: []string{"orgMembers"}, Stage: StagePass3, Order: 1,
		Success: "orgMembers", Chunkable: true, apply: applyOrgMembers})
	// Success rows carry the user id (the success entry); errors use
	// ZITADEL's id "orgId_userId".
}

const orgMemberExists = "ID=V3-DKcYh Message=Errors.Org.Member.AlreadyExists"

func applyOrgMembers(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.OrgMembers
	o := newOutcomes(a, step, len(items))
	var users []string
	for i, it := range items {
		m := it.V
		o.setID(i, a.orgID+"_"+m.UserID)
		if !o.check(i, "orgMembers", it.Err, &m, "ORG-4m9fs", "Errors.Org.MemberInvalid") {
			continue
		}
		if !o.checkRoles(i, a.path("orgMembers", i), m.Roles, orgMemberRoles) {
			continue
		}
		users = append(users, m.UserID)
	}
	if len(users) == 0 {
		return o.flush()
	}
	users = distinctIDs(users)
	userOwners, err := a.owners(ctx, "users", users)
	if err != nil {
		return err
	}
	existing, err := a.set(ctx, "look up org members", `SELECT user_id FROM org_members
		WHERE instance_id = $1 AND org_id = $2 AND user_id = ANY($3)`, a.job.InstanceID, a.orgID, users)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var ins, upd memberRows
	for i, it := range items {
		m := it.V
		switch {
		case !o.open(i):
		case userOwners[m.UserID] == "":
			o.fail(i, userNotFound(m.UserID))
		case seen[m.UserID] || existing[tuple{m.UserID}] && !a.overwriting():
			o.exists(i, orgMemberExists)
		case existing[tuple{m.UserID}]:
			seen[m.UserID] = true
			upd.add(i, tuple{m.UserID}, m.Roles)
		default:
			seen[m.UserID] = true
			ins.add(i, tuple{m.UserID}, m.Roles)
		}
	}
	entry := func(i int) (string, []string) { return items[i].V.UserID, nil }
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert org members", `INSERT INTO org_members (instance_id, org_id, user_id, roles)
			SELECT $1, $2, t.user_id, `+fromJSONList("t.roles")+` FROM unnest($3::text[], $4::text[]) AS t(user_id, roles)
			ON CONFLICT DO NOTHING RETURNING user_id`, a.job.InstanceID, a.orgID, ins.col(0), ins.roles)
		if err != nil {
			return err
		}
		ins.settle(o, inserted, false, orgMemberExists, entry)
	}
	if len(upd.idx) > 0 {
		updated, err := a.set(ctx, "update org members", `UPDATE org_members x SET roles = `+fromJSONList("t.roles")+`
			FROM unnest($3::text[], $4::text[]) AS t(user_id, roles)
			WHERE x.instance_id = $1 AND x.org_id = $2 AND x.user_id = t.user_id RETURNING x.user_id`,
			a.job.InstanceID, a.orgID, upd.col(0), upd.roles)
		if err != nil {
			return err
		}
		upd.settle(o, updated, true, orgMemberExists, entry)
	}
	return o.flush()
}

// memberRole is how a member kind's roles are checked: its error when they
// are missing and when one is not of the kind (ZITADEL's ids), the kind's
// name and role prefix, and the check.
type memberRole struct {
	missingID, invalidID, key, kind, prefix string
	invalid                                 func(roles []string) []string
}

var (
	orgMemberRoles = memberRole{"ORG-4m9fs", "Org-4N8es", "Errors.Org.MemberInvalid", "org", importdata.OrgRolePrefix,
		importdata.InvalidOrgMemberRoles}
	projectMemberRoles = memberRole{"PROJECT-W8m4l", "PROJECT-3m9ds", "Errors.Project.Member.Invalid", "project",
		importdata.ProjectRolePrefix, func(r []string) []string { return importdata.InvalidRoles(r, importdata.ProjectRolePrefix) }}
	projectGrantMemberRoles = memberRole{"PROJECT-8fi7G", "PROJECT-m9gKK", "Errors.Project.Grant.Member.Invalid", "project grant",
		importdata.ProjectGrantRolePrefix, func(r []string) []string { return importdata.InvalidRoles(r, importdata.ProjectGrantRolePrefix) }}
)

// checkRoles records the error of member i, at path, whose roles are
// missing or not all of the member's kind; it reports whether they are
// fine.
func (o *outcomes) checkRoles(i int, path string, roles []string, k memberRole) bool {
	if len(roles) == 0 {
		o.fail(i, zerr(k.missingID, k.key, path+".roles: is required"))
		return false
	}
	if bad := k.invalid(roles); len(bad) > 0 {
		o.fail(i, zerr(k.invalidID, k.key, path+".roles: "+importdata.RolesProblem(bad, k.kind, k.prefix)))
		return false
	}
	return true
}

// memberRows are the members (of an org, project or project grant) to
// insert or update: their keys (user id, project id and user id, ...) and
// roles.
type memberRows struct {
	idx   []int
	keys  []tuple
	roles []string
}

func (r *memberRows) add(i int, k tuple, roles []string) {
	r.idx, r.keys, r.roles = append(r.idx, i), append(r.keys, k), append(r.roles, jsonList(roles))
}

// col returns column c of the keys.
func (r *memberRows) col(c int) []string {
	out := make([]string, len(r.keys))
	for j, k := range r.keys {
		out[j] = k[c]
	}
	return out
}

// settle records the outcome of the members a statement was given: those
// whose key it returned were written (overwritten with updated), with the
// success entry that entry gives for item i; another was added by a
// parallel unit meanwhile, or deleted, and has the error exists.
func (r *memberRows) settle(o *outcomes, written map[tuple]bool, updated bool, exists string, entry func(i int) (string, []string)) {
	for j, i := range r.idx {
		okID, f := entry(i)
		switch {
		case !written[r.keys[j]]:
			o.exists(i, exists)
		case updated:
			o.overwrote(i, okID, f...)
		default:
			o.ok(i, okID, f...)
		}
	}
}
