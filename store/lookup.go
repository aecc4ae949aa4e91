package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/errgroup"

	"github.com/zimport/zimport/importdata"
)

// This file holds what the entity kinds share: recording outcomes in input
// order, batched look-ups, and password hashing.

// outcomes collects the outcome of each item of one step's list, decided in
// phases (decoding, field rules, references, existing rows, the insert), and
// records them in input order.
type outcomes struct {
	a    *applier
	step *Step
	typ  string
	list []outcome
}

type outcome struct {
	state int
	// id is the result's id in ZITADEL's error format, e.g. "org1_project1_user1".
	id string
	// okID replaces id in a success, whose entry may differ ("domainName").
	okID string
	msg  string
	f    []string
	// notes are errors of follow-up operations of an imported item (a domain
	// that could not be verified); they do not change its count.
	notes []note
}

type note struct{ typ, msg string }

const (
	outcomePending = iota
	outcomeOK
	outcomeFailed
	outcomeExisted
	outcomeUpdated
)

// newOutcomes returns the outcomes of n items of step, of the step's Type.
func newOutcomes(a *applier, step *Step, n int) *outcomes {
	return &outcomes{a: a, step: step, typ: step.Type, list: make([]outcome, n)}
}

// setID sets the error-format id of item i.
func (o *outcomes) setID(i int, id string) { o.list[i].id = id }

// open reports whether item i has no outcome yet.
func (o *outcomes) open(i int) bool { return o.list[i].state == outcomePending }

func (o *outcomes) fail(i int, msg string) {
	o.list[i].state, o.list[i].msg = outcomeFailed, msg
}

// exists records an item whose key exists: an error, or a skip with onConflict SKIP.
func (o *outcomes) exists(i int, msg string) {
	o.list[i].state, o.list[i].msg = outcomeExisted, msg
}

// ok records a success whose result id is okID (the success-list entry when
// the step's entries are plain strings) with the entry's fields f.
func (o *outcomes) ok(i int, okID string, f ...string) {
	o.list[i].state, o.list[i].okID, o.list[i].f = outcomeOK, okID, f
}

// overwrote records an existing item that was updated in place (onConflict
// OVERWRITE), with its success-list entry as ok's.
func (o *outcomes) overwrote(i int, okID string, f ...string) {
	o.list[i].state, o.list[i].okID, o.list[i].f = outcomeUpdated, okID, f
}

// note adds an error of type typ about a follow-up of item i.
func (o *outcomes) note(i int, typ, msg string) {
	o.list[i].notes = append(o.list[i].notes, note{typ, msg})
}

// check records item i as failed when it did not decode, breaks its field
// rules or holds a NUL character (which PostgreSQL text cannot store). code
// and key are the ZITADEL error of an invalid entity. It reports whether the
// item is still open.
func (o *outcomes) check(i int, field string, decodeErr error, v interface{ Validate(string) error }, code, key string) bool {
	path := o.a.path(field, i)
	if decodeErr != nil {
		msg := importdata.DescribeError(path, decodeErr)
		if !strings.HasPrefix(msg, path) {
			msg = path + ": " + msg // e.g. an element that is not an object
		}
		o.fail(i, zerr(code, key, msg))
		return false
	}
	if err := v.Validate(path); err != nil {
		o.fail(i, zerr(code, key, err.Error()))
		return false
	}
	if p := nulPath(reflect.ValueOf(v)); p != "" {
		o.fail(i, zerr(code, key, path+p+": contains a NUL character"))
		return false
	}
	return true
}

// flush records every outcome in input order.
func (o *outcomes) flush() error {
	a := o.a
	for i, r := range o.list {
		item := a.item(i)
		r.id, r.okID, r.msg = safeText(r.id), safeText(r.okID), safeText(r.msg)
		for j := range r.f {
			r.f[j] = safeText(r.f[j])
		}
		switch r.state {
		case outcomeOK:
			a.succeed(o.step, item, o.typ, r.okID, r.f...)
		case outcomeFailed:
			a.fail(o.step, item, o.typ, r.id, r.msg)
		case outcomeExisted:
			a.failOrExisting(o.step, item, o.typ, r.id, r.msg)
		case outcomeUpdated:
			a.overwrote(o.step, item, o.typ, r.id, r.okID, r.f...)
		default:
			return fmt.Errorf("%s[%d] has no outcome", o.step.Name, item)
		}
		for n, nt := range r.notes {
			// Recorded beside the item's success, not counted a second time.
			a.results = append(a.results, result{step: o.step, item: item, sub: n + 1,
				outcome: "error", typ: nt.typ, id: r.id, message: safeText(nt.msg)})
		}
	}
	return nil
}

