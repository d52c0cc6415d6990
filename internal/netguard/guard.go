package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is in the chain of every error of a connection a Guard
// refused.
var ErrRefused = errors.New("not a public address")

// RefusedError is a connection a Guard refused. Its text names the host
// as it was asked for (the URL's name or literal), never what a name
// resolved to: the business that chose the URL learns nothing of the
// operator's network from it.
type RefusedError struct {
	Host string // host or host:port as dialed
	Addr netip.Addr
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: not a public address, and the operator does not allow its network", e.Host)
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Guard decides which addresses may be connected to: public ones and
// those in its allow list. Make one with New; it is safe for concurrent
// use.
type Guard struct {
	allow  []netip.Prefix
	dialer *net.Dialer
}

// New returns a Guard that also allows the networks in allow.
func New(allow []netip.Prefix) *Guard {
	g := &Guard{}
	for _, p := range allow {
		g.allow = append(g.allow, p.Masked())
	}
	g.dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	return g
}

// Allowed says whether a connection to a may be made.
func (g *Guard) Allowed(a netip.Addr) bool {
	a = a.WithZone("")
	for _, p := range g.allow {
		if p.Contains(a) || p.Contains(a.Unmap()) {
			return true
		}
	}
	return Public(a)
}

// control refuses, for each address a dial tries, one that is not
// allowed: address is the resolved ip:port.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: %q is not an address: %w", address, ErrRefused)
	}
	if !g.Allowed(ap.Addr()) {
		return &RefusedError{Host: address, Addr: ap.Addr()}
	}
	return nil
}

// DialContext dials as net.Dialer does, refusing every address that is
// not allowed (each one the name resolves to is tried, as usual).
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := g.dialer.DialContext(ctx, network, address)
	if err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			return nil, &RefusedError{Host: address, Addr: re.Addr}
		}
		return nil, err
	}
	return c, nil
}

// Transport returns a new transport like http.DefaultTransport whose
// connections the Guard checks, and which uses no proxy.
func (g *Guard) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = g.DialContext
	return tr
}

// Client returns a client over a new Transport with timeout (0: none).
// It follows redirects as http.Client does; each one's connection is
// checked like the first.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: g.Transport(), Timeout: timeout}
}

// CheckURL refuses at once a URL whose host is an IP address that is not
// allowed; a name is only checked when it is dialed (its address may
// change). Other malformed URLs are the caller's to refuse.
func (g *Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	host := u.Hostname()
	a, err := netip.ParseAddr(strings.Replace(host, "%25", "%", 1))
	if err != nil {
		return nil
	}
	if !g.Allowed(a) {
		return &RefusedError{Host: host, Addr: a}
	}
	return nil
}

// Public says whether a is a public unicast address: none of the
// special-purpose ranges below, also when a is an IPv6 form of an IPv4
// address (mapped, translated, NAT64, 6to4) that is in one of them.
func Public(a netip.Addr) bool { return What(a) == "" }

// What names the special-purpose range a is in ("" when it is public).
func What(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if !a.IsValid() {
		return "not an address"
	}
	if a.Is6() {
		if v4, ok := embedded(a); ok {
			if w := What(v4); w != "" {
				return w + " (in IPv6)"
			}
		}
	}
	for _, s := range special {
		if s.p.Contains(a) {
			return s.what
		}
	}
	return ""
}

// embedded returns the IPv4 address inside the IPv6 forms that carry one
// to an IPv4 host: IPv4-translated (::ffff:0:a.b.c.d), NAT64
// (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::/48). (IPv4-mapped
// addresses are unmapped before; IPv4-compatible ::a.b.c.d is refused
// whole.)
func embedded(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case translated.Contains(a), nat64.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

var (
	translated = netip.MustParsePrefix("::ffff:0:0:0/96")
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// special is every range that is not public unicast (IANA's IPv4 and IPv6
// special-purpose address registries, the parts that are not globally
// reachable, and multicast).
var special = func() []struct {
	p    netip.Prefix
	what string
} {
	rs := []struct{ prefix, what string }{
		{"0.0.0.0/8", "this network (0.0.0.0/8)"},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay anycast (deprecated)"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "benchmarking (198.18.0.0/15)"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved (240.0.0.0/4, broadcast)"},
		{"::/96", "unspecified, loopback or IPv4-compatible (::/96)"},
		{"64:ff9b:1::/48", "local NAT64 (64:ff9b:1::/48)"},
		{"100::/64", "discard-only (100::/64)"},
		{"2001::/32", "Teredo (2001::/32)"},
		{"2001:2::/48", "benchmarking (2001:2::/48)"},
		{"2001:db8::/32", "documentation"},
		{"fc00::/7", "unique-local (fc00::/7)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local (deprecated)"},
		{"ff00::/8", "multicast"},
	}
	out := make([]struct {
		p    netip.Prefix
		what string
	}, len(rs))
	for i, r := range rs {
		out[i].p, out[i].what = netip.MustParsePrefix(r.prefix), r.what
	}
	return out
}()

// ParseNetworks reads a comma-separated list of CIDRs (or single
// addresses, taken as /32 or /128), the form of --allow-networks.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a network (CIDR, like 10.1.0.0/16) nor an address", f)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network (CIDR, like 10.1.0.0/16 or fd00::/8)", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
