package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // String() of the result
	}{
		{name: "empty", in: "", want: ""},
		{name: "only separators", in: " , ,", want: ""},
		{name: "host", in: "minio.internal", want: "minio.internal"},
		{name: "host and port", in: "minio.internal:9000", want: "minio.internal:9000"},
		{name: "suffix", in: "*.storage.example", want: "*.storage.example"},
		{name: "suffix and port", in: "*.storage.example:443", want: "*.storage.example:443"},
		{name: "lower-cased, trailing dot dropped", in: "MinIO.Internal.:9000", want: "minio.internal:9000"},
		{name: "spaces around entries", in: " a.example , b.example:9000 ", want: "a.example,b.example:9000"},
		{name: "IPv4", in: "10.0.0.5:9000", want: "10.0.0.5:9000"},
		{name: "IPv6 with port", in: "[::1]:9000", want: "[::1]:9000"},
		{name: "IPv6 bracketed", in: "[fd12::5]", want: "[fd12::5]"},
		{name: "IPv6 bare", in: "fd12::5", want: "[fd12::5]"},
		{name: "several", in: "a.example,*.b.example,[::1]:9000,c.example:80", want: "a.example,*.b.example,[::1]:9000,c.example:80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAllowList(tt.in)
			if err != nil {
				t.Fatalf("ParseAllowList(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, a.String()); diff != "" {
				t.Errorf("ParseAllowList(%q).String() (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseAllowList_Invalid(t *testing.T) {
	for _, in := range []string{
		"*",
		"*.",
		"*.*.example",
		"a*.example",
		"host:",
		"host:abc",
		"host:-1",
		":9000",
		"[::1",
		"[::1]:",
		"[::1]:x",
		"[]",
		"good.example,bad:port",
	} {
		t.Run(in, func(t *testing.T) {
			a, err := ParseAllowList(in)
			if err == nil {
				t.Fatalf("ParseAllowList(%q) = %q, want an error", in, a)
			}
			if !strings.Contains(err.Error(), "allowed endpoint") {
				t.Errorf("error %q does not say which setting is wrong", err)
			}
		})
	}
}

// TestAllowList_StringRoundTrip checks that String gives what
// ParseAllowList reads back into the same list.
func TestAllowList_StringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"minio.internal:9000,*.example.com,s3.local",
		"[::1]:9000,127.0.0.1,10.1.2.3:80",
		"::1,fe80::1,[fd00::1]",
		"*.a.example:443",
	} {
		t.Run(in, func(t *testing.T) {
			a, err := ParseAllowList(in)
			if err != nil {
				t.Fatalf("ParseAllowList(%q): %v", in, err)
			}
			b, err := ParseAllowList(a.String())
			if err != nil {
				t.Fatalf("ParseAllowList(%q) of String(): %v", a.String(), err)
			}
			if diff := cmp.Diff(a.entries, b.entries, cmp.AllowUnexported(allowEntry{})); diff != "" {
				t.Errorf("round trip of %q (-want +got):\n%s", in, diff)
			}
		})
	}
}

func TestAllowList_CheckEndpoint(t *testing.T) {
	// The dangerous addresses are listed on purpose: listing must not make
	// them reachable.
	list, err := ParseAllowList("minio.internal:9000,*.storage.example,plain.example,127.0.0.1,[::1]:9000," +
		"169.254.169.254,[fe80::1],fd00:ec2::254,metadata.google.internal,0.0.0.0,metadata,instance-data")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		endpoint   string
		wantListed bool
		wantErr    string // substring; "" for no error
	}{
		{endpoint: "", wantListed: false},
		{endpoint: "s3.amazonaws.com", wantListed: false},
		{endpoint: "s3.eu-central-1.amazonaws.com", wantListed: false},
		{endpoint: "s3-eu-west-1.amazonaws.com", wantListed: false},
		{endpoint: "s3.dualstack.us-east-1.amazonaws.com", wantListed: false},
		{endpoint: "s3.cn-north-1.amazonaws.com.cn", wantListed: false},
		{endpoint: "S3.EU-CENTRAL-1.AMAZONAWS.COM.", wantListed: false},
		{endpoint: "minio.internal:9000", wantListed: true},
		{endpoint: "MINIO.internal.:9000", wantListed: true},
		{endpoint: "plain.example", wantListed: true},
		{endpoint: "plain.example:8443", wantListed: true},
		// A *.suffix entry allows the name, but not internal addresses.
		{endpoint: "sub.storage.example", wantListed: false},
		{endpoint: "a.b.storage.example:9000", wantListed: false},
		{endpoint: "127.0.0.1:9000", wantListed: true},
		{endpoint: "[::1]:9000", wantListed: true},

		{endpoint: "minio.internal:9001", wantErr: "not allowed"},
		{endpoint: "minio.internal", wantErr: "not allowed"},
		{endpoint: "[::1]:9001", wantErr: "not allowed"},
		{endpoint: "storage.example", wantErr: "not allowed"},
		{endpoint: "evilstorage.example", wantErr: "not allowed"},
		{endpoint: "sub.plain.example", wantErr: "not allowed"},
		{endpoint: "unlisted.example", wantErr: "not allowed"},
		{endpoint: "10.0.0.1", wantErr: "not allowed"},
		{endpoint: "evil.amazonaws.com", wantErr: "not allowed"},
		{endpoint: "bucket.s3.amazonaws.com", wantErr: "not allowed"},
		{endpoint: "s3.amazonaws.com.evil.example", wantErr: "not allowed"},

		{endpoint: "http://minio.internal:9000", wantErr: "without scheme"},
		{endpoint: "https://s3.amazonaws.com", wantErr: "without scheme"},
		{endpoint: "minio.internal:9000/path", wantErr: "without scheme"},
		{endpoint: "user@minio.internal:9000", wantErr: "without scheme"},
		{endpoint: "minio.internal:9000?x=1", wantErr: "without scheme"},
		{endpoint: "minio.internal:9000#f", wantErr: "without scheme"},
		{endpoint: "minio internal", wantErr: "without scheme"},
		{endpoint: `minio\internal`, wantErr: "without scheme"},
		{endpoint: "minio.internal:port", wantErr: "not a number"},
		{endpoint: "[::1", wantErr: "endpoint"},

		{endpoint: "169.254.169.254", wantErr: "never contacted"},
		{endpoint: "169.254.169.254:80", wantErr: "never contacted"},
		{endpoint: "169.254.1.1", wantErr: "never contacted"},
		{endpoint: "[fe80::1]", wantErr: "never contacted"},
		{endpoint: "[fe80::1]:9000", wantErr: "never contacted"},
		{endpoint: "[fd00:ec2::254]", wantErr: "never contacted"},
		{endpoint: "[fd00:ec2::254]:80", wantErr: "never contacted"},
		{endpoint: "[::ffff:169.254.169.254]", wantErr: "never contacted"},
		{endpoint: "metadata.google.internal", wantErr: "never contacted"},
		{endpoint: "METADATA.GOOGLE.INTERNAL.", wantErr: "never contacted"},
		{endpoint: "metadata.google.internal:80", wantErr: "never contacted"},
		{endpoint: "metadata", wantErr: "never contacted"},
		{endpoint: "instance-data", wantErr: "never contacted"},
		{endpoint: "0.0.0.0", wantErr: "never contacted"},
		{endpoint: "0.0.0.0:9000", wantErr: "never contacted"},
		{endpoint: "[::]", wantErr: "never contacted"},
		{endpoint: "224.0.0.1", wantErr: "never contacted"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			listed, err := list.CheckEndpoint(tt.endpoint)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckEndpoint(%q): %v", tt.endpoint, err)
				}
				if listed != tt.wantListed {
					t.Errorf("CheckEndpoint(%q) listed = %v, want %v", tt.endpoint, listed, tt.wantListed)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckEndpoint(%q) = %v, nil; want an error containing %q", tt.endpoint, listed, tt.wantErr)
			}
			var ee *EndpointError
			if !errors.As(err, &ee) {
				t.Errorf("CheckEndpoint(%q) error %T, want *EndpointError", tt.endpoint, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckEndpoint(%q) error %q, want it to contain %q", tt.endpoint, err, tt.wantErr)
			}
			if listed {
				t.Errorf("CheckEndpoint(%q) listed = true with an error", tt.endpoint)
			}
		})
	}
}

