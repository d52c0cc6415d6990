package bizapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/endpoint"
)

// Metering of self-hosted endpoints (kontor extensions of the API). The
// platform carries only ciphertext of a self-hosted number's chats, so
// the endpoint reports each delivered message's pricing inputs, and the
// platform decides, counts and charges it as it does for a hosted
// endpoint:
//
//	POST /{phone-number-id}/deliveries  a delivered message → its pricing, charged once
//	GET  /{phone-number-id}/credit      may a paid message go out now (131042 if not)
//
// Both take a token of the number's business with the messaging scope,
// and only for a self-hosted number.

// Metering decides and charges the deliveries self-hosted endpoints
// report (the platform's ledger, rules and credit).
type Metering interface {
	// Deliver checks d against what the platform knows of number n and
	// charges it as its rules decide, once per message id.
	Deliver(ctx context.Context, n business.Number, d endpoint.Delivery) (Charge, error)
	// Allow says whether the business may send a paid message now: an
	// error wrapping billing.ErrNoCredit when its credit is spent.
	Allow(ctx context.Context, business kontor.ID) error
}

// Charge is the answer to a delivery: the pricing decided, and the
// ledger entry when the message is billable (Added: written by this
// report, not an earlier one).
type Charge struct {
	Pricing billing.Decision
	Added   bool
	Entry   billing.Entry
}

// deliveryJSON is the body of POST /{phone-number-id}/deliveries.
type deliveryJSON struct {
	MessageID  string `json:"message_id"`
	To         string `json:"to"`
	Category   string `json:"category"`
	Sent       int64  `json:"sent"` // Unix ms
	InWindow   bool   `json:"in_window"`
	EntryPoint bool   `json:"entry_point"`
	Delivered  int64  `json:"delivered"` // Unix ms
}

// chargeJSON is its answer.
type chargeJSON struct {
	MessageID string           `json:"message_id"`
	Pricing   cloudapi.Pricing `json:"pricing"`
	Charged   bool             `json:"charged"` // this report added the charge
	Charge    *chargeEntryJSON `json:"charge,omitempty"`
}

type chargeEntryJSON struct {
	Market   string `json:"market"`
	Category string `json:"category"`
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// meteredNumber finds a self-hosted number the caller may report for.
func (a *API) meteredNumber(w http.ResponseWriter, r *http.Request, id kontor.ID) (business.Number, bool) {
	if a.Metering == nil {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported %s request to /%s: deliveries are reported to the platform, not to an endpoint.", r.Method, id))
		return business.Number{}, false
	}
	n, ok := a.number(w, r, id, business.ScopeMessaging)
	if !ok {
		return n, false
	}
	if b, err := a.Dir.Business(r.Context(), n.Business); err != nil {
		a.failErr(w, err)
		return n, false
	} else if !b.SelfHosted {
		a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Phone number %s has a hosted endpoint: the platform meters its messages itself, nothing is to be reported.", n.ID))
		return n, false
	}
	return n, true
}

// deliveries serves POST /{phone-number-id}/deliveries.
func (a *API) deliveries(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	n, ok := a.meteredNumber(w, r, id)
	if !ok {
		return
	}
	body, cerr := a.readBody(r)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	d, cerr := parseDelivery(body)
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	c, err := a.Metering.Deliver(r.Context(), n, d)
	if err != nil {
		a.failErr(w, err)
		return
	}
	out := chargeJSON{MessageID: cloudapi.MessageID(d.ID), Charged: c.Added,
		Pricing: cloudapi.Pricing{Billable: c.Pricing.Billable, PricingModel: "PMP", Category: c.Pricing.Category, Type: c.Pricing.Type}}
	if c.Pricing.Billable {
		out.Charge = &chargeEntryJSON{Market: c.Entry.Market, Category: c.Entry.Category, Amount: c.Entry.AmountText, Currency: c.Entry.Currency}
	}
	a.ok(w, out)
}

// parseDelivery reads and checks a delivery's body on its own; what needs
// the platform's records is checked by Metering.Deliver.
func parseDelivery(body []byte) (endpoint.Delivery, *cloudapi.Error) {
	var in deliveryJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return endpoint.Delivery{}, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Invalid parameter: %v", err)
	}
	var d endpoint.Delivery
	switch {
	case in.MessageID == "":
		return d, cloudapi.Missing("message_id")
	case in.To == "":
		return d, cloudapi.Missing("to")
	case in.Category == "":
		return d, cloudapi.Missing("category")
	case in.Sent == 0:
		return d, cloudapi.Missing("sent")
	case in.Delivered == 0:
		return d, cloudapi.Missing("delivered")
	}
	mid, ok := cloudapi.ParseMessageID(in.MessageID)
	if !ok {
		return d, cloudapi.Invalid("message_id", fmt.Sprintf("%q is not a message id (wamid.…)", in.MessageID))
	}
	to, err := kontor.ParsePhone("+" + strings.TrimPrefix(in.To, "+"))
	if err != nil {
		return d, cloudapi.Invalid("to", fmt.Sprintf("%q is not a phone number with its country code", in.To))
	}
	if !slices.Contains(billing.Categories, in.Category) {
		return d, cloudapi.Invalid("category", fmt.Sprintf("%q is not one of %s", in.Category, strings.Join(billing.Categories, ", ")))
	}
	if in.Delivered < in.Sent {
		return d, cloudapi.Invalid("delivered", "the message cannot be delivered before it was sent")
	}
	return endpoint.Delivery{ID: mid, Peer: to, Category: in.Category, Sent: time.UnixMilli(in.Sent), InWindow: in.InWindow,
		EntryPoint: in.EntryPoint, Delivered: time.UnixMilli(in.Delivered)}, nil
}

