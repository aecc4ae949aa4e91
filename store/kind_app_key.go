package store

import (
	"context"
	"fmt"
	"time"

	"github.com/zimport/zimport/importdata"
)

// step adds public keys to the org's applications that authenticate with
// PRIVATE_KEY_JWT, with their given ids (ZITADEL's AddApplicationKeyWithID).
// The key's clientId is stored as given. With onConflict OVERWRITE an
// existing key of an app of the org is updated in place (client id, type,
// public key, expiration); it stays with its app.
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
	// The existing keys: their app and its org.
	rows, err := a.textRows(ctx, "look up app keys", `SELECT k.id, k.app_id, coalesce(x.org_id, '') FROM app_keys k
			LEFT JOIN apps x ON x.instance_id = k.instance_id AND x.id = k.app_id
		WHERE k.instance_id = $1 AND k.id = ANY($2)`, a.job.InstanceID, ids)
	if err != nil {
		return err
	}
	keyApp, keyOrg := make(map[string]string, len(rows)), make(map[string]string, len(rows))
	for _, r := range rows {
		keyApp[r[0]], keyOrg[r[0]] = r[1], r[2]
	}
	rows, err = a.textRows(ctx, "look up apps", `SELECT id, project_id, org_id, auth_method_type FROM apps
		WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, distinctIDs(appIDs))
	if err != nil {
		return err
	}
	apps := make(map[string]appRow, len(rows))
	for _, r := range rows {
		apps[r[0]] = appRow{project: r[1], org: r[2], authMethod: r[3]}
	}
	now := time.Now()
	seen := map[string]bool{}
	var ins, upd appKeyRows
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
		keyAppID, exists := keyApp[k.ID]
		switch {
		case seen[k.ID]:
			o.exists(i, appKeyExists)
		case exists && (!a.overwriting() || keyOrg[k.ID] != a.orgID):
			o.exists(i, a.existsIn(appKeyExists, keyOrg[k.ID]))
		case !found || app.project != k.ProjectID || app.org != a.orgID:
			o.fail(i, zerr("COMMAND-sak24", "Errors.Project.App.NotFound",
				fmt.Sprintf("app %q does not exist in project %q of org %q", k.AppID, k.ProjectID, a.orgID)))
		case exists && keyAppID != k.AppID:
			o.exists(i, appKeyExists+fmt.Sprintf(" (key %q belongs to app %q; onConflict OVERWRITE does not move a key to another app)",
				k.ID, keyAppID))
		case app.authMethod != importdata.OIDCAuthMethodTypePrivateKeyJWT.String() &&
			app.authMethod != importdata.APIAuthMethodTypePrivateKeyJWT.String():
			o.fail(i, zerr("COMMAND-Dff54", "Errors.Project.App.AuthMethodNoPrivateKeyJWT",
				fmt.Sprintf("app %q authenticates with %s", k.AppID, app.authMethod)))
		case expires.Before(now):
			o.fail(i, zerr("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow",
				fmt.Sprintf("%s.expirationDate: %s is in the past", a.path("appKeys", i), expires.Format(time.RFC3339))))
		case exists:
			seen[k.ID] = true
			upd.add(i, k, expires)
		default:
			seen[k.ID] = true
			ins.add(i, k, expires)
		}
	}
	if len(ins.idx) > 0 {
		rows, err = a.textRows(ctx, "insert app keys", `INSERT INTO app_keys (instance_id, id, project_id, app_id, client_id,
				key_type, public_key, expires_at)
			SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::timestamptz[])
				AS t(id, project_id, app_id, client_id, key_type, public_key, expires_at)
			ON CONFLICT DO NOTHING RETURNING id`,
			a.job.InstanceID, ins.kid, ins.pid, ins.aid, ins.cid, ins.typ, ins.pub, ins.exp)
		if err != nil {
			return err
		}
		inserted := firstColumn(rows)
		for j, i := range ins.idx {
			if id := ins.kid[j]; inserted[id] {
				o.ok(i, id)
			} else {
				o.exists(i, appKeyExists) // added by a parallel unit meanwhile
			}
		}
	}
	if len(upd.idx) > 0 {
		// The key stays with its app, of the org; its creation time is kept.
		rows, err = a.textRows(ctx, "update app keys", `UPDATE app_keys k SET client_id = t.client_id, key_type = t.key_type,
				public_key = t.public_key, expires_at = t.expires_at
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::timestamptz[])
				AS t(id, project_id, app_id, client_id, key_type, public_key, expires_at)
			WHERE k.instance_id = $1 AND k.id = t.id AND k.app_id = t.app_id AND k.project_id = t.project_id
				AND EXISTS (SELECT 1 FROM apps x WHERE x.instance_id = $1 AND x.id = k.app_id AND x.org_id = $9)
			RETURNING k.id`,
			a.job.InstanceID, upd.kid, upd.pid, upd.aid, upd.cid, upd.typ, upd.pub, upd.exp, a.orgID)
		if err != nil {
			return err
		}
		a.settleUpdated(o, upd.idx, upd.kid, firstColumn(rows), appKeyExists)
	}
	return o.flush()
}

// appKeyRows are the columns of app_keys to insert or update.
type appKeyRows struct {
	idx                     []int
	kid, pid, aid, cid, typ []string
	pub                     [][]byte
	exp                     []time.Time
}

func (r *appKeyRows) add(i int, k importdata.DataAppKey, expires time.Time) {
	r.idx = append(r.idx, i)
	r.kid, r.pid, r.aid, r.cid, r.typ = append(r.kid, k.ID), append(r.pid, k.ProjectID), append(r.aid, k.AppID), append(r.cid, k.ClientID), append(r.typ, k.Type.String())
	r.pub, r.exp = append(r.pub, k.PublicKey), append(r.exp, expires)
}
