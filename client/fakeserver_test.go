package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// fakeServer speaks the device protocol well enough to test the client
// without the real server: accounts and devices, one-time codes, sends with
// device-list checks and ref dedupe, per-device queues until ack, delivered
// and read receipts, typing, presence. Knobs let tests lose answers, refuse
// sends and kick connections.
type fakeServer struct {
	t   testing.TB
	srv *httptest.Server
	URL string

	mu       sync.Mutex
	nextID   int64
	accounts map[kontor.Phone][]int // device ids
	creds    map[string]wire.DeviceAddress
	conns    map[wire.DeviceAddress]*fakeConn
	queues   map[wire.DeviceAddress][]*wire.Frame // entries not yet acked
	answers  map[string]*wire.Frame               // device + ref → the sent frame
	sends    map[string]int                       // ref → send frames seen
	codes    map[kontor.Phone]string
	noDev    bool         // no /dev/otp
	dropSent int          // commit, but close the connection instead of answering
	hold     bool         // neither commit nor answer sends
	refuse   []string     // answer the next sends with these error codes
	lastSend []wire.Frame // committed send frames
	devCalls int          // device list calls
}

type fakeConn struct {
	ws     *websocket.Conn
	addr   wire.DeviceAddress
	cancel context.CancelFunc
}

func newFakeServer(t testing.TB) *fakeServer {
	fs := &fakeServer{t: t, nextID: 1000, accounts: map[kontor.Phone][]int{}, creds: map[string]wire.DeviceAddress{},
		conns: map[wire.DeviceAddress]*fakeConn{}, queues: map[wire.DeviceAddress][]*wire.Frame{},
		answers: map[string]*wire.Frame{}, sends: map[string]int{}, codes: map[kontor.Phone]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/register/code", fs.requestCode)
	mux.HandleFunc("GET /dev/otp", fs.devOTP)
	mux.HandleFunc("POST /v1/register/verify", fs.verify)
	mux.HandleFunc("GET /v1/devices", fs.auth(fs.ownDevices))
	mux.HandleFunc("GET /v1/accounts/{phone}/devices", fs.auth(fs.devices))
	mux.HandleFunc("POST /v1/devices/link-code", fs.auth(func(w http.ResponseWriter, r *http.Request, _ wire.DeviceAddress) {
		writeJSON(w, 200, wire.LinkCodeResponse{Code: "654321", ExpiresIn: 600})
	}))
	mux.HandleFunc("POST /v1/devices/link", fs.link)
	mux.HandleFunc("GET /v1/ws", fs.ws)
	fs.srv = httptest.NewServer(mux)
	fs.URL = fs.srv.URL
	t.Cleanup(fs.close)
	return fs
}

func (fs *fakeServer) close() {
	fs.mu.Lock()
	conns := make([]*fakeConn, 0, len(fs.conns))
	for _, c := range fs.conns {
		conns = append(conns, c)
	}
	fs.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.CloseNow()
		c.cancel()
	}
	fs.srv.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, wire.APIError{Error: wire.APIErrorBody{Code: code, Message: msg}})
}

// account creates an account with n devices and returns their accounts.
func (fs *fakeServer) account(phone string, n int) []Account {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := kontor.Phone(phone)
	var out []Account
	for range n {
		out = append(out, fs.addDeviceLocked(p, ""))
	}
	return out
}

// addDevice adds a device to an account.
func (fs *fakeServer) addDevice(phone string) Account {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.addDeviceLocked(kontor.Phone(phone), "")
}

func (fs *fakeServer) addDeviceLocked(p kontor.Phone, _ string) Account {
	id := 1
	if ds := fs.accounts[p]; len(ds) > 0 {
		id = ds[len(ds)-1] + 1
	}
	fs.accounts[p] = append(fs.accounts[p], id)
	cred := fmt.Sprintf("kd_%s_%d", p.Digits(), id)
	addr := wire.DeviceAddress{Phone: p, DeviceID: id}
	fs.creds[cred] = addr
	return Account{Server: fs.URL, DeviceCredentials: wire.DeviceCredentials{Phone: p, DeviceID: id, Credential: cred}}
}

// removeDevice drops a device from an account's list.
func (fs *fakeServer) removeDevice(phone string, id int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := kontor.Phone(phone)
	fs.accounts[p] = slices.DeleteFunc(fs.accounts[p], func(d int) bool { return d == id })
}

// revoke forgets a device's credential and closes its connection with 4001.
func (fs *fakeServer) revoke(a Account) {
	fs.mu.Lock()
	delete(fs.creds, a.Credential)
	fs.mu.Unlock()
	fs.kick(a, closeUnauthenticated, "revoked")
}

