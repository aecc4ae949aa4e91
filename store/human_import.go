package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zimport/zimport/importdata"
)

// This file holds ZITADEL's ImportHumanUser (POST /users/human/_import):
// one human user, imported synchronously by the human_users step of the
// bulk import, so that both follow the same rules.

// HumanImport is one human user to import.
type HumanImport struct {
	InstanceID string
	// OrgID is the org to import into (x-zitadel-orgid). When empty, it is
	// the org of CallerUserID (the user of the caller's PAT), or, for a
	// system caller (no CallerUserID), the instance's first org.
	OrgID        string
	CallerUserID string
	User         importdata.ImportHumanUserRequest
	// Idempotency records the answer under a key, when Key is set.
	Idempotency Idempotency
}

// Idempotency is the Idempotency-Key of a request: the same Caller, Key and
// Digest (a keyed digest of the body) get the answer recorded first.
type Idempotency struct {
	Caller string
	Key    string
	Digest []byte
}

// HumanImported is the answer of a human user import.
type HumanImported struct {
	UserID string `json:"userId"`
	// OrgID is the org the user was imported into: the resource owner.
	OrgID string `json:"orgId"`
	// Sequence counts the records written for the user: the user, each
	// IdP link, its passwordless registration code and its OTP secret, as
	// ZITADEL's counts the events of the user.
	Sequence  int       `json:"sequence"`
	CreatedAt time.Time `json:"createdAt"`
	// Passwordless is the registration link, when one was asked for.
	Passwordless *PasswordlessLink `json:"passwordless,omitempty"`
	// Replayed is true for the answer recorded for the request's
	// Idempotency-Key by an earlier request.
	Replayed bool `json:"-"`
}

// PasswordlessLink is a passwordless registration link with its one-time
// code; only the code's SHA-256 is stored.
type PasswordlessLink struct {
	Link       string        `json:"link"`
	Lifetime   time.Duration `json:"lifetime"`
	Expiration time.Time     `json:"expiration"`
}

// HumanRejected is the error of a user that ZITADEL's rules refuse: its
// error id ("COMMAND-ziuna") and message key ("Errors.User.AlreadyExisting"),
// and a detail that names the field of the request.
type HumanRejected struct {
	ID, Key, Detail string
}

func (e *HumanRejected) Error() string { return zerr(e.ID, e.Key, e.Detail) }

// humanStep is the step that imports human users.
const humanStep = "human_users"

// userAnswerRetention is how long an Idempotency-Key's answer is kept.
const userAnswerRetention = 24 * time.Hour

// ImportHumanUser imports one human user with the human_users step of the
// bulk import: the same checks, hashing and writes, in one transaction. The
// user's id is derived from the org and the user name (generatedUserID).
// An org that the instance does not have is ErrNotFound; a user that the
// rules refuse is a *HumanRejected and writes nothing. A plain password is
// hashed before the transaction opens. With an Idempotency key, the outcome
// (the answer, or why the rules refused the user) is recorded (sealed) in
// the transaction; a request with the same key and another digest is
// ErrConflict, and one that comes while the first runs waits for it and
// gets its outcome. A request that fails otherwise (the database is gone)
// records nothing.
func (s *Store) ImportHumanUser(ctx context.Context, in HumanImport, opts ApplyOptions) (HumanImported, error) {
	if key := in.Idempotency; key.Key != "" {
		if opts.Seal == nil {
			return HumanImported{}, errNoSeal
		}
		if out, ok, err := s.userAnswer(ctx, s.pool, in.InstanceID, key, opts); ok || err != nil {
			return out.HumanImported, cmp.Or(err, out.Err)
		}
	}
	b := HumanBatch{InstanceID: in.InstanceID, OrgID: in.OrgID, CallerUserID: in.CallerUserID,
		Users: []importdata.ImportHumanUserRequest{in.User}}
	out, err := s.importHumans(ctx, b, opts, in.Idempotency)
	if err != nil {
		return HumanImported{}, err
	}
	return out[0].HumanImported, out[0].Err
}

// HumanBatch is human users to import into one org (see HumanImport for
// OrgID and CallerUserID).
type HumanBatch struct {
	InstanceID   string
	OrgID        string
	CallerUserID string
	Users        []importdata.ImportHumanUserRequest
}

