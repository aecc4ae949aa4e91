package store

import (
	"context"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/zimport/zimport/importdata"
)

// step adds public keys of the org's machine users with their given ids
// (ZITADEL's AddUserMachineKey). Only the public key is known: the key is
// stored as DER, like the keys instance creation makes, and as the PEM
// bytes given, for a faithful export. With onConflict OVERWRITE, a key of
// the same machine user of the imported org is updated in place (type,
// public key, expiration); a key is never moved to another user.
func init() {
	register(&Step{Name: "machine_keys", Type: "machine_user_key", Fields: []string{"machineKeys"}, Stage: StagePass1, Order: 16,
		Success: "machineKeys", Chunkable: true, apply: applyMachineKeys})
}

const machineKeyExists = "ID=COMMAND-091mops Message=Errors.User.Machine.Key.AlreadyExists"

// noExpiration is the expiration of a key without one, as ZITADEL sets it.
var noExpiration = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)

func applyMachineKeys(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.MachineKeys
	o := newOutcomes(a, step, len(items))
	now := time.Now()
	var ids, users []string
	for i, it := range items {
		k := it.V
		o.setID(i, k.KeyID)
		if !o.check(i, "machineKeys", it.Err, &k, "COMMAND-5F3h1", "Errors.User.Machine.Key.Invalid") {
			continue
		}
		if exp := k.ExpirationDate.Time; !exp.IsZero() && exp.Before(now) {
			o.fail(i, zerr("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow", fmt.Sprintf("%s.expirationDate: %s is in the past",
				a.path("machineKeys", i), exp.Format(time.RFC3339Nano))))
			continue
		}
		ids, users = append(ids, k.KeyID), append(users, k.UserID)
	}
	if len(ids) == 0 {
		return o.flush()
	}
	rows, err := a.textRows(ctx, "look up machine key users", `SELECT id, org_id, type FROM users
		WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, distinctIDs(users))
	if err != nil {
		return err
	}
	type user struct{ org, typ string }
	found := make(map[string]user, len(rows))
	for _, r := range rows {
		found[r[0]] = user{r[1], r[2]}
	}
	// A key's org is its user's.
	rows, err = a.textRows(ctx, "look up machine keys", `SELECT k.id, k.user_id, u.org_id FROM machine_keys k
		JOIN users u ON u.instance_id = k.instance_id AND u.id = k.user_id
		WHERE k.instance_id = $1 AND k.id = ANY($2)`, a.job.InstanceID, ids)
	if err != nil {
		return err
	}
	type key struct{ user, org string }
	existing := make(map[string]key, len(rows))
	for _, r := range rows {
		existing[r[0]] = key{r[1], r[2]}
	}
	var ins, upd machineKeyRows
	seen := map[string]bool{}
	for i, it := range items {
		k := it.V
		u, ex := found[k.UserID], existing[k.KeyID]
		switch {
		case !o.open(i):
		case u.org != a.orgID:
			o.fail(i, zerr("COMMAND-bnipwm1", "Errors.User.NotFound", fmt.Sprintf("user %q does not exist in org %q", k.UserID, a.orgID)))
		case u.typ != "machine":
			o.fail(i, zerr("COMMAND-bnipwm1", "Errors.User.NotFound", fmt.Sprintf("user %q is not a machine user", k.UserID)))
		case seen[k.KeyID]:
			o.exists(i, machineKeyExists)
		case ex.org != "" && (!a.overwriting() || ex.org != a.orgID):
			o.exists(i, a.existsIn(machineKeyExists, ex.org))
		case ex.org != "" && ex.user != k.UserID:
			o.exists(i, machineKeyExists+fmt.Sprintf(" (it is a key of user %q; onConflict OVERWRITE does not move a key to another user)", ex.user))
		case ex.org != "":
			seen[k.KeyID] = true
			upd.add(i, k)
		default:
			seen[k.KeyID] = true
			ins.add(i, k)
		}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert machine keys", `INSERT INTO machine_keys (instance_id, id, user_id, key_type,
				public_key, public_key_pem, expires_at)
			SELECT $1, t.* FROM unnest(`+machineKeyColumns+`)
			ON CONFLICT DO NOTHING RETURNING id`, ins.args(a)...)
		if err != nil {
			return err
		}
		for j, i := range ins.idx {
			if id := ins.kid[j]; inserted[tuple{id}] {
				o.ok(i, id)
			} else {
				o.exists(i, machineKeyExists) // added by a parallel unit meanwhile
			}
		}
	}
	if len(upd.idx) > 0 {
		rows, err := a.textRows(ctx, "update machine keys", `UPDATE machine_keys k SET key_type = t.key_type,
				public_key = t.der, public_key_pem = t.pem, expires_at = t.expires_at
			FROM unnest(`+machineKeyColumns+`)
			WHERE k.instance_id = $1 AND k.id = t.id AND k.user_id = t.user_id RETURNING k.id`, upd.args(a)...)
		if err != nil {
			return err
		}
		a.settleUpdated(o, upd.idx, upd.kid, firstColumn(rows), machineKeyExists)
	}
	return o.flush()
}

// machineKeyColumns are the unnest parameters of machineKeyRows.args, $2 to $7.
const machineKeyColumns = `$2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::timestamptz[])
				AS t(id, user_id, key_type, der, pem, expires_at`

// machineKeyRows are the columns of machine keys to insert or update.
type machineKeyRows struct {
	idx           []int
	kid, uid, typ []string
	der, pem      [][]byte
	expires       []time.Time
}

func (r *machineKeyRows) add(i int, k importdata.DataMachineKey) {
	block, _ := pem.Decode(k.PublicKey) // Validate parsed it
	exp := k.ExpirationDate.Time
	if exp.IsZero() {
		exp = noExpiration
	}
	r.idx = append(r.idx, i)
	r.kid, r.uid, r.typ = append(r.kid, k.KeyID), append(r.uid, k.UserID), append(r.typ, k.Type.String())
	r.der, r.pem, r.expires = append(r.der, block.Bytes), append(r.pem, k.PublicKey), append(r.expires, exp)
}

// args are the parameters $1 to $7 of the insert and the update.
func (r *machineKeyRows) args(a *applier) []any {
	return []any{a.job.InstanceID, r.kid, r.uid, r.typ, r.der, r.pem, r.expires}
}
