package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
)

// This file holds what OIDC and API applications share: their checks
// against the directory, generated client ids and secrets.

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
	idTaken, err := a.set(ctx, "look up apps", `SELECT id FROM apps WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, ids)
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

// settleApps records the outcome of the apps an insert was given: those it
// returned succeeded; another was created meanwhile by a parallel unit (its
// id exists now) or lost its name to one.
func (a *applier) settleApps(ctx context.Context, o *outcomes, apps []newApp, inserted map[string]bool, errs appErrors) error {
	var lost []string
	for _, ap := range apps {
		if !inserted[ap.id] {
			lost = append(lost, ap.id)
		}
	}
	exists := map[tuple]bool{}
	if len(lost) > 0 {
		var err error
		if exists, err = a.set(ctx, "look up apps", `SELECT id FROM apps WHERE instance_id = $1 AND id = ANY($2)`,
			a.job.InstanceID, lost); err != nil {
			return err
		}
	}
	for _, ap := range apps {
		switch {
		case inserted[ap.id]:
			o.ok(ap.i, ap.id)
		case exists[tuple{ap.id}]:
			o.exists(ap.i, errs.exists)
		default:
			o.fail(ap.i, appNameTaken(ap.name, ap.project))
		}
	}
	return nil
}

// clientIDLimit bounds generated client ids: 18 digits, as ZITADEL's
// generated ids.
var clientIDLimit = big.NewInt(900_000_000_000_000_000)

// newClientID returns a random 18-digit client id. The unique constraint
// on client ids makes a collision (one in 10^17) an insert that does not
// happen, reported like a name taken meanwhile.
func newClientID() string {
	n, err := rand.Int(rand.Reader, clientIDLimit)
	if err != nil {
		panic("store: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(100_000_000_000_000_000)).String()
}

// newClientSecret returns a random client secret of 256 bits.
func newClientSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
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
	taken, err := a.set(ctx, "look up apps", `SELECT id FROM apps WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, ids)
	if err != nil {
		return err
	}
	var need []int
	var plain []string
	for _, ap := range apps {
		if needs(ap.i) && !taken[tuple{ap.id}] {
			need, plain = append(need, ap.i), append(plain, newClientSecret())
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
	hashes, err := a.opts.hashPasswords(ctx, []string{newClientSecret()})
	if err != nil {
		return "", err
	}
	return hashes[0], nil
}
