package e2etest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestWebChat drives the web chat in a real browser: Debian's chromium,
// through playwright-core (test/web/chat.mjs, pinned in its lockfile). A
// person registers in the browser with the one-time code and writes to
// Bob, a Go client with end-to-end encryption; Bob reads it and answers;
// the browser shows the answer and its own message's ticks going sent →
// delivered → read, and reads the answer, which Bob sees as read. After a
// reload the browser's profile (IndexedDB) still has the device, the keys
// and the conversation; a second tab of it is refused, saying why. A
// second browser links itself to Bob's account
// with a link code and gets what the first writes next. The browser and
// Bob send each other a picture. On the same server another browser shops
// at a hosted business (webShop). Then everything the server wrote is
// scanned for the people's markers, as in TestNoPlaintextOnServer: the
// browser encrypts too. It runs on SQLite and
// on PostgreSQL (whose pg_dump the scan reads).
//
// With SCREENSHOTS=dir it keeps chat-register.png, chat-conversation.png, chat-reactions.png,
// chat-phone.png, chat-catalog.png, chat-order.png and their -phone
// variants there (docs/screenshots is where the docs show them).
//
// It needs node, npm and chromium; without them it is skipped, unless CI is
// set.
func TestWebChat(t *testing.T) {
	node := needNode(t)
	browser := needChromium(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "web"))
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, dir)
	t.Run("sqlite", func(t *testing.T) { webChat(t, node, browser, dir, false) })
	t.Run("postgres", func(t *testing.T) { webChat(t, node, browser, dir, true) })
}

