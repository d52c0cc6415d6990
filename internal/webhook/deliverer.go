package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
)

// Config tunes the Deliverer; zero fields take their defaults.
type Config struct {
	// Workers is how many POSTs may be under way at once (default 8).
	Workers int
	// PerURL is how many of them may go to one URL (default 4, at most
	// Workers), so that one slow receiver cannot hold every worker.
	PerURL int
	// Timeout bounds one POST, answer included (default 10 s).
	Timeout time.Duration
	// First is the wait after the first failed attempt (default 5 s); it
	// doubles with each further failure up to MaxDelay (default 1 h).
	First, MaxDelay time.Duration
	// MaxAge is how long an event is retried after it was enqueued or
	// replayed before it becomes a dead letter (default 7 days).
	MaxAge time.Duration
	// Poll is how often the outbox is searched for due retries and for
	// events other nodes enqueued (default 1 s). Events enqueued through
	// this Deliverer, or announced with Notify, go out at once.
	Poll time.Duration
	// Lease is how long a claimed event stays away from other claims
	// (default 2 min; at least 4 × Timeout).
	Lease time.Duration
	// Batch is the most events claimed for one URL at a time (default
	// 128), and the most results recorded in one transaction (2 × Batch).
	// Events this Deliverer enqueues are born claimed (NewLease) while
	// their URL holds fewer than max(Batch, MaxHeld/2).
	Batch int
	// MaxHeld is the most claimed events not yet settled (default 8 × Batch).
	MaxHeld int
	// SecretTTL is how long a looked-up app secret is used before it is
	// looked up again (default 5 s): a rotation applies after at most that.
	SecretTTL time.Duration
	// KeepDelivered and KeepDead are how long delivered events (for the
	// console's recent list) and dead letters stay in the outbox (default
	// 24 h and 30 days); PruneEvery is how often older ones are deleted
	// (default 1 min).
	KeepDelivered, KeepDead, PruneEvery time.Duration
	// Client makes the POSTs; nil means one of the Deliverer's own, which
	// keeps PerURL connections per host and follows no redirects.
	Client *http.Client
	// Dial, when set, opens the connections of the Deliverer's own client
	// in place of net.Dialer, and no proxy from the environment is used:
	// the platform's guard against webhook URLs on its own network
	// (internal/netguard). Not used with Client.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.PerURL <= 0 {
		c.PerURL = 4
	}
	c.PerURL = min(c.PerURL, c.Workers)
	def(&c.Timeout, 10*time.Second)
	def(&c.First, 5*time.Second)
	def(&c.MaxDelay, time.Hour)
	def(&c.MaxAge, 7*24*time.Hour)
	def(&c.Poll, time.Second)
	def(&c.Lease, 2*time.Minute)
	c.Lease = max(c.Lease, 4*c.Timeout)
	if c.Batch <= 0 {
		c.Batch = 128
	}
	if c.MaxHeld <= 0 {
		c.MaxHeld = 8 * c.Batch
	}
	c.MaxHeld = max(c.MaxHeld, c.Batch)
	def(&c.SecretTTL, 5*time.Second)
	def(&c.KeepDelivered, 24*time.Hour)
	def(&c.KeepDead, 30*24*time.Hour)
	def(&c.PruneEvery, time.Minute)
}

// Header names of a delivery.
const (
	SignatureHeader = "X-Hub-Signature-256"
	IDHeader        = "X-Kontor-Webhook-Id"
)

// snippetLen is how much of an answer is kept.
const snippetLen = 512

