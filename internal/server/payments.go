package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/payments"
	"github.com/kontor-chat/kontor/internal/webhook"
	"github.com/kontor-chat/kontor/wire"
)

// openPayments builds the payment providers and the Service. The sandbox
// is always there (payments made with it stay readable); Stripe when a
// key is configured. observers hear of every payment state after the
// business's webhook (billing's commerce fee hangs here).
func (s *Server) openPayments(ids *kontor.IDs, clock kontor.Clock, observers ...payments.Observer) error {
	secret, err := s.sandboxSecret()
	if err != nil {
		return err
	}
	s.sandbox = payments.NewSandbox(payments.SandboxConfig{Delay: s.cfg.SandboxDelay, Secret: secret, Clock: clock, Log: s.log,
		WebhookURL: func() string {
			if s.ln == nil {
				return ""
			}
			return "http://" + s.loopbackAddr() + "/v1/payments/webhook/" + payments.SandboxName
		}})
	providers := []payments.Provider{s.sandbox}
	def := s.cfg.Payments
	if s.cfg.StripeKey != "" {
		providers = append(providers, payments.NewStripe(payments.StripeConfig{Key: s.cfg.StripeKey, URL: s.cfg.StripeURL, WebhookSecret: s.cfg.StripeWebhookSecret}))
		if def == "" {
			def = payments.StripeName
		}
	}
	if def == "" {
		def = payments.SandboxName
	}
	s.pay, err = payments.New(payments.Config{Providers: providers, Default: def}, s.db, s.db, ids, clock, s.log,
		append([]payments.Observer{s.paymentStatus}, observers...)...)
	if err != nil {
		return err
	}
	s.log.Info("payments", "provider", def)
	return nil
}

// sandboxSecret is KONTOR_SANDBOX_SECRET, or one kept in the data
// directory (made on first start).
func (s *Server) sandboxSecret() (string, error) {
	if s.cfg.SandboxSecret != "" {
		return s.cfg.SandboxSecret, nil
	}
	path := filepath.Join(s.cfg.DataDir, "sandbox.secret")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return strings.TrimSpace(string(b)), nil
	case errors.Is(err, os.ErrNotExist):
		var k [32]byte
		_, _ = rand.Read(k[:])
		sec := hex.EncodeToString(k[:])
		if err := os.WriteFile(path, []byte(sec+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("writing the sandbox secret: %w", err)
		}
		return sec, nil
	default:
		return "", fmt.Errorf("reading the sandbox secret: %w", err)
	}
}

// paymentStatus sends the business the payment status webhook of a
// payment's new state, through the durable outbox (the id is stable per
// payment and state, so telling it twice sends it once).
func (s *Server) paymentStatus(ctx context.Context, p payments.Payment) error {
	var status, txStatus string
	var perr *cloudapi.PaymentError
	switch p.State {
	case payments.Pending:
		status, txStatus = cloudapi.PaymentStatusPending, "pending"
	case payments.Succeeded:
		status, txStatus = cloudapi.PaymentStatusCaptured, "success"
	case payments.Declined, payments.Canceled:
		status, txStatus = cloudapi.PaymentStatusFailed, "failed"
		perr = &cloudapi.PaymentError{Code: string(p.State), Reason: p.Reason}
	case payments.Refunded:
		status, txStatus = cloudapi.PaymentStatusRefunded, "refunded"
		if p.Reason != "" {
			perr = &cloudapi.PaymentError{Code: "refunded", Reason: p.Reason}
		}
	default:
		return nil // created, refunding: nothing to tell yet
	}
	b, err := s.db.Business(ctx, p.Business)
	if kontor.KindOf(err) == kontor.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if b.WebhookURL == "" {
		return nil
	}
	apps, err := s.db.Apps(ctx, b.ID)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		s.log.Error("a payment status webhook has no app to sign it", "business", b.ID)
		return nil
	}
	var meta cloudapi.Metadata
	if ns, err := s.db.Numbers(ctx, b.ID); err == nil && len(ns) > 0 {
		meta = cloudapi.Metadata{DisplayPhoneNumber: ns[0].Phone.Digits(), PhoneNumberID: ns[0].ID.String()}
	}
	offset := int64(1)
	if exp, ok := commerce.Exponent(p.Currency); ok {
		for range exp {
			offset *= 10
		}
	}
	st := cloudapi.Status{ID: p.ID.String(), Status: status, Timestamp: cloudapi.Timestamp(p.Updated), RecipientID: p.Customer.Digits(), Type: "payment",
		Payment: &cloudapi.PaymentStatus{ReferenceID: p.Order.String(), Amount: cloudapi.PaymentAmount{Value: p.Amount, Offset: offset}, Currency: p.Currency,
			Transaction: cloudapi.PaymentTransaction{ID: p.ID.String(), PGTransactionID: p.ProviderID, Type: p.Provider, Status: txStatus,
				CreatedTimestamp: p.Created.Unix(), UpdatedTimestamp: p.Updated.Unix(), Method: &cloudapi.PaymentMethod{Type: "card"}, Error: perr, RefundID: p.Refund}}}
	body, err := cloudapi.EncodeWebhook(cloudapi.MessagesNotification(b.ID.String(), cloudapi.MessagesValue{Metadata: meta, Statuses: []cloudapi.Status{st}}))
	if err != nil {
		return err
	}
	return s.hooks.Enqueue(ctx, []webhook.Event{{ID: "payment." + p.ID.String() + "." + string(p.State), App: apps[0].ID, URL: b.WebhookURL, Body: body, Created: p.Updated}})
}

