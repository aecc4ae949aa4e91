package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
// hashed before the transaction opens. With an Idempotency key, the answer
// is recorded (sealed) in the transaction; a request with the same key and
// another digest is ErrConflict, and one that comes while the first runs
// waits for it and gets its answer. Failed requests record nothing.
func (s *Store) ImportHumanUser(ctx context.Context, in HumanImport, opts ApplyOptions) (HumanImported, error) {
	if opts.Seal == nil {
		return HumanImported{}, errNoSeal
	}
	if code := in.User.OTPCode; code != "" {
		if err := importdata.ValidateOTPCode("otpCode", code); err != nil {
			return HumanImported{}, &HumanRejected{"USER-4M90d", "Errors.User.MFA.OTP.Invalid", err.Error()}
		}
	}
	key := in.Idempotency
	if key.Key != "" {
		if out, ok, err := s.userAnswer(ctx, s.pool, in.InstanceID, key, opts); ok || err != nil {
			return out, err
		}
	}
	orgID, orgScoped, err := s.userOrg(ctx, in)
	if err != nil {
		return HumanImported{}, err
	}
	a := &applier{db: s.pool, job: Job{InstanceID: in.InstanceID, OnConflict: importdata.OnConflictFail}, home: in.InstanceID,
		unit: Unit{Steps: []string{humanStep}}, opts: opts, orgID: orgID, orgPresent: true, counts: map[string]*Counts{}}
	scope := ""
	if orgScoped {
		scope = orgID // see userScope
	}
	a.usernameScope = &scope
	org := &importdata.DataOrg{OrgID: orgID, HumanUsers: importdata.Items[importdata.DataHumanUser]{{V: importdata.DataHumanUser{User: in.User}}}}
	if err := a.prepare(ctx, org); err != nil {
		return HumanImported{}, err
	}
	var out HumanImported
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a.db = tx
		if key.Key != "" {
			replayed, err := s.claimUserAnswer(ctx, tx, in.InstanceID, key, opts)
			if err != nil {
				return err
			}
			if replayed != nil {
				out = *replayed
				return nil
			}
		}
		if err := a.run(ctx, org); err != nil {
			return err
		}
		if out, err = a.importedHuman(ctx, &in.User); err != nil {
			return err
		}
		if key.Key == "" {
			return nil
		}
		answer, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("encode answer: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE user_import_answers SET answer_sealed = $4
			WHERE instance_id = $1 AND caller = $2 AND key = $3`, in.InstanceID, key.Caller, key.Key, opts.Seal.Seal(answer)); err != nil {
			return fmt.Errorf("record answer: %w", err)
		}
		return nil
	})
	if msg, _ := rejection(err); msg != "" {
		// Data that passed every check but that PostgreSQL refuses.
		return HumanImported{}, &HumanRejected{"USER-4M90d", "Errors.User.Invalid", "the database rejected the data: " + msg}
	}
	return out, err
}

// userOrg returns the org to import the user into (see HumanImport.OrgID)
// and whether its domain policy says userLoginMustBeDomain; ErrNotFound
// when the instance has no such org.
func (s *Store) userOrg(ctx context.Context, in HumanImport) (id string, orgScoped bool, err error) {
	var validateDomains bool
	err = s.pool.QueryRow(ctx, `SELECT o.id, `+domainPolicyColumns+`
		FROM orgs o
		LEFT JOIN domain_policies p ON p.instance_id = o.instance_id AND p.org_id = o.id
		LEFT JOIN instance_policies d ON d.instance_id = o.instance_id AND d.kind = 'domain'
		WHERE o.instance_id = $1 AND o.id = CASE
			WHEN $2 <> '' THEN $2
			WHEN $3 <> '' THEN (SELECT org_id FROM users WHERE instance_id = $1 AND id = $3)
			ELSE (SELECT default_org_id FROM instances WHERE id = $1) END`,
		in.InstanceID, in.OrgID, in.CallerUserID).Scan(&id, &orgScoped, &validateDomains)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, ErrNotFound
	}
	if err != nil {
		return "", false, fmt.Errorf("look up org: %w", err)
	}
	return id, orgScoped, nil
}

// importedHuman reads the outcome of the unit's only user from a.results:
// the answer, or the first error as a *HumanRejected (which rolls the
// transaction back: an error beside a success, such as an IdP link that a
// parallel request made meanwhile, fails the whole request).
func (a *applier) importedHuman(ctx context.Context, u *importdata.ImportHumanUserRequest) (HumanImported, error) {
	out := HumanImported{OrgID: a.orgID}
	for _, r := range a.results {
		switch {
		case r.outcome != "ok":
			return HumanImported{}, rejectedHuman(r.message)
		case r.step.Name == humanStep && r.sub == 0:
			out.UserID = r.id
		case r.step == passwordlessStep:
			exp, err := time.Parse(time.RFC3339, r.f[2])
			if err != nil {
				return HumanImported{}, fmt.Errorf("passwordless link expiration: %w", err)
			}
			out.Passwordless = &PasswordlessLink{Link: r.f[1], Lifetime: passwordlessLifetime, Expiration: exp}
		}
	}
	if out.UserID == "" {
		return HumanImported{}, fmt.Errorf("the %s step recorded no outcome", humanStep)
	}
	// Every part was written, or the request fails: the user, its links,
	// its registration code, its OTP secret.
	out.Sequence = 1 + len(u.IDPs)
	if out.Passwordless != nil {
		out.Sequence++
	}
	if u.OTPCode != "" {
		out.Sequence++
	}
	err := a.db.QueryRow(ctx, `SELECT created_at FROM users WHERE instance_id = $1 AND id = $2`,
		a.job.InstanceID, out.UserID).Scan(&out.CreatedAt)
	if err != nil {
		return HumanImported{}, fmt.Errorf("read imported user: %w", err)
	}
	return out, nil
}

// rejectedHuman turns an entity error of the step ("ID=… Message=… (detail)")
// into a *HumanRejected whose detail names the field of the request
// ("userName" rather than "humanUsers[0].user.userName").
func rejectedHuman(msg string) *HumanRejected {
	id, rest, _ := strings.Cut(strings.TrimPrefix(msg, "ID="), " Message=")
	key, detail, _ := strings.Cut(rest, " (")
	detail = strings.TrimSuffix(detail, ")")
	for _, prefix := range []string{"humanUsers[0].user.", "humanUsers[0].user", "humanUsers[0]."} {
		detail = strings.ReplaceAll(detail, prefix, "")
	}
	return &HumanRejected{ID: id, Key: key, Detail: detail}
}

// userAnswer returns the answer recorded for key, ok false when none is
// (or the request that recorded the key has not committed yet).
func (s *Store) userAnswer(ctx context.Context, db dbtx, instanceID string, key Idempotency, opts ApplyOptions) (HumanImported, bool, error) {
	var digest, sealed []byte
	err := db.QueryRow(ctx, `SELECT request_digest, answer_sealed FROM user_import_answers
		WHERE instance_id = $1 AND caller = $2 AND key = $3 AND created_at > now() - $4::interval`,
		instanceID, key.Caller, key.Key, userAnswerRetention.String()).Scan(&digest, &sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return HumanImported{}, false, nil
	case err != nil:
		return HumanImported{}, false, fmt.Errorf("look up idempotency key: %w", err)
	case string(digest) != string(key.Digest):
		return HumanImported{}, false, fmt.Errorf("idempotency key %q was used for a different request: %w", key.Key, ErrConflict)
	case sealed == nil:
		return HumanImported{}, false, nil
	}
	plain, err := opts.Seal.Open(sealed)
	if err != nil {
		return HumanImported{}, false, fmt.Errorf("open recorded answer: %w", err)
	}
	var out HumanImported
	if err := json.Unmarshal(plain, &out); err != nil {
		return HumanImported{}, false, fmt.Errorf("decode recorded answer: %w", err)
	}
	out.Replayed = true
	return out, true, nil
}

// claimUserAnswer records key in tx, before the user is written, and
// returns nil; when the key is recorded already (a request with it
// committed, perhaps while this one waited for it), it returns that
// request's answer instead, or ErrConflict for another body. An expired
// record is replaced.
func (s *Store) claimUserAnswer(ctx context.Context, tx pgx.Tx, instanceID string, key Idempotency, opts ApplyOptions) (*HumanImported, error) {
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