// Deliverer POSTs the outbox's events. New makes one, Start starts it,
// Close stops it.
type Deliverer struct {
	cfg       Config
	store     Store
	later     LaterStore // store, when it can record delivered results later; else nil
	secrets   Secrets
	metrics   Metrics
	clock     kontor.Clock
	log       *slog.Logger
	client    *http.Client
	ownClient bool

	wake     chan struct{} // a claim may find something: Enqueue, Notify, the poll, room
	discover atomic.Bool   // the next claim looks for URLs with due events first
	ready    chan *job     // claimed events allowed to go (within PerURL)
	results  chan result   // ended attempts, for the settler
	released chan struct{} // wakes the settler for d.release
	stop     chan struct{} // closed by Close: no more claims or pruning
	quit     chan struct{} // closed by Close once claims stopped: workers finish
	posts    context.Context
	cancel   context.CancelFunc // cancels POSTs under way
	closing  atomic.Bool

	loops   sync.WaitGroup // dispatcher and janitor
	workers sync.WaitGroup
	settled chan struct{} // closed when the settler has recorded everything

	mu       sync.Mutex
	urls     map[string]*urlState  // URLs with claimed events not yet settled
	dirty    map[string]bool       // URLs that may have due events not claimed yet
	held     int                   // claimed events not yet settled
	release  []result              // born-claimed events there was no room for, to give back (settler)
	reserved map[int64]reservation // room NewLease holds, by lease token, until Enqueued
	started  bool
	closed   bool
	cursor   string // where the next search for URLs with due events starts (dispatcher only)

	secretMu    sync.Mutex
	secretCache map[kontor.ID]cachedSecret
}

// urlState is what the Deliverer holds for one URL.
type urlState struct {
	held     int    // claimed, not yet settled
	inflight int    // given to workers
	waiting  []*job // claimed, waiting for a worker (PerURL reached)
}

// job is a claimed event.
type job struct {
	d Delivery
	// deadline is the last moment its POST may start: after it, the lease
	// could run out during the POST, and the event is given back instead.
	deadline time.Time
}

// result is an ended attempt and the URL it was for.
type result struct {
	Result
	url string
}

type cachedSecret struct {
	secret string
	sign   *signer // signs with secret
	at     time.Time
}

// New returns a Deliverer over store. metrics, clock and log may be nil.
func New(cfg Config, store Store, secrets Secrets, metrics Metrics, clock kontor.Clock, log *slog.Logger) *Deliverer {
	cfg.defaults()
	if metrics == nil {
		metrics = nopMetrics{}
	}
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{cfg: cfg, store: store, secrets: secrets, metrics: metrics, clock: clock, log: log, client: cfg.Client,
		wake: make(chan struct{}, 1), ready: make(chan *job, cfg.MaxHeld), results: make(chan result, cfg.MaxHeld), released: make(chan struct{}, 1),
		stop: make(chan struct{}), quit: make(chan struct{}), settled: make(chan struct{}),
		urls: map[string]*urlState{}, dirty: map[string]bool{}, reserved: map[int64]reservation{}, secretCache: map[kontor.ID]cachedSecret{}}
	d.later, _ = store.(LaterStore)
	d.posts, d.cancel = context.WithCancel(context.Background())
	if d.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = max(100, 2*cfg.Workers)
		tr.MaxIdleConnsPerHost = cfg.PerURL
		if cfg.Dial != nil {
			tr.DialContext, tr.Proxy = cfg.Dial, nil
		}
		d.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		d.ownClient = true
	}
	return d
}

// Start starts delivering: the workers, the claiming loop and the pruning.
func (d *Deliverer) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.closed {
		return
	}
	d.started = true
	for range d.cfg.Workers {
		d.workers.Add(1)
		go func() {
			defer d.workers.Done()
			d.work()
		}()
	}
	d.loops.Add(2)
	go func() {
		defer d.loops.Done()
		d.dispatch()
	}()
	go func() {
		defer d.loops.Done()
		d.janitor()
	}()
	go d.settle()
	d.Notify()
}

// Close stops claiming, gives the events that wait for a worker back to
// the outbox (due at once, for this node after a restart or another one),
// waits for the POSTs under way until ctx ends (then cancels them and gives
// their events back too), and records every outcome. It returns ctx's error
// when it had to cancel POSTs.
func (d *Deliverer) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	started := d.started
	d.mu.Unlock()
	if !started {
		d.cancel()
		return nil
	}
	close(d.stop)
	d.loops.Wait()

	d.mu.Lock()
	d.closing.Store(true)
	now := d.clock.Now()
	for u, st := range d.urls {
		for _, j := range st.waiting {
			d.results <- result{Result: released(j, now), url: u}
		}
		st.waiting = nil
	}
	d.mu.Unlock()
	close(d.quit)

	var err error
	done := make(chan struct{})
	go func() {
		d.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		d.cancel()
		<-done
	}
	close(d.results)
	<-d.settled
	d.cancel()
	if d.ownClient {
		d.client.CloseIdleConnections()
	}
	return err
}

