package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

func TestPresenceAndTyping(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		s := kontortest.Start(t)
		a := s.Connect(t, tr, s.Account(t, ann).Credential)
		benCred := s.Account(t, ben).Credential

		a.Send(wire.Frame{Type: wire.TWatch, Phones: []kontor.Phone{ben, "+4915199999999"}})
		if p := a.Expect(wire.TPresence); p.From != ben || p.Online || p.LastSeen != 0 {
			t.Fatalf("never seen: %+v", p)
		}
		b := s.Connect(t, tr, benCred)
		if p := a.Expect(wire.TPresence); p.From != ben || !p.Online {
			t.Fatalf("online: %+v", p)
		}
		b.Send(wire.Frame{Type: wire.TTyping, To: ann, On: true})
		if f := a.Expect(wire.TTyping); f.From != ben || f.FromDevice != 1 || !f.On {
			t.Fatalf("typing: %+v", f)
		}
		before := time.Now().UnixMilli()
		b.Close()
		p := a.Expect(wire.TPresence)
		if p.Online || p.LastSeen < before-1000 {
			t.Fatalf("offline: %+v", p)
		}

		// With last seen hidden, watchers learn online/offline but no time.
		if code := s.Call(t, http.MethodPut, "/v1/settings", benCred, wire.SettingsRequest{LastSeen: "nobody"}, nil); code != 204 {
			t.Fatal(code)
		}
		b = s.Connect(t, tr, benCred)
		a.Expect(wire.TPresence)
		b.Close()
		if p := a.Expect(wire.TPresence); p.Online || p.LastSeen != 0 {
			t.Fatalf("hidden last seen: %+v", p)
		}
		a.Send(wire.Frame{Type: wire.TWatch, Phones: []kontor.Phone{ben}})
		if p := a.Expect(wire.TPresence); p.LastSeen != 0 {
			t.Fatalf("hidden last seen on watch: %+v", p)
		}
		// Typing to an unknown number is an error frame.
		a.Send(wire.Frame{Type: wire.TTyping, To: "+4915199999999", On: true})
		if f := a.Expect(wire.TError); f.Code != wire.ErrUnknownRecipient {
			t.Fatalf("typing to nobody: %+v", f)
		}
	})
}
