// Package gateway holds devices' connections: the hello handshake, frames in
// both directions, delivery of queue entries with a bounded window of
// unacknowledged frames, typing and presence.
//
// A connection runs over a link (link.go): a device's WebSocket, whose
// frames are JSON text messages, or an in-process pipe to a device of this
// node (Hub.Local, local.go: the hosted business endpoints), whose frames
// pass as Go values. Both get the same handshake (the device's credential),
// the same checks (wire.Frame.Check), window, rate limit and close codes.
// Only an in-process pipe carries riders (Hub.LocalWith, router.Rider): the
// hosted endpoint's writes that commit in its send's transaction.
//
// Delivery: after a commit the router hands new entries to Hub.Offer. A
// connection that is caught up writes them straight away (no store read);
// one that is behind, busy pulling or full marks itself dirty and pulls from
// the store, which is the truth, once its window has room for a useful read
// (Config.minPull). Hub.Offer tells Metrics what became of each entry. A doorbell from another node (Hub.Ring) does
// the same. Frames of one connection go out in the order they were queued, so
// entries reach a device in id order within a pull or a push stream.
//
// Every connection has a reader goroutine and a writer
// goroutine that runs only while there is something to write, so an idle
// connection costs one goroutine.
//
// Lock order: Hub.mu before conn.mu; never call the router or the store while
// holding either.
package gateway
