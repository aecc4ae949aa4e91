package api

import (
	"context"
	"sync"
	"time"

	"github.com/zimport/zimport/instance"
	"github.com/zimport/zimport/store"
)

// tokenTTL is how long the API trusts a personal access token it has looked
// up without looking again (never past the token's expiry). zimport has no
// way to revoke a token early; the TTL bounds how long a future revocation
// would take to reach a running API.
const tokenTTL = 10 * time.Second

// maxCachedTokens bounds the token cache; when full, it is emptied.
const maxCachedTokens = 10_000

// tokenCache remembers recently seen personal access tokens by their hash,
// so that a request does not cost a query to authenticate. Unknown tokens
// are never cached.
type tokenCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cachedToken
}

type cachedToken struct {
	owner store.TokenOwner
	until time.Time
}

// tokenOwner returns the owner of tok: from the cache, else from the
// store (store.ErrNotFound for an unknown or expired token).
func (s *Server) tokenOwner(ctx context.Context, tok string) (store.TokenOwner, error) {
	h := instance.TokenHash(tok)
	key := [32]byte(h)
	now := time.Now()
	c := &s.tokens
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.owner, nil
	}
	owner, err := s.st.InstanceByToken(ctx, h)
	if err != nil {
		return store.TokenOwner{}, err
	}
	until := now.Add(tokenTTL)
	if owner.ExpiresAt.Before(until) {
		until = owner.ExpiresAt
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = map[[32]byte]cachedToken{}
	}
	c.entries[key] = cachedToken{owner, until}
	c.mu.Unlock()
	return owner, nil
}
