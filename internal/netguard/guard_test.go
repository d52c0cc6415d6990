package netguard_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/netguard"
)

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		// Public.
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"93.184.216.34", true},
		{"100.63.255.255", true}, // just below carrier-grade NAT
		{"100.128.0.0", true},    // just above it
		{"172.15.255.255", true}, // just below 172.16/12
		{"172.32.0.0", true},     // just above it
		{"169.253.255.255", true},
		{"223.255.255.255", true},
		{"2001:4860:4860::8888", true},
		{"2606:4700:4700::1111", true},
		{"64:ff9b::808:808", true},  // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},   // 6to4 of 8.8.8.8
		{"::ffff:0:808:808", true},  // IPv4-translated 8.8.8.8
		{"::ffff:8.8.8.8", true},    // IPv4-mapped 8.8.8.8
		{"2a00:1450:4001::1", true}, // outside 2001::/23's special parts

		// IPv4 special ranges.
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"169.254.169.254", false}, // cloud metadata
		{"169.254.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.170", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},

		// IPv6 special ranges.
		{"::", false},
		{"::1", false},
		{"::7f00:1", false}, // IPv4-compatible
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"febf:ffff::1", false},
		{"fec0::1", false},
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		{"ff02::1", false},
		{"ff05::2", false},
		{"100::1", false},
		{"2001:db8::1", false},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false}, // Teredo
		{"2001:2::1", false},
		{"64:ff9b:1::1", false},

		// IPv6 forms of IPv4 special addresses.
		{"::ffff:127.0.0.1", false},
		{"::ffff:7f00:1", false},
		{"::ffff:10.1.2.3", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:100.64.0.1", false},
		{"::ffff:0.0.0.0", false},
		{"::ffff:192.168.0.1", false},
		{"::ffff:0:127.0.0.1", false}, // IPv4-translated
		{"64:ff9b::7f00:1", false},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"2002:7f00:1::1", false},     // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", false},   // 6to4 of 192.168.1.1
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := netguard.Public(a); got != tc.public {
			t.Errorf("Public(%s) = %v (%q), want %v", tc.addr, got, netguard.What(a), tc.public)
		}
	}
	if netguard.Public(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

// TestPublicAgreesWithNetip checks random addresses against the standard
// library's own classes: none of them may be public.
func TestPublicAgreesWithNetip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	prefixes := []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "224.0.0.0/4",
		"fc00::/7", "fe80::/10", "ff00::/8", "::ffff:127.0.0.0/104", "::ffff:10.0.0.0/104", "::/120"}
	for i := 0; i < 20000; i++ {
		var a netip.Addr
		if i%2 == 0 {
			var b [4]byte
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			a = netip.AddrFrom4(b)
		} else {
			// Random bits inside one of the special prefixes.
			p := netip.MustParsePrefix(prefixes[r.IntN(len(prefixes))])
			b := p.Addr().As16()
			off := 0
			if p.Addr().Is4() {
				off = 12
			}
			for bit := p.Bits(); bit < p.Addr().BitLen(); bit++ {
				if r.IntN(2) == 1 {
					b[off+bit/8] |= 0x80 >> (bit % 8)
				}
			}
			a = netip.AddrFrom16(b)
			if p.Addr().Is4() {
				a = a.Unmap()
			}
		}
		u := a.Unmap()
		special := u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() ||
			u.IsInterfaceLocalMulticast() || u.IsMulticast() || u.IsUnspecified()
		if special && netguard.Public(a) {
			t.Fatalf("%s is special to netip but Public", a)
		}
		if !special && u.IsGlobalUnicast() && !netguard.Public(a) && netguard.What(a) == "" {
			t.Fatalf("%s is refused without a reason", a)
		}
	}
}

func TestAllowed(t *testing.T) {
	g := netguard.New(mustNetworks(t, "127.0.0.0/8, 10.20.0.0/16,fd00:1::/32"))
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"127.3.4.5", true},
		{"::ffff:127.0.0.1", true}, // the IPv4 network covers its mapped form
		{"10.20.30.40", true},
		{"10.21.0.1", false},
		{"fd00:1:2::3", true},
		{"fd00:2::1", false},
		{"::1", false}, // not listed
		{"169.254.169.254", false},
		{"8.8.8.8", true}, // public stays allowed
	} {
		if got := g.Allowed(netip.MustParseAddr(tc.addr)); got != tc.ok {
			t.Errorf("Allowed(%s) = %v, want %v", tc.addr, got, tc.ok)
		}
	}
	if netguard.New(nil).Allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty allow list allows loopback")
	}
}

