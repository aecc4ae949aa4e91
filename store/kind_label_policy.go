package store

import (
	"context"
	"fmt"
	"regexp"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's label policy, active at once (ZITADEL adds it, then
// activates it); with onConflict OVERWRITE it replaces the org's.
func init() {
	register(&Step{Name: "label_policy", Type: "label_policy", Fields: []string{"labelPolicy"}, Stage: StagePass1, Order: 4,
		apply: applyLabelPolicy})
}

// labelColor is ZITADEL's rule for the colours of a label policy: empty, or
// "#" and 3 or 6 hex digits.
var labelColor = regexp.MustCompile(`^$|^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$`)

// labelColorErrors are ZITADEL's errors of a colour that breaks labelColor.
var labelColorErrors = map[string][2]string{
	"primaryColor":        {"POLICY-391dG", "Errors.Policy.Label.Invalid.PrimaryColor"},
	"backgroundColor":     {"POLICY-502F1", "Errors.Policy.Label.Invalid.BackgroundColor"},
	"warnColor":           {"POLICY-nvw33", "Errors.Policy.Label.Invalid.WarnColor"},
	"fontColor":           {"POLICY-93mSf", "Errors.Policy.Label.Invalid.FontColor"},
	"primaryColorDark":    {"POLICY-391dG", "Errors.Policy.Label.Invalid.PrimaryColorDark"},
	"backgroundColorDark": {"POLICY-llsp2", "Errors.Policy.Label.Invalid.BackgroundColorDark"},
	"warnColorDark":       {"POLICY-2b6sf", "Errors.Policy.Label.Invalid.WarnColorDark"},
	"fontColorDark":       {"POLICY-3M0fs", "Errors.Policy.Label.Invalid.FontColorDark"},
}

var labelPolicyKind = policyKind[importdata.AddCustomLabelPolicyRequest]{
	field:      "labelPolicy",
	table:      "label_policies",
	invalidID:  "ZIMPORT-LblPol",
	invalidKey: "Errors.Org.LabelPolicy.Invalid",
	exists:     zerr("Org-2B0ps", "Errors.Org.LabelPolicy.AlreadyExists", ""),
	command: func(p *importdata.AddCustomLabelPolicyRequest) string {
		for _, c := range p.Colors() {
			if !labelColor.MatchString(c.Value) {
				e := labelColorErrors[c.Field]
				return zerr(e[0], e[1], fmt.Sprintf("labelPolicy.%s: %q is not a colour (want #rgb or #rrggbb)", c.Field, c.Value))
			}
		}
		return ""
	},
	columns: []string{"primary_color", "hide_login_name_suffix", "warn_color", "background_color", "font_color",
		"primary_color_dark", "background_color_dark", "warn_color_dark", "font_color_dark", "disable_watermark", "theme_mode"},
	values: func(p *importdata.AddCustomLabelPolicyRequest) []any {
		return []any{p.PrimaryColor, p.HideLoginNameSuffix, p.WarnColor, p.BackgroundColor, p.FontColor,
			p.PrimaryColorDark, p.BackgroundColorDark, p.WarnColorDark, p.FontColorDark, p.DisableWatermark, p.ThemeMode.String()}
	},
}

func applyLabelPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.LabelPolicy, labelPolicyKind)
}
