// Package safedial keeps outbound requests (signed webhooks, group robots)
// away from the machine itself and from internal networks (SPEC §7.5).
//
// The check runs in the dialer's Control function, on the address actually
// being connected to after DNS resolution, so a name that resolves (or
// re-resolves, DNS rebinding) to 127.0.0.1 or 169.254.169.254 is refused as
// surely as the literal address. Literal targets can also be refused up
// front with CheckHost, for a clear answer when a subscription is created.
package safedial

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden marks a connection refused because its address is not public.
var ErrForbidden = errors.New("safedial: target address is not public")

// blocked are the ranges outbound requests never reach by default.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this network", incl. unspecified 0.0.0.0
		"10.0.0.0/8",     // RFC 1918
		"100.64.0.0/10",  // carrier-grade NAT (RFC 6598)
		"127.0.0.0/8",    // loopback
		"169.254.0.0/16", // link-local, cloud metadata
		"172.16.0.0/12",  // RFC 1918
		"192.0.0.0/24",   // IETF protocol assignments
		"192.168.0.0/16", // RFC 1918
		"198.18.0.0/15",  // benchmarking
		"224.0.0.0/4",    // multicast
		"240.0.0.0/4",    // reserved, incl. broadcast
		"::/96",          // unspecified, loopback, deprecated IPv4-compatible
		"::1/128",        // loopback
		"64:ff9b:1::/48", // local-use NAT64
		"fc00::/7",       // unique local
		"fe80::/10",      // link-local
		"ff00::/8",       // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Forbidden reports whether ip is loopback, private, link-local,
// unspecified, multicast, CGNAT or otherwise not a public unicast address.
// IPv4-mapped IPv6 forms (::ffff:127.0.0.1) are judged as their IPv4
// address.
func Forbidden(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() {
		return true
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return true
		}
	}
	// Addresses that carry an IPv4 address a gateway would reach: NAT64
	// (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
	if b := ip.As16(); ip.Is6() {
		switch {
		case nat64.Contains(ip.WithZone("")):
			return Forbidden(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip.WithZone("")):
			return Forbidden(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	return false
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// CheckHost judges the host of a URL before anything is sent: "localhost"
// (and its subdomains) and literal addresses Forbidden refuses are
// refused; other names pass, to be checked again at connect time. The
// returned error wraps ErrForbidden.
func CheckHost(host string) error {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: %s", ErrForbidden, host)
	}
	if i := strings.IndexByte(h, '%'); i >= 0 { // fe80::1%eth0
		h = h[:i]
	}
	if ip, err := netip.ParseAddr(h); err == nil && Forbidden(ip) {
		return fmt.Errorf("%w: %s", ErrForbidden, host)
	}
	return nil
}

// Control is a net.Dialer Control function refusing non-public addresses.
func Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	if Forbidden(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbidden, ap.Addr())
	}
	return nil
}

// Dialer returns a dialer that refuses non-public addresses unless
// allowPrivate.
func Dialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = Control
	}
	return d
}

// Transport returns an HTTP transport for outbound requests: no proxy from
// the environment (a proxy would make the connect-time check meaningless),
// and the guarded dialer unless allowPrivate.
func Transport(allowPrivate bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = Dialer(allowPrivate).DialContext
	return t
}

// Client returns an HTTP client that follows no redirects and, unless
// allowPrivate, never connects to non-public addresses.
func Client(allowPrivate bool) *http.Client {
	return &http.Client{
		Transport:     Transport(allowPrivate),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
