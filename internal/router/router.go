package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// Sentinel errors the gateway tells apart.
var (
	ErrUnknownRecipient = errors.New("router: unknown recipient")
	ErrDevicesMismatch  = errors.New("router: device list mismatch")
	ErrStopped          = errors.New("router: stopped")
)

// MismatchError says which devices a send missed and which it named that do
// not exist (any more).
type MismatchError struct {
	Missing []wire.DeviceAddress
	Stale   []wire.DeviceAddress
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("payloads do not match the current devices: missing %v, stale %v", e.Missing, e.Stale)
}

// Unwrap makes errors.Is(err, ErrDevicesMismatch) true.
func (e *MismatchError) Unwrap() error { return ErrDevicesMismatch }

// Ringer is told about entries right after they were committed, to deliver
// them to connected devices. It must not block.
type Ringer interface {
	Ring(entries []Entry)
}

// Metrics receives the router's measurements; all methods must be cheap.
type Metrics interface {
	Committed(batchOps int, d time.Duration)
	Accepted(n int)
	Expired(n int)
}

// Config tunes the router.
type Config struct {
	// Committers is how many group committers run (1 for SQLite, more for
	// PostgreSQL, where transactions can run side by side).
	Committers int
	// MaxBatch is the most operations one transaction takes.
	MaxBatch int
	// TTL is how long an undelivered entry waits (default 30 days).
	TTL time.Duration
	// RefTTL is how long a send ref is remembered for deduplication (default 7 days).
	RefTTL time.Duration
	// JanitorEvery is how often expired entries are swept (default 1 minute).
	JanitorEvery time.Duration
	// CacheTTL bounds how long a device list is trusted (default 30 s).
	CacheTTL time.Duration
}

func (c *Config) defaults() {
	if c.Committers <= 0 {
		c.Committers = 1
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 512
	}
	if c.TTL <= 0 {
		c.TTL = 30 * 24 * time.Hour
	}
	if c.RefTTL <= 0 {
		c.RefTTL = 7 * 24 * time.Hour
	}
	if c.JanitorEvery <= 0 {
		c.JanitorEvery = time.Minute
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 30 * time.Second
	}
}

// Sender is the device that acts.
type Sender struct {
	Account kontor.ID
	Phone   kontor.Phone
	Device  kontor.ID // global id
	Num     int
}

// Router is the message router of one node.
type Router struct {
	cfg     Config
	store   Store
	ringer  Ringer
	metrics Metrics
	ids     *kontor.IDs
	clock   kontor.Clock
	log     *slog.Logger
	cache   *deviceCache

	queues []chan *op
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.RWMutex // guards stopped against sends racing Close
	closed bool
}

// New returns a Router; call Run to start its committers.
func New(cfg Config, store Store, ringer Ringer, metrics Metrics, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger) *Router {
	cfg.defaults()
	r := &Router{cfg: cfg, store: store, ringer: ringer, metrics: metrics, ids: ids, clock: clock, log: log,
		cache: newDeviceCache(store, cfg.CacheTTL, clock), stop: make(chan struct{})}
	for range cfg.Committers {
		r.queues = append(r.queues, make(chan *op, 4*cfg.MaxBatch))
	}
	return r
}

// Start starts the committers and the janitor. Close stops them.
func (r *Router) Start() {
	for _, q := range r.queues {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.commitLoop(q)
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.janitor()
	}()
}

// Close stops taking work, commits what was taken, and waits for the
// committers to finish.
func (r *Router) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	for _, q := range r.queues {
		close(q)
	}
	close(r.stop)
	r.mu.Unlock()
	r.wg.Wait()
}

// DevicesChanged drops the cached device list of an account.
func (r *Router) DevicesChanged(account kontor.ID) { r.cache.invalidate(account) }

type opKind uint8

const (
	opSend opKind = iota + 1
	opAck
	opReceipt
	opExpire
)

// op is one unit of work for a committer.
type op struct {
	kind   opKind
	sender Sender
	// opSend
	ref     string
	entries []Entry // ID, TS and Expires are set at commit time
	rider   Rider   // may be nil
	rode    bool    // rider rode in the transaction being tried
	// opAck
	ids []kontor.ID
	// opReceipt
	to      kontor.ID // account that gets the receipt
	receipt Receipt

	// results
	id   kontor.ID
	ts   int64
	err  error
	done func(*op)
}

// SendResult is the answer to a send.
type SendResult struct {
	ID  kontor.ID
	TS  int64
	Err error
}

// Send checks a send against the current devices and commits it. done is
// called once, from a committer goroutine, after the commit (or failure); it
// must not block.
func (r *Router) Send(ctx context.Context, s Sender, f *wire.Frame, done func(SendResult)) {
	r.SendWith(ctx, s, f, nil, done)
}

