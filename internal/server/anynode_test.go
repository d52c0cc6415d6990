package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestBusinessAnyNode: a hosted business whose endpoint runs on node 1 is
// served by node 2 as well — the Business API (text, a media upload of
// several NATS messages, its metadata, download and send, a template, mark
// read), the console's inbox (a reply, a file attached) and a shop's orders
// (placed by a person on node 2, the order webhook, the console's confirm,
// payment request and order news, the payment) — and the person on node 2
// decrypts what comes (the attachments too, their blobs on node 1), her
// photo (its blob on node 2) reaches the business, the businesses get their
// webhooks signed; with node 1 stopped node 2 takes the endpoints over (503
// in the Cloud API shape until it has) and node 1, back, reaches them there.
func TestBusinessAnyNode(t *testing.T) {
	db := kontortest.PostgresURL(t)
	nats := kontortest.NATSURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n1 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "1")
	n2 := kontortest.StartProcess(t, "", "--db", db, "--nats", nats, "--node", "2")

	hooks := kontortest.NewWebhooks(t)
	const bizPhone = "+4930444444"
	biz := kontortest.CreateBusiness(t, n1.URL, n1.Token(), map[string]any{"name": "Blumen Nora", "phone": bizPhone, "webhook_url": hooks.URL}, hooks)
	api := func(p *kontortest.Process, method, path string, body any) (int, map[string]any) {
		t.Helper()
		var out map[string]any
		code := kontortest.Call(t, p.URL, method, path, biz.Token, body, &out)
		return code, out
	}

	// Ann is on node 2: what she sends reaches the endpoint on node 1.
	ann := kontortest.NewPerson(ctx, t, n2.URL, "+4915100000011")
	if _, err := ann.C.Send(ctx, bizPhone, wire.Content{V: 1, Type: wire.ContentText, Text: "Hallo von Ann"}); err != nil {
		t.Fatal(err)
	}
	annIn := hooks.Wait(t, "Ann's message", func(v cloudapi.MessagesValue) bool {
		return len(v.Messages) == 1 && v.Messages[0].Text != nil && v.Messages[0].Text.Body == "Hallo von Ann"
	}).Messages[0]

	// A text through node 2.
	code, out := api(n2, http.MethodPost, "/v21.0/"+biz.Number+"/messages", map[string]any{
		"messaging_product": "whatsapp", "to": "4915100000011", "type": "text", "text": map[string]any{"body": "Über Knoten 2"}})
	if code != 200 {
		t.Fatalf("text through node 2: %d %v", code, out)
	}
	wamid := out["messages"].([]any)[0].(map[string]any)["id"].(string)
	if m := ann.NextContent(t, wire.ContentText); m.Content.Text != "Über Knoten 2" {
		t.Fatalf("Ann got %+v", m.Content)
	}
	hooks.Wait(t, "delivered", kontortest.StatusIs(wamid, "delivered"))

	// An error of the endpoint keeps its code and status through node 2.
	code, out = api(n2, http.MethodPost, "/v21.0/"+biz.Number+"/messages", map[string]any{
		"messaging_product": "whatsapp", "to": "4915100000019", "type": "text", "text": map[string]any{"body": "Angebot"}})
	if code != 400 || apiCode(out) != cloudapi.CodeReengagement {
		t.Fatalf("outside the window through node 2: %d %v", code, out)
	}

	// Mark read through node 2: Ann sees her message read.
	if code, out := api(n2, http.MethodPost, "/v21.0/"+biz.Number+"/messages", map[string]any{
		"messaging_product": "whatsapp", "status": "read", "message_id": annIn.ID}); code != 200 || out["success"] != true {
		t.Fatalf("mark read through node 2: %d %v", code, out)
	}
	ann.Next(t, "the read receipt", func(ev client.Event) bool {
		r, ok := ev.(client.Receipt)
		return ok && r.Status == wire.StatusRead
	})

	// A document bigger than one NATS message: upload, metadata, download
	// and send, all through node 2.
	doc := bytes.Repeat([]byte("%PDF-1.4 Preisliste 2026 "), 100_000) // 2.5 MB
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("messaging_product", "whatsapp")
	_ = mw.WriteField("type", "application/pdf")
	fw, _ := mw.CreateFormFile("file", "preise.pdf")
	_, _ = fw.Write(doc)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, n2.URL+"/v21.0/"+biz.Number+"/media", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+biz.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	mediaID, _ := up["id"].(string)
	if resp.StatusCode != 200 || mediaID == "" {
		t.Fatalf("upload through node 2: %d %v", resp.StatusCode, up)
	}
	code, info := api(n2, http.MethodGet, "/v21.0/"+mediaID, nil)
	if code != 200 || info["file_size"] != float64(len(doc)) || !strings.HasPrefix(info["url"].(string), n2.URL+"/") {
		t.Fatalf("media info through node 2: %d %v", code, info)
	}
	dreq, _ := http.NewRequest(http.MethodGet, info["url"].(string), nil)
	dreq.Header.Set("Authorization", "Bearer "+biz.Token)
	dresp, err := http.DefaultClient.Do(dreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(dresp.Body)
	dresp.Body.Close()
	if dresp.StatusCode != 200 || !bytes.Equal(body, doc) || dresp.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(dresp.Header.Get("Content-Disposition"), "preise.pdf") {
		t.Fatalf("download through node 2: %d, %d bytes, header %v", dresp.StatusCode, len(body), dresp.Header)
	}
	if got := download(t, strings.Replace(info["url"].(string), "sig=", "sig=x", 1), biz.Token); got != nil {
		t.Fatalf("a download with a bad signature through node 2 gave %d bytes", len(got))
	}
	code, out = api(n2, http.MethodPost, "/v21.0/"+biz.Number+"/messages", map[string]any{
		"messaging_product": "whatsapp", "to": "4915100000011", "type": "document", "document": map[string]any{"id": mediaID, "caption": "Preise"}})
	if code != 200 {
		t.Fatalf("send the document through node 2: %d %v", code, out)
	}
	dm := ann.NextContent(t, wire.ContentDocument)
	if dm.Content.Text != "Preise" || dm.Content.Media == nil || dm.Content.Media.FileName != "preise.pdf" {
		t.Fatalf("Ann got %+v", dm.Content)
	}
	// The endpoint put the encrypted blob on node 1; Ann fetches it from node 2.
	if file, err := ann.C.Fetch(ctx, dm.Content.Media); err != nil || !bytes.Equal(file, doc) {
		t.Fatalf("Ann's download through node 2: %d bytes, %v", len(file), err)
	}

	// Ann's photo goes up to node 2; the endpoint on node 1 fetches it,
	// and the business downloads it through node 2.
	photo := bytes.Repeat([]byte("\x89PNG Tulpen "), 150_000) // 2 MB
	att, err := ann.C.Attach(ctx, bizPhone, wire.ContentImage, "image/png", "", "so?", photo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.C.Send(ctx, bizPhone, att); err != nil {
		t.Fatal(err)
	}
	img := hooks.Wait(t, "Ann's photo", func(v cloudapi.MessagesValue) bool {
		return len(v.Messages) == 1 && v.Messages[0].Type == "image"
	}).Messages[0].Image
	if img == nil || img.ID == "" || img.Caption != "so?" {
		t.Fatalf("image webhook: %+v", img)
	}
	code, info = api(n2, http.MethodGet, "/v21.0/"+img.ID, nil)
	if code != 200 || info["file_size"] != float64(len(photo)) {
		t.Fatalf("photo info through node 2: %d %v", code, info)
	}
	if got := download(t, info["url"].(string), biz.Token); !bytes.Equal(got, photo) {
		t.Fatalf("photo through node 2: %d bytes", len(got))
	}

	// A template, created and sent through node 2.
	code, out = api(n2, http.MethodPost, "/v21.0/"+biz.WABA+"/message_templates", map[string]any{
		"name": "abholbereit", "language": "de", "category": "UTILITY",
		"components": []any{map[string]any{"type": "BODY", "text": "Hallo {{1}}, Ihre Bestellung liegt bereit.",
			"example": map[string]any{"body_text": [][]string{{"Ann"}}}}}})
	if code != 200 || out["status"] != "APPROVED" {
		t.Fatalf("template: %d %v", code, out)
	}
	code, out = api(n2, http.MethodPost, "/v21.0/"+biz.Number+"/messages", map[string]any{
		"messaging_product": "whatsapp", "to": "4915100000011", "type": "template",
		"template": map[string]any{"name": "abholbereit", "language": map[string]any{"code": "de"},
			"components": []any{map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "Ann"}}}}}})
	if code != 200 {
		t.Fatalf("template through node 2: %d %v", code, out)
	}
	tm := ann.NextContent(t, wire.ContentTemplate)
	if b, _ := json.Marshal(tm.Content); !strings.Contains(string(b), "Hallo Ann, Ihre Bestellung liegt bereit.") {
		t.Fatalf("Ann's template: %s", b)
	}

	// The console's inbox on node 2 replies through node 1's endpoint.
	const pw = "tulips and roses in spring"
	if code := kontortest.Call(t, n2.URL, http.MethodPost, "/admin/v1/console/users", n2.Token(),
		map[string]any{"business_id": biz.WABA, "email": "nora@blumen.example", "role": "agent", "password": pw}, nil); code != 200 {
		t.Fatalf("console user: HTTP %d", code)
	}
	agent := signIn(t, n2.URL, "nora@blumen.example", pw)
	convPath := "/console/inbox/" + biz.Number + "/4915100000011"
	if page := agent.get(t, convPath); !strings.Contains(page, "Your reply") {
		t.Fatalf("the conversation on node 2 has no reply form:\n%s", page)
	}
	if page := agent.post(t, convPath+"/reply", url.Values{"text": {"Antwort aus der Konsole"}}); !strings.Contains(page, "The message is sent.") {
		t.Fatalf("console reply on node 2:\n%s", page)
	}
	if m := ann.NextContent(t, wire.ContentText); m.Content.Text != "Antwort aus der Konsole" {
		t.Fatalf("Ann got %+v", m.Content)
	}
	// A file the agent attaches on node 2 goes up to node 1's endpoint in
	// chunks (larger than one NATS message) and reaches Ann.
	list := bytes.Repeat([]byte("%PDF-1.4 Liste der Sträuße "), 60_000) // 1.6 MB
	if page := agent.postFile(t, convPath+"/attach", url.Values{"caption": {"Unsere Sträuße"}}, "file", "straeusse.pdf", "application/pdf", list); !strings.Contains(page, "The file is sent.") {
		t.Fatalf("console attachment on node 2:\n%s", page)
	}
	if m := ann.NextContent(t, wire.ContentDocument); m.Content.Text != "Unsere Sträuße" || m.Content.Media == nil || m.Content.Media.FileName != "straeusse.pdf" {
		t.Fatalf("Ann got %+v", m.Content)
	} else if file, err := ann.C.Fetch(ctx, m.Content.Media); err != nil || !bytes.Equal(file, list) {
		t.Fatalf("Ann's download of the console's file: %d bytes, %v", len(file), err)
	}
	// Ann orders from a shop whose endpoint runs on node 1, all through
	// node 2: its catalog, the order placed and sent, which reaches the shop
	// as its signed order webhook; the console's order pages on node 2
	// confirm it and send the payment request through node 1's endpoint;
	// Ann pays through node 2, the shop hears of it, and the console sends
	// the order's news.
	const shopPhone = "+4930555555"
	shopHooks := kontortest.NewWebhooks(t)
	shop := kontortest.MakeShop(t, n1.URL, n1.Token(), kontortest.ShopOptions{Name: "Blumen Ole", Phone: shopPhone, WebhookURL: shopHooks.URL,
		Products: []map[string]any{{"retailer_id": "rose", "name": "Rote Rose", "price": 299, "currency": "EUR", "inventory": 10}}})
	shopHooks.SetSecret(shop.Secret)
	if code := kontortest.Call(t, n2.URL, http.MethodPost, "/admin/v1/console/users", n2.Token(),
		map[string]any{"business_id": shop.WABA, "email": "ole@blumen.example", "role": "owner", "password": pw}, nil); code != 200 {
		t.Fatalf("shop console user: HTTP %d", code)
	}
	cat, err := ann.C.API().WholeCatalog(ctx, shopPhone)
	if err != nil {
		t.Fatal(err)
	}
	cart := map[string]int{"rose": 2}
	placed, err := ann.C.API().PlaceOrder(ctx, shopPhone, cart, "")
	if err != nil {
		t.Fatal(err)
	}
	order, err := client.Order(cat, cart, "Meine Bestellung")
	if err != nil {
		t.Fatal(err)
	}
	order.Order.OrderID = placed.OrderID
	if _, err := ann.C.Send(ctx, shopPhone, order); err != nil {
		t.Fatal(err)
	}
	ordered := shopHooks.Wait(t, "Ann's order", func(v cloudapi.MessagesValue) bool {
		return len(v.Messages) == 1 && v.Messages[0].Order != nil && v.Messages[0].Order.OrderID == placed.OrderID
	}).Messages[0]
	if o := ordered.Order; ordered.From != "4915100000011" || o.CatalogID != shop.Catalog || o.Text != "Meine Bestellung" || len(o.ProductItems) != 1 ||
		o.ProductItems[0].ProductRetailerID != "rose" || o.ProductItems[0].Quantity != 2 || o.ProductItems[0].Currency != "EUR" {
		t.Fatalf("the shop's order webhook: from %s, %+v", ordered.From, o)
	}
	ole := signIn(t, n2.URL, "ole@blumen.example", pw)
	orderPath := "/console/orders/" + placed.OrderID
	ole.get(t, orderPath)
	if page := ole.post(t, orderPath+"/move", url.Values{"to": {"confirmed"}}); !strings.Contains(page, "The order is confirmed.") {
		t.Fatalf("confirming the order on node 2:\n%s", page)
	}
	// The order message may still be on its way to the endpoint (it opens
	// the chat for the business's answers): until then the request is refused.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		page := ole.post(t, orderPath+"/payment-request", url.Values{"text": {"Bitte zahlen"}})
		if strings.Contains(page, "The payment request is sent") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment request on node 2:\n%s", page)
		}
		ole.get(t, orderPath)
	}
	ann.Next(t, "the payment request", func(ev client.Event) bool {
		m, ok := ev.(client.Message)
		return ok && m.Content.Interactive != nil && m.Content.Interactive.Payment != nil && m.Content.Interactive.Payment.OrderID == placed.OrderID
	})
	if paid, err := ann.C.API().PayOrder(ctx, placed.OrderID, "4242424242424242", ""); err != nil || paid.Status != wire.PaymentSucceeded || paid.Amount != 598 {
		t.Fatalf("Ann pays through node 2: %+v %v", paid, err)
	}
	shopHooks.Wait(t, "the captured payment", func(v cloudapi.MessagesValue) bool {
		for _, st := range v.Statuses {
			if st.Type == "payment" && st.Status == "captured" && st.Payment != nil && st.Payment.ReferenceID == placed.OrderID {
				return true
			}
		}
		return false
	})
	if page := ole.get(t, orderPath); !strings.Contains(page, "visa 4242") || !strings.Contains(page, "Mark as shipped") {
		t.Fatalf("the paid order on node 2:\n%s", page)
	}
	if page := ole.post(t, orderPath+"/status", url.Values{"status": {"shipped"}, "status_text": {"Unterwegs!"}}); !strings.Contains(page, "The order update is sent") {
		t.Fatalf("order news from node 2:\n%s", page)
	}
	ann.Next(t, "the order news", func(ev client.Event) bool {
		m, ok := ev.(client.Message)
		return ok && m.Content.Interactive != nil && m.Content.Interactive.OrderStatus != nil &&
			m.Content.Interactive.OrderStatus.Status == "shipped" && m.Content.Interactive.OrderStatus.OrderID == placed.OrderID
	})
	if bad := shopHooks.Bad(); bad != 0 {
		t.Fatalf("%d of the shop's webhooks were not signed with its app's secret", bad)
	}

	if bad := hooks.Bad(); bad != 0 {
		t.Fatalf("%d webhooks were not signed with the app's secret", bad)
	}

	// Node 1 stops: it gives its endpoints' leases up, and node 2 takes
	// them over (failover.go). Until it has, a call answers 503 in the
	// Cloud API shape, never anything else.
	if err := n1.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("node 1 SIGTERM: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, out = api(n2, http.MethodPost, "/v21.0/"+biz.Number+"/messages", map[string]any{
			"messaging_product": "whatsapp", "to": "4915100000011", "type": "text", "text": map[string]any{"body": "Knoten 2 übernimmt"}})
		if code == 200 {
			break
		}
		e, _ := out["error"].(map[string]any)
		if code != http.StatusServiceUnavailable || apiCode(out) != cloudapi.CodeServiceUnavailable || e["message"] == nil || e["type"] == nil || time.Now().After(deadline) {
			t.Fatalf("with node 1 stopped: %d %v", code, out)
		}
	}
	if m := ann.NextContent(t, wire.ContentText); m.Content.Text != "Knoten 2 übernimmt" {
		t.Fatalf("Ann got %+v", m.Content)
	}
	if page := agent.post(t, convPath+"/reply", url.Values{"text": {"Konsole auf Knoten 2"}}); !strings.Contains(page, "The message is sent.") {
		t.Fatalf("console reply with node 1 stopped:\n%s", page)
	}
	if m := ann.NextContent(t, wire.ContentText); m.Content.Text != "Konsole auf Knoten 2" {
		t.Fatalf("Ann got %+v", m.Content)
	}

	// Node 1 comes back: it reaches the endpoint, now on node 2.
	n1.Restart()
	code, out = api(n1, http.MethodPost, "/v21.0/"+biz.Number+"/messages", map[string]any{
		"messaging_product": "whatsapp", "to": "4915100000011", "type": "text", "text": map[string]any{"body": "wieder da"}})
	if code != 200 {
		t.Fatalf("through node 1 after it restarted: %d %v", code, out)
	}
	if m := ann.NextContent(t, wire.ContentText); m.Content.Text != "wieder da" {
		t.Fatalf("Ann got %+v", m.Content)
	}
}