// Notify says that events were enqueued (by a caller that wrote them to
// the Store itself): they are claimed at once instead of at the next poll.
// It never blocks.
func (d *Deliverer) Notify() {
	d.discover.Store(true)
	d.poke()
}

// poke wakes the dispatcher.
func (d *Deliverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Enqueue checks events and adds them to the outbox, born claimed by this
// Deliverer when it has room (NewLease), and hands them to its workers or
// wakes it. Events whose id is already there are left as they are. A zero
// Created is now.
func (d *Deliverer) Enqueue(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	now := d.clock.Now()
	copied := false
	for i := range evs {
		if err := Check(evs[i]); err != nil {
			return err
		}
		if evs[i].Created.IsZero() {
			if !copied {
				evs = append([]Event(nil), evs...)
				copied = true
			}
			evs[i].Created = now
		}
	}
	l := d.NewLease(evs)
	added, err := d.store.EnqueueWebhooks(ctx, evs, now, l)
	if err != nil {
		d.Enqueued(nil, l)
		return err
	}
	d.Enqueued(added, l)
	return nil
}

// NewLease returns the lease under which evs, about to be enqueued, are
// born claimed by this Deliverer (Store.EnqueueWebhooks), so that they go
// to its workers from memory, with no claim: a token of its own, ending a
// Config.Lease from now. Their room is held for them (within MaxHeld, and
// half of it per URL, see bornPerURL) until Enqueued is called with the
// lease: once they are written, with the events added, or with none if
// the write failed. When there is no room for all of them, or the
// Deliverer is not running, it returns the zero Lease: the events are then
// due at once, for any node, and claimed as usual. Events of a node that
// crashed before delivering them are due for any node when their lease
// ends.
func (d *Deliverer) NewLease(evs []Event) Lease {
	if len(evs) == 0 {
		return Lease{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started || d.closed || d.held+len(evs) > d.cfg.MaxHeld {
		return Lease{}
	}
	r := reservation{n: len(evs)}
	for i := range evs {
		k := slices.IndexFunc(r.urls, func(u urlCount) bool { return u.url == evs[i].URL })
		if k < 0 {
			k = len(r.urls)
			r.urls = append(r.urls, urlCount{url: evs[i].URL})
		}
		r.urls[k].n++
	}
	for _, u := range r.urls {
		if st := d.urls[u.url]; st != nil && st.held+u.n > d.bornPerURL() || u.n > d.bornPerURL() {
			return Lease{}
		}
	}
	for _, u := range r.urls {
		st := d.urls[u.url]
		if st == nil {
			st = &urlState{}
			d.urls[u.url] = st
		}
		st.held += u.n
	}
	d.held += r.n
	l := Lease{Token: rand.Int64N(math.MaxInt64) + 1, Until: d.clock.Now().Add(d.cfg.Lease)}
	d.reserved[l.Token] = r
	return l
}

// bornPerURL is the most events one URL may hold when born-claimed ones
// join them: half of MaxHeld (at least Batch), so that a flood of fresh
// events for one URL goes out from memory and still leaves the other
// half for other URLs' claims.
func (d *Deliverer) bornPerURL() int { return max(d.cfg.Batch, d.cfg.MaxHeld/2) }

// reservation is the room NewLease holds for the events of a lease.
type reservation struct {
	n    int
	urls []urlCount // usually one
}

type urlCount struct {
	url string
	n   int
}

// Enqueued tells the Deliverer about events a caller added to its Store
// itself, checked (Check) and in a transaction of its own (a business
// endpoint writes its records and webhooks together): the events the
// Store added (not those it had already), under l. Born-claimed events
// (l from NewLease) go to the workers at once, in the room NewLease held;
// the others are claimed at once instead of at the next poll. It never
// blocks.
func (d *Deliverer) Enqueued(evs []Event, l Lease) {
	if len(evs) > 0 {
		d.metrics.WebhooksEnqueued(len(evs))
	}
	d.mu.Lock()
	if l.IsZero() {
		for i := range evs {
			d.dirty[evs[i].URL] = true
		}
		d.mu.Unlock()
		if len(evs) > 0 {
			d.poke()
		}
		return
	}
	// Give the held room back; the events added take their part again.
	if r, ok := d.reserved[l.Token]; ok {
		delete(d.reserved, l.Token)
		d.held -= r.n
		for _, u := range r.urls {
			st := d.urls[u.url]
			if st.held -= u.n; st.held == 0 {
				delete(d.urls, u.url)
			}
		}
	}
	if d.closed {
		// Close has begun: the events are due again when l ends.
		d.mu.Unlock()
		return
	}
	started := l.Until.Add(-d.cfg.Lease)
	deadline := l.Until.Add(-2 * d.cfg.Timeout)
	now := d.clock.Now()
	gave := false
	for _, ev := range evs {
		if st := d.urls[ev.URL]; d.held >= d.cfg.MaxHeld || (st != nil && st.held >= d.bornPerURL()) {
			// More than NewLease held room for: back to the outbox, due
			// now (as a claim of MaxHeld or Batch would have left it).
			d.release = append(d.release, result{Result: Result{ID: ev.ID, Lease: l.Token, Outcome: OutcomeReleased, At: now, Next: now}, url: ev.URL})
			gave = true
			continue
		}
		d.hold(&job{d: Delivery{Event: ev, State: Pending, Started: started, Next: l.Until, Lease: l.Token}, deadline: deadline})
	}
	d.mu.Unlock()
	if gave {
		select {
		case d.released <- struct{}{}:
		default:
		}
	}
}

// hold takes a claimed event: to a worker if its URL has fewer than
// PerURL under way, else to wait for one. d.mu is held.
func (d *Deliverer) hold(j *job) {
	st := d.urls[j.d.URL]
	if st == nil {
		st = &urlState{}
		d.urls[j.d.URL] = st
	}
	st.held++
	d.held++
	if st.inflight < d.cfg.PerURL {
		st.inflight++
		d.ready <- j // never blocks: it holds MaxHeld, and d.held is at most that
	} else {
		st.waiting = append(st.waiting, j)
	}
}

// Replay makes delivered events and dead letters pending again, with a
// fresh MaxAge of attempts, and says how many it replayed.
func (d *Deliverer) Replay(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n, err := d.store.ReplayWebhooks(ctx, ids, d.clock.Now())
	if err != nil {
		return 0, err
	}
	d.Notify()
	return n, nil
}

// MaxList is the most deliveries DeadLetters and Recent return.
const MaxList = 1000

// DeadLetters returns up to limit (1 to MaxList) dead letters of app (0:
// of every app), the most recent first.
func (d *Deliverer) DeadLetters(ctx context.Context, app kontor.ID, limit int) ([]Delivery, error) {
	if limit <= 0 || limit > MaxList {
		return nil, kontor.Errorf(kontor.Invalid, "webhook.DeadLetters", "limit must be 1 to %d", MaxList)
	}
	return d.store.DeadWebhooks(ctx, app, limit)
}

// Recent returns up to limit (1 to MaxList) of app's events that had an
// attempt, the most recently attempted first, with their last answers.
func (d *Deliverer) Recent(ctx context.Context, app kontor.ID, limit int) ([]Delivery, error) {
	if limit <= 0 || limit > MaxList {
		return nil, kontor.Errorf(kontor.Invalid, "webhook.Recent", "limit must be 1 to %d", MaxList)
	}
	return d.store.RecentWebhooks(ctx, app, limit)
}

// maxURLs is the most URLs one search for due events returns (the next
// search goes on after the last); maxWantURLs is the most URLs one claim
// asks for.
const (
	maxURLs     = 1000
	maxWantURLs = 64
)

// dispatch claims due events whenever woken or polled, until Close. A
// poll, Notify and Replay first search the outbox for URLs with due events
// (a loose index scan: one index seek per URL); Enqueue names its URLs.
func (d *Deliverer) dispatch() {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		case <-t.C:
			d.discover.Store(true)
		}
		if d.discover.Swap(false) {
			d.findURLs()
		}
		d.claim()
	}
}

// findURLs marks URLs with due events dirty, up to maxURLs of them per
// call, going on from where the last call stopped.
func (d *Deliverer) findURLs() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	urls, err := d.store.DueWebhookURLs(ctx, d.clock.Now(), d.cursor, maxURLs)
	if err != nil {
		d.log.Error("looking for due webhooks", "err", err)
		return
	}
	d.cursor = ""
	if len(urls) == maxURLs {
		d.cursor = urls[len(urls)-1]
	}
	d.mu.Lock()
	for _, u := range urls {
		d.dirty[u] = true
	}
	d.mu.Unlock()
}

