package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/zimport/zimport/store"
)

// headerInstanceID names the instance a system caller acts on.
const headerInstanceID = "x-zitadel-instance-id"

// caller is who sends a request.
type caller struct {
	// system is true for a system token.
	system bool
	// instanceID is the PAT's instance, or the instance a system caller
	// names in x-zitadel-instance-id; empty for a system caller naming none.
	instanceID string
	// userID is the PAT's user.
	userID string
}

// scope is what the caller may see: its instance, or everything for a
// system caller that names no instance.
func (cl caller) scope() store.Scope {
	return store.Scope{InstanceID: cl.instanceID, System: cl.system}
}

// name is the caller as recorded on a job: "system" or "user:<id>".
func (cl caller) name() string {
	if cl.system {
		return "system"
	}
	return "user:" + cl.userID
}

const callerKey = "zimport.caller"

func callerOf(c echo.Context) caller {
	cl, _ := c.Get(callerKey).(caller)
	return cl
}

func tokenDigest(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

// isSystem compares tok with every system token in constant time (the
// digests have the same length whatever the tokens' lengths).
func (s *Server) isSystem(tok string) bool {
	if tok == "" {
		return false
	}
	d := tokenDigest(tok)
	match := 0
	for _, sys := range s.systems {
		match |= subtle.ConstantTimeCompare(d[:], sys[:])
	}
	return match == 1
}

// bearer returns the token of "Authorization: Bearer <token>".
func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authenticate is the middleware of every endpoint but health and the
// dashboard: a system token, or a personal access token that scopes the call
// to its instance. Missing, unknown or expired tokens are 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := bearer(c)
		if tok == "" {
			return s.unauthenticated(c, `Bearer realm="zimport"`)
		}
		ctx := c.Request().Context()
		var cl caller
		if s.isSystem(tok) {
			cl.system = true
			if id := strings.TrimSpace(c.Request().Header.Get(headerInstanceID)); id != "" {
				if !printable(id, maxInstanceID) {
					return errNotFound("instance not found") // it cannot name one
				}
				ok, err := s.st.InstanceExists(ctx, id)
				if err != nil {
					return err
				}
				if !ok {
					return errNotFound("instance not found")
				}
				cl.instanceID = id
			}
		} else {
			owner, err := s.tokenOwner(ctx, tok)
			if errors.Is(err, store.ErrNotFound) {
				return s.unauthenticated(c, `Bearer realm="zimport", error="invalid_token"`)
			}
			if err != nil {
				return err
			}
			cl.instanceID, cl.userID = owner.InstanceID, owner.UserID
		}
		c.Set(callerKey, cl)
		return next(c)
	}
}

func (s *Server) unauthenticated(c echo.Context, challenge string) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, challenge)
	return errUnauthenticated
}

// requireSystemBasic guards the dashboard: a system token as bearer token or
// as the password of HTTP basic auth, so that a browser can log in. A valid
// personal access token is 403, like on the other system endpoints; no or
// another token is 401. Since browsers send cached basic credentials with
// any request, even one that another site makes them send, a request that
// changes something (when the dashboard is writable) and comes from another
// site is 403 (CSRF).
func (s *Server) requireSystemBasic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := bearer(c)
		if tok == "" {
			if _, pw, ok := c.Request().BasicAuth(); ok {
				tok = pw
			}
		}
		if s.isSystem(tok) {
			if r := c.Request(); !safeMethod(r.Method) && crossSite(r) {
				return errCrossSite
			}
			return next(c)
		}
		if tok != "" {
			_, err := s.tokenOwner(c.Request().Context(), tok)
			if err == nil {
				return errPermissionDenied
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return s.unauthenticated(c, `Basic realm="zimport"`)
	}
}

// maxInstanceID is the longest x-zitadel-instance-id that can name an instance.
const maxInstanceID = 200

// printable reports whether v is valid UTF-8 of at most max bytes without
// control characters: header values that may reach the database.
func printable(v string, max int) bool {
	if len(v) > max || !utf8.ValidString(v) {
		return false
	}
	return strings.IndexFunc(v, unicode.IsControl) < 0
}

// requireSystem answers 403 to callers that are not system callers.
func requireSystem(c echo.Context) error {
	if !callerOf(c).system {
		return errPermissionDenied
	}
	return nil
}