// payDesk lets people pay their orders and providers report
// (gateway.Payer).
type payDesk struct{ s *Server }

// Pay pays the order of customer.
func (d payDesk) Pay(ctx context.Context, customer kontor.Phone, order kontor.ID, card, key string) (wire.PaymentOutcome, error) {
	p, err := d.s.pay.Pay(ctx, payments.PayRequest{Order: order, Customer: customer, Card: card, Key: key})
	if err != nil {
		return wire.PaymentOutcome{}, err
	}
	return d.outcome(ctx, p), nil
}

// Payment is the state of the payment of customer's order.
func (d payDesk) Payment(ctx context.Context, customer kontor.Phone, order kontor.ID) (wire.PaymentOutcome, error) {
	p, err := d.s.pay.OrderPayment(ctx, customer, order)
	if err != nil {
		return wire.PaymentOutcome{}, err
	}
	return d.outcome(ctx, p), nil
}

// outcome is a payment as the person's device sees it.
func (d payDesk) outcome(ctx context.Context, p payments.Payment) wire.PaymentOutcome {
	out := wire.PaymentOutcome{PaymentID: p.ID.String(), OrderID: p.Order.String(), Status: string(p.State), Reason: p.Reason, Amount: p.Amount,
		Currency: p.Currency, Card: p.Card, Provider: p.Provider}
	if p.State == payments.Created {
		out.Status = wire.PaymentPending // the provider has not answered yet
	}
	if o, err := d.s.db.Order(ctx, p.Order); err == nil {
		out.OrderStatus = o.State
	}
	return out
}

// Webhook applies a provider's event.
func (d payDesk) Webhook(ctx context.Context, provider string, h http.Header, body []byte) error {
	_, err := d.s.pay.Webhook(ctx, provider, h, body)
	return err
}

// sweepPayments completes payments requests left behind.
func (s *Server) sweepPayments(ctx context.Context) {
	if _, err := s.pay.Sweep(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("sweeping payments failed", "err", err)
	}
}

// commerceFee charges the business's commerce fee for a succeeded payment
// into the billing ledger, keyed by the payment's id so a repeated
// announcement charges once. A fee that cannot be charged as configured (a
// fixed part in another currency) is logged and not retried: the payment
// itself stands.
func (s *Server) commerceFee(ctx context.Context, p payments.Payment) error {
	if s.ledger == nil {
		return errors.New("the billing ledger is not open yet")
	}
	_, _, err := s.ledger.ChargeCommerceFee(ctx, p.Business, p.ID.String(), p.Amount, p.Currency, p.Updated)
	if kontor.KindOf(err) == kontor.Invalid {
		s.log.Error("the commerce fee of a payment cannot be charged", "payment", p.ID, "business", p.Business, "err", err)
		return nil
	}
	return err
}
