package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/wire"
)

// TestEndpointFailover: in a cluster a hosted business's endpoint runs on
// node 1 and keeps its profile in PostgreSQL; node 1 dies (SIGKILL);
// during the gap node 2 answers the Business API's 503 (131016) and the
// console says so; within the lease node 2 takes the endpoint over (log
// line, metric) and serves it: the Business API on node 2 sends, the
// person decrypts, her answer reaches the business as a webhook, statuses
// flow — all on the Signal sessions from before (the person's one-time
// prekeys are untouched: no new session was started). Node 1 comes back
// and reaches the endpoint on node 2 through the relay.
func TestEndpointFailover(t *testing.T) {
	db := kontortest.PostgresURL(t)
	nats := kontortest.NATSURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const lease = 12 * time.Second
	args := func(node string) []string {
		return []string{"--db", db, "--nats", nats, "--node", node, "--endpoint-lease", lease.String(), "--log-level", "info"}
	}
	n1 := kontortest.StartProcess(t, "", args("1")...)
	n2 := kontortest.StartProcess(t, "", args("2")...)

	hooks := kontortest.NewWebhooks(t)
	const bizPhone = "+4930666666"
	biz := kontortest.CreateBusiness(t, n1.URL, n1.Token(), map[string]any{"name": "Bäckerei Lutz", "phone": bizPhone, "webhook_url": hooks.URL}, hooks)
	send := func(p *kontortest.Process, text string) (int, map[string]any) {
		t.Helper()
		var out map[string]any
		code := kontortest.Call(t, p.URL, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, map[string]any{
			"messaging_product": "whatsapp", "to": "4915100000021", "type": "text", "text": map[string]any{"body": text}}, &out)
		return code, out
	}
	wamidOf := func(out map[string]any) string {
		return out["messages"].([]any)[0].(map[string]any)["id"].(string)
	}

	// Lea is on node 2; sessions both ways with the endpoint on node 1.
	lea := kontortest.NewPerson(ctx, t, n2.URL, "+4915100000021")
	for _, text := range []string{"Moin", "Zwei Brötchen bitte"} {
		if _, err := lea.C.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentText, Text: text}); err != nil {
			t.Fatal(err)
		}
		hooks.Wait(t, "Lea's "+text, func(v cloudapi.MessagesValue) bool {
			return len(v.Messages) == 1 && v.Messages[0].Text != nil && v.Messages[0].Text.Body == text
		})
	}
	for _, text := range []string{"Gern", "Liegen bereit"} {
		code, out := send(n2, text)
		if code != 200 {
			t.Fatalf("send through node 2 to node 1's endpoint: %d %v", code, out)
		}
		if m := lea.NextContent(t, wire.ContentText); m.Content.Text != text {
			t.Fatalf("Lea got %+v", m.Content)
		}
		hooks.Wait(t, "delivered", kontortest.StatusIs(wamidOf(out), "delivered"))
	}
	// Media before the failover: the business's upload (through node 1)
	// and Lea's photo; both are in the store, not on node 1's disk.
	doc := bytes.Repeat([]byte("%PDF-1.4 Brotpreise "), 80_000) // 1.6 MB: two rows
	code, docID := kontortest.UploadMedia(t, http.DefaultClient, n1.URL, biz.Number, biz.Token, "preise.pdf", "application/pdf", doc)
	if code != 200 || docID == "" {
		t.Fatalf("upload on node 1: HTTP %d, id %q", code, docID)
	}
	photo := bytes.Repeat([]byte("\x89PNG Brezel "), 50_000)
	att, err := lea.C.Attach(ctx, bizPhone, wire.ContentImage, "image/png", "", "die hier?", photo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lea.C.Send(ctx, bizPhone, att); err != nil {
		t.Fatal(err)
	}
	img := hooks.Wait(t, "Lea's photo", func(v cloudapi.MessagesValue) bool {
		return len(v.Messages) == 1 && v.Messages[0].Type == "image"
	}).Messages[0].Image
	keys, err := lea.C.API().KeysStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}

	const pw = "rye and spelt and wheat"
	if code := kontortest.Call(t, n2.URL, http.MethodPost, "/admin/v1/console/users", n2.Token(),
		map[string]any{"business_id": biz.WABA, "email": "lutz@baeckerei.example", "role": "agent", "password": pw}, nil); code != 200 {
		t.Fatalf("console user: HTTP %d", code)
	}
	agent := signIn(t, n2.URL, "lutz@baeckerei.example", pw)
	convPath := "/console/inbox/" + biz.Number + "/4915100000021"
	agent.get(t, convPath)

	// Node 1 dies. Until node 2 takes over, its callers get the 503.
	// Both gap calls start at once: each waits out the relay's search for
	// a holder (5 s), and one after the other they could outlast the time
	// node 2 needs to take over (CI saw the console reply sent).
	n1.Kill()
	killed := time.Now()
	type answer struct {
		resp *http.Response
		err  error
	}
	gap := make(chan answer, 1)
	form := url.Values{"text": {"niemand da"}}
	go func() {
		resp, err := agent.postForm(convPath+"/reply", form)
		gap <- answer{resp, err}
	}()
	code, out := send(n2, "niemand da")
	if code != http.StatusServiceUnavailable || apiCode(out) != cloudapi.CodeServiceUnavailable {
		t.Fatalf("in the gap: %d %v", code, out)
	}
	a := <-gap
	if page := agent.keep(t, a.resp, a.err); !strings.Contains(page, "Error 131016") {
		t.Fatalf("console reply in the gap:\n%s", page)
	}

	// Node 2 takes over within the lease (and a tick).
	var wamid string
	for deadline := killed.Add(lease + 15*time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, out = send(n2, "Wieder da")
		if code == 200 {
			wamid = wamidOf(out)
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after node 1 died: %d %v\nnode 2's log:\n%s", code, out, n2.Log())
		}
	}
	took := time.Since(killed)
	t.Logf("node 2 served the endpoint %s after node 1 died (lease %s)", took.Round(100*time.Millisecond), lease)
	if took > lease+10*time.Second {
		t.Errorf("the takeover took %s with a lease of %s", took, lease)
	}
	if m := lea.NextContent(t, wire.ContentText); m.Content.Text != "Wieder da" {
		t.Fatalf("Lea got %+v", m.Content)
	}
	hooks.Wait(t, "delivered after the takeover", kontortest.StatusIs(wamid, "delivered"))
	if _, err := lea.C.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentText, Text: "Danke!"}); err != nil {
		t.Fatal(err)
	}
	in := hooks.Wait(t, "Lea's message after the takeover", func(v cloudapi.MessagesValue) bool {
		return len(v.Messages) == 1 && v.Messages[0].Text != nil && v.Messages[0].Text.Body == "Danke!"
	}).Messages[0]
	var rd map[string]any
	if code := kontortest.Call(t, n2.URL, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token,
		map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": in.ID}, &rd); code != 200 {
		t.Fatalf("mark read after the takeover: %d %v", code, rd)
	}
	if page := agent.post(t, convPath+"/reply", url.Values{"text": {"Aus der Konsole"}}); !strings.Contains(page, "The message is sent.") {
		t.Fatalf("console reply after the takeover:\n%s", page)
	}
	if m := lea.NextContent(t, wire.ContentText); m.Content.Text != "Aus der Konsole" {
		t.Fatalf("Lea got %+v", m.Content)
	}
	// The media from before the failover, on node 2: metadata, download,
	// and the document sent by its id.
	for _, m := range []struct {
		id   string
		want []byte
	}{{docID, doc}, {img.ID, photo}} {
		var info map[string]any
		if code := kontortest.Call(t, n2.URL, http.MethodGet, "/v21.0/"+m.id, biz.Token, nil, &info); code != 200 || info["file_size"] != float64(len(m.want)) {
			t.Fatalf("media %s after the takeover: %d %v", m.id, code, info)
		}
		if got := download(t, info["url"].(string), biz.Token); !bytes.Equal(got, m.want) {
			t.Fatalf("media %s after the takeover: %d bytes, want %d", m.id, len(got), len(m.want))
		}
	}
	var sent map[string]any
	if code := kontortest.Call(t, n2.URL, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, map[string]any{
		"messaging_product": "whatsapp", "to": "4915100000021", "type": "document", "document": map[string]any{"id": docID, "caption": "Preise"}}, &sent); code != 200 {
		t.Fatalf("send the document after the takeover: %d %v", code, sent)
	}
	dm := lea.NextContent(t, wire.ContentDocument)
	if file, err := lea.C.Fetch(ctx, dm.Content.Media); err != nil || !bytes.Equal(file, doc) {
		t.Fatalf("Lea's document after the takeover: %d bytes, %v", len(file), err)
	}

	// The same sessions: the endpoint fetched none of Lea's one-time prekeys.
	if after, err := lea.C.API().KeysStatus(ctx); err != nil || after.PreKeys != keys.PreKeys {
		t.Fatalf("Lea's one-time prekeys: %d before, %d after (%v): the endpoint started a new session", keys.PreKeys, after.PreKeys, err)
	}
	if !strings.Contains(n2.Log(), "took over a hosted endpoint") {
		t.Fatalf("node 2 did not log the takeover:\n%s", n2.Log())
	}
	if got := metric(t, n2.URL, "kontor_endpoint_takeovers_total"); got != "1" {
		t.Fatalf("kontor_endpoint_takeovers_total on node 2: %q", got)
	}

	// Node 1 comes back: it reaches the endpoint on node 2.
	n1.Restart()
	code, out = send(n1, "Über Knoten 1")
	if code != 200 {
		t.Fatalf("through node 1 after its restart: %d %v", code, out)
	}
	if m := lea.NextContent(t, wire.ContentText); m.Content.Text != "Über Knoten 1" {
		t.Fatalf("Lea got %+v", m.Content)
	}

	// Someone else takes the lease (as a node that saw it expired would):
	// node 2 closes the endpoint at its next renewal; once that lease runs
	// out a node takes the endpoint over again, on the same sessions.
	st, err := store.Open(ctx, store.Config{URL: db, CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	number, _ := kontor.ParseID(biz.Number)
	if _, _, ok, err := st.ClaimEndpoint(ctx, number, "thief", time.Now().Add(time.Hour), time.Now().Add(lease/2)); err != nil || !ok {
		t.Fatalf("stealing the lease: %v %v", ok, err)
	}
	for deadline := time.Now().Add(lease); metric(t, n2.URL, "kontor_endpoint_leases_lost_total") != "1"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("node 2 did not close the endpoint whose lease it lost:\n%s", n2.Log())
		}
	}
	if !strings.Contains(n2.Log(), "closing a hosted endpoint: this node lost its lease") {
		t.Fatalf("node 2 did not log the lost lease:\n%s", n2.Log())
	}
	for deadline := time.Now().Add(lease + 15*time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code, out = send(n2, "Nochmal"); code == 200 {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the stolen lease ran out: %d %v", code, out)
		}
	}
	if m := lea.NextContent(t, wire.ContentText); m.Content.Text != "Nochmal" {
		t.Fatalf("Lea got %+v", m.Content)
	}
	if after, err := lea.C.API().KeysStatus(ctx); err != nil || after.PreKeys != keys.PreKeys {
		t.Fatalf("Lea's one-time prekeys after the second takeover: %d before, %d after (%v)", keys.PreKeys, after.PreKeys, err)
	}
	if bad := hooks.Bad(); bad != 0 {
		t.Fatalf("%d webhooks were not signed with the app's secret", bad)
	}
}

