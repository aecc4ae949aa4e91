package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/zimport/zimport/importdata"
)

// step imports human users with their given ids (ZITADEL's ImportHuman). A
// hashed password is stored as given; a plain one is hashed with bcrypt
// before the unit's transaction opens. otpCode, a passwordless registration
// and idps are not imported yet: each is an error beside the user's outcome.
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
		switch {
		case strings.TrimSpace(u.User.UserName) == "":
			o.fail(i, zerr("USER-4M90d", "Errors.User.Invalid", path+".user.userName: is blank"))
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
	users := checkHumanUsers(a, newOutcomes(a, step, len(items)), items)
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
	if err := a.noteUnsupportedUserFields(o, items); err != nil {
		return err
	}
	users, err := a.claimUsers(ctx, o, checkHumanUsers(a, o, items), humanExists)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return o.flush()
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
	rows, err := a.textRows(ctx, "insert human users", `INSERT INTO users (instance_id, org_id, type, username_scope,
			id, username, state, first_name, last_name, nick_name, display_name, preferred_language, gender,
			email, email_verified, phone, phone_verified, password_hash, password_change_required)
		SELECT $1, $2, 'human', '', t.id, t.username, t.state, t.first, t.last, NULLIF(t.nick, ''), t.display,
			NULLIF(t.lang, ''), t.gender, t.email, t.email_ok, NULLIF(t.phone, ''), t.phone_ok, NULLIF(t.hash, ''), t.change
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
			$11::text[], $12::text[], $13::bool[], $14::text[], $15::bool[], $16::text[], $17::bool[])
			AS t(id, username, state, first, last, nick, display, lang, gender, email, email_ok, phone, phone_ok, hash, change)
		ON CONFLICT DO NOTHING RETURNING id`,
		a.job.InstanceID, a.orgID, ids, names, states, first, last, nick, display, lang, gender,
		email, emailOK, phone, phoneOK, hash, change)
	if err != nil {
		return err
	}
	if err := a.settleUsers(ctx, o, users, firstColumn(rows), humanExists); err != nil {
		return err
	}
	return o.flush()
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

// noteUnsupportedUserFields adds to each decoded user the fields it has
// that zimport does not import yet, as errors beside its outcome:
// ZITADEL's human_user_otp for otpCode, human_user for a passwordless
// registration and for idps.
func (a *applier) noteUnsupportedUserFields(o *outcomes, items importdata.Items[importdata.DataHumanUser]) error {
	withIDPs, err := importdata.Present(a.raw, a.unit.Field != "", "humanUsers", "user", "idps")
	if err != nil {
		return fmt.Errorf("read idps of human users: %w", err)
	}
	idps := make(map[int]bool, len(withIDPs))
	for _, i := range withIDPs {
		idps[i] = true
	}
	for i, it := range items {
		if it.Err != nil {
			continue // its decoding error is its outcome
		}
		path, u := a.path("humanUsers", i)+".user.", &it.V.User
		if u.OTPCode != "" {
			o.note(i, "human_user_otp", notSupported(path+"otpCode"))
		}
		if u.RequestPasswordlessRegistration {
			o.note(i, "human_user", notSupported(path+"requestPasswordlessRegistration"))
		}
		if idps[i] {
			o.note(i, "human_user", notSupported(path+"idps"))
		}
	}
	return nil
}
