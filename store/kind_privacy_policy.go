package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's privacy policy; with onConflict OVERWRITE it replaces
// the org's.
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
	columns:    []string{"tos_link", "privacy_link", "help_link", "support_email", "docs_link", "custom_link", "custom_link_text"},
	values: func(p *importdata.AddCustomPrivacyPolicyRequest) []any {
		return []any{p.TOSLink, p.PrivacyLink, p.HelpLink, p.SupportEmail, p.DocsLink, p.CustomLink, p.CustomLinkText}
	},
}

func applyPrivacyPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.PrivacyPolicy, privacyPolicyKind)
}