func webChat(t *testing.T, node, browser, dir string, pg bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := []string{"--log-level", "debug"}
	dbURL := ""
	if pg {
		dbURL = kontortest.PostgresURL(t)
		args = append(args, "--db", dbURL)
	}
	p := kontortest.StartProcess(t, "", args...)
	bob := register(ctx, t, p.URL, "bob", "+4915100000077", true)
	open(ctx, t, bob)
	const web = kontor.Phone("+4915100000066")
	marker := func(what string) string {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return "MARKER-" + what + "-" + hex.EncodeToString(b[:])
	}
	webMarker, bobMarker, webMarker2 := marker("web-to-bob"), marker("bob-to-web"), marker("web-to-bob-linked")
	webText, bobText, webText2 := "Grüße aus Köln! "+webMarker, "Danke, bis morgen. "+bobMarker, "Noch was: "+webMarker2
	// Pictures both ways: the marker is in the file (after the PNG's end,
	// where a viewer ignores it), its name and its caption.
	webFileMarker, webNameMarker, bobFileMarker, bobCaptionMarker := marker("web-picture"), marker("web-picture-name"), marker("bob-picture"), marker("bob-caption")
	webCaptionMarker := marker("web-caption")
	webFile, webFileName, webCaption := picture(webFileMarker), "dom-"+webNameMarker+".png", "Der Dom "+webCaptionMarker
	bobCaption := "Der Rhein heute " + bobCaptionMarker
	placeMarker, contactMarker := marker("bob-place"), marker("bob-contact")
	bobPlace, bobContact := "Dom "+placeMarker, "Clara "+contactMarker
	bobPicture := picture(bobFileMarker)
	lc, err := bob.c.API().LinkCode(ctx)
	if err != nil {
		t.Fatalf("bob's link code: %v", err)
	}
	shots := os.Getenv("SCREENSHOTS") // the pages are the same on both stores: taken once
	if pg {
		shots = ""
	} else if shots != "" {
		abs, err := filepath.Abs(shots)
		if err != nil {
			t.Fatal(err)
		}
		shots = abs
	}

	br := startBrowser(ctx, t, node, dir, "chat.mjs", map[string]string{
		"KONTOR_URL": p.URL, "WEB_PHONE": string(web), "PEER_PHONE": string(bob.c.Account().Phone),
		"WEB_TEXT": webText, "PEER_TEXT": bobText, "WEB_TEXT2": webText2, "LINK_CODE": lc.Code,
		"WEB_FILE": base64.StdEncoding.EncodeToString(webFile), "WEB_FILE_NAME": webFileName, "WEB_CAPTION": webCaption,
		"PEER_PLACE": bobPlace, "PEER_CONTACT": bobContact,
		"SCREENSHOTS": shots, "CHROMIUM": browser,
	})
	loaded := br.await(t, "loaded")
	t.Logf("the web chat loaded in %v ms; kontor.wasm: %v", loaded["load_ms"], loaded["wasm"])
	r := br.await(t, "refused")
	t.Logf("the page refused a bad number (%q) and a wrong code (%q)", r["phone"], r["code"])
	br.await(t, "registered")

	// Bob gets the browser's message, decrypted, reads it and answers.
	var got client.Message
	var sentID kontor.ID
	readByWeb := false
	for !readByWeb {
		select {
		case ev := <-bob.c.Events():
			switch ev := ev.(type) {
			case client.Message:
				if ev.Peer != web || got.ID != 0 {
					t.Fatalf("bob got an unexpected message %+v", ev)
				}
				if ev.Problem != "" || ev.Content.Text != webText {
					t.Fatalf("bob got %q (problem %q), want %q", ev.Content.Text, ev.Problem, webText)
				}
				got = ev
				if err := bob.c.Read(ctx, web); err != nil {
					t.Fatal(err)
				}
				if sentID, err = bob.c.Send(ctx, web, wire.Content{V: 1, Type: wire.ContentText, Text: bobText}); err != nil {
					t.Fatalf("bob answering: %v", err)
				}
			case client.Receipt:
				if ev.Status == client.StatusRead && slices.Contains(ev.IDs, sentID) && sentID != 0 {
					readByWeb = true
				}
			}
		case <-ctx.Done():
			t.Fatalf("bob: message %v, answer %v, read by the browser %v; the browser said:\n%s", got.ID, sentID, readByWeb, br.output())
		}
	}
	br.await(t, "sent")
	br.await(t, "received")
	br.await(t, "delivered")
	if l := br.await(t, "read"); l["label"] != "read" {
		t.Errorf("the read ticks are labelled %v", l["label"])
	}

	// Bob reacts to the browser's message and sends a place and a
	// contact; the browser shows them and reacts to Bob's message.
	for _, c := range []wire.Content{
		{V: 1, Type: wire.ContentReaction, Reaction: &wire.Reaction{MessageID: got.ID.String(), Emoji: "👍"}},
		{V: 1, Type: wire.ContentLocation, Location: &wire.Location{Latitude: 50.941278, Longitude: 6.958281, Name: bobPlace, Address: "Domkloster 4, 50667 Köln"}},
		{V: 1, Type: wire.ContentContacts, Contacts: []wire.Contact{{Name: bobContact, Phones: []wire.ContactPhone{{Phone: "+49 221 1234567", Type: "CELL"}},
			Emails: []string{"clara@example.com"}, Org: &wire.ContactOrg{Company: "Blumen Berta", Title: "Floristin"}}}},
	} {
		if _, err := bob.c.Send(ctx, web, c); err != nil {
			t.Fatalf("bob sending a %s: %v", c.Type, err)
		}
	}
	shown := br.await(t, "shown")
	if got, want := fmt.Sprint(shown["reactions"]), "["+string(bob.c.Account().Phone)+" reacted 👍]"; got != want {
		t.Errorf("the browser shows the reactions %s on its message, want %s", got, want)
	}
	for _, want := range []string{bobPlace, "Domkloster 4, 50667 Köln", "50.94128, 6.95828"} {
		if !strings.Contains(fmt.Sprint(shown["place"]), want) {
			t.Errorf("the place reads %q, without %q", shown["place"], want)
		}
	}
	for _, want := range []string{bobContact, "Floristin, Blumen Berta", "+49 221 1234567", "clara@example.com"} {
		if !strings.Contains(fmt.Sprint(shown["contact"]), want) {
			t.Errorf("the contact reads %q, without %q", shown["contact"], want)
		}
	}
	if shown["badge"] != false || shown["last"] != "Contact: "+bobContact {
		t.Errorf("a person's chat shows a business badge (%v), or its last line is %q", shown["badge"], shown["last"])
	}
	for reacted := false; !reacted; {
		select {
		case ev := <-bob.c.Events():
			m, ok := ev.(client.Message)
			if !ok {
				continue
			}
			if m.Content.Type != wire.ContentReaction || m.Content.Reaction.MessageID != sentID.String() || m.Content.Reaction.Emoji != "❤️" {
				t.Fatalf("bob got %+v where the browser's reaction was due", m.Content)
			}
			reacted = true
		case <-ctx.Done():
			t.Fatalf("bob got no reaction; the browser said:\n%s", br.output())
		}
	}
	if l := br.await(t, "reacted"); l["chose"] != "React with heart" || fmt.Sprint(l["reactions"]) != "[You reacted ❤️]" {
		t.Errorf("the browser reacted with %v and shows %v", l["chose"], l["reactions"])
	}

	// The browser sends a picture; Bob gets it, fetches and opens it, and
	// sends one back, which the browser decrypts and shows.
	br.await(t, "picture-sent")
	for got := false; !got; {
		select {
		case ev := <-bob.c.Events():
			m, ok := ev.(client.Message)
			if !ok {
				continue
			}
			if m.Content.Type != wire.ContentImage || m.Content.Media == nil || m.Content.Media.FileName != webFileName || m.Content.Text != webCaption {
				t.Fatalf("bob got %+v where the picture was due (problem %q)", m.Content, m.Problem)
			}
			file, err := bob.c.Fetch(ctx, m.Content.Media)
			if err != nil || !bytes.Equal(file, webFile) || m.Content.Media.MimeType != "image/png" {
				t.Fatalf("bob's copy of the picture (%s, %d bytes): %v", m.Content.Media.MimeType, len(file), err)
			}
			got = true
		case <-ctx.Done():
			t.Fatalf("bob got no picture; the browser said:\n%s", br.output())
		}
	}
	pic, err := bob.c.Attach(ctx, web, wire.ContentImage, "image/png", "rhein.png", bobCaption, bobPicture)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Send(ctx, web, pic); err != nil {
		t.Fatal(err)
	}
	if l := br.await(t, "picture-received"); l["alt"] != "Picture from "+string(bob.c.Account().Phone)+": "+bobCaption {
		t.Errorf("the picture's alt text is %q", l["alt"])
	}
	if l := br.await(t, "labels"); len(l["unlabelled"].([]any)) > 0 {
		t.Errorf("controls without a label: %v", l["unlabelled"])
	}
	n, err := bob.s.SafetyNumber(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	if got := br.await(t, "safety")["number"]; got != e2e.FormatSafetyNumber(n) {
		t.Errorf("the browser shows the safety number %v, Bob %s", got, e2e.FormatSafetyNumber(n))
	}
	// The browser's link code links a device to its account (which
	// signs itself out again at once).
	code := br.await(t, "link-code")
	if !strings.Contains(fmt.Sprint(code["help"]), fmt.Sprint(code["code"])) || code["error"] != "" {
		t.Errorf("the link code dialog: %v", code)
	}
	creds, err := (&client.API{Server: p.URL}).Link(ctx, web, fmt.Sprint(code["code"]), "linked by test")
	if err != nil || creds.DeviceID != 2 {
		t.Fatalf("linking with the browser's code %v: %+v %v", code["code"], creds, err)
	}
	if err := (&client.API{Server: p.URL, Credential: creds.Credential}).RemoveDevice(ctx, creds.DeviceID); err != nil {
		t.Fatalf("the linked device signing out: %v", err)
	}
	files := br.await(t, "reloaded")["files"].([]any)
	for _, want := range []string{"device.json", "e2e/identity.json", "e2e/prekeys.json", "e2e/sessions/" + string(bob.c.Account().Phone) + ".1.json", "conversations/" + string(bob.c.Account().Phone) + ".jsonl"} {
		if !slices.Contains(files, any(want)) {
			t.Errorf("the browser's IndexedDB has no %s: %v", want, files)
		}
	}
	br.await(t, "second-tab")
	linked := br.await(t, "linked")
	if me := linked["me"]; me != string(bob.c.Account().Phone)+" · device 2" {
		t.Errorf("the linked browser says it is %v", me)
	}
	if lc, _ := linked["linkCode"].(map[string]any); lc["code"] != "" || !strings.Contains(fmt.Sprint(lc["error"]), "primary device") {
		t.Errorf("a linked browser asked for a link code: %v", linked["linkCode"])
	}
	br.await(t, "linked-received")
	if l := br.await(t, "signed-out"); len(l["files"].([]any)) > 0 || slices.Contains(l["databases"].([]any), any("kontor-media")) {
		t.Errorf("after signing out the browser keeps %v and the databases %v", l["files"], l["databases"])
	}
	if ds, err := bob.c.API().AccountDevices(ctx, web); err == nil && len(ds.Devices) > 0 {
		t.Errorf("after signing out the browser's account still has devices %+v", ds.Devices)
	}
	if l := br.await(t, "done"); len(l["offsite"].([]any)) > 0 || len(l["errors"].([]any)) > 0 {
		t.Errorf("the page fetched from other sites: %v; its script failed: %v", l["offsite"], l["errors"])
	}
	br.wait(t)

	// A person in the browser shops at a hosted business, on the same server.
	webShop(ctx, t, p, node, browser, dir, shots)

	bob.c.Close()
	bob.s.Close()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the server: %v", err)
	}
	if found := scan(t, p, dbURL, []string{webMarker, bobMarker, webMarker2, webFileMarker, webNameMarker, webCaptionMarker, bobFileMarker, bobCaptionMarker, placeMarker, contactMarker}, 0); len(found) > 0 {
		t.Fatalf("plaintext of the web chat on the server:\n%s", strings.Join(found, "\n"))
	}
}

