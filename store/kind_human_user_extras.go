package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/zimport/zimport/importdata"
)

// This file holds what the human_users step does besides creating users:
// their IdP links (user.idps), passwordless registration codes and TOTP
// secrets (otpCode).

// passwordlessStep names passwordlessLinks, zimport's addition to
// ImportDataSuccessOrg: the link, with a one-time code, by which a user that
// asked for passwordless registration registers a passkey (ZITADEL creates
// the code and loses the link). The human_users step records the entries
// {userId, link, expiration} under this step, beside the user. The step has
// no members, so it never gets a unit of its own.
var passwordlessStep = register(&Step{Name: "passwordless_links", Type: "human_user", Stage: StagePass1, Order: 98,
	Success: "passwordlessLinks", SuccessKeys: []string{"userId", "link", "expiration"},
	apply: func(context.Context, *applier, *Step, *importdata.DataOrg) error { return nil }})

// passwordlessLifetime is how long a passwordless registration code is
// valid: ZITADEL's default for passwordless init codes.
const passwordlessLifetime = time.Hour

// A registration link (f2 of a passwordlessLinks entry, with its code) is
// kept in job_results only while the code is valid: results leave it out
// once its expiration (f3, RFC 3339 in UTC, which sorts as it compares)
// has passed, and BlankExpiredLinks removes it from the table.

// linkUnlessExpired is the SQL of f2 of job_results row r, NULL when r is a
// passwordlessLinks entry (step parameter step) whose code has expired.
func linkUnlessExpired(r, step string) string {
	return `CASE WHEN ` + r + `.step = ` + step + ` AND ` + r + `.f3 <= ` + nowRFC3339 + ` THEN NULL ELSE ` + r + `.f2 END`
}

// nowRFC3339 is the SQL of the time now as passwordlessCodes writes
// expirations.
const nowRFC3339 = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`

// BlankExpiredLinks removes, in up to limit results, the passwordless
// registration links whose codes have expired, and returns how many.
func (s *Store) BlankExpiredLinks(ctx context.Context, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE job_results SET f2 = NULL WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM job_results WHERE step = $1 AND f2 IS NOT NULL AND f3 <= `+nowRFC3339+` LIMIT $2))`,
		passwordlessStep.number(), limit)
	if err != nil {
		return 0, fmt.Errorf("blank expired links: %w", err)
	}
	return tag.RowsAffected(), nil
}

const (
	otpReady   = "ID=COMMAND-do9se Message=Errors.User.MFA.OTP.AlreadyReady"
	otpTypeErr = "human_user_otp"
)

// checkHumanIDPs records in o the users whose IdP links cannot be made (an
// IdP that the org does not have, an external user linked to another user
// or given twice) and returns the others.
func (a *applier) checkHumanIDPs(ctx context.Context, o *outcomes, items importdata.Items[importdata.DataHumanUser], users []newUser) ([]newUser, error) {
	var idps, externals []string
	for _, nu := range users {
		for _, l := range items[nu.i].V.User.IDPs {
			idps, externals = append(idps, l.ConfigID), append(externals, l.ExternalUserID)
		}
	}
	if len(idps) == 0 {
		return users, nil
	}
	orgIDPs, err := a.orgIDPs(ctx, idps)
	if err != nil {
		return nil, err
	}
	linked, err := a.linkedUsers(ctx, idps, externals)
	if err != nil {
		return nil, err
	}
	out := users[:0:0]
next:
	for _, nu := range users {
		mine := map[tuple]bool{}
		for j, l := range items[nu.i].V.User.IDPs {
			path := fmt.Sprintf("%s.user.idps[%d]", a.path("humanUsers", nu.i), j)
			k := tuple{l.ConfigID, l.ExternalUserID}
			switch {
			case !orgIDPs[l.ConfigID]:
				o.fail(nu.i, idpMissing(path+".configId: ", l.ConfigID, a.orgID))
				continue next
			case mine[k]:
				o.fail(nu.i, zerr("V3-DKcYh", "Errors.User.ExternalIDP.AlreadyExists",
					fmt.Sprintf("%s: external user %q of IdP %q is given twice", path, l.ExternalUserID, l.ConfigID)))
				continue next
			case linked[k] != "" && linked[k] != nu.id: // the user's own link: the user exists
				o.fail(nu.i, linkTaken(path+": ", l.ExternalUserID, l.ConfigID, linked[k]))
				continue next
			}
			mine[k] = true
		}
		for k := range mine {
			linked[k] = nu.id
		}
		out = append(out, nu)
	}
	return out, nil
}

