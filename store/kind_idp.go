package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// steps create the org's OIDC and JWT IdPs with their given ids (ZITADEL's
// ImportIDPConfig). IdP names are unique per org, across both kinds. An
// OIDC client secret is stored sealed and never reported. With onConflict
// OVERWRITE, an IdP of the imported org and of the step's kind is updated
// in place, its client secret sealed anew.
func init() {
	register(&Step{Name: "oidc_idps", Type: "oidc_idp", Fields: []string{"oidcIdps"}, Stage: StagePass1, Order: 6,
		Success: "oidcIpds", Chunkable: true, apply: oidcIDPs.apply}) // sic: ZITADEL's spelling
	register(&Step{Name: "jwt_idps", Type: "jwt_idp", Fields: []string{"jwtIdps"}, Stage: StagePass1, Order: 7,
		Success: "jwtIdps", Chunkable: true, apply: jwtIDPs.apply})
}

const idpExists = "ID=Org-1J8fs Message=Errors.Org.IDPConfig.AlreadyExisting"

// errNoSeal is the error of a unit with secrets to store and no key.
var errNoSeal = errors.New("no encryption key to seal secrets (ZIMPORT_ENCRYPTION_KEY)")

// newIDP is an IdP that passed its checks and may be written.
type newIDP struct {
	i        int // index in the step's list
	id, name string
	// update is true for an IdP of the imported org that is updated in
	// place (onConflict OVERWRITE); false for a new IdP.
	update bool
}

// idpStep is what differs between the steps of OIDC and JWT IdPs (T, e.g.
// importdata.DataOIDCIDP); its apply is the Step's.
type idpStep[T any, P interface {
	*T
	Validate(string) error
}] struct {
	member string // the DataOrg member, e.g. "oidcIdps"
	kind   string // idps.kind: "oidc" or "jwt"
	items  func(org *importdata.DataOrg) importdata.Items[T]
	// idp returns an item's id and its IdP's name.
	idp func(v *T) (id, name string)
	// write inserts idps, or updates them when update is true, and returns
	// the ids it wrote.
	write func(ctx context.Context, a *applier, items importdata.Items[T], idps []newIDP, update bool) (map[string]bool, error)
}

// apply inserts the org's IdPs that pass their checks.
func (s idpStep[T, P]) apply(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := s.items(org)
	o := newOutcomes(a, step, len(items))
	var idps []newIDP
	for i, it := range items {
		v := it.V
		id, name := s.idp(&v)
		o.setID(i, id)
		if o.check(i, s.member, it.Err, P(&v), "IDP-s8nn3", "Errors.IDPConfig.Invalid") {
			idps = append(idps, newIDP{i: i, id: id, name: name})
		}
	}
	idps, err := a.claimIDPs(ctx, o, idps, s.kind)
	if err != nil {
		return err
	}
	var ins, upd []newIDP
	for _, nd := range idps {
		if nd.update {
			upd = append(upd, nd)
		} else {
			ins = append(ins, nd)
		}
	}
	if len(ins) > 0 {
		inserted, err := s.write(ctx, a, items, ins, false)
		if err != nil {
			return err
		}
		idx, ids := idpKeys(ins)
		if err := a.settleNamed(ctx, o, "look up IdPs", "idps", idx, ids, inserted, idpExists,
			func(j int) string { return idpNameTaken(ins[j].name, a.orgID) }); err != nil {
			return err
		}
	}
	if len(upd) > 0 {
		updated, err := s.write(ctx, a, items, upd, true)
		if err != nil {
			return err
		}
		idx, ids := idpKeys(upd)
		a.settleUpdated(o, idx, ids, updated, idpExists)
	}
	return o.flush()
}

// idpKindName names the kinds of IdPs in messages.
var idpKindName = map[string]string{"oidc": "an OIDC", "jwt": "a JWT"}

// idpKeys returns the indexes in the step's list and the ids of idps.
func idpKeys(idps []newIDP) (idx []int, ids []string) {
	idx, ids = make([]int, len(idps)), make([]string, len(idps))
	for j, nd := range idps {
		idx[j], ids[j] = nd.i, nd.id
	}
	return idx, ids
}

var oidcIDPs = idpStep[importdata.DataOIDCIDP, *importdata.DataOIDCIDP]{
	member: "oidcIdps",
	kind:   "oidc",
	items:  func(org *importdata.DataOrg) importdata.Items[importdata.DataOIDCIDP] { return org.OIDCIDPs },
	idp:    func(v *importdata.DataOIDCIDP) (string, string) { return v.IDPID, v.IDP.Name },
	write:  writeOIDCIDPs,
}