// needChromium returns Debian's chromium, or skips (fails when CI is set).
func needChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing, but CI is set: the web chat's browser test must run in CI (.ci/run installs chromium)")
	}
	t.Skip("/usr/bin/chromium is missing: skipping the web chat's browser test (apt-get install chromium to run it)")
	return ""
}

// browserScript is test/web/chat.mjs running.
type browserScript struct {
	cmd   *exec.Cmd
	in    io.WriteCloser      // "go" lines for scripts that wait for the test
	lines chan map[string]any // closed at the end of its output
	mu    sync.Mutex
	out   strings.Builder
}

func startBrowser(ctx context.Context, t *testing.T, node, dir, script string, env map[string]string) *browserScript {
	t.Helper()
	b := &browserScript{lines: make(chan map[string]any, 100)}
	b.cmd = exec.CommandContext(ctx, node, script)
	b.cmd.Dir = dir
	b.cmd.Env = os.Environ()
	for k, v := range env {
		b.cmd.Env = append(b.cmd.Env, k+"="+v)
	}
	b.cmd.Stderr = b
	b.cmd.WaitDelay = 10 * time.Second
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if b.in, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			_ = b.cmd.Process.Kill()
			_ = b.cmd.Wait()
		}
	})
	go func() {
		defer close(b.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			_, _ = b.Write([]byte(sc.Text() + "\n"))
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil && l["step"] != nil {
				b.lines <- l
			}
		}
	}()
	return b
}

