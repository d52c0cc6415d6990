// Package webhook delivers webhooks: it POSTs events to the URLs businesses
// gave, signed with their app's secret, from a durable outbox, retrying with
// exponential backoff for up to seven days and keeping what never got
// through as dead letters that an operator can list and replay.
//
// The model: whoever causes an event (the business endpoint turning a
// message into Cloud API JSON, a status change, a template review) encodes
// its body and enqueues it with a stable id. Enqueueing an id that is
// already in the outbox changes nothing, so a caller that retries after a
// crash, or two nodes that produce the same event, cause one delivery.
// Enqueue wakes the Deliverer at once; a slow poll picks up retries and
// events other nodes enqueued.
//
// Events a running Deliverer enqueues (Enqueue, or a caller's own
// transaction with NewLease and Enqueued) are born claimed: the insert
// gives them a lease of this Deliverer's, and they go to its workers from
// memory, with no claim query and no claim UPDATE. NewLease holds their
// room (MaxHeld in all, max(Batch, MaxHeld/2) for one URL) until Enqueued;
// when there is none they are written due, for any node, and claimed as
// usual. If the node dies first, its born-claimed events are due for any
// node when their lease ends, like those of a claim.
//
// The Deliverer claims due events from the Store per URL, with a lease: a
// claimed event is not due again until its lease runs out, so several
// nodes sharing PostgreSQL never POST the same event at the same time (the
// store takes the rows with FOR UPDATE SKIP LOCKED), and an event a crashed
// node had claimed goes out again once its lease has passed. Each
// attempt's outcome is recorded under the lease's token, so a node that
// lost its lease cannot overwrite what another recorded; outcomes are
// recorded in batches, one transaction each (the settler waits up to
// 2 ms for more when it has few: every transaction rewrites the pages of
// the outbox's indexes, however few rows it changes). A Store that is also
// a LaterStore takes the results of delivered events to record later, in
// a transaction it makes anyway (the node's group commit of messages; on
// its own after a few tens of milliseconds when none comes): an event
// delivered just before the process died may then still be pending, and
// goes out again when its lease ends. Undelivered events are never lost
// that way: their rows stay pending until a result is recorded. Delivery
// is at least once: receivers deduplicate by the ids in the body (the
// event id also travels in the X-Kontor-Webhook-Id header).
//
// Which URLs to claim for: Enqueue names them; a poll (every second),
// Notify and Replay search the outbox for URLs with due events, one index
// seek per URL however many events wait, so a receiver with a large
// backlog costs nothing when its turn has not come.
//
// Each POST carries Content-Type: application/json and X-Hub-Signature-256:
// sha256= and the hex HMAC-SHA256 of the raw body under the app's secret,
// which is looked up when the event goes out (cached for a few seconds), so
// a rotated secret applies to events already queued. A 2xx answer is
// delivered; any other answer, a redirect, a network error or the timeout
// (10 s) is a failed attempt, retried after 5 s, doubling up to an hour,
// with jitter, until the next attempt would fall more than seven days after
// the event was enqueued (or replayed): then it is a dead letter.
//
// Workers are shared by all URLs, but at most PerURL POSTs go to one URL at
// a time and at most Batch events are claimed for one URL, so one slow or
// flooded receiver cannot take every worker, every claimed slot or every
// claim. An event that waited so long that its lease could run out during
// the POST is given back to the outbox instead of being sent.
//
// webhook never imports the store, the bus or transport packages; net/http
// only as an outbound client. Lock order: Deliverer.mu and
// Deliverer.secretMu are leaves, never held while calling the Store, the
// Secrets or the network.
package webhook