// download GETs a media URL with the token: the body, or nil unless 200.
func download(t *testing.T, u, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return b
}

func apiCode(out map[string]any) int {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

// consoleUser is a signed-in console browser.
type consoleUser struct {
	base string
	c    *http.Client
	csrf string
}

var csrfInPage = `name="csrf" value="`

func signIn(t *testing.T, base, email, password string) *consoleUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &consoleUser{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	u.get(t, "/console/sign-in")
	if page := u.post(t, "/console/sign-in", url.Values{"email": {email}, "password": {password}, "next": {"/console/"}}); !strings.Contains(page, "Sign out") {
		t.Fatalf("signing in as %s:\n%s", email, page)
	}
	return u
}

func (u *consoleUser) keep(t *testing.T, resp *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if i := strings.Index(page, csrfInPage); i >= 0 {
		rest := page[i+len(csrfInPage):]
		u.csrf = rest[:strings.IndexByte(rest, '"')]
	}
	return page
}

func (u *consoleUser) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := u.c.Get(u.base + path)
	return u.keep(t, resp, err)
}

// postFile sends a form with one file of type typ, as a browser does.
func (u *consoleUser) postFile(t *testing.T, path string, form url.Values, field, name, typ string, content []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", u.csrf)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": field, "filename": name}))
	h.Set("Content-Type", typ)
	fw, _ := mw.CreatePart(h)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", u.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := u.c.Do(req)
	return u.keep(t, resp, err)
}

func (u *consoleUser) post(t *testing.T, path string, form url.Values) string {
	t.Helper()
	resp, err := u.postForm(path, form)
	return u.keep(t, resp, err)
}

// postForm sends a form as a browser does; it may run on any goroutine
// (the answer goes to keep on the test's).
func (u *consoleUser) postForm(path string, form url.Values) (*http.Response, error) {
	form.Set("csrf", u.csrf)
	req, _ := http.NewRequest(http.MethodPost, u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return u.c.Do(req)
}
