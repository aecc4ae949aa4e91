package importdata

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// This file holds the v1 payload (dataOrgsv1, zitadel.v1.v1.ImportDataOrg)
// and its conversion to v2, as ZITADEL's dataOrgsV1ToDataOrgs does it.

// ImportDataOrgV1 is the v1 payload {"orgs": [...]}.
type ImportDataOrgV1 struct {
	Orgs Items[DataOrgV1] `json:"orgs"`
}

// DataOrgV1 is one organization of a v1 import. It has the members of the
// DataOrg it embeds, except: no orgState, domainPolicy or OTP message texts
// (absent members, ignored as unknown ones); triggerActions with enum flow
// and trigger types; iamPolicy instead of domainPolicy; and the login
// policy's second factors, multi factors and IdPs as members of the org.
// ToV2 converts it.
type DataOrgV1 struct {
	DataOrg

	OrgState               absent `json:"orgState,case:strict"`
	DomainPolicy           absent `json:"domainPolicy,case:strict"`
	VerifySMSOTPMessages   absent `json:"verifySmsOtpMessages,case:strict"`
	VerifyEmailOTPMessages absent `json:"verifyEmailOtpMessages,case:strict"`

	TriggerActions Items[SetTriggerActionsRequestV1]    `json:"triggerActions"`
	IAMPolicy      Policy[AddCustomOrgIAMPolicyRequest] `json:"iamPolicy"`

	// The login policy's lists in v1: they replace the login policy's own
	// when the org has a login policy and are ignored otherwise.
	SecondFactors Items[SecondFactorV1] `json:"secondFactors"`
	MultiFactors  Items[MultiFactorV1]  `json:"multiFactors"`
	IDPs          Items[LoginPolicyIDP] `json:"idps"`
}

// absent is the type of a field that hides the member of its name of an
// embedded struct (a field hides deeper ones of its name, for Go and JSON).
// Its value is skipped and fieldsOf leaves it out. Tagged case:strict, it
// matches its exact name only: other spellings stay unknown members, not
// the same member given twice.
type absent struct{}

// UnmarshalJSONFrom skips the value.
func (*absent) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return dec.SkipValue() }

// AddCustomOrgIAMPolicyRequest is management.AddCustomOrgIAMPolicyRequest,
// the v1 predecessor of the domain policy.
type AddCustomOrgIAMPolicyRequest struct {
	OrgID                 string `json:"orgId"`
	UserLoginMustBeDomain bool   `json:"userLoginMustBeDomain"`
}

// SecondFactorV1 is one element of a v1 org's secondFactors.
type SecondFactorV1 struct {
	Type SecondFactorType `json:"type"`
}

// MultiFactorV1 is one element of a v1 org's multiFactors.
type MultiFactorV1 struct {
	Type MultiFactorType `json:"type"`
}

// SetTriggerActionsRequestV1 is the v1 management.SetTriggerActionsRequest:
// flow and trigger types as enums, names or numbers.
type SetTriggerActionsRequestV1 struct {
	FlowType    FlowTypeV1    `json:"flowType"`
	TriggerType TriggerTypeV1 `json:"triggerType"`
	ActionIDs   []string      `json:"actionIds"`
}

// FlowTypeV1 is the v1 flow type enum.
type FlowTypeV1 int32

var flowTypeV1Names = []string{"FLOW_TYPE_UNSPECIFIED", "FLOW_TYPE_EXTERNAL_AUTHENTICATION"}

// UnmarshalJSONFrom reads a FlowTypeV1 from its name or number.
func (e *FlowTypeV1) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, flowTypeV1Names)
	*e = FlowTypeV1(v)
	return err
}
func (e FlowTypeV1) String() string { return enumName(flowTypeV1Names, int32(e)) }

// TriggerTypeV1 is the v1 trigger type enum.
type TriggerTypeV1 int32

var triggerTypeV1Names = []string{"TRIGGER_TYPE_UNSPECIFIED", "TRIGGER_TYPE_POST_AUTHENTICATION", "TRIGGER_TYPE_PRE_CREATION", "TRIGGER_TYPE_POST_CREATION"}

