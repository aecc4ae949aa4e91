package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's lockout policy; with onConflict OVERWRITE it replaces
// the org's.
func init() {
	register(&Step{Name: "lockout_policy", Type: "lockout_policy", Fields: []string{"lockoutPolicy"}, Stage: StagePass1, Order: 5,
		apply: applyLockoutPolicy})
}

var lockoutPolicyKind = policyKind[importdata.AddCustomLockoutPolicyRequest]{
	field:      "lockoutPolicy",
	table:      "lockout_policies",
	invalidID:  "ZIMPORT-LckPol",
	invalidKey: "Errors.Org.LockoutPolicy.Invalid",
	exists:     zerr("ORG-0olDf", "Errors.ORG.LockoutPolicy.AlreadyExists", ""),
	columns:    []string{"max_password_attempts", "max_otp_attempts"},
	values: func(p *importdata.AddCustomLockoutPolicyRequest) []any {
		return []any{int64(p.MaxPasswordAttempts), int64(p.MaxOTPAttempts)}
	},
}

func applyLockoutPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.LockoutPolicy, lockoutPolicyKind)
}
