package importdata

import (
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// Validate checks a domain policy: its orgId, which the import ignores, is
// checked when given.
func (d *AddCustomDomainPolicyRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("orgId", d.OrgID, 0, 200)
	return p.Err()
}

// Validate checks a label policy: colours of at most 50 characters.
func (l *AddCustomLabelPolicyRequest) Validate(path string) error {
	p := NewProblems(path)
	for _, c := range l.Colors() {
		p.Len(c.Field, c.Value, 0, 50)
	}
	return p.Err()
}

// LabelColor is a colour of a label policy and the JSON name of its field.
type LabelColor struct{ Field, Value string }

// Colors returns the policy's colours in field order.
func (l *AddCustomLabelPolicyRequest) Colors() []LabelColor {
	return []LabelColor{
		{"primaryColor", l.PrimaryColor}, {"warnColor", l.WarnColor}, {"backgroundColor", l.BackgroundColor},
		{"fontColor", l.FontColor}, {"primaryColorDark", l.PrimaryColorDark}, {"backgroundColorDark", l.BackgroundColorDark},
		{"warnColorDark", l.WarnColorDark}, {"fontColorDark", l.FontColorDark},
	}
}

// Validate checks a lockout policy (its numbers are checked when decoded).
func (l *AddCustomLockoutPolicyRequest) Validate(path string) error { return nil }

// Validate checks a login policy: its IdPs name an id of 1 to 200
// characters, once each, and an owner type other than unspecified.
func (l *AddCustomLoginPolicyRequest) Validate(path string) error {
	p := NewProblems(path)
	p.NoNUL("defaultRedirectUri", l.DefaultRedirectURI)
	seen := map[string]int{}
	for i, idp := range l.IDPs {
		field := fmt.Sprintf("idps[%d]", i)
		p.Len(field+".idpId", idp.IDPID, 1, 200)
		if first, dup := seen[idp.IDPID]; dup && idp.IDPID != "" {
			p.add(field+".idpId", fmt.Sprintf("repeats idps[%d].idpId %q", first, idp.IDPID))
		} else {
			seen[idp.IDPID] = i
		}
		if idp.OwnerType == IDPOwnerUnspecified {
			p.add(field+".ownerType", "must be IDP_OWNER_TYPE_SYSTEM or IDP_OWNER_TYPE_ORG")
		}
	}
	return p.Err()
}

// Validate checks a password complexity policy (its rules are checked when
// the policy is added).
func (c *AddCustomPasswordComplexityPolicyRequest) Validate(path string) error { return nil }

// Validate checks a privacy policy: supportEmail, when given, is an e-mail
// address of at most 320 characters.
func (pp *AddCustomPrivacyPolicyRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("supportEmail", pp.SupportEmail, 0, 320)
	p.Email("supportEmail", pp.SupportEmail, false)
	for _, f := range []struct{ name, v string }{
		{"tosLink", pp.TOSLink}, {"privacyLink", pp.PrivacyLink}, {"helpLink", pp.HelpLink},
		{"docsLink", pp.DocsLink}, {"customLink", pp.CustomLink}, {"customLinkText", pp.CustomLinkText},
	} {
		p.NoNUL(f.name, f.v)
	}
	return p.Err()
}

// loginScreenTexts are the normalized names of SetCustomLoginTextsRequest's
// screen texts: each, when given, is an object of strings.
var loginScreenTexts = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		"selectAccountText", "loginText", "passwordText", "usernameChangeText", "usernameChangeDoneText",
		"initPasswordText", "initPasswordDoneText", "emailVerificationText", "emailVerificationDoneText",
		"initializeUserText", "initializeDoneText", "initMfaPromptText", "initMfaOtpText", "initMfaU2fText",
		"initMfaDoneText", "mfaProvidersText", "verifyMfaOtpText", "verifyMfaU2fText", "passwordlessText",
		"passwordChangeText", "passwordChangeDoneText", "passwordResetDoneText", "registrationOptionText",
		"registrationUserText", "registrationOrgText", "linkingUserDoneText", "externalUserNotFoundText",
		"successLoginText", "logoutText", "footerText", "passwordlessPromptText", "passwordlessRegistrationText",
		"passwordlessRegistrationDoneText", "externalRegistrationUserOverviewText", "linkingUserPromptText",
	} {
		m[normalizeName(n)] = true
	}
	return m
}()

