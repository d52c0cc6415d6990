package bizapi_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// commits reads the store's write transactions by operation from the
// node's metrics (kontor_store_commits_total).
func commits(t *testing.T, s *kontortest.Server) map[string]int {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `kontor_store_commits_total{op="`)
		if !ok {
			continue
		}
		op, n, _ := strings.Cut(rest, `"} `)
		v, err := strconv.ParseFloat(n, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", sc.Text(), err)
		}
		out[op] = int(v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostedSendOneTransaction: a hosted endpoint's send is one write
// transaction, the router's: the message's record, inbox entry and
// "sent" webhook ride it (router.Rider), and the endpoint's own group
// commit writes nothing for it.
func TestHostedSendOneTransaction(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		biz, hook, ida := hostedChat(ctx, t, s, "+4930444444", "+4915100000007")
		number, token := biz.Number, biz.Token
		// Ida goes offline: no receipts come back while the business sends.
		ida.c.Close()

		before := commits(t, s)
		const sends = 3
		for i := range sends {
			code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token, map[string]any{
				"messaging_product": "whatsapp", "to": "4915100000007", "type": "text", "text": map[string]any{"body": "Antwort " + strconv.Itoa(i)}})
			if code != 200 {
				t.Fatalf("send %d: %d %v", i, code, out)
			}
			wamid := out["messages"].([]any)[0].(map[string]any)["id"].(string)
			hook.wait("sent "+wamid, statusOf(wamid, "sent"))
		}
		after := commits(t, s)
		if n := after["store.Tx"] - before["store.Tx"]; n < sends {
			t.Errorf("%d router transactions for %d sends", n, sends)
		}
		for _, op := range []string{"store.PutEndpointBatch", "store.PutMessages", "store.PutInbox", "store.EnqueueWebhooks", "store.NoteInbound"} {
			if n := after[op] - before[op]; n != 0 {
				t.Errorf("%d %s transactions for %d hosted sends; want none (their writes ride the router's)", n, op, sends)
			}
		}
	})
}
