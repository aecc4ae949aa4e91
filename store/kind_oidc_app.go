package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step creates OIDC applications in the org's projects with their given
// ids. As in ZITADEL, a client id is generated, and a client secret for the
// BASIC and POST methods; neither is returned (client credentials cannot be
// imported). Every field of the request is stored as given. With onConflict
// OVERWRITE an existing OIDC app of the org is updated in place (see
// appStep.apply).
func init() {
	register(&Step{Name: "oidc_apps", Type: "oidc_app", Fields: []string{"oidcApps"}, Stage: StagePass1, Order: 19,
		Success: "oidcAppIds", Chunkable: true, prepare: oidcApps.prepare, apply: oidcApps.apply})
}

var oidcApps = appStep[importdata.DataOIDCApplication, *importdata.DataOIDCApplication]{
	member:    "oidcApps",
	kind:      "oidc",
	invalidID: "PROJECT-1n8df",
	errs: appErrors{
		exists:          "ID=PROJECT-lxowmp Message=Errors.Project.App.AlreadyExisting",
		projectNotFound: "ID=PROJECT-3m9s2 Message=Errors.Project.NotFound",
	},
	items: func(org *importdata.DataOrg) importdata.Items[importdata.DataOIDCApplication] { return org.OIDCApps },
	app: func(v *importdata.DataOIDCApplication) (string, string, string) {
		return v.AppID, v.App.ProjectID, v.App.Name
	},
	needsSecret: func(v *importdata.DataOIDCApplication) bool { return v.App.AuthMethodType.NeedsSecret() },
	write:       writeOIDCApps,
}

// writeOIDCApps inserts the claimed OIDC apps, every field of the request
// as given, and returns the ids it inserted; with update, it updates the
// org's existing OIDC apps instead, keeping their client id and their client
// secret when they have one, and returns the ids it updated.
func writeOIDCApps(ctx context.Context, a *applier, items importdata.Items[importdata.DataOIDCApplication], apps []newApp,
	c appColumns, update bool) (map[string]bool, error) {
	n := len(apps)
	auth, redirect, responses, grants, appType, postLogout := column(n), column(n), column(n), column(n), column(n), column(n)
	version, tokenType, skew, origins, backChannel, loginVersion := column(n), column(n), column(n), column(n), column(n), column(n)
	loginBaseURI := make([]*string, n)
	dev, accessRoles, idRoles, idUserinfo, skipSuccess := make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
	for j, ap := range apps {
		d := &items[ap.i].V.App
		auth[j], appType[j], version[j], tokenType[j] = d.AuthMethodType.String(), d.AppType.String(), d.Version.String(), d.AccessTokenType.String()
		redirect[j], postLogout[j], origins[j] = jsonArray(d.RedirectURIs), jsonArray(d.PostLogoutRedirectURIs), jsonArray(d.AdditionalOrigins)
		responses[j], grants[j] = jsonArray(enumNames(d.ResponseTypes)), jsonArray(enumNames(d.GrantTypes))
		dev[j], accessRoles[j], idRoles[j], idUserinfo[j] = d.DevMode, d.AccessTokenRoleAssertion, d.IDTokenRoleAssertion, d.IDTokenUserinfoAssertion
		skew[j], skipSuccess[j], backChannel[j] = d.ClockSkew.String(), d.SkipNativeAppSuccessPage, d.BackChannelLogoutURI
		if lv := d.LoginVersion; lv != nil {
			switch {
			case lv.LoginV1 != nil:
				loginVersion[j] = "v1"
			case lv.LoginV2 != nil:
				loginVersion[j], loginBaseURI[j] = "v2", lv.LoginV2.BaseURI
			}
		}
	}
	from := `unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
				$11::text[], $12::text[], $13::text[], $14::text[], $15::bool[], $16::text[], $17::bool[],
				$18::bool[], $19::bool[], $20::text[], $21::text[], $22::bool[], $23::text[], $24::text[], $25::text[])
			AS t(id, project_id, name, client_id, secret, auth, redirect, responses, grants, app_type, post_logout,
				version, dev, token_type, access_roles, id_roles, id_userinfo, skew, origins, skip_success, back_channel,
				login_version, login_base_uri)`
	what, sql := "insert oidc apps", `INSERT INTO apps (instance_id, org_id, kind, id, project_id, name,
			client_id, client_secret_hash, auth_method_type, redirect_uris, response_types, grant_types, app_type,
			post_logout_redirect_uris, version, dev_mode, access_token_type, access_token_role_assertion,
			id_token_role_assertion, id_token_userinfo_assertion, clock_skew, additional_origins,
			skip_native_app_success_page, back_channel_logout_uri, login_version, login_base_uri)
		SELECT $1, $2, 'oidc', t.id, t.project_id, t.name, t.client_id, nullif(t.secret, ''), t.auth,
			`+fromJSONList("t.redirect")+`, `+fromJSONList("t.responses")+`, `+fromJSONList("t.grants")+`, t.app_type,
			`+fromJSONList("t.post_logout")+`, t.version, t.dev, t.token_type, t.access_roles,
			t.id_roles, t.id_userinfo, t.skew, `+fromJSONList("t.origins")+`,
			t.skip_success, t.back_channel, nullif(t.login_version, ''), t.login_base_uri
		FROM `+from+`
		ON CONFLICT DO NOTHING RETURNING id`
	if update {
		what, sql = "update oidc apps", `UPDATE apps x SET name = t.name,
			client_secret_hash = coalesce(x.client_secret_hash, nullif(t.secret, '')), auth_method_type = t.auth,
			redirect_uris = `+fromJSONList("t.redirect")+`, response_types = `+fromJSONList("t.responses")+`,
			grant_types = `+fromJSONList("t.grants")+`, app_type = t.app_type,
			post_logout_redirect_uris = `+fromJSONList("t.post_logout")+`, version = t.version, dev_mode = t.dev,
			access_token_type = t.token_type, access_token_role_assertion = t.access_roles,
			id_token_role_assertion = t.id_roles, id_token_userinfo_assertion = t.id_userinfo, clock_skew = t.skew,
			additional_origins = `+fromJSONList("t.origins")+`, skip_native_app_success_page = t.skip_success,
			back_channel_logout_uri = t.back_channel, login_version = nullif(t.login_version, ''), login_base_uri = t.login_base_uri
		FROM `+from+`
		WHERE x.instance_id = $1 AND x.org_id = $2 AND x.id = t.id AND x.kind = 'oidc' AND x.project_id = t.project_id
		RETURNING x.id`
	}
	rows, err := a.textRows(ctx, what, sql,
		a.job.InstanceID, a.orgID, c.id, c.project, c.name, c.clientID, c.secret, auth, redirect, responses, grants, appType,
		postLogout, version, dev, tokenType, accessRoles, idRoles, idUserinfo, skew, origins, skipSuccess, backChannel,
		loginVersion, loginBaseURI)
	if err != nil {
		return nil, err
	}
	return firstColumn(rows), nil
}

// enumNames returns the names of a list of enum values.
func enumNames[E fmt.Stringer](list []E) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.String()
	}
	return out
}
