package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

const (
	ann = "+4915100000001"
	ben = "+4915100000002"
)

func TestChat(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
			s := kontortest.Start(t, opts...)
			a := s.Connect(t, tr, s.Account(t, ann).Credential)
			b := s.Connect(t, tr, s.Account(t, ben).Credential)

			sent := a.Text("r1", ben, []int{1}, "hello Ben")
			if sent.Type != wire.TSent || sent.ID == 0 || sent.TS == 0 {
				t.Fatalf("send: %+v", sent)
			}
			m := b.Expect(wire.TMsg)
			if m.ID != sent.ID || m.From != ann || m.FromDevice != 1 || !strings.Contains(string(m.Body), "hello Ben") {
				t.Fatalf("msg: %+v", m)
			}
			b.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{m.ID}})
			r := a.Expect(wire.TReceipt)
			if r.Status != wire.StatusDelivered || len(r.IDs) != 1 || r.IDs[0] != sent.ID || r.By != ben || r.ByDevice != 1 {
				t.Fatalf("delivered receipt: %+v", r)
			}
			a.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{r.ID}})
			b.Send(wire.Frame{Type: wire.TRead, To: ann, IDs: []kontor.ID{m.ID}})
			r = a.Expect(wire.TReceipt)
			if r.Status != wire.StatusRead || r.IDs[0] != sent.ID {
				t.Fatalf("read receipt: %+v", r)
			}
			a.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{r.ID}})

			// Ben answers; order within the conversation holds.
			for i := range 20 {
				if f := b.Text(fmt.Sprintf("b%d", i), ann, []int{1}, fmt.Sprintf("answer %d", i)); f.Type != wire.TSent {
					t.Fatalf("send %d: %+v", i, f)
				}
			}
			var last kontor.ID
			for i := range 20 {
				m := a.Expect(wire.TMsg)
				if m.ID <= last || !strings.Contains(string(m.Body), fmt.Sprintf("answer %d\"", i)) {
					t.Fatalf("message %d out of order: %+v (%s)", i, m, m.Body)
				}
				last = m.ID
				a.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{m.ID}})
			}
		})
	})
}

func TestOfflineDeliveryAndRedelivery(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		s := kontortest.Start(t)
		a := s.Connect(t, tr, s.Account(t, ann).Credential)
		benCred := s.Account(t, ben).Credential
		for i := range 5 {
			if f := a.Text(fmt.Sprintf("r%d", i), ben, []int{1}, fmt.Sprintf("while you were away %d", i)); f.Type != wire.TSent {
				t.Fatalf("send: %+v", f)
			}
		}
		b := s.Connect(t, tr, benCred)
		var ids []kontor.ID
		for range 5 {
			ids = append(ids, b.Expect(wire.TMsg).ID)
		}
		// Not acked: a new connection gets them again, in the same order.
		b.Close()
		b = s.Connect(t, tr, benCred)
		for i := range 5 {
			if m := b.Expect(wire.TMsg); m.ID != ids[i] {
				t.Fatalf("redelivery %d: id %d, want %d", i, m.ID, ids[i])
			}
		}
		b.Send(wire.Frame{Type: wire.TAck, IDs: ids})
		// Acked: nothing comes after a reconnect.
		time.Sleep(200 * time.Millisecond)
		b.Close()
		b = s.Connect(t, tr, benCred)
		b.Send(wire.Frame{Type: wire.TPing})
		if f := b.Expect(wire.TPong); f.Type != wire.TPong {
			t.Fatal(f)
		}
	})
}

