package bizapi_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestPrivateAddresses: with kontor's default configuration a business
// can make the platform fetch or POST to no address of the operator's
// network. A media link to loopback (as an address or as a name) is the
// public media download error, 131052, in the send's answer and never
// reaches the server; a webhook URL with a loopback address is refused
// when it is set (400), one with a name fails at delivery and ends a dead
// letter. With the loopback network allowed, the same link is fetched and
// the same webhook URL is delivered to.
func TestPrivateAddresses(t *testing.T) {
	picture := []byte("\x89PNG\r\n\x1a\n tulips")
	var fetches atomic.Int32
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(picture)
	}))
	defer media.Close()
	_, mediaPort, _ := net.SplitHostPort(media.Listener.Addr().String())
	var posts atomic.Int32
	hookSrv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { posts.Add(1) }))
	defer hookSrv.Close()
	_, hookPort, _ := net.SplitHostPort(hookSrv.Listener.Addr().String())

	// sendImage sends a picture by link to Ann, once her first message
	// has opened the window (it reaches the endpoint a moment after her
	// Send returns).
	sendImage := func(t *testing.T, s *kontortest.Server, number, token, link string) (int, map[string]any) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token, map[string]any{
				"messaging_product": "whatsapp", "to": "4915100000001", "type": "image",
				"image": map[string]any{"link": link, "caption": "Tulpen"}})
			if errCode(out) != 131047 || time.Now().After(deadline) {
				return code, out
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	create := func(t *testing.T, s *kontortest.Server, phone, hook string) (int, map[string]any) {
		t.Helper()
		var out map[string]any
		code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Blumen " + phone, "phone": phone, "webhook_url": hook}, &out)
		return code, out
	}

	t.Run("public only", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		clock := &kontortest.Clock{}
		s := kontortest.Start(t, kontortest.PublicOnly(), kontortest.WithClock(clock))

		// A webhook URL with a loopback address: refused when set.
		for _, u := range []string{hookSrv.URL + "/hook", "http://[::1]:" + hookPort + "/hook", "http://169.254.169.254/latest/meta-data/"} {
			code, out := create(t, s, "+4930222220", u)
			e, _ := out["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if code != http.StatusBadRequest || !strings.Contains(msg, "not a public address") {
				t.Fatalf("creating a business with webhook %s: %d %v", u, code, out)
			}
		}
		// A name is accepted (its address may change) and checked at delivery.
		named := "http://localhost:" + hookPort + "/hook"
		code, biz := create(t, s, "+4930222221", named)
		if code != 200 {
			t.Fatalf("creating a business with webhook %s: %d %v", named, code, biz)
		}
		number, token, waba := biz["phone_number_id"].(string), biz["access_token"].(string), biz["waba_id"].(string)
		var out map[string]any
		if code := s.Call(t, http.MethodPost, "/admin/v1/businesses/"+waba+"/webhook", s.Token, map[string]any{"webhook_url": hookSrv.URL}, &out); code != http.StatusBadRequest {
			t.Fatalf("setting webhook %s: %d %v", hookSrv.URL, code, out)
		}

		ann := newPerson(ctx, t, s, "+4915100000001")
		if _, err := ann.c.Send(ctx, "+4930222221", wire.Content{V: 1, Type: wire.ContentText, Text: "Haben Sie Tulpen?"}); err != nil {
			t.Fatal(err)
		}
		// Media links into loopback: the media download error, nothing fetched.
		for _, link := range []string{media.URL + "/tulpe.png", "http://localhost:" + mediaPort + "/tulpe.png", "http://[::ffff:127.0.0.1]:" + mediaPort + "/tulpe.png"} {
			code, out := sendImage(t, s, number, token, link)
			e, _ := out["error"].(map[string]any)
			data, _ := e["error_data"].(map[string]any)
			details, _ := data["details"].(string)
			if code != http.StatusBadRequest || errCode(out) != 131052 || !strings.Contains(details, "not a public address") {
				t.Fatalf("sending %s: %d %v", link, code, out)
			}
			if strings.Contains(link, "localhost") && strings.Contains(details, "127.0.0.1") {
				t.Errorf("the error shows what the name resolved to: %s", details)
			}
		}
		if n := fetches.Load(); n != 0 {
			t.Fatalf("the media server was asked %d times", n)
		}

		// Ann's message went to the named webhook URL: refused at each
		// attempt, a dead letter after 7 days.
		var dead struct {
			Data []struct {
				URL          string `json:"url"`
				LastResponse string `json:"last_response"`
			} `json:"data"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			clock.Advance(8 * 24 * time.Hour)
			if code := s.Call(t, http.MethodGet, "/admin/v1/webhooks/dead", s.Token, nil, &dead); code != 200 {
				t.Fatalf("dead letters: %d", code)
			}
			if len(dead.Data) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(dead.Data) == 0 || dead.Data[0].URL != named || !strings.Contains(dead.Data[0].LastResponse, "not a public address") {
			t.Fatalf("dead letters: %+v", dead.Data)
		}
		if n := posts.Load(); n != 0 {
			t.Fatalf("the webhook receiver got %d POSTs", n)
		}
	})

	t.Run("loopback allowed", func(t *testing.T) {
		fetches.Store(0)
		posts.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := kontortest.Start(t, kontortest.WithConfig(func(c *config.Config) { c.AllowNetworks = "127.0.0.0/8" }))
		code, biz := create(t, s, "+4930222222", hookSrv.URL+"/hook")
		if code != 200 {
			t.Fatalf("creating a business with webhook %s: %d %v", hookSrv.URL, code, biz)
		}
		number, token := biz["phone_number_id"].(string), biz["access_token"].(string)
		ann := newPerson(ctx, t, s, "+4915100000001")
		if _, err := ann.c.Send(ctx, "+4930222222", wire.Content{V: 1, Type: wire.ContentText, Text: "Haben Sie Tulpen?"}); err != nil {
			t.Fatal(err)
		}
		if code, out := sendImage(t, s, number, token, media.URL+"/tulpe.png"); code != 200 {
			t.Fatalf("sending %s: %d %v", media.URL, code, out)
		}
		var got []byte
		for got == nil {
			m := ann.next(t)
			if m.Content.Type != wire.ContentImage {
				continue // the hosted-service notice
			}
			b, err := ann.c.Fetch(ctx, m.Content.Media)
			if err != nil {
				t.Fatal(err)
			}
			got = b
		}
		if !bytes.Equal(got, picture) || fetches.Load() != 1 {
			t.Fatalf("Ann got %q; the media server was asked %d times", got, fetches.Load())
		}
		deadline := time.Now().Add(20 * time.Second)
		for posts.Load() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no webhook reached the allowed receiver")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
