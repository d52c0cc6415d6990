// Package gateway holds devices' WebSocket connections: the hello handshake,
// frames in both directions, delivery of queue entries with a bounded window
// of unacknowledged frames, typing and presence.
//
// Delivery: after a commit the router hands new entries to Hub.Offer. A
// connection that is caught up writes them straight away (no store read);
// one that is behind, busy pulling or full marks itself dirty and pulls from
// the store, which is the truth. A doorbell from another node (Hub.Ring) does
// the same. Frames of one connection go out in the order they were queued, so
// entries reach a device in id order within a pull or a push stream.
//
// Every connection has a reader goroutine (the HTTP handler's) and a writer
// goroutine that runs only while there is something to write, so an idle
// connection costs one goroutine.
//
// Lock order: Hub.mu before conn.mu; never call the router or the store while
// holding either.
package gateway
