package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step creates API applications in the org's projects with their given ids.
// As for OIDC apps, a client id is generated, and a client secret for the
// BASIC method; neither is returned.
func init() {
	register(&Step{Name: "api_apps", Type: "api_app", Fields: []string{"apiApps"}, Stage: StagePass1, Order: 20,
		Success: "apiAppIds", Chunkable: true, prepare: prepareAPIApps, apply: applyAPIApps})
}

var apiAppErrors = appErrors{
	exists:          "ID=PROJECT-mabu12 Message=Errors.Project.App.AlreadyExisting",
	projectNotFound: "ID=PROJECT-9fnsa Message=Errors.Project.NotFound",
}

// checkAPIApps records in o the apps that break their rules and returns the
// others.
func checkAPIApps(o *outcomes, items importdata.Items[importdata.DataAPIApplication]) []newApp {
	var apps []newApp
	for i, it := range items {
		ap := it.V
		o.setID(i, ap.AppID)
		if o.check(i, "apiApps", it.Err, &ap, "PROJECT-Bff2g", "Errors.Project.App.Invalid") {
			apps = append(apps, newApp{i: i, id: ap.AppID, project: ap.App.ProjectID, name: ap.App.Name})
		}
	}
	return apps
}

// prepareAPIApps hashes the client secrets of the valid new BASIC apps
// before the unit's transaction opens.
func prepareAPIApps(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.APIApps
	return a.prepareSecrets(ctx, step, checkAPIApps(newOutcomes(a, step, len(items)), items),
		func(i int) bool { return items[i].V.App.AuthMethodType == importdata.APIAuthMethodTypeBasic })
}

func applyAPIApps(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.APIApps
	o := newOutcomes(a, step, len(items))
	apps, err := a.claimApps(ctx, o, checkAPIApps(o, items), apiAppErrors)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		return o.flush()
	}
	n := len(apps)
	id, project, name, clientID, secret, auth := column(n), column(n), column(n), column(n), column(n), column(n)
	for j, ap := range apps {
		d := &items[ap.i].V.App
		id[j], project[j], name[j], clientID[j], auth[j] = ap.id, d.ProjectID, d.Name, newClientID(), d.AuthMethodType.String()
		if d.AuthMethodType == importdata.APIAuthMethodTypeBasic {
			if secret[j], err = a.secretHash(ctx, step, ap.i); err != nil {
				return err
			}
		}
	}
	rows, err := a.textRows(ctx, "insert api apps", `INSERT INTO apps (instance_id, org_id, kind, id, project_id, name,
			client_id, client_secret_hash, auth_method_type)
		SELECT $1, $2, 'api', t.id, t.project_id, t.name, t.client_id, nullif(t.secret, ''), t.auth
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			AS t(id, project_id, name, client_id, secret, auth)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, id, project, name, clientID, secret, auth)
	if err != nil {
		return err
	}
	if err := a.settleApps(ctx, o, apps, firstColumn(rows), apiAppErrors); err != nil {
		return err
	}
	return o.flush()
}
