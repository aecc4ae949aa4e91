package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step creates API applications in the org's projects with their given ids.
// As for OIDC apps, a client id is generated, and a client secret for the
// BASIC method; neither is returned. With onConflict OVERWRITE an existing
// API app of the org is updated in place (see appStep.apply).
func init() {
	register(&Step{Name: "api_apps", Type: "api_app", Fields: []string{"apiApps"}, Stage: StagePass1, Order: 20,
		Success: "apiAppIds", Chunkable: true, prepare: apiApps.prepare, apply: apiApps.apply})
}

var apiApps = appStep[importdata.DataAPIApplication, *importdata.DataAPIApplication]{
	member:    "apiApps",
	kind:      "api",
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
	write: writeAPIApps,
}

// writeAPIApps inserts the claimed API apps and returns the ids it
// inserted; with update, it updates the org's existing API apps instead,
// keeping their client id and their client secret when they have one, and
// returns the ids it updated.
func writeAPIApps(ctx context.Context, a *applier, items importdata.Items[importdata.DataAPIApplication], apps []newApp,
	c appColumns, update bool) (map[string]bool, error) {
	auth := column(len(apps))
	for j, ap := range apps {
		auth[j] = items[ap.i].V.App.AuthMethodType.String()
	}
	from := `unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			AS t(id, project_id, name, client_id, secret, auth)`
	what, sql := "insert api apps", `INSERT INTO apps (instance_id, org_id, kind, id, project_id, name,
			client_id, client_secret_hash, auth_method_type)
		SELECT $1, $2, 'api', t.id, t.project_id, t.name, t.client_id, nullif(t.secret, ''), t.auth
		FROM `+from+`
		ON CONFLICT DO NOTHING RETURNING id`
	if update {
		what, sql = "update api apps", `UPDATE apps x SET name = t.name,
			client_secret_hash = coalesce(x.client_secret_hash, nullif(t.secret, '')), auth_method_type = t.auth
		FROM `+from+`
		WHERE x.instance_id = $1 AND x.org_id = $2 AND x.id = t.id AND x.kind = 'api' AND x.project_id = t.project_id
		RETURNING x.id`
	}
	rows, err := a.textRows(ctx, what, sql, a.job.InstanceID, a.orgID, c.id, c.project, c.name, c.clientID, c.secret, auth)
	if err != nil {
		return nil, err
	}
	return firstColumn(rows), nil
}