var jwtIDPs = idpStep[importdata.DataJWTIDP, *importdata.DataJWTIDP]{
	member: "jwtIdps",
	kind:   "jwt",
	items:  func(org *importdata.DataOrg) importdata.Items[importdata.DataJWTIDP] { return org.JWTIDPs },
	idp:    func(v *importdata.DataJWTIDP) (string, string) { return v.IDPID, v.IDP.Name },
	write:  writeJWTIDPs,
}

// writeOIDCIDPs inserts the claimed OIDC IdPs, or updates them when update
// is true, their client secrets sealed, and returns the ids it wrote.
func writeOIDCIDPs(ctx context.Context, a *applier, items importdata.Items[importdata.DataOIDCIDP], idps []newIDP, update bool) (map[string]bool, error) {
	if a.opts.Seal == nil {
		return nil, errNoSeal
	}
	n := len(idps)
	ids, names, styling, issuer, clientID, scopes, displayMapping, userMapping := column(n), column(n), column(n), column(n), column(n), column(n), column(n), column(n)
	autoRegister, secret := make([]bool, n), make([][]byte, n)
	for j, nd := range idps {
		p := &items[nd.i].V.IDP
		ids[j], names[j], styling[j], autoRegister[j], issuer[j] = nd.id, p.Name, p.StylingType.String(), p.AutoRegister, p.Issuer
		clientID[j], secret[j], scopes[j] = p.ClientID, a.opts.Seal.Seal([]byte(p.ClientSecret)), jsonArray(p.Scopes)
		displayMapping[j], userMapping[j] = p.DisplayNameMapping.String(), p.UsernameMapping.String()
	}
	const from = `unnest($3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::bytea[], $10::text[],
			$11::text[], $12::text[])
			AS t(id, name, styling, auto_register, issuer, client_id, secret, scopes, display_mapping, user_mapping)`
	args := []any{a.job.InstanceID, a.orgID, ids, names, styling, autoRegister, issuer, clientID, secret, scopes, displayMapping, userMapping}
	if update {
		rows, err := a.textRows(ctx, "update OIDC IdPs", `UPDATE idps d SET name = t.name, styling_type = t.styling,
				auto_register = t.auto_register, issuer = t.issuer, client_id = t.client_id, client_secret_sealed = t.secret,
				scopes = `+fromJSONList("t.scopes")+`, display_name_mapping = t.display_mapping, username_mapping = t.user_mapping
			FROM `+from+`
			WHERE d.instance_id = $1 AND d.org_id = $2 AND d.id = t.id AND d.kind = 'oidc' RETURNING d.id`, args...)
		return firstColumn(rows), err
	}
	rows, err := a.textRows(ctx, "insert OIDC IdPs", `INSERT INTO idps (instance_id, org_id, kind, id, name, styling_type,
			auto_register, issuer, client_id, client_secret_sealed, scopes, display_name_mapping, username_mapping)
		SELECT $1, $2, 'oidc', t.id, t.name, t.styling, t.auto_register, t.issuer, t.client_id, t.secret,
			`+fromJSONList("t.scopes")+`, t.display_mapping, t.user_mapping
		FROM `+from+`
		ON CONFLICT DO NOTHING RETURNING id`, args...)
	return firstColumn(rows), err
}