func TestParseNetworks(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"", "", ""},
		{" , ", "", ""},
		{"127.0.0.0/8", "127.0.0.0/8", ""},
		{"127.0.0.1/8", "127.0.0.0/8", ""},
		{"10.0.0.0/8,::1", "10.0.0.0/8 ::1/128", ""},
		{"192.168.7.7", "192.168.7.7/32", ""},
		{"fd00::/8 , 100.64.0.0/10", "fd00::/8 100.64.0.0/10", ""},
		{"10.0.0.0/33", "", "is not a network"},
		{"intranet", "", "neither a network"},
		{"10.0.0.0/8;", "", "is not a network"},
	} {
		ps, err := netguard.ParseNetworks(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseNetworks(%q) = %v, %v; want an error with %q", tc.in, ps, err, tc.err)
			}
			continue
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("ParseNetworks(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	g := netguard.New(mustNetworks(t, "10.9.0.0/16"))
	for _, tc := range []struct {
		url     string
		refused bool
	}{
		{"https://example.com/hook", false},
		{"http://localhost:8080/hook", false}, // a name: checked when dialed
		{"https://8.8.8.8/hook", false},
		{"http://127.0.0.1:9000/hook", true},
		{"http://[::1]/hook", true},
		{"http://[::ffff:127.0.0.1]/hook", true},
		{"http://[fe80::1%25eth0]/hook", true},
		{"http://169.254.169.254/latest/meta-data/", true},
		{"http://192.168.0.10/hook", true},
		{"http://10.9.1.2/hook", false}, // allowed network
		{"http://10.10.1.2/hook", true},
		{"http://0.0.0.0:80/", true},
	} {
		err := g.CheckURL(tc.url)
		if (err != nil) != tc.refused {
			t.Errorf("CheckURL(%s) = %v, want refused %v", tc.url, err, tc.refused)
		}
		if err != nil && !errors.Is(err, netguard.ErrRefused) {
			t.Errorf("CheckURL(%s) = %v, not ErrRefused", tc.url, err)
		}
	}
}

func TestDialRefusesAfterResolution(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "secret") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed := netguard.New(nil).Client(0)
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		resp, err := closed.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s with the default guard: HTTP %d, want a refusal", u, resp.StatusCode)
		}
		if !errors.Is(err, netguard.ErrRefused) {
			t.Fatalf("GET %s: %v, not ErrRefused", u, err)
		}
		if strings.Contains(u, "localhost") && strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("the refusal of a name shows what it resolved to: %v", err)
		}
	}
	open := netguard.New(mustNetworks(t, "127.0.0.0/8")).Client(0)
	resp, err := open.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s with loopback allowed: %v", srv.URL, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "secret" {
		t.Fatalf("GET %s with loopback allowed: %q", srv.URL, b)
	}
}

// TestRedirectToPrivateRefused: an allowed server (127.0.0.1 stands for a
// public one) redirects to an address outside the allow list (127.0.0.2
// stands for the private network); the redirect's connection is refused.
func TestRedirectToPrivateRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no listener on 127.0.0.2 here: %v", err)
	}
	inner := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "metadata") }))
	inner.Listener.Close()
	inner.Listener = ln
	inner.Start()
	defer inner.Close()
	outer := httptest.NewServer(http.RedirectHandler(inner.URL+"/latest/meta-data/", http.StatusFound))
	defer outer.Close()

	g := netguard.New(mustNetworks(t, "127.0.0.1/32"))
	resp, err := g.Client(0).Get(outer.URL)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("the redirect to %s was followed: HTTP %d %q", inner.URL, resp.StatusCode, b)
	}
	if !errors.Is(err, netguard.ErrRefused) {
		t.Fatalf("GET %s: %v, want the redirect refused", outer.URL, err)
	}
	// Both allowed: the same redirect is followed.
	resp, err = netguard.New(mustNetworks(t, "127.0.0.1/32,127.0.0.2/32")).Client(0).Get(outer.URL)
	if err != nil {
		t.Fatalf("with both allowed: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "metadata" {
		t.Fatalf("with both allowed: %q", b)
	}
}

func TestTransportIgnoresProxy(t *testing.T) {
	if tr := netguard.New(nil).Transport(); tr.Proxy != nil || tr.DialContext == nil {
		t.Fatal("the guarded transport may use a proxy, or dials unguarded")
	}
	// DialContext itself refuses too (the webhook deliverer dials with it).
	_, err := netguard.New(nil).DialContext(context.Background(), "tcp", "127.0.0.1:1")
	if !errors.Is(err, netguard.ErrRefused) {
		t.Fatalf("DialContext 127.0.0.1:1: %v", err)
	}
}

func mustNetworks(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	ps, err := netguard.ParseNetworks(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// BenchmarkAllowed is the check each dial of a guarded connection makes.
func BenchmarkAllowed(b *testing.B) {
	g := netguard.New(mustNetworksB(b, "10.8.0.0/16,fd00:1::/32"))
	addrs := []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("2606:4700:4700::1111"),
		netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::ffff:10.8.1.1")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Allowed(addrs[i%len(addrs)])
	}
}

func mustNetworksB(b *testing.B, s string) []netip.Prefix {
	ps, err := netguard.ParseNetworks(s)
	if err != nil {
		b.Fatal(err)
	}
	return ps
}
