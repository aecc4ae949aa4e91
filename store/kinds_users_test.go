package store

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/importdata"
)

// The tests of the IdP and user kinds (IdPs, human users' links, OTP and
// passwordless registration, metadata, machine keys, user links).

// usersStages are the steps these tests run: pass 1's, in import order.
var usersStages = []kindsStage{{StagePass1, []string{"org", "oidc_idps", "jwt_idps", "human_users", "machine_users",
	"user_metadata", "machine_keys", "user_links", "unsupported"}}}

// testPublicKeys returns PEM-encoded public keys: RSA (with the header
// ZITADEL writes), ECDSA and Ed25519, base64 for JSON, and their DER.
func testPublicKeys(t testing.TB) (b64 []string, der [][]byte) {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for i, pub := range []any{&rsaKey.PublicKey, &ecKey.PublicKey, edPub} {
		d, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		typ := "PUBLIC KEY"
		if i == 0 {
			typ = "RSA PUBLIC KEY"
		}
		der = append(der, d)
		b64 = append(b64, base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})))
	}
	return b64, der
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// humanJSON is a valid human user; extra are more members of its user.
func humanJSON(id, name, extra string) string {
	if extra != "" {
		extra = ", " + extra
	}
	return fmt.Sprintf(`{"userId": %q, "user": {"userName": %q, "profile": {"firstName": "F", "lastName": "L"},
		"email": {"email": "%s@x.example"}%s}}`, id, name, name, extra)
}

const (
	argon2Hash = "$argon2id$v=19$m=4096,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$DYojYpnUWSMmTtrkVXyaNWVGxLmGe1n8VJBPDdFkbjU"
	otpSecret  = "JBSWY3DPEHPK3PXP"
)

// passwordlessLink matches a link and captures its code id and code.
var passwordlessLink = regexp.MustCompile(`^https://inst1\.zimport\.localhost/ui/login/login/passwordless/init\?userID=h1&orgID=o1&codeID=(\d{18})&code=([A-Z2-7]{26})$`)

