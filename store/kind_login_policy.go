package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's login policy with its second factors, multi factors
// and IdPs; with onConflict OVERWRITE it replaces the org's, lists included. It runs after the org's IdPs: an IdP of the org that the policy
// names must exist in the org (ZITADEL looks in the caller's org, a bug not
// copied). zimport has no instance IdPs, so an IdP of the instance
// (IDP_OWNER_TYPE_SYSTEM) never exists.
func init() {
	register(&Step{Name: "login_policy", Type: "login_policy", Fields: []string{"loginPolicy"}, Stage: StagePass1, Order: 8,
		apply: applyLoginPolicy})
}

var loginPolicyKind = policyKind[importdata.AddCustomLoginPolicyRequest]{
	field:      "loginPolicy",
	table:      "login_policies",
	invalidID:  "ZIMPORT-LgnPol",
	invalidKey: "Errors.Org.LoginPolicy.Invalid",
	exists:     zerr("Org-Dgfb2", "Errors.Org.LoginPolicy.AlreadyExists", ""),
	command:    loginPolicyCommand,
	refs:       loginPolicyIDPs,
	columns: []string{"allow_username_password", "allow_register", "allow_external_idp", "force_mfa", "passwordless_type",
		"hide_password_reset", "ignore_unknown_usernames", "default_redirect_uri", "password_check_lifetime",
		"external_login_check_lifetime", "mfa_init_skip_lifetime", "second_factor_check_lifetime",
		"multi_factor_check_lifetime", "second_factors", "multi_factors", "allow_domain_discovery",
		"disable_login_with_email", "disable_login_with_phone", "force_mfa_local_only"},
	values: loginPolicyValues,
	lists:  writeLoginPolicyIDPs,
}

func applyLoginPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.LoginPolicy, loginPolicyKind)
}

// loginPolicyCommand checks what ZITADEL's AddLoginPolicy checks first: the
// default redirect URI and that no factor is unspecified.
func loginPolicyCommand(p *importdata.AddCustomLoginPolicyRequest) string {
	if !validDefaultRedirectURI(p.DefaultRedirectURI) {
		return zerr("Org-WSfdq", "Errors.Org.LoginPolicy.RedirectURIInvalid",
			fmt.Sprintf("loginPolicy.defaultRedirectUri: %q is not an absolute URI", p.DefaultRedirectURI))
	}
	for i, f := range p.SecondFactors {
		if f == importdata.SecondFactorUnspecified {
			return zerr("Org-SFeea", "Errors.Org.LoginPolicy.MFA.Unspecified",
				fmt.Sprintf("loginPolicy.secondFactors[%d] is %s", i, f))
		}
	}
	for i, f := range p.MultiFactors {
		if f == importdata.MultiFactorUnspecified {
			return zerr("Org-WSfrg", "Errors.Org.LoginPolicy.MFA.Unspecified",
				fmt.Sprintf("loginPolicy.multiFactors[%d] is %s", i, f))
		}
	}
	return ""
}

// validDefaultRedirectURI is ZITADEL's rule: empty, or a URI with a scheme,
// and a host when the scheme is http or https.
func validDefaultRedirectURI(raw string) bool {
	if raw == "" {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "":
		return false
	case "http", "https":
		return u.Host != ""
	}
	return true
}

// loginPolicyIDPs returns the error of a policy whose IdPs do not exist:
// the org's IdPs (oidcIdps and jwtIdps of the org, imported before) and the
// instance's, which zimport has none of.
func loginPolicyIDPs(ctx context.Context, a *applier, p *importdata.AddCustomLoginPolicyRequest) (string, error) {
	var orgIDPs []string
	for _, idp := range p.IDPs {
		if idp.OwnerType == importdata.IDPOwnerOrg {
			orgIDPs = append(orgIDPs, idp.IDPID)
		}
	}
	have := map[string]bool{}
	if len(orgIDPs) > 0 {
		rows, err := a.textRows(ctx, "look up idps", `SELECT id FROM idps WHERE instance_id = $1 AND org_id = $2 AND id = ANY($3)`,
			a.job.InstanceID, a.orgID, orgIDPs)
		if err != nil {
			return "", err
		}
		have = firstColumn(rows)
	}
	var missing []string
	for i, idp := range p.IDPs {
		switch {
		case idp.OwnerType == importdata.IDPOwnerSystem:
			missing = append(missing, fmt.Sprintf("loginPolicy.idps[%d]: the instance has no IdP %q (zimport has no instance IdPs)", i, idp.IDPID))
		case !have[idp.IDPID]:
			missing = append(missing, fmt.Sprintf("loginPolicy.idps[%d]: IdP %q does not exist in org %q", i, idp.IDPID, a.orgID))
		}
	}
	if len(missing) > 0 {
		return zerr("Org-FEd32", "Errors.IDPConfig.NotExisting", strings.Join(missing, "; ")), nil
	}
	return "", nil
}

// loginPolicyValues are the values of loginPolicyKind's columns.
func loginPolicyValues(p *importdata.AddCustomLoginPolicyRequest) []any {
	second := make([]string, len(p.SecondFactors))
	for i, f := range p.SecondFactors {
		second[i] = f.String()
	}
	multi := make([]string, len(p.MultiFactors))
	for i, f := range p.MultiFactors {
		multi[i] = f.String()
	}
	return []any{p.AllowUsernamePassword, p.AllowRegister, p.AllowExternalIDP, p.ForceMFA,
		p.PasswordlessType.String(), p.HidePasswordReset, p.IgnoreUnknownUsernames, p.DefaultRedirectURI,
		interval(p.PasswordCheckLifetime), interval(p.ExternalLoginCheckLifetime), interval(p.MFAInitSkipLifetime),
		interval(p.SecondFactorCheckLifetime), interval(p.MultiFactorCheckLifetime), second, multi,
		p.AllowDomainDiscovery, p.DisableLoginWithEmail, p.DisableLoginWithPhone, p.ForceMFALocalOnly}
}

// writeLoginPolicyIDPs writes the IdPs of the org's login policy in their
// order, in place of those it had when replace is true.
func writeLoginPolicyIDPs(ctx context.Context, a *applier, p *importdata.AddCustomLoginPolicyRequest, replace bool) error {
	if replace {
		if _, err := a.db.Exec(ctx, `DELETE FROM login_policy_idps WHERE instance_id = $1 AND org_id = $2`,
			a.job.InstanceID, a.orgID); err != nil {
			return fmt.Errorf("delete login policy idps: %w", err)
		}
	}
	if len(p.IDPs) == 0 {
		return nil
	}
	ids, owners := make([]string, len(p.IDPs)), make([]string, len(p.IDPs))
	for i, idp := range p.IDPs {
		ids[i], owners[i] = idp.IDPID, idp.OwnerType.String()
	}
	if _, err := a.db.Exec(ctx, `INSERT INTO login_policy_idps (instance_id, org_id, idp_id, owner_type, position)
		SELECT $1, $2, t.idp_id, t.owner_type, t.n - 1 FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(idp_id, owner_type, n)`,
		a.job.InstanceID, a.orgID, ids, owners); err != nil {
		return fmt.Errorf("insert login policy idps: %w", err)
	}
	return nil
}

// interval is a lifetime as an interval (microseconds); NULL when not given.
func interval(l *importdata.Lifetime) pgtype.Interval {
	if l == nil {
		return pgtype.Interval{}
	}
	return pgtype.Interval{Microseconds: int64(*l) / 1000, Valid: true}
}