// UnmarshalJSONFrom reads a TriggerTypeV1 from its name or number.
func (e *TriggerTypeV1) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, triggerTypeV1Names)
	*e = TriggerTypeV1(v)
	return err
}
func (e TriggerTypeV1) String() string { return enumName(triggerTypeV1Names, int32(e)) }

// ZITADEL's default instance domain policy (cmd/defaults.yaml,
// DefaultInstance.DomainPolicy), which the v1 conversion completes an
// iamPolicy with. zimport has no instance policies of its own: an instance
// is assumed to keep ZITADEL's defaults.
const (
	DefaultValidateOrgDomains                     = false
	DefaultSMTPSenderAddressMatchesInstanceDomain = false
)

// ZITADEL's default instance login policy lifetimes (cmd/defaults.yaml,
// DefaultInstance.LoginPolicy), which the v1 conversion puts into every login
// policy whatever the v1 data says.
const (
	DefaultPasswordCheckLifetime      = 240 * time.Hour
	DefaultExternalLoginCheckLifetime = 240 * time.Hour
	DefaultMFAInitSkipLifetime        = 720 * time.Hour
	DefaultSecondFactorCheckLifetime  = 18 * time.Hour
	DefaultMultiFactorCheckLifetime   = 12 * time.Hour
)

// ToV2 converts a v1 org to v2 as ZITADEL does before importing it (§2.4):
//   - the members that v2 has too are copied, elements that failed to decode
//     with their errors (inviteUserMessages too, as reference §2.4 lists
//     it, although ZITADEL's own conversion drops it);
//   - triggerActions' enums become decimal ids ("1", ...);
//   - iamPolicy becomes a domain policy with its userLoginMustBeDomain (and
//     its orgId, checked but not used) and the instance defaults
//     DefaultValidateOrgDomains and DefaultSMTPSenderAddressMatchesInstanceDomain;
//   - a login policy gets the instance default lifetimes, and secondFactors,
//     multiFactors and idps, when not empty, replace its lists (an empty
//     list is absent, as protojson decodes it); without a login policy they
//     are ignored. An element of them that failed to decode makes the login
//     policy fail with that element's error.
func (o *DataOrgV1) ToV2() *DataOrg {
	out := o.DataOrg
	out.TriggerActions = o.triggerActionsV2()
	out.DomainPolicy = o.domainPolicyV2()
	out.LoginPolicy = o.loginPolicyV2()
	return &out
}

// triggerActionsV2 is the trigger actions of ToV2.
func (o *DataOrgV1) triggerActionsV2() Items[SetTriggerActionsRequest] {
	if o.TriggerActions == nil {
		return nil
	}
	out := make(Items[SetTriggerActionsRequest], len(o.TriggerActions))
	for i, t := range o.TriggerActions {
		out[i] = Item[SetTriggerActionsRequest]{Err: t.Err}
		if t.Err == nil {
			out[i].V = SetTriggerActionsRequest{
				FlowType:    strconv.Itoa(int(t.V.FlowType)),
				TriggerType: strconv.Itoa(int(t.V.TriggerType)),
				ActionIDs:   t.V.ActionIDs,
			}
		}
	}
	return out
}

// domainPolicyV2 is the domain policy of ToV2.
func (o *DataOrgV1) domainPolicyV2() Policy[AddCustomDomainPolicyRequest] {
	switch {
	case o.IAMPolicy.Err != nil:
		return Policy[AddCustomDomainPolicyRequest]{Err: o.IAMPolicy.Err}
	case o.IAMPolicy.V != nil:
		return Policy[AddCustomDomainPolicyRequest]{V: &AddCustomDomainPolicyRequest{
			OrgID:                                  o.IAMPolicy.V.OrgID,
			UserLoginMustBeDomain:                  o.IAMPolicy.V.UserLoginMustBeDomain,
			ValidateOrgDomains:                     DefaultValidateOrgDomains,
			SMTPSenderAddressMatchesInstanceDomain: DefaultSMTPSenderAddressMatchesInstanceDomain,
		}}
	}
	return Policy[AddCustomDomainPolicyRequest]{}
}

