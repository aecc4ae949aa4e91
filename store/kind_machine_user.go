package store

import (
	"context"
	"strings"

	"github.com/zimport/zimport/importdata"
)

// step imports machine users. Unlike ZITADEL, which ignores it, the user's id
// is DataMachineUser.userId; the nested user.userId is ignored.
func init() {
	register(&Step{Name: "machine_users", Type: "machine_user", Fields: []string{"machineUsers"}, Stage: StagePass1, Order: 14,
		Success: "machineUserIds", Chunkable: true, apply: applyMachineUsers})
}

const machineExists = "ID=COMMAND-k2una Message=Errors.User.AlreadyExisting"

func applyMachineUsers(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.MachineUsers
	o := newOutcomes(a, step, len(items))
	var users []newUser
	for i, it := range items {
		u := it.V
		o.setID(i, u.UserID)
		if !o.check(i, "machineUsers", it.Err, &u, "COMMAND-bm3Ds", "Errors.User.Invalid") {
			continue
		}
		if strings.TrimSpace(u.User.UserName) == "" {
			o.fail(i, zerr("COMMAND-bm3Ds", "Errors.User.Invalid", a.path("machineUsers", i)+".user.userName: is blank"))
			continue
		}
		users = append(users, newUser{i: i, id: u.UserID, name: strings.TrimSpace(u.User.UserName)})
	}
	users, err := a.claimUsers(ctx, o, users, machineExists)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return o.flush()
	}
	n := len(users)
	ids, names, states, name, desc, tokenType := column(n), column(n), column(n), column(n), column(n), column(n)
	for j, nu := range users {
		d := &items[nu.i].V
		ids[j], names[j], states[j] = nu.id, nu.name, userState(d.State)
		name[j], desc[j], tokenType[j] = d.User.Name, d.User.Description, d.User.AccessTokenType.String()
	}
	scope, err := a.userScope(ctx)
	if err != nil {
		return err
	}
	rows, err := a.textRows(ctx, "insert machine users", `INSERT INTO users (instance_id, org_id, type, username_scope,
			id, username, state, name, description, access_token_type)
		SELECT $1, $2, 'machine', $9, t.id, t.username, t.state, t.name, NULLIF(t.description, ''), t.token_type
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			AS t(id, username, state, name, description, token_type)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, ids, names, states, name, desc, tokenType, scope)
	if err != nil {
		return err
	}
	if err := a.settleUsers(ctx, o, users, firstColumn(rows), machineExists); err != nil {
		return err
	}
	return o.flush()
}