// SendWith is Send with a rider (may be nil), whose writes commit in the
// send's transaction. A send refused before its commit (a device list
// mismatch, say) never reaches the rider: the sender tries again, with
// the same ref and so the same rider.
func (r *Router) SendWith(ctx context.Context, s Sender, f *wire.Frame, rider Rider, done func(SendResult)) {
	entries, err := r.prepareSend(ctx, s, f)
	if err != nil {
		done(SendResult{Err: err})
		return
	}
	r.submit(&op{kind: opSend, sender: s, ref: f.Ref, entries: entries, rider: rider, done: func(o *op) {
		done(SendResult{ID: o.id, TS: o.ts, Err: o.err})
	}})
}

func (r *Router) prepareSend(ctx context.Context, s Sender, f *wire.Frame) ([]Entry, error) {
	const opName = "router.Send"
	if f.To == s.Phone {
		return nil, kontor.Errorf(kontor.Invalid, opName, "a message to your own number goes to your other devices as sync payloads; send to someone else")
	}
	var to, own Recipient
	var err error
	for attempt := range 2 {
		fresh := attempt > 0
		to, err = r.cache.get(ctx, f.To, fresh)
		if kontor.KindOf(err) == kontor.NotFound {
			return nil, &kontor.Error{Kind: kontor.NotFound, Op: opName, Msg: fmt.Sprintf("no account has the number %s", f.To), Err: ErrUnknownRecipient}
		}
		if err != nil {
			return nil, err
		}
		own, err = r.cache.getAccount(ctx, s.Account, fresh)
		if err != nil {
			return nil, err
		}
		var mm MismatchError
		diff(&mm, to.Phone, to.Devices, f.Payloads, 0)
		diff(&mm, own.Phone, own.Devices, f.Sync, s.Num)
		if len(mm.Missing) == 0 && len(mm.Stale) == 0 {
			break
		}
		if fresh {
			return nil, &kontor.Error{Kind: kontor.Conflict, Op: opName, Msg: "the payloads do not cover exactly the current devices", Err: &mm}
		}
	}
	entries := make([]Entry, 0, len(f.Payloads)+len(f.Sync))
	// Someone the recipient blocked is not told: the send commits (the
	// sender's other devices get their copies) but nothing is queued for
	// the recipient, so it stays at one tick.
	blocked := slices.Contains(to.Blocked, s.Phone)
	for _, p := range f.Payloads {
		if blocked {
			break
		}
		entries = append(entries, Entry{Device: deviceID(to.Devices, p.DeviceID), Kind: KindMessage,
			FromAccount: s.Account, From: s.Phone, FromDevice: s.Num, Body: p.Body})
	}
	for _, p := range f.Sync {
		entries = append(entries, Entry{Device: deviceID(own.Devices, p.DeviceID), Kind: KindSync,
			FromAccount: s.Account, From: s.Phone, FromDevice: s.Num, To: to.Phone, Body: p.Body})
	}
	return entries, nil
}

// diff adds to mm the devices of have (except skip) that ps lacks, and the
// ones ps names that have lacks.
func diff(mm *MismatchError, phone kontor.Phone, have []DeviceRef, ps []wire.Payload, skip int) {
	for _, d := range have {
		if d.Num == skip {
			continue
		}
		if !slices.ContainsFunc(ps, func(p wire.Payload) bool { return p.DeviceID == d.Num }) {
			mm.Missing = append(mm.Missing, wire.DeviceAddress{Phone: phone, DeviceID: d.Num})
		}
	}
	for _, p := range ps {
		if p.DeviceID == skip || !slices.ContainsFunc(have, func(d DeviceRef) bool { return d.Num == p.DeviceID }) {
			mm.Stale = append(mm.Stale, wire.DeviceAddress{Phone: phone, DeviceID: p.DeviceID})
		}
	}
}

func deviceID(ds []DeviceRef, num int) kontor.ID {
	for _, d := range ds {
		if d.Num == num {
			return d.ID
		}
	}
	return 0
}

// Ack deletes the entries a device acknowledged and sends delivered receipts
// for the messages among them. done (may be nil) runs after the commit.
func (r *Router) Ack(s Sender, ids []kontor.ID, done func(error)) {
	r.submit(&op{kind: opAck, sender: s, ids: ids, done: func(o *op) {
		if done != nil {
			done(o.err)
		}
	}})
}

