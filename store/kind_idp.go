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
// OIDC client secret is stored sealed and never reported.
func init() {
	register(&Step{Name: "oidc_idps", Type: "oidc_idp", Fields: []string{"oidcIdps"}, Stage: StagePass1, Order: 6,
		Success: "oidcIpds", Chunkable: true, apply: oidcIDPs.apply}) // sic: ZITADEL's spelling
	register(&Step{Name: "jwt_idps", Type: "jwt_idp", Fields: []string{"jwtIdps"}, Stage: StagePass1, Order: 7,
		Success: "jwtIdps", Chunkable: true, apply: jwtIDPs.apply})
}

const idpExists = "ID=Org-1J8fs Message=Errors.Org.IDPConfig.AlreadyExisting"

// errNoSeal is the error of a unit with secrets to store and no key.
var errNoSeal = errors.New("no encryption key to seal secrets (ZIMPORT_ENCRYPTION_KEY)")

// newIDP is an IdP that passed its checks and may be inserted.
type newIDP struct {
	i        int // index in the step's list
	id, name string
}

// idpStep is what differs between the steps of OIDC and JWT IdPs (T, e.g.
// importdata.DataOIDCIDP); its apply is the Step's.
type idpStep[T any, P interface {
	*T
	Validate(string) error
}] struct {
	member string // the DataOrg member, e.g. "oidcIdps"
	items  func(org *importdata.DataOrg) importdata.Items[T]
	// idp returns an item's id and its IdP's name.
	idp func(v *T) (id, name string)
	// insert inserts idps and returns the ids it inserted.
	insert func(ctx context.Context, a *applier, items importdata.Items[T], idps []newIDP) (map[string]bool, error)
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
	idps, err := a.claimIDPs(ctx, o, idps)
	if err != nil {
		return err
	}
	if len(idps) == 0 {
		return o.flush()
	}
	inserted, err := s.insert(ctx, a, items, idps)
	if err != nil {
		return err
	}
	idx, ids := make([]int, len(idps)), make([]string, len(idps))
	for j, nd := range idps {
		idx[j], ids[j] = nd.i, nd.id
	}
	if err := a.settleNamed(ctx, o, "look up IdPs", "idps", idx, ids, inserted, idpExists,
		func(j int) string { return idpNameTaken(idps[j].name, a.orgID) }); err != nil {
		return err
	}
	return o.flush()
}

var oidcIDPs = idpStep[importdata.DataOIDCIDP, *importdata.DataOIDCIDP]{
	member: "oidcIdps",
	items:  func(org *importdata.DataOrg) importdata.Items[importdata.DataOIDCIDP] { return org.OIDCIDPs },
	idp:    func(v *importdata.DataOIDCIDP) (string, string) { return v.IDPID, v.IDP.Name },
	insert: insertOIDCIDPs,
}

var jwtIDPs = idpStep[importdata.DataJWTIDP, *importdata.DataJWTIDP]{
	member: "jwtIdps",
	items:  func(org *importdata.DataOrg) importdata.Items[importdata.DataJWTIDP] { return org.JWTIDPs },
	idp:    func(v *importdata.DataJWTIDP) (string, string) { return v.IDPID, v.IDP.Name },
	insert: insertJWTIDPs,
}

// insertOIDCIDPs inserts the claimed OIDC IdPs, their client secrets sealed,
// and returns the ids it inserted.
func insertOIDCIDPs(ctx context.Context, a *applier, items importdata.Items[importdata.DataOIDCIDP], idps []newIDP) (map[string]bool, error) {
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
	rows, err := a.textRows(ctx, "insert OIDC IdPs", `INSERT INTO idps (instance_id, org_id, kind, id, name, styling_type,
			auto_register, issuer, client_id, client_secret_sealed, scopes, display_name_mapping, username_mapping)
		SELECT $1, $2, 'oidc', t.id, t.name, t.styling, t.auto_register, t.issuer, t.client_id, t.secret,
			`+fromJSONList("t.scopes")+`, t.display_mapping, t.user_mapping
		FROM unnest($3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::bytea[], $10::text[],
			$11::text[], $12::text[])
			AS t(id, name, styling, auto_register, issuer, client_id, secret, scopes, display_mapping, user_mapping)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, ids, names, styling, autoRegister, issuer, clientID, secret, scopes, displayMapping, userMapping)
	if err != nil {
		return nil, err
	}
	return firstColumn(rows), nil
}

// insertJWTIDPs inserts the claimed JWT IdPs and returns the ids it
// inserted.
func insertJWTIDPs(ctx context.Context, a *applier, items importdata.Items[importdata.DataJWTIDP], idps []newIDP) (map[string]bool, error) {
	n := len(idps)
	ids, names, styling, issuer, endpoint, keys, header := column(n), column(n), column(n), column(n), column(n), column(n), column(n)
	autoRegister := make([]bool, n)
	for j, nd := range idps {
		p := &items[nd.i].V.IDP
		ids[j], names[j], styling[j], autoRegister[j], issuer[j] = nd.id, p.Name, p.StylingType.String(), p.AutoRegister, p.Issuer
		endpoint[j], keys[j], header[j] = p.JWTEndpoint, p.KeysEndpoint, p.HeaderName
	}
	rows, err := a.textRows(ctx, "insert JWT IdPs", `INSERT INTO idps (instance_id, org_id, kind, id, name, styling_type,
			auto_register, issuer, jwt_endpoint, keys_endpoint, header_name)
		SELECT $1, $2, 'jwt', t.* FROM unnest($3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[],
			$9::text[], $10::text[]) AS t(id, name, styling, auto_register, issuer, endpoint, keys, header)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, ids, names, styling, autoRegister, issuer, endpoint, keys, header)
	if err != nil {
		return nil, err
	}
	return firstColumn(rows), nil
}

// idpNameTaken is the error of an IdP whose name another IdP of the org has.
func idpNameTaken(name, orgID string) string {
	return zerr("V3-DKcYh", "Errors.IDPConfig.AlreadyExists", fmt.Sprintf("org %q has an IdP named %q", orgID, name))
}

// claimIDPs decides in input order which of idps may be inserted: an id
// that exists in the instance or earlier in the list is reported as
// existing (onConflict SKIP applies), a name that the org's IdPs or an
// earlier IdP of the list have fails.
func (a *applier) claimIDPs(ctx context.Context, o *outcomes, idps []newIDP) ([]newIDP, error) {
	if len(idps) == 0 {
		return nil, nil
	}
	ids, names := make([]string, len(idps)), make([]string, len(idps))
	for j, nd := range idps {
		ids[j], names[j] = nd.id, nd.name
	}
	existing, err := a.existingIDs(ctx, "look up IdPs", "idps", ids)
	if err != nil {
		return nil, err
	}
	taken, err := a.set(ctx, "look up IdP names", `SELECT name FROM idps WHERE instance_id = $1 AND org_id = $2 AND name = ANY($3)`,
		a.job.InstanceID, a.orgID, names)
	if err != nil {
		return nil, err
	}
	out := idps[:0:0]
	for _, nd := range idps {
		switch id, name := (tuple{nd.id}), (tuple{nd.name}); {
		case existing[id]:
			o.exists(nd.i, idpExists)
		case taken[name]:
			o.fail(nd.i, idpNameTaken(nd.name, a.orgID))
		default:
			existing[id], taken[name] = true, true
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
