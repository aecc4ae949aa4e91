package store

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"

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
//
// With onConflict OVERWRITE, a human user of the imported org is updated in
// place: every column the insert writes (but a user given without a
// password keeps the one it has), its user.idps links replaced, its TOTP
// secret replaced when one is given, and a new passwordless registration
// code made when one is asked for.
func init() {
	register(&Step{Name: "human_users", Type: "human_user", Fields: []string{"humanUsers"}, Stage: StagePass1, Order: 13,
		Success: "humanUserIds", Chunkable: true, prepare: prepareHumanUsers, apply: applyHumanUsers})
}

const humanExists = "ID=COMMAND-ziuna Message=Errors.User.AlreadyExisting"

// checkHumanUsers records in o the users that break their rules and returns
// the others. A user without an id gets one (generatedUserID) first.
func checkHumanUsers(a *applier, o *outcomes, items importdata.Items[importdata.DataHumanUser]) []newUser {
	var users []newUser
	for i, it := range items {
		if it.Err == nil && it.V.UserID == "" {
			items[i].V.UserID = generatedUserID(a.orgID, it.V.User.UserName)
		}
		u := items[i].V
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
// checks and whose id is free (or, with onConflict OVERWRITE, a user of the
// org), into a.hashes, so that the unit's transaction does not hold its
// locks while bcrypt works.
func prepareHumanUsers(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.HumanUsers
	o := newOutcomes(a, step, len(items)) // recorded by apply, not here
	users, err := a.checkPasswords(ctx, o, org, checkHumanUsers(a, o, items))
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(users, func(nu newUser) bool { return items[nu.i].V.User.Password != "" }) {
		return nil // nothing to hash
	}
	ids := make([]string, len(users))
	for j, nu := range users {
		ids[j] = nu.id
	}
	taken, err := a.owners(ctx, "users", ids)
	if err != nil {
		return err
	}
	// With onConflict OVERWRITE, the users of the org are written too. The
	// org's id is known here when the unit holds it (not a chunk's).
	write := func(id string) bool {
		owner := taken[id]
		return owner == "" || a.overwriting() && (org.OrgID == "" || owner == org.OrgID)
	}
	var idx []int
	var plain []string
	for _, nu := range users {
		if u := &items[nu.i].V.User; write(nu.id) && hashedPassword(u) == "" && u.Password != "" {
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
	if users, err = a.claimUsers(ctx, o, users, "human", humanExists); err != nil {
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

	scope, err := a.userScope(ctx)
	if err != nil {
		return err
	}
	var ins, upd humanRows
	for _, nu := range users {
		if nu.update {
			upd.add(a, nu, &items[nu.i].V)
		} else {
			ins.add(a, nu, &items[nu.i].V)
		}
	}
	// A user given without a password keeps the one it has.
	written, err := a.writeUsers(ctx, "human users", userWrite{len(ins.ids), `INSERT INTO users (instance_id, org_id, type,
			username_scope, id, username, state, first_name, last_name, nick_name, display_name, preferred_language, gender,
			email, email_verified, phone, phone_verified, password_hash, password_change_required)
		SELECT $1, $2, 'human', $18, t.id, t.username, t.state, t.first, t.last, NULLIF(t.nick, ''), t.display,
			NULLIF(t.lang, ''), t.gender, t.email, t.email_ok, NULLIF(t.phone, ''), t.phone_ok, NULLIF(t.hash, ''), t.change
		FROM unnest(` + humanColumns + `)
		ON CONFLICT DO NOTHING RETURNING id`, ins.args(a, scope)}, userWrite{len(upd.ids), `UPDATE users u
		SET username_scope = $18, username = t.username, state = t.state, first_name = t.first, last_name = t.last,
			nick_name = NULLIF(t.nick, ''), display_name = t.display, preferred_language = NULLIF(t.lang, ''), gender = t.gender,
			email = t.email, email_verified = t.email_ok, phone = NULLIF(t.phone, ''), phone_verified = t.phone_ok,
			password_hash = coalesce(NULLIF(t.hash, ''), u.password_hash), password_change_required = t.change
		FROM unnest(` + humanColumns + `)
		WHERE u.instance_id = $1 AND u.org_id = $2 AND u.id = t.id AND u.type = 'human' AND ` + usernameFree("$18") + `
		RETURNING u.id`, upd.args(a, scope)})
	if err != nil {
		return err
	}
	if err := a.settleUsers(ctx, o, users, written, humanExists); err != nil {
		return err
	}
	if err := a.writeHumanIDPs(ctx, o, items, users); err != nil {
		return err
	}
	return a.finishHumanUsers(ctx, o, items)
}

// humanColumns are the unnest parameters of humanRows.args, $3 to $17.
const humanColumns = `$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
				$11::text[], $12::text[], $13::bool[], $14::text[], $15::bool[], $16::text[], $17::bool[])
				AS t(id, username, state, first, last, nick, display, lang, gender, email, email_ok, phone, phone_ok, hash, change`

// humanRows are the columns of human users to insert or update.
type humanRows struct {
	ids, names, states, first, last, nick, display, lang, gender []string
	email, phone, hash                                           []string
	emailOK, phoneOK, change                                     []bool
}

// add adds the columns of user nu, d; its password is hashed (a.hashes)
// unless it was given hashed.
func (r *humanRows) add(a *applier, nu newUser, d *importdata.DataHumanUser) {
	u := &d.User
	p := u.Profile // required by Validate
	email := strings.TrimSpace(u.Email.Email)
	var phone, hash string
	var phoneOK, change bool
	if u.Phone != nil {
		phone, phoneOK = u.Phone.Phone, u.Phone.IsPhoneVerified
	}
	if h := hashedPassword(u); h != "" {
		hash = h // as given, and no change required (ZITADEL)
	} else if h := a.hashes[nu.i]; h != "" {
		hash, change = h, u.PasswordChangeRequired
	}
	r.ids, r.names, r.states = append(r.ids, nu.id), append(r.names, nu.name), append(r.states, userState(d.State))
	r.first, r.last, r.nick = append(r.first, p.FirstName), append(r.last, p.LastName), append(r.nick, p.NickName)
	r.display, r.lang, r.gender = append(r.display, displayName(p, email, nu.name)), append(r.lang, preferredLanguage(p.PreferredLanguage)), append(r.gender, p.Gender.String())
	r.email, r.emailOK, r.phone, r.phoneOK = append(r.email, email), append(r.emailOK, u.Email.IsEmailVerified), append(r.phone, phone), append(r.phoneOK, phoneOK)
	r.hash, r.change = append(r.hash, hash), append(r.change, change)
}

// args are the parameters $1 to $18 of the insert and the update.
func (r *humanRows) args(a *applier, scope string) []any {
	return []any{a.job.InstanceID, a.orgID, r.ids, r.names, r.states, r.first, r.last, r.nick, r.display, r.lang, r.gender,
		r.email, r.emailOK, r.phone, r.phoneOK, r.hash, r.change, scope}
}

// preferredLanguage is a user's preferred language as ZITADEL stores it
// (reference §4.2): lang parsed as a BCP 47 tag, in its canonical form
// ("en-us" is "en-US"); a value that does not parse is dropped silently,
// like an empty one or "und": the user's language is undefined ("", NULL
// in the directory).
func preferredLanguage(lang string) string {
	tag, err := language.Parse(lang)
	if err != nil || tag == language.Und {
		return ""
	}
	return tag.String()
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
	if !slices.ContainsFunc(users, func(nu newUser) bool { return org.HumanUsers[nu.i].V.User.Password != "" }) {
		return users, nil // no plain password: no policy to look up
	}
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

// generatedUserID is the id of a human user imported without one. ZITADEL
// generates one (and lists "" as its id); zimport derives a number of 18
// digits, like ZITADEL's ids, from the org's id and the trimmed user name,
// so that the same file gives the same ids and results on every run, and a
// re-run finds the users it created. derivedUserIDSQL computes the same in
// PostgreSQL, for the split's claims.
func generatedUserID(orgID, userName string) string {
	sum := md5.Sum([]byte(fmt.Sprintf("zimport/user-id/%d/%s/%s", len(orgID), orgID, strings.TrimSpace(userName))))
	return strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])%9e17+1e17, 10)
}

// derivedUserIDSQL is generatedUserID in SQL, of the org id org and the
// trimmed user name name (SQL expressions): the first 8 bytes of the MD5 as
// an unsigned number, modulo 9e17, plus 1e17.
func derivedUserIDSQL(org, name string) string {
	return `((('x' || substr(md5('zimport/user-id/' || octet_length(` + org + `) || '/' || ` + org + ` || '/' || ` + name + `), 1, 16))
		::bit(64)::bigint::numeric + 18446744073709551616) % 18446744073709551616 % 900000000000000000 + 100000000000000000)::bigint::text`
}
