package importdata

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Problems collects the validation failures of one entity, each prefixed by
// the field path, e.g. "humanUsers[3].user.profile.preferredLanguage: at most 10 characters".
type Problems struct {
	path string
	list []string
}

// NewProblems starts a collection for the entity at path.
func NewProblems(path string) *Problems { return &Problems{path: path} }

// Err returns nil when nothing was found, else one error listing every problem.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list}
}

func (p *Problems) add(field, msg string) {
	if p.path == "" {
		p.list = append(p.list, field+": "+msg) // the top of a request
		return
	}
	p.list = append(p.list, p.path+"."+field+": "+msg)
}

// Len checks that v has between min and max runes (min 1 means required)
// and holds no NUL character, which PostgreSQL text cannot store.
func (p *Problems) Len(field, v string, min, max int) {
	p.NoNUL(field, v)
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		p.add(field, "is required")
	case n < min:
		p.add(field, fmt.Sprintf("at least %d characters", min))
	case n > max:
		p.add(field, fmt.Sprintf("at most %d characters", max))
	}
}

// NoNUL checks that v holds no NUL character, which PostgreSQL text cannot
// store, and reports whether it holds none. Len and Email check it too.
func (p *Problems) NoNUL(field, v string) bool {
	if strings.IndexByte(v, 0) >= 0 {
		p.add(field, nulMsg)
		return false
	}
	return true
}

// Required reports a missing nested message.
func (p *Problems) Required(field string, present bool) {
	if !present {
		p.add(field, "is required")
	}
}

// Email checks the syntax of an e-mail address (required when min is 1).
func (p *Problems) Email(field, v string, required bool) {
	if !p.NoNUL(field, v) {
		return
	}
	if v == "" {
		if required {
			p.add(field, "is required")
		}
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(v) {
		p.add(field, "is not a valid e-mail address")
	}
}

// Phone checks an E.164-like phone number: "+" and 7 to 15 digits, spaces,
// dashes and parentheses allowed between them.
func (p *Problems) Phone(field, v string) {
	if n := utf8.RuneCountInString(v); n == 0 || n > 50 {
		p.Len(field, v, 1, 50)
		return
	}
	digits := 0
	for i, r := range v {
		switch {
		case r == '+' && i == 0:
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			p.add(field, "is not a valid phone number (want +<country code><number>)")
			return
		}
	}
	if !strings.HasPrefix(v, "+") || digits < 7 || digits > 15 {
		p.add(field, "is not a valid phone number (want +<country code><number>)")
	}
}

// Each applies Len to every element of a string list.
func (p *Problems) Each(field string, vs []string, min, max int) {
	for i, v := range vs {
		p.Len(fmt.Sprintf("%s[%d]", field, i), v, min, max)
	}
}

// ValidationError is an entity that breaks the rules of its fields.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

// Validate checks an org's own fields (the org message is optional: without
// it the data is imported into an existing org).
func (o *DataOrg) Validate(path string) error {
	p := NewProblems(path)
	p.Len("orgId", o.OrgID, 1, 200)
	if o.Org != nil {
		p.Len("org.name", o.Org.Name, 1, 200)
	}
	return p.Err()
}

// Validate checks a domain.
func (d *Domain) Validate(path string) error {
	p := NewProblems(path)
	p.Len("domainName", d.DomainName, 1, 200)
	if strings.ContainsAny(d.DomainName, " /\\@:") {
		p.add("domainName", "contains an invalid character")
	}
	return p.Err()
}

// Validate checks a human user as ImportHumanUserRequest's rules say.
func (u *DataHumanUser) Validate(path string) error {
	p := NewProblems(path)
	p.Len("userId", u.UserID, 1, 200)
	p.Len("user.userName", u.User.UserName, 1, 200)
	p.Required("user.profile", u.User.Profile != nil)
	if pr := u.User.Profile; pr != nil {
		p.Len("user.profile.firstName", pr.FirstName, 1, 200)
		p.Len("user.profile.lastName", pr.LastName, 1, 200)
		p.Len("user.profile.nickName", pr.NickName, 0, 200)
		p.Len("user.profile.displayName", pr.DisplayName, 0, 200)
		p.Len("user.profile.preferredLanguage", pr.PreferredLanguage, 0, 10)
	}
	p.Required("user.email", u.User.Email != nil)
	if e := u.User.Email; e != nil {
		p.Email("user.email.email", e.Email, true)
	}
	if ph := u.User.Phone; ph != nil && ph.Phone != "" {
		p.Phone("user.phone.phone", ph.Phone)
	}
	p.Len("user.password", u.User.Password, 0, 200)
	if hp := u.User.HashedPassword; hp != nil {
		p.NoNUL("user.hashedPassword.value", hp.Value)
	}
	p.NoNUL("user.otpCode", u.User.OTPCode)
	validateHumanIDPs(p, u.User.IDPs)
	return p.Err()
}

// Validate checks a machine user.
func (u *DataMachineUser) Validate(path string) error {
	p := NewProblems(path)
	p.Len("userId", u.UserID, 1, 200)
	p.Len("user.userName", u.User.UserName, 1, 200)
	p.Len("user.name", u.User.Name, 1, 200)
	p.Len("user.description", u.User.Description, 0, 500)
	p.Len("user.userId", u.User.UserID, 0, 200)
	return p.Err()
}

// Validate checks a project.
func (d *DataProject) Validate(path string) error {
	p := NewProblems(path)
	p.Len("projectId", d.ProjectID, 1, 200)
	p.Len("project.name", d.Project.Name, 1, 200)
	return p.Err()
}

// Validate checks a project role.
func (r *AddProjectRoleRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("projectId", r.ProjectID, 1, 200)
	p.Len("roleKey", r.RoleKey, 1, 200)
	p.Len("displayName", r.DisplayName, 1, 200)
	p.Len("group", r.Group, 0, 200)
	return p.Err()
}

// Validate checks a project grant.
func (g *DataProjectGrant) Validate(path string) error {
	p := NewProblems(path)
	p.Len("grantId", g.GrantID, 1, 200)
	p.Len("projectGrant.projectId", g.ProjectGrant.ProjectID, 1, 200)
	p.Len("projectGrant.grantedOrgId", g.ProjectGrant.GrantedOrgID, 1, 200)
	p.Each("projectGrant.roleKeys", g.ProjectGrant.RoleKeys, 1, 200)
	return p.Err()
}

// Validate checks a user grant.
func (g *AddUserGrantRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("userId", g.UserID, 1, 200)
	p.Len("projectId", g.ProjectID, 1, 200)
	p.Len("projectGrantId", g.ProjectGrantID, 0, 200)
	p.Each("roleKeys", g.RoleKeys, 1, 200)
	return p.Err()
}

// Validate checks an org member.
func (m *AddOrgMemberRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("userId", m.UserID, 1, 200)
	p.Each("roles", m.Roles, 1, 200)
	return p.Err()
}

// Validate checks a project member.
func (m *AddProjectMemberRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("projectId", m.ProjectID, 1, 200)
	p.Len("userId", m.UserID, 1, 200)
	p.Each("roles", m.Roles, 1, 200)
	return p.Err()
}
