package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// BenchmarkEndpointWrites is what a hosted endpoint writes for each message
// sent through the Business API (SQLite): the message's record and its
// "sent" status webhook, one transaction each per message (as before the
// endpoint's group commit), or for many messages at once (as the group
// commit does when many calls wait at the same time), in two transactions
// or in one; with the inbox log (the message and its conversation, as the
// endpoint writes them since the console's inbox) or without.
func BenchmarkEndpointWrites(b *testing.B) {
	for _, bc := range []struct {
		batch int
		oneTx bool // records and webhooks in one transaction (PutEndpointBatch)
		inbox bool // and the inbox log
	}{{1, false, false}, {8, false, false}, {64, false, false}, {8, true, false}, {64, true, false}, {8, true, true}, {64, true, true}} {
		batch := bc.batch
		name := fmt.Sprint("batch-", batch)
		if bc.oneTx {
			name += "-one-transaction"
		}
		if bc.inbox {
			name += "-inbox"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ids := kontor.NewIDs(nil, 1)
			number, app := ids.Next(), ids.Next()
			body := []byte(`{"object":"whatsapp_business_account","entry":[` + strings.Repeat(" ", 600) + `]}`)
			msgs := make([]endpoint.MessageRecord, 0, batch)
			hooks := make([]webhook.Event, 0, batch)
			var in endpoint.InboxWrites
			flush := func() {
				if bc.oneTx {
					if err := db.PutEndpointBatch(ctx, msgs, in, hooks, time.Now()); err != nil {
						b.Fatal(err)
					}
					msgs, hooks, in.Messages = msgs[:0], hooks[:0], in.Messages[:0]
					return
				}
				if batch == 1 {
					if err := db.PutMessage(ctx, msgs[0]); err != nil {
						b.Fatal(err)
					}
				} else if err := db.PutMessages(ctx, msgs); err != nil {
					b.Fatal(err)
				}
				if err := db.EnqueueWebhooks(ctx, hooks, time.Now()); err != nil {
					b.Fatal(err)
				}
				msgs, hooks = msgs[:0], hooks[:0]
			}
			b.ResetTimer()
			for b.Loop() {
				id := ids.Next()
				msgs = append(msgs, endpoint.MessageRecord{Number: number, ID: id, Peer: "+4915100000001", Outgoing: true,
					Category: "service", Created: time.Now()})
				hooks = append(hooks, webhook.Event{ID: "status.sent." + id.String(), App: app, URL: "http://127.0.0.1:1/hook",
					Body: body, Created: time.Now()})
				if bc.inbox { // a thousand people, each conversation updated again and again
					in.Messages = append(in.Messages, endpoint.InboxMessage{Number: number, ID: id, Peer: kontor.Phone(fmt.Sprintf("+4915100%05d", int64(id)%1000)),
						Outgoing: true, Type: "text", Text: "Ihre Bestellung liegt bereit.", JSON: body[:120], At: time.Now(), Status: endpoint.InboxSent})
				}
				if len(msgs) == batch {
					flush()
				}
			}
			if len(msgs) > 0 {
				flush()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