// writeHumanIDPs links the users that were written to their IdPs. The
// links of a user that was overwritten are replaced: those from its
// user.idps that the new list lacks are removed, the others updated (their
// display name); a link that the user has from userLinks keeps its source.
// A link that a parallel unit made meanwhile for another user is an error
// beside the user's success.
func (a *applier) writeHumanIDPs(ctx context.Context, o *outcomes, items importdata.Items[importdata.DataHumanUser], users []newUser) error {
	type link struct{ i, j int }
	var links []link
	var uid, idp, ext, display, replaced []string
	for _, nu := range users {
		switch o.list[nu.i].state {
		case outcomeUpdated:
			replaced = append(replaced, nu.id)
		case outcomeOK:
		default:
			continue
		}
		for j, l := range items[nu.i].V.User.IDPs {
			links = append(links, link{nu.i, j})
			uid, idp, ext, display = append(uid, nu.id), append(idp, l.ConfigID), append(ext, l.ExternalUserID), append(display, l.DisplayName)
		}
	}
	if len(replaced) > 0 {
		if _, err := a.db.Exec(ctx, `DELETE FROM user_links WHERE instance_id = $1 AND source = 'human_user' AND user_id = ANY($2)
			AND (user_id, idp_id, external_user_id) NOT IN (SELECT * FROM unnest($3::text[], $4::text[], $5::text[]))`,
			a.job.InstanceID, replaced, uid, idp, ext); err != nil {
			return fmt.Errorf("remove links of human users: %w", err)
		}
	}
	if len(links) == 0 {
		return nil
	}
	// A user's own link is updated; checkHumanIDPs left no pair twice.
	written, err := a.set(ctx, "write links of human users", `INSERT INTO user_links (instance_id, source, user_id, idp_id,
			external_user_id, display_name)
		SELECT $1, 'human_user', t.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
			AS t(user_id, idp_id, external_id, display_name)
		ON CONFLICT (instance_id, idp_id, external_user_id) DO UPDATE SET display_name = EXCLUDED.display_name
			WHERE user_links.user_id = EXCLUDED.user_id
		RETURNING idp_id, external_user_id`, a.job.InstanceID, uid, idp, ext, display)
	if err != nil {
		return err
	}
	for n, l := range links {
		if !written[tuple{idp[n], ext[n]}] {
			o.note(l.i, "human_user", zerr("V3-DKcYh", "Errors.User.ExternalIDP.AlreadyExists",
				fmt.Sprintf("%s.user.idps[%d]: external user %q of IdP %q was linked to another user meanwhile; the user was imported without this link",
					a.path("humanUsers", l.i), l.j, ext[n], idp[n])))
		}
	}
	return nil
}

// extraResult is a result of a user's follow-up (its TOTP secret) recorded
// beside the user after its notes, not counted.
type extraResult struct {
	i       int
	outcome string
	msg     string
}

// finishHumanUsers creates the passwordless registration codes of the users
// that were inserted, imports the TOTP secrets, and records every outcome.
func (a *applier) finishHumanUsers(ctx context.Context, o *outcomes, items importdata.Items[importdata.DataHumanUser]) error {
	links, err := a.passwordlessCodes(ctx, o, items)
	if err != nil {
		return err
	}
	otp, err := a.importOTPs(ctx, o, items)
	if err != nil {
		return err
	}
	if err := o.flush(); err != nil {
		return err
	}
	for _, r := range otp {
		a.results = append(a.results, result{step: o.step, item: a.item(r.i), sub: len(o.list[r.i].notes) + 1,
			outcome: r.outcome, typ: otpTypeErr, id: safeText(items[r.i].V.UserID), message: safeText(r.msg)})
	}
	a.results = append(a.results, links...)
	return nil
}

// dryRunCode stands in a dry run's links for the code, which would not
// work: a link that cannot be mistaken for a real one.
const dryRunCode = "DRY-RUN"