func TestSendRefIsIdempotent(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		s := kontortest.Start(t)
		a := s.Connect(t, tr, s.Account(t, ann).Credential)
		b := s.Connect(t, tr, s.Account(t, ben).Credential)
		first := a.Text("same", ben, []int{1}, "once")
		second := a.Text("same", ben, []int{1}, "once")
		if first.Type != wire.TSent || second.Type != wire.TSent || first.ID != second.ID {
			t.Fatalf("first %+v, second %+v", first, second)
		}
		m := b.Expect(wire.TMsg)
		b.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{m.ID}})
		b.Send(wire.Frame{Type: wire.TPing})
		if f := b.Expect(wire.TPong); f.Type != wire.TPong {
			t.Fatalf("a second copy arrived: %+v", f)
		}
	})
}

func TestBadInput(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		s := kontortest.Start(t)
		a := s.Connect(t, tr, s.Account(t, ann).Credential)
		s.Account(t, ben)
		big := make([]byte, wire.MaxPayload+1)
		hi := []byte("hi")
		send := func(ref, to string, devices ...int) *wire.Frame {
			f := &wire.Frame{Type: wire.TSend, Ref: ref, To: kontor.Phone(to)}
			for _, d := range devices {
				f.Payloads = append(f.Payloads, wire.Payload{DeviceID: d, Body: hi})
			}
			return f
		}
		tests := []struct {
			name  string
			raw   string      // sent as it is over a WebSocket; skipped in process
			frame *wire.Frame // sent as a value, or as its JSON
			code  string
		}{
			{"not json", `{{{`, nil, wire.ErrBadFrame},
			{"no type", "", &wire.Frame{Ref: "x0"}, wire.ErrBadFrame},
			{"unknown type", "", &wire.Frame{Type: "explode"}, wire.ErrBadFrame},
			{"unknown recipient", "", send("x1", "+4915199999999", 1), wire.ErrUnknownRecipient},
			{"stale device", "", send("x2", ben, 1, 2), wire.ErrDevicesMismatch},
			{"missing device", "", send("x3", ben, 3), wire.ErrDevicesMismatch},
			{"oversize payload", "", &wire.Frame{Type: wire.TSend, Ref: "x4", To: ben, Payloads: []wire.Payload{{DeviceID: 1, Body: big}}}, wire.ErrTooLarge},
			{"to self", "", send("x5", ann, 1), wire.ErrBadFrame},
			{"two payloads for one device", "", &wire.Frame{Type: wire.TSend, Ref: "x6", To: ben, Payloads: []wire.Payload{{DeviceID: 1, Body: hi}, {DeviceID: 1, Body: hi}}}, wire.ErrBadFrame},
			{"ref too long", "", send(strings.Repeat("r", wire.MaxRefLength+1), ben, 1), wire.ErrBadFrame},
			{"second hello", "", &wire.Frame{Type: wire.THello, V: 1, Credential: "kd_1_aaaaaaaaaaaaaaaaaaaaaaaaaa"}, wire.ErrBadFrame},
			{"server frame", "", &wire.Frame{Type: wire.TWelcome}, wire.ErrBadFrame},
			{"ack of nothing", `{"type":"ack","ids":["12345"]}`, &wire.Frame{Type: wire.TAck, IDs: []kontor.ID{12345}}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				switch {
				case tr == kontortest.WebSocket && tt.raw != "":
					a.SendRaw([]byte(tt.raw))
				case tr == kontortest.WebSocket:
					a.SendRaw([]byte(mustJSON(*tt.frame)))
				case tt.frame == nil:
					t.Skip("not a frame value")
				default:
					a.Send(*tt.frame)
				}
				if tt.code != "" {
					f := a.Expect(wire.TError)
					if f.Code != tt.code || f.Message == "" {
						t.Fatalf("got %+v, want code %s", f, tt.code)
					}
					if tt.code == wire.ErrDevicesMismatch {
						if tt.name == "stale device" && (len(f.Stale) != 1 || f.Stale[0].DeviceID != 2 || len(f.Missing) != 0) {
							t.Fatalf("stale: %+v", f)
						}
						if tt.name == "missing device" && (len(f.Missing) != 1 || f.Missing[0].DeviceID != 1 || len(f.Stale) != 1) {
							t.Fatalf("missing: %+v", f)
						}
					}
				}
				// The connection stays usable.
				a.Send(wire.Frame{Type: wire.TPing})
				a.Expect(wire.TPong)
			})
		}
	})
}

