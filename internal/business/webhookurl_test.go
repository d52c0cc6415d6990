package business_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/netguard"
)

// TestWebhookAddressCheck: a webhook URL whose host is an address the
// platform does not deliver to is refused when it is set (Invalid, before
// any handshake is tried), at creation and later; names and allowed
// networks pass.
func TestWebhookAddressCheck(t *testing.T) {
	ctx := context.Background()
	f := newService(t, time.Now())
	svc, db := f.Service, f.db
	nets, _ := netguard.ParseNetworks("10.20.0.0/16")
	svc.SetAddressCheck(netguard.New(nets).CheckURL)
	var handshakes []string
	svc.SetVerifier(func(_ context.Context, url, _ string) error { handshakes = append(handshakes, url); return nil })

	if _, err := svc.Create(ctx, business.CreateRequest{Name: "Meta", Phone: "+493010001", WebhookURL: "http://169.254.169.254/latest", VerifyToken: "v"}); kontor.KindOf(err) != kontor.Invalid ||
		!strings.Contains(err.Error(), "not a public address") {
		t.Fatalf("creating with a link-local webhook: %v", err)
	}
	b, err := svc.Create(ctx, business.CreateRequest{Name: "Blumen", Phone: "+493010002", WebhookURL: "https://hooks.example/in"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/hook", false},
		{"http://[::1]/hook", false},
		{"http://192.168.1.1/hook", false},
		{"http://10.21.0.5/hook", false},
		{"http://10.20.0.5/hook", true}, // an allowed network
		{"https://intranet.example/hook", true},
		{"http://localhost:9/hook", true}, // a name: refused when dialed
	} {
		handshakes = nil
		err := svc.SetWebhook(ctx, b.WABAID, tc.url, "token")
		if tc.ok != (err == nil) || (err != nil && kontor.KindOf(err) != kontor.Invalid) {
			t.Errorf("SetWebhook(%s) = %v (kind %v), want ok=%v", tc.url, err, kontor.KindOf(err), tc.ok)
		}
		if !tc.ok && len(handshakes) > 0 {
			t.Errorf("SetWebhook(%s) tried the handshake at a refused address", tc.url)
		}
		if err == nil {
			continue
		}
		got, _ := db.Business(ctx, b.WABAID)
		if got.WebhookURL == tc.url {
			t.Errorf("SetWebhook(%s) refused but stored it", tc.url)
		}
	}
}
