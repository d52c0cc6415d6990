package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestHostedEndpointCrash kills the server (SIGKILL) while a hosted
// business endpoint has sealed messages for a person and opened the
// person's: every message the Business API answered 200 reaches the
// person, and after the restart both sides still decrypt what the other
// sends (no session state went back).
func TestHostedEndpointCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var inbound []string // texts of the messages webhooks the business got
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var n struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Messages []struct {
							Type string `json:"type"`
							Text struct {
								Body string `json:"body"`
							} `json:"text"`
						} `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if json.Unmarshal(b, &n) == nil {
			mu.Lock()
			for _, e := range n.Entry {
				for _, c := range e.Changes {
					for _, m := range c.Value.Messages {
						inbound = append(inbound, m.Type+":"+m.Text.Body)
					}
				}
			}
			mu.Unlock()
		}
	}))
	defer hooks.Close()
	waitInbound := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			mu.Lock()
			got := strings.Join(inbound, "|")
			mu.Unlock()
			if strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the business did not get %q; it got %s", want, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	p := kontortest.StartProcess(t, "")
	const bizPhone = "+4930333333"
	var biz map[string]any
	if code := kontortest.Call(t, p.URL, http.MethodPost, "/admin/v1/businesses", p.Token(),
		map[string]any{"name": "Crash", "phone": bizPhone, "webhook_url": hooks.URL}, &biz); code != 200 {
		t.Fatalf("create business: %d", code)
	}
	number, token := biz["phone_number_id"].(string), biz["access_token"].(string)

	dir := t.TempDir()
	if _, err := client.Register(ctx, dir, client.Registration{Server: p.URL, Phone: ann}); err != nil {
		t.Fatal(err)
	}
	sl, err := e2e.OpenProfile(dir, nil, e2e.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	if _, err := sl.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	person, err := client.Open(ctx, dir, client.Options{Sealer: sl, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer person.Close()
	// The person receives: every text must have been decrypted.
	texts := make(chan string, 100)
	go func() {
		for ev := range person.Events() {
			if m, ok := ev.(client.Message); ok && !m.Outgoing {
				if m.Problem != "" {
					texts <- "UNDECRYPTABLE: " + m.Problem
				} else if m.Content.Type == wire.ContentText {
					texts <- m.Content.Text
				}
			}
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-texts:
			if got != want {
				t.Fatalf("the person got %q, want %q", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the person did not get %q", want)
		}
	}
	send := func(text string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "to": strings.TrimPrefix(ann, "+"),
			"type": "text", "text": map[string]any{"body": text}})
		for deadline := time.Now().Add(30 * time.Second); ; {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/v21.0/"+number+"/messages", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
				err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
			}
			// Only while the endpoint starts after the restart; an answer
			// other than 200 commits nothing.
			if time.Now().After(deadline) {
				t.Fatalf("send %q: %v", text, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	if _, err := person.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentText, Text: "hello before"}); err != nil {
		t.Fatal(err)
	}
	waitInbound("text:hello before")
	for i := range 20 {
		send(fmt.Sprint("before the crash ", i))
	}
	for i := range 20 {
		expect(fmt.Sprint("before the crash ", i))
	}

	p.Kill()
	p.Restart()

	for i := range 20 {
		send(fmt.Sprint("after the crash ", i))
	}
	for i := range 20 {
		expect(fmt.Sprint("after the crash ", i))
	}
	if _, err := person.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentText, Text: "hello after"}); err != nil {
		t.Fatal(err)
	}
	waitInbound("text:hello after")
	mu.Lock()
	defer mu.Unlock()
	for _, m := range inbound {
		if !strings.HasPrefix(m, "text:") {
			t.Fatalf("the business got a message it could not read: %q (all: %v)", m, inbound)
		}
	}
}
