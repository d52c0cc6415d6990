//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/client/idb"
	"github.com/kontor-chat/kontor/wire"
)

// database is the IndexedDB database of the browser's profile; the
// browser keeps one per site, so one per server.
const database = "kontor-chat"

// app is the one device of this page.
type app struct {
	server string
	log    *slog.Logger

	mu      sync.Mutex
	st      *idb.Storage
	sealer  *e2e.Sealer
	cl      *client.Client
	stop    context.CancelFunc
	onEvent js.Value // the page's event handler
	pending []any    // events before the page set its handler
}

func newApp(server string) *app {
	return &app{server: server, log: slog.New(slog.NewTextHandler(consoleWriter{}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// status is what start and register answer.
type status struct {
	Registered bool         `json:"registered"`
	Phone      kontor.Phone `json:"phone,omitempty"`
	DeviceID   int          `json:"device_id,omitempty"`
	Server     string       `json:"server"`
}

func (a *app) api() js.Value {
	o := js.Global().Get("Object").New()
	fns := map[string]func(args []js.Value) (any, error){
		"start":         a.start,
		"requestCode":   a.requestCode,
		"devCode":       a.devCode,
		"register":      a.register,
		"link":          a.link,
		"conversations": a.conversations,
		"history":       a.history,
		"send":          a.send,
		"read":          a.read,
		"typing":        a.typing,
		"watch":         a.watch,
		"safetyNumber":  a.safetyNumber,
		"verify":        a.verify,
		"forget":        a.forget,
		"business":      a.business,
		"catalog":       a.catalog,
		"order":         a.order,
		"pay":           a.pay,
		"attach":        a.attach,
		"media":         a.media,
		"reply":         a.reply,
		"payment":       a.payment,
		"react":         a.react,
		"linkCode":      a.linkCode,
		"cart":          a.cart,
		"saveCart":      a.saveCart,
	}
	for name, fn := range fns {
		o.Set(name, promised(fn))
	}
	o.Set("onEvent", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].Type() != js.TypeFunction {
			return nil
		}
		a.mu.Lock()
		a.onEvent = args[0]
		early := a.pending
		a.pending = nil
		a.mu.Unlock()
		for _, ev := range early {
			args[0].Invoke(toJS(ev))
		}
		return nil
	}))
	return o
}

// start opens the browser's profile; when it holds a device, the client
// connects.
func (a *app) start([]js.Value) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		st, err := idb.Open(database)
		if err != nil {
			return nil, err
		}
		a.st = st
	}
	acct, err := client.ReadAccount(a.st)
	if errors.Is(err, client.ErrNoProfile) {
		return status{Server: a.server}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := a.openLocked(acct); err != nil {
		return nil, err
	}
	return status{Registered: true, Phone: acct.Phone, DeviceID: acct.DeviceID, Server: acct.Server}, nil
}

// openLocked opens the key store and the client of acct, publishes the
// keys, and starts handing events to the page.
func (a *app) openLocked(acct client.Account) error {
	if a.cl != nil {
		return nil
	}
	self := wire.DeviceAddress{Phone: acct.Phone, DeviceID: acct.DeviceID}
	s, err := e2e.OpenStorage(a.st, acct.API(nil), self, e2e.Options{Logger: a.log, OnNotice: func(n e2e.Notice) {
		a.emit(map[string]any{"type": "notice", "notice": n, "text": n.String()})
	}})
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	mctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	_, merr := s.Maintain(mctx)
	cancel()
	if merr != nil {
		a.log.Warn("could not publish this device's keys yet", "err", merr)
	}
	c, err := client.Open(ctx, "", client.Options{Storage: a.st, Sealer: s, Logger: a.log})
	if err != nil {
		stop()
		s.Close()
		return err
	}
	a.sealer, a.cl, a.stop = s, c, stop
	go a.pump(c)
	go maintain(ctx, s, a.log)
	return nil
}

// maintain keeps the keys published: one-time prekeys others used up, the
// weekly signed prekey.
func maintain(ctx context.Context, s *e2e.Sealer, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mctx, cancel := context.WithTimeout(ctx, time.Minute)
			if _, err := s.Maintain(mctx); err != nil && ctx.Err() == nil {
				log.Warn("publishing keys failed", "err", err)
			}
			cancel()
		}
	}
}

