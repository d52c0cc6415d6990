package bizapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestSendEndpointClosing: a Business API send still waiting for the
// platform (its store refuses the message) when the node shuts down, and
// so closes the hosted endpoint, answers 131016 saying it was not sent
// (or, had a copy been in flight, that it may have gone out and will not
// go out later), never "may still go out": the endpoint withdrew it from
// its device's outbox before the device closed. The node that opens the
// same profile next (here the same node after a restart) never sends the
// old copy: the person gets only what the business sends afterwards.
func TestSendEndpointClosing(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// A deadline far beyond the test's wait: only the endpoint's
		// closing ends the send. Retries every 300 ms keep it pending.
		opts = append(opts, kontortest.WithConfig(func(c *config.Config) {
			c.SendDeadline = time.Minute
			c.EndpointMinBackoff, c.EndpointMaxBackoff = 300*time.Millisecond, 300*time.Millisecond
		}))
		s := kontortest.Start(t, opts...)
		biz, _, ida := hostedChat(ctx, t, s, "+4930444446", "+4915100000009")
		number, token := biz.Number, biz.Token

		b := newBreaker(t, s)
		records := b.count(t, "endpoint_messages")
		b.brk(t)
		type answer struct {
			code int
			out  map[string]any
		}
		answered := make(chan answer, 1)
		go func() {
			code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token,
				map[string]any{"messaging_product": "whatsapp", "to": "4915100000009", "type": "text", "text": map[string]any{"body": "Der alte Strauß"}})
			answered <- answer{code, out}
		}()
		time.Sleep(900 * time.Millisecond) // tried and refused a few times
		select {
		case a := <-answered:
			t.Fatalf("the send answered %d %v before the node stopped", a.code, a.out)
		default:
		}
		s.Stop()
		var a answer
		select {
		case a = <-answered:
		case <-time.After(10 * time.Second):
			t.Fatal("the send did not answer when its endpoint closed")
		}
		e, _ := a.out["error"].(map[string]any)
		details, _ := e["error_data"].(map[string]any)["details"].(string)
		if a.code != http.StatusServiceUnavailable || errCode(a.out) != cloudapi.CodeServiceUnavailable ||
			!strings.HasPrefix(details, "The endpoint stopped before the platform") || strings.Contains(details, "may still go out") {
			t.Fatalf("send when the endpoint closed: %d %v; want 503, 131016, not sent (withdrawn)", a.code, a.out)
		}
		b.heal(t)

		// The same node again, on the same address (Ida's device
		// reconnects), with the same store and data directory: the
		// endpoint opens the same profile.
		again := append(opts, kontortest.WithDataDir(s.DataDir), kontortest.WithConfig(func(c *config.Config) {
			c.HTTPAddr = strings.TrimPrefix(s.URL, "http://")
		}))
		s2 := kontortest.Start(t, again...)
		if err := ida.c.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		code, out := sendWhenOpen(t, s2, number, token, "4915100000009", "Der neue Strauß") // the endpoint opens once the node serves
		if code != 200 {
			t.Fatalf("send after the restart: %d %v", code, out)
		}
		// A copy of the old send left in the outbox would have gone out
		// when the endpoint connected, before this one.
		if m := ida.next(t); m.Content.Text != "Der neue Strauß" {
			t.Fatalf("Ida got %q first after the restart; want only the new message", m.Content.Text)
		}
		quiet := time.After(1500 * time.Millisecond)
		for {
			select {
			case ev := <-ida.c.Events():
				if m, ok := ev.(client.Message); ok && !m.Outgoing {
					t.Fatalf("Ida got %q too", m.Content.Text)
				}
			case <-quiet:
				if n := b.count(t, "endpoint_messages"); n != records+1 {
					t.Errorf("%d message records; want %d (the new send's alone)", n, records+1)
				}
				return
			}
		}
	})
}
