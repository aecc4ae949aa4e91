package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/zimport/zimport/importdata"
)

// step sets the actions that the org runs for a trigger of a flow (ZITADEL's
// SetTriggerActions). It runs in pass 2, after every org's actions. Flow and
// trigger types are ids ("1") or names; unlike ZITADEL, which makes an
// unknown one "unspecified", an unknown type is an error that names it.
// With onConflict OVERWRITE the actions of a trigger that has some are
// replaced by the new list (an empty list leaves it without actions).
func init() {
	register(&Step{Name: "trigger_actions", Type: "trigger_action", Fields: []string{"triggerActions"}, Stage: StagePass2, Order: 1,
		Success: "triggerActions", SuccessKeys: []string{"flowType", "triggerType", "actionIds[]"}, Chunkable: true,
		apply: applyTriggerActions})
	// Success rows and errors share the id "flowType_triggerType" as given;
	// the success entry echoes the request.
}

// triggerKey is a flow type and trigger type by number.
type triggerKey struct{ flow, trigger int }

func applyTriggerActions(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.TriggerActions
	o := newOutcomes(a, step, len(items))
	keys := make([]triggerKey, len(items))
	var actionIDs []string
	valid := 0
	for i, it := range items {
		t := it.V
		o.setID(i, t.FlowType+"_"+t.TriggerType)
		if !o.check(i, "triggerActions", it.Err, &t, "COMMAND-Dfhj5", "Errors.Flow.FlowTypeMissing") {
			continue
		}
		k := triggerKey{importdata.FlowTypeID(t.FlowType), importdata.TriggerTypeID(t.TriggerType)}
		if !importdata.FlowHasTrigger(k.flow, k.trigger) {
			o.fail(i, zerr("COMMAND-Dfgh6", "Errors.Flow.WrongTriggerType",
				fmt.Sprintf("%s: flow type %q has no trigger type %q", a.path("triggerActions", i), t.FlowType, t.TriggerType)))
			continue
		}
		keys[i] = k
		actionIDs = append(actionIDs, t.ActionIDs...)
		valid++
	}
	if valid == 0 {
		return o.flush()
	}
	actions, err := a.set(ctx, "look up actions", `SELECT id FROM actions WHERE instance_id = $1 AND org_id = $2 AND id = ANY($3)`,
		a.job.InstanceID, a.orgID, distinctIDs(actionIDs))
	if err != nil {
		return err
	}
	rows, err := a.textRows(ctx, "look up trigger actions", `SELECT flow_type::text, trigger_type::text, to_json(action_ids)::text
		FROM trigger_actions WHERE instance_id = $1 AND org_id = $2`, a.job.InstanceID, a.orgID)
	if err != nil {
		return err
	}
	set := map[triggerKey][]string{}
	for _, r := range rows {
		flow, _ := strconv.Atoi(r[0])
		trigger, _ := strconv.Atoi(r[1])
		var ids []string
		if err := json.Unmarshal([]byte(r[2]), &ids); err != nil {
			return fmt.Errorf("look up trigger actions: %w", err)
		}
		set[triggerKey{flow, trigger}] = ids
	}
	// seen are the triggers set earlier in the list: a second one is an
	// error (or a skip) even with onConflict OVERWRITE.
	seen := map[triggerKey]bool{}
	var ins, upd, emptied triggerRows
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		t, k := it.V, keys[i]
		have := map[string]bool{}
		for _, id := range t.ActionIDs {
			have[id] = actions[tuple{id}]
		}
		// In ZITADEL's order; setting no actions where there are none is no
		// change either. OVERWRITE replaces the actions of a trigger that
		// has some (set before the import), even with the same ones.
		existing, isSet := set[k]
		keep := !a.overwriting() || seen[k]
		switch {
		case isSet && keep && slices.Equal(existing, t.ActionIDs):
			o.exists(i, zerr("COMMAND-Nfh52", "Errors.Flow.NoChanges", ""))
		case len(t.ActionIDs) == 0 && !isSet:
			o.fail(i, zerr("COMMAND-Nfh52", "Errors.Flow.NoChanges", a.path("triggerActions", i)+".actionIds: is empty"))
		case missingKeys(t.ActionIDs, have) != "":
			o.fail(i, zerr("COMMAND-dg422", "Errors.Flow.ActionIDsNotExist",
				fmt.Sprintf("org %q has no action %s", a.orgID, missingKeys(t.ActionIDs, have))))
		case isSet && keep:
			o.exists(i, triggerSet(existing))
		case isSet && len(t.ActionIDs) == 0:
			set[k], seen[k] = t.ActionIDs, true
			emptied.add(i, k, nil)
		case isSet:
			set[k], seen[k] = t.ActionIDs, true
			upd.add(i, k, t.ActionIDs)
		default:
			set[k], seen[k] = t.ActionIDs, true
			ins.add(i, k, t.ActionIDs)
		}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert trigger actions", `INSERT INTO trigger_actions (instance_id, org_id, flow_type, trigger_type, action_ids)
			SELECT $1, $2, t.flow_type, t.trigger_type, `+fromJSONList("t.action_ids")+`
			FROM unnest($3::int[], $4::int[], $5::text[]) AS t(flow_type, trigger_type, action_ids)
			ON CONFLICT DO NOTHING RETURNING flow_type::text, trigger_type::text`,
			a.job.InstanceID, a.orgID, ins.flows, ins.triggers, ins.lists)
		if err != nil {
			return err
		}
		// Only the org's units set its trigger actions, one after another.
		ins.settle(o, items, keys, inserted, false)
	}
	if len(upd.idx) > 0 {
		updated, err := a.set(ctx, "update trigger actions", `UPDATE trigger_actions x SET action_ids = `+fromJSONList("t.action_ids")+`
			FROM unnest($3::int[], $4::int[], $5::text[]) AS t(flow_type, trigger_type, action_ids)
			WHERE x.instance_id = $1 AND x.org_id = $2 AND x.flow_type = t.flow_type AND x.trigger_type = t.trigger_type
			RETURNING x.flow_type::text, x.trigger_type::text`,
			a.job.InstanceID, a.orgID, upd.flows, upd.triggers, upd.lists)
		if err != nil {
			return err
		}
		upd.settle(o, items, keys, updated, true)
	}
	if len(emptied.idx) > 0 {
		// An empty list leaves the trigger without actions, as ZITADEL's
		// SetTriggerActions does.
		cleared, err := a.set(ctx, "delete trigger actions", `DELETE FROM trigger_actions x
			USING unnest($3::int[], $4::int[]) AS t(flow_type, trigger_type)
			WHERE x.instance_id = $1 AND x.org_id = $2 AND x.flow_type = t.flow_type AND x.trigger_type = t.trigger_type
			RETURNING x.flow_type::text, x.trigger_type::text`,
			a.job.InstanceID, a.orgID, emptied.flows, emptied.triggers)
		if err != nil {
			return err
		}
		emptied.settle(o, items, keys, cleared, true)
	}
	return o.flush()
}

// triggerRows are the columns of trigger_actions to insert or update.
type triggerRows struct {
	idx             []int
	flows, triggers []int
	lists           []string
}

func (r *triggerRows) add(i int, k triggerKey, actionIDs []string) {
	r.idx = append(r.idx, i)
	r.flows, r.triggers, r.lists = append(r.flows, k.flow), append(r.triggers, k.trigger), append(r.lists, jsonArray(actionIDs))
}

// settle records the outcome of the triggers a statement was given: those
// it returned were set (overwritten with updated).
func (r *triggerRows) settle(o *outcomes, items importdata.Items[importdata.SetTriggerActionsRequest], keys []triggerKey,
	written map[tuple]bool, updated bool) {
	for _, i := range r.idx {
		t, k := items[i].V, keys[i]
		switch {
		case !written[tuple{strconv.Itoa(k.flow), strconv.Itoa(k.trigger)}]:
			o.exists(i, triggerSet(nil))
		case updated:
			o.overwrote(i, o.list[i].id, t.FlowType, t.TriggerType, jsonArray(t.ActionIDs))
		default:
			o.ok(i, o.list[i].id, t.FlowType, t.TriggerType, jsonArray(t.ActionIDs))
		}
	}
}

// triggerSet is the error of trigger actions for a trigger that has other
// actions already: ZITADEL would replace them, zimport reports the conflict
// (its own message) unless onConflict is OVERWRITE.
func triggerSet(existing []string) string {
	msg := "the trigger already has actions"
	if len(existing) > 0 {
		msg += " " + jsonArray(existing)
	}
	return zerr("V3-DKcYh", "Errors.Flow.AlreadyExists", msg)
}
