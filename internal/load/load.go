// Package load drives an HTTP endpoint with a fixed number of concurrent
// connections for a fixed time and reports the throughput, the latency
// percentiles and the answers by status: the load generator of `zimport
// load` and of the e2e benchmarks.
package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Request is one request to send.
type Request struct {
	Method, URL string
	Header      http.Header
	Body        []byte
}

// Config is a load run.
type Config struct {
	// Connections is the number of concurrent connections, each sending
	// one request after the other. Default 64.
	Connections int
	// Duration is how long requests are sent. Default 20s.
	Duration time.Duration
	// Next returns the n-th request of the run (n counts from 0 across all
	// connections); it is called concurrently.
	Next func(n int) Request
	// Client sends the requests; default a client with Connections idle
	// connections per host.
	Client *http.Client
}

// Report is the outcome of a run.
type Report struct {
	Requests int
	Duration time.Duration
	// Status counts the answers by HTTP status; 0 counts transport errors.
	Status map[int]int
	// P50, P90, P99 and Max are latency percentiles of all requests.
	P50, P90, P99, Max time.Duration
	// FirstError is the first transport error or unexpected answer body, if any.
	FirstError string
}

// RPS is the requests per second.
func (r Report) RPS() float64 { return float64(r.Requests) / r.Duration.Seconds() }

func (r Report) String() string {
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var st []string
	for _, c := range codes {
		st = append(st, fmt.Sprintf("%d×%d", c, r.Status[c]))
	}
	return fmt.Sprintf("%d requests in %s: %.0f requests/s; latency p50 %s, p90 %s, p99 %s, max %s; answers %s",
		r.Requests, r.Duration.Round(time.Millisecond), r.RPS(), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), strings.Join(st, " "))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// Run sends requests until the duration has passed or ctx ends, and
// reports. A request that is still running at the end is waited for and
// counted.
func Run(ctx context.Context, cfg Config) Report {
	if cfg.Connections <= 0 {
		cfg.Connections = 64
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 20 * time.Second
	}
	client := cfg.Client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = cfg.Connections, cfg.Connections
		client = &http.Client{Transport: tr, Timeout: time.Minute}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var (
		mu        sync.Mutex
		next      int
		latencies []time.Duration
		rep       = Report{Status: map[int]int{}}
	)
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Connections {
		wg.Go(func() {
			var mine []time.Duration
			status := map[int]int{}
			var firstErr string
			for ctx.Err() == nil {
				mu.Lock()
				n := next
				next++
				mu.Unlock()
				code, d, msg := send(client, cfg.Next(n))
				mine = append(mine, d)
				status[code]++
				if firstErr == "" {
					firstErr = msg
				}
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, mine...)
			for c, k := range status {
				rep.Status[c] += k
			}
			if rep.FirstError == "" {
				rep.FirstError = firstErr
			}
		})
	}
	wg.Wait()
	rep.Duration = time.Since(start)
	rep.Requests = len(latencies)
	slices.Sort(latencies)
	rep.P50, rep.P90, rep.P99 = percentile(latencies, 0.50), percentile(latencies, 0.90), percentile(latencies, 0.99)
	if len(latencies) > 0 {
		rep.Max = latencies[len(latencies)-1]
	}
	return rep
}

// send sends r and returns the status (0 for a transport error), the
// latency, and the error, or the body of an answer that is not 2xx.
func send(client *http.Client, r Request) (int, time.Duration, string) {
	req, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, 0, err.Error()
	}
	req.Header = r.Header.Clone()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, time.Since(start), err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, d, err.Error()
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, d, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return resp.StatusCode, d, ""
}

// percentile returns the q-quantile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
