package store

import (
	"context"
	"fmt"
	"time"

	"github.com/zimport/zimport/importdata"
)

// step adds public keys to the org's applications that authenticate with
// PRIVATE_KEY_JWT, with their given ids (ZITADEL's AddApplicationKeyWithID).
// The key's clientId is stored as given.
func init() {
	register(&Step{Name: "app_keys", Type: "app_key", Fields: []string{"appKeys"}, Stage: StagePass1, Order: 21,
		Success: "appKeys", Chunkable: true, apply: applyAppKeys})
}

const appKeyExists = "ID=COMMAND-so20alo Message=Errors.Project.App.Key.AlreadyExisting"

// keyNeverExpires is the expiration of a key without one (domain.defaultExpDate).
var keyNeverExpires = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)

// appRow is what app_keys need of an app.
type appRow struct {
	project, org, authMethod string
}

func applyAppKeys(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.AppKeys
	o := newOutcomes(a, step, len(items))
	var ids, appIDs []string
	for i, it := range items {
		k := it.V
		o.setID(i, k.ID)
		if o.check(i, "appKeys", it.Err, &k, "COMMAND-55m9fs", "Errors.Project.App.Key.Invalid") {
			ids, appIDs = append(ids, k.ID), append(appIDs, k.AppID)
		}
	}
	if len(ids) == 0 {
		return o.flush()
	}
	taken, err := a.existingIDs(ctx, "look up app keys", "app_keys", ids)
	if err != nil {
		return err
	}
	rows, err := a.textRows(ctx, "look up apps", `SELECT id, project_id, org_id, auth_method_type FROM apps
		WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, distinctIDs(appIDs))
	if err != nil {
		return err
	}
	apps := make(map[string]appRow, len(rows))
	for _, r := range rows {
		apps[r[0]] = appRow{project: r[1], org: r[2], authMethod: r[3]}
	}
	now := time.Now()
	var idx []int
	var kid, pid, aid, cid, typ []string
	var pub [][]byte
	var exp []time.Time
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		k := it.V
		app, found := apps[k.AppID]
		expires := k.ExpirationDate.Time
		if expires.IsZero() {
			expires = keyNeverExpires
		}
		switch {
		case taken[tuple{k.ID}]:
			o.exists(i, appKeyExists)
		case !found || app.project != k.ProjectID || app.org != a.orgID:
			o.fail(i, zerr("COMMAND-sak24", "Errors.Project.App.NotFound",
				fmt.Sprintf("app %q does not exist in project %q of org %q", k.AppID, k.ProjectID, a.orgID)))
		case app.authMethod != importdata.OIDCAuthMethodTypePrivateKeyJWT.String() &&
			app.authMethod != importdata.APIAuthMethodTypePrivateKeyJWT.String():
			o.fail(i, zerr("COMMAND-Dff54", "Errors.Project.App.AuthMethodNoPrivateKeyJWT",
				fmt.Sprintf("app %q authenticates with %s", k.AppID, app.authMethod)))
		case expires.Before(now):
			o.fail(i, zerr("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow",
				fmt.Sprintf("%s.expirationDate: %s is in the past", a.path("appKeys", i), expires.Format(time.RFC3339))))
		default:
			taken[tuple{k.ID}] = true
			idx = append(idx, i)
			kid, pid, aid, cid, typ = append(kid, k.ID), append(pid, k.ProjectID), append(aid, k.AppID), append(cid, k.ClientID), append(typ, k.Type.String())
			pub, exp = append(pub, k.PublicKey), append(exp, expires)
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	rows, err = a.textRows(ctx, "insert app keys", `INSERT INTO app_keys (instance_id, id, project_id, app_id, client_id,
			key_type, public_key, expires_at)
		SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::timestamptz[])
			AS t(id, project_id, app_id, client_id, key_type, public_key, expires_at)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, kid, pid, aid, cid, typ, pub, exp)
	if err != nil {
		return err
	}
	inserted := firstColumn(rows)
	for _, i := range idx {
		if id := items[i].V.ID; inserted[id] {
			o.ok(i, id)
		} else {
			o.exists(i, appKeyExists) // added by a parallel unit meanwhile
		}
	}
	return o.flush()
}
