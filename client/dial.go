//go:build !js

package client

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// dialWebSocket opens the WebSocket to the server through the HTTP client
// of the options. drop closes the TCP connections the dial made (see
// dialClient); it is never nil.
func (c *Client) dialWebSocket(ctx context.Context) (*websocket.Conn, func(), error) {
	hc, drop := c.dialClient()
	ws, _, err := websocket.Dial(ctx, c.wsURL, &websocket.DialOptions{HTTPClient: hc})
	return ws, drop, err
}

// dialClient returns the HTTP client for one WebSocket dial, and a drop
// function that closes the TCP connections it made: a normal close waits
// for the server's answer, and drop bounds that wait. A custom RoundTripper
// in Options.HTTPClient is used as it is, without drop.
func (c *Client) dialClient() (*http.Client, func()) {
	var rt http.RoundTripper = http.DefaultTransport
	if c.opts.HTTPClient != nil && c.opts.HTTPClient.Transport != nil {
		rt = c.opts.HTTPClient.Transport
	}
	base, ok := rt.(*http.Transport)
	if !ok {
		return &http.Client{Transport: rt}, func() {} // the WebSocket library refuses a client with a Timeout
	}
	tr := base.Clone()
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: dialWait, KeepAlive: 30 * time.Second}).DialContext
	}
	var mu sync.Mutex
	var conns []net.Conn
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
		return conn, err
	}
	return &http.Client{Transport: tr}, func() {
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range conns {
			_ = conn.Close()
		}
		conns = nil
		tr.CloseIdleConnections()
	}
}
