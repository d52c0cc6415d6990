// Package endpoint is a business number's device: it holds the number's
// Signal keys and sessions (a client profile with end-to-end encryption),
// decrypts what people send and turns it into Cloud API webhooks, and turns
// Business API calls into encrypted messages. The same code runs hosted in
// the platform (kontor serve keeps the profile in --data/endpoints) and
// self-hosted at the business (kontor endpoint): only where it runs, and
// so who can read the chats, differs. A hosted endpoint tells each person
// once, in the chat, that the platform operator's service manages it.
// Payment requests and order news that name an order a person placed are
// checked against it and change it before they go out (orders.go), on
// the platform for both kinds of endpoint.
package endpoint

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/webhook"
	"github.com/kontor-chat/kontor/wire"
)

// Config describes the business number an endpoint serves.
type Config struct {
	WABA   kontor.ID
	Number kontor.ID // the phone-number id
	App    kontor.ID // whose secret signs the webhooks
	Phone  kontor.Phone
	// WebhookURL returns where webhooks go now ("" = nowhere yet; they are
	// not kept).
	WebhookURL func(ctx context.Context) string
	// Hosted: the platform runs this endpoint. People are told so.
	Hosted bool
	// Dial opens the endpoint device's connections to its node in place of
	// a WebSocket (client.Options.Dial): hosted endpoints are linked to
	// their own node in process. nil: the WebSocket to the profile's
	// server (self-hosted endpoints).
	Dial func(ctx context.Context) (client.Conn, error)
	// Operator names who runs the platform, for the hosted notice.
	Operator string
	// MediaDir keeps the files of the number's media (decrypted).
	MediaDir string
	// Media, when set, keeps them instead of MediaDir (a cluster's
	// database).
	Media MediaFiles
	// Storage, when set, keeps the endpoint's profile (device credential,
	// Signal keys and sessions, conversations) in place of the directory
	// given to Open: a hosted endpoint in a cluster keeps it in the shared
	// database, so that another node can take the endpoint over.
	Storage client.Storage
	// LinkClient fetches the media a business sends by link (image.link,
	// a template's header link, …). Hosted endpoints: the platform's
	// client that refuses private addresses (internal/netguard); nil: one
	// without a guard, for a self-hosted endpoint, whose fetches are made
	// in the business's own network.
	LinkClient *http.Client
	// URLKey signs the short-lived media download URLs.
	URLKey []byte
	// MediaTTL is how long uploaded and received media are kept (30 days).
	MediaTTL time.Duration
	// Window is the customer service window (24 hours).
	Window time.Duration
	// NoSync keeps the endpoint's keys and outbox without fsync (hosted
	// endpoints: a process crash loses nothing, a machine crash may lose
	// the last session states; see docs/performance.md).
	NoSync bool
	// MPS returns how many messages per second the number may send now
	// (the public default is 80); nil means 80. It is called on every
	// send, so it must be cheap.
	MPS func(ctx context.Context) int
	// Meter charges billable messages when they are delivered (hosted
	// endpoints: the platform's ledger); nil charges nothing.
	Meter Meter
	// Report has every delivered message decided and charged by the
	// platform (self-hosted endpoints, report.go); it takes the place of
	// Meter, and its answer is the delivered status's pricing.
	Report Reporter
	// Credit says whether the business may send a paid message now: nil,
	// or an error wrapping billing.ErrNoCredit when its credit is spent
	// (answered with 131042). Free messages are never checked. nil: no
	// credit control.
	Credit func(ctx context.Context) error
	// Tier returns the number's messaging limit (TIER_250 … TIER_UNLIMITED):
	// how many people its business-initiated messages may reach in a
	// moving 24 hours; nil means TIER_250.
	Tier func(ctx context.Context) string
	// Template finds the business's template name in language: its
	// definition and status (APPROVED, PAUSED, …); kontor.NotFound (or a
	// nil definition) when there is none. nil: no templates.
	Template func(ctx context.Context, name, language string) (*cloudapi.TemplateDefinition, string, error)
	// Rules decide which messages are charged (nil: the July 2025 set,
	// billing.DefaultRuleBook); the set in force when a message was sent
	// decides every status of it.
	Rules *billing.RuleBook
	// Riders, when set, are the riders of the endpoint device's sends
	// (hosted: its Dial hands them to the gateway, gateway.Hub.LocalWith):
	// a send's record, inbox entry and "sent" webhook are written in the
	// router's transaction of the send (ride.go). The endpoint's Store
	// must then be the router's, and its Hooks the outbox on it.
	Riders *router.Riders
	// Allowance counts message id against the number's free monthly
	// allowance of category (calendar month of at, UTC) and says whether
	// it is one of the first free; the same answer for the same id
	// (store.UseAllowance). Asked only for a message the rules would
	// charge whose category has an allowance. nil: allowances are not
	// counted and such messages are charged.
	Allowance func(ctx context.Context, category string, at time.Time, id kontor.ID, free int) (bool, error)
	// SendDeadline bounds how long a Business API send waits for the
	// platform to take the message (DefaultSendDeadline when 0): past it,
	// the message is withdrawn from the device's outbox, so that it never
	// goes out after the caller, answered 131016, may have sent it again.
	SendDeadline time.Duration
	// MinBackoff and MaxBackoff bound the device's waits between
	// reconnects and between retries of a send the platform could not
	// take (client.Options; 0: the client's defaults).
	MinBackoff, MaxBackoff time.Duration
	// Orders ties payment requests and order news to the orders people
	// placed (orders.go); nil: every reference id is the business's own.
	Orders Orders
}

