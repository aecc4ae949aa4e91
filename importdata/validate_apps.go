package importdata

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Validate checks an OIDC application: the rules of AddOIDCAppRequest and
// of ZITADEL's OIDCApp.IsValid (clock skew, origins, the grant types that
// the response types need), and that redirect URIs are absolute: http(s)
// with a host, or a custom scheme for native apps.
func (d *DataOIDCApplication) Validate(path string) error {
	p := NewProblems(path)
	a := &d.App
	p.app(d.AppID, a.ProjectID, a.Name)
	native := a.AppType == OIDCAppTypeNative
	for i, u := range a.RedirectURIs {
		p.redirectURI(fmt.Sprintf("app.redirectUris[%d]", i), u, native)
	}
	for i, u := range a.PostLogoutRedirectURIs {
		p.redirectURI(fmt.Sprintf("app.postLogoutRedirectUris[%d]", i), u, native)
	}
	for i, o := range a.AdditionalOrigins {
		p.origin(fmt.Sprintf("app.additionalOrigins[%d]", i), o)
	}
	if a.ClockSkew < 0 || time.Duration(a.ClockSkew) > 5*time.Second {
		p.add("app.clockSkew", fmt.Sprintf("%s is not between 0s and 5s", a.ClockSkew))
	}
	if a.BackChannelLogoutURI != "" {
		p.httpURI("app.backChannelLogoutUri", a.BackChannelLogoutURI)
	}
	if lv := a.LoginVersion; lv != nil {
		switch {
		case lv.LoginV1 != nil && lv.LoginV2 != nil:
			p.add("app.loginVersion", "give loginV1 or loginV2, not both")
		case lv.LoginV2 != nil && lv.LoginV2.BaseURI != nil && *lv.LoginV2.BaseURI != "":
			p.httpURI("app.loginVersion.loginV2.baseUri", *lv.LoginV2.BaseURI)
		}
	}
	for _, g := range missingGrantTypes(a.ResponseTypes, a.GrantTypes) {
		p.add("app.grantTypes", fmt.Sprintf("must contain %s for the response types", g))
	}
	return p.Err()
}

// missingGrantTypes returns the grant types that the response types need
// and grants lacks (domain.RequiredOIDCGrantTypes): authorization code for
// the code flow, unless the device code grant is given, and implicit for ID
// tokens. Empty lists mean what ZITADEL's API makes of them: the code
// response type and the authorization code grant type.
func missingGrantTypes(responses []OIDCResponseType, grants []OIDCGrantType) []OIDCGrantType {
	if len(responses) == 0 {
		responses = []OIDCResponseType{OIDCResponseTypeCode}
	}
	if len(grants) == 0 {
		grants = []OIDCGrantType{OIDCGrantTypeAuthorizationCode}
	}
	has := map[OIDCGrantType]bool{}
	for _, g := range grants {
		has[g] = true
	}
	var missing []OIDCGrantType
	need := func(g OIDCGrantType) {
		if !has[g] {
			has[g] = true
			missing = append(missing, g)
		}
	}
	for _, r := range responses {
		switch r {
		case OIDCResponseTypeCode:
			if !has[OIDCGrantTypeDeviceCode] {
				need(OIDCGrantTypeAuthorizationCode)
			}
		case OIDCResponseTypeIDToken, OIDCResponseTypeIDTokenToken:
			need(OIDCGrantTypeImplicit)
		}
	}
	return missing
}

// redirectURI checks a redirect URI: absolute, http(s) with a host, or
// another (custom) scheme when native is true.
func (p *Problems) redirectURI(field, v string, native bool) {
	u, ok := p.absoluteURI(field, v)
	if !ok {
		return
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			p.add(field, "is not an absolute URI (http and https URIs need a host)")
		}
	case !native:
		p.add(field, fmt.Sprintf("custom scheme %q is allowed for native apps only", u.Scheme))
	}
}

// httpURI checks an absolute http or https URI with a host.
func (p *Problems) httpURI(field, v string) {
	u, ok := p.absoluteURI(field, v)
	if ok && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		p.add(field, "is not an absolute http or https URI")
	}
}

