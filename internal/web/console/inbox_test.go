package console_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// person is someone chatting with the business from their own device.
type person struct {
	t *testing.T
	*kontortest.Person
}

// newPerson makes an account through the admin API (no one-time code) and
// opens its device with end-to-end encryption.
func newPerson(ctx context.Context, t *testing.T, s *kontortest.Server, phone string) *person {
	t.Helper()
	return &person{t: t, Person: kontortest.NewOperatorPerson(ctx, t, s.URL, s.Token, phone)}
}

// next waits for the next event that ok accepts.
func (p *person) next(what string, ok func(client.Event) bool) client.Event {
	p.t.Helper()
	return p.Next(p.t, what, ok)
}

func (p *person) message(what string) client.Message {
	p.t.Helper()
	return p.next(what, func(ev client.Event) bool {
		m, ok := ev.(client.Message)
		return ok && !m.Outgoing && m.Content.Type != wire.ContentBusinessNotice
	}).(client.Message)
}

// hosted is a business made through the admin API, its endpoint hosted.
type hosted struct {
	WABA   string `json:"waba_id"`
	Number string `json:"phone_number_id"`
	Token  string `json:"access_token"`
}

// newBusiness makes the business name with the number phone.
func newBusiness(t *testing.T, s *kontortest.Server, name, phone string) hosted {
	t.Helper()
	var biz hosted
	if code := s.Call(t, "POST", "/admin/v1/businesses", s.Token, map[string]any{"name": name, "phone": phone}, &biz); code != 200 {
		t.Fatalf("creating the business %s: HTTP %d", name, code)
	}
	return biz
}