func TestApplyUnit_UsersKindsSuccess(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO instance_domains (domain, instance_id, is_primary, generated) VALUES
		('inst1-abc.zimport.localhost', 'inst1', false, true), ('inst1.zimport.localhost', 'inst1', true, false)`); err != nil {
		t.Fatal(err)
	}
	keys, der := testPublicKeys(t)
	r := kindsImport(t, s, usersStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcIdps": [
		{"idpId": "idp1", "idp": {"name": "Google", "stylingType": "STYLING_TYPE_GOOGLE", "clientId": "client-1",
			"clientSecret": "s3cret-client", "issuer": "https://accounts.google.com", "scopes": ["openid", "email", "openid"],
			"displayNameMapping": "OIDC_MAPPING_FIELD_EMAIL", "usernameMapping": 1, "autoRegister": true}},
		{"idpId": "idp2", "idp": {"name": "Plain", "clientId": "c2", "clientSecret": "second-secret", "issuer": "https://idp.example"}}],
	 "jwtIdps": [{"idpId": "jwt1", "idp": {"name": "JWT", "jwtEndpoint": "https://jwt.example/token", "issuer": "https://jwt.example",
		"keysEndpoint": "https://jwt.example/keys", "headerName": "x-auth", "autoRegister": true}}],
	 "humanUsers": [
		{"userId": "h1", "state": "USER_STATE_INACTIVE", "user": {"userName": "alice", "profile": {"firstName": "Alice", "lastName": "Able"},
			"email": {"email": "alice@x.example", "isEmailVerified": true}, "hashedPassword": {"value": "`+argon2Hash+`"},
			"otpCode": "`+otpSecret+`", "requestPasswordlessRegistration": true,
			"idps": [{"configId": "idp1", "externalUserId": "g-alice", "displayName": "Alice G"}, {"configId": "jwt1", "externalUserId": "j-alice"}]}},
		`+humanJSON("h2", "bob", `"password": "Secret1!"`)+`,
		{"userId": "h3", "state": "USER_STATE_LOCKED", "user": {"userName": "carol", "profile": {"firstName": "C", "lastName": "C"},
			"email": {"email": "carol@x.example"}, "otpCode": "jbswy3dpehpk3pxp===="}}],
	 "machineUsers": [{"userId": "m1", "state": 2, "user": {"userName": "robot", "name": "Robot", "description": "does things",
		"accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}}],
	 "userMetadata": [{"id": "h1", "key": "color", "value": "cmVk"}, {"id": "m1", "key": "bin", "value": "AAEC/w"},
		{"id": "h1", "key": "url-safe", "value": "-_8="}],
	 "machineKeys": [
		{"keyId": "k1", "userId": "m1", "type": "KEY_TYPE_JSON", "expirationDate": "2099-01-02T03:04:05Z", "publicKey": "`+keys[0]+`"},
		{"keyId": "k2", "userId": "m1", "type": 1, "publicKey": "`+keys[1]+`"},
		{"keyId": "k3", "userId": "m1", "expirationDate": "2099-01-02T04:04:05+01:00", "publicKey": "`+keys[2]+`"}],
	 "userLinks": [
		{"userId": "h2", "idpId": "idp2", "idpName": "Plain", "providedUserId": "p-bob", "providedUserName": "bob@idp", "idpType": "IDP_TYPE_OIDC"},
		{"userId": "m1", "idpId": "jwt1", "providedUserId": "j-robot", "idpType": 3}]}
	]}`)

	got := kindsResults(t, s, r.job.ID)
	var link kindsResult
	for i, res := range got {
		if res.Step == "passwordless_links" {
			link, got = res, append(got[:i:i], got[i+1:]...)
			break
		}
	}
	checkResults(t, []kindsResult{
		resOK(0, "oidc_idps", 0, "oidc_idp", "idp1"),
		resOK(0, "oidc_idps", 1, "oidc_idp", "idp2"),
		resOK(0, "jwt_idps", 0, "jwt_idp", "jwt1"),
		resOK(0, "human_users", 0, "human_user", "h1"),
		resOK(0, "human_users", 1, "human_user", "h2"),
		resOK(0, "human_users", 2, "human_user", "h3"),
		resOK(0, "machine_users", 0, "machine_user", "m1"),
		resOK(0, "user_metadata", 0, "user_metadata", "h1_color", "h1", "color"),
		resOK(0, "user_metadata", 1, "user_metadata", "m1_bin", "m1", "bin"),
		resOK(0, "user_metadata", 2, "user_metadata", "h1_url-safe", "h1", "url-safe"),
		resOK(0, "machine_keys", 0, "machine_user_key", "k1"),
		resOK(0, "machine_keys", 1, "machine_user_key", "k2"),
		resOK(0, "machine_keys", 2, "machine_user_key", "k3"),
		resOK(0, "user_links", 0, "user_link", "h2_idp2", "h2", "p-bob", "bob@idp", "idp2"),
		resOK(0, "user_links", 1, "user_link", "m1_jwt1", "m1", "j-robot", "jwt1"),
	}, got)

	// The passwordless link: its code is stored as a SHA-256 only.
	if link.Outcome != "ok" || link.Type != "human_user" || link.ID != "h1" || link.Item != 0 || len(link.F) != 3 || link.F[0] != "h1" {
		t.Fatalf("passwordless link result = %+v", link)
	}
	m := passwordlessLink.FindStringSubmatch(link.F[1])
	if m == nil {
		t.Fatalf("link %q does not match %s", link.F[1], passwordlessLink)
	}
	expiration, err := time.Parse(time.RFC3339, link.F[2])
	if err != nil || time.Until(expiration) < 55*time.Minute || time.Until(expiration) > time.Hour {
		t.Errorf("expiration %q: want an RFC 3339 time in about an hour (%v)", link.F[2], err)
	}
	codeHash := sha256.Sum256([]byte(m[2]))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, user_id, encode(code_hash, 'hex'), expires_at = '` + link.F[2] + `'::timestamptz FROM passwordless_codes`,
			[][]string{{m[1], "h1", fmt.Sprintf("%x", codeHash), "true"}}},
	})

	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, org_id, kind, name, styling_type, auto_register, issuer, coalesce(client_id, ''), scopes,
				coalesce(display_name_mapping, ''), coalesce(username_mapping, ''),
				coalesce(jwt_endpoint, ''), coalesce(keys_endpoint, ''), coalesce(header_name, '') FROM idps ORDER BY id`,
			[][]string{
				{"idp1", "o1", "oidc", "Google", "STYLING_TYPE_GOOGLE", "true", "https://accounts.google.com", "client-1",
					"[openid email openid]", "OIDC_MAPPING_FIELD_EMAIL", "OIDC_MAPPING_FIELD_PREFERRED_USERNAME", "", "", ""},
				{"idp2", "o1", "oidc", "Plain", "STYLING_TYPE_UNSPECIFIED", "false", "https://idp.example", "c2",
					"[]", "OIDC_MAPPING_FIELD_UNSPECIFIED", "OIDC_MAPPING_FIELD_UNSPECIFIED", "", "", ""},
				{"jwt1", "o1", "jwt", "JWT", "STYLING_TYPE_UNSPECIFIED", "true", "https://jwt.example", "",
					"<nil>", "", "", "https://jwt.example/token", "https://jwt.example/keys", "x-auth"},
			}},
		{qUsers, [][]string{
			{"h1", "o1", "human", "alice", "USER_STATE_INACTIVE", "Alice Able", "", "alice@x.example", "false"},
			{"h2", "o1", "human", "bob", "USER_STATE_ACTIVE", "F L", "", "bob@x.example", "false"},
			{"h3", "o1", "human", "carol", "USER_STATE_LOCKED", "C C", "", "carol@x.example", "false"},
			{"m1", "o1", "machine", "robot", "USER_STATE_INACTIVE", "", "Robot", "", "false"},
		}},
		{`SELECT id, description, access_token_type FROM users WHERE type = 'machine'`,
			[][]string{{"m1", "does things", "ACCESS_TOKEN_TYPE_JWT"}}},
		{`SELECT password_hash FROM users WHERE id = 'h1'`, [][]string{{argon2Hash}}},
		{`SELECT user_id, verified FROM user_otp ORDER BY 1`, [][]string{{"h1", "true"}, {"h3", "true"}}},
		{`SELECT user_id, key, encode(value, 'hex') FROM user_metadata ORDER BY 1, 2`, [][]string{
			{"h1", "color", "726564"}, {"h1", "url-safe", "fbff"}, {"m1", "bin", "000102ff"}}},
		{`SELECT id, user_id, key_type, expires_at AT TIME ZONE 'UTC' FROM machine_keys ORDER BY id`, [][]string{
			{"k1", "m1", "KEY_TYPE_JSON", "2099-01-02 03:04:05 +0000 UTC"},
			{"k2", "m1", "KEY_TYPE_JSON", "9999-12-31 23:59:59 +0000 UTC"},
			{"k3", "m1", "KEY_TYPE_UNSPECIFIED", "2099-01-02 03:04:05 +0000 UTC"},
		}},
		{`SELECT idp_id, external_user_id, user_id, display_name, source, coalesce(idp_name, ''), coalesce(idp_type, '')
			FROM user_links ORDER BY 1, 2`, [][]string{
			{"idp1", "g-alice", "h1", "Alice G", "human_user", "", ""},
			{"idp2", "p-bob", "h2", "bob@idp", "user_link", "Plain", "IDP_TYPE_OIDC"},
			{"jwt1", "j-alice", "h1", "", "human_user", "", ""},
			{"jwt1", "j-robot", "m1", "", "user_link", "", "IDP_TYPE_JWT"},
		}},
	})

	// Keys: DER as instance creation stores it, and the PEM as given.
	for i, id := range []string{"k1", "k2", "k3"} {
		var gotDER, gotPEM []byte
		if err := s.pool.QueryRow(ctx, `SELECT public_key, public_key_pem FROM machine_keys WHERE id = $1`, id).Scan(&gotDER, &gotPEM); err != nil {
			t.Fatal(err)
		}
		wantPEM, _ := base64.StdEncoding.DecodeString(keys[i])
		if !bytes.Equal(gotDER, der[i]) || !bytes.Equal(gotPEM, wantPEM) {
			t.Errorf("key %s: public_key or public_key_pem differ from the input", id)
		}
	}
	// Secrets are sealed with the import's key.
	for _, c := range []struct{ query, want string }{
		{`SELECT client_secret_sealed FROM idps WHERE id = 'idp1'`, "s3cret-client"},
		{`SELECT client_secret_sealed FROM idps WHERE id = 'idp2'`, "second-secret"},
		{`SELECT secret_sealed FROM user_otp WHERE user_id = 'h1'`, otpSecret},
		{`SELECT secret_sealed FROM user_otp WHERE user_id = 'h3'`, "jbswy3dpehpk3pxp===="},
	} {
		var sealed []byte
		if err := s.pool.QueryRow(ctx, c.query).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		plain, err := testBox.Open(sealed)
		if err != nil || string(plain) != c.want || bytes.Contains(sealed, []byte(c.want)) {
			t.Errorf("%s: opens to %q (%v), want %q, sealed", c.query, plain, err, c.want)
		}
	}

	// The result lists, with ZITADEL's spelling, and no secret in it.
	job, err := s.JobByID(ctx, r.job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != StatusSucceeded {
		t.Errorf("job status = %q, want %q", job.Status, StatusSucceeded)
	}
	var buf bytes.Buffer
	if err := s.WriteResult(ctx, &buf, job); err != nil {
		t.Fatal(err)
	}
	res := buf.String()
	for _, want := range []string{
		`"humanUserIds":["h1","h2","h3"],"machineUserIds":["m1"]`,
		`"oidcIpds":["idp1","idp2"],"jwtIdps":["jwt1"],"userLinks":[{"userId":"h2","externalUserId":"p-bob","displayName":"bob@idp","idpId":"idp2"},{"userId":"m1","externalUserId":"j-robot","idpId":"jwt1"}],` +
			`"userMetadata":[{"userId":"h1","key":"color"},{"userId":"m1","key":"bin"},{"userId":"h1","key":"url-safe"}],`,
		`"machineKeys":["k1","k2","k3"],"passwordlessLinks":[{"userId":"h1","link":"` + link.F[1] + `","expiration":"` + link.F[2] + `"}]}]}`,
	} {
		if !strings.Contains(res, want) {
			t.Errorf("result %s\nlacks %s", res, want)
		}
	}
	for _, secret := range []string{"s3cret-client", "second-secret", otpSecret, argon2Hash, `"idpLinks"`} {
		if strings.Contains(res, secret) {
			t.Errorf("result holds %q", secret)
		}
	}

	// Once the code expired, the link is neither shown nor kept.
	if passwordlessStep.number() != 198 {
		t.Fatalf("passwordless_links is step %d; migration 0012 indexes step 198", passwordlessStep.number())
	}
	if n, err := s.BlankExpiredLinks(ctx, 10); err != nil || n != 0 {
		t.Errorf("links blanked before they expire: %d, %v", n, err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE job_results SET f3 = '2026-01-01T00:00:00Z' WHERE job_id = $1 AND step = 198`, r.job.ID); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := s.WriteResult(ctx, &buf, job); err != nil {
		t.Fatal(err)
	}
	if want := `"passwordlessLinks":[{"userId":"h1","expiration":"2026-01-01T00:00:00Z"}]`; !strings.Contains(buf.String(), want) {
		t.Errorf("result after the code expired: %s\nlacks %s", buf.String(), want)
	}
	if n, err := s.BlankExpiredLinks(ctx, 10); err != nil || n != 1 {
		t.Errorf("expired links blanked: %d, %v; want 1", n, err)
	}
	if rows := kindsRows(t, s, `SELECT count(*) FROM job_results WHERE step = 198 AND f2 IS NOT NULL`); rows[0][0] != "0" {
		t.Errorf("%s links kept after they expired", rows[0][0])
	}
}

func TestApplyUnit_UsersKindsInvalidFields(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	keys, _ := testPublicKeys(t)
	long := strings.Repeat("x", 201)
	notAKey := b64("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
	drupal := "$S$ErandomsaOpYrAZqwxGynirQbWYCb3ejW4BwGH81LJcOzbzeVd02"
	r := kindsImport(t, s, usersStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcIdps": [
		{"idpId": "i1", "idp": {"clientId": "c", "clientSecret": "`+long+`", "issuer": "https://i"}},
		{"idpId": "i2", "idp": {"name": "N", "clientId": "c", "clientSecret": "s", "issuer": "https://i", "stylingType": "STYLING_TYPE_PINK"}},
		{"idpId": "", "idp": {"name": "N", "clientId": "c", "clientSecret": "s", "issuer": "https://i", "scopes": ["a\u0000"]}},
		{"idpId": "i4", "idp": {"name": "N4", "clientId": "c", "clientSecret": "s", "issuer": "https://i", "usernameMapping": 3}}],
	 "jwtIdps": [
		{"idpId": "j1", "idp": {"name": "J", "jwtEndpoint": "e", "issuer": "i", "keysEndpoint": "`+long+`"}},
		{"idpId": "j2", "idp": {"name": "J2", "jwtEndpoint": "e", "issuer": "i", "keysEndpoint": "k", "headerName": "h", "stylingType": 7}}],
	 "humanUsers": [
		`+humanJSON("h1", "a", `"hashedPassword": {"value": "`+drupal+`"}`)+`,
		`+humanJSON("h2", "b", `"idps": [{"configId": "", "externalUserId": "`+long+`", "displayName": "`+long+`"}]`)+`,
		`+humanJSON("h3", "c", `"otpCode": "not base32 at all!", "hashedPassword": {"value": "$2a$99$aLYFkieuqJyeynvptPTxpehSViui5WeAPuR2Xw1wui9CPHEaacmFq"}`)+`,
		`+humanJSON("h4", "d", `"otpCode": "`+long+`"`)+`],
	 "machineUsers": [
		{"userId": "m1", "user": {"userName": "robot", "name": "Robot", "description": "`+strings.Repeat("d", 501)+`"}},
		{"userId": "m2", "user": {"userName": "robot2", "name": "Robot", "accessTokenType": "ACCESS_TOKEN_TYPE_PASETO"}}],
	 "userMetadata": [
		{"id": "h1", "key": "k", "value": ""},
		{"id": "h1", "key": "k2", "value": "not base64!"},
		{"id": "h1", "key": "k3", "value": "`+base64.StdEncoding.EncodeToString(make([]byte, 500001))+`"},
		{"id": "", "key": "`+long+`", "value": "AA=="}],
	 "machineKeys": [
		{"keyId": "k1", "userId": "m1", "publicKey": "`+b64("not pem")+`"},
		{"keyId": "k2", "userId": "m1", "publicKey": "`+notAKey+`"},
		{"keyId": "k3", "userId": "m1", "publicKey": "`+keys[1]+`", "expirationDate": "2020-01-01T00:00:00Z"},
		{"keyId": "k4", "userId": "m1", "publicKey": "`+keys[1]+`", "expirationDate": "tomorrow"},
		{"keyId": "", "userId": "", "type": "KEY_TYPE_XML"},
		{"keyId": "k6", "userId": "m1"}],
	 "userLinks": [
		{"userId": "h1", "idpId": "i1", "providedUserId": ""},
		{"userId": "h1", "idpId": "i1", "providedUserId": "e", "idpType": 2},
		{"userId": "h1", "idpId": "i1", "providedUserId": "e", "providedUserName": "`+long+`", "idpName": "`+long+`"}]}
	]}`)
	checkResults(t, []kindsResult{
		resFailed(0, "oidc_idps", 0, "oidc_idp", "i1", "ID=IDP-s8nn3 Message=Errors.IDPConfig.Invalid (oidcIdps[0].idp.name: is required; oidcIdps[0].idp.clientSecret: at most 200 characters)"),
		resFailed(0, "oidc_idps", 1, "oidc_idp", "i2", `oidcIdps[1].idp.stylingType: unknown value "STYLING_TYPE_PINK"`),
		resFailed(0, "oidc_idps", 2, "oidc_idp", "", "oidcIdps[2].idpId: is required; oidcIdps[2].idp.scopes[0]: must not contain the NUL character"),
		resFailed(0, "oidc_idps", 3, "oidc_idp", "i4", "oidcIdps[3].idp.usernameMapping: unknown value 3"),
		resFailed(0, "jwt_idps", 0, "jwt_idp", "j1", "ID=IDP-s8nn3 Message=Errors.IDPConfig.Invalid (jwtIdps[0].idp.keysEndpoint: at most 200 characters; jwtIdps[0].idp.headerName: is required)"),
		resFailed(0, "jwt_idps", 1, "jwt_idp", "j2", "jwtIdps[1].idp.stylingType: unknown value 7"),
		resFailed(0, "human_users", 0, "human_user", "h1",
			"ID=USER-JDk4t Message=Errors.User.Password.NotSupported (humanUsers[0].user.hashedPassword.value: password hash encoding not supported: drupal7 ($S$) not supported)"),
		resFailed(0, "human_users", 1, "human_user", "h2",
			"humanUsers[1].user.idps[0].configId: is required; humanUsers[1].user.idps[0].externalUserId: at most 200 characters; humanUsers[1].user.idps[0].displayName: at most 200 characters"),
		resFailed(0, "human_users", 2, "human_user", "h3",
			"ID=USER-JDk4t Message=Errors.User.Password.NotSupported (humanUsers[2].user.hashedPassword.value: password hash encoding not supported: bcrypt cost"),
		// ZITADEL imports the OTP whatever became of the user.
		{Org: 0, Step: "human_users", Item: 2, Sub: 1, Outcome: "error", Type: "human_user_otp", ID: "h3",
			Msg: "ID=USER-4M90d Message=Errors.User.MFA.OTP.Invalid (humanUsers[2].user.otpCode: is not a base32 TOTP secret)"},
		resOK(0, "human_users", 3, "human_user", "h4"),
		{Org: 0, Step: "human_users", Item: 3, Sub: 1, Outcome: "error", Type: "human_user_otp", ID: "h4",
			Msg: "(humanUsers[3].user.otpCode: at most 200 characters)"},
		resFailed(0, "machine_users", 0, "machine_user", "m1", "ID=COMMAND-bm3Ds Message=Errors.User.Invalid (machineUsers[0].user.description: at most 500 characters)"),
		resFailed(0, "machine_users", 1, "machine_user", "m2", `machineUsers[1].user.accessTokenType: unknown value "ACCESS_TOKEN_TYPE_PASETO"`),
		resFailed(0, "user_metadata", 0, "user_metadata", "h1_k", "ID=META-2m00f Message=Errors.Metadata.Invalid (userMetadata[0].value: is required)"),
		resFailed(0, "user_metadata", 1, "user_metadata", "h1_k2", "userMetadata[1].value: invalid base64"),
		resFailed(0, "user_metadata", 2, "user_metadata", "h1_k3", "userMetadata[2].value: at most 500000 bytes"),
		resFailed(0, "user_metadata", 3, "user_metadata", "_"+long, "userMetadata[3].id: is required; userMetadata[3].key: at most 200 characters"),
		resFailed(0, "machine_keys", 0, "machine_user_key", "k1", "ID=COMMAND-5F3h1 Message=Errors.User.Machine.Key.Invalid (machineKeys[0].publicKey: is not PEM-encoded"),
		resFailed(0, "machine_keys", 1, "machine_user_key", "k2", "machineKeys[1].publicKey: is not a PKIX public key"),
		resFailed(0, "machine_keys", 2, "machine_user_key", "k3", "ID=DOMAIN-dv3t5 Message=Errors.AuthNKey.ExpireBeforeNow (machineKeys[2].expirationDate: 2020-01-01T00:00:00Z is in the past)"),
		resFailed(0, "machine_keys", 3, "machine_user_key", "k4", `machineKeys[3].expirationDate: invalid timestamp "tomorrow"`),
		resFailed(0, "machine_keys", 4, "machine_user_key", "", `machineKeys[4].type: unknown value "KEY_TYPE_XML"`),
		resFailed(0, "machine_keys", 5, "machine_user_key", "k6", "machineKeys[5].publicKey: is required"),
		resFailed(0, "user_links", 0, "user_link", "h1_i1", "ID=COMMAND-6m9Kd Message=Errors.User.ExternalIDP.Invalid (userLinks[0].providedUserId: is required)"),
		resFailed(0, "user_links", 1, "user_link", "h1_i1", "userLinks[1].idpType: unknown value 2 (want IDP_TYPE_UNSPECIFIED, IDP_TYPE_OIDC or IDP_TYPE_JWT, or their numbers 0, 1 or 3)"),
		resFailed(0, "user_links", 2, "user_link", "h1_i1", "userLinks[2].providedUserName: at most 200 characters; userLinks[2].idpName: at most 200 characters"),
	}, kindsResults(t, s, r.job.ID))
	for _, res := range kindsResults(t, s, r.job.ID) {
		if strings.Contains(res.Msg, "ErandomsaOpYr") || strings.Contains(res.Msg, "aLYFkieu") {
			t.Errorf("message %q quotes a hash", res.Msg)
		}
	}
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id FROM idps`, [][]string{}},
		{`SELECT id FROM users ORDER BY id`, [][]string{{"h4"}}},
		{`SELECT user_id FROM user_otp`, [][]string{}},
		{`SELECT user_id FROM user_metadata`, [][]string{}},
		{`SELECT id FROM machine_keys`, [][]string{}},
		{`SELECT user_id FROM user_links`, [][]string{}},
	})
}

func TestApplyUnit_UsersKindsReferences(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	keys, _ := testPublicKeys(t)
	r := kindsImport(t, s, usersStages, importdata.OnConflictFail, `{"orgs": [
	{"orgId": "o2", "org": {"name": "Org Two"},
	 "oidcIdps": [{"idpId": "other-idp", "idp": {"name": "Other", "clientId": "c", "clientSecret": "s", "issuer": "https://i"}}],
	 "humanUsers": [`+humanJSON("h9", "zed", "")+`],
	 "machineUsers": [{"userId": "m9", "user": {"userName": "robot9", "name": "R"}}]},
	{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcIdps": [{"idpId": "idp1", "idp": {"name": "Mine", "clientId": "c", "clientSecret": "s", "issuer": "https://i"}}],
	 "humanUsers": [
		`+humanJSON("h1", "alice", `"idps": [{"configId": "idp1", "externalUserId": "e1"}, {"configId": "nope", "externalUserId": "e2"}]`)+`,
		`+humanJSON("h2", "bob", `"idps": [{"configId": "other-idp", "externalUserId": "e3"}], "otpCode": "`+otpSecret+`"`)+`],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "robot", "name": "R"}}],
	 "userMetadata": [{"id": "u9", "key": "k", "value": "AA=="}, {"id": "h9", "key": "k", "value": "AA=="}, {"id": "m1", "key": "k", "value": "AA=="}],
	 "machineKeys": [
		{"keyId": "k1", "userId": "u9", "publicKey": "`+keys[1]+`"},
		{"keyId": "k2", "userId": "m9", "publicKey": "`+keys[1]+`"},
		{"keyId": "k3", "userId": "h9", "publicKey": "`+keys[1]+`"},
		{"keyId": "k4", "userId": "h1", "publicKey": "`+keys[1]+`"}],
	 "userLinks": [
		{"userId": "u9", "idpId": "idp1", "providedUserId": "x1"},
		{"userId": "h9", "idpId": "idp1", "providedUserId": "x2"},
		{"userId": "m1", "idpId": "nope", "providedUserId": "x3"},
		{"userId": "m1", "idpId": "other-idp", "providedUserId": "x4"}]}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "oidc_idps", 0, "oidc_idp", "other-idp"),
		resOK(0, "human_users", 0, "human_user", "h9"),
		resOK(0, "machine_users", 0, "machine_user", "m9"),
		resOK(1, "oidc_idps", 0, "oidc_idp", "idp1"),
		resFailed(1, "human_users", 0, "human_user", "h1",
			`ID=COMMAND-39nfs Message=Errors.IDPConfig.NotExisting (humanUsers[0].user.idps[1].configId: IdP "nope" does not exist in org "o1")`),
		resFailed(1, "human_users", 1, "human_user", "h2", `(humanUsers[1].user.idps[0].configId: IdP "other-idp" does not exist in org "o1")`),
		// The OTP of a user that failed fails too: ZITADEL imports it anyway.
		{Org: 1, Step: "human_users", Item: 1, Sub: 1, Outcome: "error", Type: "human_user_otp", ID: "h2",
			Msg: `ID=COMMAND-4M0fs Message=Errors.User.NotFound (user "h2" does not exist in org "o1")`},
		resOK(1, "machine_users", 0, "machine_user", "m1"),
		resFailed(1, "user_metadata", 0, "user_metadata", "u9_k", `ID=COMMAND-4M0fs Message=Errors.User.NotFound (user "u9" does not exist in org "o1")`),
		resFailed(1, "user_metadata", 1, "user_metadata", "h9_k", `(user "h9" does not exist in org "o1")`),
		resOK(1, "user_metadata", 2, "user_metadata", "m1_k", "m1", "k"),
		resFailed(1, "machine_keys", 0, "machine_user_key", "k1", `ID=COMMAND-bnipwm1 Message=Errors.User.NotFound (user "u9" does not exist in org "o1")`),
		resFailed(1, "machine_keys", 1, "machine_user_key", "k2", `(user "m9" does not exist in org "o1")`),
		resFailed(1, "machine_keys", 2, "machine_user_key", "k3", `(user "h9" does not exist in org "o1")`),
		resFailed(1, "machine_keys", 3, "machine_user_key", "k4", `(user "h1" does not exist in org "o1")`),
		resFailed(1, "user_links", 0, "user_link", "u9_idp1", `ID=COMMAND-vzktar7b7f Message=Errors.User.NotFound (user "u9" does not exist in org "o1")`),
		resFailed(1, "user_links", 1, "user_link", "h9_idp1", `(user "h9" does not exist in org "o1")`),
		resFailed(1, "user_links", 2, "user_link", "m1_nope", `ID=COMMAND-39nfs Message=Errors.IDPConfig.NotExisting (IdP "nope" does not exist in org "o1")`),
		resFailed(1, "user_links", 3, "user_link", "m1_other-idp", `(IdP "other-idp" does not exist in org "o1")`),
	}, kindsResults(t, s, r.job.ID))

	// A human user of the org is not a machine user; a machine user has no OTP.
	r = kindsImport(t, s, usersStages, importdata.OnConflictSkip, `{"orgs": [{"orgId": "o1",
	 "humanUsers": [`+humanJSON("m1", "robot", `"otpCode": "`+otpSecret+`"`)+`],
	 "machineKeys": [{"keyId": "k5", "userId": "h9", "publicKey": "`+keys[1]+`"}]},
	 {"orgId": "o2", "machineKeys": [{"keyId": "k6", "userId": "h9", "publicKey": "`+keys[1]+`"}]}]}`)
	checkResults(t, []kindsResult{
		resSkipped(0, "human_users", 0, "human_user", "m1"),
		{Org: 0, Step: "human_users", Item: 0, Sub: 1, Outcome: "error", Type: "human_user_otp", ID: "m1",
			Msg: `ID=COMMAND-4M0fs Message=Errors.User.NotFound (user "m1" is not a human user)`},
		resFailed(0, "machine_keys", 0, "machine_user_key", "k5", `(user "h9" does not exist in org "o1")`),
		resFailed(1, "machine_keys", 0, "machine_user_key", "k6", `ID=COMMAND-bnipwm1 Message=Errors.User.NotFound (user "h9" is not a machine user)`),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT user_id FROM user_otp`, [][]string{}},
		{`SELECT id FROM machine_keys`, [][]string{}},
		{`SELECT user_id, key FROM user_metadata`, [][]string{{"m1", "k"}}},
		{`SELECT user_id FROM user_links`, [][]string{}},
		{`SELECT id FROM users ORDER BY id`, [][]string{{"h9"}, {"m1"}, {"m9"}}},
	})
}

func TestApplyUnit_UsersKindsDuplicates(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	keys, _ := testPublicKeys(t)
	oidc := func(id, name string) string {
		return fmt.Sprintf(`{"idpId": %q, "idp": {"name": %q, "clientId": "c", "clientSecret": "s", "issuer": "https://i"}}`, id, name)
	}
	r := kindsImport(t, s, usersStages, importdata.OnConflictSkip, `{"orgs": [
	{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcIdps": [`+oidc("idp1", "One")+`, `+oidc("idp1", "Another")+`, `+oidc("idp2", "One")+`, `+oidc("idp3", "one")+`],
	 "jwtIdps": [{"idpId": "jwt1", "idp": {"name": "One", "jwtEndpoint": "e", "issuer": "i", "keysEndpoint": "k", "headerName": "h"}},
		{"idpId": "idp3", "idp": {"name": "J", "jwtEndpoint": "e", "issuer": "i", "keysEndpoint": "k", "headerName": "h"}}],
	 "humanUsers": [
		`+humanJSON("h1", "alice", `"otpCode": "`+otpSecret+`", "idps": [{"configId": "idp1", "externalUserId": "e1"}]`)+`,
		`+humanJSON("h1", "alice2", `"otpCode": "`+otpSecret+`"`)+`,
		`+humanJSON("h2", "bob", `"idps": [{"configId": "idp1", "externalUserId": "e1"}]`)+`,
		`+humanJSON("h3", "carol", `"idps": [{"configId": "idp3", "externalUserId": "e3"}, {"configId": "idp3", "externalUserId": "e3"}]`)+`,
		`+humanJSON("h4", "dave", `"idps": [{"configId": "idp3", "externalUserId": "e4"}, {"configId": "idp3", "externalUserId": "e5"}]`)+`],
	 "userMetadata": [{"id": "h1", "key": "k", "value": "AQ=="}, {"id": "h1", "key": "k", "value": "Ag=="}, {"id": "h1", "key": "K", "value": "Aw=="}],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "robot", "name": "R"}}],
	 "machineKeys": [{"keyId": "k1", "userId": "m1", "publicKey": "`+keys[1]+`"}, {"keyId": "k1", "userId": "m1", "publicKey": "`+keys[2]+`"}],
	 "userLinks": [
		{"userId": "h1", "idpId": "idp1", "providedUserId": "e1"},
		{"userId": "h4", "idpId": "idp1", "providedUserId": "e1"},
		{"userId": "h4", "idpId": "idp1", "providedUserId": "e2"},
		{"userId": "h1", "idpId": "idp1", "providedUserId": "e2"},
		{"userId": "h4", "idpId": "idp1", "providedUserId": "e2"},
		{"userId": "h2", "idpId": "idp1", "providedUserId": "e3"}]}
	]}`)
	checkResults(t, []kindsResult{
		resOK(0, "oidc_idps", 0, "oidc_idp", "idp1"),
		resSkipped(0, "oidc_idps", 1, "oidc_idp", "idp1"),
		resFailed(0, "oidc_idps", 2, "oidc_idp", "idp2", `ID=V3-DKcYh Message=Errors.IDPConfig.AlreadyExists (org "o1" has an IdP named "One")`),
		resOK(0, "oidc_idps", 3, "oidc_idp", "idp3"), // names are case-sensitive, as in ZITADEL
		resFailed(0, "jwt_idps", 0, "jwt_idp", "jwt1", `(org "o1" has an IdP named "One")`),
		resSkipped(0, "jwt_idps", 1, "jwt_idp", "idp3"),
		resOK(0, "human_users", 0, "human_user", "h1"),
		resSkipped(0, "human_users", 1, "human_user", "h1"),
		{Org: 0, Step: "human_users", Item: 1, Sub: 1, Outcome: "skipped", Type: "human_user_otp", ID: "h1"},
		resFailed(0, "human_users", 2, "human_user", "h2",
			`ID=V3-DKcYh Message=Errors.User.ExternalIDP.AlreadyExists (humanUsers[2].user.idps[0]: external user "e1" of IdP "idp1" is linked to user "h1")`),
		resFailed(0, "human_users", 3, "human_user", "h3", `(humanUsers[3].user.idps[1]: external user "e3" of IdP "idp3" is given twice)`),
		resOK(0, "human_users", 4, "human_user", "h4"),
		resOK(0, "machine_users", 0, "machine_user", "m1"),
		resOK(0, "user_metadata", 0, "user_metadata", "h1_k", "h1", "k"),
		resSkipped(0, "user_metadata", 1, "user_metadata", "h1_k"),
		resOK(0, "user_metadata", 2, "user_metadata", "h1_K", "h1", "K"),
		resOK(0, "machine_keys", 0, "machine_user_key", "k1"),
		resSkipped(0, "machine_keys", 1, "machine_user_key", "k1"),
		resSkipped(0, "user_links", 0, "user_link", "h1_idp1"),
		resFailed(0, "user_links", 1, "user_link", "h4_idp1", `ID=V3-DKcYh Message=Errors.User.ExternalIDP.AlreadyExists (external user "e1" of IdP "idp1" is linked to user "h1")`),
		resOK(0, "user_links", 2, "user_link", "h4_idp1", "h4", "e2", "idp1"),
		resFailed(0, "user_links", 3, "user_link", "h1_idp1", `(external user "e2" of IdP "idp1" is linked to user "h4")`),
		resSkipped(0, "user_links", 4, "user_link", "h4_idp1"),
		resFailed(0, "user_links", 5, "user_link", "h2_idp1", `(user "h2" does not exist in org "o1")`),
	}, kindsResults(t, s, r.job.ID))
	checkKindsRows(t, s, []kindsRowCheck{
		{`SELECT id, kind, name FROM idps ORDER BY id`, [][]string{{"idp1", "oidc", "One"}, {"idp3", "oidc", "one"}}},
		{`SELECT user_id, key, encode(value, 'hex') FROM user_metadata ORDER BY 2`, [][]string{{"h1", "K", "03"}, {"h1", "k", "01"}}},
		{`SELECT idp_id, external_user_id, user_id, source FROM user_links ORDER BY 1, 2`, [][]string{
			{"idp1", "e1", "h1", "human_user"}, {"idp1", "e2", "h4", "user_link"},
			{"idp3", "e4", "h4", "human_user"}, {"idp3", "e5", "h4", "human_user"}}},
		{`SELECT user_id FROM user_otp`, [][]string{{"h1"}}},
	})
}

// usersExistingPayload is imported twice by TestApplyUnit_UsersKindsExisting.
func usersExistingPayload(key string) string {
	return `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
	 "oidcIdps": [{"idpId": "idp1", "idp": {"name": "One", "clientId": "c", "clientSecret": "s", "issuer": "https://i"}}],
	 "jwtIdps": [{"idpId": "jwt1", "idp": {"name": "J", "jwtEndpoint": "e", "issuer": "i", "keysEndpoint": "k", "headerName": "h"}}],
	 "humanUsers": [` + humanJSON("h1", "alice", `"otpCode": "`+otpSecret+`", "requestPasswordlessRegistration": true,
		"idps": [{"configId": "idp1", "externalUserId": "e1"}]`) + `],
	 "machineUsers": [{"userId": "m1", "user": {"userName": "robot", "name": "R"}}],
	 "userMetadata": [{"id": "h1", "key": "k", "value": "AQ=="}],
	 "machineKeys": [{"keyId": "k1", "userId": "m1", "publicKey": "` + key + `"}],
	 "userLinks": [{"userId": "m1", "idpId": "jwt1", "providedUserId": "e2"}]}]}`
}

func TestApplyUnit_UsersKindsExisting(t *testing.T) {
	t.Parallel()
	keys, _ := testPublicKeys(t)
	// The second import repeats the first, and gives h2, who exists without
	// a TOTP secret, one: ZITADEL imports it although the user exists.
	again := strings.Replace(usersExistingPayload(keys[1]), `"humanUsers": [`,
		`"humanUsers": [`+humanJSON("h2", "bob", `"otpCode": "`+otpSecret+`"`)+`, `, 1)
	tests := []struct {
		onConflict string
		want       []kindsResult
	}{
		{importdata.OnConflictFail, []kindsResult{
			resFailed(0, "oidc_idps", 0, "oidc_idp", "idp1", "ID=Org-1J8fs Message=Errors.Org.IDPConfig.AlreadyExisting"),
			resFailed(0, "jwt_idps", 0, "jwt_idp", "jwt1", "ID=Org-1J8fs Message=Errors.Org.IDPConfig.AlreadyExisting"),
			resFailed(0, "human_users", 0, "human_user", "h2", "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"),
			resFailed(0, "human_users", 1, "human_user", "h1", "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"),
			{Org: 0, Step: "human_users", Item: 1, Sub: 1, Outcome: "error", Type: "human_user_otp", ID: "h1",
				Msg: "ID=COMMAND-do9se Message=Errors.User.MFA.OTP.AlreadyReady"},
			resFailed(0, "machine_users", 0, "machine_user", "m1", "ID=COMMAND-k2una Message=Errors.User.AlreadyExisting"),
			resFailed(0, "user_metadata", 0, "user_metadata", "h1_k", "ID=V3-DKcYh Message=Errors.Metadata.AlreadyExists"),
			resFailed(0, "machine_keys", 0, "machine_user_key", "k1", "ID=COMMAND-091mops Message=Errors.User.Machine.Key.AlreadyExists"),
			resFailed(0, "user_links", 0, "user_link", "m1_jwt1", "ID=V3-DKcYh Message=Errors.User.ExternalIDP.AlreadyExists"),
		}},
		{importdata.OnConflictSkip, []kindsResult{
			resSkipped(0, "oidc_idps", 0, "oidc_idp", "idp1"),
			resSkipped(0, "jwt_idps", 0, "jwt_idp", "jwt1"),
			resSkipped(0, "human_users", 0, "human_user", "h2"),
			resSkipped(0, "human_users", 1, "human_user", "h1"),
			{Org: 0, Step: "human_users", Item: 1, Sub: 1, Outcome: "skipped", Type: "human_user_otp", ID: "h1"},
			resSkipped(0, "machine_users", 0, "machine_user", "m1"),
			resSkipped(0, "user_metadata", 0, "user_metadata", "h1_k"),
			resSkipped(0, "machine_keys", 0, "machine_user_key", "k1"),
			resSkipped(0, "user_links", 0, "user_link", "m1_jwt1"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.onConflict, func(t *testing.T) {
			t.Parallel()
			s := newKindsStore(t)
			kindsImport(t, s, usersStages, importdata.OnConflictFail, usersExistingPayload(keys[1]))
			kindsImport(t, s, usersStages, importdata.OnConflictFail, `{"orgs": [{"orgId": "o1", "humanUsers": [`+humanJSON("h2", "bob", "")+`]}]}`)
			before := usersDump(t, s)
			r := kindsImport(t, s, usersStages, tt.onConflict, again)
			checkResults(t, tt.want, kindsResults(t, s, r.job.ID))
			after := usersDump(t, s)
			// Only h2's TOTP secret is new.
			if diff := cmp.Diff(append(before["user_otp"], []string{"h2"}), after["user_otp"]); diff != "" {
				t.Errorf("user_otp (-want +got):\n%s", diff)
			}
			delete(before, "user_otp")
			delete(after, "user_otp")
			checkUnchanged(t, before, after)
		})
	}
}

// usersDump returns the rows of the tables of these kinds.
func usersDump(t testing.TB, s *Store) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for name, q := range map[string]string{
		"users":              qUsers,
		"idps":               `SELECT id, name, client_secret_sealed FROM idps ORDER BY id`,
		"user_otp":           `SELECT user_id FROM user_otp ORDER BY 1`,
		"passwordless_codes": `SELECT id, user_id, code_hash FROM passwordless_codes ORDER BY 1`,
		"user_metadata":      `SELECT user_id, key, value FROM user_metadata ORDER BY 1, 2`,
		"machine_keys":       `SELECT id, public_key FROM machine_keys ORDER BY 1`,
		"user_links":         `SELECT idp_id, external_user_id, user_id FROM user_links ORDER BY 1, 2`,
	} {
		out[name] = kindsRows(t, s, q)
	}
	return out
}

func TestApplyUnit_UsersKindsSecretsNeedKey(t *testing.T) {
	t.Parallel()
	s := newKindsStore(t)
	split, orgs := kindsDecode(t, `{"orgs": [{"orgId": "o1", "org": {"name": "Org One"},
		"oidcIdps": [{"idpId": "idp1", "idp": {"name": "One", "clientId": "c", "clientSecret": "s", "issuer": "https://i"}}]}]}`)
	r := startKindsJob(t, s, importdata.OnConflictFail, split, []Unit{{Stage: StagePass1, Steps: usersStages[0].steps}}, orgs)
	opts := kindsOpts
	opts.Seal = nil
	_, err := s.ApplyUnit(context.Background(), r.job, r.units[0], orgs[0], opts)
	if err == nil || !strings.Contains(err.Error(), "ZIMPORT_ENCRYPTION_KEY") {
		t.Errorf("ApplyUnit without a key: %v, want an error naming ZIMPORT_ENCRYPTION_KEY", err)
	}
	checkKindsRows(t, s, []kindsRowCheck{{`SELECT id FROM idps`, [][]string{}}})
}
