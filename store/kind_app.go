package store

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// This file holds what OIDC and API applications share: their steps' path
// from the decoded items to the insert or, with onConflict OVERWRITE, the
// update, their checks against the directory, generated client ids and
// secrets.

// appStep is what differs between the steps of OIDC and API applications
// (T, e.g. importdata.DataOIDCApplication); its prepare and apply are the
// Step's.
type appStep[T any, P interface {
	*T
	Validate(string) error
}] struct {
	member    string // the DataOrg member, e.g. "oidcApps"
	kind      string // apps.kind: "oidc" or "api"
	invalidID string // ZITADEL's error id of an app that breaks its rules
	errs      appErrors
	items     func(org *importdata.DataOrg) importdata.Items[T]
	// app returns an item's id and its app's project and name.
	app func(v *T) (id, project, name string)
	// needsSecret tells whether an app's method needs a client secret.
	needsSecret func(v *T) bool
	// write inserts apps, given their generated columns, and returns the
	// ids it inserted; with update, it updates the org's existing apps of
	// the kind and project instead (keeping their client id, and their
	// client secret when they have one) and returns the ids it updated.
	write func(ctx context.Context, a *applier, items importdata.Items[T], apps []newApp, c appColumns, update bool) (map[string]bool, error)
}

// appColumns are the columns of the claimed apps that both kinds write, by
// position in the list of apps; secret is a client secret's hash or empty,
// clientID is empty for an update.
type appColumns struct {
	id, project, name, clientID, secret []string
}

// check records in o the apps that break their rules and returns the
// others.
func (s appStep[T, P]) check(o *outcomes, items importdata.Items[T]) []newApp {
	var apps []newApp
	for i, it := range items {
		v := it.V
		id, project, name := s.app(&v)
		o.setID(i, id)
		if o.check(i, s.member, it.Err, P(&v), s.invalidID, "Errors.Project.App.Invalid") {
			apps = append(apps, newApp{i: i, id: id, project: project, name: name})
		}
	}
	return apps
}

// prepare hashes the client secrets of the valid apps whose method needs
// one before the unit's transaction opens: of the new apps, and with
// onConflict OVERWRITE of the org's existing apps that have none.
func (s appStep[T, P]) prepare(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := s.items(org)
	return a.prepareSecrets(ctx, step, s.kind, s.check(newOutcomes(a, step, len(items)), items),
		func(i int) bool { return s.needsSecret(&items[i].V) })
}

// apply inserts the org's new apps that pass their checks, each with a new
// client id and, when its method needs one, a client secret; with
// onConflict OVERWRITE, it updates the org's existing ones, which keep their
// client id and secret (an app without a secret whose method now needs one
// gets one).
func (s appStep[T, P]) apply(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := s.items(org)
	o := newOutcomes(a, step, len(items))
	ins, upd, err := a.claimApps(ctx, o, s.kind, s.check(o, items), s.errs)
	if err != nil {
		return err
	}
	if len(ins) > 0 {
		idx, c, err := s.columns(ctx, a, step, items, ins, true)
		if err != nil {
			return err
		}
		inserted, err := s.write(ctx, a, items, ins, c, false)
		if err != nil {
			return err
		}
		if err := a.settleNamed(ctx, o, "look up apps", "apps", idx, c.id, inserted, s.errs.exists,
			func(j int) string { return appNameTaken(ins[j].name, ins[j].project) }); err != nil {
			return err
		}
	}
	if len(upd) > 0 {
		idx, c, err := s.columns(ctx, a, step, items, upd, false)
		if err != nil {
			return err
		}
		updated, err := s.write(ctx, a, items, upd, c, true)
		if err != nil {
			return err
		}
		a.settleUpdated(o, idx, c.id, updated, s.errs.exists)
	}
	return o.flush()
}

// columns returns the item indexes and the shared columns of apps: a new
// client id for new apps, and a client secret's hash for those whose method
// needs one and that have none.
func (s appStep[T, P]) columns(ctx context.Context, a *applier, step *Step, items importdata.Items[T], apps []newApp,
	isNew bool) ([]int, appColumns, error) {
	n := len(apps)
	c := appColumns{id: column(n), project: column(n), name: column(n), clientID: column(n), secret: column(n)}
	idx := make([]int, n)
	for j, ap := range apps {
		idx[j], c.id[j], c.project[j], c.name[j] = ap.i, ap.id, ap.project, ap.name
		if isNew {
			c.clientID[j] = randomID()
		}
		if s.needsSecret(&items[ap.i].V) && !ap.hasSecret {
			var err error
			if c.secret[j], err = a.secretHash(ctx, step, ap.i); err != nil {
				return nil, appColumns{}, err
			}
		}
	}
	return idx, c, nil
}

// newApp is an application that passed its field checks.
type newApp struct {
	i                 int // index in the step's list
	id, project, name string
	// hasSecret is true for an existing app that has a client secret.
	hasSecret bool
}

// existingApp is what claimApps needs of an app in the directory.
type existingApp struct {
	org, project, kind string
	hasSecret          bool
}

// appKindNames name the kinds of apps in messages.
var appKindNames = map[string]string{"oidc": "OIDC", "api": "API"}

// appErrors are the ZITADEL errors of one kind of application.
type appErrors struct {
	exists          string // the app id is taken
	projectNotFound string // "ID=... Message=Errors.Project.NotFound"
}

// appNameTaken is the error of an app whose name another app of its project has.
func appNameTaken(name, project string) string {
	return zerr("V3-DKcYh", "Errors.Project.App.AlreadyExists", fmt.Sprintf("app name %q is taken in project %q", name, project))
}

