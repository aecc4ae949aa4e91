package store

import (
	"context"
	"strings"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/passhash"
)

// step imports human users with their given ids (ZITADEL's ImportHuman),
// with their links to IdPs of the org (user.idps), then their TOTP secrets
// (ZITADEL's ImportHumanTOTP, also for users that existed). A hashed
// password must be in a format that passhash knows and is stored as given;
// a plain one is hashed with bcrypt before the unit's transaction opens. A
// user that asks for passwordless registration gets a one-time registration
// code, whose link is in the passwordlessLinks list of the result.
func init() {
	register(&Step{Name: "human_users", Type: "human_user", Fields: []string{"humanUsers"}, Stage: StagePass1, Order: 13,
		Success: "humanUserIds", Chunkable: true, prepare: prepareHumanUsers, apply: applyHumanUsers})
}

const humanExists = "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"

// checkHumanUsers records in o the users that break their rules and returns
// the others.
func checkHumanUsers(a *applier, o *outcomes, items importdata.Items[importdata.DataHumanUser]) []newUser {
	var users []newUser
	for i, it := range items {
		u := it.V
		o.setID(i, u.UserID)
		if !o.check(i, "humanUsers", it.Err, &u, "USER-4M90d", "Errors.User.Invalid") {
			continue
		}
		path := a.path("humanUsers", i)
		var hashErr error // never quotes the hash
		if h := hashedPassword(&u.User); h != "" {
			_, hashErr = passhash.Identify(h)
		}
		switch {
		case strings.TrimSpace(u.User.UserName) == "":
			o.fail(i, zerr("USER-4M90d", "Errors.User.Invalid", path+".user.userName: is blank"))
		case hashErr != nil:
			o.fail(i, zerr("USER-JDk4t", "Errors.User.Password.NotSupported", path+".user.hashedPassword.value: "+hashErr.Error()))
		case hashedPassword(&u.User) == "" && len(u.User.Password) > maxBcryptBytes:
			o.fail(i, zerr("USER-4M90d", "Errors.User.Invalid", path+".user.password: at most 72 bytes (bcrypt)"))
		default:
			users = append(users, newUser{i: i, id: u.UserID, name: strings.TrimSpace(u.User.UserName)})
		}
	}
	return users
}

// prepareHumanUsers hashes the plain passwords of the users that pass their
// checks and whose id is free, into a.hashes, so that the unit's
// transaction does not hold its locks while bcrypt works.
func prepareHumanUsers(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.HumanUsers
	o := newOutcomes(a, step, len(items)) // recorded by apply, not here
	users, err := a.checkPasswords(ctx, o, org, checkHumanUsers(a, o, items))
	if err != nil {
		return err
	}
	ids := make([]string, len(users))
	for j, nu := range users {
		ids[j] = nu.id
	}
	taken, err := a.owners(ctx, "users", ids)
	if err != nil {
		return err
	}
	var idx []int
	var plain []string
	for _, nu := range users {
		if u := &items[nu.i].V.User; taken[nu.id] == "" && hashedPassword(u) == "" && u.Password != "" {
			idx, plain = append(idx, nu.i), append(plain, u.Password)
		}
	}
	hashes, err := a.opts.hashPasswords(ctx, plain)
	if err != nil {
		return err
	}
	a.hashes = make(map[int]string, len(idx))
	for j, i := range idx {
		a.hashes[i] = hashes[j]
	}
	return nil
}

