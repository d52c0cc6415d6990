package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/webhook"
	"github.com/kontor-chat/kontor/wire"
)

// recordStore keeps records, inbox entries and webhooks in memory.
type recordStore struct {
	Store
	mu    sync.Mutex
	recs  map[kontor.ID]MessageRecord
	inbox []InboxMessage
	hooks []webhook.Event
}

func (s *recordStore) Message(_ context.Context, _, id kontor.ID) (MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.recs[id]; ok {
		return r, nil
	}
	return MessageRecord{}, kontor.Errorf(kontor.NotFound, "test", "no record")
}

func (s *recordStore) PutMessages(_ context.Context, msgs []MessageRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.recs[m.ID] = m
	}
	return nil
}

func (s *recordStore) PutInbox(_ context.Context, w InboxWrites) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbox = append(s.inbox, w.Messages...)
	return nil
}

func (s *recordStore) Enqueue(_ context.Context, evs []webhook.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, evs...)
	return nil
}

// TestUnheardSend: a send the device reports committed that no Send call
// records (left in the outbox by the node before, say) gets its record,
// inbox entry and "sent" webhook from its note, with the caller's
// biz_opaque_callback_data, once; one that has its record (its call wrote
// it, or its writes rode the send on the node before) gets nothing more.
func TestUnheardSend(t *testing.T) {
	const peer kontor.Phone = "+4915100000010"
	const id kontor.ID = 4711
	body := []byte(`{"messaging_product":"whatsapp","to":"4915100000010","type":"text","text":{"body":"Der alte Strauß"},"biz_opaque_callback_data":"auftrag-17"}`)
	rec := MessageRecord{Number: 8, Peer: peer, Outgoing: true, Category: "service", Callback: "auftrag-17"}
	in := InboxMessage{Number: 8, Peer: peer, Outgoing: true, Type: "text", Text: "Der alte Strauß", JSON: body, Status: InboxSent}
	delivered := client.Receipt{ID: 99, TS: 2000, Status: wire.StatusDelivered, IDs: []kontor.ID{id}}
	tests := []struct {
		name string
		// run hands the endpoint the Sent event ev (with its w),
		// as its run loop and Send calls would.
		run func(e *Endpoint, ev client.Sent, w *writes)
		ev  func(ev *client.Sent)
		// want: the statuses webhooked ("" = no record written).
		want []string
	}{
		{"committed after its call", func(e *Endpoint, ev client.Sent, w *writes) { e.sentEvent(context.Background(), ev, w) },
			nil, []string{"sent"}},
		{"delivered before it was told", func(e *Endpoint, ev client.Sent, w *writes) {
			e.receipt(context.Background(), delivered, w)
			e.sentEvent(context.Background(), ev, w)
		}, nil, []string{"sent", "delivered"}},
		{"told twice", func(e *Endpoint, ev client.Sent, w *writes) {
			e.sentEvent(context.Background(), ev, w)
			e.sentEvent(context.Background(), ev, w)
		}, nil, []string{"sent"}},
		{"while its call waits, which then gives up", func(e *Endpoint, ev client.Sent, w *writes) {
			e.await(ev.Ref)
			e.sentEvent(context.Background(), ev, w)
			if !w.empty() {
				t.Fatal("a send its call waits for was recorded by the event")
			}
			e.unawait(context.Background(), ev.Ref)
		}, nil, []string{"sent"}},
		{"recorded by its call", func(e *Endpoint, ev client.Sent, w *writes) {
			e.await(ev.Ref)
			e.sentEvent(context.Background(), ev, w)
			r := rec
			r.ID, r.Created = ev.ID, time.UnixMilli(ev.TS)
			e.remember(r)
			e.unawait(context.Background(), ev.Ref)
			e.sentEvent(context.Background(), ev, w) // told after the call returned
		}, nil, nil},
		{"recorded on the node before", func(e *Endpoint, ev client.Sent, w *writes) {
			r := rec
			r.ID = ev.ID
			_ = e.store.PutMessages(context.Background(), []MessageRecord{r})
			e.sentEvent(context.Background(), ev, w)
		}, nil, nil},
		{"failed", func(e *Endpoint, ev client.Sent, w *writes) { e.sentEvent(context.Background(), ev, w) },
			func(ev *client.Sent) { ev.ID, ev.Err = 0, client.ErrWithdrawn }, nil},
		{"not through the API", func(e *Endpoint, ev client.Sent, w *writes) { e.sentEvent(context.Background(), ev, w) },
			func(ev *client.Sent) { ev.Note = nil }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &recordStore{recs: map[kontor.ID]MessageRecord{}}
			log := slog.New(slog.DiscardHandler)
			e := &Endpoint{cfg: Config{WABA: 1, Number: 8, App: 2, Phone: "+4930444447", Hosted: true,
				WebhookURL: func(context.Context) string { return "https://shop.example/hook" }},
				store: st, hooks: st, clock: kontor.SystemClock{}, log: log, rules: billing.DefaultRuleBook(),
				recent: map[kontor.ID]MessageRecord{}, sending: map[string]*client.Sent{},
				commits: newCommitter(st, st, kontor.SystemClock{}, log)}
			ctx, cancel := context.WithCancel(context.Background())
			defer func() { cancel(); <-e.commits.done }()
			go e.commits.run(ctx)

			ev := client.Sent{Ref: client.NewRef(), Peer: peer, ID: id, TS: 1000, Note: e.noteOf(rec, false, in)}
			if tt.ev != nil {
				tt.ev(&ev)
			}
			var w writes
			tt.run(e, ev, &w)
			if err := e.commits.commit(&w); err != nil {
				t.Fatal(err)
			}

			var statuses []string
			for _, h := range st.hooks {
				var n struct {
					Entry []struct {
						Changes []struct{ Value cloudapi.MessagesValue }
					}
				}
				if err := json.Unmarshal(h.Body, &n); err != nil {
					t.Fatal(err)
				}
				s := n.Entry[0].Changes[0].Value.Statuses[0]
				if s.ID != cloudapi.MessageID(id) || s.BizOpaqueCallbackData != "auftrag-17" || s.RecipientID != "4915100000010" {
					t.Errorf("status %+v; want it of %s with the send's callback data", s, cloudapi.MessageID(id))
				}
				statuses = append(statuses, s.Status)
			}
			if !slices.Equal(statuses, tt.want) {
				t.Fatalf("statuses %v; want %v", statuses, tt.want)
			}
			if len(tt.want) == 0 {
				if len(st.inbox) != 0 || (len(st.recs) != 0 && tt.name != "recorded on the node before") {
					t.Fatalf("wrote %v and %v; want nothing", st.recs, st.inbox)
				}
				return
			}
			got := st.recs[id]
			want := rec
			want.ID, want.Created = id, time.UnixMilli(1000)
			if len(st.recs) != 1 || got != want {
				t.Errorf("record %+v; want %+v", got, want)
			}
			if len(st.inbox) != 1 || st.inbox[0].ID != id || st.inbox[0].Text != in.Text || st.inbox[0].Type != "text" ||
				!bytes.Equal(st.inbox[0].JSON, body) || !st.inbox[0].At.Equal(want.Created) || st.inbox[0].Peer != peer {
				t.Errorf("inbox %+v; want the send's entry", st.inbox)
			}
			if !strings.HasPrefix(st.hooks[0].ID, "8.status.sent.") {
				t.Errorf("webhook id %q", st.hooks[0].ID)
			}
		})
	}
}

