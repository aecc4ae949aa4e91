// Package batch groups concurrent calls into batches ("smart batching"):
// the calls made under the same key while a batch of that key runs form
// the next batch, so that a burst of small writes costs a few transactions
// instead of one each, and a lone call never waits for company.
package batch

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Result is the outcome of one call.
type Result[R any] struct {
	V   R
	Err error
}

// Func runs a batch: it returns one result per item, in the items' order.
// Its error fails every call of the batch.
type Func[K comparable, T, R any] func(ctx context.Context, key K, items []T) ([]Result[R], error)

// Batcher runs the calls of each key in batches of at most MaxSize items,
// with at most MaxRunning batches of a key at once.
type Batcher[K comparable, T, R any] struct {
	fn         Func[K, T, R]
	maxSize    int
	maxRunning int
	timeout    time.Duration

	mu   sync.Mutex
	keys map[K]*queue[T, R]
}

type call[T, R any] struct {
	ctx  context.Context
	item T
	done chan Result[R]
}

// queue is the calls of a key that wait, and how many batches of the key run.
type queue[T, R any] struct {
	calls   []*call[T, R]
	running int
}

// New returns a batcher that runs batches of at most maxSize items with
// fn, at most maxRunning at once per key, each within timeout.
func New[K comparable, T, R any](fn Func[K, T, R], maxSize, maxRunning int, timeout time.Duration) *Batcher[K, T, R] {
	return &Batcher[K, T, R]{fn: fn, maxSize: max(maxSize, 1), maxRunning: max(maxRunning, 1), timeout: timeout,
		keys: map[K]*queue[T, R]{}}
}

// Do runs item in a batch of key and returns its result. When ctx ends
// before the item's batch starts, the item is left out and Do returns
// ctx's error; once the batch has started, the item is run to its end
// whatever ctx does, and Do returns ctx's error if it ends first.
func (b *Batcher[K, T, R]) Do(ctx context.Context, key K, item T) (R, error) {
	c := &call[T, R]{ctx: ctx, item: item, done: make(chan Result[R], 1)}
	b.mu.Lock()
	q := b.keys[key]
	if q == nil {
		q = &queue[T, R]{}
		b.keys[key] = q
	}
	q.calls = append(q.calls, c)
	if q.running < b.maxRunning {
		q.running++
		go b.run(key, q)
	}
	b.mu.Unlock()
	select {
	case r := <-c.done:
		return r.V, r.Err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

// run runs the batches of key until no call waits.
func (b *Batcher[K, T, R]) run(key K, q *queue[T, R]) {
	for {
		b.mu.Lock()
		var calls []*call[T, R]
		for len(q.calls) > 0 && len(calls) < b.maxSize {
			c := q.calls[0]
			q.calls[0] = nil
			q.calls = q.calls[1:]
			if err := c.ctx.Err(); err != nil {
				c.done <- Result[R]{Err: err}
				continue
			}
			calls = append(calls, c)
		}
		if len(calls) == 0 {
			q.running--
			if q.running == 0 && len(q.calls) == 0 {
				delete(b.keys, key)
			}
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.runBatch(key, calls)
	}
}

// runBatch runs one batch and hands each call its result.
func (b *Batcher[K, T, R]) runBatch(key K, calls []*call[T, R]) {
	items := make([]T, len(calls))
	for i, c := range calls {
		items[i] = c.item
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	results, err := b.call(ctx, key, items)
	if err == nil && len(results) != len(items) {
		err = fmt.Errorf("batch: %d results for %d items", len(results), len(items))
	}
	for i, c := range calls {
		if err != nil {
			c.done <- Result[R]{Err: err}
		} else {
			c.done <- results[i]
		}
	}
}

// call runs fn, turning a panic into an error.
func (b *Batcher[K, T, R]) call(ctx context.Context, key K, items []T) (results []Result[R], err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("batch: panic: %v\n%s", p, debug.Stack())
		}
	}()
	return b.fn(ctx, key, items)
}
