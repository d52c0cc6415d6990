package realip

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		list    string
		wantErr bool
		trusts  []string
		not     []string
	}{
		{"", false, nil, []string{"127.0.0.1", "10.0.0.1"}},
		{"127.0.0.1", false, []string{"127.0.0.1", "::ffff:127.0.0.1"}, []string{"127.0.0.2"}},
		{" 10.0.0.0/8 , ::1 ", false, []string{"10.1.2.3", "::1"}, []string{"11.0.0.1", "::2"}},
		{"10.1.2.3/8", false, []string{"10.200.0.1"}, []string{"192.168.0.1"}},
		{"::ffff:10.0.0.0/104", false, []string{"10.9.9.9"}, []string{"11.0.0.0"}},
		{"fd00::/8", false, []string{"fd12::1"}, []string{"fe80::1"}},
		{"localhost", true, nil, nil},
		{"10.0.0.0/33", true, nil, nil},
		{"10.0.0.1,", false, []string{"10.0.0.1"}, nil},
	} {
		p, err := Parse(c.list)
		if (err != nil) != c.wantErr {
			t.Fatalf("Parse(%q) error %v, want error %v", c.list, err, c.wantErr)
		}
		for _, a := range c.trusts {
			if !p.Trusts(mustAddr(t, a)) {
				t.Errorf("Parse(%q) does not trust %s", c.list, a)
			}
		}
		for _, a := range c.not {
			if p.Trusts(mustAddr(t, a)) {
				t.Errorf("Parse(%q) trusts %s", c.list, a)
			}
		}
	}
}

func TestClient(t *testing.T) {
	p, err := Parse("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"no proxy", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted proxy names the client", "10.0.0.2:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a client's own entry left of the real one is ignored", "10.0.0.2:443", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "127.0.0.1:80", []string{"198.51.100.1, 10.0.0.9", "10.0.0.3"}, "198.51.100.1"},
		{"only proxies: the farthest", "10.0.0.2:443", []string{"10.0.0.5"}, "10.0.0.5"},
		{"trusted proxy without the header", "10.0.0.2:443", nil, "10.0.0.2"},
		{"garbage stops at the last trusted hop", "10.0.0.2:443", []string{"198.51.100.1, nonsense"}, "10.0.0.2"},
		{"IPv6 client", "10.0.0.2:443", []string{"2001:db8::1"}, "2001:db8::1"},
		{"mapped peer", "[::ffff:10.0.0.2]:443", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = c.remote
			for _, h := range c.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := p.ClientString(r); got != c.want {
				t.Fatalf("client %s, want %s", got, c.want)
			}
		})
	}
	var none Proxies
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.2:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := none.ClientString(r); got != "10.0.0.2" {
		t.Fatalf("no trusted proxies: client %s, want the peer", got)
	}
	r.RemoteAddr = "pipe"
	if got := p.ClientString(r); got != "pipe" {
		t.Fatalf("no address: %s", got)
	}
}

func TestSecure(t *testing.T) {
	p, _ := Parse("10.0.0.0/8")
	for _, c := range []struct {
		remote, proto string
		tls, want     bool
	}{
		{"203.0.113.7:1", "", true, true},
		{"203.0.113.7:1", "https", false, false}, // not a proxy of ours
		{"10.0.0.2:1", "https", false, true},
		{"10.0.0.2:1", "HTTPS", false, true},
		{"10.0.0.2:1", "http", false, false},
		{"10.0.0.2:1", "https, http", false, false}, // the nearest proxy took http
		{"10.0.0.2:1", "", false, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := p.Secure(r); got != c.want {
			t.Errorf("%s proto %q tls %v: secure %v, want %v", c.remote, c.proto, c.tls, got, c.want)
		}
	}
}

func FuzzClient(f *testing.F) {
	f.Add("10.0.0.2:443", "198.51.100.1, 10.0.0.3")
	f.Add("[::1]:1", "::ffff:1.2.3.4,,x")
	p, _ := Parse("10.0.0.0/8, ::1")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		a := p.Client(r)
		// An untrusted or unparsable peer is never replaced by the header.
		if peer := Peer(r); !peer.IsValid() || !p.Trusts(peer) {
			if a != peer {
				t.Fatalf("peer %v replaced by %v", peer, a)
			}
		}
	})
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
