// Package instance is the domain logic of POST /instances/_create: it reads
// and checks a CreateInstanceRequest, plans everything the new instance
// consists of (ids, domains, first org, owner, credentials) and answers the
// CreateInstanceResponse. It does no I/O: store persists a Plan in one
// transaction, and the secrets of Secrets only ever reach the job's sealed
// result.
package instance

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/text/language"

	"github.com/zimport/zimport/importdata"
)

// Request is zitadel.system.v1.CreateInstanceRequest. Exactly one of Human
// and Machine is set.
type Request struct {
	InstanceName    string   `json:"instanceName"`
	FirstOrgName    string   `json:"firstOrgName"`
	CustomDomain    string   `json:"customDomain"`
	Human           *Human   `json:"human"`
	Machine         *Machine `json:"machine"`
	DefaultLanguage string   `json:"defaultLanguage"`
}

// Human is CreateInstanceRequest.Human, a human owner.
type Human struct {
	UserName string    `json:"userName"`
	Email    *Email    `json:"email"`
	Profile  *Profile  `json:"profile"`
	Password *Password `json:"password"`
}

// Email is CreateInstanceRequest.Human.Email.
type Email struct {
	Email           string `json:"email"`
	IsEmailVerified bool   `json:"isEmailVerified"`
}

// Profile is CreateInstanceRequest.Human.Profile.
type Profile struct {
	FirstName         string `json:"firstName"`
	LastName          string `json:"lastName"`
	PreferredLanguage string `json:"preferredLanguage"`
}

// Password is CreateInstanceRequest.Human.Password, a plain password.
type Password struct {
	Password               string `json:"password"`
	PasswordChangeRequired bool   `json:"passwordChangeRequired"`
}

// Machine is CreateInstanceRequest.Machine, a machine owner. The presence of
// PersonalAccessToken or MachineKey asks for that credential.
type Machine struct {
	UserName            string               `json:"userName"`
	Name                string               `json:"name"`
	PersonalAccessToken *PersonalAccessToken `json:"personalAccessToken"`
	MachineKey          *MachineKeyRequest   `json:"machineKey"`
}

// PersonalAccessToken asks for a PAT. A zero ExpirationDate means the
// default, DefaultExpiration.
type PersonalAccessToken struct {
	ExpirationDate time.Time `json:"expirationDate"`
}

// MachineKeyRequest asks for a machine key. A zero ExpirationDate means the
// default, DefaultExpiration.
type MachineKeyRequest struct {
	Type           KeyType   `json:"type"`
	ExpirationDate time.Time `json:"expirationDate"`
}

// KeyType is authn.KeyType, read from its name or number.
type KeyType int32

// Key types.
const (
	KeyTypeUnspecified KeyType = 0
	KeyTypeJSON        KeyType = 1
)

var keyTypeNames = []string{"KEY_TYPE_UNSPECIFIED", "KEY_TYPE_JSON"}

// String returns the enum name of k.
func (k KeyType) String() string {
	if k >= 0 && int(k) < len(keyTypeNames) {
		return keyTypeNames[k]
	}
	return strconv.Itoa(int(k))
}

// UnmarshalJSONFrom reads a proto3-JSON enum: its name, or its number (also
// as a string). null is KEY_TYPE_UNSPECIFIED. It reads importdata.KeyType,
// the same enum, for the same errors as the import's enums.
func (k *KeyType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var v importdata.KeyType
	err := v.UnmarshalJSONFrom(dec)
	*k = KeyType(v)
	return err
}

// RequestError is an invalid CreateInstanceRequest (HTTP 400). Msg names the
// field path of every problem found, e.g. "human.email.email: is required".
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

// Limits of the request's fields, in runes, as CreateInstanceRequest's
// validate rules say.
const (
	maxName     = 200
	maxLanguage = 10
	// maxBcryptBytes is the longest password bcrypt hashes.
	maxBcryptBytes = 72
)

// ParseRequest decodes a CreateInstanceRequest with the proto3-JSON input
// rules (lowerCamelCase or snake_case names, unknown members ignored, enums
// by name or number) and checks it. now is the time expiration dates must
// lie after. Every error is a *RequestError.
func ParseRequest(body []byte, now time.Time) (*Request, error) {
	var req Request
	if err := importdata.Unmarshal(body, &req); err != nil {
		msg := importdata.DescribeError("", err)
		var se *json.SemanticError
		switch {
		case strings.HasPrefix(msg, "not valid JSON"):
			msg = "body is " + msg
		case errors.As(err, &se) && se.JSONPointer == "":
			msg = "body: " + msg
		}
		return nil, &RequestError{Msg: msg}
	}
	if err := req.Validate(now); err != nil {
		return nil, err
	}
	return &req, nil
}