func applyHumanUsers(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.HumanUsers
	o := newOutcomes(a, step, len(items))
	users, err := a.checkPasswords(ctx, o, org, checkHumanUsers(a, o, items))
	if err != nil {
		return err
	}
	if users, err = a.checkHumanIDPs(ctx, o, items, users); err != nil {
		return err
	}
	if users, err = a.claimUsers(ctx, o, users, humanExists); err != nil {
		return err
	}
	if len(users) == 0 {
		return a.finishHumanUsers(ctx, o, items)
	}

	// A password that was not hashed before (its id was taken then) is
	// hashed now.
	plain := make([]string, len(users))
	for j, nu := range users {
		if u := &items[nu.i].V.User; hashedPassword(u) == "" && a.hashes[nu.i] == "" {
			plain[j] = u.Password
		}
	}
	hashes, err := a.opts.hashPasswords(ctx, plain)
	if err != nil {
		return err
	}
	for j, nu := range users {
		if hashes[j] != "" {
			if a.hashes == nil {
				a.hashes = map[int]string{}
			}
			a.hashes[nu.i] = hashes[j]
		}
	}

	n := len(users)
	var (
		ids, names, states, first, last, nick, display, lang, gender = column(n), column(n), column(n), column(n), column(n), column(n), column(n), column(n), column(n)
		email, phone, hash                                           = column(n), column(n), column(n)
		emailOK, phoneOK, change                                     = make([]bool, n), make([]bool, n), make([]bool, n)
	)
	for j, nu := range users {
		d := &items[nu.i].V
		u := &d.User
		p := u.Profile // required by Validate
		ids[j], names[j], states[j] = nu.id, nu.name, userState(d.State)
		first[j], last[j], nick[j], lang[j], gender[j] = p.FirstName, p.LastName, p.NickName, p.PreferredLanguage, p.Gender.String()
		email[j], emailOK[j] = strings.TrimSpace(u.Email.Email), u.Email.IsEmailVerified
		display[j] = displayName(p, email[j], nu.name)
		if u.Phone != nil {
			phone[j], phoneOK[j] = u.Phone.Phone, u.Phone.IsPhoneVerified
		}
		if h := hashedPassword(u); h != "" {
			hash[j] = h // as given, and no change required (ZITADEL)
		} else if h := a.hashes[nu.i]; h != "" {
			hash[j], change[j] = h, u.PasswordChangeRequired
		}
	}
	scope, err := a.userScope(ctx)
	if err != nil {
		return err
	}
	rows, err := a.textRows(ctx, "insert human users", `INSERT INTO users (instance_id, org_id, type, username_scope,
			id, username, state, first_name, last_name, nick_name, display_name, preferred_language, gender,
			email, email_verified, phone, phone_verified, password_hash, password_change_required)
		SELECT $1, $2, 'human', $18, t.id, t.username, t.state, t.first, t.last, NULLIF(t.nick, ''), t.display,
			NULLIF(t.lang, ''), t.gender, t.email, t.email_ok, NULLIF(t.phone, ''), t.phone_ok, NULLIF(t.hash, ''), t.change
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
			$11::text[], $12::text[], $13::bool[], $14::text[], $15::bool[], $16::text[], $17::bool[])
			AS t(id, username, state, first, last, nick, display, lang, gender, email, email_ok, phone, phone_ok, hash, change)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, ids, names, states, first, last, nick, display, lang, gender,
		email, emailOK, phone, phoneOK, hash, change, scope)
	if err != nil {
		return err
	}
	if err := a.settleUsers(ctx, o, users, firstColumn(rows), humanExists); err != nil {
		return err
	}
	if err := a.insertHumanIDPs(ctx, o, items, users); err != nil {
		return err
	}
	return a.finishHumanUsers(ctx, o, items)
}

// hashedPassword returns the user's pre-hashed password, "" when none.
func hashedPassword(u *importdata.ImportHumanUserRequest) string {
	if u.HashedPassword == nil {
		return ""
	}
	return u.HashedPassword.Value
}

// displayName is ZITADEL's default: the display name, else "first last",
// else the e-mail address, else the user name.
func displayName(p *importdata.Profile, email, userName string) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	if n := strings.TrimSpace(p.FirstName + " " + p.LastName); n != "" {
		return n
	}
	if email != "" {
		return email
	}
	return userName
}

// checkPasswords fails the users whose plain password breaks the org's
// password complexity policy, and returns the others.
func (a *applier) checkPasswords(ctx context.Context, o *outcomes, org *importdata.DataOrg, users []newUser) ([]newUser, error) {
	policy, err := a.complexityPolicy(ctx, org)
	if err != nil || policy == nil {
		return users, err
	}
	kept := users[:0:0]
	for _, nu := range users {
		u := &org.HumanUsers[nu.i].V.User
		if hashedPassword(u) == "" && u.Password != "" {
			if err := checkPasswordComplexity(policy, u.Password); err != nil {
				o.fail(nu.i, err.Error())
				continue
			}
		}
		kept = append(kept, nu)
	}
	return kept, nil
}
