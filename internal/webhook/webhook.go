package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/url"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
)

// Event is one webhook to deliver.
type Event struct {
	// ID is stable: the same event enqueued twice has the same id, and the
	// second Enqueue is a no-op. At most MaxIDLen printable ASCII bytes.
	ID string
	// App is the app whose secret signs the body.
	App kontor.ID
	// URL is where the POST goes (http or https).
	URL string
	// Body is the JSON to send, already encoded, ASCII only (every
	// non-ASCII character escaped as \uXXXX, as the Cloud API does, so that
	// receivers that re-encode the parsed body compute the same signature).
	Body []byte
	// Created is when the event happened.
	Created time.Time
}

// MaxIDLen is the longest event id.
const MaxIDLen = 200

// MaxBody is the largest body an event may carry.
const MaxBody = 1 << 20

// State is where an event is in the outbox.
type State uint8

// The states of an event.
const (
	Pending   State = iota // waiting for its next attempt, or being attempted
	Delivered              // a 2xx answer was received
	Dead                   // given up; Replay makes it Pending again
)

var stateNames = [...]string{"pending", "delivered", "dead"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", s)
}

// Delivery is an event in the outbox with what happened to it so far.
type Delivery struct {
	Event
	State    State
	Attempts int // POSTs made since it was enqueued or replayed
	// Started is when the current round of attempts began: at Enqueue, or
	// at Replay. An event becomes a dead letter MaxAge after it.
	Started time.Time
	// Next is when the next attempt is due (while Pending; while claimed,
	// the end of the claim's lease).
	Next time.Time
	// Lease is the token of the claim that returned this delivery (Due),
	// to be given back with its Result.
	Lease int64
	// LastAt, LastStatus and LastResponse describe the last attempt: when,
	// the HTTP status (0 when there was no answer) and the first bytes of
	// the answer's body, or the error.
	LastAt       time.Time
	LastStatus   int
	LastResponse string
	// Done is when it was delivered or became a dead letter.
	Done time.Time
}

// Claim asks the Store for due events of some URLs.
type Claim struct {
	Now   time.Time // events due at Now or before
	Until time.Time // the lease's end: events not settled by then are due again
	Token int64     // identifies the claim; non-zero
	Want  []Want
}

// Lease is a claim on events in the outbox: Token names it (non-zero) and
// Until is when it runs out, after which its events are due again for any
// node. The zero Lease claims nothing.
type Lease struct {
	Token int64
	Until time.Time
}

// IsZero says whether l claims nothing.
func (l Lease) IsZero() bool { return l.Token == 0 }

// Want is how many events a claim takes at most for one URL.
type Want struct {
	URL   string
	Limit int
}

// Outcome is how an attempt ended.
type Outcome uint8

// The outcomes of an attempt.
const (
	// OutcomeDelivered: the receiver answered 2xx.
	OutcomeDelivered Outcome = iota
	// OutcomeRetry: the attempt failed; try again at Result.Next.
	OutcomeRetry
	// OutcomeDead: the attempt failed and there will be no other.
	OutcomeDead
	// OutcomeReleased: no attempt was made (the node is closing, or the
	// lease would have run out); the event is due again at Result.Next.
	OutcomeReleased
)

var outcomeNames = [...]string{"delivered", "retry", "dead", "released"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", o)
}

// Result is what the Deliverer records after an attempt.
type Result struct {
	ID       string
	Lease    int64 // the claim's token; a result under a lost lease changes nothing
	Outcome  Outcome
	At       time.Time // when the attempt ended
	Status   int       // HTTP status; 0 when there was no answer
	Response string    // the first bytes of the answer, or the error; valid UTF-8
	Next     time.Time // OutcomeRetry, OutcomeReleased: when it is due again
	Tried    bool      // a POST was made (false for OutcomeReleased, and OutcomeDead for a missing app)
}

// Store is the outbox. Implemented by internal/store.
type Store interface {
	// EnqueueWebhooks adds events, their round of attempts starting at
	// now, and returns those it added, in order: an event whose id is
	// already in the outbox (in any state) is left as it is. With a zero
	// lease they are due at now; otherwise they are born claimed under
	// it, as if DueWebhooks had just returned them (not due before
	// lease.Until), so the caller can deliver them without a claim.
	EnqueueWebhooks(ctx context.Context, evs []Event, now time.Time, lease Lease) ([]Event, error)
	// DueWebhookURLs returns, in order, up to limit URLs greater than
	// after that have pending events due at now.
	DueWebhookURLs(ctx context.Context, now time.Time, after string, limit int) ([]string, error)
	// DueWebhooks claims, for each of c.Want, up to its Limit of that
	// URL's pending events due at c.Now, oldest due first: each gets
	// c.Token as its lease and is not due again before c.Until.
	// Concurrent claims (other nodes) never return the same event while
	// its lease runs.
	DueWebhooks(ctx context.Context, c Claim) ([]Delivery, error)
	// SettleWebhooks records results in one transaction. A result applies
	// only while the event still holds its lease; others are ignored.
	// Tried results count an attempt.
	SettleWebhooks(ctx context.Context, rs []Result) error
	// ReplayWebhooks makes delivered or dead events pending again, due at
	// now, with a new round of attempts starting now; pending ones and
	// unknown ids are left alone. It returns how many it replayed.
	ReplayWebhooks(ctx context.Context, ids []string, now time.Time) (int, error)
	// DeadWebhooks returns up to limit dead letters of app (0: of every
	// app), the most recent first.
	DeadWebhooks(ctx context.Context, app kontor.ID, limit int) ([]Delivery, error)
	// RecentWebhooks returns up to limit events of app that had an
	// attempt, the most recently attempted first.
	RecentWebhooks(ctx context.Context, app kontor.ID, limit int) ([]Delivery, error)
	// PruneWebhooks deletes up to limit delivered events done before
	// delivered and dead letters done before dead, and says how many.
	PruneWebhooks(ctx context.Context, delivered, dead time.Time, limit int) (int, error)
}

