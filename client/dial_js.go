//go:build js

package client

import (
	"context"

	"github.com/coder/websocket"
)

// dialWebSocket opens the WebSocket with the browser's WebSocket API, which
// has no HTTP client to choose and no TCP connections to drop:
// Options.HTTPClient carries only the device API calls here (through the
// Fetch API).
func (c *Client) dialWebSocket(ctx context.Context) (*websocket.Conn, func(), error) {
	ws, _, err := websocket.Dial(ctx, c.wsURL, nil)
	return ws, func() {}, err
}