// HumanOutcome is what became of one user of a batch: imported, or Err, a
// *HumanRejected.
type HumanOutcome struct {
	HumanImported
	Err error
}

// ImportHumanUsers imports a batch of human users as ImportHumanUser
// imports one, in one transaction: each has the outcome it would have had
// if imported alone right after the ones before it in the batch with the
// same user name (ignoring case); users of different names are written in
// the order of their names, so that two batches never wait for each other
// in a circle. An org that the instance does not have is ErrNotFound for
// all. When one user cannot be settled inside the batch (the database
// refuses its data, an IdP link of it was made by a parallel request
// meanwhile, or the transaction met a deadlock with a parallel one), the
// batch is rolled back and every user imported alone; then an error that
// stops the import (the database is gone) is the outcome of the users not
// imported yet, and the others keep theirs.
func (s *Store) ImportHumanUsers(ctx context.Context, b HumanBatch, opts ApplyOptions) ([]HumanOutcome, error) {
	order := make([]int, len(b.Users))
	for i := range order {
		order[i] = i
	}
	fold := func(i int) string { return strings.ToLower(strings.TrimSpace(b.Users[i].UserName)) }
	slices.SortStableFunc(order, func(i, j int) int { return strings.Compare(fold(i), fold(j)) })
	sorted := b
	sorted.Users = make([]importdata.ImportHumanUserRequest, len(order))
	for k, i := range order {
		sorted.Users[k] = b.Users[i]
	}
	out := make([]HumanOutcome, len(b.Users))
	got, err := s.importHumans(ctx, sorted, opts, Idempotency{})
	if err == nil {
		for k, i := range order {
			out[i] = got[k]
		}
		return out, nil
	}
	if !errors.Is(err, errSplitBatch) {
		return nil, err
	}
	for i, u := range b.Users {
		one, err := s.importHumans(ctx, HumanBatch{InstanceID: b.InstanceID, OrgID: b.OrgID, CallerUserID: b.CallerUserID,
			Users: []importdata.ImportHumanUserRequest{u}}, opts, Idempotency{})
		if err != nil {
			for j := i; j < len(out); j++ {
				out[j] = HumanOutcome{Err: err}
			}
			return out, nil
		}
		out[i] = one[0]
	}
	return out, nil
}

// errSplitBatch rolls back a batch of users whose outcomes cannot be
// settled together.
var errSplitBatch = errors.New("the batch must be imported user by user")

// importHumans imports the users of b in one transaction, after hashing
// their plain passwords; with a key (one user only), it records the answer
// under it, or returns the answer recorded by an earlier request.
func (s *Store) importHumans(ctx context.Context, b HumanBatch, opts ApplyOptions, key Idempotency) ([]HumanOutcome, error) {
	if opts.Seal == nil {
		return nil, errNoSeal
	}
	orgID, orgScoped, err := s.userOrg(ctx, b.InstanceID, b.OrgID, b.CallerUserID)
	if err != nil {
		return nil, err
	}
	out := make([]HumanOutcome, len(b.Users))
	items := make(importdata.Items[importdata.DataHumanUser], len(b.Users))
	for i, u := range b.Users {
		items[i].V.User = u
		if u.OTPCode == "" {
			continue
		}
		if err := importdata.ValidateOTPCode("", u.OTPCode); err != nil {
			// Checked first: ImportData would import the user without it.
			out[i].Err = &HumanRejected{"USER-4M90d", "Errors.User.MFA.OTP.Invalid", err.Error()}
			items[i].Err = errSkipped
		}
	}
	a := &applier{db: s.pool, job: Job{InstanceID: b.InstanceID, OnConflict: importdata.OnConflictFail}, home: b.InstanceID,
		unit: Unit{Steps: []string{humanStep}}, opts: opts, orgID: orgID, orgPresent: true, counts: map[string]*Counts{}}
	scope := ""
	if orgScoped {
		scope = orgID // see userScope
	}
	a.usernameScope = &scope
	org := &importdata.DataOrg{OrgID: orgID, HumanUsers: items}
	if err := a.prepare(ctx, org); err != nil {
		return nil, err
	}
	single := len(b.Users) == 1
	// write runs the step in db and settles the outcomes; the writes of a
	// single user that fails are rolled back.
	write := func(db pgx.Tx) error {
		a.db = db
		if err := a.run(ctx, org); err != nil {
			return err
		}
		split, err := a.humanOutcomes(ctx, b.Users, out)
		switch {
		case err != nil:
			return err
		case split && !single:
			return errSplitBatch
		case single && out[0].Err != nil:
			return errRolledBack
		}
		return nil
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if key.Key == "" {
			return write(tx)
		}
		replayed, err := s.claimUserAnswer(ctx, tx, b.InstanceID, key, opts)
		if err != nil || replayed != nil {
			if replayed != nil {
				out[0] = *replayed
			}
			return err
		}
		// The user in a savepoint: a refused user leaves only its answer.
		err = pgx.BeginFunc(ctx, tx, write)
		if msg, _ := rejection(err); msg != "" {
			out[0], err = dbRejected(msg), nil
		}
		if err != nil && !errors.Is(err, errRolledBack) {
			return err
		}
		return recordUserAnswer(ctx, tx, b.InstanceID, key, opts, out[0])
	})
	switch msg, _ := rejection(err); {
	case errors.Is(err, errRolledBack):
		return out, nil
	case (msg != "" || lockConflict(err)) && !single:
		return nil, errSplitBatch
	case msg != "":
		out[0] = dbRejected(msg)
		return out, nil
	case err != nil:
		return nil, err
	}
	return out, nil
}

