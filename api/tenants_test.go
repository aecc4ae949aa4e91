package api

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTenantCounter(t *testing.T) {
	c := tenantCounter{max: 2}
	if !c.acquire("a") || !c.acquire("a") || c.acquire("a") {
		t.Fatal("a: want 2 admitted, the third refused")
	}
	if !c.acquire("b") {
		t.Fatal("b is refused for a's load")
	}
	c.release("a")
	if !c.acquire("a") {
		t.Fatal("a: a released place is not reused")
	}
	c.release("a")
	c.release("a")
	c.release("b")
	if len(c.n) != 0 {
		t.Errorf("counts left: %v", c.n)
	}
}

func TestTenantSlots(t *testing.T) {
	s := tenantSlots{max: 1}
	ctx := context.Background()
	if err := s.acquire(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.acquire(ctx, "b"); err != nil {
		t.Fatalf("b waits for a's slot: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.acquire(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a's second slot: %v, want a wait that ends with the context", err)
	}
	got := make(chan error)
	go func() { got <- s.acquire(ctx, "a") }()
	s.release("a")
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	s.release("a")
	s.release("b")
	if len(s.sem) != 0 {
		t.Errorf("semaphores left: %d", len(s.sem))
	}
}