func TestFrameOverLimitCloses(t *testing.T) {
	s := kontortest.Start(t)
	a := kontortest.Dial(t, s.WS, s.Account(t, ann).Credential)
	a.SendRaw([]byte(`{"type":"ping","ref":"` + strings.Repeat("x", wire.MaxFrame+10) + `"}`))
	_, err := a.NextWithin(5 * time.Second)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("want close 1009, got %v", err)
	}
	// The server is fine.
	b := kontortest.Dial(t, s.WS, s.Account(t, ben).Credential)
	b.Send(wire.Frame{Type: wire.TPing})
	b.Expect(wire.TPong)
}

func TestAuthentication(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		s := kontortest.Start(t)
		good := s.Account(t, ann).Credential
		for _, cred := range []string{"", "nonsense", "kd_1_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", good + "x"} {
			d := s.ConnectRaw(t, tr)
			d.Send(wire.Frame{Type: wire.THello, V: 1, Credential: cred})
			f, err := d.NextWithin(5 * time.Second)
			if err != nil || f.Type != wire.TError || f.Code != wire.ErrUnauthenticated {
				t.Fatalf("credential %q: %+v %v", cred, f, err)
			}
			if _, err := d.NextWithin(5 * time.Second); websocket.CloseStatus(err) != 4001 && cred != "" {
				t.Fatalf("credential %q: want close 4001, got %v", cred, err)
			}
		}
		// Not hello first.
		d := s.ConnectRaw(t, tr)
		d.Send(wire.Frame{Type: wire.TPing})
		if f, _ := d.NextWithin(5 * time.Second); f.Code != wire.ErrUnauthenticated {
			t.Fatalf("ping before hello: %+v", f)
		}
		// Wrong version.
		d = s.ConnectRaw(t, tr)
		d.Send(wire.Frame{Type: wire.THello, V: 99, Credential: good})
		if f, _ := d.NextWithin(5 * time.Second); f.Code != wire.ErrUnsupported {
			t.Fatalf("version 99: %+v", f)
		}
	})
}