// TestNoteOf: the note written by hand reads back as what it notes, for
// any text and callback data.
func TestNoteOf(t *testing.T) {
	e := &Endpoint{}
	for _, tt := range []struct {
		name  string
		rec   MessageRecord
		opens bool
		in    InboxMessage
	}{
		{"plain", MessageRecord{Category: "service"}, false, InboxMessage{Type: "text", Text: "Hallo", JSON: []byte(`{"type":"text"}`)}},
		{"all flags", MessageRecord{Category: "marketing", Callback: "x", Initiated: true, EntryPoint: true}, true, InboxMessage{Type: "template"}},
		{"quotes and backslashes", MessageRecord{Category: "utility", Callback: `a "b" \c\`}, false, InboxMessage{Type: "text", Text: `"\"`}},
		{"control characters", MessageRecord{Category: "service", Callback: "\x00\x01\x1f\x7f"}, false, InboxMessage{Text: "line\nnext\tcol\rback\b\f"}},
		{"beyond ASCII", MessageRecord{Category: "service", Callback: "Strauß 🌷 \u2028"}, false, InboxMessage{Text: "é\u00a0中文"}},
		{"empty", MessageRecord{}, false, InboxMessage{}},
		{"body with spaces", MessageRecord{Category: "service"}, false, InboxMessage{JSON: []byte("{ \"text\": {\"body\": \"a\\nb\"} }")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := e.noteOf(tt.rec, tt.opens, tt.in)
			if !json.Valid(b) {
				t.Fatalf("note %s is not JSON", b)
			}
			var n sendNote
			if err := json.Unmarshal(b, &n); err != nil {
				t.Fatal(err)
			}
			want := sendNote{Category: tt.rec.Category, Callback: tt.rec.Callback, Initiated: tt.rec.Initiated, EntryPoint: tt.rec.EntryPoint,
				Opens: tt.opens, Type: tt.in.Type, Text: tt.in.Text}
			got := n
			got.JSON = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("note %s reads as %+v; want %+v", b, got, want)
			}
			if !bytes.Equal(n.JSON, tt.in.JSON) {
				t.Errorf("body %q; want %q", n.JSON, tt.in.JSON)
			}
		})
	}
}
