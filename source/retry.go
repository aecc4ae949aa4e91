package source

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// maxAttempts is how often one read is tried before a transient error
// counts; the waits between them add up to about 6 s.
const maxAttempts = 6

// firstBackoff is the wait after the first failure; it doubles each time.
var firstBackoff = 200 * time.Millisecond

// transientError marks a storage error that a later attempt may not have
// (a 5xx, throttling), as the backends classify their answers.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// transient reports whether err may go away when the read is tried again:
// an answer the backend marked so, a timeout, a connection that was reset,
// refused or cut short.
func transient(err error) bool {
	var te *transientError
	var se *Error
	var ne net.Error
	switch {
	case errors.As(err, &se), errors.Is(err, ErrChanged),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.As(err, &te), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return true
	case errors.As(err, &ne):
		return ne.Timeout()
	}
	return false
}

// retry runs fn until it succeeds, fails with an error that is not
// transient, or has failed maxAttempts times.
func retry(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !transient(err) || attempt >= maxAttempts-1 {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// backoff waits before attempt+1: firstBackoff doubled attempt times, with
// a quarter of jitter, or until ctx ends.
func backoff(ctx context.Context, attempt int) error {
	d := firstBackoff << attempt
	d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stallTimeout is how long a read may wait for the next bytes before the
// connection counts as stalled: it is closed, and the read is retried
// (a stream resumes where it stopped).
var stallTimeout = 60 * time.Second

// errStalled is a read that got no bytes for stallTimeout.
var errStalled = errors.New("the storage sent nothing for too long")

// openWatched opens [start, end) of v like obj.open, and closes the reader
// when a Read waits longer than stallTimeout, so that a server that stops
// sending cannot hold a split or a unit for ever.
func openWatched(ctx context.Context, obj Object, v Version, start, end int64) (*watchedReader, error) {
	r, err := obj.open(ctx, v, start, end)
	if err != nil {
		return nil, err
	}
	w := &watchedReader{r: r}
	w.timer = time.AfterFunc(stallTimeout, w.stall)
	return w, nil
}

type watchedReader struct {
	r       io.ReadCloser
	timer   *time.Timer
	stalled atomic.Bool
}

func (w *watchedReader) stall() {
	w.stalled.Store(true)
	w.r.Close()
}

func (w *watchedReader) Read(p []byte) (int, error) {
	// Only the time spent waiting inside Read counts, not the reader's
	// consumer's time between reads.
	w.timer.Reset(stallTimeout)
	n, err := w.r.Read(p)
	w.timer.Stop()
	if err != nil && w.stalled.Load() {
		return n, &transientError{errStalled}
	}
	return n, err
}

func (w *watchedReader) Close() error {
	w.timer.Stop()
	if w.stalled.Load() {
		return nil
	}
	return w.r.Close()
}

// verify passes the check of a local reader on.
func (w *watchedReader) verify() error {
	if v, ok := w.r.(verifier); ok {
		return v.verify()
	}
	return nil
}
