package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step sets metadata of the org's users (ZITADEL's SetUserMetadata with the
// org as resource owner): the user must be in the org. A key that the user
// has already is an existing entity (ZITADEL would overwrite its value,
// which is onConflict OVERWRITE here).
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
	var idx []int
	var uid, key []string
	var value [][]byte
	for i, it := range items {
		m := it.V
		k := tuple{m.ID, m.Key}
		switch {
		case !o.open(i):
		case owners[m.ID] != a.orgID:
			o.fail(i, zerr("COMMAND-4M0fs", "Errors.User.NotFound", fmt.Sprintf("user %q does not exist in org %q", m.ID, a.orgID)))
		case existing[k]:
			o.exists(i, metadataExists)
		default:
			existing[k] = true
			idx = append(idx, i)
			uid, key, value = append(uid, m.ID), append(key, m.Key), append(value, m.Value)
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	inserted, err := a.set(ctx, "insert user metadata", `INSERT INTO user_metadata (instance_id, user_id, key, value)
		SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::bytea[]) AS t(user_id, key, value)
		ON CONFLICT DO NOTHING RETURNING user_id, key`, a.job.InstanceID, uid, key, value)
	if err != nil {
		return err
	}
	for _, i := range idx {
		m := items[i].V
		if inserted[tuple{m.ID, m.Key}] {
			o.ok(i, m.ID+"_"+m.Key, m.ID, m.Key)
		} else {
			o.exists(i, metadataExists) // set by a parallel unit meanwhile
		}
	}
	return o.flush()
}