// passwordlessCodes creates a one-time passwordless registration code for
// each inserted or overwritten user that asked for one (the codes made
// before stay valid), storing only its SHA-256, and
// returns the passwordlessLinks entries with the links.
func (a *applier) passwordlessCodes(ctx context.Context, o *outcomes, items importdata.Items[importdata.DataHumanUser]) ([]result, error) {
	var idx []int
	for i, it := range items {
		if st := o.list[i].state; (st == outcomeOK || st == outcomeUpdated) && it.V.User.RequestPasswordlessRegistration {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	base, err := a.loginBaseURL(ctx)
	if err != nil {
		return nil, err
	}
	expires := time.Now().Add(passwordlessLifetime).UTC().Truncate(time.Second)
	expiration := expires.Format(time.RFC3339)
	n := len(idx)
	ids, users, hashes := column(n), column(n), make([][]byte, n)
	out := make([]result, n)
	for j, i := range idx {
		userID := items[i].V.UserID
		code := rand.Text()
		h := sha256.Sum256([]byte(code))
		if a.job.DryRun {
			code = dryRunCode // the scratch instance's codes go with it: no link works
		}
		ids[j], users[j], hashes[j] = randomID(), userID, h[:]
		link := base + "/ui/login/login/passwordless/init?userID=" + url.QueryEscape(userID) + "&orgID=" + url.QueryEscape(a.orgID) +
			"&codeID=" + ids[j] + "&code=" + code
		out[j] = result{step: passwordlessStep, item: a.item(i), outcome: "ok", typ: passwordlessStep.Type, id: userID,
			f: [4]string{userID, link, expiration}}
	}
	if _, err := a.db.Exec(ctx, `INSERT INTO passwordless_codes (instance_id, id, user_id, code_hash, expires_at)
		SELECT $1, t.id, t.user_id, t.code_hash, $5 FROM unnest($2::text[], $3::text[], $4::bytea[]) AS t(id, user_id, code_hash)`,
		a.job.InstanceID, ids, users, hashes, expires); err != nil {
		return nil, fmt.Errorf("insert passwordless codes: %w", err)
	}
	return out, nil
}

// loginBaseURL is the origin of the instance's login UI: https and its
// primary domain; empty (links are then relative) when it has no domain. A
// dry run's links name the instance, not its scratch copy, which has no
// domains.
func (a *applier) loginBaseURL(ctx context.Context) (string, error) {
	rows, err := a.textRows(ctx, "look up instance domain", `SELECT domain FROM instance_domains WHERE instance_id = $1
		ORDER BY is_primary DESC, generated, domain LIMIT 1`, a.home)
	if err != nil || len(rows) == 0 {
		return "", err
	}
	return "https://" + rows[0][0], nil
}

// importOTPs stores the TOTP secret (otpCode) of each decoded user that has
// one, sealed and verified, as ZITADEL's ImportHumanTOTP does after
// ImportHuman whatever its outcome: the user must be a human user of the org
// without a TOTP secret, or one that this unit overwrote (onConflict
// OVERWRITE), whose secret is replaced. It returns the errors, and the
// secrets skipped (onConflict SKIP) because the user has one.
func (a *applier) importOTPs(ctx context.Context, o *outcomes, items importdata.Items[importdata.DataHumanUser]) ([]extraResult, error) {
	var idx []int
	var ids []string
	for i, it := range items {
		if it.Err == nil && it.V.User.OTPCode != "" {
			idx = append(idx, i)
			if strings.IndexByte(it.V.UserID, 0) < 0 {
				ids = append(ids, it.V.UserID)
			}
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	if a.opts.Seal == nil {
		return nil, errNoSeal
	}
	rows, err := a.textRows(ctx, "look up users for OTP", `SELECT id, type FROM users WHERE instance_id = $1 AND org_id = $2 AND id = ANY($3)`,
		a.job.InstanceID, a.orgID, ids)
	if err != nil {
		return nil, err
	}
	userType := make(map[string]string, len(rows))
	for _, r := range rows {
		userType[r[0]] = r[1]
	}
	ready, err := a.set(ctx, "look up OTP", `SELECT user_id FROM user_otp WHERE instance_id = $1 AND user_id = ANY($2)`,
		a.job.InstanceID, ids)
	if err != nil {
		return nil, err
	}
	var out []extraResult
	existing := func(i int) {
		if a.job.OnConflict == importdata.OnConflictSkip {
			out = append(out, extraResult{i: i, outcome: "skipped"})
		} else {
			out = append(out, extraResult{i: i, outcome: "error", msg: otpReady})
		}
	}
	var add []int
	var uid, replaced []string
	var secret [][]byte
	queued := map[string]bool{} // one secret per user and statement
	for _, i := range idx {
		u := &items[i].V
		path := a.path("humanUsers", i) + ".user"
		switch err := importdata.ValidateOTPCode(path, u.User.OTPCode); {
		case err != nil:
			out = append(out, extraResult{i: i, outcome: "error", msg: zerr("USER-4M90d", "Errors.User.MFA.OTP.Invalid", err.Error())})
		case userType[u.UserID] == "":
			out = append(out, extraResult{i: i, outcome: "error", msg: zerr("COMMAND-4M0fs", "Errors.User.NotFound",
				fmt.Sprintf("user %q does not exist in org %q", u.UserID, a.orgID))})
		case userType[u.UserID] != "human":
			out = append(out, extraResult{i: i, outcome: "error", msg: zerr("COMMAND-4M0fs", "Errors.User.NotFound",
				fmt.Sprintf("user %q is not a human user", u.UserID))})
		case queued[u.UserID], ready[tuple{u.UserID}] && o.list[i].state != outcomeUpdated:
			existing(i)
		default:
			queued[u.UserID] = true
			if o.list[i].state == outcomeUpdated { // once: its id is claimed once
				replaced = append(replaced, u.UserID)
			}
			ready[tuple{u.UserID}] = true
			add, uid, secret = append(add, i), append(uid, u.UserID), append(secret, a.opts.Seal.Seal([]byte(u.User.OTPCode)))
		}
	}
	if len(add) > 0 {
		inserted, err := a.set(ctx, "insert OTP", `INSERT INTO user_otp (instance_id, user_id, secret_sealed)
			SELECT $1, t.* FROM unnest($2::text[], $3::bytea[]) AS t(user_id, secret)
			ON CONFLICT (instance_id, user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, verified = true
				WHERE user_otp.user_id = ANY($4)
			RETURNING user_id`, a.job.InstanceID, uid, secret, replaced)
		if err != nil {
			return nil, err
		}
		for _, i := range add {
			if !inserted[tuple{items[i].V.UserID}] {
				existing(i) // imported by a parallel unit meanwhile
			}
		}
	}
	return out, nil
}