// Validate checks the request's rules (reference §3.1, with userName and
// the profile names required, the default password complexity policy, and
// expiration dates after now). It returns a *RequestError listing every
// problem, or nil.
func (r *Request) Validate(now time.Time) error {
	var c checker
	c.length("instanceName", strings.TrimSpace(r.InstanceName), 1, maxName)
	c.length("firstOrgName", r.FirstOrgName, 0, maxName)
	if r.CustomDomain != "" {
		c.length("customDomain", r.CustomDomain, 1, maxName)
		if !validDomain(r.CustomDomain) {
			c.add("customDomain", "contains an invalid character or is not a domain name")
		}
	}
	if r.DefaultLanguage != "" {
		c.length("defaultLanguage", r.DefaultLanguage, 0, maxLanguage)
		if _, err := language.Parse(r.DefaultLanguage); err != nil {
			c.add("defaultLanguage", fmt.Sprintf("%q is not a BCP 47 language tag", r.DefaultLanguage))
		}
	}
	switch {
	case (r.Human == nil) == (r.Machine == nil):
		c.list = append(c.list, "exactly one of human or machine is required")
	case r.Human != nil:
		r.Human.validate(&c)
	default:
		r.Machine.validate(&c, now)
	}
	if len(c.list) > 0 {
		return &RequestError{Msg: strings.Join(c.list, "; ")}
	}
	return nil
}

func (h *Human) validate(c *checker) {
	c.length("human.userName", strings.TrimSpace(h.UserName), 1, maxName)
	if h.Email == nil {
		c.add("human.email", "is required")
	} else {
		c.length("human.email.email", h.Email.Email, 1, maxName)
		if h.Email.Email != "" && !validEmail(h.Email.Email) {
			c.add("human.email.email", "is not a valid e-mail address")
		}
	}
	if h.Profile == nil {
		c.add("human.profile", "is required")
	} else {
		c.length("human.profile.firstName", strings.TrimSpace(h.Profile.FirstName), 1, maxName)
		c.length("human.profile.lastName", strings.TrimSpace(h.Profile.LastName), 1, maxName)
		c.length("human.profile.preferredLanguage", h.Profile.PreferredLanguage, 0, maxLanguage)
	}
	if h.Password != nil && h.Password.Password != "" {
		pw := h.Password.Password
		c.length("human.password.password", pw, 0, maxName)
		switch {
		case len(pw) > maxBcryptBytes:
			c.add("human.password.password", fmt.Sprintf("at most %d bytes (bcrypt)", maxBcryptBytes))
		case !meetsComplexity(pw):
			c.add("human.password.password", "does not meet the password complexity policy: "+complexityRule)
		}
	}
}

func (m *Machine) validate(c *checker, now time.Time) {
	c.length("machine.userName", strings.TrimSpace(m.UserName), 1, maxName)
	c.length("machine.name", strings.TrimSpace(m.Name), 1, maxName)
	if t := m.PersonalAccessToken; t != nil && !t.ExpirationDate.IsZero() && !t.ExpirationDate.After(now) {
		c.list = append(c.list, "machine.personalAccessToken.expirationDate is in the past")
	}
	if k := m.MachineKey; k != nil {
		if k.Type != KeyTypeJSON {
			c.add("machine.machineKey.type", fmt.Sprintf("must be KEY_TYPE_JSON, got %s", k.Type))
		}
		if !k.ExpirationDate.IsZero() && !k.ExpirationDate.After(now) {
			c.list = append(c.list, "machine.machineKey.expirationDate is in the past")
		}
	}
}

// checker collects problems as "path: message".
type checker struct{ list []string }

func (c *checker) add(field, msg string) { c.list = append(c.list, field+": "+msg) }

// length checks that v has between min and max runes (min 1 means
// required) and holds no NUL character, which PostgreSQL text cannot store.
func (c *checker) length(field, v string, min, max int) {
	if strings.IndexByte(v, 0) >= 0 {
		c.add(field, `must not contain the NUL character (\u0000)`)
	}
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		c.add(field, "is required")
	case n < min:
		c.add(field, fmt.Sprintf("at least %d characters", min))
	case n > max:
		c.add(field, fmt.Sprintf("at most %d characters", max))
	}
}

// validEmail checks the syntax of a bare e-mail address.
func validEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Name == "" && a.Address == strings.TrimSpace(v)
}

// validDomain reports whether d is a host name: dot-separated labels of
// ASCII letters, digits and inner hyphens (at most 63 each), optionally
// followed by ":port".
func validDomain(d string) bool {
	host, port, hasPort := strings.Cut(d, ":")
	if hasPort {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return false
		}
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// complexityRule describes ZITADEL's default password complexity policy.
const complexityRule = "at least 8 characters with a lowercase letter, an uppercase letter, a number and a symbol"

// meetsComplexity checks pw against ZITADEL's default password complexity
// policy (minLength 8, hasLowercase, hasUppercase, hasNumber, hasSymbol),
// with ZITADEL's ASCII character classes: any other character is a symbol.
func meetsComplexity(pw string) bool {
	var lower, upper, number, symbol bool
	for _, r := range pw {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			number = true
		default:
			symbol = true
		}
	}
	return utf8.RuneCountInString(pw) >= 8 && lower && upper && number && symbol
}
