package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHTTP_Timeouts: the API closes a connection whose request body
// stalls, and a keep-alive connection left idle, after its timeouts
// (ZIMPORT_HTTP_READ_TIMEOUT, ZIMPORT_HTTP_IDLE_TIMEOUT), so that nobody,
// with or without a token, can hold connections open for ever.
func TestHTTP_Timeouts(t *testing.T) {
	s := newStack(t, "ZIMPORT_HTTP_READ_TIMEOUT=1s", "ZIMPORT_HTTP_IDLE_TIMEOUT=1s")
	addr := strings.TrimPrefix(s.apiURL, "http://")
	// closed reports whether the server closes conn (after answering or
	// not) before the test gives up; it never takes longer than 60 s.
	closed := func(conn net.Conn) bool {
		conn.SetReadDeadline(time.Now().Add(60 * time.Second)) //nolint:errcheck
		_, err := io.Copy(io.Discard, conn)
		var ne net.Error
		return err == nil || !(errors.As(err, &ne) && ne.Timeout())
	}

	t.Run("stalled body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /import HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: 100000\r\n\r\n{\"dataOrgs\":", addr, systemToken)
		if !closed(conn) {
			t.Error("a request whose body stalls keeps its connection")
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v %v", resp, err)
		}
		resp.Body.Close()
		if !closed(conn) {
			t.Error("an idle keep-alive connection stays open")
		}
	})

	// Normal requests are not cut.
	if code, b := s.do("GET", "/healthz", "", nil); code != http.StatusOK {
		t.Errorf("healthz = %d %s", code, b)
	}
}
