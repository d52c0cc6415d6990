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
// or in one.
func BenchmarkEndpointWrites(b *testing.B) {
	for _, bc := range []struct {
		batch int
		oneTx bool // records and webhooks in one transaction (PutEndpointBatch)
	}{{1, false}, {8, false}, {64, false}, {8, true}, {64, true}} {
		batch := bc.batch
		name := fmt.Sprint("batch-", batch)
		if bc.oneTx {
			name += "-one-transaction"
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
			flush := func() {
				if bc.oneTx {
					if err := db.PutEndpointBatch(ctx, msgs, endpoint.InboxWrites{}, hooks, time.Now()); err != nil {
						b.Fatal(err)
					}
					msgs, hooks = msgs[:0], hooks[:0]
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
