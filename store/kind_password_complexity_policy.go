package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's password complexity policy; with onConflict OVERWRITE
// it replaces the org's. The plain passwords of the org's human users are
// checked against it (checkPasswordComplexity).
func init() {
	register(&Step{Name: "password_complexity_policy", Type: "password_complexity_policy", Fields: []string{"passwordComplexityPolicy"},
		Stage: StagePass1, Order: 9, apply: applyPasswordComplexityPolicy})
}

var passwordComplexityPolicyKind = policyKind[importdata.AddCustomPasswordComplexityPolicyRequest]{
	field:      "passwordComplexityPolicy",
	table:      "password_complexity_policies",
	invalidID:  "ZIMPORT-PwcPol",
	invalidKey: "Errors.Org.PasswordComplexityPolicy.Invalid",
	exists:     zerr("Org-LdhbS", "Errors.Org.PasswordComplexityPolicy.AlreadyExists", ""),
	command: func(p *importdata.AddCustomPasswordComplexityPolicyRequest) string {
		if p.MinLength == 0 || p.MinLength > 72 {
			return zerr("MODEL-Lsp0e", "Errors.User.PasswordComplexityPolicy.MinLengthNotAllowed",
				fmt.Sprintf("passwordComplexityPolicy.minLength: %d is not between 1 and 72", p.MinLength))
		}
		return ""
	},
	columns: []string{"min_length", "has_uppercase", "has_lowercase", "has_number", "has_symbol"},
	values: func(p *importdata.AddCustomPasswordComplexityPolicyRequest) []any {
		return []any{int64(p.MinLength), p.HasUppercase, p.HasLowercase, p.HasNumber, p.HasSymbol}
	},
}

func applyPasswordComplexityPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.PasswordComplexityPolicy, passwordComplexityPolicyKind)
}

// complexityPolicy returns the password complexity policy of the unit's
// org: the one the unit imports (its step runs before human users; in
// prepare, before the unit's transaction, it is not written yet) when it
// passes its checks and is written, that is when the org has none or
// onConflict is OVERWRITE, else the one in the directory, else the
// instance's default (ZITADEL's: 8 characters with a lower and an upper case
// letter, a number and a symbol), else nil: no rules. It works in prepare
// and in apply.
func (a *applier) complexityPolicy(ctx context.Context, org *importdata.DataOrg) (*importdata.AddCustomPasswordComplexityPolicyRequest, error) {
	imported := a.importedComplexityPolicy(org)
	if imported != nil && a.overwriting() {
		return imported, nil
	}
	var p importdata.AddCustomPasswordComplexityPolicyRequest
	var minLength int64
	err := a.db.QueryRow(ctx, `SELECT min_length, has_uppercase, has_lowercase, has_number, has_symbol
		FROM password_complexity_policies WHERE instance_id = $1 AND org_id = $2`, a.job.InstanceID, a.orgID).
		Scan(&minLength, &p.HasUppercase, &p.HasLowercase, &p.HasNumber, &p.HasSymbol)
	switch {
	case err == nil:
		p.MinLength = importdata.Uint64(minLength)
		return &p, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("look up password complexity policy: %w", err)
	}
	if imported != nil {
		return imported, nil
	}
	if found, err := a.instancePolicy(ctx, "password_complexity", &p); err != nil || !found {
		return nil, err
	}
	return &p, nil
}

// importedComplexityPolicy returns the password complexity policy that the
// unit imports when it passes its checks, else nil.
func (a *applier) importedComplexityPolicy(org *importdata.DataOrg) *importdata.AddCustomPasswordComplexityPolicyRequest {
	if org == nil || !slices.Contains(a.unit.Steps, "password_complexity_policy") {
		return nil
	}
	pol := org.PasswordComplexityPolicy
	k := passwordComplexityPolicyKind
	if !pol.Present() || entityProblems(k.field, pol.Err, pol.V) != "" || k.command(pol.V) != "" {
		return nil
	}
	return pol.V
}

var (
	hasLowercase = regexp.MustCompile(`[a-z]`).MatchString
	hasUppercase = regexp.MustCompile(`[A-Z]`).MatchString
	hasNumber    = regexp.MustCompile(`[0-9]`).MatchString
	hasSymbol    = regexp.MustCompile(`[^A-Za-z0-9]`).MatchString
)

// checkPasswordComplexity checks a plain password against policy p (nil:
// no rules) as ZITADEL does: its length in bytes, then a lower case letter,
// an upper case letter, a digit and a symbol (ASCII classes). The error's
// message is ZITADEL's error of the first rule broken, e.g.
// "ID=DOMAIN-HuJf6 Message=Errors.User.PasswordComplexityPolicy.MinLength (...)".
func checkPasswordComplexity(p *importdata.AddCustomPasswordComplexityPolicyRequest, password string) error {
	if p == nil {
		return nil
	}
	switch {
	case p.MinLength != 0 && uint64(len(password)) < uint64(p.MinLength):
		return errors.New(zerr("DOMAIN-HuJf6", "Errors.User.PasswordComplexityPolicy.MinLength",
			fmt.Sprintf("the password is shorter than %d bytes", p.MinLength)))
	case p.HasLowercase && !hasLowercase(password):
		return errors.New(zerr("DOMAIN-co3Xw", "Errors.User.PasswordComplexityPolicy.HasLower", "the password has no lower case letter"))
	case p.HasUppercase && !hasUppercase(password):
		return errors.New(zerr("DOMAIN-VoaRj", "Errors.User.PasswordComplexityPolicy.HasUpper", "the password has no upper case letter"))
	case p.HasNumber && !hasNumber(password):
		return errors.New(zerr("DOMAIN-ZBv4H", "Errors.User.PasswordComplexityPolicy.HasNumber", "the password has no digit"))
	case p.HasSymbol && !hasSymbol(password):
		return errors.New(zerr("DOMAIN-ZDLwA", "Errors.User.PasswordComplexityPolicy.HasSymbol", "the password has no symbol"))
	}
	return nil
}
