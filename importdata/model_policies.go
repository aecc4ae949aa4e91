package importdata

import (
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// This file holds the org policies and texts of DataOrg: the domain, label,
// lockout, login, password complexity and privacy policies, the login texts
// and the message texts.

// Policy is a member of an org that holds one object, such as a policy:
// absent or null (V and Err nil), decoded (V), or the reason it could not be
// decoded (Err). A bad policy is an entity error; the rest of the org goes on.
type Policy[T any] struct {
	V   *T
	Err error
}

// Present reports whether the org gave the member (other than null).
func (p Policy[T]) Present() bool { return p.V != nil || p.Err != nil }

// UnmarshalJSONFrom decodes the member on its own: an error is kept in Err.
func (p *Policy[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*p = Policy[T]{}
	switch raw.Kind() {
	case 'n':
		return nil
	case '{':
	default:
		p.Err = fmt.Errorf("expected an object, got %s", kindName(raw.Kind()))
		return nil
	}
	v := new(T)
	if err := Unmarshal(raw, v); err != nil {
		p.Err = err
		return nil
	}
	p.V = v
	return nil
}

// newValue returns a pointer to a new value of the member's type, for
// decoding it strictly (ScanOptions.Strict).
func (Policy[T]) newValue() any { return new(T) }

// AddCustomDomainPolicyRequest is admin.AddCustomDomainPolicyRequest. Its
// orgId is checked when given but not used: the policy belongs to the
// DataOrg's org.
type AddCustomDomainPolicyRequest struct {
	OrgID                                  string `json:"orgId"`
	UserLoginMustBeDomain                  bool   `json:"userLoginMustBeDomain"`
	ValidateOrgDomains                     bool   `json:"validateOrgDomains"`
	SMTPSenderAddressMatchesInstanceDomain bool   `json:"smtpSenderAddressMatchesInstanceDomain"`
}

// AddCustomLabelPolicyRequest is management.AddCustomLabelPolicyRequest.
type AddCustomLabelPolicyRequest struct {
	PrimaryColor        string    `json:"primaryColor"`
	HideLoginNameSuffix bool      `json:"hideLoginNameSuffix"`
	WarnColor           string    `json:"warnColor"`
	BackgroundColor     string    `json:"backgroundColor"`
	FontColor           string    `json:"fontColor"`
	PrimaryColorDark    string    `json:"primaryColorDark"`
	BackgroundColorDark string    `json:"backgroundColorDark"`
	WarnColorDark       string    `json:"warnColorDark"`
	FontColorDark       string    `json:"fontColorDark"`
	DisableWatermark    bool      `json:"disableWatermark"`
	ThemeMode           ThemeMode `json:"themeMode"`
}

// AddCustomLockoutPolicyRequest is management.AddCustomLockoutPolicyRequest.
type AddCustomLockoutPolicyRequest struct {
	MaxPasswordAttempts Uint32 `json:"maxPasswordAttempts"`
	MaxOTPAttempts      Uint32 `json:"maxOtpAttempts"`
}

// AddCustomLoginPolicyRequest is management.AddCustomLoginPolicyRequest.
// A lifetime is nil when not given.
type AddCustomLoginPolicyRequest struct {
	AllowUsernamePassword      bool               `json:"allowUsernamePassword"`
	AllowRegister              bool               `json:"allowRegister"`
	AllowExternalIDP           bool               `json:"allowExternalIdp"`
	ForceMFA                   bool               `json:"forceMfa"`
	PasswordlessType           PasswordlessType   `json:"passwordlessType"`
	HidePasswordReset          bool               `json:"hidePasswordReset"`
	IgnoreUnknownUsernames     bool               `json:"ignoreUnknownUsernames"`
	DefaultRedirectURI         string             `json:"defaultRedirectUri"`
	PasswordCheckLifetime      *Lifetime          `json:"passwordCheckLifetime"`
	ExternalLoginCheckLifetime *Lifetime          `json:"externalLoginCheckLifetime"`
	MFAInitSkipLifetime        *Lifetime          `json:"mfaInitSkipLifetime"`
	SecondFactorCheckLifetime  *Lifetime          `json:"secondFactorCheckLifetime"`
	MultiFactorCheckLifetime   *Lifetime          `json:"multiFactorCheckLifetime"`
	SecondFactors              []SecondFactorType `json:"secondFactors"`
	MultiFactors               []MultiFactorType  `json:"multiFactors"`
	IDPs                       []LoginPolicyIDP   `json:"idps"`
	AllowDomainDiscovery       bool               `json:"allowDomainDiscovery"`
	DisableLoginWithEmail      bool               `json:"disableLoginWithEmail"`
	DisableLoginWithPhone      bool               `json:"disableLoginWithPhone"`
	ForceMFALocalOnly          bool               `json:"forceMfaLocalOnly"`
}

// LoginPolicyIDP is AddCustomLoginPolicyRequest.IDP; the JSON name of its
// owner type is "ownerType" (snake case "owner_type" is accepted too).
type LoginPolicyIDP struct {
	IDPID     string       `json:"idpId"`
	OwnerType IDPOwnerType `json:"ownerType"`
}

// AddCustomPasswordComplexityPolicyRequest is
// management.AddCustomPasswordComplexityPolicyRequest.
type AddCustomPasswordComplexityPolicyRequest struct {
	MinLength    Uint64 `json:"minLength"`
	HasUppercase bool   `json:"hasUppercase"`
	HasLowercase bool   `json:"hasLowercase"`
	HasNumber    bool   `json:"hasNumber"`
	HasSymbol    bool   `json:"hasSymbol"`
}

// AddCustomPrivacyPolicyRequest is management.AddCustomPrivacyPolicyRequest.
type AddCustomPrivacyPolicyRequest struct {
	TOSLink        string `json:"tosLink"`
	PrivacyLink    string `json:"privacyLink"`
	HelpLink       string `json:"helpLink"`
	SupportEmail   string `json:"supportEmail"`
	DocsLink       string `json:"docsLink"`
	CustomLink     string `json:"customLink"`
	CustomLinkText string `json:"customLinkText"`
}

// SetCustomLoginTextsRequest is management.SetCustomLoginTextsRequest: a
// language and about 35 screen texts, kept as given.
type SetCustomLoginTextsRequest struct {
	// Language is the "language" member; "" when it is absent or not a
	// string (Validate says which).
	Language string `json:"-"`
	// Texts is the element exactly as given (a JSON object).
	Texts jsontext.Value `json:"-"`
	// languageKind is the JSON kind of the language member, 0 when absent.
	languageKind jsontext.Kind
}

// UnmarshalJSONFrom keeps the element as given and reads its language.
func (r *SetCustomLoginTextsRequest) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if raw.Kind() != '{' {
		return fmt.Errorf("expected an object, got %s", kindName(raw.Kind()))
	}
	*r = SetCustomLoginTextsRequest{Texts: raw.Clone()}
	d := newLooseDecoder(raw)
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != '}' {
		name, err := d.ReadToken()
		if err != nil {
			return err
		}
		isLanguage := normalizeName(name.String()) == "language"
		v, err := d.ReadValue()
		if err != nil {
			return err
		}
		if isLanguage {
			r.languageKind, r.Language = v.Kind(), ""
			if v.Kind() == '"' {
				var s string
				if err := Unmarshal(v, &s); err != nil {
					return err
				}
				r.Language = s
			}
		}
	}
	return nil
}

// SetCustomMessageTextRequest is management.SetCustom{Init, PasswordReset,
// VerifyEmail, DomainClaimed, PasswordlessRegistration, InviteUser,
// VerifyEmailOTP}MessageTextRequest.
type SetCustomMessageTextRequest struct {
	Language   string `json:"language"`
	Title      string `json:"title"`
	PreHeader  string `json:"preHeader"`
	Subject    string `json:"subject"`
	Greeting   string `json:"greeting"`
	Text       string `json:"text"`
	ButtonText string `json:"buttonText"`
	FooterText string `json:"footerText"`
}

// SetCustomVerifyPhoneMessageTextRequest is
// management.SetCustomVerifyPhoneMessageTextRequest: the fields of the other
// message texts, with a text of at most 800 characters (an SMS).
type SetCustomVerifyPhoneMessageTextRequest SetCustomMessageTextRequest

// SetCustomVerifySMSOTPMessageTextRequest is
// management.SetCustomVerifySMSOTPMessageTextRequest.
type SetCustomVerifySMSOTPMessageTextRequest struct {
	Language string `json:"language"`
	Text     string `json:"text"`
}

// Lifetime is a google.protobuf.Duration of a login policy: in JSON seconds
// with the suffix "s" ("864000s"), or a Go duration ("240h0m0s").
type Lifetime time.Duration

// UnmarshalJSONFrom reads a Lifetime.
func (l *Lifetime) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	s, null, err := readString(dec, `a duration such as "864000s"`)
	if err != nil {
		return err
	}
	if null {
		*l = 0
		return nil
	}
	d, err := parseDuration(s)
	if err != nil {
		if d, err = time.ParseDuration(s); err != nil {
			return fmt.Errorf(`invalid duration %q (want seconds with the suffix "s", e.g. "864000s", or a Go duration such as "240h0m0s")`, s)
		}
	}
	*l = Lifetime(d)
	return nil
}

