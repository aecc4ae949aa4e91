package importdata

import (
	"github.com/go-json-experiment/json/jsontext"
)

// This file holds the org IdPs and what hangs off users: metadata, machine
// keys and IdP links (reference §2.3).

// DataOIDCIDP is v1.DataOIDCIDP.
type DataOIDCIDP struct {
	IDPID string               `json:"idpId"`
	IDP   AddOrgOIDCIDPRequest `json:"idp"`
}

// AddOrgOIDCIDPRequest is management.AddOrgOIDCIDPRequest.
type AddOrgOIDCIDPRequest struct {
	Name               string           `json:"name"`
	StylingType        IDPStylingType   `json:"stylingType"`
	ClientID           string           `json:"clientId"`
	ClientSecret       string           `json:"clientSecret"`
	Issuer             string           `json:"issuer"`
	Scopes             []string         `json:"scopes"`
	DisplayNameMapping OIDCMappingField `json:"displayNameMapping"`
	UsernameMapping    OIDCMappingField `json:"usernameMapping"`
	AutoRegister       bool             `json:"autoRegister"`
}

// DataJWTIDP is v1.DataJWTIDP.
type DataJWTIDP struct {
	IDPID string              `json:"idpId"`
	IDP   AddOrgJWTIDPRequest `json:"idp"`
}

// AddOrgJWTIDPRequest is management.AddOrgJWTIDPRequest.
type AddOrgJWTIDPRequest struct {
	Name         string         `json:"name"`
	StylingType  IDPStylingType `json:"stylingType"`
	JWTEndpoint  string         `json:"jwtEndpoint"`
	Issuer       string         `json:"issuer"`
	KeysEndpoint string         `json:"keysEndpoint"`
	HeaderName   string         `json:"headerName"`
	AutoRegister bool           `json:"autoRegister"`
}

// SetUserMetadataRequest is management.SetUserMetadataRequest: ID is the
// user's id.
type SetUserMetadataRequest struct {
	ID    string `json:"id"`
	Key   string `json:"key"`
	Value Bytes  `json:"value"`
}

// DataMachineKey is v1.DataMachineKey. PublicKey holds a PEM-encoded public
// key; a zero ExpirationDate means none (9999-12-31T23:59:59Z).
type DataMachineKey struct {
	KeyID          string    `json:"keyId"`
	UserID         string    `json:"userId"`
	Type           KeyType   `json:"type"`
	ExpirationDate Timestamp `json:"expirationDate"`
	PublicKey      Bytes     `json:"publicKey"`
}

// IDPUserLink is idp.IDPUserLink. The import uses UserID, IDPID,
// ProvidedUserID (the external user id) and ProvidedUserName (the display
// name); IDPName and IDPType are kept as given.
type IDPUserLink struct {
	UserID           string  `json:"userId"`
	IDPID            string  `json:"idpId"`
	IDPName          string  `json:"idpName"`
	ProvidedUserID   string  `json:"providedUserId"`
	ProvidedUserName string  `json:"providedUserName"`
	IDPType          IDPType `json:"idpType"`
}

// HumanIDP is ImportHumanUserRequest.IDP, a link of the imported user to
// an IdP of its org.
type HumanIDP struct {
	ConfigID       string `json:"configId"`
	ExternalUserID string `json:"externalUserId"`
	DisplayName    string `json:"displayName"`
}

// IDPStylingType is idp.IDPStylingType.
type IDPStylingType int32

var idpStylingTypeNames = []string{"STYLING_TYPE_UNSPECIFIED", "STYLING_TYPE_GOOGLE"}

func (e *IDPStylingType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, idpStylingTypeNames)
	*e = IDPStylingType(v)
	return err
}
func (e IDPStylingType) String() string { return enumName(idpStylingTypeNames, int32(e)) }

// OIDCMappingField is idp.OIDCMappingField.
type OIDCMappingField int32

var oidcMappingFieldNames = []string{"OIDC_MAPPING_FIELD_UNSPECIFIED", "OIDC_MAPPING_FIELD_PREFERRED_USERNAME", "OIDC_MAPPING_FIELD_EMAIL"}

func (e *OIDCMappingField) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, oidcMappingFieldNames)
	*e = OIDCMappingField(v)
	return err
}
func (e OIDCMappingField) String() string { return enumName(oidcMappingFieldNames, int32(e)) }

// IDPType is idp.IDPType: unspecified (0), OIDC (1) or JWT (3); 2 is unused.
type IDPType int32

var idpTypeNames = []string{"IDP_TYPE_UNSPECIFIED", "IDP_TYPE_OIDC", "", "IDP_TYPE_JWT"}

func (e *IDPType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, idpTypeNames)
	*e = IDPType(v)
	return err
}
func (e IDPType) String() string { return enumName(idpTypeNames, int32(e)) }