// Write keeps the script's output for the test's log.
func (b *browserScript) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *browserScript) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// await returns the script's next line, which must be step.
func (b *browserScript) await(t *testing.T, step string) map[string]any {
	t.Helper()
	l, ok := <-b.lines
	if !ok {
		t.Fatalf("the browser script ended before %q:\n%s", step, b.output())
	}
	if l["step"] != step {
		t.Fatalf("the browser script said %v where %q was due:\n%s", l, step, b.output())
	}
	return l
}

// tell lets a script that waits for the test go on.
func (b *browserScript) tell(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(b.in, "go\n"); err != nil {
		t.Fatalf("telling the browser script to go on: %v", err)
	}
}

// wait waits for the script to end well.
func (b *browserScript) wait(t *testing.T) {
	t.Helper()
	for range b.lines {
	}
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("the browser script: %v\n%s", err, b.output())
	}
}

// picture is a small PNG with extra bytes after its end (which viewers
// ignore) and their length.
func picture(extra string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 240, 160))
	for x := range 240 {
		for y := range 160 {
			img.Set(x, y, color.RGBA{R: uint8(x), G: 110, B: uint8(y + 60), A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return append(b.Bytes(), extra...)
}

// webShop drives test/web/shop.mjs: a person in the browser writes to a
// hosted business, sees its badge and the hosted-service notice, gets
// the products the business sends, orders two of them from the catalog,
// gets the business's payment request (order_details through the
// Business API), pays it — a declined card first, then one the sandbox
// keeps pending, which the page polls until it is paid — and sees the
// order news the business sends. The cart survives a reload (kept in
// the profile) and is gone once the order is sent.
func webShop(ctx context.Context, t *testing.T, p *kontortest.Process, node, browser, dir, shots string) {
	t.Helper()
	answers := make(chan string, 10) // the ids of the person's button replies, from the webhooks
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Messages []struct {
							Interactive struct {
								ButtonReply struct {
									ID string `json:"id"`
								} `json:"button_reply"`
							} `json:"interactive"`
						} `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		_ = json.NewDecoder(r.Body).Decode(&n)
		for _, e := range n.Entry {
			for _, c := range e.Changes {
				for _, m := range c.Value.Messages {
					if id := m.Interactive.ButtonReply.ID; id != "" {
						answers <- id
					}
				}
			}
		}
		_, _ = io.WriteString(w, `{"received":true}`)
	}))
	defer hook.Close()
	shop := kontortest.MakeShop(t, p.URL, p.Token(), kontortest.ShopOptions{Name: "Blumen Berta", Phone: "+4930123456", WebhookURL: hook.URL, Products: []map[string]any{
		{"retailer_id": "rose", "name": "Rote Rose", "description": "Langstielig, aus Holland", "price": 299, "currency": "EUR", "inventory": 10},
		{"retailer_id": "tulpe", "name": "Tulpe", "price": 180, "sale_price": 150, "currency": "EUR", "inventory": 10,
			"image_url": "https://img.blumen.example/tulpe.jpg"}, // another site's: never shown, never fetched
		{"retailer_id": "vase", "name": "Glasvase", "price": 1299, "currency": "EUR", "inventory": 2},
	}})
	// The rose's picture is kept by the platform, uploaded in the console.
	rosePicture := uploadPicture(t, p, shop, "rose", picture(""))
	const web = "+4915100000088"
	br := startBrowser(ctx, t, node, dir, "shop.mjs", map[string]string{
		"KONTOR_URL": p.URL, "WEB_PHONE": web, "BIZ_PHONE": "+4930123456", "PRODUCT_A": "Rote Rose", "PRODUCT_B": "Tulpe",
		"SCREENSHOTS": shots, "CHROMIUM": browser,
	})
	bizSend := func(body map[string]any) {
		t.Helper()
		body["messaging_product"], body["to"] = "whatsapp", web[1:]
		var out map[string]any
		// The person's first message opens the window once the endpoint
		// has it: until then the business is refused (131047).
		for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
			code := kontortest.Call(t, p.URL, http.MethodPost, "/v21.0/"+shop.Number+"/messages", shop.Token, body, &out)
			if code == http.StatusOK {
				return
			}
			if time.Since(start) > 20*time.Second {
				t.Fatalf("the business sending %v: HTTP %d %v", body["type"], code, out)
			}
		}
	}
	order := func(id string) map[string]any {
		t.Helper()
		var o map[string]any
		if code := kontortest.Call(t, p.URL, http.MethodGet, "/v21.0/"+id, shop.Token, nil, &o); code != http.StatusOK {
			t.Fatalf("the order %s: HTTP %d %v", id, code, o)
		}
		return o
	}
	loaded := br.await(t, "loaded")
	t.Logf("the shop's web chat loaded in %v ms", loaded["load_ms"])
	br.await(t, "registered")
	b := br.await(t, "business")
	if b["badge"] != "✔ Business · Blumen Berta" || !strings.Contains(fmt.Sprint(b["notice"]), "can read the messages of this chat") || b["notes"] != 1.0 {
		t.Errorf("the business chat shows the badge %q and the notice %q (%v notes)", b["badge"], b["notice"], b["notes"])
	}
	bizSend(map[string]any{"type": "interactive", "interactive": map[string]any{
		"type": "button", "body": map[string]any{"text": "Lieferung oder Abholung?"},
		"action": map[string]any{"buttons": []any{
			map[string]any{"type": "reply", "reply": map[string]any{"id": "deliver", "title": "Lieferung"}},
			map[string]any{"type": "reply", "reply": map[string]any{"id": "pickup", "title": "Abholung"}}}}}})
	br.tell(t)
	br.await(t, "answered")
	select {
	case id := <-answers:
		if id != "pickup" {
			t.Errorf("the business got the answer %q, want pickup", id)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("the business got no answer to its buttons")
	}
	bizSend(map[string]any{"type": "interactive", "interactive": map[string]any{
		"type": "product_list", "header": map[string]any{"type": "text", "text": "Heute frisch"}, "body": map[string]any{"text": "Unsere Blumen des Tages"},
		"action": map[string]any{"catalog_id": shop.Catalog, "sections": []any{map[string]any{"title": "Blumen",
			"product_items": []any{map[string]any{"product_retailer_id": "rose"}, map[string]any{"product_retailer_id": "tulpe"}}}}}}})
	br.tell(t)
	l := br.await(t, "products")
	if fmt.Sprint(l["names"]) != "[Rote Rose Tulpe]" {
		t.Errorf("the product list shows %v", l["names"])
	}
	// Only the picture on the page's own origin is shown, and it loads.
	if got, want := fmt.Sprint(l["pictures"]), fmt.Sprint([]any{map[string]any{"src": rosePicture, "alt": "Rote Rose", "width": 240.0}}); got != want {
		t.Errorf("the product cards show the pictures %s, want %s", got, want)
	}
	o := br.await(t, "ordered")
	if fmt.Sprint(o["catalog"]) != "[Rote Rose Tulpe Glasvase]" || !strings.Contains(fmt.Sprint(o["total"]), "10.48") {
		t.Errorf("the catalog shows %v and the cart's total %q (2 × 2.99 + 3 × 1.50 = 10.48)", o["catalog"], o["total"])
	}
	cart := "carts/+4930123456.json"
	if r, _ := o["reloaded"].(map[string]any); r == nil || !strings.Contains(fmt.Sprint(r["total"]), "10.48") || r["note"] != "Bitte bis 18 Uhr" ||
		!slices.Contains(r["kept"].([]any), any(cart)) {
		t.Errorf("after a reload the cart is %v (kept in IndexedDB as %s)", o["reloaded"], cart)
	}
	if slices.Contains(o["files"].([]any), any(cart)) {
		t.Errorf("the cart is still kept after the order was sent: %v", o["files"])
	}
	if o["focused"] != "Add Rote Rose to the cart" {
		t.Errorf("opening the catalog put the focus on %q, not on its first product", o["focused"])
	}
	id := fmt.Sprint(o["order_id"])
	if got := order(id); got["status"] != "pending" || got["total"] != 10.48 {
		t.Fatalf("the order placed from the browser: %v", got)
	}
	bizSend(map[string]any{"type": "interactive", "interactive": map[string]any{
		"type": "order_details", "body": map[string]any{"text": "Ihre Bestellung bei Blumen Berta"},
		"action": map[string]any{"name": "review_and_pay", "parameters": map[string]any{
			"reference_id": id, "type": "physical-goods", "currency": "EUR", "total_amount": map[string]any{"value": 1538, "offset": 100},
			"order": map[string]any{"status": "pending", "items": []any{
				map[string]any{"retailer_id": "rose", "name": "Rote Rose", "amount": map[string]any{"value": 299, "offset": 100}, "quantity": 2},
				map[string]any{"retailer_id": "tulpe", "name": "Tulpe", "amount": map[string]any{"value": 150, "offset": 100}, "quantity": 3}},
				"subtotal": map[string]any{"value": 1048, "offset": 100},
				"shipping": map[string]any{"value": 490, "offset": 100, "description": "Kurier"}}}}}})
	br.tell(t)
	paid := br.await(t, "paid")
	declined, ok := paid["declined"].(map[string]any)
	if !ok || declined["status"] != "declined" || !strings.Contains(fmt.Sprint(declined["text"]), "card declined") {
		t.Errorf("the declined card shows %v", paid["declined"])
	}
	if good, ok := paid["paid"].(map[string]any); !ok || !strings.Contains(fmt.Sprint(good["pending"]), "is pending") ||
		good["status"] != "succeeded" || !strings.Contains(fmt.Sprint(good["text"]), "15.38") ||
		!strings.Contains(fmt.Sprint(paid["bill"]), "15.38") {
		t.Errorf("the bill says %v and the payment %v", paid["bill"], paid["paid"])
	}
	if got := order(id); got["status"] != "paid" || got["total"] != 15.38 {
		t.Fatalf("the order after paying in the browser: %v", got)
	}
	bizSend(map[string]any{"type": "interactive", "interactive": map[string]any{
		"type": "order_status", "body": map[string]any{"text": "Danke!"},
		"action": map[string]any{"name": "review_order", "parameters": map[string]any{"reference_id": id,
			"order": map[string]any{"status": "shipped", "description": "Der Kurier ist unterwegs"}}}}})
	br.tell(t)
	news := br.await(t, "news")
	if !strings.Contains(fmt.Sprint(news["text"]), "Your order "+id+" is shipped") {
		t.Errorf("the order news reads %q", news["text"])
	}
	if l, _ := news["unlabelled"].([]any); len(l) > 0 {
		t.Errorf("controls without a label in the business chat: %v", l)
	}
	if news["notes"] != 1.0 {
		t.Errorf("the hosted-service notice is shown %v times", news["notes"])
	}
	done := br.await(t, "done")
	// (Intl in English; a BigInt keeps the last digits of an amount past 2^53.)
	if got, want := strings.ReplaceAll(fmt.Sprint(done["amounts"]), "\u00a0", " "), "[¥1,234 BHD 1.234 €0.05 -$2.50 €9,007,199,254,740,993.12]"; got != want {
		t.Errorf("the page writes amounts as %s, want %s", got, want)
	}
	if !strings.Contains(fmt.Sprint(done["info"]), "can read") {
		t.Errorf("the chat's info says %q", done["info"])
	}
	if l, _ := done["offsite"].([]any); len(l) > 0 {
		t.Errorf("the page fetched from other sites: %v", l)
	}
	if l, _ := done["errors"].([]any); len(l) > 0 {
		t.Errorf("the page's script failed: %v", l)
	}
	br.wait(t)
	if got := order(id); got["status"] != "shipped" {
		t.Errorf("the order after the news: %v", got)
	}
}
