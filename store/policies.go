package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"

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
	// insert writes the policy unless the org has one, and reports whether
	// it did.
	insert func(ctx context.Context, a *applier, p *T) (bool, error)
}

// applyPolicy imports pol, an org's policy of kind k, when the org gives it:
// its fields are checked, then whether the org has one (onConflict SKIP
// applies), then what it names, and it is inserted.
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
	if exists {
		a.failOrExisting(step, 0, step.Type, id, k.exists)
		return nil
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
	inserted, err := k.insert(ctx, a, pol.V)
	if err != nil {
		return fmt.Errorf("insert into %s: %w", k.table, err)
	}
	if !inserted { // a parallel unit of the same org was faster
		a.failOrExisting(step, 0, step.Type, id, k.exists)
		return nil
	}
	a.succeed(step, 0, step.Type, id)
	return nil
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
// ZITADEL overwrites texts; zimport reports them (onConflict SKIP applies).
func textExists(what, lang string) string {
	return zerr("ZIMPORT-TxtEx", "Errors.CustomText.AlreadyExists", fmt.Sprintf("the org has %s for language %q", what, lang))
}

// textTwice is the message of texts given twice for a language in one org.
func textTwice(what string, first int, lang string) string {
	return zerr("ZIMPORT-TxtEx", "Errors.CustomText.AlreadyExists", fmt.Sprintf("language %q is given twice (as in %s[%d])", lang, what, first))
}