// loginPolicyV2 is the login policy of ToV2.
func (o *DataOrgV1) loginPolicyV2() Policy[AddCustomLoginPolicyRequest] {
	if o.LoginPolicy.V == nil {
		return o.LoginPolicy // absent, or failed to decode
	}
	p := *o.LoginPolicy.V
	for _, l := range []struct {
		dst *(*Lifetime)
		d   time.Duration
	}{
		{&p.PasswordCheckLifetime, DefaultPasswordCheckLifetime},
		{&p.ExternalLoginCheckLifetime, DefaultExternalLoginCheckLifetime},
		{&p.MFAInitSkipLifetime, DefaultMFAInitSkipLifetime},
		{&p.SecondFactorCheckLifetime, DefaultSecondFactorCheckLifetime},
		{&p.MultiFactorCheckLifetime, DefaultMultiFactorCheckLifetime},
	} {
		lt := Lifetime(l.d)
		*l.dst = &lt
	}
	if len(o.SecondFactors) > 0 {
		p.SecondFactors = make([]SecondFactorType, len(o.SecondFactors))
		for i, f := range o.SecondFactors {
			if f.Err != nil {
				return Policy[AddCustomLoginPolicyRequest]{Err: v1ListError("secondFactors", i, f.Err)}
			}
			p.SecondFactors[i] = f.V.Type
		}
	}
	if len(o.MultiFactors) > 0 {
		p.MultiFactors = make([]MultiFactorType, len(o.MultiFactors))
		for i, f := range o.MultiFactors {
			if f.Err != nil {
				return Policy[AddCustomLoginPolicyRequest]{Err: v1ListError("multiFactors", i, f.Err)}
			}
			p.MultiFactors[i] = f.V.Type
		}
	}
	if len(o.IDPs) > 0 {
		p.IDPs = make([]LoginPolicyIDP, len(o.IDPs))
		for i, idp := range o.IDPs {
			if idp.Err != nil {
				return Policy[AddCustomLoginPolicyRequest]{Err: v1ListError("idps", i, idp.Err)}
			}
			p.IDPs[i] = idp.V
		}
	}
	return Policy[AddCustomLoginPolicyRequest]{V: &p}
}

// v1ListError is the error of the login policy whose v1 list member's
// element i failed to decode with err: it names the member as sent.
func v1ListError(member string, i int, err error) error {
	path := fmt.Sprintf("%s[%d]", member, i)
	msg := DescribeError(path, err)
	if !strings.HasPrefix(msg, path) {
		msg = path + ": " + msg
	}
	return errors.New(msg)
}

// V1Sources returns the members of a v1 org that ToV2 makes the v2 member
// v2Field (a canonical JSON name) of: the first decides whether the v2
// member is present, the others only add to it. It returns nil for a v2
// member that v1 has no counterpart of (orgState, the OTP message texts).
func V1Sources(v2Field string) []string {
	switch v2Field {
	case "domainPolicy":
		return []string{"iamPolicy"}
	case "loginPolicy":
		return []string{"loginPolicy", "secondFactors", "multiFactors", "idps"}
	}
	f, inV1 := orgFieldsV1[normalizeName(v2Field)]
	if _, inV2 := orgFields[normalizeName(v2Field)]; inV1 && inV2 {
		return []string{f.name}
	}
	return nil
}

// DecodeOrgV1 decodes a v1 org object (the bytes of an OrgLayout of a v1
// payload) keeping only the v1 members that the v2 members named in fields
// are made of (see V1Sources; nil keeps all), and converts it with ToV2.
func DecodeOrgV1(raw []byte, fields map[string]bool) (*DataOrg, error) {
	var v1Fields map[string]bool
	if fields != nil {
		v1Fields = map[string]bool{}
		for f, ok := range fields {
			if !ok {
				continue
			}
			for _, src := range V1Sources(f) {
				v1Fields[src] = true
			}
		}
	}
	org := &DataOrgV1{}
	err := decodeOrgInto(raw, v1Fields, orgFieldsV1, org)
	return org.ToV2(), err
}

// DecodeChunkV1 decodes the elements of a Chunk of the v1 array member field
// and converts them with ToV2.
func DecodeChunkV1(raw []byte, field string) (*DataOrg, error) {
	f, ok := orgFieldsV1[normalizeName(field)]
	if !ok || !f.array {
		return nil, fmt.Errorf("decode chunk: %q is not an entity array of a v1 org", field)
	}
	org := &DataOrgV1{}
	err := decodeChunkInto(raw, f.name, org)
	return org.ToV2(), err
}