// DefaultSendDeadline is how long a Business API send waits for the
// platform by default: well under the timeouts of common HTTP clients
// (30 s and more), and far over what a send takes when the platform is
// well (milliseconds).
const DefaultSendDeadline = 10 * time.Second

// withdrawWait is the part of the send deadline kept for learning what
// became of a send still in flight when the wait for its answer ends.
func withdrawWait(deadline time.Duration) time.Duration { return min(deadline/5, time.Second) }

// Meter writes the charge of a delivered billable message, once per
// message however often it is reported.
type Meter interface {
	ChargeMessage(ctx context.Context, m billing.Message) (billing.Entry, bool, error)
}

// Hooks takes webhooks to deliver.
type Hooks interface {
	Enqueue(ctx context.Context, evs []webhook.Event) error
}

// Endpoint is a running business endpoint.
type Endpoint struct {
	cfg    Config
	dev    *client.Client
	sealer *e2e.Sealer
	store  Store
	hooks  Hooks
	files  *files
	limits *limiter
	ids    *kontor.IDs
	clock  kontor.Clock
	log    *slog.Logger
	// rules decide which messages are charged (cfg.Rules).
	rules *billing.RuleBook

	commits    *committer
	stopCommit context.CancelFunc
	// recent holds the records of the latest sent messages, from when the
	// send was committed (before their record is: a receipt may come in
	// between) until two generations of recentKeep later: their delivered
	// and read receipts then need no read of the store.
	recentMu   sync.Mutex
	recent     map[kontor.ID]MessageRecord
	recentPrev map[kontor.ID]MessageRecord
	// early holds receipts that came before their message was remembered:
	// the person's device can answer before the send's call returns here.
	// remember hands them back; the rest (receipts of messages not sent
	// through the API, such as the hosted-service notice) are dropped
	// after earlyKeep.
	early map[kontor.ID][]earlyReceipt
	// sending holds the refs of the sends a Send call waits for (it
	// writes their records), each with the Sent event of it that came
	// meanwhile, if any (unheard.go).
	sending map[string]*client.Sent

	stop context.CancelFunc
	done chan struct{}
	wg   sync.WaitGroup
	// Close ends the sends waiting for the platform (closingCtx) and
	// waits for them (sends) to withdraw theirs from the device's outbox
	// before it closes the device: a send the platform did not take must
	// not go out from the outbox after a restart or takeover. closed
	// (under sendMu) refuses new sends from then on.
	sendMu     sync.Mutex
	closed     bool
	sends      sync.WaitGroup
	closingCtx context.Context
	closeSends context.CancelFunc
	// eventPause is the first pause of commitEvents (0: eventPause).
	eventPause time.Duration
}

// Open starts the endpoint of the profile in dir (or in cfg.Storage, with
// dir empty): publishes its keys, connects, and turns what arrives into
// webhooks until Close.
func Open(ctx context.Context, dir string, cfg Config, store Store, hooks Hooks, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger) (*Endpoint, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if cfg.MediaTTL <= 0 {
		cfg.MediaTTL = 30 * 24 * time.Hour
	}
	if cfg.Rules == nil {
		cfg.Rules = billing.DefaultRuleBook()
	}
	if cfg.Window <= 0 {
		cfg.Window = 24 * time.Hour
	}
	if cfg.SendDeadline <= 0 {
		cfg.SendDeadline = DefaultSendDeadline
	}
	log = log.With("number", cfg.Number)
	fs, err := openFiles(cfg.MediaDir, cfg.Media)
	if err != nil {
		return nil, err
	}
	var sealer *e2e.Sealer
	if cfg.Storage != nil {
		dir = ""
		a, err := client.ReadAccount(cfg.Storage)
		if err != nil {
			return nil, err
		}
		sealer, err = e2e.OpenStorage(cfg.Storage, a.API(nil), wire.DeviceAddress{Phone: a.Phone, DeviceID: a.DeviceID}, e2e.Options{Logger: log})
		if err != nil {
			return nil, err
		}
	} else if sealer, err = e2e.OpenProfile(dir, nil, e2e.Options{Logger: log, NoSync: cfg.NoSync}); err != nil {
		return nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = sealer.Maintain(mctx)
	cancel()
	if err != nil {
		log.Warn("publishing the endpoint's keys failed; retrying later", "err", err)
	}
	// The device runs until Close, not until the caller's ctx ends (an
	// admin request that created the business, say).
	// Receipts are acknowledged once their statuses and charges are
	// committed (run): a crash before makes the server deliver them again.
	dev, err := client.Open(context.WithoutCancel(ctx), dir, client.Options{Sealer: sealer, Logger: log, NoSync: cfg.NoSync, HoldReceipts: true, Dial: cfg.Dial, Storage: cfg.Storage,
		MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff})
	if err != nil {
		sealer.Close()
		return nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	cctx, stopCommit := context.WithCancel(context.Background())
	e := &Endpoint{cfg: cfg, dev: dev, sealer: sealer, store: store, hooks: hooks, files: fs, ids: ids, clock: clock, log: log,
		rules: cfg.Rules, limits: newLimiter(defaultMPS), stop: stop, done: make(chan struct{}),
		commits: newCommitter(store, hooks, clock, log), stopCommit: stopCommit, recent: map[kontor.ID]MessageRecord{},
		sending: map[string]*client.Sent{}}
	e.closingCtx, e.closeSends = context.WithCancel(context.Background())
	go e.commits.run(cctx)
	go e.run(rctx)
	return e, nil
}

// Close stops the endpoint. Business API sends still waiting for the
// platform end first: each is withdrawn from the device's outbox (or, when
// that cannot be recorded, answered as of unknown fate), so that it does
// not go out later from the outbox of this profile's next device.
func (e *Endpoint) Close() error {
	e.sendMu.Lock()
	e.closed = true
	e.sendMu.Unlock()
	e.closeSends()
	e.sends.Wait() // each within its withdrawWait
	e.stop()
	<-e.done
	e.wg.Wait()
	err := e.dev.Close()
	e.sealer.Close()
	e.stopCommit()
	<-e.commits.done
	return err
}

// Phone is the business number.
func (e *Endpoint) Phone() kontor.Phone { return e.cfg.Phone }

// run turns the device's events into webhooks and keeps the keys fresh.
func (e *Endpoint) run(ctx context.Context) {
	defer close(e.done)
	keys := time.NewTicker(time.Hour)
	defer keys.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keys.C:
			mctx, cancel := context.WithTimeout(ctx, time.Minute)
			if _, err := e.sealer.Maintain(mctx); err != nil {
				e.log.Warn("publishing the endpoint's keys failed", "err", err)
			}
			cancel()
		case ev, ok := <-e.dev.Events():
			if !ok {
				if err := e.dev.Err(); err != nil {
					e.log.Error("the endpoint's device stopped", "err", err)
				}
				return
			}
			// The events waiting now are handled together, and what they
			// write is committed at once.
			var w writes
			e.event(ctx, ev, &w)
		more:
			for range maxEvents {
				select {
				case ev, ok := <-e.dev.Events():
					if !ok {
						break more
					}
					e.event(ctx, ev, &w)
				default:
					break more
				}
			}
			if e.commitEvents(ctx, &w) == nil && len(w.acks) > 0 {
				e.dev.Ack(w.acks...)
			}
			// Told even when the commit failed: the person must know
			// who can read the chat.
			for _, peer := range w.notices {
				e.notice(ctx, peer, false)
			}
		}
	}
}