// LaterStore is a Store that can record the results of delivered events
// later, in a write transaction it makes anyway (a node's group commit of
// messages), instead of a transaction of their own: on SQLite's one writer
// a settling transaction per few dozen webhooks was a third of all
// commits. The Deliverer uses it, when its Store has it, for
// OutcomeDelivered results only; retries, dead letters and released
// events are recorded at once with SettleWebhooks.
type LaterStore interface {
	Store
	// SettleWebhooksLater takes results of delivered events and records
	// them within a short while (at most a few tens of milliseconds), as
	// SettleWebhooks would. It never blocks on the database. Results it
	// had not recorded when the process died are lost: their events are
	// still pending under their lease, and are sent again once it ends (at
	// least once: receivers deduplicate by id).
	SettleWebhooksLater(rs []Result)
}

// Secrets looks up the secret that signs an app's webhooks.
type Secrets interface {
	// AppSecret returns app's current secret; kontor.NotFound when the
	// app does not exist (any more), which makes its events dead letters.
	AppSecret(ctx context.Context, app kontor.ID) (string, error)
}

// Metrics receives the Deliverer's measurements; the methods must be cheap.
type Metrics interface {
	// WebhooksEnqueued counts events added to the outbox (not those
	// whose id was there already).
	WebhooksEnqueued(n int)
	// WebhookAttempt counts one POST: how it ended, the HTTP status (0
	// without an answer) and how long it took.
	WebhookAttempt(o Outcome, status int, took time.Duration)
}

type nopMetrics struct{}

func (nopMetrics) WebhooksEnqueued(int)                       {}
func (nopMetrics) WebhookAttempt(Outcome, int, time.Duration) {}

// Signature returns the X-Hub-Signature-256 value of body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Signature(secret string, body []byte) string {
	return newSigner(secret).sign(body)
}

// signer makes the Signature of bodies under one secret, reusing keyed
// HMACs (hmac.New hashes the key and makes both digests each time).
type signer struct{ macs sync.Pool }

func newSigner(secret string) *signer {
	s := &signer{}
	s.macs.New = func() any { return hmac.New(sha256.New, []byte(secret)) }
	return s
}

// sign returns the Signature of body.
func (s *signer) sign(body []byte) string {
	m := s.macs.Get().(hash.Hash)
	m.Write(body)
	var sum [sha256.Size]byte
	out := make([]byte, 0, len("sha256=")+2*sha256.Size)
	out = hex.AppendEncode(append(out, "sha256="...), m.Sum(sum[:0]))
	m.Reset() // back to the keyed state
	s.macs.Put(m)
	return string(out)
}

// Backoff returns how long to wait after the attempt-th failed attempt
// (from 1): first, doubling with each attempt, at most max. The Deliverer
// waits a random 80 to 100 % of it, so that events that failed together do
// not all come back together.
func Backoff(attempt int, first, max time.Duration) time.Duration {
	d := first
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Check says what is wrong with an event, or nil.
func Check(ev Event) error {
	const op = "webhook.Check"
	switch {
	case ev.ID == "" || len(ev.ID) > MaxIDLen:
		return kontor.Errorf(kontor.Invalid, op, "an event id has 1 to %d characters", MaxIDLen)
	case ev.App <= 0:
		return kontor.Errorf(kontor.Invalid, op, "event %s names no app", ev.ID)
	case len(ev.Body) == 0 || len(ev.Body) > MaxBody:
		return kontor.Errorf(kontor.Invalid, op, "event %s: a body has 1 to %d bytes", ev.ID, MaxBody)
	}
	for i := 0; i < len(ev.ID); i++ {
		if c := ev.ID[i]; c < 0x21 || c > 0x7e {
			return kontor.Errorf(kontor.Invalid, op, "event id %q: printable ASCII only", ev.ID)
		}
	}
	for _, c := range ev.Body {
		if c >= 0x80 {
			return kontor.Errorf(kontor.Invalid, op, "event %s: the body must be ASCII-only JSON (escape other characters as \\uXXXX)", ev.ID)
		}
	}
	if !json.Valid(ev.Body) {
		return kontor.Errorf(kontor.Invalid, op, "event %s: the body is not JSON", ev.ID)
	}
	u, err := url.Parse(ev.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return kontor.Errorf(kontor.Invalid, op, "event %s: %q is not an http or https URL", ev.ID, ev.URL)
	}
	return nil
}
