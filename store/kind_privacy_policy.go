package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's privacy policy.
func init() {
	register(&Step{Name: "privacy_policy", Type: "privacy_policy", Fields: []string{"privacyPolicy"}, Stage: StagePass1, Order: 10,
		apply: applyPrivacyPolicy})
}

var privacyPolicyKind = policyKind[importdata.AddCustomPrivacyPolicyRequest]{
	field:      "privacyPolicy",
	table:      "privacy_policies",
	invalidID:  "ZIMPORT-PrvPol",
	invalidKey: "Errors.Org.PrivacyPolicy.Invalid",
	exists:     zerr("Org-0oLpd", "Errors.Org.PrivacyPolicy.AlreadyExists", ""),
	insert: func(ctx context.Context, a *applier, p *importdata.AddCustomPrivacyPolicyRequest) (bool, error) {
		tag, err := a.db.Exec(ctx, `INSERT INTO privacy_policies (instance_id, org_id, tos_link, privacy_link, help_link,
				support_email, docs_link, custom_link, custom_link_text)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
			a.job.InstanceID, a.orgID, p.TOSLink, p.PrivacyLink, p.HelpLink, p.SupportEmail, p.DocsLink, p.CustomLink, p.CustomLinkText)
		return tag.RowsAffected() == 1, err
	},
}

func applyPrivacyPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.PrivacyPolicy, privacyPolicyKind)
}
