package importdata

import "github.com/go-json-experiment/json/jsontext"

// This file holds the model of applications, app keys, actions, trigger
// actions and project grant members.

// DataOIDCApplication is v1.DataOIDCApplication.
type DataOIDCApplication struct {
	AppID string            `json:"appId"`
	App   AddOIDCAppRequest `json:"app"`
}

// AddOIDCAppRequest is management.AddOIDCAppRequest.
type AddOIDCAppRequest struct {
	ProjectID                string             `json:"projectId"`
	Name                     string             `json:"name"`
	RedirectURIs             []string           `json:"redirectUris"`
	ResponseTypes            []OIDCResponseType `json:"responseTypes"`
	GrantTypes               []OIDCGrantType    `json:"grantTypes"`
	AppType                  OIDCAppType        `json:"appType"`
	AuthMethodType           OIDCAuthMethodType `json:"authMethodType"`
	PostLogoutRedirectURIs   []string           `json:"postLogoutRedirectUris"`
	Version                  OIDCVersion        `json:"version"`
	DevMode                  bool               `json:"devMode"`
	AccessTokenType          OIDCTokenType      `json:"accessTokenType"`
	AccessTokenRoleAssertion bool               `json:"accessTokenRoleAssertion"`
	IDTokenRoleAssertion     bool               `json:"idTokenRoleAssertion"`
	IDTokenUserinfoAssertion bool               `json:"idTokenUserinfoAssertion"`
	// ClockSkew is 0 to 5 seconds.
	ClockSkew                Duration      `json:"clockSkew"`
	AdditionalOrigins        []string      `json:"additionalOrigins"`
	SkipNativeAppSuccessPage bool          `json:"skipNativeAppSuccessPage"`
	BackChannelLogoutURI     string        `json:"backChannelLogoutUri"`
	LoginVersion             *LoginVersion `json:"loginVersion"`
}

// LoginVersion is app.LoginVersion: the oneof of loginV1 and loginV2; nil
// members are absent.
type LoginVersion struct {
	LoginV1 *LoginV1 `json:"loginV1"`
	LoginV2 *LoginV2 `json:"loginV2"`
}

// LoginV1 is app.LoginV1 (no fields).
type LoginV1 struct{}

// LoginV2 is app.LoginV2; BaseURI is nil when absent (proto3 optional).
type LoginV2 struct {
	BaseURI *string `json:"baseUri"`
}

// DataAPIApplication is v1.DataAPIApplication.
type DataAPIApplication struct {
	AppID string           `json:"appId"`
	App   AddAPIAppRequest `json:"app"`
}

// AddAPIAppRequest is management.AddAPIAppRequest.
type AddAPIAppRequest struct {
	ProjectID      string            `json:"projectId"`
	Name           string            `json:"name"`
	AuthMethodType APIAuthMethodType `json:"authMethodType"`
}

// DataAppKey is v1.DataAppKey.
type DataAppKey struct {
	ID        string  `json:"id"`
	ProjectID string  `json:"projectId"`
	AppID     string  `json:"appId"`
	ClientID  string  `json:"clientId"`
	Type      KeyType `json:"type"`
	// ExpirationDate is zero when absent (then 9999-12-31T23:59:59Z).
	ExpirationDate Timestamp `json:"expirationDate"`
	// PublicKey is a PEM public key.
	PublicKey Bytes `json:"publicKey"`
}

// DataAction is v1.DataAction.
type DataAction struct {
	ActionID string              `json:"actionId"`
	Action   CreateActionRequest `json:"action"`
}

// CreateActionRequest is management.CreateActionRequest.
type CreateActionRequest struct {
	Name   string `json:"name"`
	Script string `json:"script"`
	// Timeout is 0 to 20 seconds.
	Timeout       Duration `json:"timeout"`
	AllowedToFail bool     `json:"allowedToFail"`
}

