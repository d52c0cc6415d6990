package client

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// offlineClient is a Client with a profile in memory and no connection,
// for feeding frames to process directly.
func offlineClient(leave Leave) *Client {
	log := slog.New(slog.DiscardHandler)
	a := Account{Server: "http://127.0.0.1:1", DeviceCredentials: wire.DeviceCredentials{Phone: bob, DeviceID: 1, Credential: "kd_x"}}
	return &Client{opts: Options{Leave: leave, MinBackoff: 1, MaxBackoff: 1}, prof: newProfile(a, log), api: a.API(nil),
		sealer: PlainSealer{}, log: log, events: newEventQueue(log),
		waiters: map[string]chan sendResult{}, retries: map[string]*retryState{}}
}

// FuzzProcess feeds server frames, one per line, to the client's frame
// handling, twice: nothing may panic, every msg and receipt with an id is
// acked both times, the second pass tells no message or receipt again, and
// every recorded message belongs to a valid number (it names a file).
func FuzzProcess(f *testing.F) {
	f.Add([]byte(`{"type":"msg","id":"5","ts":1,"from":"+4915110000001","from_device":1,"body":"eyJ2IjoxLCJ0eXBlIjoidGV4dCIsInRleHQiOiJoaSJ9"}`))
	f.Add([]byte(`{"type":"receipt","id":"6","ts":2,"status":"read","ids":["5"],"by":"+4915110000001","by_device":1}`))
	f.Add([]byte(`{"type":"sent","ref":"r","id":"7","ts":3}` + "\n" + `{"type":"error","ref":"r","code":"devices_mismatch","missing":[{"phone":"+4915110000001","device_id":2}]}`))
	f.Add([]byte(`{"type":"typing","from":"+4915110000001","from_device":1,"on":true}` + "\n" + `{"type":"presence","from":"+4915110000001","online":true}`))
	f.Add([]byte(`{"type":"msg","id":"8","from":"+4915110000002","from_device":2,"to":"+4915110000003","body":"eA=="}`))
	f.Add([]byte(`{"type":"msg","id":"9","from":"../x","from_device":1,"body":"eA=="}`))
	f.Add([]byte(`{"type":"error","code":"unknown_recipient","message":"no"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, leave := range []Leave{0, LeaveMessages | LeaveReceipts} {
			c := offlineClient(leave)
			// An outgoing message so that sent and error frames find one.
			pending := Message{Ref: "r", From: bob, FromDevice: 1, Outgoing: true, Content: text("x"), Status: StatusPending}
			if err := c.prof.write([]change{{alice, record{Msg: &pending}}}); err != nil {
				t.Fatal(err)
			}
			var frames []*wire.Frame
			for line := range bytes.Lines(data) {
				if fr, err := decodeServerFrame(line); err == nil {
					frames = append(frames, fr)
				}
			}
			want := map[kontor.ID]bool{}
			for _, fr := range frames {
				if (fr.Type == wire.TMsg && leave&LeaveMessages == 0 || fr.Type == wire.TReceipt && leave&LeaveReceipts == 0) && fr.ID > 0 {
					want[fr.ID] = true
				}
			}
			for pass := range 2 {
				acks, evs, err := c.process(context.Background(), nil, frames)
				if err != nil {
					t.Fatal(err)
				}
				got := map[kontor.ID]bool{}
				for _, id := range acks {
					got[id] = true
				}
				for id := range want {
					if !got[id] {
						t.Fatalf("pass %d: frame %v not acked", pass, id)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("pass %d: acked %v, want %v", pass, got, want)
				}
				for _, ev := range evs {
					switch ev.(type) {
					case Message, Receipt:
						if pass == 1 {
							t.Fatalf("told again: %+v", ev)
						}
					}
				}
			}
			for _, conv := range c.prof.conversations() {
				if p, err := kontor.ParsePhone(string(conv.Peer)); err != nil || p != conv.Peer {
					t.Fatalf("conversation with %q", conv.Peer)
				}
			}
		}
	})
}