// claimApps decides in input order which of apps (of kind "oidc" or "api")
// may be inserted (ins) or, with onConflict OVERWRITE, updated (upd),
// checking in ZITADEL's order: an app id that exists in the instance or
// earlier in the list is reported as existing (onConflict SKIP applies),
// unless OVERWRITE may update it: an app of the org, of the same kind and
// project; the project must be one of the org's; a name that another app of
// the project has, or an earlier app of the list, fails.
func (a *applier) claimApps(ctx context.Context, o *outcomes, kind string, apps []newApp, errs appErrors) (ins, upd []newApp, err error) {
	if len(apps) == 0 {
		return nil, nil, nil
	}
	ids, projects, names := make([]string, len(apps)), make([]string, len(apps)), make([]string, len(apps))
	for j, ap := range apps {
		ids[j], projects[j], names[j] = ap.id, ap.project, ap.name
	}
	projectOwners, err := a.owners(ctx, "projects", distinctIDs(projects))
	if err != nil {
		return nil, nil, err
	}
	existing, err := a.existingApps(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	// The app that has each name; an app may keep its own.
	rows, err := a.textRows(ctx, "look up app names", `SELECT project_id, name, id FROM apps
		WHERE instance_id = $1 AND (project_id, name) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, projects, names)
	if err != nil {
		return nil, nil, err
	}
	nameHolder := make(map[tuple]string, len(rows))
	for _, r := range rows {
		nameHolder[tuple{r[0], r[1]}] = r[2]
	}
	seen := map[string]bool{}
	for _, ap := range apps {
		name := tuple{ap.project, ap.name}
		ex, found := existing[ap.id]
		holder, named := nameHolder[name]
		switch {
		case seen[ap.id]:
			o.exists(ap.i, errs.exists)
		case found && (!a.overwriting() || ex.org != a.orgID):
			o.exists(ap.i, a.existsIn(errs.exists, ex.org))
		case projectOwners[ap.project] != a.orgID:
			o.fail(ap.i, errs.projectNotFound+fmt.Sprintf(" (project %q does not exist in org %q)", ap.project, a.orgID))
		case found && ex.kind != kind:
			o.exists(ap.i, errs.exists+fmt.Sprintf(" (app %q is an %s app; onConflict OVERWRITE does not change the kind of an app)",
				ap.id, appKindNames[ex.kind]))
		case found && ex.project != ap.project:
			o.exists(ap.i, errs.exists+fmt.Sprintf(" (app %q belongs to project %q; onConflict OVERWRITE does not move an app to another project)",
				ap.id, ex.project))
		case named && holder != ap.id:
			o.fail(ap.i, appNameTaken(ap.name, ap.project))
		default:
			seen[ap.id], nameHolder[name] = true, ap.id
			if found {
				ap.hasSecret = ex.hasSecret
				upd = append(upd, ap)
			} else {
				ins = append(ins, ap)
			}
		}
	}
	return ins, upd, nil
}

// existingApps returns the apps of the instance with the given ids, by id.
func (a *applier) existingApps(ctx context.Context, ids []string) (map[string]existingApp, error) {
	rows, err := a.textRows(ctx, "look up apps", `SELECT id, org_id, project_id, kind, (client_secret_hash IS NOT NULL)::text
		FROM apps WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]existingApp, len(rows))
	for _, r := range rows {
		out[r[0]] = existingApp{org: r[1], project: r[2], kind: r[3], hasSecret: r[4] == "true"}
	}
	return out, nil
}

// prepareSecrets hashes a new client secret for each of apps (of kind
// "oidc" or "api") that needs one and whose id is free or, with onConflict
// OVERWRITE, is an app of the unit's org and kind without a secret, into
// a.secretHashes[step.Name] by item index. The secrets themselves are
// dropped: like ZITADEL's import, zimport never returns them; an app that
// needs one gets a new secret from its owner.
func (a *applier) prepareSecrets(ctx context.Context, step *Step, kind string, apps []newApp, needs func(i int) bool) error {
	var ids []string
	for _, ap := range apps {
		if needs(ap.i) {
			ids = append(ids, ap.id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// The apps that will not get a secret; the transaction, which has not
	// begun, has not loaded the unit's org yet.
	taken, err := a.set(ctx, "look up apps", `SELECT x.id FROM apps x WHERE x.instance_id = $1 AND x.id = ANY($2)
		AND (NOT $3 OR x.client_secret_hash IS NOT NULL OR x.kind <> $4
			OR x.org_id IS DISTINCT FROM (SELECT o.org_id FROM job_orgs o WHERE o.job_id = $5 AND o.org_index = $6))`,
		a.job.InstanceID, ids, a.overwriting(), kind, a.unit.JobID, a.unit.OrgIndex)
	if err != nil {
		return err
	}
	var need []int
	var plain []string
	for _, ap := range apps {
		if needs(ap.i) && !taken[tuple{ap.id}] {
			need, plain = append(need, ap.i), append(plain, rand.Text())
		}
	}
	hashes, err := a.opts.hashPasswords(ctx, plain)
	if err != nil {
		return err
	}
	if a.secretHashes == nil {
		a.secretHashes = map[string]map[int]string{}
	}
	m := make(map[int]string, len(need))
	for j, i := range need {
		m[i] = hashes[j]
	}
	a.secretHashes[step.Name] = m
	return nil
}

// secretHash returns the hash prepared for item i of step, hashing a new
// secret now when none was prepared.
func (a *applier) secretHash(ctx context.Context, step *Step, i int) (string, error) {
	if h, ok := a.secretHashes[step.Name][i]; ok {
		return h, nil
	}
	hashes, err := a.opts.hashPasswords(ctx, []string{rand.Text()})
	if err != nil {
		return "", err
	}
	return hashes[0], nil
}
