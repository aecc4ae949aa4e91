package importdata

import (
	"fmt"
	"slices"
	"strings"
)

// Member roles. ZITADEL checks a member's roles against the roles of its
// authorization config (cmd/defaults.yaml, InternalAuthZ) whose names start
// with the prefix of the member's kind (domain.CheckForInvalidRoles): "ORG"
// for org members, "PROJECT" for project members, "PROJECT_GRANT" for
// project grant members. Any other string is the member's error.

// Role prefixes of ZITADEL's domain package.
const (
	OrgRolePrefix          = "ORG"
	ProjectRolePrefix      = "PROJECT"
	ProjectGrantRolePrefix = "PROJECT_GRANT"
	// RoleSelfManagementGlobal is the one role an org member may have
	// instead of org roles (AddOrgMemberCommand).
	RoleSelfManagementGlobal = "SELF_MANAGEMENT_GLOBAL"
)

// zitadelRoles are the member roles of ZITADEL's default configuration
// (the instance roles, prefixed IAM, are no member's).
var zitadelRoles = []string{
	"ORG_OWNER", "ORG_OWNER_VIEWER", "ORG_SETTINGS_MANAGER", "ORG_USER_MANAGER", "ORG_USER_PERMISSION_EDITOR",
	"ORG_PROJECT_PERMISSION_EDITOR", "ORG_PROJECT_CREATOR", "ORG_ADMIN_IMPERSONATOR", "ORG_END_USER_IMPERSONATOR",
	"ORG_USER_SELF_MANAGER", RoleSelfManagementGlobal,
	"PROJECT_OWNER", "PROJECT_OWNER_VIEWER", "PROJECT_OWNER_GLOBAL", "PROJECT_OWNER_VIEWER_GLOBAL",
	"PROJECT_GRANT_OWNER", "PROJECT_GRANT_OWNER_VIEWER",
}

// InvalidRoles returns the roles that are not roles of ZITADEL's default
// configuration starting with prefix, as domain.CheckForInvalidRoles does
// (so a project member may have a PROJECT_GRANT_ role, as in ZITADEL).
func InvalidRoles(roles []string, prefix string) []string {
	var out []string
	for _, r := range roles {
		if !strings.HasPrefix(r, prefix) || !slices.Contains(zitadelRoles, r) {
			out = append(out, r)
		}
	}
	return out
}

// InvalidOrgMemberRoles returns the roles that make an org member invalid:
// none when every role is an org role, or every role is
// SELF_MANAGEMENT_GLOBAL (AddOrgMemberCommand); else those that are not org
// roles.
func InvalidOrgMemberRoles(roles []string) []string {
	invalid := InvalidRoles(roles, OrgRolePrefix)
	if len(invalid) == 0 || len(InvalidRoles(roles, RoleSelfManagementGlobal)) == 0 {
		return nil
	}
	return invalid
}

// RolesProblem says which roles are invalid for a member of kind ("org",
// "project", "project grant"), whose roles start with prefix.
func RolesProblem(invalid []string, kind, prefix string) string {
	var valid []string
	for _, r := range zitadelRoles {
		if strings.HasPrefix(r, prefix) {
			valid = append(valid, r)
		}
	}
	if prefix == OrgRolePrefix {
		valid = slices.DeleteFunc(valid, func(r string) bool { return r == RoleSelfManagementGlobal })
	}
	quoted := make([]string, len(invalid))
	for i, r := range invalid {
		quoted[i] = fmt.Sprintf("%q", r)
	}
	what := kind + " member roles"
	if len(invalid) == 1 {
		what = "a " + kind + " member role"
		if kind == "org" {
			what = "an org member role"
		}
	}
	msg := fmt.Sprintf("%s: not %s; the roles are %s", strings.Join(quoted, ", "), what, strings.Join(valid, ", "))
	if prefix == OrgRolePrefix {
		msg += ", or " + RoleSelfManagementGlobal + " alone"
	}
	return msg
}