// Validate checks login texts: a language of 1 to 200 characters, screen
// texts that are objects of strings, and no NUL character anywhere (the
// texts are stored as JSON, which PostgreSQL cannot hold it in). Other
// members are kept as given.
func (r *SetCustomLoginTextsRequest) Validate(path string) error {
	p := NewProblems(path)
	switch r.languageKind {
	case '"', 0, 'n':
		p.Len("language", r.Language, 1, 200)
	default:
		p.add("language", "expected a string, got "+kindName(r.languageKind))
	}
	if len(r.Texts) == 0 {
		return p.Err()
	}
	d := newLooseDecoder(r.Texts)
	if _, err := d.ReadToken(); err != nil {
		p.list = append(p.list, path+": "+err.Error())
		return p.Err()
	}
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			p.list = append(p.list, path+": "+err.Error())
			return p.Err()
		}
		name := tok.String()
		v, err := d.ReadValue()
		if err != nil {
			p.add(name, err.Error())
			return p.Err()
		}
		if loginScreenTexts[normalizeName(name)] {
			screenProblems(p, name, v)
		}
	}
	if np, _, _, ok := findString(r.Texts, func(_ jsontext.Pointer, s []byte, _ bool) bool {
		return containsNUL(s)
	}); ok {
		field := pointerToPath(string(np))
		if len(field) > 0 && field[0] == '.' {
			field = field[1:]
		}
		p.add(field, nulMsg)
	}
	if np, ok := findUnstorableNumber(r.Texts); ok {
		field := strings.TrimPrefix(pointerToPath(string(np)), ".")
		p.add(field, fmt.Sprintf("a number out of range, or longer than %d characters", maxNumberLen))
	}
	return p.Err()
}

// screenProblems checks a screen text v of login texts: null, or an object
// whose members are strings (or null).
func screenProblems(p *Problems, name string, v jsontext.Value) {
	switch v.Kind() {
	case 'n':
		return
	case '{':
	default:
		p.add(name, "expected an object, got "+kindName(v.Kind()))
		return
	}
	d := newLooseDecoder(v)
	if _, err := d.ReadToken(); err != nil {
		p.add(name, err.Error())
		return
	}
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			p.add(name, err.Error())
			return
		}
		member := tok.String()
		k := d.PeekKind()
		if err := d.SkipValue(); err != nil {
			p.add(name+"."+member, err.Error())
			return
		}
		if k != '"' && k != 'n' {
			p.add(name+"."+member, "expected a string, got "+kindName(k))
		}
	}
}

func containsNUL(s []byte) bool {
	for _, c := range s {
		if c == 0 {
			return true
		}
	}
	return false
}

// Validate checks a message text: a language of 1 to 200 characters and
// texts within ZITADEL's byte limits.
func (m *SetCustomMessageTextRequest) Validate(path string) error {
	p := NewProblems(path)
	m.problems(p, false)
	return p.Err()
}

// problems checks the fields of a message text; the text of an SMS (phone)
// has at most 800 characters, another at most 40000 bytes.
func (m *SetCustomMessageTextRequest) problems(p *Problems, sms bool) {
	p.Len("language", m.Language, 1, 200)
	p.maxTextBytes("title", m.Title, 2000)
	p.maxTextBytes("preHeader", m.PreHeader, 2000)
	p.maxTextBytes("subject", m.Subject, 2000)
	p.maxTextBytes("greeting", m.Greeting, 4000)
	if sms {
		p.Len("text", m.Text, 0, 800)
	} else {
		p.maxTextBytes("text", m.Text, 40000)
	}
	p.maxTextBytes("buttonText", m.ButtonText, 4000)
	p.maxTextBytes("footerText", m.FooterText, 8000)
}

// Validate checks a verify phone message text: as the other message texts,
// with a text of at most 800 characters.
func (m *SetCustomVerifyPhoneMessageTextRequest) Validate(path string) error {
	p := NewProblems(path)
	(*SetCustomMessageTextRequest)(m).problems(p, true)
	return p.Err()
}

// Validate checks an SMS OTP message text: a language of 1 to 200
// characters and a text of at most 800 characters.
func (m *SetCustomVerifySMSOTPMessageTextRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("language", m.Language, 1, 200)
	p.Len("text", m.Text, 0, 800)
	return p.Err()
}

// maxTextBytes checks that v has at most max bytes (UTF-8) and holds no NUL
// character.
func (p *Problems) maxTextBytes(field, v string, max int) {
	p.NoNUL(field, v)
	if len(v) > max {
		p.add(field, fmt.Sprintf("at most %d bytes", max))
	}
}