// pump hands the client's events to the page.
func (a *app) pump(c *client.Client) {
	for ev := range c.Events() {
		if v := eventJSON(ev); v != nil {
			a.emit(v)
		}
	}
}

func (a *app) emit(v any) {
	a.mu.Lock()
	fn := a.onEvent
	if fn.Type() != js.TypeFunction {
		a.pending = append(a.pending, v)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	fn.Invoke(toJS(v))
}

// eventJSON is the page's form of a client event.
func eventJSON(ev client.Event) map[string]any {
	switch e := ev.(type) {
	case client.Message:
		return map[string]any{"type": "message", "message": messageJSON(e)}
	case client.Receipt:
		return map[string]any{"type": "receipt", "status": e.Status, "ids": e.IDs, "by": e.By, "ts": e.TS}
	case client.Sent:
		v := map[string]any{"type": "sent", "ref": e.Ref, "peer": e.Peer, "id": e.ID, "ts": e.TS}
		if e.Err != nil {
			v["error"] = e.Err.Error()
		}
		return v
	case client.Typing:
		return map[string]any{"type": "typing", "from": e.From, "on": e.On}
	case client.Presence:
		return map[string]any{"type": "presence", "phone": e.Phone, "online": e.Online, "last_seen": e.LastSeen}
	case client.State:
		v := map[string]any{"type": "state", "connected": e.Connected}
		if e.Err != nil {
			v["error"] = e.Err.Error()
			v["stopped"] = errors.Is(e.Err, client.ErrUnauthenticated) || errors.Is(e.Err, client.ErrReplaced) || errors.Is(e.Err, client.ErrUnsupported)
		}
		return v
	case *client.ServerError:
		return map[string]any{"type": "error", "code": e.Code, "message": e.Message}
	}
	return nil
}

// messageJSON is a message with the one line (text) that the list of
// conversations and screen readers use for it; the page draws the
// content itself.
func messageJSON(m client.Message) map[string]any {
	b, _ := json.Marshal(m)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	v["text"] = summary(m.Content)
	return v
}

// summary is a message in one line.
func summary(c wire.Content) string {
	it := c.Interactive
	switch {
	case c.Type == wire.ContentText || c.Type == wire.ContentBusinessNotice:
		return c.Text
	case c.Type == "":
		return ""
	case c.Media != nil:
		what := map[string]string{wire.ContentImage: "Photo", wire.ContentVideo: "Video", wire.ContentAudio: "Audio",
			wire.ContentSticker: "Sticker"}[c.Type]
		if what == "" {
			what = "File " + c.Media.FileName
		}
		if c.Text != "" {
			what += ": " + c.Text
		}
		return what
	case c.Order != nil:
		n := 0
		for _, li := range c.Order.Items {
			n += li.Quantity
		}
		return strings.TrimSpace(fmt.Sprintf("Order of %d item(s) %s", n, c.Text))
	case it != nil && it.Payment != nil:
		return strings.TrimSpace("Payment request: " + it.Body)
	case it != nil && it.OrderStatus != nil:
		return "Order " + strings.ReplaceAll(it.OrderStatus.Status, "_", " ")
	case it != nil && (it.Type == wire.InteractiveProduct || it.Type == wire.InteractiveProductList || it.Type == wire.InteractiveCatalogMessage):
		return strings.TrimSpace("Products: " + it.Body)
	case it != nil:
		return it.Body
	case c.InteractiveReply != nil:
		return c.InteractiveReply.Title
	case c.Template != nil:
		return c.Template.Body
	case c.Reaction != nil:
		return "reacted " + c.Reaction.Emoji
	case c.Location != nil:
		what := "Location"
		for _, s := range []string{c.Location.Name, c.Location.Address} {
			if s != "" {
				what += ": " + s
				break
			}
		}
		return what
	case len(c.Contacts) > 0:
		names := make([]string, 0, len(c.Contacts))
		for _, ct := range c.Contacts {
			names = append(names, ct.Name)
		}
		return "Contact: " + strings.Join(names, ", ")
	}
	return "[" + strings.ReplaceAll(c.Type, "_", " ") + " message: not shown in the web chat yet]"
}

func (a *app) requestCode(args []js.Value) (any, error) {
	phone, err := phoneArg(args, 0)
	if err != nil {
		return nil, err
	}
	d, err := (&client.API{Server: a.server}).RequestCode(context.Background(), phone)
	if err != nil {
		return nil, err
	}
	return map[string]any{"phone": phone, "expires_in": int(d.Seconds())}, nil
}

// devCode asks a development server (--dev) for the code it sent; "" from
// any other server.
func (a *app) devCode(args []js.Value) (any, error) {
	phone, err := phoneArg(args, 0)
	if err != nil {
		return nil, err
	}
	code, err := (&client.API{Server: a.server}).DevOTP(context.Background(), phone)
	if err != nil {
		return "", nil
	}
	return code, nil
}

// register registers the number with its code as this browser's device,
// then connects.
func (a *app) register(args []js.Value) (any, error) {
	return a.join(args, "enter the code that was sent to %s", client.RegisterIn)
}

// link makes this browser a linked device of an account, with a link code
// from its primary device (kontor client link-code), then connects.
func (a *app) link(args []js.Value) (any, error) {
	return a.join(args, "enter the link code from the primary device of %s (kontor client link-code)", client.LinkIn)
}

func (a *app) join(args []js.Value, noCode string, how func(context.Context, client.Storage, client.Registration) (client.Account, error)) (any, error) {
	phone, err := phoneArg(args, 0)
	if err != nil {
		return nil, err
	}
	code := strings.TrimSpace(stringArg(args, 1))
	if code == "" {
		return nil, kontor.Errorf(kontor.Invalid, "register", noCode, phone)
	}
	name := strings.TrimSpace(stringArg(args, 2))
	if name == "" {
		name = "web chat"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		return nil, errors.New("the web chat has not started yet")
	}
	acct, err := how(context.Background(), a.st, client.Registration{Server: a.server, Phone: phone, Code: code, DeviceName: name})
	if err != nil {
		return nil, err
	}
	if err := a.openLocked(acct); err != nil {
		return nil, err
	}
	return status{Registered: true, Phone: acct.Phone, DeviceID: acct.DeviceID, Server: acct.Server}, nil
}

func (a *app) client() (*client.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cl == nil {
		return nil, errors.New("register first")
	}
	return a.cl, nil
}

// peerClient is the preamble of the calls about one conversation: the
// running client, and the peer's number as the first argument.
func (a *app) peerClient(args []js.Value) (*client.Client, kontor.Phone, error) {
	c, err := a.client()
	if err != nil {
		return nil, "", err
	}
	peer, err := phoneArg(args, 0)
	if err != nil {
		return nil, "", err
	}
	return c, peer, nil
}

func (a *app) conversations([]js.Value) (any, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, cv := range c.Conversations() {
		out = append(out, map[string]any{"peer": cv.Peer, "unread": cv.Unread, "last": messageJSON(cv.Last)})
	}
	return out, nil
}

func (a *app) history(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, m := range c.History(peer, 500) {
		out = append(out, messageJSON(m))
	}
	return out, nil
}

// send queues a text message and answers at once with it (status
// pending); a "sent" event follows.
func (a *app) send(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	m, err := c.Queue(peer, wire.Content{Type: wire.ContentText, Text: stringArg(args, 1)})
	if err != nil {
		return nil, err
	}
	return messageJSON(m), nil
}

func (a *app) read(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return nil, c.Read(ctx, peer)
}

func (a *app) typing(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	on := len(args) > 1 && args[1].Truthy()
	if err := c.Typing(context.Background(), peer, on); err != nil && !errors.Is(err, client.ErrOffline) {
		return nil, err
	}
	return nil, nil
}

// watch follows the presence of the numbers given (replacing the list);
// "presence" events tell of them.
func (a *app) watch(args []js.Value) (any, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	var phones []kontor.Phone
	for i := range args {
		p, err := phoneArg(args, i)
		if err != nil {
			return nil, err
		}
		phones = append(phones, p)
	}
	return nil, c.Watch(context.Background(), phones...)
}

// safetyNumber returns the conversation's safety number, grouped for
// reading aloud, and whether it was verified.
func (a *app) safetyNumber(args []js.Value) (any, error) {
	peer, err := phoneArg(args, 0)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	s := a.sealer
	a.mu.Unlock()
	if s == nil {
		return nil, errors.New("register first")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	n, err := s.SafetyNumber(ctx, peer)
	if err != nil {
		return nil, err
	}
	return map[string]any{"number": e2e.FormatSafetyNumber(n), "verified": s.Verified(peer)}, nil
}

// verify records that the person compared the safety number shown (the
// second argument) with peer's and it matched.
func (a *app) verify(args []js.Value) (any, error) {
	peer, err := phoneArg(args, 0)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	s := a.sealer
	a.mu.Unlock()
	if s == nil {
		return nil, errors.New("register first")
	}
	if err := s.Verify(peer, stringArg(args, 1)); errors.Is(err, e2e.ErrSafetyNumberMismatch) {
		return nil, errors.New("the safety number changed since it was shown: compare the new one")
	} else if err != nil {
		return nil, err
	}
	return map[string]any{"verified": true}, nil
}

// forget signs this device out at the server, closes it and deletes the
// browser's profile: its keys and conversations are gone for good. When
// the server cannot be told, nothing is deleted.
func (a *app) forget([]js.Value) (any, error) {
	a.mu.Lock()
	cl, s, st, stop := a.cl, a.sealer, a.st, a.stop
	a.mu.Unlock()
	if cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := cl.API().RemoveDevice(ctx, cl.Account().DeviceID)
		cancel()
		if err != nil && kontor.KindOf(err) != kontor.Unauthenticated && kontor.KindOf(err) != kontor.NotFound {
			return nil, fmt.Errorf("could not sign this device out at the server, so nothing was deleted: %s", message(err))
		}
	}
	a.mu.Lock()
	a.cl, a.sealer, a.st = nil, nil, nil
	a.mu.Unlock()
	// Closed without a.mu: the client's goroutines may be telling the page
	// of a notice (emit takes a.mu) while Close waits for them.
	if cl != nil {
		stop()
		_ = cl.Close()
		_ = s.Close()
	}
	if st != nil {
		st.Close()
	}
	return nil, idb.Delete(database)
}

func stringArg(args []js.Value, i int) string {
	if i >= len(args) || args[i].Type() != js.TypeString {
		return ""
	}
	return args[i].String()
}

func phoneArg(args []js.Value, i int) (kontor.Phone, error) {
	return kontor.ParsePhone(strings.TrimSpace(stringArg(args, i)))
}

// promised turns fn into a JavaScript function that returns a Promise and
// runs fn on a goroutine of its own.
func promised(fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		args = append([]js.Value(nil), args...)
		exec := js.FuncOf(func(_ js.Value, pa []js.Value) any {
			resolve, reject := pa[0], pa[1]
			go func() {
				v, err := fn(args)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(message(err)))
					return
				}
				if jv, ok := v.(js.Value); ok { // bytes, as a Uint8Array
					resolve.Invoke(jv)
					return
				}
				resolve.Invoke(toJS(v))
			}()
			return nil
		})
		defer exec.Release()
		return js.Global().Get("Promise").New(exec)
	})
}

// message is the text of an error a person reads: the server's message
// without the SDK's operation names.
func message(err error) string {
	if errors.Is(err, client.ErrProfileInUse) {
		return "kontor is open in another tab or window of this browser: use that one, or close it and reload this page."
	}
	if m := kontor.MessageOf(err); m != "" {
		return m
	}
	return err.Error()
}

// toJS turns v into a JavaScript value through JSON.
func toJS(v any) any {
	if v == nil {
		return js.Undefined()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return js.ValueOf(fmt.Sprintf("unencodable: %v", err))
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}

// consoleWriter writes the SDK's logs to the browser's console.
type consoleWriter struct{}

func (consoleWriter) Write(b []byte) (int, error) {
	js.Global().Get("console").Call("warn", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