// kick closes the connection of a device with code.
func (fs *fakeServer) kick(a Account, code websocket.StatusCode, reason string) {
	fs.mu.Lock()
	c := fs.conns[wire.DeviceAddress{Phone: a.Phone, DeviceID: a.DeviceID}]
	fs.mu.Unlock()
	if c != nil {
		_ = c.ws.Close(code, reason)
	}
}

// push queues a frame for a device as if committed, and writes it if the
// device is connected.
func (fs *fakeServer) push(a Account, f wire.Frame) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.enqueueLocked(wire.DeviceAddress{Phone: a.Phone, DeviceID: a.DeviceID}, &f)
}

func (fs *fakeServer) queued(a Account) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.queues[wire.DeviceAddress{Phone: a.Phone, DeviceID: a.DeviceID}])
}

func (fs *fakeServer) sendCount(ref string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.sends[ref]
}

func (fs *fakeServer) set(f func(fs *fakeServer)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f(fs)
}

func (fs *fakeServer) id() kontor.ID {
	fs.nextID++
	return kontor.ID(fs.nextID)
}

func (fs *fakeServer) enqueueLocked(addr wire.DeviceAddress, f *wire.Frame) {
	fs.queues[addr] = append(fs.queues[addr], f)
	if c := fs.conns[addr]; c != nil {
		b, _ := json.Marshal(f)
		go func() { _ = c.ws.Write(context.Background(), websocket.MessageText, b) }()
	}
}

func (fs *fakeServer) auth(h func(http.ResponseWriter, *http.Request, wire.DeviceAddress)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		fs.mu.Lock()
		addr, ok := fs.creds[cred]
		fs.mu.Unlock()
		if !ok {
			writeErr(w, 401, "unauthenticated", "bad credential")
			return
		}
		h(w, r, addr)
	}
}

func (fs *fakeServer) requestCode(w http.ResponseWriter, r *http.Request) {
	var req wire.CodeRequest
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		writeErr(w, 400, "invalid", "bad body")
		return
	}
	fs.mu.Lock()
	fs.codes[req.Phone] = "123456"
	fs.mu.Unlock()
	writeJSON(w, 200, wire.CodeResponse{ExpiresIn: 600})
}

func (fs *fakeServer) devOTP(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	code, ok := fs.codes[kontor.Phone(r.URL.Query().Get("phone"))]
	noDev := fs.noDev
	fs.mu.Unlock()
	if noDev {
		http.NotFound(w, r)
		return
	}
	if !ok {
		writeErr(w, 404, "not_found", "no code")
		return
	}
	writeJSON(w, 200, map[string]string{"phone": r.URL.Query().Get("phone"), "code": code})
}

func (fs *fakeServer) verify(w http.ResponseWriter, r *http.Request) {
	var req wire.VerifyRequest
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		writeErr(w, 400, "invalid", "bad body")
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.codes[req.Phone] != req.Code || req.Code == "" {
		writeErr(w, 400, "invalid", "wrong code")
		return
	}
	delete(fs.codes, req.Phone)
	fs.accounts[req.Phone] = nil
	writeJSON(w, 200, fs.addDeviceLocked(req.Phone, req.DeviceName).DeviceCredentials)
}

func (fs *fakeServer) link(w http.ResponseWriter, r *http.Request) {
	var req wire.LinkRequest
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.Code != "654321" {
		writeErr(w, 400, "invalid", "wrong code")
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.accounts[req.Phone] == nil {
		writeErr(w, 404, "not_found", "no account")
		return
	}
	writeJSON(w, 200, fs.addDeviceLocked(req.Phone, req.DeviceName).DeviceCredentials)
}

func (fs *fakeServer) ownDevices(w http.ResponseWriter, _ *http.Request, addr wire.DeviceAddress) {
	fs.writeDevices(w, addr.Phone)
}

func (fs *fakeServer) devices(w http.ResponseWriter, r *http.Request, _ wire.DeviceAddress) {
	fs.writeDevices(w, kontor.Phone(r.PathValue("phone")))
}

func (fs *fakeServer) writeDevices(w http.ResponseWriter, p kontor.Phone) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.devCalls++
	ds, ok := fs.accounts[p]
	if !ok {
		writeErr(w, 404, "not_found", "no account has the number "+string(p))
		return
	}
	resp := wire.DevicesResponse{Phone: p, Devices: []wire.Device{}}
	for _, d := range ds {
		resp.Devices = append(resp.Devices, wire.Device{DeviceID: d})
	}
	writeJSON(w, 200, resp)
}