// metric returns the value of a metric without labels on /metrics.
func metric(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestEndpointImport: the upgrade of a cluster whose hosted endpoints kept
// their profiles in one node's data directory. The node runs on
// PostgreSQL with its profile in --data/endpoints (here: an embedded NATS,
// which keeps profiles there as before); started as a cluster node it
// imports the profile into the store once — Signal sessions from the
// journal included, so the person's chat goes on without a new session —
// and a second start does not import again.
func TestEndpointImport(t *testing.T) {
	db := kontortest.PostgresURL(t)
	nats := kontortest.NATSURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n := kontortest.StartProcess(t, "", "--db", db, "--node", "1", "--log-level", "info")
	hooks := kontortest.NewWebhooks(t)
	const bizPhone = "+4930777777"
	biz := kontortest.CreateBusiness(t, n.URL, n.Token(), map[string]any{"name": "Fischhaus Kim", "phone": bizPhone, "webhook_url": hooks.URL}, hooks)
	exchange := func(p *kontortest.Person, in, out string) {
		t.Helper()
		if _, err := p.C.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentText, Text: in}); err != nil {
			t.Fatal(err)
		}
		hooks.Wait(t, "the person's "+in, func(v cloudapi.MessagesValue) bool {
			return len(v.Messages) == 1 && v.Messages[0].Text != nil && v.Messages[0].Text.Body == in
		})
		var res map[string]any
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			code := kontortest.Call(t, n.URL, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, map[string]any{
				"messaging_product": "whatsapp", "to": strings.TrimPrefix(string(p.Phone), "+"), "type": "text", "text": map[string]any{"body": out}}, &res)
			if code == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("send %q: %d %v\n%s", out, code, res, n.Log())
			}
		}
		if m := p.NextContent(t, wire.ContentText); m.Content.Text != out {
			t.Fatalf("got %+v", m.Content)
		}
	}
	kim := kontortest.NewPerson(ctx, t, n.URL, "+4915100000031")
	exchange(kim, "Haben Sie Scholle?", "Ja, frisch")
	exchange(kim, "Zwei Stück", "Gern")
	keys, err := kim.C.API().KeysStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The upgrade: the same node, now a cluster node.
	if err := n.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	n.Args = append(n.Args, "--nats", nats, "--endpoint-lease", "6s")
	n.Restart()
	exchange(kim, "Noch da?", "Ja, aus der Datenbank")
	if !strings.Contains(n.Log(), "imported a hosted endpoint's profile into the store") {
		t.Fatalf("no import logged:\n%s", n.Log())
	}
	if err := n.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	n.Restart()
	exchange(kim, "Und jetzt?", "Immer noch")
	if log := n.Log(); strings.Contains(log, "imported a hosted endpoint's profile") || !strings.Contains(log, "is in the store already") {
		t.Fatalf("the second start imported again, or did not say why not:\n%s", log)
	}
	if after, err := kim.C.API().KeysStatus(ctx); err != nil || after.PreKeys != keys.PreKeys {
		t.Fatalf("Kim's one-time prekeys: %d before, %d after (%v): the endpoint started a new session", keys.PreKeys, after.PreKeys, err)
	}
}