// TestAllowList_CheckEndpoint_Empty checks that with no list only AWS is
// allowed.
func TestAllowList_CheckEndpoint_Empty(t *testing.T) {
	var empty AllowList
	for _, ep := range []string{"", "s3.us-west-2.amazonaws.com"} {
		if listed, err := empty.CheckEndpoint(ep); err != nil || listed {
			t.Errorf("CheckEndpoint(%q) = %v, %v; want false, nil", ep, listed, err)
		}
	}
	for _, ep := range []string{"127.0.0.1:9000", "localhost", "minio.internal"} {
		if _, err := empty.CheckEndpoint(ep); err == nil {
			t.Errorf("CheckEndpoint(%q) with an empty list: no error", ep)
		}
	}
}

// countingServer is an httptest server on 127.0.0.1 that counts the
// requests it answers.
func countingServer(t testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestGuardedClient(t *testing.T) {
	srv, hits := countingServer(t, nil)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("internal refused", func(t *testing.T) {
		c := guardedClient(false)
		defer c.CloseIdleConnections()
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
			t.Fatal("guardedClient(false) reached a loopback server")
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("error %v (%T), want a *Error inside", err, err)
		}
		if !strings.Contains(se.Msg, "127.0.0.1") {
			t.Errorf("message %q does not name the address", se.Msg)
		}
	})

	t.Run("internal allowed when listed", func(t *testing.T) {
		c := guardedClient(true)
		defer c.CloseIdleConnections()
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatalf("guardedClient(true): %v", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d, want 200", resp.StatusCode)
		}
	})

	// localhost is a name: the check must be made on the address it
	// resolves to, when the connection is made.
	t.Run("name resolving to loopback refused", func(t *testing.T) {
		before := hits.Load()
		c := guardedClient(false)
		defer c.CloseIdleConnections()
		resp, err := c.Get("http://localhost:" + port + "/")
		if err == nil {
			resp.Body.Close()
			t.Fatal("guardedClient(false) reached localhost")
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("error %v (%T), want a *Error inside", err, err)
		}
		if got := hits.Load() - before; got != 0 {
			t.Errorf("the server answered %d requests, want 0", got)
		}
	})

	t.Run("no redirects followed", func(t *testing.T) {
		target, targetHits := countingServer(t, nil)
		redirector, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusFound)
		})
		c := guardedClient(true)
		defer c.CloseIdleConnections()
		resp, err := c.Get(redirector.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status %d, want the redirect itself (302)", resp.StatusCode)
		}
		if n := targetHits.Load(); n != 0 {
			t.Errorf("the redirect target answered %d requests, want 0", n)
		}
	})

	t.Run("no proxy", func(t *testing.T) {
		tr, ok := guardedClient(true).Transport.(*http.Transport)
		if !ok {
			t.Fatalf("transport %T, want *http.Transport", guardedClient(true).Transport)
		}
		if tr.Proxy != nil {
			t.Error("the guarded transport uses a proxy, which would connect where the guard cannot see")
		}
	})
}