func (fs *fakeServer) ws(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	write := func(f *wire.Frame) {
		b, _ := json.Marshal(f)
		_ = ws.Write(ctx, websocket.MessageText, b)
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		return
	}
	var hello wire.Frame
	_ = json.Unmarshal(b, &hello)
	fs.mu.Lock()
	addr, ok := fs.creds[hello.Credential]
	fs.mu.Unlock()
	if hello.Type != wire.THello || !ok {
		write(&wire.Frame{Type: wire.TError, Code: wire.ErrUnauthenticated, Message: "bad credential"})
		_ = ws.Close(closeUnauthenticated, "bad credential")
		return
	}
	c := &fakeConn{ws: ws, addr: addr, cancel: cancel}
	fs.mu.Lock()
	old := fs.conns[addr]
	fs.conns[addr] = c
	var queued [][]byte
	for _, f := range fs.queues[addr] {
		b, _ := json.Marshal(f)
		queued = append(queued, b)
	}
	fs.mu.Unlock()
	if old != nil {
		_ = old.ws.Close(closeReplaced, "replaced")
	}
	write(&wire.Frame{Type: wire.TWelcome, V: wire.Version, Phone: addr.Phone, DeviceID: addr.DeviceID, TS: time.Now().UnixMilli()})
	for _, b := range queued {
		_ = ws.Write(ctx, websocket.MessageText, b)
	}
	defer func() {
		fs.mu.Lock()
		if fs.conns[addr] == c {
			delete(fs.conns, addr)
		}
		fs.mu.Unlock()
	}()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		f, err := wire.DecodeFrame(b)
		if err != nil {
			write(&wire.Frame{Type: wire.TError, Code: wire.ErrBadFrame, Message: err.Error()})
			continue
		}
		switch f.Type {
		case wire.TSend:
			if ans, drop := fs.send(addr, f); drop {
				_ = ws.Close(websocket.StatusGoingAway, "going away")
				return
			} else if ans != nil {
				write(ans)
			}
		case wire.TAck:
			fs.ack(addr, f.IDs)
		case wire.TRead:
			fs.mu.Lock()
			for _, d := range fs.accounts[f.To] {
				fs.enqueueLocked(wire.DeviceAddress{Phone: f.To, DeviceID: d}, &wire.Frame{Type: wire.TReceipt, ID: fs.id(), TS: time.Now().UnixMilli(),
					Status: wire.StatusRead, IDs: f.IDs, By: addr.Phone, ByDevice: addr.DeviceID})
			}
			fs.mu.Unlock()
		case wire.TTyping:
			fs.mu.Lock()
			for _, d := range fs.accounts[f.To] {
				if pc := fs.conns[wire.DeviceAddress{Phone: f.To, DeviceID: d}]; pc != nil {
					b, _ := json.Marshal(&wire.Frame{Type: wire.TTyping, From: addr.Phone, FromDevice: addr.DeviceID, On: f.On})
					go func() { _ = pc.ws.Write(context.Background(), websocket.MessageText, b) }()
				}
			}
			fs.mu.Unlock()
		case wire.TWatch:
			for _, p := range f.Phones {
				fs.mu.Lock()
				online := false
				for a := range fs.conns {
					online = online || a.Phone == p
				}
				fs.mu.Unlock()
				write(&wire.Frame{Type: wire.TPresence, From: p, Online: online, LastSeen: 1700000000000})
			}
		case wire.TPing:
			write(&wire.Frame{Type: wire.TPong})
		}
	}
}

// send handles a send frame: the answer to write, or drop to close the
// connection without one.
func (fs *fakeServer) send(from wire.DeviceAddress, f *wire.Frame) (ans *wire.Frame, drop bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.sends[f.Ref]++
	key := from.String() + "/" + f.Ref
	if a := fs.answers[key]; a != nil {
		return a, false
	}
	if fs.hold {
		return nil, false
	}
	if len(fs.refuse) > 0 {
		code := fs.refuse[0]
		fs.refuse = fs.refuse[1:]
		return &wire.Frame{Type: wire.TError, Ref: f.Ref, Code: code, Message: "refused by the test"}, false
	}
	to, ok := fs.accounts[f.To]
	if !ok {
		return &wire.Frame{Type: wire.TError, Ref: f.Ref, Code: wire.ErrUnknownRecipient, Message: "no account"}, false
	}
	var missing, stale []wire.DeviceAddress
	check := func(phone kontor.Phone, have []int, ps []wire.Payload, skip int) {
		for _, d := range have {
			if d != skip && !slices.ContainsFunc(ps, func(p wire.Payload) bool { return p.DeviceID == d }) {
				missing = append(missing, wire.DeviceAddress{Phone: phone, DeviceID: d})
			}
		}
		for _, p := range ps {
			if p.DeviceID == skip || !slices.Contains(have, p.DeviceID) {
				stale = append(stale, wire.DeviceAddress{Phone: phone, DeviceID: p.DeviceID})
			}
		}
	}
	check(f.To, to, f.Payloads, 0)
	check(from.Phone, fs.accounts[from.Phone], f.Sync, from.DeviceID)
	if len(missing)+len(stale) > 0 {
		return &wire.Frame{Type: wire.TError, Ref: f.Ref, Code: wire.ErrDevicesMismatch, Message: "mismatch", Missing: missing, Stale: stale}, false
	}
	id, ts := fs.id(), time.Now().UnixMilli()
	fs.lastSend = append(fs.lastSend, *f)
	for _, p := range f.Payloads {
		fs.enqueueLocked(wire.DeviceAddress{Phone: f.To, DeviceID: p.DeviceID}, &wire.Frame{Type: wire.TMsg, ID: id, TS: ts, From: from.Phone, FromDevice: from.DeviceID, Body: p.Body})
	}
	for _, p := range f.Sync {
		fs.enqueueLocked(wire.DeviceAddress{Phone: from.Phone, DeviceID: p.DeviceID}, &wire.Frame{Type: wire.TMsg, ID: id, TS: ts, From: from.Phone, FromDevice: from.DeviceID, To: f.To, Body: p.Body})
	}
	ans = &wire.Frame{Type: wire.TSent, Ref: f.Ref, ID: id, TS: ts}
	fs.answers[key] = ans
	if fs.dropSent > 0 {
		fs.dropSent--
		return nil, true
	}
	return ans, false
}

