package api

import (
	"context"
	"net/http"
	"sync"
)

// Bounds of POST /users/human/_import per instance, so that no tenant can
// take the API's connections, its database pool or its bcrypt workers from
// the others.
const (
	// maxUserRequests is the most requests of an instance in flight;
	// more are 429.
	maxUserRequests = 256
	// maxPlainRequests is the most requests of an instance with a plain
	// password in flight (each waits for a bcrypt worker); more are 429.
	maxPlainRequests = 16
	// maxUserTransactions is the most transactions of an instance's users
	// at once; batches and single users wait for one.
	maxUserTransactions = 4
)

// tenantCounter counts what each instance has in flight, up to a bound.
type tenantCounter struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// acquire counts one more for instance, false when it has max already.
func (c *tenantCounter) acquire(instance string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[instance] >= c.max {
		return false
	}
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[instance]++
	return true
}

func (c *tenantCounter) release(instance string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[instance]--; c.n[instance] <= 0 {
		delete(c.n, instance)
	}
}

// tenantSlots is a semaphore of max slots per instance.
type tenantSlots struct {
	max int
	mu  sync.Mutex
	sem map[string]*slots
}

type slots struct {
	ch   chan struct{}
	refs int // holders and waiters
}

// acquire waits for a slot of instance, or for ctx to end.
func (t *tenantSlots) acquire(ctx context.Context, instance string) error {
	t.mu.Lock()
	s := t.sem[instance]
	if s == nil {
		if t.sem == nil {
			t.sem = map[string]*slots{}
		}
		s = &slots{ch: make(chan struct{}, t.max)}
		t.sem[instance] = s
	}
	s.refs++
	t.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		t.drop(instance, s)
		return ctx.Err()
	}
}

// release frees a slot that acquire gave.
func (t *tenantSlots) release(instance string) {
	t.mu.Lock()
	s := t.sem[instance]
	t.mu.Unlock()
	<-s.ch
	t.drop(instance, s)
}

func (t *tenantSlots) drop(instance string, s *slots) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.refs--; s.refs == 0 {
		delete(t.sem, instance)
	}
}

// errTooManyUserRequests is the answer past maxUserRequests or
// maxPlainRequests.
var errTooManyUserRequests = &apiError{status: http.StatusTooManyRequests, code: codeResourceExhausted,
	msg: "too many user imports of this instance in flight; retry later"}