// absoluteURI parses v as an absolute URI, reporting why it is not one.
func (p *Problems) absoluteURI(field, v string) (*url.URL, bool) {
	if !p.NoNUL(field, v) {
		return nil, false
	}
	if v == "" {
		p.add(field, "is required")
		return nil, false
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || strings.TrimSpace(v) != v || u.Opaque == "" && u.Host == "" && u.Path == "" {
		p.add(field, "is not an absolute URI")
		return nil, false
	}
	return u, true
}

// origin checks an origin: scheme and host, without path, query or
// fragment (ZITADEL's http.IsOrigin).
func (p *Problems) origin(field, v string) {
	if !p.NoNUL(field, v) {
		return
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
		strings.HasSuffix(v, "?") || strings.HasSuffix(v, "#") || strings.TrimSpace(v) != v {
		p.add(field, "is not an origin (want scheme://host[:port])")
	}
}

// Validate checks an API application.
func (d *DataAPIApplication) Validate(path string) error {
	p := NewProblems(path)
	p.app(d.AppID, d.App.ProjectID, d.App.Name)
	return p.Err()
}

// app checks what OIDC and API applications share: the app id, the project
// id and a name that is not blank.
func (p *Problems) app(appID, projectID, name string) {
	p.Len("appId", appID, 1, 200)
	p.Len("app.projectId", projectID, 1, 200)
	p.Len("app.name", name, 1, 200)
	if name != "" && strings.TrimSpace(name) == "" {
		p.add("app.name", "is blank")
	}
}

// Validate checks an app key: its ids and that publicKey holds a
// PEM-encoded PKIX public key (as machine keys). Its type is not checked:
// ZITADEL's AddApplicationKeyWithID, like AddUserMachineKey for machine
// keys, stores KEY_TYPE_UNSPECIFIED as given. Whether the expiration date
// lies in the future is checked when the key is imported.
func (k *DataAppKey) Validate(path string) error {
	p := NewProblems(path)
	p.Len("id", k.ID, 1, 200)
	p.Len("projectId", k.ProjectID, 1, 200)
	p.Len("appId", k.AppID, 1, 200)
	p.Len("clientId", k.ClientID, 0, 200)
	p.publicKey("publicKey", k.PublicKey)
	return p.Err()
}

// Validate checks an action: name, script (1 to 40000 bytes) and timeout
// (0 to 20 seconds).
func (d *DataAction) Validate(path string) error {
	p := NewProblems(path)
	p.Len("actionId", d.ActionID, 1, 200)
	a := &d.Action
	p.Len("action.name", a.Name, 1, 200)
	p.NoNUL("action.script", a.Script)
	switch n := len(a.Script); {
	case n == 0:
		p.add("action.script", "is required")
	case n > 40000:
		p.add("action.script", fmt.Sprintf("at most 40000 bytes, got %d", n))
	}
	if a.Timeout < 0 || time.Duration(a.Timeout) > 20*time.Second {
		p.add("action.timeout", fmt.Sprintf("%s is not between 0s and 20s", a.Timeout))
	}
	return p.Err()
}

// Validate checks trigger actions: known flow and trigger types, given as
// ids ("1") or names ("FLOW_TYPE_EXTERNAL_AUTHENTICATION"), and action ids.
// Whether the flow has the trigger is checked when they are imported.
func (t *SetTriggerActionsRequest) Validate(path string) error {
	p := NewProblems(path)
	if p.Len("flowType", t.FlowType, 1, 200); t.FlowType != "" && FlowTypeID(t.FlowType) == 0 {
		p.add("flowType", fmt.Sprintf("unknown flow type %q (want 1 to 4 or one of %s)", t.FlowType, strings.Join(flowTypeNames[1:], ", ")))
	}
	if p.Len("triggerType", t.TriggerType, 1, 200); t.TriggerType != "" && TriggerTypeID(t.TriggerType) == 0 {
		p.add("triggerType", fmt.Sprintf("unknown trigger type %q (want 1 to 6 or one of %s)", t.TriggerType, strings.Join(triggerTypeNames[1:], ", ")))
	}
	p.Each("actionIds", t.ActionIDs, 1, 200)
	return p.Err()
}

// Validate checks a project grant member.
func (m *AddProjectGrantMemberRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("projectId", m.ProjectID, 1, 200)
	p.Len("grantId", m.GrantID, 1, 200)
	p.Len("userId", m.UserID, 1, 200)
	p.Each("roles", m.Roles, 1, 200)
	return p.Err()
}
