package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatcher_GroupsCallsThatWait: while a batch of a key runs, the calls
// that come form the next batch, in their order, and each gets its own
// result; a lone call runs at once.
func TestBatcher_GroupsCallsThatWait(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var batches [][]int
	b := New(func(ctx context.Context, key string, items []int) ([]Result[string], error) {
		mu.Lock()
		batches = append(batches, append([]int(nil), items...))
		first := len(batches) == 1
		mu.Unlock()
		if first {
			<-release // hold the first batch until the others wait
		}
		out := make([]Result[string], len(items))
		for i, v := range items {
			out[i] = Result[string]{V: fmt.Sprintf("%s:%d", key, v)}
			if v%5 == 0 {
				out[i] = Result[string]{Err: fmt.Errorf("item %d refused", v)}
			}
		}
		return out, nil
	}, 100, 1, time.Minute)

	first := make(chan string)
	go func() {
		v, _ := b.Do(context.Background(), "org", 0)
		first <- v
	}()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 1 })
	var wg sync.WaitGroup
	results := make([]string, 10)
	errs := make([]error, 10)
	for i := 1; i <= 9; i++ {
		wg.Go(func() { results[i], errs[i] = b.Do(context.Background(), "org", i) })
	}
	waitFor(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.keys["org"].calls) == 9
	})
	close(release)
	wg.Wait()
	<-first
	if len(batches) != 2 || len(batches[1]) != 9 {
		t.Fatalf("batches = %v, want [0] then the 9 others together", batches)
	}
	for i := 1; i <= 9; i++ {
		switch {
		case i%5 == 0 && errs[i] == nil:
			t.Errorf("item %d: no error, want its own", i)
		case i%5 != 0 && (errs[i] != nil || results[i] != fmt.Sprintf("org:%d", i)):
			t.Errorf("item %d = %q, %v", i, results[i], errs[i])
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.keys) != 0 {
		t.Errorf("keys left after the work: %d", len(b.keys))
	}
}

// TestBatcher_KeysAndBounds: keys never share a batch; no batch is larger
// than the bound, and no more run at once per key than allowed.
func TestBatcher_KeysAndBounds(t *testing.T) {
	var running, most atomic.Int32
	var perKey [10]atomic.Int32
	b := New(func(ctx context.Context, key int, items []int) ([]Result[int], error) {
		n := running.Add(1)
		defer running.Add(-1)
		if k := perKey[key].Add(1); k > 2 {
			t.Errorf("%d batches of key %d at once, bound 2", k, key)
		}
		defer perKey[key].Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if len(items) > 3 {
			t.Errorf("batch of %d items, bound 3", len(items))
		}
		out := make([]Result[int], len(items))
		for i, v := range items {
			if v%10 != key {
				t.Errorf("item %d in a batch of key %d", v, key)
			}
			out[i] = Result[int]{V: v * 2}
		}
		time.Sleep(time.Millisecond)
		return out, nil
	}, 3, 2, time.Minute)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			v, err := b.Do(context.Background(), i%10, i)
			if err != nil || v != i*2 {
				t.Errorf("Do(%d) = %d, %v", i, v, err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > 20 {
		t.Errorf("%d batches ran at once, bound 2 per key × 10 keys", m)
	}
}

// TestBatcher_ErrorsAndPanics: an error or a panic of a batch fails its
// calls, and the batcher goes on.
func TestBatcher_ErrorsAndPanics(t *testing.T) {
	b := New(func(ctx context.Context, key string, items []int) ([]Result[int], error) {
		switch key {
		case "error":
			return nil, errors.New("database down")
		case "panic":
			panic("boom")
		case "short":
			return nil, nil
		}
		return []Result[int]{{V: items[0]}}, nil
	}, 1, 1, time.Minute)
	for _, key := range []string{"error", "panic", "short"} {
		if _, err := b.Do(context.Background(), key, 1); err == nil {
			t.Errorf("key %s: no error", key)
		}
	}
	if v, err := b.Do(context.Background(), "ok", 7); err != nil || v != 7 {
		t.Errorf("after failures: %d, %v", v, err)
	}
}

// TestBatcher_CanceledCallsAreLeftOut: a call whose context ends while it
// waits is not run.
func TestBatcher_CanceledCallsAreLeftOut(t *testing.T) {
	release := make(chan struct{})
	var ran []int
	var mu sync.Mutex
	b := New(func(ctx context.Context, key string, items []int) ([]Result[int], error) {
		mu.Lock()
		ran = append(ran, items...)
		mu.Unlock()
		if items[0] == 0 {
			<-release
		}
		return make([]Result[int], len(items)), nil
	}, 10, 1, time.Minute)
	done := make(chan struct{})
	go func() { b.Do(context.Background(), "k", 0); close(done) }() //nolint:errcheck
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { _, err := b.Do(ctx, "k", 1); errc <- err }()
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.keys["k"].calls) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled call: %v", err)
	}
	close(release)
	<-done
	if _, err := b.Do(context.Background(), "k", 2); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(ran) != "[0 2]" {
		t.Errorf("ran %v, want [0 2]: the canceled call left out", ran)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
