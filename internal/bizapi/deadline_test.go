package bizapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
	_ "github.com/kontor-chat/kontor/internal/store" // the sqlite and pgx drivers
)

// breaker makes the store refuse every new message record of a hosted
// endpoint (a trigger that raises on insert into endpoint_messages), so
// that the router's transaction of a hosted send fails every time, and
// heals it again.
type breaker struct {
	db       *sql.DB
	postgres bool
}

func newBreaker(t *testing.T, s *kontortest.Server) *breaker {
	t.Helper()
	b := &breaker{postgres: s.Config.DB != ""}
	driver, dsn := "sqlite", "file:"+filepath.Join(s.DataDir, "kontor.db")+"?_pragma=busy_timeout(10000)"
	if b.postgres {
		driver, dsn = "pgx", s.Config.DB
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b.db = db
	return b
}

func (b *breaker) exec(t *testing.T, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := b.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func (b *breaker) brk(t *testing.T) {
	if b.postgres {
		b.exec(t, `CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`,
			`CREATE TRIGGER test_refuse BEFORE INSERT ON endpoint_messages FOR EACH ROW EXECUTE FUNCTION test_refuse()`)
		return
	}
	b.exec(t, `CREATE TRIGGER test_refuse BEFORE INSERT ON endpoint_messages BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`)
}

func (b *breaker) heal(t *testing.T) {
	if b.postgres {
		b.exec(t, `DROP TRIGGER test_refuse ON endpoint_messages`, `DROP FUNCTION test_refuse()`)
		return
	}
	b.exec(t, `DROP TRIGGER test_refuse`)
}

func (b *breaker) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := b.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSendDeadline: a Business API send the platform cannot store
// answers 131016 within the send deadline, and nothing of it is half
// sent: no record, no webhook, nothing for the person, and nothing goes
// out later when the store heals (the message was withdrawn from the
// endpoint device's outbox; a business that sends it again must not make
// a duplicate). Then the same send goes out once.
func TestSendDeadline(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		const deadline = time.Second
		// Retries every 150–300 ms: eight of them (the client's most)
		// outlast the deadline, so the send is withdrawn rather than
		// failed; without the withdrawal it would go out within 300 ms
		// of the store healing.
		opts = append(opts, kontortest.WithConfig(func(c *config.Config) {
			c.SendDeadline = deadline
			c.EndpointMinBackoff, c.EndpointMaxBackoff = 300*time.Millisecond, 300*time.Millisecond
		}))
		s := kontortest.Start(t, opts...)
		biz, hook, ida := hostedChat(ctx, t, s, "+4930444445", "+4915100000008")
		number, token := biz.Number, biz.Token

		b := newBreaker(t, s)
		records := b.count(t, "endpoint_messages")
		hook.mu.Lock()
		hooks := len(hook.got)
		hook.mu.Unlock()
		send := map[string]any{"messaging_product": "whatsapp", "to": "4915100000008", "type": "text", "text": map[string]any{"body": "Ihr Strauß ist fertig"}}

		b.brk(t)
		start := time.Now()
		code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token, send)
		took := time.Since(start)
		if code != http.StatusServiceUnavailable || errCode(out) != cloudapi.CodeServiceUnavailable {
			t.Fatalf("send on a broken store: %d %v; want 503 with code 131016", code, out)
		}
		if took > deadline+500*time.Millisecond {
			t.Errorf("the send answered after %s; the deadline is %s", took, deadline)
		}
		b.heal(t)

		// Time for retries of a message left in the outbox to go out.
		quiet := time.After(1500 * time.Millisecond)
	wait:
		for {
			select {
			case ev := <-ida.c.Events():
				if m, ok := ev.(client.Message); ok && !m.Outgoing {
					t.Fatalf("Ida got %q after the send was answered 131016", m.Content.Text)
				}
			case <-quiet:
				break wait
			}
		}
		if n := b.count(t, "endpoint_messages"); n != records {
			t.Errorf("%d message records after the failed send; want %d", n, records)
		}
		hook.mu.Lock()
		if len(hook.got) != hooks {
			t.Errorf("%d webhooks after the failed send: %+v", len(hook.got)-hooks, hook.got[hooks:])
		}
		hook.mu.Unlock()

		// The business sends it again, and it goes out once.
		code, out = api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token, send)
		if code != 200 {
			t.Fatalf("send on the healed store: %d %v", code, out)
		}
		wamid := out["messages"].([]any)[0].(map[string]any)["id"].(string)
		hook.wait("sent "+wamid, statusOf(wamid, "sent"))
		if m := ida.next(t); m.Content.Text != "Ihr Strauß ist fertig" {
			t.Errorf("Ida got %q", m.Content.Text)
		}
		quiet = time.After(500 * time.Millisecond)
	again:
		for {
			select {
			case ev := <-ida.c.Events():
				if m, ok := ev.(client.Message); ok && !m.Outgoing {
					t.Fatalf("Ida got a second message %q", m.Content.Text)
				}
			case <-quiet:
				break again
			}
		}
	})
}