// claim takes due events of dirty URLs while there is room: at most
// MaxHeld claimed events in all, and Batch per URL. A URL stays dirty
// while its claims come back full.
func (d *Deliverer) claim() {
	for {
		select {
		case <-d.stop:
			return
		default:
		}
		d.mu.Lock()
		room := d.cfg.MaxHeld - d.held
		var want []Want
		for u := range d.dirty {
			if room <= 0 || len(want) == maxWantURLs {
				break
			}
			n := d.cfg.Batch
			if st := d.urls[u]; st != nil {
				n -= st.held
			}
			if n < d.cfg.Batch/4 {
				continue // it has plenty to do; claim more in one go later
			}
			if n = min(n, room); n > 0 {
				want = append(want, Want{URL: u, Limit: n})
				room -= n
			}
		}
		// The room asked for is held while the claim runs, so that
		// born-claimed events (Enqueued) cannot take it meanwhile.
		reserved := 0
		for _, w := range want {
			reserved += w.Limit
		}
		d.held += reserved
		d.mu.Unlock()
		if len(want) == 0 {
			return
		}
		now := d.clock.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		ds, err := d.store.DueWebhooks(ctx, Claim{Now: now, Until: now.Add(d.cfg.Lease), Token: rand.Int64N(math.MaxInt64) + 1, Want: want})
		cancel()
		d.mu.Lock()
		d.held -= reserved
		if err != nil {
			d.mu.Unlock()
			d.log.Error("claiming webhooks", "err", err)
			return
		}
		deadline := now.Add(d.cfg.Lease - 2*d.cfg.Timeout)
		got := make(map[string]int, len(want))
		for _, dl := range ds {
			got[dl.URL]++
			d.hold(&job{d: dl, deadline: deadline})
		}
		again := len(want) == maxWantURLs
		for _, w := range want {
			if got[w.URL] < w.Limit {
				delete(d.dirty, w.URL)
			} else {
				again = true
			}
		}
		d.mu.Unlock()
		if !again {
			return
		}
	}
}

