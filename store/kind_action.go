package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step creates the org's actions with their given ids (ZITADEL's
// AddActionWithID). Action names are unique per org.
func init() {
	register(&Step{Name: "actions", Type: "action", Fields: []string{"actions"}, Stage: StagePass1, Order: 22,
		Success: "actionIds", Chunkable: true, apply: applyActions})
}

const actionExists = "ID=COMMAND-nau2k Message=Errors.Action.AlreadyExisting"

func actionNameTaken(name, org string) string {
	return zerr("V3-DKcYh", "Errors.Action.AlreadyExists", fmt.Sprintf("action name %q is taken in org %q", name, org))
}

func applyActions(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.Actions
	o := newOutcomes(a, step, len(items))
	var ids, names []string
	for i, it := range items {
		d := it.V
		o.setID(i, d.ActionID)
		if o.check(i, "actions", it.Err, &d, "COMMAND-eg2gf", "Errors.Action.Invalid") {
			ids, names = append(ids, d.ActionID), append(names, d.Action.Name)
		}
	}
	if len(ids) == 0 {
		return o.flush()
	}
	idTaken, err := a.existingIDs(ctx, "look up actions", "actions", ids)
	if err != nil {
		return err
	}
	nameTaken, err := a.set(ctx, "look up action names", `SELECT name FROM actions
		WHERE instance_id = $1 AND org_id = $2 AND name = ANY($3)`, a.job.InstanceID, a.orgID, names)
	if err != nil {
		return err
	}
	var idx []int
	var aid, name, script, timeout []string
	var allowedToFail []bool
	for i, it := range items {
		d := it.V
		switch {
		case !o.open(i):
		case idTaken[tuple{d.ActionID}]:
			o.exists(i, actionExists)
		case nameTaken[tuple{d.Action.Name}]:
			o.fail(i, actionNameTaken(d.Action.Name, a.orgID))
		default:
			idTaken[tuple{d.ActionID}], nameTaken[tuple{d.Action.Name}] = true, true
			idx = append(idx, i)
			aid, name, script, timeout = append(aid, d.ActionID), append(name, d.Action.Name), append(script, d.Action.Script), append(timeout, d.Action.Timeout.String())
			allowedToFail = append(allowedToFail, d.Action.AllowedToFail)
		}
	}
	if len(idx) == 0 {
		return o.flush()
	}
	rows, err := a.textRows(ctx, "insert actions", `INSERT INTO actions (instance_id, org_id, id, name, script, timeout, allowed_to_fail)
		SELECT $1, $2, t.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bool[])
			AS t(id, name, script, timeout, allowed_to_fail)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, aid, name, script, timeout, allowedToFail)
	if err != nil {
		return err
	}
	if err := a.settleNamed(ctx, o, "look up actions", "actions", idx, aid, firstColumn(rows), actionExists,
		func(j int) string { return actionNameTaken(name[j], a.orgID) }); err != nil {
		return err
	}
	return o.flush()
}