// Read sends a read receipt for ids to every device of the person at phone.
func (r *Router) Read(ctx context.Context, s Sender, phone kontor.Phone, ids []kontor.ID, done func(error)) {
	to, err := r.cache.get(ctx, phone, false)
	if err != nil {
		if kontor.KindOf(err) == kontor.NotFound {
			err = &kontor.Error{Kind: kontor.NotFound, Op: "router.Read", Msg: fmt.Sprintf("no account has the number %s", phone), Err: ErrUnknownRecipient}
		}
		done(err)
		return
	}
	r.submit(&op{kind: opReceipt, sender: s, to: to.Account, receipt: Receipt{Status: wire.StatusRead, IDs: ids}, done: func(o *op) { done(o.err) }})
}

// Recipient returns the account and devices of phone (from the cache).
func (r *Router) Recipient(ctx context.Context, phone kontor.Phone) (Recipient, error) {
	rc, err := r.cache.get(ctx, phone, false)
	if kontor.KindOf(err) == kontor.NotFound {
		err = &kontor.Error{Kind: kontor.NotFound, Op: "router.Recipient", Msg: fmt.Sprintf("no account has the number %s", phone), Err: ErrUnknownRecipient}
	}
	return rc, err
}

// Pull reads a device's queue (for delivery).
func (r *Router) Pull(ctx context.Context, device, after kontor.ID, limit int) ([]Entry, error) {
	return r.store.Pull(ctx, device, after, limit)
}

func (r *Router) submit(o *op) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		o.err = &kontor.Error{Kind: kontor.Unavailable, Op: "router", Msg: "the server is shutting down; try again", Err: ErrStopped}
		o.done(o)
		return
	}
	q := r.queues[uint64(o.sender.Device)%uint64(len(r.queues))]
	q <- o
}

