package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step sets metadata of the org's users (ZITADEL's SetUserMetadata with the
// org as resource owner): the user must be in the org. A key that the user
// has already is an existing entity (ZITADEL would overwrite its value,
// which is onConflict OVERWRITE here: the value is updated in place).
func init() {
	register(&Step{Name: "user_metadata", Type: "user_metadata", Fields: []string{"userMetadata"}, Stage: StagePass1, Order: 15,
		Success: "userMetadata", SuccessKeys: []string{"userId", "key"}, Chunkable: true, apply: applyUserMetadata})
	// Success rows and errors use ZITADEL's id "userId_key".
}

const metadataExists = "ID=V3-DKcYh Message=Errors.Metadata.AlreadyExists"

func applyUserMetadata(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.UserMetadata
	o := newOutcomes(a, step, len(items))
	var users, keys []string
	for i, it := range items {
		m := it.V
		o.setID(i, m.ID+"_"+m.Key)
		if o.check(i, "userMetadata", it.Err, &m, "META-2m00f", "Errors.Metadata.Invalid") {
			users, keys = append(users, m.ID), append(keys, m.Key)
		}
	}
	if len(users) == 0 {
		return o.flush()
	}
	owners, err := a.owners(ctx, "users", distinctIDs(users))
	if err != nil {
		return err
	}
	existing, err := a.set(ctx, "look up user metadata", `SELECT user_id, key FROM user_metadata
		WHERE instance_id = $1 AND (user_id, key) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, users, keys)
	if err != nil {
		return err
	}
	var ins, upd metadataRows
	seen := map[tuple]bool{}
	for i, it := range items {
		m := it.V
		k := tuple{m.ID, m.Key}
		switch {
		case !o.open(i):
		case owners[m.ID] != a.orgID:
			o.fail(i, zerr("COMMAND-4M0fs", "Errors.User.NotFound", fmt.Sprintf("user %q does not exist in org %q", m.ID, a.orgID)))
		case seen[k] || existing[k] && !a.overwriting():
			o.exists(i, metadataExists)
		case existing[k]: // of a user of the org
			seen[k] = true
			upd.add(i, m)
		default:
			seen[k] = true
			ins.add(i, m)
		}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert user metadata", `INSERT INTO user_metadata (instance_id, user_id, key, value)
			SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::bytea[]) AS t(user_id, key, value)
			ON CONFLICT DO NOTHING RETURNING user_id, key`, a.job.InstanceID, ins.uid, ins.key, ins.value)
		if err != nil {
			return err
		}
		for j, i := range ins.idx {
			if uid, key := ins.uid[j], ins.key[j]; inserted[tuple{uid, key}] {
				o.ok(i, uid+"_"+key, uid, key)
			} else {
				o.exists(i, metadataExists) // set by a parallel unit meanwhile
			}
		}
	}
	if len(upd.idx) > 0 {
		updated, err := a.set(ctx, "update user metadata", `UPDATE user_metadata m SET value = t.value
			FROM unnest($2::text[], $3::text[], $4::bytea[]) AS t(user_id, key, value)
			WHERE m.instance_id = $1 AND m.user_id = t.user_id AND m.key = t.key RETURNING m.user_id, m.key`,
			a.job.InstanceID, upd.uid, upd.key, upd.value)
		if err != nil {
			return err
		}
		for j, i := range upd.idx {
			if uid, key := upd.uid[j], upd.key[j]; updated[tuple{uid, key}] {
				o.overwrote(i, uid+"_"+key, uid, key)
			} else {
				o.exists(i, metadataExists) // removed meanwhile
			}
		}
	}
	return o.flush()
}

// metadataRows are the columns of user metadata to insert or update.
type metadataRows struct {
	idx      []int
	uid, key []string
	value    [][]byte
}

func (r *metadataRows) add(i int, m importdata.SetUserMetadataRequest) {
	r.idx, r.uid, r.key, r.value = append(r.idx, i), append(r.uid, m.ID), append(r.key, m.Key), append(r.value, m.Value)
}
