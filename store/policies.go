package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/language"

	"github.com/zimport/zimport/importdata"
)

// This file holds what the policy and text kinds share: a policy is one
// object per org in a table of its own (reference §2.6.4 steps 2, 4, 5, 8
// to 10). A policy has no success list (ImportDataSuccessOrg has none): a
// policy that is imported is an "ok" result with the org id that nothing
// renders.

// policyKind describes one of an org's policies.
type policyKind[T any] struct {
	// field is the DataOrg member, e.g. "labelPolicy".
	field string
	// table holds the policies, keyed by instance_id and org_id.
	table string
	// invalidID and invalidKey are the error of a policy that breaks its
	// field rules.
	invalidID, invalidKey string
	// exists is the message of a policy that the org has already.
	exists string
	// command, when set, returns the error of a policy that ZITADEL's
	// command refuses before it looks at the org's policy ("" when none).
	command func(p *T) string
	// refs, when set, returns the error of a policy that names what does not
	// exist ("" when none).
	refs func(ctx context.Context, a *applier, p *T) (string, error)
	// columns are the columns of table that the import writes, besides
	// instance_id and org_id; values returns their values for p, in order.
	// A policy is inserted and, with onConflict OVERWRITE, updated with them.
	columns []string
	values  func(p *T) []any
	// guard, when set, returns the error of a policy that may not take the
	// place of the org's current one, or of its absence ("" when it may).
	guard func(ctx context.Context, a *applier, p *T) (string, error)
	// lists, when set, writes what the policy lists in tables of their own
	// (the login policy's IdPs) once its row is written; replace says the
	// row was updated, whose lists are replaced.
	lists func(ctx context.Context, a *applier, p *T, replace bool) error
}

// applyPolicy imports pol, an org's policy of kind k, when the org gives it:
// its fields are checked, then whether the org has one (onConflict SKIP
// applies; with OVERWRITE it is updated in place), then what it names, and
// it is written.
func applyPolicy[T any, PT interface {
	*T
	Validate(string) error
}](ctx context.Context, a *applier, step *Step, pol importdata.Policy[T], k policyKind[T]) error {
	if !pol.Present() {
		return nil
	}
	id := safeText(a.orgID)
	fail := func(msg string) { a.fail(step, 0, step.Type, id, safeText(msg)) }
	if msg := entityProblems(k.field, pol.Err, PT(pol.V)); msg != "" {
		fail(zerr(k.invalidID, k.invalidKey, msg))
		return nil
	}
	if k.command != nil {
		if msg := k.command(pol.V); msg != "" {
			fail(msg)
			return nil
		}
	}
	var exists bool
	if err := a.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+k.table+` WHERE instance_id = $1 AND org_id = $2)`,
		a.job.InstanceID, a.orgID).Scan(&exists); err != nil {
		return fmt.Errorf("look up %s: %w", k.table, err)
	}
	if exists && !a.overwriting() {
		a.failOrExisting(step, 0, step.Type, id, k.exists)
		return nil
	}
	if k.guard != nil {
		msg, err := k.guard(ctx, a, pol.V)
		if err != nil {
			return err
		}
		if msg != "" {
			fail(msg)
			return nil
		}
	}
	if k.refs != nil {
		msg, err := k.refs(ctx, a, pol.V)
		if err != nil {
			return err
		}
		if msg != "" {
			fail(msg)
			return nil
		}
	}
	written, err := k.write(ctx, a, pol.V, exists)
	if err != nil {
		return err
	}
	switch {
	case !written: // inserted by a parallel unit of the same org, or deleted meanwhile
		a.failOrExisting(step, 0, step.Type, id, k.exists)
	case exists:
		a.overwrote(step, 0, step.Type, id, id)
	default:
		a.succeed(step, 0, step.Type, id)
	}
	return nil
}

// write inserts p as the org's policy unless it has one or, when update is
// true, updates the org's policy with every column of the import, then
// writes its lists; it reports whether it wrote the row.
func (k policyKind[T]) write(ctx context.Context, a *applier, p *T, update bool) (bool, error) {
	args := append([]any{a.job.InstanceID, a.orgID}, k.values(p)...)
	params := make([]string, len(k.columns))
	for i, c := range k.columns {
		params[i] = fmt.Sprintf("$%d", i+3)
		if update {
			params[i] = c + " = " + params[i]
		}
	}
	what := "insert into " + k.table
	sql := `INSERT INTO ` + k.table + ` (instance_id, org_id, ` + strings.Join(k.columns, ", ") + `)
		VALUES ($1, $2, ` + strings.Join(params, ", ") + `) ON CONFLICT DO NOTHING`
	if update {
		what = "update " + k.table
		sql = `UPDATE ` + k.table + ` SET ` + strings.Join(params, ", ") + ` WHERE instance_id = $1 AND org_id = $2`
	}
	tag, err := a.db.Exec(ctx, sql, args...)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if k.lists != nil {
		if err := k.lists(ctx, a, p, update); err != nil {
			return false, fmt.Errorf("%s: %w", what, err)
		}
	}
	return true, nil
}