// credit serves GET /{phone-number-id}/credit: {"paid_messages":true},
// or the public payment-issue error 131042 when the business's credit is
// spent.
func (a *API) credit(w http.ResponseWriter, r *http.Request, id kontor.ID) {
	n, ok := a.meteredNumber(w, r, id)
	if !ok {
		return
	}
	if err := a.Metering.Allow(r.Context(), n.Business); err != nil {
		if errors.Is(err, billing.ErrNoCredit) {
			a.fail(w, cloudapi.NewError(cloudapi.CodeEligibilityPayment, kontor.MessageOf(err)))
			return
		}
		a.failErr(w, err)
		return
	}
	a.ok(w, map[string]any{"paid_messages": true})
}

// PlatformMeter reports a self-hosted endpoint's deliveries to the
// platform and asks it for credit (endpoint.Reporter and
// endpoint.Config.Credit), with the business's access token.
type PlatformMeter struct {
	Base   string    // the platform's base URL
	Token  string    // an access token with the messaging scope
	Number kontor.ID // the phone-number id
	// Client makes the calls (a client with a 10-second timeout if nil).
	Client *http.Client
	// Retries are the waits before asking again when the platform cannot
	// be reached or answers 5xx (nil: 250 ms, 1 s, 4 s). After the last,
	// Report fails and the endpoint holds the receipt. Credit is asked
	// once: a send waits for it.
	Retries []time.Duration
	// CreditFor keeps the platform's answer that credit is left this long
	// (0: 1 second, as the platform's nodes keep it).
	CreditFor time.Duration

	mu          sync.Mutex
	creditUntil time.Time
}

var defaultRetries = []time.Duration{250 * time.Millisecond, time.Second, 4 * time.Second}

// Report has the platform decide and charge a delivered message.
func (p *PlatformMeter) Report(ctx context.Context, d endpoint.Delivery) (billing.Decision, error) {
	in := deliveryJSON{MessageID: cloudapi.MessageID(d.ID), To: strings.TrimPrefix(string(d.Peer), "+"), Category: d.Category,
		Sent: d.Sent.UnixMilli(), InWindow: d.InWindow, EntryPoint: d.EntryPoint, Delivered: d.Delivered.UnixMilli()}
	b, err := json.Marshal(in)
	if err != nil {
		return billing.Decision{}, &kontor.Error{Kind: kontor.Internal, Op: "bizapi.PlatformMeter", Err: err}
	}
	var out chargeJSON
	if err := p.call(ctx, http.MethodPost, "deliveries", b, &out, p.Retries); err != nil {
		return billing.Decision{}, err
	}
	return billing.Decision{Billable: out.Pricing.Billable, Category: out.Pricing.Category, Type: out.Pricing.Type}, nil
}

// Credit says whether a paid message may go out now: an error wrapping
// billing.ErrNoCredit when the platform answers 131042.
func (p *PlatformMeter) Credit(ctx context.Context) error {
	p.mu.Lock()
	fresh := time.Now().Before(p.creditUntil)
	p.mu.Unlock()
	if fresh {
		return nil
	}
	// Not retried: a send waits for this answer, and its caller can retry.
	if err := p.call(ctx, http.MethodGet, "credit", nil, nil, []time.Duration{}); err != nil {
		return err
	}
	keep := p.CreditFor
	if keep <= 0 {
		keep = time.Second
	}
	p.mu.Lock()
	p.creditUntil = time.Now().Add(keep)
	p.mu.Unlock()
	return nil
}

// call asks the platform, again after each of retries (nil: the
// defaults) while it cannot be reached. The platform's refusals: billing.ErrNoCredit for 131042,
// kontor.Invalid for a report it will never take, kontor.Unavailable for
// a token it refuses (the operator must act; the endpoint asks again).
func (p *PlatformMeter) call(ctx context.Context, method, edge string, body []byte, out any, retries []time.Duration) error {
	const op = "bizapi.PlatformMeter"
	if retries == nil {
		retries = defaultRetries
	}
	client := p.Client
	if client == nil {
		client = defaultClient
	}
	u := strings.TrimRight(p.Base, "/") + "/v23.0/" + p.Number.String() + "/" + edge
	for try := 0; ; try++ {
		code, resp, err := p.once(ctx, client, method, u, body)
		if err == nil && code < 500 {
			return p.answer(code, resp, out)
		}
		if err == nil {
			err = fmt.Errorf("HTTP %d: %s", code, resp)
		}
		if try >= len(retries) {
			return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform could not be reached for metering", Err: err}
		}
		select {
		case <-ctx.Done():
			return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform could not be reached for metering", Err: ctx.Err()}
		case <-time.After(retries[try]):
		}
	}
}

func (p *PlatformMeter) once(ctx context.Context, client *http.Client, method, u string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

func (p *PlatformMeter) answer(code int, body []byte, out any) error {
	const op = "bizapi.PlatformMeter"
	if code == http.StatusOK {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "the platform's answer could not be read", Err: err}
		}
		return nil
	}
	var e struct {
		Error struct {
			Code      int `json:"code"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == 0 {
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: fmt.Sprintf("the platform answered metering with HTTP %d", code)}
	}
	switch {
	case e.Error.Code == cloudapi.CodeEligibilityPayment:
		return &kontor.Error{Kind: kontor.Forbidden, Op: op, Msg: e.Error.ErrorData.Details, Err: billing.ErrNoCredit}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: fmt.Sprintf("the platform refused the endpoint's access token (%d: %s)", e.Error.Code, e.Error.ErrorData.Details)}
	}
	return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: e.Error.ErrorData.Details, Err: cloudapi.NewError(e.Error.Code, e.Error.ErrorData.Details)}
}