// commitLoop gathers ops into batches and commits each batch in one
// transaction until q is closed and drained.
func (r *Router) commitLoop(q chan *op) {
	batch := make([]*op, 0, r.cfg.MaxBatch)
	for {
		o, ok := <-q
		if !ok {
			return
		}
		batch = append(batch[:0], o)
	fill:
		for len(batch) < r.cfg.MaxBatch {
			select {
			case o, ok := <-q:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		r.commit(batch)
	}
}

// commit runs batch in one transaction; if that fails, it runs each op on
// its own so one bad op cannot sink the others.
func (r *Router) commit(batch []*op) {
	start := time.Now()
	var rung []Entry
	err := r.store.Tx(context.Background(), func(tx Tx) error {
		rung = rung[:0]
		bt := &batchTx{Tx: tx}
		for _, o := range batch {
			out, err := r.apply(bt, o)
			if err != nil {
				return err
			}
			rung = append(rung, out...)
		}
		return bt.flush()
	})
	if err != nil && len(batch) > 1 {
		r.log.Warn("group commit failed; committing one by one", "ops", len(batch), "err", err)
		for _, o := range batch {
			r.commit([]*op{o})
		}
		return
	}
	if err != nil {
		o := batch[0]
		r.log.Error("commit failed", "op", o.kind, "device", o.sender.Device, "err", err)
		o.err = &kontor.Error{Kind: kontor.Unavailable, Op: "router.commit", Msg: "the message could not be stored; try again", Err: err}
	}
	if r.metrics != nil {
		r.metrics.Committed(len(batch), time.Since(start))
	}
	if err == nil && len(rung) > 0 {
		r.ringer.Ring(rung)
	}
	accepted := 0
	for _, o := range batch {
		if o.kind == opSend && o.err == nil {
			accepted++
		}
		if o.rider != nil {
			o.rider.Rode(err == nil && o.rode)
		}
		o.done(o)
	}
	if r.metrics != nil && accepted > 0 {
		r.metrics.Accepted(accepted)
	}
}

// apply does one op inside tx and returns the entries it inserted. A failure
// it returns aborts the whole transaction.
func (r *Router) apply(tx Tx, o *op) ([]Entry, error) {
	now := r.clock.Now().UnixMilli()
	switch o.kind {
	case opSend:
		o.rode = false
		id := r.ids.Next()
		existing, fresh, err := tx.ClaimRef(o.sender.Device, o.ref, id, now)
		if err != nil {
			return nil, err
		}
		if !fresh {
			o.id, o.ts = existing, existing.Time().UnixMilli()
			return nil, nil
		}
		exp := now + r.cfg.TTL.Milliseconds()
		for i := range o.entries {
			o.entries[i].ID, o.entries[i].TS, o.entries[i].Expires = id, now, exp
		}
		if err := tx.Insert(o.entries); err != nil {
			return nil, err
		}
		if o.rider != nil {
			if err := o.rider.Ride(storeTx(tx), id, now); err != nil {
				return nil, err
			}
			o.rode = true
		}
		o.id, o.ts = id, now
		return o.entries, nil
	case opAck:
		gone, err := tx.Delete(o.sender.Device, o.ids)
		if err != nil {
			return nil, err
		}
		return r.receipts(tx, o.sender, gone, wire.StatusDelivered, now)
	case opReceipt:
		devs, err := tx.Devices(o.to)
		if err != nil {
			return nil, err
		}
		es := r.receiptEntries(devs, o.sender, o.receipt, now)
		return es, tx.Insert(es)
	case opExpire:
		gone, err := tx.Expire(now, 1000)
		if err != nil {
			return nil, err
		}
		o.id = kontor.ID(len(gone))
		// Failed receipts go to the sender's devices; the message id tells
		// them which message, and "by" stays empty.
		var out []Entry
		for _, e := range gone {
			if e.Kind != KindMessage {
				continue
			}
			got, err := r.receipts(tx, Sender{}, []Entry{e}, wire.StatusFailed, now)
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
		if err := tx.PruneRefs(now - r.cfg.RefTTL.Milliseconds()); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("router: unknown op %d", o.kind)
}

// receipts makes and inserts one receipt per device of each sender of the
// KindMessage entries in gone.
func (r *Router) receipts(tx Tx, by Sender, gone []Entry, status string, now int64) ([]Entry, error) {
	bySender := map[kontor.ID][]kontor.ID{}
	var order []kontor.ID
	for _, e := range gone {
		if e.Kind != KindMessage || e.FromAccount == 0 {
			continue
		}
		if _, ok := bySender[e.FromAccount]; !ok {
			order = append(order, e.FromAccount)
		}
		bySender[e.FromAccount] = append(bySender[e.FromAccount], e.ID)
	}
	var out []Entry
	for _, acct := range order {
		devs, err := tx.Devices(acct)
		if err != nil {
			return nil, err
		}
		es := r.receiptEntries(devs, by, Receipt{Status: status, IDs: bySender[acct]}, now)
		if err := tx.Insert(es); err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

func (r *Router) receiptEntries(devs []DeviceRef, by Sender, rc Receipt, now int64) []Entry {
	if len(devs) == 0 {
		return nil
	}
	body := EncodeReceipt(rc)
	es := make([]Entry, 0, len(devs))
	exp := now + r.cfg.TTL.Milliseconds()
	for _, d := range devs {
		es = append(es, Entry{Device: d.ID, ID: r.ids.Next(), Kind: KindReceipt, FromAccount: by.Account,
			From: by.Phone, FromDevice: by.Num, TS: now, Expires: exp, Body: body})
	}
	return es
}

// janitor sweeps expired entries until Close.
func (r *Router) janitor() {
	t := time.NewTicker(r.cfg.JanitorEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.Sweep()
		}
	}
}

// Sweep expires entries past their time now, sending failed receipts, and
// forgets old send refs. It returns how many entries expired.
func (r *Router) Sweep() int {
	total := 0
	for {
		res := make(chan int, 1)
		r.submit(&op{kind: opExpire, done: func(o *op) {
			if o.err != nil {
				res <- -1
				return
			}
			res <- int(o.id)
		}})
		n := <-res
		if n <= 0 {
			break
		}
		total += n
		if n < 1000 {
			break
		}
	}
	if total > 0 {
		r.log.Info("expired undelivered entries", "count", total)
		if r.metrics != nil {
			r.metrics.Expired(total)
		}
	}
	return total
}

// batchTx is the Tx of one group commit. It holds back the inserts of all
// its ops to the end, where they go in as few statements as the store
// allows (no op reads what another op of the same batch inserts: entries
// reach devices only after the commit), and remembers device lists it
// looked up.
type batchTx struct {
	Tx
	pending []Entry
	devices map[kontor.ID][]DeviceRef
}

// Insert queues entries for flush.
func (b *batchTx) Insert(es []Entry) error {
	b.pending = append(b.pending, es...)
	return nil
}

// Devices looks an account's devices up once per transaction.
func (b *batchTx) Devices(account kontor.ID) ([]DeviceRef, error) {
	if ds, ok := b.devices[account]; ok {
		return ds, nil
	}
	ds, err := b.Tx.Devices(account)
	if err != nil {
		return nil, err
	}
	if b.devices == nil {
		b.devices = make(map[kontor.ID][]DeviceRef)
	}
	b.devices[account] = ds
	return ds, nil
}

// storeTx is the store's own Tx under tx, for riders.
func storeTx(tx Tx) Tx {
	if b, ok := tx.(*batchTx); ok {
		return b.Tx
	}
	return tx
}

// flush inserts what the ops queued.
func (b *batchTx) flush() error {
	if len(b.pending) == 0 {
		return nil
	}
	return b.Tx.Insert(b.pending)
}