// entityProblems returns what is wrong with v, the entity at path (e.g.
// "labelPolicy" or "initMessages[2]") that decoded with decodeErr: the
// decoding error, the field rules it breaks, or a NUL character, which
// PostgreSQL text cannot store; "" when nothing is.
func entityProblems(path string, decodeErr error, v interface{ Validate(string) error }) string {
	if decodeErr != nil {
		msg := importdata.DescribeError(path, decodeErr)
		if !strings.HasPrefix(msg, path) {
			msg = path + ": " + msg // e.g. a policy that is not an object
		}
		return msg
	}
	if err := v.Validate(path); err != nil {
		return err.Error()
	}
	if p := nulPath(reflect.ValueOf(v)); p != "" {
		return path + p + ": contains a NUL character"
	}
	return ""
}

// languageTag returns the canonical BCP 47 form of a text's language ("de",
// "en-US"), or an error message (ZITADEL's "language undefined") naming
// field when it is not a language tag.
func languageTag(field, lang string) (string, string) {
	tag, err := language.Parse(lang)
	if err != nil || tag == language.Und {
		return "", zerr("LANG-3M9f2", "Errors.Language.Undefined", fmt.Sprintf("%s: %q is not a language tag (BCP 47, e.g. \"de\" or \"en-US\")", field, lang))
	}
	return tag.String(), ""
}

// textExists is the message of texts the org has already for a language.
// ZITADEL overwrites texts; zimport reports them (onConflict SKIP applies)
// unless onConflict is OVERWRITE.
func textExists(what, lang string) string {
	return zerr("ZIMPORT-TxtEx", "Errors.CustomText.AlreadyExists", fmt.Sprintf("the org has %s for language %q", what, lang))
}

// textTwice is the message of texts given twice for a language in one org.
func textTwice(what string, first int, lang string) string {
	return zerr("ZIMPORT-TxtEx", "Errors.CustomText.AlreadyExists", fmt.Sprintf("language %q is given twice (as in %s[%d])", lang, what, first))
}

// instancePolicy decodes into v the instance's default policy of kind
// (instance_policies, ZITADEL's defaults); it reports false when the
// instance has none.
func (a *applier) instancePolicy(ctx context.Context, kind string, v any) (bool, error) {
	var raw []byte
	err := a.db.QueryRow(ctx, `SELECT policy FROM instance_policies WHERE instance_id = $1 AND kind = $2`,
		a.job.InstanceID, kind).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err == nil {
		err = importdata.Unmarshal(raw, v)
	}
	if err != nil {
		return false, fmt.Errorf("look up the instance's %s policy: %w", kind, err)
	}
	return true, nil
}

// domainPolicyColumns are userLoginMustBeDomain and validateOrgDomains of
// the domain policy in force: the org's (domain_policies p), else the
// instance's default (instance_policies d).
const domainPolicyColumns = `coalesce(p.user_login_must_be_domain, (d.policy->>'userLoginMustBeDomain')::boolean, false),
			coalesce(p.validate_org_domains, (d.policy->>'validateOrgDomains')::boolean, false)`

// domainPolicy returns what the domain policy in force for the unit's org
// says: the org's own, else the instance's default.
func (a *applier) domainPolicy(ctx context.Context) (userLoginMustBeDomain, validateOrgDomains bool, err error) {
	err = a.db.QueryRow(ctx, `SELECT `+domainPolicyColumns+`
		FROM (SELECT) one
		LEFT JOIN domain_policies p ON p.instance_id = $1 AND p.org_id = $2
		LEFT JOIN instance_policies d ON d.instance_id = $1 AND d.kind = 'domain'`,
		a.job.InstanceID, a.orgID).Scan(&userLoginMustBeDomain, &validateOrgDomains)
	if err != nil {
		return false, false, fmt.Errorf("look up domain policy: %w", err)
	}
	return userLoginMustBeDomain, validateOrgDomains, nil
}