// Uint32 is a proto3 uint32: in JSON a number or a decimal string.
type Uint32 uint32

// UnmarshalJSONFrom reads a Uint32.
func (u *Uint32) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeUint(dec, 32)
	*u = Uint32(v)
	return err
}

// Uint64 is a proto3 uint64: in JSON a number or a decimal string.
type Uint64 uint64

// UnmarshalJSONFrom reads a Uint64.
func (u *Uint64) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeUint(dec, 64)
	*u = Uint64(v)
	return err
}

// decodeUint reads an unsigned integer of bits bits, written as a number or
// a string; null is 0.
func decodeUint(dec *jsontext.Decoder, bits int) (uint64, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return 0, err
	}
	var s string
	switch tok.Kind() {
	case 'n':
		return 0, nil
	case '"':
		s = tok.String()
	case '0':
		s = tok.String()
	default:
		return 0, fmt.Errorf("expected an unsigned integer, got %s", kindName(tok.Kind()))
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		// Integral numbers in exponent or decimal form ("1e3", "8.0").
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < 0 || f != float64(uint64(f)) || bits == 32 && f > 4294967295 || f >= 18446744073709551615 {
			return 0, fmt.Errorf("invalid value %s (want an unsigned %d-bit integer)", strconv.Quote(s), bits)
		}
		v = uint64(f)
	}
	return v, nil
}

