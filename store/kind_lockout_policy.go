package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's lockout policy.
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
	insert: func(ctx context.Context, a *applier, p *importdata.AddCustomLockoutPolicyRequest) (bool, error) {
		tag, err := a.db.Exec(ctx, `INSERT INTO lockout_policies (instance_id, org_id, max_password_attempts, max_otp_attempts)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			a.job.InstanceID, a.orgID, int64(p.MaxPasswordAttempts), int64(p.MaxOTPAttempts))
		return tag.RowsAffected() == 1, err
	},
}

func applyLockoutPolicy(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	return applyPolicy(ctx, a, step, org.LockoutPolicy, lockoutPolicyKind)
}