// ack removes entries from a device's queue; an acked message makes a
// delivered receipt for the sender's devices.
func (fs *fakeServer) ack(addr wire.DeviceAddress, ids []kontor.ID) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	q := fs.queues[addr]
	for _, id := range ids {
		i := slices.IndexFunc(q, func(f *wire.Frame) bool { return f.ID == id })
		if i < 0 {
			continue
		}
		f := q[i]
		q = slices.Delete(q, i, i+1)
		if f.Type == wire.TMsg && f.To == "" {
			for _, d := range fs.accounts[f.From] {
				fs.enqueueLocked(wire.DeviceAddress{Phone: f.From, DeviceID: d}, &wire.Frame{Type: wire.TReceipt, ID: fs.id(), TS: time.Now().UnixMilli(),
					Status: wire.StatusDelivered, IDs: []kontor.ID{f.ID}, By: addr.Phone, ByDevice: addr.DeviceID})
			}
		}
	}
	fs.queues[addr] = q
}

// helpers for tests

const (
	alice = "+4915110000001"
	bob   = "+4915110000002"
	carol = "+4915110000003"
)

// fastOptions make reconnects quick.
func fastOptions() Options {
	return Options{MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
}

// testClient is a Client whose events a recorder collects, so tests can
// wait for one kind of event without losing the others.
type testClient struct {
	*Client
	rec *recorder
}

type recorder struct {
	mu   sync.Mutex
	evs  []Event
	used []bool
}

func newTestClient(t testing.TB, c *Client) *testClient {
	tc := &testClient{Client: c, rec: &recorder{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range c.Events() {
			tc.rec.mu.Lock()
			tc.rec.evs = append(tc.rec.evs, ev)
			tc.rec.used = append(tc.rec.used, false)
			tc.rec.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = c.Close()
		<-done
	})
	return tc
}

// take returns the first event of type T not taken before.
func take[T Event](c *testClient) (T, bool) {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	for i, ev := range c.rec.evs {
		if e, ok := ev.(T); ok && !c.rec.used[i] {
			c.rec.used[i] = true
			return e, true
		}
	}
	var zero T
	return zero, false
}

// openMem opens a client with its state in memory.
func openMem(t testing.TB, a Account, opts Options) *testClient {
	t.Helper()
	opts.Account = &a
	c, err := Open(context.Background(), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	return newTestClient(t, c)
}

// openDir opens a client on a profile directory, creating it for a if it
// holds no device yet.
func openDir(t testing.TB, dir string, a Account, opts Options) *testClient {
	t.Helper()
	if _, err := LoadAccount(dir); err != nil {
		if err := createProfile(dir, a); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return newTestClient(t, c)
}

// next waits for the next event of type T.
func next[T Event](t testing.TB, c *testClient) T {
	t.Helper()
	for range 1000 {
		if e, ok := take[T](c); ok {
			return e
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %T within 10s", *new(T))
	panic("unreachable")
}

// noEvent checks that no event of type T comes within d.
func noEvent[T Event](t testing.TB, c *testClient, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if e, ok := take[T](c); ok {
		t.Fatalf("unexpected %T: %+v", e, e)
	}
}

// eventually polls cond for up to 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting until %s", what)
}

func text(s string) wire.Content { return wire.Content{Type: "text", Text: s} }
