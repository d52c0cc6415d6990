package bizapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestSendLeaseLost: in a cluster (PostgreSQL, external NATS) a Business
// API send still waiting for the platform (its store refuses the message)
// when the node loses the endpoint's lease (the test hands it to another
// holder at a higher epoch, as a takeover does) cannot record its
// withdrawal (the profile's writes are fenced) and answers 131016 "may
// have gone out or may still go out". When the lease comes back to the
// node (the other holder's ran out) it reopens the profile, and the send
// left in its outbox goes out once: the person gets it, and then the
// business's next message, with no copy in between. That copy is
// recorded like any other send, from the note it left in the outbox: its
// "sent" and "delivered" status webhooks carry the request's
// biz_opaque_callback_data, and the console's inbox has it.
func TestSendLeaseLost(t *testing.T) {
	db := kontortest.PostgresURL(t)
	nats := kontortest.NATSURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := kontortest.Start(t, kontortest.WithDB(db), kontortest.WithNATS(nats), kontortest.WithConfig(func(c *config.Config) {
		c.SendDeadline = time.Minute // only the lost lease ends the send
		c.EndpointMinBackoff, c.EndpointMaxBackoff = 300*time.Millisecond, 300*time.Millisecond
		c.EndpointLease = 2 * time.Second
	}))
	biz, hook, ida := hostedChat(ctx, t, s, "+4930444447", "+4915100000010")
	number, token := biz.Number, biz.Token
	b := newBreaker(t, s)
	const old, callback = "Der alte Strauß", "auftrag-4711"

	b.brk(t)
	type answer struct {
		code int
		out  map[string]any
	}
	answered := make(chan answer, 1)
	go func() {
		code, out := api(t, s, http.MethodPost, "/v21.0/"+number+"/messages", token,
			map[string]any{"messaging_product": "whatsapp", "to": "4915100000010", "type": "text", "text": map[string]any{"body": old},
				"biz_opaque_callback_data": callback})
		answered <- answer{code, out}
	}()
	// The send is in the device's outbox once its profile has it.
	for {
		var n int
		if err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM endpoint_files WHERE position(convert_to($1, 'UTF8') IN data) > 0`, old).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case a := <-answered:
			t.Fatalf("the send answered %d %v before it was in the outbox", a.code, a.out)
		case <-ctx.Done():
			t.Fatal("the send never reached the endpoint's outbox")
		case <-time.After(20 * time.Millisecond):
		}
	}
	now := time.Now()
	b.exec(t, `UPDATE endpoint_leases SET holder = 'test-thief', epoch = epoch + 1, renewed = `+
		strconv.FormatInt(now.UnixMilli(), 10)+`, expires = `+strconv.FormatInt(now.Add(1500*time.Millisecond).UnixMilli(), 10))

	var a answer
	select {
	case a = <-answered:
	case <-ctx.Done():
		t.Fatal("the send did not answer when the endpoint's lease was lost")
	}
	e, _ := a.out["error"].(map[string]any)
	details, _ := e["error_data"].(map[string]any)["details"].(string)
	if a.code != http.StatusServiceUnavailable || errCode(a.out) != cloudapi.CodeServiceUnavailable || !strings.Contains(details, "may still go out") {
		t.Fatalf("send when the lease was lost: %d %v; want 503, 131016, may still go out", a.code, a.out)
	}
	b.heal(t)

	// The node takes the endpoint back once the other holder's lease ran
	// out; the old send goes out from the reopened profile, once.
	m := ida.next(t)
	if m.Content.Text != old {
		t.Fatalf("Ida got %q; want the send left in the outbox", m.Content.Text)
	}
	wamid := cloudapi.MessageID(m.ID)
	for _, status := range []string{"sent", "delivered"} {
		v := hook.wait(status+" of the copy sent after the takeover", statusOf(wamid, status))
		if st := v.Statuses[0]; st.BizOpaqueCallbackData != callback || st.RecipientID != "4915100000010" {
			t.Fatalf("%s status of the copy: %+v; want the request's biz_opaque_callback_data %q", status, st, callback)
		}
	}
	var text, body string
	var outgoing bool
	if err := b.db.QueryRowContext(ctx, `SELECT text, body, outgoing FROM inbox_messages WHERE msg_id = $1`, int64(m.ID)).Scan(&text, &body, &outgoing); err != nil {
		t.Fatalf("the copy's console inbox entry: %v", err)
	}
	if text != old || !outgoing || !strings.Contains(body, callback) {
		t.Fatalf("the copy's console inbox entry: %q %q outgoing %v; want the send's", text, body, outgoing)
	}
	code, out := sendWhenOpen(t, s, number, token, "4915100000010", "Der neue Strauß") // until the endpoint is open again
	if code != 200 {
		t.Fatalf("send after the takeover: %d %v", code, out)
	}
	if m := ida.next(t); m.Content.Text != "Der neue Strauß" {
		t.Fatalf("Ida got %q after the old send; want the new message, no second copy", m.Content.Text)
	}
}