// maxEvents bounds the device events handled in one go.
const maxEvents = 256

// eventAttempts bounds how often commitEvents tries; the pauses between
// tries double from eventPause up to 50 times it (about a minute in all).
const (
	eventAttempts = 15
	eventPause    = 100 * time.Millisecond
)

// commitEvents commits what the device's events wrote, trying again
// while the store fails (down, say), up to eventAttempts times or until
// ctx ends: the device's next events wait meanwhile. The receipts among
// them are acknowledged only once committed, so they come again on the
// next connection; the person's messages have been acknowledged when
// they were told (client.Options.HoldReceipts holds receipts only), so
// what a commit that failed for good leaves out of them is logged by id.
func (e *Endpoint) commitEvents(ctx context.Context, w *writes) error {
	pause := e.eventPause
	if pause <= 0 {
		pause = eventPause
	}
	longest := 50 * pause
	for attempt := 1; ; attempt++ {
		err := e.commits.commit(w)
		if err == nil {
			return nil
		}
		if attempt == eventAttempts || ctx.Err() != nil {
			ids := make([]kontor.ID, 0, len(w.msgs))
			for _, m := range w.msgs {
				ids = append(ids, m.ID)
			}
			e.log.Error("giving up recording the device's events: their webhooks and inbox entries are lost",
				"attempts", attempt, "msg_ids", ids, "receipts", len(w.acks), "err", err)
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		pause = min(2*pause, longest)
	}
}

// event handles one event of the device, adding what it writes to w.
func (e *Endpoint) event(ctx context.Context, ev client.Event, w *writes) {
	switch ev := ev.(type) {
	case client.Message:
		if !ev.Outgoing {
			e.inbound(ctx, ev, w)
		}
	case client.Receipt:
		if e.receipt(ctx, ev, w) {
			w.acks = append(w.acks, ev.ID)
		}
	case client.Sent:
		e.sentEvent(ctx, ev, w)
	case client.State:
		if ev.Connected {
			go func() {
				mctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				_, _ = e.sealer.Maintain(mctx)
			}()
		}
	}
}

// digits writes a phone number the Cloud API way: without "+".
func digits(p kontor.Phone) string { return strings.TrimPrefix(string(p), "+") }

func (e *Endpoint) metadata() cloudapi.Metadata {
	return cloudapi.Metadata{DisplayPhoneNumber: digits(e.cfg.Phone), PhoneNumberID: e.cfg.Number.String()}
}

// inbound turns a person's message into a messages webhook.
func (e *Endpoint) inbound(ctx context.Context, m client.Message, w *writes) {
	ts := time.UnixMilli(m.TS)
	if m.Problem == "" && m.Content.Referral != nil {
		e.referral(ctx, m.Peer, ts)
	}
	// The record notes the person's time too (Contact.LastInbound: the
	// service window), in the group commit of w; the hosted notice goes
	// out after it (run), so that an answer to the notice finds the
	// window open.
	w.msgs = append(w.msgs, MessageRecord{Number: e.cfg.Number, ID: m.ID, Peer: m.Peer, Created: ts})
	if e.cfg.Hosted && !slices.Contains(w.notices, m.Peer) {
		w.notices = append(w.notices, m.Peer)
	}
	wamid := cloudapi.MessageID(m.ID)
	var wm cloudapi.WebhookMessage
	if m.Problem != "" {
		// The message could not be decrypted: the business hears of it
		// as an unsupported message rather than not at all.
		ce := cloudapi.NewError(cloudapi.CodeUnsupportedType, "The message could not be decrypted: "+m.Problem)
		wm = cloudapi.WebhookMessage{From: digits(m.From), ID: wamid, Timestamp: cloudapi.Timestamp(ts), Type: "unsupported",
			Errors: []cloudapi.WebhookError{ce.WebhookError()}}
	} else {
		var err error
		wm, err = cloudapi.InboundMessage(ctx, m.From, wamid, ts, m.Content, &namer{e: e, from: m.From})
		if err != nil {
			e.log.Error("turning a message into a webhook", "err", err)
			return
		}
	}
	if wm.Context != nil && wm.Context.ID != "" && wm.Context.From == "" {
		wm.Context.From = digits(e.cfg.Phone)
		if id, ok := cloudapi.ParseMessageID(wm.Context.ID); ok {
			if r, err := e.store.Message(ctx, e.cfg.Number, id); err == nil && !r.Outgoing {
				wm.Context.From = digits(r.Peer)
			}
		}
	}
	v := cloudapi.MessagesValue{Metadata: e.metadata(),
		Contacts: []cloudapi.WebhookContact{{Profile: cloudapi.Profile{Name: digits(m.From)}, WaID: digits(m.From)}},
		Messages: []cloudapi.WebhookMessage{wm}}
	e.logInbound(m, wm, ts, w)
	e.hook(ctx, w, "msg."+wamid, v)
}

// referral records a person's message with a referral at ts: it starts a
// free entry-point window, which the business's answer opens, unless one
// is open or waiting for that answer already.
func (e *Endpoint) referral(ctx context.Context, peer kontor.Phone, ts time.Time) {
	c, err := e.store.Contact(ctx, e.cfg.Number, peer)
	if err != nil {
		e.log.Error("reading a contact for its referral", "err", err)
		return
	}
	if !e.rules.At(ts).TakesReferral(c.EntryPoint, ts, e.cfg.Window) {
		return
	}
	if err := e.store.NoteReferral(ctx, e.cfg.Number, peer, ts); err != nil {
		e.log.Error("recording a referral", "err", err)
	}
}

// entryPoint says whether a message to c.Peer sent at is inside a free
// entry-point window, and whether it opens one (the answer to a
// referral: open records it once it went out).
func (e *Endpoint) entryPoint(c Contact, at time.Time) (in, opens bool) {
	return e.rules.At(at).EntryPointAt(c.EntryPoint, at, e.cfg.Window)
}

// openEntryPoint records that the message sent at at to c.Peer opened the
// entry-point window of c's referral. It says whether that message is
// inside the window: another message may have opened it a moment before.
func (e *Endpoint) openEntryPoint(ctx context.Context, c Contact, at time.Time) bool {
	opened, err := e.store.OpenEntryPoint(ctx, e.cfg.Number, c.Peer, c.EntryPoint.Referral, at)
	if err != nil {
		e.log.Error("opening a free entry-point window", "err", err)
		return true // it is inside the answer's time; a later answer records it
	}
	if opened {
		return true
	}
	now, err := e.store.Contact(ctx, e.cfg.Number, c.Peer)
	if err != nil {
		e.log.Error("reading a contact's entry-point window", "err", err)
		return true
	}
	in, _ := e.entryPoint(now, at)
	return in
}

// receipt turns a receipt for messages the business sent into statuses
// and charges. It says whether the receipt is done with once w is
// committed: not when a charge or a lookup failed (then it comes again
// on the device's next connection). A message whose record is not found
// (its send has not returned yet) is handled by that send.
func (e *Endpoint) receipt(ctx context.Context, r client.Receipt, w *writes) bool {
	status := r.Status
	switch status {
	case wire.StatusDelivered, wire.StatusRead, wire.StatusFailed:
	default:
		return true
	}
	done := true
	for _, id := range r.IDs {
		rec, err := e.message(ctx, id)
		if kontor.KindOf(err) == kontor.NotFound {
			// Not remembered yet (its send has not returned), or not sent
			// through the API (the hosted-service notice: no status).
			var ok bool
			if rec, ok = e.wait(id, r); !ok {
				// Reported deliveries are checked against this receipt,
				// held until it is: it comes again if Send does not
				// report it first.
				done = done && e.cfg.Report == nil
				continue
			}
			err = nil
		}
		if err != nil {
			e.log.Error("looking up a sent message", "err", err)
			done = false
			continue
		}
		peer := r.By
		if peer == "" {
			peer = rec.Peer
		}
		st := e.status(ctx, cloudapi.MessageID(id), status, time.UnixMilli(r.TS), peer, rec)
		if status == wire.StatusDelivered && e.cfg.Report != nil {
			// Self-hosted: the platform decides and charges (report.go).
			d, err := e.report(ctx, rec, peer, time.UnixMilli(r.TS))
			switch {
			case kontor.KindOf(err) == kontor.Invalid:
				// Refused for good: asking again changes nothing.
				e.log.Error("the platform refused the report of a delivered message", "msg_id", id, "err", err)
			case err != nil:
				e.log.Error("reporting a delivered message to the platform", "msg_id", id, "err", err)
				done = false
				continue
			default:
				st.Pricing = &cloudapi.Pricing{Billable: d.Billable, PricingModel: "PMP", Category: d.Category, Type: d.Type}
			}
		} else if status == wire.StatusDelivered && st.Pricing != nil && st.Pricing.Billable && e.cfg.Meter != nil {
			// Charged when delivered, exactly as the status's pricing says.
			if _, _, err := e.cfg.Meter.ChargeMessage(ctx, billing.Message{ID: id, Business: e.cfg.WABA, Number: e.cfg.Number,
				To: peer, Category: st.Pricing.Category, At: time.UnixMilli(r.TS)}); err != nil {
				e.log.Error("charging a delivered message", "msg_id", id, "err", err)
				done = false
			}
		}
		w.inbox.Statuses = append(w.inbox.Statuses, InboxStatus{Number: e.cfg.Number, ID: id, Status: inboxStatus(status), At: time.UnixMilli(r.TS)})
		if status == wire.StatusFailed {
			ce := cloudapi.NewError(cloudapi.CodeUndeliverable, "The message was not delivered before it expired.")
			st.Errors = []cloudapi.WebhookError{ce.WebhookError()}
		}
		e.hook(ctx, w, "status."+status+"."+st.ID, cloudapi.MessagesValue{Metadata: e.metadata(), Statuses: []cloudapi.Status{st}})
	}
	return done
}

// status makes a status item with the pricing of the message.
func (e *Endpoint) status(ctx context.Context, wamid, status string, at time.Time, peer kontor.Phone, rec MessageRecord) cloudapi.Status {
	st := cloudapi.Status{ID: wamid, Status: status, Timestamp: cloudapi.Timestamp(at), RecipientID: digits(peer),
		BizOpaqueCallbackData: rec.Callback}
	// A delivery is charged exactly as this block says (see receipt).
	d := e.decide(ctx, rec, at)
	st.Pricing = &cloudapi.Pricing{Billable: d.Billable, PricingModel: "PMP", Category: d.Category, Type: d.Type}
	return st
}

// decide applies the rules in force when rec was sent (at, when its
// time is unknown): the same decision for every status of a message,
// its allowance counted once per message id.
func (e *Endpoint) decide(ctx context.Context, rec MessageRecord, at time.Time) billing.Decision {
	when := rec.Created
	if when.IsZero() {
		when = at
	}
	rs := e.rules.At(when)
	d := rs.Decide(rec.Category, !rec.Initiated, rec.EntryPoint, false)
	if free := rs.Categories[d.Category].MonthlyFree; d.Billable && free > 0 && e.cfg.Allowance != nil {
		within, err := e.cfg.Allowance(ctx, d.Category, when, rec.ID, free)
		if err != nil {
			e.log.Error("counting a message against its free allowance", "msg_id", rec.ID, "err", err)
			return d
		}
		d = rs.Decide(rec.Category, !rec.Initiated, rec.EntryPoint, within)
	}
	return d
}

// creditError answers a paid send refused for credit.
func creditError(err error, log *slog.Logger) *cloudapi.Error {
	if errors.Is(err, billing.ErrNoCredit) {
		return cloudapi.NewError(cloudapi.CodeEligibilityPayment, kontor.MessageOf(err))
	}
	log.Error("checking the business's credit", "err", err)
	return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The business's credit could not be checked; try again.")
}

// recentKeep is how many sent messages' records a generation of recent
// holds (two generations: about 20 MB at most).
const recentKeep = 50000

// earlyKeep is how long a receipt waits for its message to be
// remembered; maxEarly bounds how many wait.
const (
	earlyKeep = time.Minute
	maxEarly  = 10000
)

// earlyReceipt is a receipt for one message that came before the message
// was remembered.
type earlyReceipt struct {
	r  client.Receipt
	at time.Time
}

// remember keeps the record of a sent message in recent, and returns the
// receipts for it that came before (each for this message alone).
func (e *Endpoint) remember(rec MessageRecord) []client.Receipt {
	e.recentMu.Lock()
	defer e.recentMu.Unlock()
	if len(e.recent) >= recentKeep {
		e.recentPrev, e.recent = e.recent, make(map[kontor.ID]MessageRecord, recentKeep)
	}
	e.recent[rec.ID] = rec
	waiting := e.early[rec.ID]
	if len(waiting) == 0 {
		return nil
	}
	delete(e.early, rec.ID)
	rs := make([]client.Receipt, len(waiting))
	for i, w := range waiting {
		rs[i] = w.r
	}
	return rs
}

// wait keeps a receipt for message id whose record was not found, unless
// the message was remembered meanwhile: then its record comes back.
func (e *Endpoint) wait(id kontor.ID, r client.Receipt) (MessageRecord, bool) {
	e.recentMu.Lock()
	defer e.recentMu.Unlock()
	if rec, ok := e.recent[id]; ok {
		return rec, true
	}
	now := e.clock.Now()
	if e.early == nil {
		e.early = map[kontor.ID][]earlyReceipt{}
	}
	if len(e.early) >= maxEarly {
		for k, ws := range e.early {
			if now.Sub(ws[0].at) > earlyKeep {
				delete(e.early, k)
			}
		}
		if len(e.early) >= maxEarly {
			return MessageRecord{}, false
		}
	}
	r.IDs = []kontor.ID{id}
	e.early[id] = append(e.early[id], earlyReceipt{r: r, at: now})
	return MessageRecord{}, false
}

// message returns the record of a message of this number: a recent sent
// one from memory (records never change), else from the store.
func (e *Endpoint) message(ctx context.Context, id kontor.ID) (MessageRecord, error) {
	e.recentMu.Lock()
	rec, ok := e.recent[id]
	if !ok {
		rec, ok = e.recentPrev[id]
	}
	e.recentMu.Unlock()
	if ok {
		return rec, nil
	}
	return e.store.Message(ctx, e.cfg.Number, id)
}

// hook adds a messages webhook to w.
func (e *Endpoint) hook(ctx context.Context, w *writes, id string, v cloudapi.MessagesValue) {
	e.hookTo(e.webhookURL(ctx), w, id, v)
}

// webhookURL is where webhooks go now; "" when nowhere.
func (e *Endpoint) webhookURL(ctx context.Context) string {
	if e.cfg.WebhookURL == nil {
		return ""
	}
	return e.cfg.WebhookURL(ctx)
}

// hookTo is hook to url.
func (e *Endpoint) hookTo(url string, w *writes, id string, v cloudapi.MessagesValue) {
	if url == "" {
		e.log.Debug("no webhook URL set; dropping a webhook", "id", id)
		return
	}
	body, err := cloudapi.EncodeWebhook(cloudapi.MessagesNotification(e.cfg.WABA.String(), v))
	if err != nil {
		e.log.Error("encoding a webhook", "err", err)
		return
	}
	id = e.cfg.Number.String() + "." + id
	if len(id) > webhook.MaxIDLen {
		id = id[:webhook.MaxIDLen]
	}
	w.hooks = append(w.hooks, webhook.Event{ID: id, App: e.cfg.App, URL: url, Body: body, Created: e.clock.Now()})
}

// notice tells a person once per conversation, on a hosted endpoint, that
// the platform operator's service manages the chat for the business.
// sent says whether the caller already knows the notice went out (from
// the contact it read), which spares a read per message.
func (e *Endpoint) notice(ctx context.Context, peer kontor.Phone, sent bool) {
	if !e.cfg.Hosted || sent {
		return
	}
	if c, err := e.store.Contact(ctx, e.cfg.Number, peer); err == nil && c.NoticeSent {
		return // a read, where claiming would be a write per message
	}
	first, err := e.store.ClaimNotice(ctx, e.cfg.Number, peer)
	if err != nil || !first {
		return
	}
	op := e.cfg.Operator
	if op == "" {
		op = "the operator of this kontor platform"
	}
	c := wire.Content{V: wire.ContentVersion, Type: wire.ContentBusinessNotice,
		Text:   "This business uses a service run by " + op + " to manage this chat, so " + op + " can read the messages of this chat.",
		Notice: &wire.Notice{Reason: wire.NoticeHosted, Operator: e.cfg.Operator}}
	if _, err := e.dev.Queue(peer, c); err != nil {
		e.log.Error("sending the hosted-service notice", "err", err)
	}
}

// Send carries out a messages call: a send, or marking a message read.
func (e *Endpoint) Send(ctx context.Context, body []byte) (any, *cloudapi.Error) {
	req, cerr := cloudapi.ParseSend(body)
	if cerr != nil {
		return nil, cerr
	}
	if req.IsMarkRead() {
		return e.markRead(ctx, req)
	}
	to := req.Phone()
	if to == e.cfg.Phone {
		return nil, cloudapi.NewError(cloudapi.CodeRecipientIsSender, "The recipient is this business number itself.")
	}
	category := "service"
	var tmpl *cloudapi.TemplateDefinition
	if req.Type == cloudapi.TypeTemplate {
		// Templates go out at any time, and are billed by their category.
		def, cerr := findTemplate(ctx, e.cfg.Template, req.Template, e.log)
		if cerr != nil {
			return nil, cerr
		}
		tmpl, category = def, strings.ToLower(def.Category)
	}
	c, err := e.store.Contact(ctx, e.cfg.Number, to)
	if err != nil {
		return nil, cloudapi.Internal()
	}
	at := e.clock.Now()
	initiated := c.LastInbound.IsZero() || at.Sub(c.LastInbound) > e.cfg.Window
	entry, opens := e.entryPoint(c, at)
	if initiated && tmpl == nil {
		return nil, cloudapi.NewError(cloudapi.CodeReengagement, "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
	}
	if initiated {
		if cerr := e.checkReach(ctx, to); cerr != nil {
			return nil, cerr
		}
	}
	// A message its free allowance may still cover is checked too.
	if e.cfg.Credit != nil && e.rules.Decide(at, category, !initiated, entry, false).Billable {
		if err := e.cfg.Credit(ctx); err != nil {
			return nil, creditError(err, e.log)
		}
	}
	if cerr := e.admit(ctx, to); cerr != nil {
		return nil, cerr
	}
	content, cerr := cloudapi.ToContent(ctx, req, &resolver{e: e, to: to}, tmpl)
	if cerr != nil {
		return nil, cerr
	}
	if cerr := e.linkOrder(ctx, to, &content); cerr != nil {
		return nil, cerr
	}
	e.notice(ctx, to, c.NoticeSent)
	rec := MessageRecord{Number: e.cfg.Number, Peer: to, Outgoing: true, Category: category, Callback: req.BizOpaqueCallbackData,
		Initiated: initiated, EntryPoint: entry}
	typ, text := Summary(content)
	in := InboxMessage{Number: e.cfg.Number, Peer: to, Outgoing: true, Type: typ, Text: text, JSON: body, Status: InboxSent}
	url := e.webhookURL(ctx)
	ref := client.NewRef()
	var rd *ride
	if !opens { // an answer that opens an entry-point window learns its record after the send
		rd = e.newRide(rec, in, url)
	}
	late := false // the rider outlives this call (ridesLate)
	if rd != nil {
		e.cfg.Riders.Add(ref, rd)
		defer func() {
			if !late {
				e.cfg.Riders.Remove(ref)
				return
			}
			time.AfterFunc(lateRide, func() { e.cfg.Riders.Remove(ref) })
		}()
	}
	// This call writes the send's record; the note in the outbox has
	// what it needs when the send is committed after the call gave up
	// (unheard.go).
	e.await(ref)
	defer e.unawait(context.WithoutCancel(ctx), ref)
	id, err := e.sendRef(ctx, ref, to, content, e.noteOf(rec, opens, in))
	if got, ok := committedUnheard(err, rd); ok {
		// The platform committed it, with its record and "sent"
		// webhook, but its answer did not reach the device in time:
		// it went out, once, as got.ID.
		e.log.Warn("a withdrawn send had been committed", "ref", ref, "msg_id", got.ID, "err", err)
		id, err = got.ID, nil
	}
	late = ridesLate(err)
	if err != nil {
		return nil, sendError(err, req.BizOpaqueCallbackData != "")
	}
	// The message is committed: its record and status must not be lost
	// when the caller hangs up now.
	ctx = context.WithoutCancel(ctx)
	w := &writes{}
	if got, ok := rd.committed(id); ok {
		rec = got // written with the send
	} else {
		if opens {
			rec.EntryPoint = e.openEntryPoint(ctx, c, at)
		}
		rec.ID, rec.Created = id, e.clock.Now()
		e.sent(ctx, w, rec, in, url)
	}
	for _, r := range e.remember(rec) { // delivered (or read) before this call returned
		e.receipt(ctx, r, w)
	}
	if err := e.commits.commit(w); err != nil {
		// Sent, but not recorded: the caller must know, and must not
		// send it again.
		return nil, cloudapi.Errorf(cloudapi.CodeServiceUnavailable,
			"The message went out as %s, but its record and status webhooks could not be stored; do not send it again.", cloudapi.MessageID(id))
	}
	return cloudapi.NewSendResponse(req, cloudapi.MessageID(id)), nil
}

// sendRef sends content to to under ref and waits, until the send
// deadline at most, for the platform to commit it. A send not committed
// by then, whose caller hung up, or that the endpoint's Close ends, is
// withdrawn from the device's outbox (client.Withdraw): a caller answered
// 131016 may send it again, and the first must then never go out. The
// error then says whether it may have gone out before
// (client.ErrFateUnknown) or did not (client.ErrWithdrawn), or wraps
// errFateOpen when the withdrawal could not be recorded.
func (e *Endpoint) sendRef(ctx context.Context, ref string, to kontor.Phone, content wire.Content, note []byte) (kontor.ID, error) {
	e.sendMu.Lock()
	if e.closed {
		e.sendMu.Unlock()
		return 0, errStopped // nothing queued
	}
	e.sends.Add(1)
	e.sendMu.Unlock()
	defer e.sends.Done()
	deadline := e.cfg.SendDeadline
	grace := withdrawWait(deadline)
	sctx, cancel := context.WithTimeout(ctx, deadline-grace)
	unhook := context.AfterFunc(e.closingCtx, cancel)
	id, err := e.dev.SendNoted(sctx, ref, to, content, note)
	ended := sctx.Err() != nil // before cancel, which ends it too
	unhook()
	cancel()
	if err == nil || (!ended && !errors.Is(err, client.ErrClosed)) {
		return id, err // committed, or refused for good
	}
	// The deadline passed, the caller left or the endpoint closes: the
	// rest of the deadline goes to learning what became of a send in
	// flight (the device's connection is still up while Close waits).
	stopping := e.closingCtx.Err() != nil
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	id, werr := e.dev.Withdraw(wctx, ref)
	if werr == nil {
		return id, nil // committed at the last moment
	}
	why := "the platform did not take it in time"
	if stopping {
		why = "the endpoint is stopping"
	}
	if !errors.Is(werr, client.ErrWithdrawn) && !errors.Is(werr, client.ErrFateUnknown) {
		// Still pending in the profile (its writes are refused: the
		// lease was lost, say): the device that opens it next may send
		// it.
		e.log.Error("could not withdraw a send: it may still go out", "ref", ref, "why", why, "err", werr)
		return 0, fmt.Errorf("%w: %w", errFateOpen, werr)
	}
	e.log.Warn("withdrew a send", "ref", ref, "why", why, "deadline", deadline, "err", werr)
	if stopping {
		return 0, fmt.Errorf("%w: %w", errStopped, werr)
	}
	return 0, werr
}

// committedUnheard returns the record of a send whose fate sendRef could
// not learn (err: client.ErrFateUnknown, or errFateOpen) when its writes
// rode the router's transaction of it and that committed: the send was
// committed then. Otherwise its id is not known here (docs/business-api.md).
func committedUnheard(err error, rd *ride) (MessageRecord, bool) {
	if !errors.Is(err, client.ErrFateUnknown) && !errors.Is(err, errFateOpen) {
		return MessageRecord{}, false
	}
	return rd.committedAny()
}

// lateRide is how long the rider of a send that may still be committed
// (ridesLate) stays with the device's link after its call answered: a
// copy waiting in the gateway for a send slot finds it then, and is
// committed with its record and "sent" webhook like any other.
const lateRide = time.Minute

// ridesLate says whether a send that failed with err may still be
// committed by the platform from a copy already on its way (its fate is
// not known): its rider must then outlive the call.
func ridesLate(err error) bool {
	return errors.Is(err, client.ErrFateUnknown) || errors.Is(err, errFateOpen)
}

// What sendRef says of a send besides the client's errors.
var (
	// errStopped: the endpoint is closing (node shutdown, lease lost).
	errStopped = errors.New("endpoint: stopping")
	// errFateOpen: the send could not be withdrawn, and stays in the
	// device's outbox: it may have gone out, and may still go out.
	errFateOpen = errors.New("endpoint: the send could not be withdrawn")
)

// fateHint ends the details of a send that may have gone out: its id is
// not known (the platform gives it at the commit, whose answer did not
// come), so its status webhooks are matched by the caller's own data,
// when the request gave some. open: the send is left in the outbox of a
// profile this node can no longer write; the node that takes the endpoint
// over may send it, and then records it from the note it left in the
// outbox (unheard.go), so that copy has its status webhooks too.
func fateHint(open, callback bool) string {
	switch {
	case !callback:
		return "Its message id is not known, and this request set no biz_opaque_callback_data to match its status webhooks by."
	case open:
		return "Its message id is not known; any status webhook of it, whether it went out before or goes out after the takeover, carries the biz_opaque_callback_data of this request."
	}
	return "Its message id is not known; any status webhook of it carries the biz_opaque_callback_data of this request."
}

// sendError maps a failed send to the public codes; callback says whether
// the request set biz_opaque_callback_data.
func sendError(err error, callback bool) *cloudapi.Error {
	var se *client.SendError
	switch {
	case errors.As(err, &se) && se.Code == wire.ErrUnknownRecipient:
		return cloudapi.NewError(cloudapi.CodeUndeliverable, "The recipient is not on kontor.")
	case kontor.KindOf(err) == kontor.NotFound:
		return cloudapi.NewError(cloudapi.CodeUndeliverable, "The recipient is not on kontor.")
	case errors.Is(err, errFateOpen):
		// Left in the outbox of a profile this node can no longer write
		// (the node that takes the endpoint over may send it).
		return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The endpoint stopped before the platform confirmed the message; it may have gone out or may still go out. Do not send it again before checking. "+fateHint(true, callback))
	case errors.Is(err, errStopped) && errors.Is(err, client.ErrFateUnknown):
		return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The endpoint stopped before the platform confirmed the message; it may have gone out, and will not go out later. Do not send it again before checking. "+fateHint(false, callback))
	case errors.Is(err, errStopped):
		// Withdrawn, or never queued: it never goes out.
		return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The endpoint stopped before the platform took the message, so it was not sent; try again.")
	case errors.Is(err, client.ErrWithdrawn):
		// Not taken within the send deadline, and taken out of the
		// device's outbox: it never goes out.
		return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The platform could not take the message in time, so it was not sent; try again.")
	case errors.Is(err, client.ErrFateUnknown), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Withdrawn, but a copy reached the platform without an answer:
		// it may have been committed (once: the platform deduplicates
		// by ref).
		return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The platform did not confirm the message in time; it may have gone out, and will not go out later. Do not send it again before checking. "+fateHint(false, callback))
	case errors.As(err, &se) && se.Code == wire.ErrUnavailable:
		// The router could not commit it (after its retries and the
		// client's): nothing went out.
		return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The platform could not store the message, so it was not sent; try again.")
	case errors.As(err, &se) && se.Code == wire.ErrRateLimited:
		return cloudapi.NewError(cloudapi.CodeThroughput, "The number sends faster than the platform takes messages; slow down and try again.")
	case errors.As(err, &se) && se.Code == wire.ErrInternal:
		// The gateway's words hide the server's cause; the client's own
		// (a key bundle it could not use, say) name no secret.
		return cloudapi.Errorf(cloudapi.CodeUnknown, "The message could not be sent: %s.", strings.TrimSuffix(se.Message, "."))
	case errors.As(err, &se):
		return cloudapi.Errorf(cloudapi.CodeInvalidValue, "The message was refused: %s.", se.Message)
	}
	return cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The platform could not take the message; try again.")
}

// markRead marks a person's message (and those before it) read.
func (e *Endpoint) markRead(ctx context.Context, req cloudapi.SendRequest) (any, *cloudapi.Error) {
	id, ok := cloudapi.ParseMessageID(req.MessageID)
	if !ok {
		return nil, cloudapi.Invalid("message_id", "not a message id of this number")
	}
	rec, err := e.store.Message(ctx, e.cfg.Number, id)
	if err != nil || rec.Outgoing {
		return nil, cloudapi.Invalid("message_id", "no message from a person with this id")
	}
	if err := e.dev.Read(ctx, rec.Peer, id); err != nil {
		return nil, cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The read receipt could not be sent; try again.")
	}
	if req.TypingIndicator != nil {
		_ = e.dev.Typing(ctx, rec.Peer, true)
	}
	// The console's inbox counts them read too. Marking read again is
	// harmless, so a failure here asks for that.
	if err := e.commits.commit(&writes{inbox: InboxWrites{Reads: []InboxMarkRead{{Number: e.cfg.Number, Peer: rec.Peer, Upto: rec.Created}}}}); err != nil {
		return nil, cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The read receipt went out, but the inbox could not be updated; mark the message read again.")
	}
	return cloudapi.SuccessResponse{Success: true}, nil
}

// urlSig signs a media download URL until exp (Unix seconds).
func (e *Endpoint) urlSig(id kontor.ID, exp int64) string {
	m := hmac.New(sha256.New, e.cfg.URLKey)
	m.Write([]byte(id.String() + "." + strconv.FormatInt(exp, 10)))
	return strconv.FormatInt(exp, 10) + "." + hex.EncodeToString(m.Sum(nil))
}

// checkSig checks a media download URL's signature and expiry.
func (e *Endpoint) checkSig(id kontor.ID, sig string) bool {
	expStr, _, ok := strings.Cut(sig, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil || e.clock.Now().Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(e.urlSig(id, exp)))
}
