package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's domain policy. Its orgId is checked but not used: the
// policy belongs to the org it is given in. userLoginMustBeDomain makes user
// names unique per org instead of per instance (SPEC §3.3). With onConflict
// OVERWRITE the policy replaces the org's. Either way userLoginMustBeDomain
// may not change while the org has users: their names would change scope.
func init() {
	register(&Step{Name: "domain_policy", Type: "domain_policy", Fields: []string{"domainPolicy"}, Stage: StagePass1, Order: 2,
		apply: applyDomainPolicy})
}

var domainPolicyKind = policyKind[importdata.AddCustomDomainPolicyRequest]{
	field:      "domainPolicy",
	table:      "domain_policies",
	invalidID:  "ZIMPORT-DomPol",
	invalidKey: "Errors.Org.DomainPolicy.Invalid",
	exists:     zerr("ORG-1M8ds", "Errors.Org.DomainPolicy.AlreadyExists", ""),
	columns:    []string{"user_login_must_be_domain", "validate_org_domains", "smtp_sender_address_matches_instance_domain"},
	values: func(p *importdata.AddCustomDomainPolicyRequest) []any {
		return []any{p.UserLoginMustBeDomain, p.ValidateOrgDomains, p.SMTPSenderAddressMatchesInstanceDomain}
	},
	guard: domainPolicyScope,
}

func applyDomainPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	// The scope of user names follows the policy written now.
	defer func() { a.usernameScope = nil }()
	return applyPolicy(ctx, a, step, org.DomainPolicy, domainPolicyKind)
}

// domainPolicyScope returns the error of a policy that would change
// userLoginMustBeDomain of an org that has users (an org without a policy
// has the instance's default): the scope in which their names are unique would change
// (from the instance to the org or back), and names unique in one scope may
// clash in the other.
func domainPolicyScope(ctx context.Context, a *applier, p *importdata.AddCustomDomainPolicyRequest) (string, error) {
	current, _, err := a.domainPolicy(ctx)
	if err != nil {
		return "", err
	}
	var hasUsers bool
	if err := a.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE instance_id = $1 AND org_id = $2)`,
		a.job.InstanceID, a.orgID).Scan(&hasUsers); err != nil {
		return "", fmt.Errorf("look up users of the org: %w", err)
	}
	if current == p.UserLoginMustBeDomain || !hasUsers {
		return "", nil
	}
	scope := "the instance"
	if current {
		scope = "the org"
	}
	return zerr("ZIMPORT-DomScp", "Errors.Org.DomainPolicy.UserLoginMustBeDomain",
		fmt.Sprintf("domainPolicy.userLoginMustBeDomain cannot change to %t: org %q has users, whose names are unique in %s; "+
			"the policy was not written", p.UserLoginMustBeDomain, a.orgID, scope)), nil
}
