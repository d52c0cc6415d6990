package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/router"
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

// BenchmarkHostedSendWrites is what a hosted Business API send writes,
// in batches of 8 or 64 as the group commits make them (SQLite, 50
// people): the router's send (its ref, a queue entry for the person's
// device and a sync copy) and the endpoint's (record, inbox log, "sent"
// webhook), in two transactions one after the other (the router's, then
// the endpoint's group commit: before) or in one (the endpoint's writes
// riding the router's transaction, endpoint.WritesTx).
func BenchmarkHostedSendWrites(b *testing.B) {
	for _, bc := range []struct {
		batch int
		ride  bool
	}{{8, false}, {8, true}, {64, false}, {64, true}} {
		batch, ride := bc.batch, bc.ride
		name := fmt.Sprint("batch-", batch, "-two-transactions")
		if ride {
			name = fmt.Sprint("batch-", batch, "-one-transaction")
		}
		b.Run(name, func(b *testing.B) { hostedSends(b, store.Config{}, batch, ride, false) })
	}
}

// hostedSends runs BenchmarkHostedSendWrites' sends in batches of batch
// on a store opened with cfg (in a temporary directory); with latency it
// also reports the 99th percentile and the longest time of a batch's
// commit(s).
func hostedSends(b *testing.B, cfg store.Config, batch int, ride, latency bool) {
	const people = 50
	ctx := context.Background()
	cfg.DataDir = b.TempDir()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	number, app, sender := ids.Next(), ids.Next(), ids.Next()
	body := []byte(`{"object":"whatsapp_business_account","entry":[` + strings.Repeat(" ", 600) + `]}`)
	payload := []byte(strings.Repeat("c", 400))
	type send struct {
		entries []router.Entry
		w       endpoint.TxWrites
	}
	var sends []send
	var took []time.Duration // per flush
	flush := func() {
		start := time.Now()
		defer func() { took = append(took, time.Since(start)) }()
		err := db.Tx(ctx, func(tx router.Tx) error {
			for i := range sends {
				s := &sends[i]
				if _, _, err := tx.ClaimRef(sender, s.entries[0].ID.String(), s.entries[0].ID, time.Now().UnixMilli()); err != nil {
					return err
				}
				if err := tx.Insert(s.entries); err != nil {
					return err
				}
				if ride {
					tx.(endpoint.WritesTx).AddEndpointWrites(&s.w)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if !ride {
			var all endpoint.TxWrites
			for _, s := range sends {
				all.Msgs = append(all.Msgs, s.w.Msgs...)
				all.Inbox.Messages = append(all.Inbox.Messages, s.w.Inbox.Messages...)
				all.Hooks = append(all.Hooks, s.w.Hooks...)
			}
			if _, err := db.PutEndpointBatch(ctx, all.Msgs, all.Inbox, all.Hooks, time.Now(), webhook.Lease{}); err != nil {
				b.Fatal(err)
			}
		}
		sends = sends[:0]
	}
	wal := filepath.Join(cfg.DataDir, "kontor.db-wal")
	walSize := func() int64 {
		fi, err := os.Stat(wal)
		if err != nil {
			b.Fatal(err)
		}
		return fi.Size()
	}
	wal0 := walSize()
	sent := 0
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for b.Loop() {
		id := ids.Next()
		now := time.Now()
		peer := kontor.Phone(fmt.Sprintf("+4915100%05d", int64(id)%people))
		exp := now.Add(time.Hour).UnixMilli()
		sends = append(sends, send{
			entries: []router.Entry{
				{Device: kontor.ID(int64(id)%people + 1), ID: id, Kind: router.KindMessage, FromAccount: number, From: "+4930111111", FromDevice: 1, TS: now.UnixMilli(), Expires: exp, Body: payload},
				{Device: sender, ID: id, Kind: router.KindSync, FromAccount: number, From: "+4930111111", FromDevice: 1, To: peer, TS: now.UnixMilli(), Expires: exp, Body: payload},
			},
			w: endpoint.TxWrites{Now: now,
				Msgs: []endpoint.MessageRecord{{Number: number, ID: id, Peer: peer, Outgoing: true, Category: "service", Created: now}},
				Inbox: endpoint.InboxWrites{Messages: []endpoint.InboxMessage{{Number: number, ID: id, Peer: peer, Outgoing: true, Type: "text",
					Text: "Ihre Bestellung liegt bereit.", JSON: body[:120], At: now, Status: endpoint.InboxSent}}},
				Hooks: []webhook.Event{{ID: "status.sent." + id.String(), App: app, URL: "http://127.0.0.1:1/hook", Body: body, Created: now}}},
		})
		if len(sends) == batch {
			flush()
		}
		if sent++; sent%threadsEvery == 0 {
			indexThreads(b, db) // the background indexer's share of the writes
		}
	}
	if len(sends) > 0 {
		flush()
	}
	indexThreads(b, db)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
	if cfg.CheckpointPages == walNever {
		// Nothing was checkpointed: the WAL holds every page written,
		// each a 24-byte frame header and the page.
		b.ReportMetric(float64(walSize()-wal0)/(24+4096)/float64(b.N), "wal-pages/msg")
	}
	if latency {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-commit-µs")
		b.ReportMetric(float64(took[len(took)-1].Microseconds()), "max-commit-µs")
	}
}

// threadsEvery is how many messages hostedSends logs between two runs of
// the inbox threads' indexer (which reads up to inbox.IndexBatch a batch).
const threadsEvery = 512

// walNever is a checkpoint interval no benchmark reaches.
const walNever = 1 << 30

// BenchmarkHostedSendWAL is BenchmarkHostedSendWrites in one transaction
// per batch of 16 with nothing checkpointed, and reports the WAL pages
// written per message (wal-pages/msg).
func BenchmarkHostedSendWAL(b *testing.B) {
	hostedSends(b, store.Config{CheckpointPages: walNever}, 16, true, false)
}

// BenchmarkCheckpoint is BenchmarkHostedSendWrites in one transaction per
// batch of 16 with the WAL checkpointed by the writer after 1000 (SQLite's
// default), 4000 or 16000 pages (Config.CheckpointPages): CPU per message
// and the 99th percentile and longest commit, which include the
// checkpoints' stalls.
func BenchmarkCheckpoint(b *testing.B) {
	for _, pages := range []int{1000, 4000, 16000} {
		b.Run(fmt.Sprint("pages-", pages), func(b *testing.B) {
			hostedSends(b, store.Config{CheckpointPages: pages}, 16, true, true)
		})
	}
}

// BenchmarkSettleWebhooks records the results of delivered webhooks in
// batches of 16, one transaction each (SQLite): what settling costs per
// result (settle-cpu-µs/result counts the SettleWebhooks calls only; the
// enqueueing and claiming between them is not counted).
func BenchmarkSettleWebhooks(b *testing.B) {
	const batch = 16
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := kontor.NewIDs(nil, 1)
	app := ids.Next()
	body := []byte(`{"object":"whatsapp_business_account","entry":[` + strings.Repeat(" ", 600) + `]}`)
	const url = "http://127.0.0.1:1/hook"
	var settling time.Duration
	now := time.Now()
	n := 0
	for b.Loop() {
		if n%batch == 0 {
			evs := make([]webhook.Event, batch)
			for i := range evs {
				evs[i] = webhook.Event{ID: "status.sent." + ids.Next().String(), App: app, URL: url, Body: body, Created: now}
			}
			if _, err := db.EnqueueWebhooks(ctx, evs, now, webhook.Lease{}); err != nil {
				b.Fatal(err)
			}
			lease := int64(ids.Next())
			due, err := db.DueWebhooks(ctx, webhook.Claim{Now: now, Until: now.Add(time.Minute), Token: lease, Want: []webhook.Want{{URL: url, Limit: batch}}})
			if err != nil || len(due) != batch {
				b.Fatalf("claimed %d, %v", len(due), err)
			}
			rs := make([]webhook.Result, batch)
			for i, d := range due {
				rs[i] = webhook.Result{ID: d.ID, Lease: lease, Outcome: webhook.OutcomeDelivered, At: now, Status: 200, Response: "ok", Tried: true}
			}
			cpu0 := cpuTime(b)
			if err := db.SettleWebhooks(ctx, rs); err != nil {
				b.Fatal(err)
			}
			settling += cpuTime(b) - cpu0
		}
		n++
	}
	b.ReportMetric(float64(settling.Microseconds())/float64(b.N), "settle-cpu-µs/result")
}
