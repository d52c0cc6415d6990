// Package bus carries hints between kontor nodes over NATS: doorbells (new
// entries wait for a device), device-list changes, kicks of removed devices,
// presence, typing, and directory changes (a cached token, number, business
// or app changed: store/dircache.go; a lost one is bounded by the cache's
// TTL). Hints only: the store is the truth, and a node that
// misses a hint loses no data (a device that reconnects or is rung pulls from
// the store).
//
// By default the bus runs an embedded NATS server inside the process (with
// JetStream on and its files in the data directory) and connects to it in
// process, without a listening port. With a nats:// URL it connects to an
// external NATS cluster instead; the same code runs in both shapes.
//
// Every node subscribes to the kontor.v1.* subjects and ignores what it
// published itself.
//
// Besides hints, the bus carries requests with their replies (Serve,
// Request: rpc.go) for the calls one node makes to a service another
// runs — internal/relay forwards the calls of a hosted business endpoint
// to the node that runs it. What a request carries is the caller's
// business; the bus only says when no node serves its subject
// (ErrNoResponders: nothing was done). Lock order: none; handlers are called from the NATS
// client's goroutines and must not block.
package bus
