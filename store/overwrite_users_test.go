package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/zimport/zimport/importdata"
)

// The tests of onConflict OVERWRITE for IdPs, users, metadata, machine keys
// and user links: an entity of another org or type, the same key twice in
// one file and a unique name that another entity has stay errors; the rest
// is updated in place.

func TestApplyUnit_OverwriteUsersKinds(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	keys, der := testPublicKeys(t)
	oidc := func(id, name, clientID string) string {
		return fmt.Sprintf(`{"idpId": %q, "idp": {"name": %q, "clientId": %q, "clientSecret": "s", "issuer": "https://i"}}`,
			id, name, clientID)
	}
	jwt := func(id, name string) string {
		return fmt.Sprintf(`{"idpId": %q, "idp": {"name": %q, "jwtEndpoint": "e", "issuer": "i", "keysEndpoint": "k", "headerName": "h"}}`,
			id, name)
	}
	machine := func(id, userName, name string) string {
		return fmt.Sprintf(`{"userId": %q, "user": {"userName": %q, "name": %q}}`, id, userName, name)
	}
	key := func(id, user, key string) string {
		return fmt.Sprintf(`{"keyId": %q, "userId": %q, "publicKey": %q}`, id, user, key)
	}
	// Without a domain policy, user names are unique in the instance.
	kindsImport(t, s, usersStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o2", "org": {"name": "Org Two"},
	 "oidcIdps": [`+oidc("idp9", "Nine", "c")+`],
	 "humanUsers": [`+humanJSON("u9", "gina", "")+`],
	 "machineUsers": [`+machine("m9", "robot9", "R9")+`],
	 "userMetadata": [{"id": "u9", "key": "k", "value": "AQ=="}],
	 "machineKeys": [`+key("k9", "m9", keys[0])+`],
	 "userLinks": [{"userId": "u9", "idpId": "idp9", "providedUserId": "e9"}]},
	{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcIdps": [`+oidc("idp1", "One", "c")+`, `+oidc("idp2", "Two", "c")+`],
	 "jwtIdps": [`+jwt("jwt1", "J")+`],
	 "humanUsers": [`+humanJSON("h1", "alice", `"otpCode": "`+otpSecret+`",
		"idps": [{"configId": "idp1", "externalUserId": "e1"}, {"configId": "idp1", "externalUserId": "e3"}]`)+`,
		`+humanJSON("h2", "bob", "")+`],
	 "machineUsers": [`+machine("m1", "robot", "R")+`, `+machine("m2", "robot2", "R2")+`],
	 "userMetadata": [{"id": "h1", "key": "k", "value": "AQ=="}],
	 "machineKeys": [`+key("k1", "m1", keys[1])+`, `+key("k2", "m2", keys[1])+`],
	 "userLinks": [{"userId": "m1", "idpId": "jwt1", "providedUserId": "e2"}]}
	]}`)
	o2Rows := []kindsRowCheck{
		{`SELECT id, name, client_id FROM idps WHERE org_id = 'o2'`, [][]string{{"idp9", "Nine", "c"}}},
		{`SELECT id, type, username FROM users WHERE org_id = 'o2' ORDER BY id`, [][]string{{"m9", "machine", "robot9"}, {"u9", "human", "gina"}}},
		{`SELECT user_id, key, encode(value, 'hex') FROM user_metadata WHERE user_id = 'u9'`, [][]string{{"u9", "k", "01"}}},
		{`SELECT id, user_id FROM machine_keys WHERE id = 'k9'`, [][]string{{"k9", "m9"}}},
	}
	checkKindsRows(t, s, o2Rows)

	const otp2 = "KRSXG5CTMVRXEZLU"
	r := kindsImport(t, s, usersStages, importdata.OnConflictOverwrite, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcIdps": [`+oidc("idp1", "One", "c2")+`, `+oidc("idp1", "Again", "c3")+`, `+oidc("idp2", "One", "c2")+`,
		`+oidc("idp9", "Nine", "c2")+`],
	 "jwtIdps": [`+jwt("idp2", "X")+`, `+jwt("jwt1", "Two")+`],
	 "humanUsers": [
		{"userId": "h1", "state": "USER_STATE_INACTIVE", "user": {"userName": "alice", "profile": {"firstName": "Alicia", "lastName": "L"},
			"email": {"email": "alicia@x.example"}, "otpCode": "`+otp2+`",
			"idps": [{"configId": "idp1", "externalUserId": "e1", "displayName": "E One"}]}},
		`+humanJSON("h1", "alice", `"otpCode": "`+otp2+`"`)+`,
		`+humanJSON("h2", "ALICE", "")+`,
		`+humanJSON("u9", "gina", "")+`,
		`+humanJSON("m1", "robot", "")+`],
	 "machineUsers": [`+machine("m1", "robot", "R One")+`, `+machine("m1", "robot", "R Again")+`, `+machine("m2", "Gina", "R2")+`,
		`+machine("m9", "robot9", "R9")+`],
	 "userMetadata": [{"id": "h1", "key": "k", "value": "Ag=="}, {"id": "h1", "key": "k", "value": "Aw=="},
		{"id": "u9", "key": "k", "value": "Ag=="}],
	 "machineKeys": [`+key("k1", "m1", keys[2])+`, `+key("k1", "m1", keys[0])+`, `+key("k2", "m1", keys[2])+`,
		`+key("k9", "m1", keys[2])+`],
	 "userLinks": [{"userId": "m1", "idpId": "jwt1", "providedUserId": "e2", "providedUserName": "R"},
		{"userId": "m1", "idpId": "jwt1", "providedUserId": "e2"},
		{"userId": "h1", "idpId": "jwt1", "providedUserId": "e2"},
		{"userId": "u9", "idpId": "idp9", "providedUserId": "e9"}]}]}`)

	over := func(step string, item int, typ, id string, f ...string) kindsResult {
		return kindsResult{Step: step, Item: item, Outcome: outcomeOverwritten, Type: typ, ID: id, F: f}
	}
	const otherOrg = `(it belongs to org "o2"; onConflict OVERWRITE updates only entities of the imported org)`
	checkResults(t, []kindsResult{
		over("oidc_idps", 0, "oidc_idp", "idp1"),
		resFailed(0, "oidc_idps", 1, "oidc_idp", "idp1", idpExists),
		resFailed(0, "oidc_idps", 2, "oidc_idp", "idp2", `(org "o1" has an IdP named "One")`),
		resFailed(0, "oidc_idps", 3, "oidc_idp", "idp9", idpExists+" "+otherOrg),
		resFailed(0, "jwt_idps", 0, "jwt_idp", "idp2", idpExists+" (it is an OIDC IdP; onConflict OVERWRITE does not change the kind of an IdP)"),
		resFailed(0, "jwt_idps", 1, "jwt_idp", "jwt1", `(org "o1" has an IdP named "Two")`),
		over("human_users", 0, "human_user", "h1"),
		resFailed(0, "human_users", 1, "human_user", "h1", humanExists),
		{Step: "human_users", Item: 1, Sub: 1, Outcome: "error", Type: "human_user_otp", ID: "h1", Msg: otpReady},
		resFailed(0, "human_users", 2, "human_user", "h2", `(user name "ALICE" is taken)`),
		resFailed(0, "human_users", 3, "human_user", "u9", humanExists+" "+otherOrg),
		resFailed(0, "human_users", 4, "human_user", "m1",
			humanExists+" (it is a machine user; onConflict OVERWRITE does not change the type of a user)"),
		over("machine_users", 0, "machine_user", "m1"),
		resFailed(0, "machine_users", 1, "machine_user", "m1", machineExists),
		resFailed(0, "machine_users", 2, "machine_user", "m2", `(user name "Gina" is taken)`),
		resFailed(0, "machine_users", 3, "machine_user", "m9", machineExists+" "+otherOrg),
		over("user_metadata", 0, "user_metadata", "h1_k", "h1", "k"),
		resFailed(0, "user_metadata", 1, "user_metadata", "h1_k", metadataExists),
		resFailed(0, "user_metadata", 2, "user_metadata", "u9_k", `(user "u9" does not exist in org "o1")`),
		over("machine_keys", 0, "machine_user_key", "k1"),
		resFailed(0, "machine_keys", 1, "machine_user_key", "k1", machineKeyExists),
		resFailed(0, "machine_keys", 2, "machine_user_key", "k2",
			machineKeyExists+` (it is a key of user "m2"; onConflict OVERWRITE does not move a key to another user)`),
		resFailed(0, "machine_keys", 3, "machine_user_key", "k9", machineKeyExists+" "+otherOrg),
		over("user_links", 0, "user_link", "m1_jwt1", "m1", "e2", "R", "jwt1"),
		resFailed(0, "user_links", 1, "user_link", "m1_jwt1", linkExists),
		resFailed(0, "user_links", 2, "user_link", "h1_jwt1", `(external user "e2" of IdP "jwt1" is linked to user "m1")`),
		resFailed(0, "user_links", 3, "user_link", "u9_idp9", `(user "u9" does not exist in org "o1")`),
	}, kindsResults(t, s, r.job.ID))

	checkKindsRows(t, s, append(o2Rows, []kindsRowCheck{
		{`SELECT id, kind, name, coalesce(client_id, '') FROM idps WHERE org_id = 'o1' ORDER BY id`, [][]string{
			{"idp1", "oidc", "One", "c2"}, {"idp2", "oidc", "Two", "c"}, {"jwt1", "jwt", "J", ""}}},
		{`SELECT id, type, username, state, display_name, email, coalesce(name, '') FROM users WHERE org_id = 'o1' ORDER BY id`, [][]string{
			{"h1", "human", "alice", "USER_STATE_INACTIVE", "Alicia L", "alicia@x.example", ""},
			{"h2", "human", "bob", "USER_STATE_ACTIVE", "F L", "bob@x.example", ""},
			{"m1", "machine", "robot", "USER_STATE_ACTIVE", "<nil>", "<nil>", "R One"},
			{"m2", "machine", "robot2", "USER_STATE_ACTIVE", "<nil>", "<nil>", "R2"}}},
		{`SELECT user_id, key, encode(value, 'hex') FROM user_metadata WHERE user_id = 'h1'`, [][]string{{"h1", "k", "02"}}},
		{`SELECT id, user_id, encode(public_key, 'hex') FROM machine_keys WHERE id IN ('k1', 'k2') ORDER BY id`, [][]string{
			{"k1", "m1", hex.EncodeToString(der[2])}, {"k2", "m2", hex.EncodeToString(der[1])}}},
		// h1's user.idps are replaced: e3 is gone; m1's link keeps its source.
		{`SELECT idp_id, external_user_id, user_id, display_name, source FROM user_links ORDER BY 1, 2`, [][]string{
			{"idp1", "e1", "h1", "E One", "human_user"},
			{"idp9", "e9", "u9", "", "user_link"},
			{"jwt1", "e2", "m1", "R", "user_link"}}},
	}...))

	// h1's TOTP secret is replaced.
	var sealed []byte
	if err := s.pool.QueryRow(context.Background(), `SELECT secret_sealed FROM user_otp WHERE user_id = 'h1'`).Scan(&sealed); err != nil {
		t.Fatalf("read OTP: %v", err)
	}
	if got, err := testBox.Open(sealed); err != nil || string(got) != otp2 {
		t.Errorf("h1's OTP secret: got %q, %v; want %q", got, err, otp2)
	}
}

