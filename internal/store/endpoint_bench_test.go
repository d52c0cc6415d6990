package store_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
		// people is how many people the messages go to (1,000 unless
		// given): the hosted API bench writes to 50, so a batch holds
		// several messages of one conversation.
		people int
	}{{1, false, false, 0}, {8, false, false, 0}, {64, false, false, 0}, {8, true, false, 0}, {64, true, false, 0}, {8, true, true, 0}, {64, true, true, 0}, {64, true, true, 50}} {
		batch := bc.batch
		name := fmt.Sprint("batch-", batch)
		if bc.oneTx {
			name += "-one-transaction"
		}
		if bc.inbox {
			name += "-inbox"
		}
		people := int64(1000)
		if bc.people > 0 {
			people = int64(bc.people)
			name += fmt.Sprint("-", people, "-people")
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
					if _, err := db.PutEndpointBatch(ctx, msgs, in, hooks, time.Now(), webhook.Lease{}); err != nil {
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
				if _, err := db.EnqueueWebhooks(ctx, hooks, time.Now(), webhook.Lease{}); err != nil {
					b.Fatal(err)
				}
				msgs, hooks = msgs[:0], hooks[:0]
			}
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for b.Loop() {
				id := ids.Next()
				msgs = append(msgs, endpoint.MessageRecord{Number: number, ID: id, Peer: "+4915100000001", Outgoing: true,
					Category: "service", Created: time.Now()})
				hooks = append(hooks, webhook.Event{ID: "status.sent." + id.String(), App: app, URL: "http://127.0.0.1:1/hook",
					Body: body, Created: time.Now()})
				if bc.inbox { // each conversation updated again and again
					in.Messages = append(in.Messages, endpoint.InboxMessage{Number: number, ID: id, Peer: kontor.Phone(fmt.Sprintf("+4915100%05d", int64(id)%people)),
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
			// The process's CPU per message: what the machine's other
			// work does not change, as wall time it does.
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
		})
	}
}