// eventually reloads path until the page says every text.
func (b *browser) eventually(path string, texts ...string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.want(path, b.get(path), 200)
		ok := true
		for _, s := range texts {
			ok = ok && strings.Contains(htmlText(b.last), s)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.see(texts...)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func htmlText(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#39;", "'", "&quot;", `"`, "&amp;", "&").Replace(s)
}

// TestInbox drives the inbox through the real server: a person writes to
// a hosted business from their device; an agent sees it unread, opens it
// (the person gets a read receipt), answers (the person gets it), and the
// ticks reach read; the agent assigns it, writes a note, uses a quick
// reply an owner saved (agents may not save them); outside the window a
// free-form reply is refused with its public code in words and a template
// with parameters goes out.
func TestInbox(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s := kontortest.Start(t, opts...)
		const bizPhone = "+4930777777"
		biz := newBusiness(t, s, "Blumen Clara", bizPhone)
		const pw = "tulips and roses in spring"
		for _, u := range []struct{ email, role string }{{"clara@blumen.example", "owner"}, {"dana@blumen.example", "agent"}} {
			if code := s.Call(t, "POST", "/admin/v1/console/users", s.Token, map[string]any{"business_id": biz.WABA, "email": u.email, "role": u.role, "password": pw}, nil); code != 200 {
				t.Fatalf("creating console user %s: HTTP %d", u.email, code)
			}
		}
		ana := newPerson(ctx, t, s, "+4915112345671")
		if _, err := ana.C.Send(ctx, bizPhone, wire.Content{V: wire.ContentVersion, Type: wire.ContentText, Text: "Habt ihr rote Tulpen?"}); err != nil {
			t.Fatal(err)
		}

		agent := newBrowser(t, s.URL)
		agent.signIn("dana@blumen.example", pw)
		agent.see(`href="/console/inbox"`)
		agent.eventually("/console/inbox", "Habt ihr rote Tulpen?", "1 unread", "1</strong> conversation with unread messages")
		agent.see("+4915112345671", "window open")
		convPath := "/console/inbox/" + biz.Number + "/4915112345671"
		agent.see(`href="` + convPath + `"`)

		// The inbox pages may run the console's own script; others may not.
		resp, err := agent.c.Get(s.URL + "/console/inbox")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("the inbox's CSP = %q", csp)
		}
		resp, _ = agent.c.Get(s.URL + "/console/profile")
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
			t.Errorf("the profile page allows scripts: %q", csp)
		}
		resp, _ = agent.c.Get(s.URL + "/console/static/inbox.js")
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("inbox.js: HTTP %d", resp.StatusCode)
		}

		// The live updates' stamp grows when something happens.
		stamp := func(q string) int64 {
			t.Helper()
			var out struct {
				Stamp int64 `json:"stamp"`
			}
			resp, err := agent.c.Get(s.URL + "/console/inbox/stamp?number=" + biz.Number + q)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Stamp == 0 {
				t.Fatalf("stamp%s: HTTP %d, %+v, %v", q, resp.StatusCode, out, err)
			}
			return out.Stamp
		}
		listStamp := stamp("")

		// Opening it marks it read here and sends Ana a read receipt.
		agent.want("conversation", agent.get(convPath), 200)
		agent.see("Conversation with +4915112345671", "Habt ihr rote Tulpen?", "Window open", "h 59 min left", "Your reply")
		ana.next("the read receipt", func(ev client.Event) bool {
			r, ok := ev.(client.Receipt)
			return ok && r.Status == wire.StatusRead
		})
		if stamp("") <= listStamp {
			t.Errorf("the list's stamp did not grow when the conversation was read")
		}
		agent.want("inbox", agent.get("/console/inbox"), 200)
		agent.see("No unread messages.")
		agent.want("live part", agent.get("/console/inbox?number="+biz.Number+"&part=live"), 200)
		if strings.Contains(agent.last, "<html") || !strings.Contains(agent.last, "Habt ihr rote Tulpen?") {
			t.Fatalf("the list's live part:\n%s", agent.last)
		}

		// Replies: checked on the server, then sent through the endpoint.
		agent.want("conversation", agent.get(convPath), 200)
		agent.want("empty reply", agent.post(convPath+"/reply", url.Values{"text": {"   "}}), 400)
		agent.see("Write a message first", `aria-invalid="true"`)
		agent.want("too long", agent.post(convPath+"/reply", url.Values{"text": {strings.Repeat("x", 4097)}}), 400)
		agent.see("at most 4,096 characters")
		convStamp := stamp("&peer=4915112345671")
		agent.want("reply", agent.post(convPath+"/reply", url.Values{"text": {"Ja, rote Tulpen haben wir."}}), 200)
		agent.see("The message is sent.", "Ja, rote Tulpen haben wir.", "✓")
		got := ana.message("the reply")
		if got.Content.Text != "Ja, rote Tulpen haben wir." {
			t.Fatalf("Ana got %+v", got.Content)
		}
		if err := ana.C.Read(ctx, bizPhone, got.ID); err != nil {
			t.Fatal(err)
		}
		agent.eventually(convPath, "✓✓ read")
		if stamp("&peer=4915112345671") <= convStamp {
			t.Errorf("the conversation's stamp did not grow")
		}
		agent.want("inbox", agent.get("/console/inbox"), 200)
		agent.see("You:", "Ja, rote Tulpen haben wir.")

		// Search, by text, number and nothing. The search index follows
		// the log about a second behind: the pages are asked until it has
		// caught up with the reply.
		agent.eventually("/console/inbox?q=TULPEN", "+4915112345671")
		agent.eventually("/console/inbox?q=12345671", "+4915112345671")
		agent.eventually("/console/inbox?q=habt+ihr", "No conversation matches.")
		agent.eventually("/console/inbox?q=habt+ihr&all=1", "+4915112345671")
		agent.eventually("/console/inbox?q=orchideen", "No conversation matches.")
		agent.want("search too long", agent.get("/console/inbox?q="+strings.Repeat("a", 101)), 400)
		agent.see("The search is too long")

		// Assignment and the filters.
		agent.want("assigned to me: none yet", agent.get("/console/inbox?filter=me"), 200)
		agent.notSee(convPath)
		agent.want("conversation", agent.get(convPath), 200)
		agent.want("assign to a stranger", agent.post(convPath+"/assign", url.Values{"user": {"12345"}}), 400)
		agent.see("Choose one of the business's console users")
		agent.want("assign to me", agent.post(convPath+"/assign", url.Values{"user": {"me"}}), 200)
		agent.see("The conversation's assignment is changed.", "dana@blumen.example")
		agent.want("assigned to me", agent.get("/console/inbox?filter=me"), 200)
		agent.see(convPath, "dana@blumen.example")
		agent.want("unassigned", agent.get("/console/inbox?filter=none"), 200)
		agent.notSee(convPath)

		// Notes.
		agent.want("empty note", agent.post(convPath+"/notes", url.Values{"note": {""}}), 400)
		agent.see("Write the note first")
		agent.want("note", agent.post(convPath+"/notes", url.Values{"note": {"Stammkundin, mag keine Lilien"}}), 200)
		agent.see("The note is saved.", "Stammkundin, mag keine Lilien")

		// Quick replies: agents use them, owners and admins keep them.
		agent.want("quick replies", agent.get("/console/inbox/quick-replies"), 200)
		agent.see("Owners and admins add and delete quick replies.")
		agent.want("agent adds a quick reply", agent.post("/console/inbox/quick-replies", url.Values{"title": {"x"}, "text": {"y"}}), 403)
		owner := newBrowser(t, s.URL)
		owner.signIn("clara@blumen.example", pw)
		owner.want("quick replies", owner.get("/console/inbox/quick-replies"), 200)
		owner.want("no title", owner.post("/console/inbox/quick-replies", url.Values{"title": {""}, "text": {"Mo–Fr 9–18 Uhr"}}), 400)
		owner.see("Give the quick reply a title", `href="#qr-title"`, "Mo–Fr 9–18 Uhr")
		owner.want("quick reply", owner.post("/console/inbox/quick-replies", url.Values{"title": {"Öffnungszeiten"}, "text": {"Mo–Fr 9–18 Uhr"}}), 200)
		owner.see("The quick reply is saved.")
		owner.want("same title", owner.post("/console/inbox/quick-replies", url.Values{"title": {"Öffnungszeiten"}, "text": {"again"}}), 400)
		owner.see("exists already")
		agent.want("conversation", agent.get(convPath), 200)
		qid := regexp.MustCompile(`\?quick=(\d+)`).FindStringSubmatch(agent.last)
		if qid == nil {
			t.Fatalf("no quick reply on the conversation page:\n%s", agent.last)
		}
		agent.want("insert the quick reply", agent.get(convPath+"?quick="+qid[1]), 200)
		agent.see(">Mo–Fr 9–18 Uhr</textarea>")

		// Outside the window: a person who never wrote, to whom the
		// business sent a template through the API.
		tmpl := map[string]any{"name": "abholung", "language": "de", "category": "UTILITY", "components": []any{
			map[string]any{"type": "HEADER", "format": "TEXT", "text": "Bestellung {{1}}", "example": map[string]any{"header_text": []string{"#1"}}},
			map[string]any{"type": "BODY", "text": "Hallo {{1}}, Ihre Bestellung {{2}} liegt bereit.", "example": map[string]any{"body_text": [][]string{{"Ann", "#1"}}}},
		}}
		var made map[string]any
		if code := s.Call(t, "POST", "/v21.0/"+biz.WABA+"/message_templates", biz.Token, tmpl, &made); code != 200 || made["status"] != "APPROVED" {
			t.Fatalf("the template: HTTP %d %v", code, made)
		}
		ben := newPerson(ctx, t, s, "+4915112345672")
		send := map[string]any{"messaging_product": "whatsapp", "to": "4915112345672", "type": "template", "template": map[string]any{
			"name": "abholung", "language": map[string]any{"code": "de"}, "components": []any{
				map[string]any{"type": "header", "parameters": []any{map[string]any{"type": "text", "text": "#5"}}},
				map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "Ben"}, map[string]any{"type": "text", "text": "#5"}}}}}}
		if code := s.Call(t, "POST", "/v21.0/"+biz.Number+"/messages", biz.Token, send, nil); code != 200 {
			t.Fatalf("sending the template through the API: HTTP %d", code)
		}
		ben.message("the API's template")
		benPath := "/console/inbox/" + biz.Number + "/4915112345672"
		agent.eventually(benPath, "Window closed", "Send a template", "abholung (de, UTILITY)")
		agent.notSee("Your reply")
		agent.want("free-form outside the window", agent.post(benPath+"/reply", url.Values{"text": {"Hallo Ben"}}), 400)
		agent.see("only a template may go out", "(Error 131047)")
		agent.want("choose the template", agent.get(benPath+"?template=abholung%7Cde"), 200)
		agent.see("Header parameter 1", "Body parameter 1", "Body parameter 2", "Hallo {{1}}, Ihre Bestellung {{2}} liegt bereit.")
		agent.want("a parameter missing", agent.post(benPath+"/template", url.Values{"template": {"abholung|de"}, "p1": {"#6"}, "p2": {"Ben"}}), 400)
		agent.see("Fill in body parameter 2.", `href="#p3"`)
		agent.want("unknown template", agent.post(benPath+"/template", url.Values{"template": {"nothing|de"}}), 400)
		agent.see("Choose one of the approved templates.")
		agent.want("the template", agent.post(benPath+"/template", url.Values{"template": {"abholung|de"}, "p1": {"#6"}, "p2": {"Ben"}, "p3": {"#6"}}), 200)
		agent.see("The message is sent.", "Hallo Ben, Ihre Bestellung #6 liegt bereit.")
		if m := ben.message("the console's template"); m.Content.Template == nil || m.Content.Template.Body != "Hallo Ben, Ihre Bestellung #6 liegt bereit." {
			t.Fatalf("Ben got %+v", m.Content)
		}

		// The business's own software marks a message read through the
		// API: the console counts it read too.
		id, err := ana.C.Send(ctx, bizPhone, wire.Content{V: wire.ContentVersion, Type: wire.ContentText, Text: "Noch eine Frage"})
		if err != nil {
			t.Fatal(err)
		}
		agent.eventually("/console/inbox", "Noch eine Frage", "1 unread")
		markRead := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": cloudapi.MessageID(id)}
		if code := s.Call(t, "POST", "/v21.0/"+biz.Number+"/messages", biz.Token, markRead, nil); code != 200 {
			t.Fatalf("marking read through the API: HTTP %d", code)
		}
		agent.eventually("/console/inbox", "Noch eine Frage", "No unread messages.")

		// Another business's conversation is not there for this one.
		agent.want("a stranger's conversation", agent.get("/console/inbox/"+biz.Number+"/4915199999999"), 404)
		agent.want("another number", agent.get("/console/inbox/1/4915112345671"), 404)
	})
}
