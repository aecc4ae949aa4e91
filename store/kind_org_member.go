package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step makes users of the instance members of the org. It runs in pass 3,
// when every user of the job exists.
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
		if len(m.Roles) == 0 {
			o.fail(i, zerr("ORG-4m9fs", "Errors.Org.MemberInvalid", "roles is empty"))
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
	var idx []int
	var uid, roles []string
	for i, it := range items {
		m := it.V
		k := tuple{m.UserID}
		switch {
		case !o.open(i):
		case userOwners[m.UserID] == "":
			o.fail(i, userNotFound(m.UserID))
		case existing[k]:
			o.exists(i, orgMemberExists)
		default:
			existing[k] = true
			idx = append(idx, i)
			uid, roles = append(uid, m.UserID), append(roles, jsonList(m.Roles))
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	inserted, err := a.set(ctx, "insert org members", `INSERT INTO org_members (instance_id, org_id, user_id, roles)
		SELECT $1, $2, t.user_id, `+fromJSONList("t.roles")+` FROM unnest($3::text[], $4::text[]) AS t(user_id, roles)
		ON CONFLICT DO NOTHING RETURNING user_id`, a.job.InstanceID, a.orgID, uid, roles)
	if err != nil {
		return err
	}
	for _, i := range idx {
		if u := items[i].V.UserID; inserted[tuple{u}] {
			o.ok(i, u)
		} else {
			o.exists(i, orgMemberExists)
		}
	}
	return o.flush()
}