// work runs jobs until Close; then it gives back what is left.
func (d *Deliverer) work() {
	for {
		select {
		case j := <-d.ready:
			d.run(j)
		case <-d.quit:
			for {
				select {
				case j := <-d.ready:
					d.run(j)
				default:
					return
				}
			}
		}
	}
}

// run attempts one job, hands its URL's next waiting job on and passes the
// result to the settler.
func (d *Deliverer) run(j *job) {
	r := d.attempt(j)
	u := j.d.URL
	d.mu.Lock()
	st := d.urls[u]
	st.inflight--
	if len(st.waiting) > 0 && !d.closing.Load() {
		next := st.waiting[0]
		st.waiting[0] = nil
		st.waiting = st.waiting[1:]
		st.inflight++
		d.ready <- next
	}
	d.mu.Unlock()
	d.results <- result{Result: r, url: u}
}

func released(j *job, now time.Time) Result {
	return Result{ID: j.d.ID, Lease: j.d.Lease, Outcome: OutcomeReleased, At: now, Next: now}
}

// attempt POSTs one event, unless the Deliverer is closing or the job
// waited past its deadline.
func (d *Deliverer) attempt(j *job) Result {
	now := d.clock.Now()
	if d.closing.Load() || now.After(j.deadline) {
		return released(j, now)
	}
	ev := &j.d
	r := Result{ID: ev.ID, Lease: ev.Lease}
	ctx, cancel := context.WithTimeout(d.posts, d.cfg.Timeout)
	defer cancel()
	sign, err := d.secret(ctx, ev.App)
	if err != nil {
		r.At = d.clock.Now()
		if kontor.KindOf(err) == kontor.NotFound {
			r.Outcome, r.Response = OutcomeDead, "app not found: "+snippet(kontor.MessageOf(err))
			d.log.Warn("webhook dead: its app is gone", "webhook", ev.ID, "app", ev.App)
			return r
		}
		if d.posts.Err() != nil {
			return released(j, r.At)
		}
		d.log.Error("looking up an app secret", "app", ev.App, "err", err)
		r.Response = "looking up the app secret failed"
		return d.failed(ev, r)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ev.URL, bytes.NewReader(ev.Body))
	if err != nil { // Check refused such URLs at Enqueue
		r.At, r.Outcome, r.Response = d.clock.Now(), OutcomeDead, snippet(err.Error())
		return r
	}
	// The keys as Header.Set would make them (canonical); the fixed
	// values are shared, as requests are only read.
	req.Header = http.Header{"Content-Type": jsonType, "User-Agent": userAgent,
		SignatureHeader: {sign.sign(ev.Body)}, IDHeader: {ev.ID}}
	start := time.Now()
	resp, err := d.post(req)
	if err == nil {
		var b []byte
		if resp.ContentLength != 0 { // most receivers answer with no body
			n := snippetLen
			if resp.ContentLength > 0 && resp.ContentLength < snippetLen {
				n = int(resp.ContentLength)
			}
			b = make([]byte, n)
			n, _ = io.ReadFull(resp.Body, b)
			if b = b[:n]; n == snippetLen {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be used again
			}
		}
		resp.Body.Close()
		r.Status, r.Response = resp.StatusCode, snippet(string(b))
	}
	took := time.Since(start)
	r.At, r.Tried = d.clock.Now(), true
	switch {
	case err != nil && d.posts.Err() != nil:
		return released(j, r.At) // Close gave up waiting; the receiver may have it: at least once
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			r.Response = "no answer within " + d.cfg.Timeout.String()
		} else {
			r.Response = snippet(err.Error())
		}
		r = d.failed(ev, r)
	case r.Status >= 200 && r.Status < 300:
		r.Outcome = OutcomeDelivered
	default:
		r = d.failed(ev, r)
	}
	d.metrics.WebhookAttempt(r.Outcome, r.Status, took)
	if r.Outcome == OutcomeDead {
		d.log.Warn("webhook dead after its last attempt", "webhook", ev.ID, "app", ev.App, "attempts", ev.Attempts+1, "status", r.Status)
	}
	return r
}