// TestApplyUnit_OverwriteUsersKindsOtherOutcomes checks what OVERWRITE does
// besides updating users: a user without a TOTP secret gets one, a user that
// asks for passwordless registration gets a new code (an "ok" result), and
// a user given without a password keeps the one it has.
func TestApplyUnit_OverwriteUsersKindsOtherOutcomes(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	kindsImport(t, s, usersStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "humanUsers": [`+humanJSON("h1", "alice", `"password": "Secret1!x", "requestPasswordlessRegistration": true`)+`]}]}`)
	r := kindsImport(t, s, usersStages, importdata.OnConflictOverwrite, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "humanUsers": [`+humanJSON("h1", "alice", `"otpCode": "`+otpSecret+`", "requestPasswordlessRegistration": true`)+`]}]}`)
	got := kindsResults(t, s, r.job.ID)
	if len(got) == 2 && got[1].Step == "passwordless_links" && got[1].Outcome == "ok" && len(got[1].F) == 3 && got[1].F[0] == "h1" {
		got[1].F = nil // the link and its expiration vary
	}
	checkResults(t, []kindsResult{
		{Step: "human_users", Outcome: outcomeOverwritten, Type: "human_user", ID: "h1"},
		{Step: "passwordless_links", Outcome: "ok", Type: "human_user", ID: "h1"},
	}, got)
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT user_id, count(*) FROM passwordless_codes GROUP BY 1`, [][]string{{"h1", "2"}}},
		{`SELECT user_id FROM user_otp`, [][]string{{"h1"}}},
		{`SELECT id, password_hash LIKE '$2a$%' FROM users`, [][]string{{"h1", "true"}}},
	})
}
