// Package realip tells who made an HTTP request when kontor runs behind
// reverse proxies (a load balancer, a TLS terminator): the address the
// connection came from, unless that address is one of the operator's
// trusted proxies, in which case the proxies' X-Forwarded-For list names
// the client. Only trusted proxies are believed, so a client cannot choose
// the address that rate limits and sign-in lockouts count it under by
// sending the header itself.
package realip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies is the set of networks whose connections are trusted proxies.
// The zero value trusts none: every request is its connection's address.
type Proxies struct {
	nets []netip.Prefix
}

// Parse reads a comma-separated list of networks (CIDR, or a single
// address) of trusted proxies; an empty list trusts none.
func Parse(list string) (Proxies, error) {
	var p Proxies
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return Proxies{}, fmt.Errorf("trusted proxy %q is not an address or a network (CIDR)", f)
			}
			p.nets = append(p.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		n, err := netip.ParsePrefix(f)
		if err != nil {
			return Proxies{}, fmt.Errorf("trusted proxy %q is not an address or a network (CIDR)", f)
		}
		if n.Addr().Is4In6() {
			n = netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-96)
		}
		p.nets = append(p.nets, n.Masked())
	}
	return p, nil
}

// Trusts says whether a is one of the trusted proxies.
func (p Proxies) Trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Peer is the address of the connection r came on (zero when RemoteAddr
// is not an address, as in some tests).
func Peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// Client is the address of who made r: the connection's, or, when that
// is a trusted proxy, the nearest address in X-Forwarded-For (read from
// the right, past the trusted proxies) that is not a trusted proxy. A
// malformed entry ends the walk at the last trusted hop, whose word it
// is: what lies left of it may be made up.
func (p Proxies) Client(r *http.Request) netip.Addr {
	a := Peer(r)
	if !a.IsValid() || !p.Trusts(a) {
		return a
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			h, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return a
			}
			a = h.Unmap()
			if !p.Trusts(a) {
				return a
			}
		}
	}
	return a
}

// ClientString is Client as text, or RemoteAddr as it is when that holds
// no address.
func (p Proxies) ClientString(r *http.Request) string {
	if a := p.Client(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// Secure says whether the client reached kontor over TLS: the connection
// is TLS, or a trusted proxy says with X-Forwarded-Proto that it took the
// request over https.
func (p Proxies) Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if a := Peer(r); !a.IsValid() || !p.Trusts(a) {
		return false
	}
	proto := r.Header.Get("X-Forwarded-Proto")
	if i := strings.LastIndexByte(proto, ','); i >= 0 {
		proto = proto[i+1:] // the nearest proxy's word
	}
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
