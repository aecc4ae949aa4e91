package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step creates the org's actions with their given ids (ZITADEL's
// AddActionWithID). Action names are unique per org. With onConflict
// OVERWRITE an existing action of the org is updated in place.
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
	owners := map[string]string{}
	rows, err := a.textRows(ctx, "look up actions", `SELECT id, org_id FROM actions WHERE instance_id = $1 AND id = ANY($2)`,
		a.job.InstanceID, ids)
	if err != nil {
		return err
	}
	for _, r := range rows {
		owners[r[0]] = r[1]
	}
	// The action that has each name; an action may keep its own.
	rows, err = a.textRows(ctx, "look up action names", `SELECT name, id FROM actions
		WHERE instance_id = $1 AND org_id = $2 AND name = ANY($3)`, a.job.InstanceID, a.orgID, names)
	if err != nil {
		return err
	}
	nameHolder := make(map[string]string, len(rows))
	for _, r := range rows {
		nameHolder[r[0]] = r[1]
	}
	seen := map[string]bool{}
	var ins, upd actionRows
	for i, it := range items {
		d := it.V
		owner := owners[d.ActionID]
		holder, named := nameHolder[d.Action.Name]
		switch {
		case !o.open(i):
		case seen[d.ActionID]:
			o.exists(i, actionExists)
		case owner != "" && (!a.overwriting() || owner != a.orgID):
			o.exists(i, a.existsIn(actionExists, owner))
		case named && holder != d.ActionID:
			o.fail(i, actionNameTaken(d.Action.Name, a.orgID))
		case owner != "":
			seen[d.ActionID], nameHolder[d.Action.Name] = true, d.ActionID
			upd.add(i, d)
		default:
			seen[d.ActionID], nameHolder[d.Action.Name] = true, d.ActionID
			ins.add(i, d)
		}
	}
	if len(ins.idx) > 0 {
		rows, err := a.textRows(ctx, "insert actions", `INSERT INTO actions (instance_id, org_id, id, name, script, timeout, allowed_to_fail)
			SELECT $1, $2, t.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bool[])
				AS t(id, name, script, timeout, allowed_to_fail)
			ON CONFLICT DO NOTHING RETURNING id`,
			ins.args(a)...)
		if err != nil {
			return err
		}
		if err := a.settleNamed(ctx, o, "look up actions", "actions", ins.idx, ins.aid, firstColumn(rows), actionExists,
			func(j int) string { return actionNameTaken(ins.name[j], a.orgID) }); err != nil {
			return err
		}
	}
	if len(upd.idx) > 0 {
		rows, err := a.textRows(ctx, "update actions", `UPDATE actions x SET name = t.name, script = t.script, timeout = t.timeout,
				allowed_to_fail = t.allowed_to_fail
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bool[])
				AS t(id, name, script, timeout, allowed_to_fail)
			WHERE x.instance_id = $1 AND x.org_id = $2 AND x.id = t.id RETURNING x.id`,
			upd.args(a)...)
		if err != nil {
			return err
		}
		a.settleUpdated(o, upd.idx, upd.aid, firstColumn(rows), actionExists)
	}
	return o.flush()
}

// actionRows are the columns of actions to insert or update.
type actionRows struct {
	idx                        []int
	aid, name, script, timeout []string
	allowedToFail              []bool
}

func (r *actionRows) add(i int, d importdata.DataAction) {
	r.idx = append(r.idx, i)
	r.aid, r.name, r.script, r.timeout = append(r.aid, d.ActionID), append(r.name, d.Action.Name), append(r.script, d.Action.Script), append(r.timeout, d.Action.Timeout.String())
	r.allowedToFail = append(r.allowedToFail, d.Action.AllowedToFail)
}

// args are the parameters $1 to $7 of the insert and the update.
func (r *actionRows) args(a *applier) []any {
	return []any{a.job.InstanceID, a.orgID, r.aid, r.name, r.script, r.timeout, r.allowedToFail}
}
