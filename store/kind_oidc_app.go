package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step creates OIDC applications in the org's projects with their given
// ids. As in ZITADEL, a client id is generated, and a client secret for the
// BASIC and POST methods; neither is returned (client credentials cannot be
// imported). Every field of the request is stored as given.
func init() {
	register(&Step{Name: "oidc_apps", Type: "oidc_app", Fields: []string{"oidcApps"}, Stage: StagePass1, Order: 19,
		Success: "oidcAppIds", Chunkable: true, prepare: prepareOIDCApps, apply: applyOIDCApps})
}

var oidcAppErrors = appErrors{
	exists:          "ID=PROJECT-lxowmp Message=Errors.Project.App.AlreadyExisting",
	projectNotFound: "ID=PROJECT-3m9s2 Message=Errors.Project.NotFound",
}

// checkOIDCApps records in o the apps that break their rules and returns
// the others.
func checkOIDCApps(o *outcomes, items importdata.Items[importdata.DataOIDCApplication]) []newApp {
	var apps []newApp
	for i, it := range items {
		ap := it.V
		o.setID(i, ap.AppID)
		if o.check(i, "oidcApps", it.Err, &ap, "PROJECT-1n8df", "Errors.Project.App.Invalid") {
			apps = append(apps, newApp{i: i, id: ap.AppID, project: ap.App.ProjectID, name: ap.App.Name})
		}
	}
	return apps
}

// prepareOIDCApps hashes the client secrets of the valid new apps whose
// method needs one before the unit's transaction opens.
func prepareOIDCApps(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.OIDCApps
	return a.prepareSecrets(ctx, step, checkOIDCApps(newOutcomes(a, step, len(items)), items),
		func(i int) bool { return items[i].V.App.AuthMethodType.NeedsSecret() })
}

func applyOIDCApps(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.OIDCApps
	o := newOutcomes(a, step, len(items))
	apps, err := a.claimApps(ctx, o, checkOIDCApps(o, items), oidcAppErrors)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		return o.flush()
	}
	n := len(apps)
	id, project, name, clientID, secret, auth := column(n), column(n), column(n), column(n), column(n), column(n)
	redirect, responses, grants, appType, postLogout, version := column(n), column(n), column(n), column(n), column(n), column(n)
	tokenType, skew, origins, backChannel, loginVersion := column(n), column(n), column(n), column(n), column(n)
	loginBaseURI := make([]*string, n)
	dev, accessRoles, idRoles, idUserinfo, skipSuccess := make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
	for j, ap := range apps {
		d := &items[ap.i].V.App
		id[j], project[j], name[j], clientID[j] = ap.id, d.ProjectID, d.Name, newClientID()
		if d.AuthMethodType.NeedsSecret() {
			if secret[j], err = a.secretHash(ctx, step, ap.i); err != nil {
				return err
			}
		}
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
	rows, err := a.textRows(ctx, "insert oidc apps", `INSERT INTO apps (instance_id, org_id, kind, id, project_id, name,
			client_id, client_secret_hash, auth_method_type, redirect_uris, response_types, grant_types, app_type,
			post_logout_redirect_uris, version, dev_mode, access_token_type, access_token_role_assertion,
			id_token_role_assertion, id_token_userinfo_assertion, clock_skew, additional_origins,
			skip_native_app_success_page, back_channel_logout_uri, login_version, login_base_uri)
		SELECT $1, $2, 'oidc', t.id, t.project_id, t.name, t.client_id, nullif(t.secret, ''), t.auth,
			`+fromJSONList("t.redirect")+`, `+fromJSONList("t.responses")+`, `+fromJSONList("t.grants")+`, t.app_type,
			`+fromJSONList("t.post_logout")+`, t.version, t.dev, t.token_type, t.access_roles,
			t.id_roles, t.id_userinfo, t.skew, `+fromJSONList("t.origins")+`,
			t.skip_success, t.back_channel, nullif(t.login_version, ''), t.login_base_uri
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
				$11::text[], $12::text[], $13::text[], $14::text[], $15::bool[], $16::text[], $17::bool[],
				$18::bool[], $19::bool[], $20::text[], $21::text[], $22::bool[], $23::text[], $24::text[], $25::text[])
			AS t(id, project_id, name, client_id, secret, auth, redirect, responses, grants, app_type, post_logout,
				version, dev, token_type, access_roles, id_roles, id_userinfo, skew, origins, skip_success, back_channel,
				login_version, login_base_uri)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, id, project, name, clientID, secret, auth, redirect, responses, grants, appType,
		postLogout, version, dev, tokenType, accessRoles, idRoles, idUserinfo, skew, origins, skipSuccess, backChannel,
		loginVersion, loginBaseURI)
	if err != nil {
		return err
	}
	if err := a.settleApps(ctx, o, apps, firstColumn(rows), oidcAppErrors); err != nil {
		return err
	}
	return o.flush()
}

// enumNames returns the names of a list of enum values.
func enumNames[E fmt.Stringer](list []E) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.String()
	}
	return out
}
