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
		Success: "apiAppIds", Chunkable: true, prepare: apiApps.prepare, apply: apiApps.apply})
}

var apiApps = appStep[importdata.DataAPIApplication, *importdata.DataAPIApplication]{
	member:    "apiApps",
	invalidID: "PROJECT-Bff2g",
	errs: appErrors{
		exists:          "ID=PROJECT-mabu12 Message=Errors.Project.App.AlreadyExisting",
		projectNotFound: "ID=PROJECT-9fnsa Message=Errors.Project.NotFound",
	},
	items: func(org *importdata.DataOrg) importdata.Items[importdata.DataAPIApplication] { return org.APIApps },
	app: func(v *importdata.DataAPIApplication) (string, string, string) {
		return v.AppID, v.App.ProjectID, v.App.Name
	},
	needsSecret: func(v *importdata.DataAPIApplication) bool {
		return v.App.AuthMethodType == importdata.APIAuthMethodTypeBasic
	},
	insert: insertAPIApps,
}

// insertAPIApps inserts the claimed API apps and returns the ids it inserted.
func insertAPIApps(ctx context.Context, a *applier, items importdata.Items[importdata.DataAPIApplication], apps []newApp,
	c appColumns) (map[string]bool, error) {
	auth := column(len(apps))
	for j, ap := range apps {
		auth[j] = items[ap.i].V.App.AuthMethodType.String()
	}
	rows, err := a.textRows(ctx, "insert api apps", `INSERT INTO apps (instance_id, org_id, kind, id, project_id, name,
			client_id, client_secret_hash, auth_method_type)
		SELECT $1, $2, 'api', t.id, t.project_id, t.name, t.client_id, nullif(t.secret, ''), t.auth
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			AS t(id, project_id, name, client_id, secret, auth)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, c.id, c.project, c.name, c.clientID, c.secret, auth)
	if err != nil {
		return nil, err
	}
	return firstColumn(rows), nil
}
