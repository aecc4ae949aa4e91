package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step links users of the org to IdPs of the org (ZITADEL's AddUserIDPLink):
// providedUserId is the external user id, providedUserName the display
// name. An external user of an IdP is linked to one user of the instance.
// With onConflict OVERWRITE, a link of the same user is updated in place
// (display name, IdP name and type); a link is never moved to another user.
func init() {
	register(&Step{Name: "user_links", Type: "user_link", Fields: []string{"userLinks"}, Stage: StagePass1, Order: 17,
		Success: "userLinks", SuccessKeys: []string{"userId", "externalUserId", "displayName", "idpId"}, Chunkable: true,
		apply: applyUserLinks})
	// Success rows and errors use ZITADEL's id "userId_idpId".
}

const linkExists = "ID=V3-DKcYh Message=Errors.User.ExternalIDP.AlreadyExists"

// linkTaken is the error of a link whose external user another user has.
func linkTaken(path, externalID, idpID, userID string) string {
	return zerr("V3-DKcYh", "Errors.User.ExternalIDP.AlreadyExists",
		fmt.Sprintf("%sexternal user %q of IdP %q is linked to user %q", path, externalID, idpID, userID))
}

// idpMissing is the error of a link to an IdP that the org does not have.
func idpMissing(path, idpID, orgID string) string {
	return zerr("COMMAND-39nfs", "Errors.IDPConfig.NotExisting", fmt.Sprintf("%sIdP %q does not exist in org %q", path, idpID, orgID))
}

func applyUserLinks(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.UserLinks
	o := newOutcomes(a, step, len(items))
	var users, idps, externals []string
	for i, it := range items {
		l := it.V
		o.setID(i, l.UserID+"_"+l.IDPID)
		if o.check(i, "userLinks", it.Err, &l, "COMMAND-6m9Kd", "Errors.User.ExternalIDP.Invalid") {
			users, idps, externals = append(users, l.UserID), append(idps, l.IDPID), append(externals, l.ProvidedUserID)
		}
	}
	if len(users) == 0 {
		return o.flush()
	}
	userOwners, err := a.owners(ctx, "users", distinctIDs(users))
	if err != nil {
		return err
	}
	orgIDPs, err := a.orgIDPs(ctx, idps)
	if err != nil {
		return err
	}
	linked, err := a.linkedUsers(ctx, idps, externals)
	if err != nil {
		return err
	}
	var ins, upd linkRows
	seen := map[tuple]bool{}
	for i, it := range items {
		l := it.V
		k := tuple{l.IDPID, l.ProvidedUserID}
		switch {
		case !o.open(i):
		case userOwners[l.UserID] != a.orgID:
			o.fail(i, zerr("COMMAND-vzktar7b7f", "Errors.User.NotFound", fmt.Sprintf("user %q does not exist in org %q", l.UserID, a.orgID)))
		case !orgIDPs[l.IDPID]:
			o.fail(i, idpMissing("", l.IDPID, a.orgID))
		case linked[k] == l.UserID && (seen[k] || !a.overwriting()):
			o.exists(i, linkExists)
		case linked[k] != "" && linked[k] != l.UserID:
			o.fail(i, linkTaken("", l.ProvidedUserID, l.IDPID, linked[k]))
		case linked[k] == l.UserID:
			seen[k] = true
			upd.add(i, l)
		default:
			seen[k], linked[k] = true, l.UserID
			ins.add(i, l)
		}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert user links", `INSERT INTO user_links (instance_id, source, user_id, idp_id,
				external_user_id, display_name, idp_name, idp_type)
			SELECT $1, 'user_link', t.user_id, t.idp_id, t.external_id, t.display_name, NULLIF(t.idp_name, ''), t.idp_type
			FROM unnest(`+linkColumns+`)
			ON CONFLICT DO NOTHING RETURNING idp_id, external_user_id`, ins.args(a)...)
		if err != nil {
			return err
		}
		ins.settle(o, inserted, o.ok) // not inserted: linked by a parallel unit meanwhile
	}
	if len(upd.idx) > 0 {
		// The link keeps its source: one from a user's user.idps stays there.
		updated, err := a.set(ctx, "update user links", `UPDATE user_links l SET display_name = t.display_name,
				idp_name = NULLIF(t.idp_name, ''), idp_type = t.idp_type
			FROM unnest(`+linkColumns+`)
			WHERE l.instance_id = $1 AND l.idp_id = t.idp_id AND l.external_user_id = t.external_id AND l.user_id = t.user_id
			RETURNING l.idp_id, l.external_user_id`, upd.args(a)...)
		if err != nil {
			return err
		}
		upd.settle(o, updated, o.overwrote) // not updated: removed meanwhile
	}
	return o.flush()
}

// linkColumns are the unnest parameters of linkRows.args, $2 to $7.
const linkColumns = `$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
				AS t(user_id, idp_id, external_id, display_name, idp_name, idp_type`

// linkRows are the columns of user links to insert or update.
type linkRows struct {
	idx                                      []int
	uid, idp, ext, display, idpName, idpType []string
}

func (r *linkRows) add(i int, l importdata.IDPUserLink) {
	r.idx = append(r.idx, i)
	r.uid, r.idp, r.ext, r.display = append(r.uid, l.UserID), append(r.idp, l.IDPID), append(r.ext, l.ProvidedUserID), append(r.display, l.ProvidedUserName)
	r.idpName, r.idpType = append(r.idpName, l.IDPName), append(r.idpType, l.IDPType.String())
}

// args are the parameters $1 to $7 of the insert and the update.
func (r *linkRows) args(a *applier) []any {
	return []any{a.job.InstanceID, r.uid, r.idp, r.ext, r.display, r.idpName, r.idpType}
}

// settle records the links that a statement wrote (keys (IdP id, external
// user id)) with record, ok or overwrote, and the others as existing.
func (r *linkRows) settle(o *outcomes, written map[tuple]bool, record func(i int, okID string, f ...string)) {
	for j, i := range r.idx {
		if written[tuple{r.idp[j], r.ext[j]}] {
			record(i, r.uid[j]+"_"+r.idp[j], r.uid[j], r.ext[j], r.display[j], r.idp[j])
		} else {
			o.exists(i, linkExists)
		}
	}
}

// orgIDPs returns which of ids are IdPs of the unit's org.
func (a *applier) orgIDPs(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := a.textRows(ctx, "look up IdPs", `SELECT id FROM idps WHERE instance_id = $1 AND org_id = $2 AND id = ANY($3)`,
		a.job.InstanceID, a.orgID, distinctIDs(ids))
	for _, r := range rows {
		out[r[0]] = true
	}
	return out, err
}

// linkedUsers returns the user linked to each (IdP id, external user id)
// pair of idps and externals that is linked.
func (a *applier) linkedUsers(ctx context.Context, idps, externals []string) (map[tuple]string, error) {
	out := map[tuple]string{}
	if len(idps) == 0 {
		return out, nil
	}
	rows, err := a.textRows(ctx, "look up user links", `SELECT idp_id, external_user_id, user_id FROM user_links
		WHERE instance_id = $1 AND (idp_id, external_user_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, idps, externals)
	for _, r := range rows {
		out[tuple{r[0], r[1]}] = r[2]
	}
	return out, err
}