// writeJWTIDPs inserts the claimed JWT IdPs, or updates them when update is
// true, and returns the ids it wrote.
func writeJWTIDPs(ctx context.Context, a *applier, items importdata.Items[importdata.DataJWTIDP], idps []newIDP, update bool) (map[string]bool, error) {
	n := len(idps)
	ids, names, styling, issuer, endpoint, keys, header := column(n), column(n), column(n), column(n), column(n), column(n), column(n)
	autoRegister := make([]bool, n)
	for j, nd := range idps {
		p := &items[nd.i].V.IDP
		ids[j], names[j], styling[j], autoRegister[j], issuer[j] = nd.id, p.Name, p.StylingType.String(), p.AutoRegister, p.Issuer
		endpoint[j], keys[j], header[j] = p.JWTEndpoint, p.KeysEndpoint, p.HeaderName
	}
	const from = `unnest($3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[],
			$9::text[], $10::text[]) AS t(id, name, styling, auto_register, issuer, endpoint, keys, header)`
	args := []any{a.job.InstanceID, a.orgID, ids, names, styling, autoRegister, issuer, endpoint, keys, header}
	if update {
		rows, err := a.textRows(ctx, "update JWT IdPs", `UPDATE idps d SET name = t.name, styling_type = t.styling,
				auto_register = t.auto_register, issuer = t.issuer, jwt_endpoint = t.endpoint, keys_endpoint = t.keys,
				header_name = t.header
			FROM `+from+`
			WHERE d.instance_id = $1 AND d.org_id = $2 AND d.id = t.id AND d.kind = 'jwt' RETURNING d.id`, args...)
		return firstColumn(rows), err
	}
	rows, err := a.textRows(ctx, "insert JWT IdPs", `INSERT INTO idps (instance_id, org_id, kind, id, name, styling_type,
			auto_register, issuer, jwt_endpoint, keys_endpoint, header_name)
		SELECT $1, $2, 'jwt', t.* FROM `+from+`
		ON CONFLICT DO NOTHING RETURNING id`, args...)
	return firstColumn(rows), err
}

// idpNameTaken is the error of an IdP whose name another IdP of the org has.
func idpNameTaken(name, orgID string) string {
	return zerr("V3-DKcYh", "Errors.IDPConfig.AlreadyExists", fmt.Sprintf("org %q has an IdP named %q", orgID, name))
}

// claimIDPs decides in input order which of idps, of kind ("oidc" or
// "jwt"), may be written: an id that exists earlier in the list, or in the
// instance when onConflict is not OVERWRITE, is reported as existing
// (onConflict SKIP applies); with OVERWRITE, an IdP of the imported org and
// of the same kind is claimed for an update (newIDP.update), one of another
// org or kind stays existing, with why. A name that another IdP of the org
// has, or an earlier IdP of the list, fails; an IdP being renamed keeps its
// old name taken for the others, so that no statement meets a unique
// violation.
func (a *applier) claimIDPs(ctx context.Context, o *outcomes, idps []newIDP, kind string) ([]newIDP, error) {
	if len(idps) == 0 {
		return nil, nil
	}
	ids, names := make([]string, len(idps)), make([]string, len(idps))
	for j, nd := range idps {
		ids[j], names[j] = nd.id, nd.name
	}
	type existingIDP struct{ org, kind string }
	existing := map[string]existingIDP{}
	rows, err := a.textRows(ctx, "look up IdPs", `SELECT id, org_id, kind FROM idps WHERE instance_id = $1 AND id = ANY($2)`,
		a.job.InstanceID, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		existing[r[0]] = existingIDP{r[1], r[2]}
	}
	rows, err = a.textRows(ctx, "look up IdP names", `SELECT name, id FROM idps WHERE instance_id = $1 AND org_id = $2 AND name = ANY($3)`,
		a.job.InstanceID, a.orgID, names)
	if err != nil {
		return nil, err
	}
	holder := make(map[string]string, len(rows)) // name → id of the IdP that has it
	for _, r := range rows {
		holder[r[0]] = r[1]
	}
	seen, claimed := map[string]bool{}, map[string]bool{}
	out := idps[:0:0]
	for _, nd := range idps {
		ex := existing[nd.id]
		switch {
		case seen[nd.id]:
			o.exists(nd.i, idpExists)
		case ex.org != "" && (!a.overwriting() || ex.org != a.orgID):
			o.exists(nd.i, a.existsIn(idpExists, ex.org))
		case ex.org != "" && ex.kind != kind:
			o.exists(nd.i, idpExists+fmt.Sprintf(" (it is %s IdP; onConflict OVERWRITE does not change the kind of an IdP)", idpKindName[ex.kind]))
		case claimed[nd.name] || holder[nd.name] != "" && holder[nd.name] != nd.id:
			o.fail(nd.i, idpNameTaken(nd.name, a.orgID))
		default:
			seen[nd.id], claimed[nd.name] = true, true
			nd.update = ex.org != ""
			out = append(out, nd)
		}
	}
	return out, nil
}

// jsonArray encodes a list as it is, repeats and order kept, for an unnest
// insert, where fromJSONList turns it back into text[]. See jsonList.
func jsonArray(ss []string) string {
	if ss == nil {
		return "[]"
	}
	b, err := json.Marshal(ss)
	if err != nil {
		panic(err) // a []string always encodes
	}
	return string(b)
}