func TestMultiDevice(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
			s := kontortest.Start(t, opts...)
			annCred := s.Account(t, ann).Credential
			benCred := s.Account(t, ben).Credential
			ann2 := link(t, s, ann, annCred)
			ben2 := link(t, s, ben, benCred)
			a1, a2 := s.Connect(t, tr, annCred), s.Connect(t, tr, ann2)
			b1, b2 := s.Connect(t, tr, benCred), s.Connect(t, tr, ben2)

			// Without the sync payload for Ann's other device the send is refused.
			if f := a1.Text("m0", ben, []int{1, 2}, "x"); f.Code != wire.ErrDevicesMismatch || len(f.Missing) != 1 || f.Missing[0] != (wire.DeviceAddress{Phone: ann, DeviceID: 2}) {
				t.Fatalf("no sync: %+v", f)
			}
			body := []byte(`{"v":1,"type":"text","text":"to both"}`)
			a1.Send(wire.Frame{Type: wire.TSend, Ref: "m1", To: ben,
				Payloads: []wire.Payload{{DeviceID: 1, Body: body}, {DeviceID: 2, Body: body}},
				Sync:     []wire.Payload{{DeviceID: 2, Body: body}}})
			sent := a1.Expect(wire.TSent)
			for _, b := range []*kontortest.Device{b1, b2} {
				m := b.Expect(wire.TMsg)
				if m.ID != sent.ID || m.To != "" {
					t.Fatalf("ben's device: %+v", m)
				}
				b.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{m.ID}})
			}
			sync := a2.Expect(wire.TMsg)
			if sync.ID != sent.ID || sync.To != ben || sync.FromDevice != 1 {
				t.Fatalf("sync copy: %+v", sync)
			}
			a2.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{sync.ID}})
			// Two delivered receipts (one per Ben device) reach both of Ann's devices.
			for _, a := range []*kontortest.Device{a1, a2} {
				by := map[int]bool{}
				for range 2 {
					r := a.Expect(wire.TReceipt)
					if r.Status != wire.StatusDelivered || r.IDs[0] != sent.ID {
						t.Fatalf("receipt: %+v", r)
					}
					by[r.ByDevice] = true
					a.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{r.ID}})
				}
				if !by[1] || !by[2] {
					t.Fatalf("receipts by devices %v", by)
				}
			}

			// Ben removes his second device: its connection closes, and sends to
			// two Ben devices are refused as stale.
			if code := s.Call(t, http.MethodDelete, "/v1/devices/2", benCred, nil, nil); code != http.StatusNoContent {
				t.Fatalf("remove device: %d", code)
			}
			if _, err := b2.NextWithin(5 * time.Second); websocket.CloseStatus(err) != 4001 {
				t.Fatalf("removed device: want close 4001, got %v", err)
			}
			a1.Send(wire.Frame{Type: wire.TSend, Ref: "m2", To: ben,
				Payloads: []wire.Payload{{DeviceID: 1, Body: body}, {DeviceID: 2, Body: body}},
				Sync:     []wire.Payload{{DeviceID: 2, Body: body}}})
			if f := a1.Expect(wire.TError); f.Code != wire.ErrDevicesMismatch || len(f.Stale) != 1 {
				t.Fatalf("after removal: %+v", f)
			}
		})
	})
}

func link(t *testing.T, s *kontortest.Server, phone, primary string) string {
	t.Helper()
	var lc wire.LinkCodeResponse
	if code := s.Call(t, http.MethodPost, "/v1/devices/link-code", primary, nil, &lc); code != 200 || lc.Code == "" {
		t.Fatalf("link code: %d %+v", code, lc)
	}
	var c wire.DeviceCredentials
	if code := s.Call(t, http.MethodPost, "/v1/devices/link", "", wire.LinkRequest{Phone: kontor.Phone(phone), Code: lc.Code, DeviceName: "laptop"}, &c); code != 200 {
		t.Fatalf("link: %d", code)
	}
	return c.Credential
}

func TestWindowAndBackpressure(t *testing.T) {
	kontortest.Transports(t, func(t *testing.T, tr kontortest.Transport) {
		s := kontortest.Start(t)
		a := s.Connect(t, tr, s.Account(t, ann).Credential)
		benCred := s.Account(t, ben).Credential
		const n = 1300
		for i := range n {
			a.Send(wire.Frame{Type: wire.TSend, Ref: fmt.Sprint(i), To: ben, Payloads: []wire.Payload{{DeviceID: 1, Body: []byte(fmt.Sprint(i))}}})
		}
		for range n {
			if f := a.Expect(wire.TSent); f.ID == 0 {
				t.Fatal(f)
			}
		}
		b := s.Connect(t, tr, benCred)
		var got []kontor.ID
		for range 1000 {
			got = append(got, b.Expect(wire.TMsg).ID)
		}
		// The window is full: nothing more comes until acks.
		if f, err := b.NextWithin(300 * time.Millisecond); err == nil {
			t.Fatalf("frame past the window: %+v", f)
		}
		b = s.Connect(t, tr, benCred) // the old connection was closed by the timed-out read
		seen := map[kontor.ID]bool{}
		for len(seen) < n {
			m := b.Expect(wire.TMsg)
			seen[m.ID] = true
			b.Send(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{m.ID}})
		}
		_ = got
	})
}

func mustJSON(f wire.Frame) string {
	b, _ := jsonMarshal(f)
	return string(b)
}