// TestGuardedDialer checks addresses that no listing makes reachable; the
// guard refuses them before a packet is sent.
func TestGuardedDialer(t *testing.T) {
	for _, allowInternal := range []bool{false, true} {
		d := guardedDialer(allowInternal)
		for _, addr := range []string{"169.254.169.254:80", "169.254.1.1:9000", "0.0.0.0:80", "224.0.0.1:80"} {
			t.Run(fmt.Sprintf("%s internal=%v", addr, allowInternal), func(t *testing.T) {
				c, err := d.DialContext(context.Background(), "tcp", addr)
				if err == nil {
					c.Close()
					t.Fatalf("dial %s succeeded", addr)
				}
				var se *Error
				if !errors.As(err, &se) {
					t.Fatalf("dial %s: %v (%T), want a *Error inside", addr, err, err)
				}
			})
		}
	}
	// Private addresses need the endpoint to be listed; the refusal
	// happens before connecting, so nothing needs to listen there.
	d := guardedDialer(false)
	for _, addr := range []string{"10.0.0.1:9000", "192.168.1.1:80", "172.16.0.1:80", "100.64.0.1:80"} {
		t.Run(addr+" internal=false", func(t *testing.T) {
			c, err := d.DialContext(context.Background(), "tcp", addr)
			if err == nil {
				c.Close()
				t.Fatalf("dial %s succeeded", addr)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("dial %s: %v (%T), want a *Error inside", addr, err, err)
			}
		})
	}
}