// SetTriggerActionsRequest is management.SetTriggerActionsRequest (v2: flow
// and trigger types as strings, see FlowTypeID and TriggerTypeID).
type SetTriggerActionsRequest struct {
	FlowType    string   `json:"flowType"`
	TriggerType string   `json:"triggerType"`
	ActionIDs   []string `json:"actionIds"`
}

// AddProjectGrantMemberRequest is management.AddProjectGrantMemberRequest.
type AddProjectGrantMemberRequest struct {
	ProjectID string   `json:"projectId"`
	GrantID   string   `json:"grantId"`
	UserID    string   `json:"userId"`
	Roles     []string `json:"roles"`
}

// OIDCResponseType is app.OIDCResponseType.
type OIDCResponseType int32

// OIDC response types.
const (
	OIDCResponseTypeCode OIDCResponseType = iota
	OIDCResponseTypeIDToken
	OIDCResponseTypeIDTokenToken
)

var oidcResponseTypeNames = []string{"OIDC_RESPONSE_TYPE_CODE", "OIDC_RESPONSE_TYPE_ID_TOKEN", "OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN"}

func (e *OIDCResponseType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, oidcResponseTypeNames)
	*e = OIDCResponseType(v)
	return err
}
func (e OIDCResponseType) String() string { return enumName(oidcResponseTypeNames, int32(e)) }

// OIDCGrantType is app.OIDCGrantType.
type OIDCGrantType int32

// OIDC grant types.
const (
	OIDCGrantTypeAuthorizationCode OIDCGrantType = iota
	OIDCGrantTypeImplicit
	OIDCGrantTypeRefreshToken
	OIDCGrantTypeDeviceCode
	OIDCGrantTypeTokenExchange
)

var oidcGrantTypeNames = []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_IMPLICIT", "OIDC_GRANT_TYPE_REFRESH_TOKEN",
	"OIDC_GRANT_TYPE_DEVICE_CODE", "OIDC_GRANT_TYPE_TOKEN_EXCHANGE"}

func (e *OIDCGrantType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, oidcGrantTypeNames)
	*e = OIDCGrantType(v)
	return err
}
func (e OIDCGrantType) String() string { return enumName(oidcGrantTypeNames, int32(e)) }

// OIDCAppType is app.OIDCAppType.
type OIDCAppType int32

// OIDC application types.
const (
	OIDCAppTypeWeb OIDCAppType = iota
	OIDCAppTypeUserAgent
	OIDCAppTypeNative
)

var oidcAppTypeNames = []string{"OIDC_APP_TYPE_WEB", "OIDC_APP_TYPE_USER_AGENT", "OIDC_APP_TYPE_NATIVE"}

func (e *OIDCAppType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, oidcAppTypeNames)
	*e = OIDCAppType(v)
	return err
}
func (e OIDCAppType) String() string { return enumName(oidcAppTypeNames, int32(e)) }

// OIDCAuthMethodType is app.OIDCAuthMethodType.
type OIDCAuthMethodType int32

// OIDC authentication methods.
const (
	OIDCAuthMethodTypeBasic OIDCAuthMethodType = iota
	OIDCAuthMethodTypePost
	OIDCAuthMethodTypeNone
	OIDCAuthMethodTypePrivateKeyJWT
)

var oidcAuthMethodTypeNames = []string{"OIDC_AUTH_METHOD_TYPE_BASIC", "OIDC_AUTH_METHOD_TYPE_POST", "OIDC_AUTH_METHOD_TYPE_NONE",
	"OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}

func (e *OIDCAuthMethodType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, oidcAuthMethodTypeNames)
	*e = OIDCAuthMethodType(v)
	return err
}
func (e OIDCAuthMethodType) String() string { return enumName(oidcAuthMethodTypeNames, int32(e)) }

// NeedsSecret reports whether the method authenticates with a client secret.
func (e OIDCAuthMethodType) NeedsSecret() bool {
	return e == OIDCAuthMethodTypeBasic || e == OIDCAuthMethodTypePost
}

