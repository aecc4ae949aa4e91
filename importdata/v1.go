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

// DataOrgV1 is one organization of a v1 import. It has the members of
// DataOrg, of the same types, except: no domainPolicy, orgState or OTP
// message texts; iamPolicy instead of domainPolicy; triggerActions with enum
// flow and trigger types; and the login policy's second factors, multi
// factors and IdPs as members of the org. ToV2 converts it.
//
// The shared members are copied field for field rather than embedded: an
// embedded struct would reorder DataOrg's members (its export) and its
// composite literals, and the scanner's reflection reads direct fields.
type DataOrgV1 struct {
	OrgID          string                         `json:"orgId"`
	Org            *AddOrgRequest                 `json:"org"`
	Domains        Items[Domain]                  `json:"domains"`
	HumanUsers     Items[DataHumanUser]           `json:"humanUsers"`
	MachineUsers   Items[DataMachineUser]         `json:"machineUsers"`
	Projects       Items[DataProject]             `json:"projects"`
	ProjectRoles   Items[AddProjectRoleRequest]   `json:"projectRoles"`
	ProjectGrants  Items[DataProjectGrant]        `json:"projectGrants"`
	UserGrants     Items[AddUserGrantRequest]     `json:"userGrants"`
	OrgMembers     Items[AddOrgMemberRequest]     `json:"orgMembers"`
	ProjectMembers Items[AddProjectMemberRequest] `json:"projectMembers"`
	UserMetadata   Items[SetUserMetadataRequest]  `json:"userMetadata"`
	OIDCIDPs       Items[DataOIDCIDP]             `json:"oidcIdps"`
	JWTIDPs        Items[DataJWTIDP]              `json:"jwtIdps"`
	UserLinks      Items[IDPUserLink]             `json:"userLinks"`
	MachineKeys    Items[DataMachineKey]          `json:"machineKeys"`

	APIApps             Items[DataAPIApplication]           `json:"apiApps"`
	OIDCApps            Items[DataOIDCApplication]          `json:"oidcApps"`
	TriggerActions      Items[SetTriggerActionsRequestV1]   `json:"triggerActions"`
	Actions             Items[DataAction]                   `json:"actions"`
	ProjectGrantMembers Items[AddProjectGrantMemberRequest] `json:"projectGrantMembers"`
	AppKeys             Items[DataAppKey]                   `json:"appKeys"`

	IAMPolicy                        Policy[AddCustomOrgIAMPolicyRequest]             `json:"iamPolicy"`
	LabelPolicy                      Policy[AddCustomLabelPolicyRequest]              `json:"labelPolicy"`
	LockoutPolicy                    Policy[AddCustomLockoutPolicyRequest]            `json:"lockoutPolicy"`
	LoginPolicy                      Policy[AddCustomLoginPolicyRequest]              `json:"loginPolicy"`
	PasswordComplexityPolicy         Policy[AddCustomPasswordComplexityPolicyRequest] `json:"passwordComplexityPolicy"`
	PrivacyPolicy                    Policy[AddCustomPrivacyPolicyRequest]            `json:"privacyPolicy"`
	LoginTexts                       Items[SetCustomLoginTextsRequest]                `json:"loginTexts"`
	InitMessages                     Items[SetCustomMessageTextRequest]               `json:"initMessages"`
	PasswordResetMessages            Items[SetCustomMessageTextRequest]               `json:"passwordResetMessages"`
	VerifyEmailMessages              Items[SetCustomMessageTextRequest]               `json:"verifyEmailMessages"`
	VerifyPhoneMessages              Items[SetCustomVerifyPhoneMessageTextRequest]    `json:"verifyPhoneMessages"`
	DomainClaimedMessages            Items[SetCustomMessageTextRequest]               `json:"domainClaimedMessages"`
	PasswordlessRegistrationMessages Items[SetCustomMessageTextRequest]               `json:"passwordlessRegistrationMessages"`
	InviteUserMessages               Items[SetCustomMessageTextRequest]               `json:"inviteUserMessages"`

	// The login policy's lists in v1: they replace the login policy's own
	// when the org has a login policy and are ignored otherwise.
	SecondFactors Items[SecondFactorV1] `json:"secondFactors"`
	MultiFactors  Items[MultiFactorV1]  `json:"multiFactors"`
	IDPs          Items[LoginPolicyIDP] `json:"idps"`
}

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
	out := &DataOrg{
		OrgID:                            o.OrgID,
		Org:                              o.Org,
		Domains:                          o.Domains,
		HumanUsers:                       o.HumanUsers,
		MachineUsers:                     o.MachineUsers,
		Projects:                         o.Projects,
		ProjectRoles:                     o.ProjectRoles,
		ProjectGrants:                    o.ProjectGrants,
		UserGrants:                       o.UserGrants,
		OrgMembers:                       o.OrgMembers,
		ProjectMembers:                   o.ProjectMembers,
		UserMetadata:                     o.UserMetadata,
		OIDCIDPs:                         o.OIDCIDPs,
		JWTIDPs:                          o.JWTIDPs,
		UserLinks:                        o.UserLinks,
		MachineKeys:                      o.MachineKeys,
		APIApps:                          o.APIApps,
		OIDCApps:                         o.OIDCApps,
		Actions:                          o.Actions,
		ProjectGrantMembers:              o.ProjectGrantMembers,
		AppKeys:                          o.AppKeys,
		LabelPolicy:                      o.LabelPolicy,
		LockoutPolicy:                    o.LockoutPolicy,
		PasswordComplexityPolicy:         o.PasswordComplexityPolicy,
		PrivacyPolicy:                    o.PrivacyPolicy,
		LoginTexts:                       o.LoginTexts,
		InitMessages:                     o.InitMessages,
		PasswordResetMessages:            o.PasswordResetMessages,
		VerifyEmailMessages:              o.VerifyEmailMessages,
		VerifyPhoneMessages:              o.VerifyPhoneMessages,
		DomainClaimedMessages:            o.DomainClaimedMessages,
		PasswordlessRegistrationMessages: o.PasswordlessRegistrationMessages,
		InviteUserMessages:               o.InviteUserMessages,
	}
	if o.TriggerActions != nil {
		out.TriggerActions = make(Items[SetTriggerActionsRequest], len(o.TriggerActions))
		for i, t := range o.TriggerActions {
			out.TriggerActions[i] = Item[SetTriggerActionsRequest]{Err: t.Err}
			if t.Err == nil {
				out.TriggerActions[i].V = SetTriggerActionsRequest{
					FlowType:    strconv.Itoa(int(t.V.FlowType)),
					TriggerType: strconv.Itoa(int(t.V.TriggerType)),
					ActionIDs:   t.V.ActionIDs,
				}
			}
		}
	}
	switch {
	case o.IAMPolicy.Err != nil:
		out.DomainPolicy = Policy[AddCustomDomainPolicyRequest]{Err: o.IAMPolicy.Err}
	case o.IAMPolicy.V != nil:
		out.DomainPolicy = Policy[AddCustomDomainPolicyRequest]{V: &AddCustomDomainPolicyRequest{
			OrgID:                                  o.IAMPolicy.V.OrgID,
			UserLoginMustBeDomain:                  o.IAMPolicy.V.UserLoginMustBeDomain,
			ValidateOrgDomains:                     DefaultValidateOrgDomains,
			SMTPSenderAddressMatchesInstanceDomain: DefaultSMTPSenderAddressMatchesInstanceDomain,
		}}
	}
	out.LoginPolicy = o.loginPolicyV2()
	return out
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
