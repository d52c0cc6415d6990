package kontortest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/gateway"
	"github.com/kontor-chat/kontor/wire"
)

// Account creates an account through the admin API and returns the
// credentials of its primary device.
func (s *Server) Account(t testing.TB, phone string) wire.DeviceCredentials {
	t.Helper()
	var c wire.DeviceCredentials
	if code := s.Call(t, http.MethodPost, "/admin/v1/accounts", s.Token, map[string]string{"phone": phone}, &c); code != 200 {
		t.Fatalf("creating account %s: HTTP %d", phone, code)
	}
	return c
}

// Call makes an HTTP call with a bearer token and decodes the answer into
// out (if not nil); it returns the status code.
func (s *Server) Call(t testing.TB, method, path, token string, in, out any) int {
	t.Helper()
	return Call(t, s.URL, method, path, token, in, out)
}

// Call is Server.Call against any base URL.
func Call(t testing.TB, base, method, path, token string, in, out any) int {
	t.Helper()
	return CallWith(t, http.DefaultClient, base, method, path, token, in, out)
}

// CallWith is Call through client c (ForwardedBy's, say).
func CallWith(t testing.TB, c *http.Client, base, method, path, token string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req, token, out)
}

// do sends req with a bearer token through c and decodes the answer into
// out (if not nil); it returns the status code.
func do(t testing.TB, c *http.Client, req *http.Request, token string, out any) int {
	t.Helper()
	method, path := req.Method, req.URL.Path
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// Device is a raw protocol connection for tests that check frames exactly:
// a WebSocket (WS set), or an in-process link to the node (Local set).
type Device struct {
	t     testing.TB
	WS    *websocket.Conn
	Local *gateway.LocalConn
}

// Transport names how a test device connects to the node.
type Transport string

// The transports of the device protocol.
const (
	WebSocket Transport = "websocket" // /v1/ws, JSON text messages
	InProcess Transport = "inprocess" // gateway.Hub.Local, frames as Go values (hosted endpoints)
)

// Transports runs a test over each transport of the device protocol.
func Transports(t *testing.T, run func(t *testing.T, tr Transport)) {
	for _, tr := range []Transport{WebSocket, InProcess} {
		t.Run(string(tr), func(t *testing.T) { run(t, tr) })
	}
}

// Connect connects a device over tr and says hello with cred; it fails
// the test unless the server welcomes the device.
func (s *Server) Connect(t testing.TB, tr Transport, cred string) *Device {
	t.Helper()
	d := s.ConnectRaw(t, tr)
	d.Send(wire.Frame{Type: wire.THello, V: wire.Version, Credential: cred})
	if f := d.Next(); f.Type != wire.TWelcome {
		t.Fatalf("hello: got %+v", f)
	}
	return d
}

// ConnectRaw connects over tr without saying hello.
func (s *Server) ConnectRaw(t testing.TB, tr Transport) *Device {
	t.Helper()
	if tr == WebSocket {
		return DialRaw(t, s.WS)
	}
	c, err := s.srv.DialLocal()
	if err != nil {
		t.Fatalf("connecting in process: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &Device{t: t, Local: c}
}

// Dial connects to a WebSocket URL and says hello with cred; it fails the
// test unless the server welcomes the device.
func Dial(t testing.TB, wsURL, cred string) *Device {
	t.Helper()
	d := DialRaw(t, wsURL)
	d.Send(wire.Frame{Type: wire.THello, V: wire.Version, Credential: cred})
	if f := d.Next(); f.Type != wire.TWelcome {
		t.Fatalf("hello: got %+v", f)
	}
	return d
}

// DialRaw connects without saying hello.
func DialRaw(t testing.TB, wsURL string) *Device {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	ws.SetReadLimit(4 << 20)
	d := &Device{t: t, WS: ws}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return d
}

// Send writes one frame.
func (d *Device) Send(f wire.Frame) {
	d.t.Helper()
	if d.Local != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Local.Write(ctx, &f); err != nil {
			d.t.Fatalf("write: %v", err)
		}
		return
	}
	b, _ := json.Marshal(f)
	d.SendRaw(b)
}

// SendRaw writes bytes as one text message (WebSocket only).
func (d *Device) SendRaw(b []byte) {
	d.t.Helper()
	if d.WS == nil {
		d.t.Fatal("SendRaw needs a WebSocket")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.WS.Write(ctx, websocket.MessageText, b); err != nil {
		d.t.Fatalf("write: %v", err)
	}
}

// Next reads the next frame, failing the test after 10 s.
func (d *Device) Next() wire.Frame {
	d.t.Helper()
	f, err := d.NextWithin(10 * time.Second)
	if err != nil {
		d.t.Fatalf("reading a frame: %v", err)
	}
	return f
}

// NextWithin reads the next frame or returns an error after timeout.
func (d *Device) NextWithin(timeout time.Duration) (wire.Frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if d.Local != nil {
		f, err := d.Local.Read(ctx)
		if err != nil {
			return wire.Frame{}, err
		}
		return *f, nil
	}
	_, b, err := d.WS.Read(ctx)
	if err != nil {
		return wire.Frame{}, err
	}
	var f wire.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return wire.Frame{}, fmt.Errorf("bad frame %q: %w", b, err)
	}
	return f, nil
}

// Expect reads frames until one of type typ arrives (skipping typing and
// presence hints), failing the test on anything else.
func (d *Device) Expect(typ string) wire.Frame {
	d.t.Helper()
	for {
		f := d.Next()
		if f.Type == typ {
			return f
		}
		if f.Type == wire.TTyping || f.Type == wire.TPresence {
			continue
		}
		d.t.Fatalf("want a %s frame, got %+v", typ, f)
	}
}

// Text sends a plain-content text message to a peer whose current device
// numbers are given, and returns the server's answer (sent or error).
func (d *Device) Text(ref, to string, devices []int, text string) wire.Frame {
	d.t.Helper()
	body, _ := wire.EncodeContent(wire.Content{Type: "text", Text: text})
	f := wire.Frame{Type: wire.TSend, Ref: ref, To: kontor.Phone(to)}
	for _, n := range devices {
		f.Payloads = append(f.Payloads, wire.Payload{DeviceID: n, Body: body})
	}
	d.Send(f)
	for {
		got := d.Next()
		if (got.Type == wire.TSent || got.Type == wire.TError) && got.Ref == ref {
			return got
		}
		if got.Type == wire.TMsg || got.Type == wire.TReceipt {
			continue // not acked: comes again later
		}
	}
}

// Close closes the connection normally.
func (d *Device) Close() {
	if d.Local != nil {
		_ = d.Local.Close()
		return
	}
	_ = d.WS.Close(websocket.StatusNormalClosure, "")
}

// DialLocal connects a device to the node in process, as the node's
// hosted endpoints are (gateway.Hub.Local).
func (s *Server) DialLocal() (*gateway.LocalConn, error) { return s.srv.DialLocal() }

// Business is what the admin API answers for a business it made.
type Business struct {
	WABA   string `json:"waba_id"`
	Number string `json:"phone_number_id"`
	Token  string `json:"access_token"`
	Secret string `json:"app_secret"`
}

// CreateBusiness makes a business through the admin API at base (POST
// /admin/v1/businesses with fields: name, phone, webhook_url,
// self_hosted …) with the operator's token, and gives hooks, when not
// nil, its app secret.
func CreateBusiness(t testing.TB, base, operator string, fields map[string]any, hooks *Webhooks) Business {
	t.Helper()
	var b Business
	if code := Call(t, base, http.MethodPost, "/admin/v1/businesses", operator, fields, &b); code != 200 {
		t.Fatalf("creating the business %v: HTTP %d", fields["name"], code)
	}
	if hooks != nil {
		hooks.SetSecret(b.Secret)
	}
	return b
}