// Header values every POST has.
var (
	jsonType  = []string{"application/json"}
	userAgent = []string{"kontor-webhook/1"}
)

// post makes the POST. The Deliverer's own client follows no redirects and
// has no cookie jar or timeout of its own (the context has it), so its
// Transport takes the request directly, without what http.Client.Do adds
// per request (a copy of the headers for redirects, the deadline
// plumbing); but for a URL with a user name and password, whose basic
// authentication the Client adds.
func (d *Deliverer) post(req *http.Request) (*http.Response, error) {
	if !d.ownClient || req.URL.User != nil {
		return d.client.Do(req)
	}
	resp, err := d.client.Transport.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: err}
	}
	return resp, nil
}

// failed decides between another attempt and a dead letter.
func (d *Deliverer) failed(ev *Delivery, r Result) Result {
	n := ev.Attempts
	if r.Tried {
		n++
	}
	wait := Backoff(max(n, 1), d.cfg.First, d.cfg.MaxDelay)
	wait -= time.Duration(rand.Int64N(int64(wait/5) + 1)) // 80 to 100 %
	r.Next = r.At.Add(wait)
	if r.Next.Sub(ev.Started) > d.cfg.MaxAge {
		r.Outcome = OutcomeDead
	} else {
		r.Outcome = OutcomeRetry
	}
	return r
}

// secret returns app's secret, looked up at most every SecretTTL.
func (d *Deliverer) secret(ctx context.Context, app kontor.ID) (*signer, error) {
	now := d.clock.Now()
	d.secretMu.Lock()
	c, ok := d.secretCache[app]
	d.secretMu.Unlock()
	if ok && now.Sub(c.at) < d.cfg.SecretTTL && !now.Before(c.at) {
		return c.sign, nil
	}
	s, err := d.secrets.AppSecret(ctx, app)
	if err != nil {
		return nil, err
	}
	if !ok || c.secret != s {
		c.sign = newSigner(s)
	}
	d.secretMu.Lock()
	if len(d.secretCache) > 10000 {
		clear(d.secretCache)
	}
	d.secretCache[app] = cachedSecret{secret: s, sign: c.sign, at: now}
	d.secretMu.Unlock()
	return c.sign, nil
}

