package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/store/storetest"
)

// BenchmarkQualitySignals is what the quality sweep reads for one number
// whose last 7 days hold 100,000 sent messages to 50,000 people, 1,000 of
// whom blocked it: on SQLite, and on PostgreSQL when KONTOR_TEST_POSTGRES
// is set.
func BenchmarkQualitySignals(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := store.Open(context.Background(), store.Config{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		benchQualitySignals(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv("KONTOR_TEST_POSTGRES") == "" {
			b.Skip("KONTOR_TEST_POSTGRES is not set")
		}
		db, err := store.Open(context.Background(), store.Config{URL: storetest.PostgresURL(b), DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		benchQualitySignals(b, db)
	})
}

func benchQualitySignals(b *testing.B, db *store.DB) {
	defer db.Close()
	ctx := context.Background()
	ids := kontor.NewIDs(nil, 1)
	now := time.Now().Truncate(time.Millisecond)
	biz := business.Business{ID: ids.Next(), Name: "Blumen", Created: now}
	n := business.Number{ID: ids.Next(), Business: biz.ID, Phone: "+4930111111", Account: ids.Next(), VerifiedName: "Blumen",
		Quality: "GREEN", Tier: "TIER_100K", MPS: 80, Created: now}
	if err := db.CreateBusiness(ctx, biz, n, business.App{ID: ids.Next(), Business: biz.ID, Secret: "s", Created: now},
		business.Token{ID: ids.Next(), Hash: []byte("h"), Business: biz.ID, Scopes: business.ScopeMessaging, Created: now}); err != nil {
		b.Fatal(err)
	}
	peer := func(i int) kontor.Phone { return kontor.Phone(fmt.Sprintf("+49151%07d", i)) }
	msgs := make([]endpoint.MessageRecord, 0, 1000)
	for i := range 100_000 {
		msgs = append(msgs, endpoint.MessageRecord{Number: n.ID, ID: ids.Next(), Peer: peer(i % 50_000), Outgoing: true,
			Initiated: i < 50_000, Created: now.Add(-time.Duration(i) * time.Second)})
		if len(msgs) == cap(msgs) {
			if err := db.PutMessages(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	for i := range 1000 {
		h := sha256.Sum256([]byte(peer(i * 50)))
		a, _, err := db.Register(ctx, identity.Account{ID: ids.Next(), Phone: peer(i * 50), Created: now, LastSeenPrivacy: identity.PrivacyEveryone},
			identity.Device{ID: ids.Next(), Name: "primary", SecretHash: h[:], Created: now})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Block(ctx, a.ID, n.Phone, now); err != nil {
			b.Fatal(err)
		}
	}
	since := now.Add(-7 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		s, err := db.QualitySignals(ctx, n.ID, since, since)
		if err != nil || s.Reached != 50_000 || s.Complaints != 1000 || s.Reach != 50_000 {
			b.Fatalf("%+v %v", s, err)
		}
	}
}