// dbRejected is the outcome of a user whose data passed every check but
// that PostgreSQL refuses (msg says why).
func dbRejected(msg string) HumanOutcome {
	return HumanOutcome{Err: &HumanRejected{"USER-4M90d", "Errors.User.Invalid", "the database rejected the data: " + msg}}
}

// storedAnswer is the answer recorded for an Idempotency-Key: the user, or
// why it was refused.
type storedAnswer struct {
	Imported *HumanImported `json:"imported,omitempty"`
	Rejected *HumanRejected `json:"rejected,omitempty"`
}

// recordUserAnswer records the outcome o under key, sealed.
func recordUserAnswer(ctx context.Context, tx pgx.Tx, instanceID string, key Idempotency, opts ApplyOptions, o HumanOutcome) error {
	var answer storedAnswer
	if !errors.As(o.Err, &answer.Rejected) {
		answer.Imported = &o.HumanImported
	}
	b, err := json.Marshal(answer)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE user_import_answers SET answer_sealed = $4
		WHERE instance_id = $1 AND caller = $2 AND key = $3`, instanceID, key.Caller, key.Key, opts.Seal.Seal(b)); err != nil {
		return fmt.Errorf("record answer: %w", err)
	}
	return nil
}

var (
	// errRolledBack rolls back the transaction of a user that failed.
	errRolledBack = errors.New("rolled back")
	// errSkipped marks a user of a batch that was refused before the step.
	errSkipped = errors.New("refused before the import")
)

// userOrg returns the org to import the user into (see HumanImport.OrgID)
// and whether its domain policy says userLoginMustBeDomain; ErrNotFound
// when the instance has no such org.
func (s *Store) userOrg(ctx context.Context, instanceID, orgID, callerUserID string) (id string, orgScoped bool, err error) {
	var validateDomains bool
	err = s.pool.QueryRow(ctx, `SELECT o.id, `+domainPolicyColumns+`
		FROM orgs o
		LEFT JOIN domain_policies p ON p.instance_id = o.instance_id AND p.org_id = o.id
		LEFT JOIN instance_policies d ON d.instance_id = o.instance_id AND d.kind = 'domain'
		WHERE o.instance_id = $1 AND o.id = CASE
			WHEN $2 <> '' THEN $2
			WHEN $3 <> '' THEN (SELECT org_id FROM users WHERE instance_id = $1 AND id = $3)
			ELSE (SELECT default_org_id FROM instances WHERE id = $1) END`,
		instanceID, orgID, callerUserID).Scan(&id, &orgScoped, &validateDomains)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, ErrNotFound
	}
	if err != nil {
		return "", false, fmt.Errorf("look up org: %w", err)
	}
	return id, orgScoped, nil
}

// humanOutcomes fills in out the outcomes of the users from a.results, but
// for those refused before the step: a user's answer, or its first error as
// a *HumanRejected. split is true when a user was imported but with an
// error beside it (an IdP link that a parallel request made meanwhile),
// which only a transaction of its own can undo.
func (a *applier) humanOutcomes(ctx context.Context, users []importdata.ImportHumanUserRequest, out []HumanOutcome) (split bool, err error) {
	var ids []string
	for _, r := range a.results {
		o := &out[r.item]
		switch {
		case r.outcome != "ok" && r.step.Name == humanStep && r.sub == 0:
			if o.Err == nil {
				o.Err = rejectedHuman(r.message, r.item)
			}
		case r.outcome != "ok":
			split = true
			o.Err = rejectedHuman(r.message, r.item)
		case r.step.Name == humanStep && r.sub == 0:
			o.UserID, o.OrgID = r.id, a.orgID
			ids = append(ids, r.id)
		case r.step == passwordlessStep:
			exp, err := time.Parse(time.RFC3339, r.f[2])
			if err != nil {
				return false, fmt.Errorf("passwordless link expiration: %w", err)
			}
			o.Passwordless = &PasswordlessLink{Link: r.f[1], Lifetime: passwordlessLifetime, Expiration: exp}
		}
	}
	if err := a.nameTakenByID(ctx, users, out); err != nil {
		return false, err
	}
	for i := range out {
		if out[i].Err != nil {
			out[i].HumanImported = HumanImported{}
			continue
		}
		if out[i].UserID == "" {
			return false, fmt.Errorf("the %s step recorded no outcome for user %d", humanStep, i)
		}
		// Every part was written, or the user fails: the user, its
		// links, its registration code, its OTP secret.
		u := &users[i]
		out[i].Sequence = 1 + len(u.IDPs)
		if out[i].Passwordless != nil {
			out[i].Sequence++
		}
		if u.OTPCode != "" {
			out[i].Sequence++
		}
	}
	if len(ids) == 0 {
		return split, nil
	}
	rows, err := a.db.Query(ctx, `SELECT id, created_at FROM users WHERE instance_id = $1 AND id = ANY($2)`, a.job.InstanceID, ids)
	if err != nil {
		return false, fmt.Errorf("read imported users: %w", err)
	}
	created, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		ID string
		At time.Time
	}])
	if err != nil {
		return false, fmt.Errorf("read imported users: %w", err)
	}
	at := make(map[string]time.Time, len(created))
	for _, c := range created {
		at[c.ID] = c.At
	}
	for i := range out {
		if out[i].Err == nil {
			out[i].CreatedAt = at[out[i].UserID]
		}
	}
	return split, nil
}

// nameTakenByID tells the user whose id (derived from the org and the user
// name) exists because its user name is taken in the org that it is taken
// (Errors.User.AlreadyExists, as ZITADEL, which gives the user a new id,
// answers), rather than that a user with its id exists.
func (a *applier) nameTakenByID(ctx context.Context, users []importdata.ImportHumanUserRequest, out []HumanOutcome) error {
	var ids []string
	var idx []int
	for i := range out {
		var rej *HumanRejected
		if errors.As(out[i].Err, &rej) && rej.ID == "COMMAND-ziuna" {
			ids, idx = append(ids, generatedUserID(a.orgID, users[i].UserName)), append(idx, i)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := a.textRows(ctx, "look up users", `SELECT id, lower(username) FROM users WHERE instance_id = $1 AND id = ANY($2)`,
		a.job.InstanceID, ids)
	if err != nil {
		return err
	}
	names := make(map[string]string, len(rows))
	for _, r := range rows {
		names[r[0]] = r[1]
	}
	for j, i := range idx {
		name := strings.TrimSpace(users[i].UserName)
		if names[ids[j]] == strings.ToLower(name) {
			out[i].Err = rejectedHuman(nameTaken(name), i)
		}
	}
	return nil
}

// rejectedHuman turns an entity error of the step ("ID=… Message=… (detail)")
// of the user at index i into a *HumanRejected whose detail names the field
// of the request ("userName" rather than "humanUsers[0].user.userName").
func rejectedHuman(msg string, i int) *HumanRejected {
	id, rest, _ := strings.Cut(strings.TrimPrefix(msg, "ID="), " Message=")
	key, detail, _ := strings.Cut(rest, " (")
	detail = strings.TrimSuffix(detail, ")")
	path := fmt.Sprintf("humanUsers[%d]", i)
	for _, prefix := range []string{path + ".user.", path + ".user", path + "."} {
		detail = strings.ReplaceAll(detail, prefix, "")
	}
	return &HumanRejected{ID: id, Key: key, Detail: detail}
}

// userAnswer returns the outcome recorded for key, ok false when none is
// (or the request that recorded the key has not committed yet).
func (s *Store) userAnswer(ctx context.Context, db dbtx, instanceID string, key Idempotency, opts ApplyOptions) (HumanOutcome, bool, error) {
	var digest, sealed []byte
	err := db.QueryRow(ctx, `SELECT request_digest, answer_sealed FROM user_import_answers
		WHERE instance_id = $1 AND caller = $2 AND key = $3 AND created_at > now() - $4::interval`,
		instanceID, key.Caller, key.Key, userAnswerRetention.String()).Scan(&digest, &sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return HumanOutcome{}, false, nil
	case err != nil:
		return HumanOutcome{}, false, fmt.Errorf("look up idempotency key: %w", err)
	case string(digest) != string(key.Digest):
		return HumanOutcome{}, false, fmt.Errorf("idempotency key %q was used for a different request: %w", key.Key, ErrConflict)
	case sealed == nil:
		return HumanOutcome{}, false, nil
	}
	plain, err := opts.Seal.Open(sealed)
	if err != nil {
		return HumanOutcome{}, false, fmt.Errorf("open recorded answer: %w", err)
	}
	var answer storedAnswer
	if err := json.Unmarshal(plain, &answer); err != nil {
		return HumanOutcome{}, false, fmt.Errorf("decode recorded answer: %w", err)
	}
	switch {
	case answer.Rejected != nil:
		return HumanOutcome{Err: answer.Rejected}, true, nil
	case answer.Imported != nil:
		out := HumanOutcome{HumanImported: *answer.Imported}
		out.Replayed = true
		return out, true, nil
	}
	return HumanOutcome{}, false, errors.New("decode recorded answer: empty")
}

// claimUserAnswer records key in tx, before the user is written, and
// returns nil; when the key is recorded already (a request with it
// committed, perhaps while this one waited for it), it returns that
// request's outcome instead, or ErrConflict for another body. An expired
// record is replaced.
func (s *Store) claimUserAnswer(ctx context.Context, tx pgx.Tx, instanceID string, key Idempotency, opts ApplyOptions) (*HumanOutcome, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO user_import_answers (instance_id, caller, key, request_digest) VALUES ($1, $2, $3, $4)
		ON CONFLICT (instance_id, caller, key) DO UPDATE SET request_digest = EXCLUDED.request_digest, answer_sealed = NULL, created_at = now()
			WHERE user_import_answers.created_at <= now() - $5::interval`,
		instanceID, key.Caller, key.Key, key.Digest, userAnswerRetention.String())
	if err != nil {
		return nil, fmt.Errorf("record idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	out, ok, err := s.userAnswer(ctx, tx, instanceID, key, opts)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("idempotency key %q has no answer", key.Key)
	}
	return &out, nil
}

// PurgeUserAnswers deletes up to limit answers of Idempotency-Keys that are
// older than their retention, and returns how many it deleted.
func (s *Store) PurgeUserAnswers(ctx context.Context, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM user_import_answers WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM user_import_answers WHERE created_at <= now() - $1::interval ORDER BY created_at LIMIT $2))`,
		userAnswerRetention.String(), limit)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency answers: %w", err)
	}
	return tag.RowsAffected(), nil
}

// lockConflict reports whether err is a deadlock or a serialization
// failure, which a transaction of fewer rows may not meet.
func lockConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
