package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/importdata"
)

// step creates the org with its given id, or finds it when it exists; an
// org that can be neither created nor found is skipped with all its data.
// With onConflict OVERWRITE an existing org that the import gives (org)
// has its name and state updated.
func init() {
	register(&Step{Name: "org", Type: "org", Fields: []string{"orgId", "org", "orgState"}, Stage: StagePass1, Order: 1, Always: true, apply: applyOrg})
	// The org's success entry is the org itself: the result renderer starts an
	// ImportDataSuccessOrg for every org with an "ok" org result.
}

func applyOrg(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	recorded := len(a.results)
	present, err := a.createOrg(ctx, step, org)
	if err != nil {
		return err
	}
	a.orgPresent = present
	if present && len(a.results) == recorded {
		// Created now. An org that existed has its error, skip or overwrite
		// as its result; the renderer lists it as present (job_orgs.present).
		a.succeed(step, 0, "org", a.orgID)
	}
	_, err = a.db.Exec(ctx, `UPDATE job_orgs SET present = $3 WHERE job_id = $1 AND org_index = $2`,
		a.unit.JobID, a.unit.OrgIndex, present)
	return err
}

// orgExisting is the error of an org that exists.
var orgExisting = zerr("ORG-lapo2n", "Errors.Org.AlreadyExisting", "")

// createOrg reports whether the org exists afterwards.
func (a *applier) createOrg(ctx context.Context, step *Step, org *importdata.DataOrg) (bool, error) {
	if org.Org != nil {
		// ZITADEL trims org names before it checks them (domain.Org.IsValid):
		// an empty one is invalid, and the unique name is the trimmed one.
		org.Org.Name = strings.TrimSpace(org.Org.Name)
	}
	exists, err := a.orgExists(ctx, a.orgID)
	if err != nil {
		return false, err
	}
	if exists {
		if a.overwriting() && org.Org != nil {
			return true, a.overwriteOrg(ctx, step, org)
		}
		a.failOrExisting(step, 0, "org", a.orgID, orgExisting)
		return true, nil
	}
	if err := org.Validate(fmt.Sprintf("orgs[%d]", a.unit.OrgIndex)); err != nil {
		a.fail(step, 0, "org", a.orgID, zerr("ORG-4nd8s", "Errors.Org.Invalid", err.Error()))
		return false, nil
	}
	if org.Org == nil {
		a.fail(step, 0, "org", a.orgID, zerr("ORG-4nd8s", "Errors.Org.Invalid", fmt.Sprintf("org %q does not exist and orgs[%d].org is missing", a.orgID, a.unit.OrgIndex)))
		return false, nil
	}
	tag, err := a.db.Exec(ctx, `INSERT INTO orgs (instance_id, id, name, state) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		a.job.InstanceID, a.orgID, org.Org.Name, orgState(org))
	if err != nil {
		return false, fmt.Errorf("insert org: %w", err)
	}
	if tag.RowsAffected() == 0 {
		// Another unit created the same id meanwhile, or the name is taken.
		if exists, err := a.orgExists(ctx, a.orgID); err != nil || exists {
			a.failOrExisting(step, 0, "org", a.orgID, orgExisting)
			return exists, err
		}
		a.fail(step, 0, "org", a.orgID, orgNameTaken(org.Org.Name))
		return false, nil
	}
	return true, nil
}

// overwriteOrg updates the name and state of the existing org (onConflict
// OVERWRITE). An org that is invalid or whose new name another org has
// keeps its values and has an error; its data is imported all the same.
func (a *applier) overwriteOrg(ctx context.Context, step *Step, org *importdata.DataOrg) error {
	if err := org.Validate(fmt.Sprintf("orgs[%d]", a.unit.OrgIndex)); err != nil {
		a.fail(step, 0, "org", a.orgID, zerr("ORG-4nd8s", "Errors.Org.Invalid", err.Error()))
		return nil
	}
	var taken bool
	if err := a.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orgs WHERE instance_id = $1 AND id <> $2 AND lower(name) = lower($3))`,
		a.job.InstanceID, a.orgID, org.Org.Name).Scan(&taken); err != nil {
		return fmt.Errorf("look up org name: %w", err)
	}
	if taken {
		a.fail(step, 0, "org", a.orgID, orgNameTaken(org.Org.Name))
		return nil
	}
	tag, err := a.db.Exec(ctx, `UPDATE orgs SET name = $3, state = $4 WHERE instance_id = $1 AND id = $2`,
		a.job.InstanceID, a.orgID, org.Org.Name, orgState(org))
	if err != nil {
		return fmt.Errorf("update org: %w", err)
	}
	if tag.RowsAffected() == 0 { // deleted meanwhile
		a.fail(step, 0, "org", a.orgID, orgExisting)
		return nil
	}
	a.overwrote(step, 0, "org", a.orgID, a.orgID)
	return nil
}

// orgState is the state an org is stored with: inactive when the import
// says so, else active.
func orgState(org *importdata.DataOrg) string {
	if org.OrgState == importdata.OrgStateInactive {
		return importdata.OrgStateInactive.String()
	}
	return importdata.OrgStateActive.String()
}

// orgNameTaken is the error of an org whose name another org has.
func orgNameTaken(name string) string {
	return zerr("ORG-lapo2n", "Errors.Org.AlreadyExists", fmt.Sprintf("an org named %q exists", name))
}

// failOrExisting records an existing entity: an error, or a skip when the job
// says onConflict SKIP.
func (a *applier) failOrExisting(step *Step, item int, typ, id, msg string) {
	if a.job.OnConflict == importdata.OnConflictSkip {
		a.skip(step, item, typ, id)
		return
	}
	a.fail(step, item, typ, id, msg)
}

func (a *applier) orgExists(ctx context.Context, id string) (bool, error) {
	var one int
	err := a.db.QueryRow(ctx, `SELECT 1 FROM orgs WHERE instance_id = $1 AND id = $2`, a.job.InstanceID, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up org: %w", err)
	}
	return true, nil
}

// zerr formats an entity error the way ZITADEL does ("ID=<id> Message=<key>"),
// with a detail that says what was wrong.
func zerr(id, key, detail string) string {
	if detail == "" {
		return "ID=" + id + " Message=" + key
	}
	return "ID=" + id + " Message=" + key + " (" + detail + ")"
}

// userNotFound is the error of an entity that names a user the instance
// does not have.
func userNotFound(userID string) string {
	return zerr("COMMAND-4M0fs", "Errors.User.NotFound", fmt.Sprintf("user %q does not exist", userID))
}
