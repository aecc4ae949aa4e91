package source

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// AllowList is the S3 endpoints that requests may name
// (ZIMPORT_S3_ALLOWED_ENDPOINTS): host or host:port entries, "*.suffix"
// for every name under suffix. AWS's own endpoints are always allowed.
type AllowList struct{ entries []allowEntry }

type allowEntry struct {
	host string // lower case; without "*." for a suffix entry
	port string // "" for any port
	// suffix entries match names under host, not host itself.
	suffix bool
}

// ParseAllowList reads a comma-separated allow-list.
func ParseAllowList(s string) (AllowList, error) {
	var a AllowList
	for raw := range strings.SplitSeq(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		host, port, err := splitHostPort(raw)
		if err != nil {
			return AllowList{}, fmt.Errorf("allowed endpoint %q: %w", raw, err)
		}
		e := allowEntry{host: host, port: port}
		if rest, ok := strings.CutPrefix(host, "*."); ok {
			e.host, e.suffix = rest, true
		}
		if e.host == "" || strings.Contains(e.host, "*") {
			return AllowList{}, fmt.Errorf("allowed endpoint %q: want host, host:port or *.suffix", raw)
		}
		a.entries = append(a.entries, e)
	}
	return a, nil
}

// String lists the entries as ParseAllowList reads them.
func (a AllowList) String() string {
	out := make([]string, len(a.entries))
	for i, e := range a.entries {
		h := e.host
		if e.suffix {
			h = "*." + h
		}
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if e.port != "" {
			h += ":" + e.port
		}
		out[i] = h
	}
	return strings.Join(out, ",")
}

// listed reports whether host:port matches an entry.
// listed reports whether host:port matches an entry, and whether that
// entry names the host itself rather than a suffix.
func (a AllowList) listed(host, port string) (matched, exact bool) {
	for _, e := range a.entries {
		if e.port != "" && e.port != port {
			continue
		}
		if !e.suffix && host == e.host {
			return true, true
		}
		if e.suffix && strings.HasSuffix(host, "."+e.host) {
			matched = true
		}
	}
	return matched, false
}

// EndpointError is an S3 endpoint a request may not name.
type EndpointError struct{ Msg string }

func (e *EndpointError) Error() string { return e.Msg }

// CheckEndpoint checks an S3 endpoint as a request gives it (host[:port],
// no scheme; empty for AWS). It returns whether an entry names the host
// itself (not a *.suffix), which alone lets it resolve to loopback and
// private addresses; link-local and cloud metadata addresses are always
// refused.
func (a AllowList) CheckEndpoint(endpoint string) (listed bool, err error) {
	if endpoint == "" {
		return false, nil
	}
	if strings.Contains(endpoint, "://") || strings.ContainsAny(endpoint, "/?#@ \\") {
		return false, &EndpointError{fmt.Sprintf("endpoint %q: want host or host:port, without scheme or path (ssl chooses https)", endpoint)}
	}
	host, port, err := splitHostPort(endpoint)
	if err != nil {
		return false, &EndpointError{fmt.Sprintf("endpoint %q: %v", endpoint, err)}
	}
	if metadataHost(host) {
		return false, &EndpointError{fmt.Sprintf("endpoint %q is a cloud metadata address and is never contacted", endpoint)}
	}
	if ip, err := netip.ParseAddr(host); err == nil && forbiddenIP(ip) {
		return false, &EndpointError{fmt.Sprintf("endpoint %q is a link-local or metadata address and is never contacted", endpoint)}
	}
	if matched, exact := a.listed(host, port); matched {
		return exact, nil
	}
	if awsHost(host) {
		return false, nil
	}
	return false, &EndpointError{fmt.Sprintf("endpoint %q is not allowed; the operator lists the S3 endpoints requests may name in ZIMPORT_S3_ALLOWED_ENDPOINTS", endpoint)}
}

// CanonicalEndpoint returns an endpoint that CheckEndpoint accepted as it
// is to be dialled: the host in lower case, without a trailing dot.
func CanonicalEndpoint(endpoint string) string {
	host, port, err := splitHostPort(endpoint)
	if err != nil || endpoint == "" {
		return endpoint
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return host + ":" + port
	}
	return host
}

// splitHostPort splits host[:port], lower-casing host and dropping IPv6
// brackets and a trailing dot. An IPv6 address may be bracketed without a
// port ("[::1]"), as String writes it.
func splitHostPort(s string) (host, port string, err error) {
	host = s
	if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
		host = strings.TrimSuffix(inner, "]")
	} else if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", "", err
		}
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return "", "", fmt.Errorf("port %q is not a number", port)
		}
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return "", "", fmt.Errorf("the host is missing")
	}
	return host, port, nil
}

// metadataHost reports names of cloud metadata services.
func metadataHost(host string) bool {
	switch host {
	case "metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal":
		return true
	}
	return false
}

// awsHost reports AWS's own S3 endpoints.
func awsHost(host string) bool {
	for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn"} {
		if name, ok := strings.CutSuffix(host, suffix); ok {
			return name == "s3" || strings.HasPrefix(name, "s3.") || strings.HasPrefix(name, "s3-")
		}
	}
	return false
}

// awsEC2Metadata is the IPv6 address of EC2's metadata service.
var awsEC2Metadata = netip.MustParseAddr("fd00:ec2::254")

// forbiddenIP reports addresses never contacted: link-local (169.254.0.0/16
// and fe80::/10, where the metadata services live), EC2's IPv6 metadata
// address, unspecified and multicast addresses.
func forbiddenIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() || ip == awsEC2Metadata
}

// internalIP reports loopback and private addresses, allowed only for
// endpoints listed explicitly.
func internalIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || netip.MustParsePrefix("100.64.0.0/10").Contains(ip)
}

// guardedDialer dials only addresses an endpoint may reach: the check is
// made on the address connected to, after name resolution, so a name that
// resolves to a forbidden address is refused too.
func guardedDialer(allowInternal bool) *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: not an IP address", address)
			}
			if forbiddenIP(ap.Addr()) || !allowInternal && internalIP(ap.Addr()) {
				return &Error{Msg: fmt.Sprintf("the endpoint resolves to %s, an address zimport does not contact", ap.Addr())}
			}
			return nil
		},
	}
}

// guardedClient is an HTTP client whose connections pass guardedDialer. It
// uses no proxy (a proxy would connect where the guard cannot see) and
// follows no redirects.
func guardedClient(allowInternal bool) *http.Client {
	d := guardedDialer(allowInternal)
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
