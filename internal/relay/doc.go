// Package relay lets every node of a cluster serve every hosted business
// number: a hosted endpoint runs on the one node that keeps its profile
// (its Signal keys), and a node that gets a call for a number whose
// endpoint runs elsewhere forwards it there over NATS request/reply.
//
// The holder serves each endpoint it runs on kontor.v1.endpoint.{number}
// (queue group kontor.endpoint): Holder.Serve. Any other node calls it
// through Remote, which has the methods of bizapi.Endpoint, so the
// Business API and the console use it as they use a local endpoint, and
// the endpoint's own answers and errors (Cloud API codes) come back as
// they are. A node uses its local endpoint first: only a number whose
// endpoint is not open here is forwarded.
//
// A call is one request and one reply; a body bigger than one NATS
// message (a media upload or download, up to the public limit of 100 MB
// for documents) goes in chunks over a subject of that exchange, each
// chunk asked for and answered, so a slow side holds the other back and
// nothing piles up in between. See frame.go for the format.
//
// When no node serves the number (its node is down, or it is starting)
// a call retries for a bounded time (Remote.Wait) and then answers the
// Business API's 503 (code 131016): nothing was done. A holder that
// stops answering in the middle of a call (it died without closing its
// connection) ends the call after Remote.Timeout with a 503 that says
// the call may have been carried out.
//
// The same holder serves people's attachment blobs (blobs.go): a blob
// stays on the node that took the upload, and Remote.Blobs opens one from
// whichever node has it, asking the node its record names first.
//
// It must never forward a call whose number runs here, and never keep
// a goroutine past Holder.Close. Lock order: Holder.mu only, never held
// while calling an endpoint or waiting for NATS (a subscription's
// handler takes it to count a call in, and stopping a subscription waits
// for its handler).
package relay