// safeText replaces NUL characters, which PostgreSQL text cannot hold, so
// that an id taken from bad input can still be reported.
func safeText(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// textRows runs a query whose columns are all text and returns its rows;
// what says what the query does in an error ("look up users").
func (a *applier) textRows(ctx context.Context, what, sql string, args ...any) ([][]string, error) {
	rows, err := a.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out [][]string
	n := len(rows.FieldDescriptions())
	for rows.Next() {
		row := make([]string, n)
		dest := make([]any, n)
		for j := range row {
			dest[j] = &row[j]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// owners returns the org of each of ids that exists in table (orgs, users or
// projects) in the job's instance; an org is its own owner.
func (a *applier) owners(ctx context.Context, table string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	owner := "org_id"
	if table == "orgs" {
		owner = "id"
	}
	rows, err := a.textRows(ctx, "look up "+table,
		`SELECT id, `+owner+` FROM `+table+` WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, ids)
	for _, r := range rows {
		out[r[0]] = r[1]
	}
	return out, err
}

// roleKeys returns the role keys of each of the projects.
func (a *applier) roleKeys(ctx context.Context, projects []string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	if len(projects) == 0 {
		return out, nil
	}
	rows, err := a.textRows(ctx, "look up project roles",
		`SELECT project_id, role_key FROM project_roles WHERE instance_id = $1 AND project_id = ANY($2)`,
		a.job.InstanceID, projects)
	for _, r := range rows {
		if out[r[0]] == nil {
			out[r[0]] = map[string]bool{}
		}
		out[r[0]][r[1]] = true
	}
	return out, err
}

// set returns the rows of a look-up as a set of keys of up to three columns.
func (a *applier) set(ctx context.Context, what, sql string, args ...any) (map[tuple]bool, error) {
	rows, err := a.textRows(ctx, what, sql, args...)
	out := make(map[tuple]bool, len(rows))
	for _, r := range rows {
		var k tuple
		copy(k[:], r)
		out[k] = true
	}
	return out, err
}

// existingIDs returns the set of ids that rows of table (actions, apps,
// idps, ...) have in the job's instance; what says what the look-up is for
// in an error ("look up apps").
func (a *applier) existingIDs(ctx context.Context, what, table string, ids []string) (map[tuple]bool, error) {
	return a.set(ctx, what, `SELECT id FROM `+table+` WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, ids)
}

// settleNamed records the outcome of the entities an insert into table was
// given (item idx[j] of id ids[j]), of a kind whose ids are unique in the
// instance and names in a scope: those the insert returned succeeded;
// another was created meanwhile by a parallel unit (its id exists now: the
// error exists, onConflict SKIP applies) or lost its name to one (the error
// nameTaken(j)). what says what the look-up of ids is for in an error.
func (a *applier) settleNamed(ctx context.Context, o *outcomes, what, table string, idx []int, ids []string,
	inserted map[string]bool, exists string, nameTaken func(j int) string) error {
	var lost []string
	for _, id := range ids {
		if !inserted[id] {
			lost = append(lost, id)
		}
	}
	found := map[tuple]bool{}
	if len(lost) > 0 {
		var err error
		if found, err = a.existingIDs(ctx, what, table, lost); err != nil {
			return err
		}
	}
	for j, i := range idx {
		switch id := ids[j]; {
		case inserted[id]:
			o.ok(i, id)
		case found[tuple{id}]:
			o.exists(i, exists)
		default:
			o.fail(i, nameTaken(j))
		}
	}
	return nil
}

// existsIn is the error msg of an entity whose key exists in org owner,
// with, when onConflict is OVERWRITE and owner is another org, why it was
// not updated: OVERWRITE updates only entities of the imported org.
func (a *applier) existsIn(msg, owner string) string {
	if !a.overwriting() || owner == a.orgID {
		return msg
	}
	return msg + fmt.Sprintf(" (it belongs to org %q; onConflict OVERWRITE updates only entities of the imported org)", owner)
}

// settleUpdated records the outcome of the items an update was given (item
// idx[j] of key keys[j]): those it returned were overwritten; another was
// deleted or moved meanwhile and is reported with msg, the error of an
// existing entity.
func (a *applier) settleUpdated(o *outcomes, idx []int, keys []string, updated map[string]bool, msg string) {
	for j, i := range idx {
		if updated[keys[j]] {
			o.overwrote(i, keys[j])
		} else {
			o.exists(i, msg)
		}
	}
}

// tuple is a composite key (project id, user id, ...) of a look-up or a dedup.
type tuple [3]string

// missingKeys returns the elements of want that are not in have, quoted, for a message.
func missingKeys(want []string, have map[string]bool) string {
	var out []string
	for _, w := range want {
		if !have[w] {
			out = append(out, fmt.Sprintf("%q", w))
		}
	}
	return strings.Join(out, ", ")
}

// uniqueStrings returns ss without repeated elements, in their first order.
func uniqueStrings(ss []string) []string {
	out := make([]string, 0, len(ss))
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// distinctIDs returns the distinct non-empty values of ss.
func distinctIDs(ss []string) []string {
	out := make([]string, 0, len(ss))
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// nulPath returns the JSON path (".user.profile.firstName") of the first
// string in v that contains a NUL character, or "" when there is none.
func nulPath(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return nulPath(v.Elem())
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			return "." // the caller's path names the value itself
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := nulPath(v.Index(i)); p != "" {
				if p == "." {
					p = ""
				}
				return fmt.Sprintf("[%d]%s", i, p)
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if p := nulPath(v.Field(i)); p != "" {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if p == "." {
					return "." + name
				}
				return "." + name + p
			}
		}
	}
	return ""
}

// maxBcryptBytes is the longest password bcrypt hashes.
const maxBcryptBytes = 72

// hashPasswords returns the bcrypt hashes of plain at the options' cost
// (bcrypt's default below its minimum), hashed on up to GOMAXPROCS
// goroutines since bcrypt is slow on purpose. An empty password has an
// empty hash.
func (o ApplyOptions) hashPasswords(ctx context.Context, plain []string) ([]string, error) {
	hash := o.hash
	if hash == nil {
		hash = bcrypt.GenerateFromPassword
	}
	out := make([]string, len(plain))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, p := range plain {
		if p == "" {
			continue
		}
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if o.HashSlots != nil {
				select {
				case o.HashSlots <- struct{}{}:
					defer func() { <-o.HashSlots }()
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			h, err := hash([]byte(p), o.BcryptCost)
			if err != nil {
				return fmt.Errorf("hash password: %w", err)
			}
			out[i] = string(h)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// newUser is a user that passed its checks and may be written.
type newUser struct {
	i        int    // index in the step's list
	id, name string // user id and user name
	// update is true for a user of the imported org that is updated in
	// place (onConflict OVERWRITE); false for a new user.
	update bool
}

// nameTaken is the error of a user whose name another user has.
func nameTaken(name string) string {
	return zerr("V3-DKcYh", "Errors.User.AlreadyExists", fmt.Sprintf("user name %q is taken", name))
}

// claimUsers decides in input order which of users, of type typ ("human"
// or "machine"), may be written: an id that exists earlier in the list, or
// in the instance when onConflict is not OVERWRITE, is reported with
// existsMsg (onConflict SKIP applies); with OVERWRITE, a user of the
// imported org and of type typ is claimed for an update (newUser.update),
// one of another org or type stays existsMsg, with why. A user name that
// another user has, or that is used earlier in the list, fails. User names
// are unique in the org's scope (see userScope), ignoring case as the
// database's lower() does; a user being renamed keeps its old name taken
// for the others, so that no statement meets a unique violation.
//
// A human user of an org whose domain policy does not say
// userLoginMustBeDomain (its names are unique in the instance) fails with
// Errors.User.DomainNotAllowedAsUsername when its name ends in "@domain"
// and another org has verified that domain, ignoring case (ZITADEL's
// ImportHuman, reference §4.3.3; its AddMachine does not check machine
// users); this holds for an update with OVERWRITE too. A domain that an
// earlier org of the job verified counts, one of a later org does not: the
// units that share a user name or a domain wait for those of earlier orgs
// (job_claims), as ZITADEL imports org after org. The users that have the
// ids, the names, their holders and their domains are looked up in one
// query.
func (a *applier) claimUsers(ctx context.Context, o *outcomes, users []newUser, typ, existsMsg string) ([]newUser, error) {
	if len(users) == 0 {
		return nil, nil
	}
	scope, err := a.userScope(ctx)
	if err != nil {
		return nil, err
	}
	checkDomains := typ == "human" && scope == ""
	ids := make([]string, len(users))
	names := make([]string, len(users))
	domains := make([]string, len(users)) // "" when not checked
	for j, u := range users {
		ids[j], names[j] = u.id, u.name
		if at := strings.LastIndex(u.name, "@"); checkDomains && at >= 0 {
			domains[j] = u.name[at+1:]
		}
	}
	rows, err := a.textRows(ctx, "look up users", `SELECT t.i, coalesce(e.org_id, ''), coalesce(e.type, ''), t.n, lower(t.n),
			coalesce((SELECT id FROM users WHERE instance_id = $1 AND username_scope = $3 AND lower(username) = lower(t.n)), ''),
			CASE WHEN t.d = '' THEN '' ELSE coalesce((SELECT d.org_id FROM org_domains d WHERE d.instance_id = $1 AND d.is_verified
				AND lower(d.domain) = lower(t.d) AND d.org_id <> $5 LIMIT 1), '') END
		FROM unnest($6::text[], $2::text[], $4::text[]) AS t(i, n, d)
		LEFT JOIN users e ON e.instance_id = $1 AND e.id = t.i`, a.job.InstanceID, names, scope, domains, a.orgID, ids)
	if err != nil {
		return nil, err
	}
	existing := map[string]existingUser{}
	folded := make(map[string]string, len(rows))
	holder := map[string]string{}    // folded name → id of the user that has it
	domainOrg := map[string]string{} // name → the other org that verified its domain
	for _, r := range rows {
		if r[1] != "" {
			existing[r[0]] = existingUser{r[1], r[2]}
		}
		folded[r[3]] = r[4]
		if r[5] != "" {
			holder[r[4]] = r[5]
		}
		if r[6] != "" {
			domainOrg[r[3]] = r[6]
		}
	}
	seenID := map[string]bool{}
	claimed := map[string]bool{} // folded names of the users claimed so far
	out := users[:0:0]
	for _, u := range users {
		f := folded[u.name]
		ex := existing[u.id]
		switch {
		case seenID[u.id]:
			o.exists(u.i, existsMsg)
		case ex.org != "" && (!a.overwriting() || ex.org != a.orgID):
			o.exists(u.i, a.existsIn(existsMsg, ex.org))
		case ex.org != "" && ex.typ != typ:
			o.exists(u.i, existsMsg+fmt.Sprintf(" (it is a %s user; onConflict OVERWRITE does not change the type of a user)", ex.typ))
		case domainOrg[u.name] != "":
			o.fail(u.i, domainNotAllowed(a.path(typ+"Users", u.i), u.name, domainOrg[u.name]))
		case claimed[f] || holder[f] != "" && holder[f] != u.id:
			o.fail(u.i, nameTaken(u.name))
		default:
			seenID[u.id], claimed[f] = true, true
			u.update = ex.org != ""
			out = append(out, u)
		}
	}
	return out, nil
}

// domainNotAllowed is the error of a user, at path, whose name ends in
// "@domain" where domain is verified by another org, owner.
func domainNotAllowed(path, name, owner string) string {
	domain := name[strings.LastIndex(name, "@")+1:]
	return zerr("COMMAND-SFd21", "Errors.User.DomainNotAllowedAsUsername",
		fmt.Sprintf("%s.user.userName: %q ends in \"@%s\", a domain verified by org %q", path, name, domain, owner))
}

// userWrite is one statement of writeUsers: its SQL and arguments, and the
// number of users it writes (none: it is not run).
type userWrite struct {
	n    int
	sql  string
	args []any
}

// writeUsers runs the insert of a kind's new users and the update of its
// existing ones (see claimUsers), and returns the ids they wrote; kind names
// the users in errors ("human users"). An update must be guarded by
// usernameFree.
func (a *applier) writeUsers(ctx context.Context, kind string, insert, update userWrite) (map[string]bool, error) {
	written := map[string]bool{}
	for _, w := range []struct {
		what string
		userWrite
	}{{"insert " + kind, insert}, {"update " + kind, update}} {
		if w.n == 0 {
			continue
		}
		rows, err := a.textRows(ctx, w.what, w.sql, w.args...)
		if err != nil {
			return nil, err
		}
		maps.Copy(written, firstColumn(rows))
	}
	return written, nil
}

// usernameFree is the condition of an update of users (rows t of the
// update's unnest, with id and username) that the new name is not another
// user's in the scope given by the parameter scope ("$9"). It spares a
// unique violation when a parallel unit took the name and committed since
// claimUsers looked; settleUsers then reports the user.
func usernameFree(scope string) string {
	return `NOT EXISTS (SELECT 1 FROM users x WHERE x.instance_id = $1 AND x.username_scope = ` + scope + `
		AND lower(x.username) = lower(t.username) AND x.id <> t.id)`
}

// existingUser is the org and type of a user in the directory.
type existingUser struct{ org, typ string }

// userScope returns the scope in which the user names of the unit's org are
// unique (users.username_scope): the org's id when the domain policy in
// force says userLoginMustBeDomain (login names are then user@org-domain, as
// in ZITADEL), else "" for the whole instance. The domain policy step runs
// before the user steps, so the policy of this import is in the directory.
func (a *applier) userScope(ctx context.Context) (string, error) {
	if a.usernameScope != nil {
		return *a.usernameScope, nil
	}
	orgScoped, _, err := a.domainPolicy(ctx)
	if err != nil {
		return "", err
	}
	scope := ""
	if orgScoped {
		scope = a.orgID
	}
	a.usernameScope = &scope
	return scope, nil
}

// settleUsers records the outcome of the users an insert or an update was
// given: those it returned (written) were created or, claimed for an
// update, overwritten. A new user that is missing was created meanwhile by
// a parallel unit (its id exists now) or lost its user name to one; a user
// to update that is missing was moved or deleted meanwhile (existsMsg), or
// lost its new user name to a parallel unit.
func (a *applier) settleUsers(ctx context.Context, o *outcomes, users []newUser, written map[string]bool, existsMsg string) error {
	var lost []string
	for _, u := range users {
		if !written[u.id] {
			lost = append(lost, u.id)
		}
	}
	owners, err := a.owners(ctx, "users", lost)
	if err != nil {
		return err
	}
	for _, u := range users {
		switch owner := owners[u.id]; {
		case written[u.id] && u.update:
			o.overwrote(u.i, u.id)
		case written[u.id]:
			o.ok(u.i, u.id)
		case u.update && owner == "":
			o.exists(u.i, existsMsg)
		case u.update && owner != a.orgID:
			o.exists(u.i, a.existsIn(existsMsg, owner))
		case !u.update && owner != "":
			o.exists(u.i, existsMsg)
		default:
			o.fail(u.i, nameTaken(u.name))
		}
	}
	return nil
}

// firstColumn returns the set of the first column of rows.
func firstColumn(rows [][]string) map[string]bool {
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r[0]] = true
	}
	return out
}

// userState keeps the states an import may set (inactive, locked); every
// other state is stored as active, as ZITADEL does.
func userState(s importdata.UserState) string {
	switch s {
	case importdata.UserStateInactive, importdata.UserStateLocked:
		return s.String()
	}
	return importdata.UserStateActive.String()
}

// column returns a column of n values for an unnest insert.
func column(n int) []string { return make([]string, n) }

// jsonList encodes a list for an unnest insert, where a column of lists
// travels as JSON text (unnest flattens a two-dimensional array) and becomes
// text[] again with jsonList's SQL counterpart, fromJSONList.
func jsonList(ss []string) string {
	b, err := json.Marshal(uniqueStrings(ss))
	if err != nil {
		panic(err) // a []string always encodes
	}
	return string(b)
}

// fromJSONList turns a jsonList column back into text[].
func fromJSONList(col string) string {
	return `ARRAY(SELECT jsonb_array_elements_text(` + col + `::jsonb))`
}
