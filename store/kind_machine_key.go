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
// bytes given, for a faithful export.
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
	existing, err := a.existingIDs(ctx, "look up machine keys", "machine_keys", ids)
	if err != nil {
		return err
	}
	var idx []int
	var kid, uid, typ []string
	var der, pemBytes [][]byte
	var expires []time.Time
	for i, it := range items {
		k := it.V
		u := found[k.UserID]
		switch {
		case !o.open(i):
		case u.org != a.orgID:
			o.fail(i, zerr("COMMAND-bnipwm1", "Errors.User.NotFound", fmt.Sprintf("user %q does not exist in org %q", k.UserID, a.orgID)))
		case u.typ != "machine":
			o.fail(i, zerr("COMMAND-bnipwm1", "Errors.User.NotFound", fmt.Sprintf("user %q is not a machine user", k.UserID)))
		case existing[tuple{k.KeyID}]:
			o.exists(i, machineKeyExists)
		default:
			existing[tuple{k.KeyID}] = true
			block, _ := pem.Decode(k.PublicKey) // Validate parsed it
			exp := k.ExpirationDate.Time
			if exp.IsZero() {
				exp = noExpiration
			}
			idx = append(idx, i)
			kid, uid, typ = append(kid, k.KeyID), append(uid, k.UserID), append(typ, k.Type.String())
			der, pemBytes, expires = append(der, block.Bytes), append(pemBytes, k.PublicKey), append(expires, exp)
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	inserted, err := a.set(ctx, "insert machine keys", `INSERT INTO machine_keys (instance_id, id, user_id, key_type,
			public_key, public_key_pem, expires_at)
		SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::timestamptz[])
			AS t(id, user_id, key_type, der, pem, expires_at)
		ON CONFLICT DO NOTHING RETURNING id`, a.job.InstanceID, kid, uid, typ, der, pemBytes, expires)
	if err != nil {
		return err
	}
	for _, i := range idx {
		if id := items[i].V.KeyID; inserted[tuple{id}] {
			o.ok(i, id)
		} else {
			o.exists(i, machineKeyExists) // added by a parallel unit meanwhile
		}
	}
	return o.flush()
}
