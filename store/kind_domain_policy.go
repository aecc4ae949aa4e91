package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's domain policy. Its orgId is checked but not used: the
// policy belongs to the org it is given in. userLoginMustBeDomain makes user
// names unique per org instead of per instance (SPEC §3.3).
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
	insert: func(ctx context.Context, a *applier, p *importdata.AddCustomDomainPolicyRequest) (bool, error) {
		tag, err := a.db.Exec(ctx, `INSERT INTO domain_policies (instance_id, org_id, user_login_must_be_domain,
				validate_org_domains, smtp_sender_address_matches_instance_domain)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			a.job.InstanceID, a.orgID, p.UserLoginMustBeDomain, p.ValidateOrgDomains, p.SMTPSenderAddressMatchesInstanceDomain)
		return tag.RowsAffected() == 1, err
	},
}

func applyDomainPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.DomainPolicy, domainPolicyKind)
}
