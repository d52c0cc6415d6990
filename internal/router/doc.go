// Package router accepts messages, commits them to the store and rings the
// recipients: per-device queues, ordering, acknowledgements, receipts
// (delivered, read, failed) and the expiry of undelivered entries.
//
// Every write goes through a group committer: concurrent senders' sends,
// acks and receipts are gathered into one store transaction, and each caller
// is answered only after that transaction committed. Work is routed to a
// committer by the device that caused it, so one device's writes commit in
// the order it made them. After a commit the router hands the new entries to
// the Ringer, which delivers them to local connections or rings other nodes;
// the store stays the only truth, so a lost ring loses nothing.
//
// A send may carry a Rider (SendWith; only over an in-process link, see
// Riders): the committer calls it in the send's transaction, after the
// ref was claimed fresh, to write what belongs to the message (a hosted
// business endpoint's record and webhook), and tells it the outcome
// before answering the sender.
//
// router never imports the store, the bus or transport packages. Lock order:
// Router.cache.mu is a leaf; committers hold no lock while calling the store
// or a Rider; Riders.mu is a leaf.
package router