// ThemeMode is policy.ThemeMode.
type ThemeMode int32

var themeModeNames = []string{"THEME_MODE_UNSPECIFIED", "THEME_MODE_AUTO", "THEME_MODE_DARK", "THEME_MODE_LIGHT"}

func (e *ThemeMode) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, themeModeNames)
	*e = ThemeMode(v)
	return err
}
func (e ThemeMode) String() string { return enumName(themeModeNames, int32(e)) }

// PasswordlessType is policy.PasswordlessType.
type PasswordlessType int32

var passwordlessTypeNames = []string{"PASSWORDLESS_TYPE_NOT_ALLOWED", "PASSWORDLESS_TYPE_ALLOWED"}

func (e *PasswordlessType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, passwordlessTypeNames)
	*e = PasswordlessType(v)
	return err
}
func (e PasswordlessType) String() string { return enumName(passwordlessTypeNames, int32(e)) }

// SecondFactorType is policy.SecondFactorType.
type SecondFactorType int32

// SecondFactorUnspecified is the second factor type 0, which a login policy
// must not name.
const SecondFactorUnspecified SecondFactorType = 0

var secondFactorTypeNames = []string{"SECOND_FACTOR_TYPE_UNSPECIFIED", "SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F",
	"SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_OTP_SMS"}

func (e *SecondFactorType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, secondFactorTypeNames)
	*e = SecondFactorType(v)
	return err
}
func (e SecondFactorType) String() string { return enumName(secondFactorTypeNames, int32(e)) }

// MultiFactorType is policy.MultiFactorType.
type MultiFactorType int32

// MultiFactorUnspecified is the multi factor type 0, which a login policy
// must not name.
const MultiFactorUnspecified MultiFactorType = 0

var multiFactorTypeNames = []string{"MULTI_FACTOR_TYPE_UNSPECIFIED", "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"}

func (e *MultiFactorType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, multiFactorTypeNames)
	*e = MultiFactorType(v)
	return err
}
func (e MultiFactorType) String() string { return enumName(multiFactorTypeNames, int32(e)) }

// IDPOwnerType is idp.IDPOwnerType.
type IDPOwnerType int32

// IdP owner types.
const (
	IDPOwnerUnspecified IDPOwnerType = iota
	IDPOwnerSystem
	IDPOwnerOrg
)

var idpOwnerTypeNames = []string{"IDP_OWNER_TYPE_UNSPECIFIED", "IDP_OWNER_TYPE_SYSTEM", "IDP_OWNER_TYPE_ORG"}

func (e *IDPOwnerType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, idpOwnerTypeNames)
	*e = IDPOwnerType(v)
	return err
}
func (e IDPOwnerType) String() string { return enumName(idpOwnerTypeNames, int32(e)) }