// OIDCVersion is app.OIDCVersion.
type OIDCVersion int32

var oidcVersionNames = []string{"OIDC_VERSION_1_0"}

func (e *OIDCVersion) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, oidcVersionNames)
	*e = OIDCVersion(v)
	return err
}
func (e OIDCVersion) String() string { return enumName(oidcVersionNames, int32(e)) }

// OIDCTokenType is app.OIDCTokenType.
type OIDCTokenType int32

var oidcTokenTypeNames = []string{"OIDC_TOKEN_TYPE_BEARER", "OIDC_TOKEN_TYPE_JWT"}

func (e *OIDCTokenType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, oidcTokenTypeNames)
	*e = OIDCTokenType(v)
	return err
}
func (e OIDCTokenType) String() string { return enumName(oidcTokenTypeNames, int32(e)) }

// APIAuthMethodType is app.APIAuthMethodType.
type APIAuthMethodType int32

// API authentication methods.
const (
	APIAuthMethodTypeBasic APIAuthMethodType = iota
	APIAuthMethodTypePrivateKeyJWT
)

var apiAuthMethodTypeNames = []string{"API_AUTH_METHOD_TYPE_BASIC", "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}

func (e *APIAuthMethodType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, apiAuthMethodTypeNames)
	*e = APIAuthMethodType(v)
	return err
}
func (e APIAuthMethodType) String() string { return enumName(apiAuthMethodTypeNames, int32(e)) }

// Flow types of trigger actions (domain.FlowType); their ids are the
// numbers as decimal strings.
var flowTypeNames = []string{"FLOW_TYPE_UNSPECIFIED", "FLOW_TYPE_EXTERNAL_AUTHENTICATION", "FLOW_TYPE_CUSTOMISE_TOKEN",
	"FLOW_TYPE_INTERNAL_AUTHENTICATION", "FLOW_TYPE_SAML_RESPONSE"}

// Trigger types of trigger actions (domain.TriggerType).
var triggerTypeNames = []string{"TRIGGER_TYPE_UNSPECIFIED", "TRIGGER_TYPE_POST_AUTHENTICATION", "TRIGGER_TYPE_PRE_CREATION",
	"TRIGGER_TYPE_POST_CREATION", "TRIGGER_TYPE_PRE_USERINFO_CREATION", "TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION",
	"TRIGGER_TYPE_PRE_SAML_RESPONSE_CREATION"}

// flowTriggers are the trigger types each flow type has (domain.FlowType.HasTrigger).
var flowTriggers = map[int][]int{
	1: {1, 2, 3}, // external authentication: post authentication, pre creation, post creation
	2: {4, 5},    // customise token: pre userinfo creation, pre access token creation
	3: {1, 2, 3}, // internal authentication: as external
	4: {6},       // SAML response: pre SAML response creation
}

// FlowTypeID returns the number of a flow type given as its id ("1") or its
// name ("FLOW_TYPE_EXTERNAL_AUTHENTICATION"), or 0 when s is neither.
func FlowTypeID(s string) int { return typeID(s, flowTypeNames) }

// TriggerTypeID returns the number of a trigger type given as its id ("1")
// or its name ("TRIGGER_TYPE_POST_AUTHENTICATION"), or 0 when s is neither.
func TriggerTypeID(s string) int { return typeID(s, triggerTypeNames) }

// FlowHasTrigger reports whether flow type flow has trigger type trigger.
func FlowHasTrigger(flow, trigger int) bool {
	for _, t := range flowTriggers[flow] {
		if t == trigger {
			return true
		}
	}
	return false
}

func typeID(s string, names []string) int {
	for i := 1; i < len(names); i++ {
		if s == names[i] || len(s) == 1 && s[0] == byte('0'+i) {
			return i
		}
	}
	return 0
}