// settleWait is how long the settler waits for more results when it has
// few.
const settleWait = 2 * time.Millisecond

// settle records results in batches (one transaction each) and frees
// their room, until Close closes the results; with them it gives back the
// born-claimed events Enqueued had no room for (d.release). Results of
// delivered events go to the Store's SettleWebhooksLater when it has one
// (LaterStore): they ride a transaction the store makes anyway.
func (d *Deliverer) settle() {
	defer close(d.settled)
	batch := make([]result, 0, 2*d.cfg.Batch)
	rs := make([]Result, 0, cap(batch))
	var later []Result
	var rel []result
	for open := true; open; {
		batch = batch[:0]
		select {
		case r, ok := <-d.results:
			if open = ok; ok {
				batch = append(batch, r)
			}
		case <-d.released:
		}
		// Take what else has ended; when that is little, wait a moment
		// for more, so that one transaction records them (each
		// transaction rewrites the pages of four indexes, however few
		// rows it changes).
		var wait <-chan time.Time
	fill:
		for open && len(batch) < cap(batch) {
			select {
			case r, ok := <-d.results:
				if open = ok; !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				if len(batch) >= cap(batch)/4 || len(batch) == 0 {
					break fill
				}
				if wait == nil {
					wait = time.After(settleWait)
				}
				select {
				case r, ok := <-d.results:
					if open = ok; !ok {
						break fill
					}
					batch = append(batch, r)
				case <-wait:
					break fill
				}
			}
		}
		d.mu.Lock()
		rel, d.release = d.release, rel[:0]
		d.mu.Unlock()
		if len(batch) == 0 && len(rel) == 0 {
			continue
		}
		rs, later = rs[:0], later[:0]
		for _, r := range batch {
			if d.later != nil && r.Outcome == OutcomeDelivered {
				later = append(later, r.Result)
				continue
			}
			rs = append(rs, r.Result)
		}
		for _, r := range rel {
			rs = append(rs, r.Result)
		}
		if len(later) > 0 {
			d.later.SettleWebhooksLater(later)
		}
		if len(rs) > 0 {
			d.record(rs)
		}
		d.mu.Lock()
		for _, r := range batch {
			st := d.urls[r.url]
			st.held--
			d.held--
			if st.held == 0 {
				delete(d.urls, r.url)
			}
		}
		for _, r := range rel {
			d.dirty[r.url] = true // due now, for the next claim
		}
		more := len(d.dirty) > 0
		d.mu.Unlock()
		if more {
			d.poke()
		}
	}
}

// record stores results, trying a few times. Results it cannot store are
// lost; their events are due again when their leases run out.
func (d *Deliverer) record(rs []Result) {
	var err error
	for i, wait := range []time.Duration{0, 100 * time.Millisecond, time.Second, 5 * time.Second} {
		if i > 0 {
			time.Sleep(wait)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = d.store.SettleWebhooks(ctx, rs)
		cancel()
		if err == nil {
			return
		}
	}
	d.log.Error("recording webhook attempts; they will be made again after their leases", "n", len(rs), "err", err)
}

// janitor deletes old delivered events and dead letters.
func (d *Deliverer) janitor() {
	t := time.NewTicker(d.cfg.PruneEvery)
	defer t.Stop()
	const chunk = 5000
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
		now := d.clock.Now()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			n, err := d.store.PruneWebhooks(ctx, now.Add(-d.cfg.KeepDelivered), now.Add(-d.cfg.KeepDead), chunk)
			cancel()
			if err != nil {
				d.log.Error("pruning webhooks", "err", err)
			}
			if err != nil || n < chunk {
				break
			}
			select {
			case <-d.stop:
				return
			default:
			}
		}
	}
}

// snippet makes s fit a text column: valid UTF-8 without NULs, at most
// snippetLen bytes.
func snippet(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= snippetLen {
		return s
	}
	n := snippetLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
