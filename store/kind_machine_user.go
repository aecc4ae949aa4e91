package store

import (
	"context"
	"strings"

	"github.com/zimport/zimport/importdata"
)

// step imports machine users. Unlike ZITADEL, which ignores it, the user's id
// is DataMachineUser.userId; the nested user.userId is ignored. With
// onConflict OVERWRITE, a machine user of the imported org is updated in
// place: user name, state, name, description and access token type.
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
	users, err := a.claimUsers(ctx, o, users, "machine", machineExists)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return o.flush()
	}
	scope, err := a.userScope(ctx)
	if err != nil {
		return err
	}
	var ins, upd machineRows
	for _, nu := range users {
		if nu.update {
			upd.add(nu, &items[nu.i].V)
		} else {
			ins.add(nu, &items[nu.i].V)
		}
	}
	written, err := a.writeUsers(ctx, "machine users", userWrite{len(ins.ids), `INSERT INTO users (instance_id, org_id, type,
			username_scope, id, username, state, name, description, access_token_type)
		SELECT $1, $2, 'machine', $9, t.id, t.username, t.state, t.name, NULLIF(t.description, ''), t.token_type
		FROM unnest(` + machineColumns + `)
		ON CONFLICT DO NOTHING RETURNING id`, ins.args(a, scope)}, userWrite{len(upd.ids), `UPDATE users u
		SET username_scope = $9, username = t.username, state = t.state, name = t.name,
			description = NULLIF(t.description, ''), access_token_type = t.token_type
		FROM unnest(` + machineColumns + `)
		WHERE u.instance_id = $1 AND u.org_id = $2 AND u.id = t.id AND u.type = 'machine' AND ` + usernameFree("$9") + `
		RETURNING u.id`, upd.args(a, scope)})
	if err != nil {
		return err
	}
	if err := a.settleUsers(ctx, o, users, written, machineExists); err != nil {
		return err
	}
	return o.flush()
}

// machineColumns are the unnest parameters of machineRows.args, $3 to $8.
const machineColumns = `$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			AS t(id, username, state, name, description, token_type`

// machineRows are the columns of machine users to insert or update.
type machineRows struct {
	ids, names, states, name, desc, tokenType []string
}

func (r *machineRows) add(nu newUser, d *importdata.DataMachineUser) {
	r.ids, r.names, r.states = append(r.ids, nu.id), append(r.names, nu.name), append(r.states, userState(d.State))
	r.name, r.desc, r.tokenType = append(r.name, d.User.Name), append(r.desc, d.User.Description), append(r.tokenType, d.User.AccessTokenType.String())
}

// args are the parameters $1 to $9 of the insert and the update.
func (r *machineRows) args(a *applier, scope string) []any {
	return []any{a.job.InstanceID, a.orgID, r.ids, r.names, r.states, r.name, r.desc, r.tokenType, scope}
}
