package store

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// This file holds what OIDC and API applications share: their steps' path
// from the decoded items to the insert, their checks against the directory,
// generated client ids and secrets.

// appStep is what differs between the steps of OIDC and API applications
// (T, e.g. importdata.DataOIDCApplication); its prepare and apply are the
// Step's.
type appStep[T any, P interface {
	*T
	Validate(string) error
}] struct {
	member    string // the DataOrg member, e.g. "oidcApps"
	invalidID string // ZITADEL's error id of an app that breaks its rules
	errs      appErrors
	items     func(org *importdata.DataOrg) importdata.Items[T]
	// app returns an item's id and its app's project and name.
	app func(v *T) (id, project, name string)
	// needsSecret tells whether an app's method needs a client secret.
	needsSecret func(v *T) bool
	// insert inserts apps, given their generated columns, and returns the
	// ids it inserted.
	insert func(ctx context.Context, a *applier, items importdata.Items[T], apps []newApp, c appColumns) (map[string]bool, error)
}

// appColumns are the columns of the claimed apps that both kinds insert, by
// position in the list of apps; secret is a client secret's hash or empty.
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

// prepare hashes the client secrets of the valid new apps whose method
// needs one before the unit's transaction opens.
func (s appStep[T, P]) prepare(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := s.items(org)
	return a.prepareSecrets(ctx, step, s.check(newOutcomes(a, step, len(items)), items),
		func(i int) bool { return s.needsSecret(&items[i].V) })
}

// apply inserts the org's apps that pass their checks, each with a new
// client id and, when its method needs one, a client secret.
func (s appStep[T, P]) apply(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := s.items(org)
	o := newOutcomes(a, step, len(items))
	apps, err := a.claimApps(ctx, o, s.check(o, items), s.errs)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		return o.flush()
	}
	n := len(apps)
	c := appColumns{id: column(n), project: column(n), name: column(n), clientID: column(n), secret: column(n)}
	idx := make([]int, n)
	for j, ap := range apps {
		idx[j], c.id[j], c.project[j], c.name[j], c.clientID[j] = ap.i, ap.id, ap.project, ap.name, randomID()
		if s.needsSecret(&items[ap.i].V) {
			if c.secret[j], err = a.secretHash(ctx, step, ap.i); err != nil {
				return err
			}
		}
	}
	inserted, err := s.insert(ctx, a, items, apps, c)
	if err != nil {
		return err
	}
	if err := a.settleNamed(ctx, o, "look up apps", "apps", idx, c.id, inserted, s.errs.exists,
		func(j int) string { return appNameTaken(apps[j].name, apps[j].project) }); err != nil {
		return err
	}
	return o.flush()
}

// newApp is an application that passed its field checks.
type newApp struct {
	i                 int // index in the step's list
	id, project, name string
}

// appErrors are the ZITADEL errors of one kind of application.
type appErrors struct {
	exists          string // the app id is taken
	projectNotFound string // "ID=... Message=Errors.Project.NotFound"
}

// appNameTaken is the error of an app whose name another app of its project has.
func appNameTaken(name, project string) string {
	return zerr("V3-DKcYh", "Errors.Project.App.AlreadyExists", fmt.Sprintf("app name %q is taken in project %q", name, project))
}

// claimApps decides in input order which of apps may be inserted, checking
// in ZITADEL's order: an app id that exists in the instance or earlier in
// the list is reported as existing (onConflict SKIP applies); the project
// must be one of the org's; a name that another app of the project has, or
// an earlier app of the list, fails.
func (a *applier) claimApps(ctx context.Context, o *outcomes, apps []newApp, errs appErrors) ([]newApp, error) {
	if len(apps) == 0 {
		return nil, nil
	}
	ids, projects, names := make([]string, len(apps)), make([]string, len(apps)), make([]string, len(apps))
	for j, ap := range apps {
		ids[j], projects[j], names[j] = ap.id, ap.project, ap.name
	}
	projectOwners, err := a.owners(ctx, "projects", distinctIDs(projects))
	if err != nil {
		return nil, err
	}
	idTaken, err := a.existingIDs(ctx, "look up apps", "apps", ids)
	if err != nil {
		return nil, err
	}
	nameTaken, err := a.set(ctx, "look up app names", `SELECT project_id, name FROM apps
		WHERE instance_id = $1 AND (project_id, name) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		a.job.InstanceID, projects, names)
	if err != nil {
		return nil, err
	}
	out := apps[:0:0]
	for _, ap := range apps {
		name := tuple{ap.project, ap.name}
		switch {
		case idTaken[tuple{ap.id}]:
			o.exists(ap.i, errs.exists)
		case projectOwners[ap.project] != a.orgID:
			o.fail(ap.i, errs.projectNotFound+fmt.Sprintf(" (project %q does not exist in org %q)", ap.project, a.orgID))
		case nameTaken[name]:
			o.fail(ap.i, appNameTaken(ap.name, ap.project))
		default:
			idTaken[tuple{ap.id}], nameTaken[name] = true, true
			out = append(out, ap)
		}
	}
	return out, nil
}

// prepareSecrets hashes a new client secret for each of apps that needs
// one and whose id is free, into a.secretHashes[step.Name] by item index.
// The secrets themselves are dropped: like ZITADEL's import, zimport never
// returns them; an app that needs one gets a new secret from its owner.
func (a *applier) prepareSecrets(ctx context.Context, step *Step, apps []newApp, needs func(i int) bool) error {
	var ids []string
	for _, ap := range apps {
		if needs(ap.i) {
			ids = append(ids, ap.id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	taken, err := a.existingIDs(ctx, "look up apps", "apps", ids)
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
