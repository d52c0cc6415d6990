package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/payments"
)

// OrderDesk reads and moves a business's orders as the Business API does:
// a refund of a paid order goes through its payment provider.
type OrderDesk interface {
	Order(ctx context.Context, id kontor.ID) (commerce.Order, error)
	Move(ctx context.Context, business, id kontor.ID, to string) (commerce.Order, error)
}

// OrderData lists orders and the payments of one.
type OrderData interface {
	commerce.OrderLister
	OrderPayments(ctx context.Context, order kontor.ID) ([]payments.Payment, error)
}

// Messenger sends a Business API messages call (its JSON body) from a
// phone number of a business, through the number's endpoint: the same
// path as POST /{phone-number-id}/messages, so a payment request or order
// news changes the order as it does there and reaches the person's chat.
type Messenger interface {
	SendMessage(ctx context.Context, number kontor.ID, body []byte) (any, *cloudapi.Error)
}

// Orders is what the orders pages need (MountOrders).
type Orders struct {
	Desk     OrderDesk
	Data     OrderData
	Messages Messenger
}

// orderPages serves /console/orders.
type orderPages struct {
	c *Console
	Orders
}

// ordersPerPage is how many orders one page of the list shows.
const ordersPerPage = 50

// MountOrders adds the orders pages to mux.
func (c *Console) MountOrders(mux *http.ServeMux, o Orders) {
	p := &orderPages{c: c, Orders: o}
	mux.HandleFunc("GET /console/orders", c.user(p.list))
	mux.HandleFunc("GET /console/orders/{id}", c.user(p.detail))
	mux.Handle("POST /console/orders/{id}/move", c.post(p.move))
	mux.Handle("POST /console/orders/{id}/payment-request", c.post(p.requestPayment))
	mux.Handle("POST /console/orders/{id}/status", c.post(p.sendStatus))
	mux.Handle("POST /console/orders/{id}/refund", c.post(p.refund))
}

// orderRow is one order as the pages show it.
type orderRow struct {
	commerce.Order
	Items                               int // units
	SubtotalText, TaxText, ShippingText string
	DiscountText, TotalText, StateText  string
	ItemLines                           []itemLine
	HasCharges                          bool
	FirstItem                           string
	// When it was placed, for people and for <time datetime>: made here
	// once, not by template functions per row.
	CreatedText, CreatedISO string
}

type itemLine struct {
	commerce.OrderItem
	PriceText, SumText string
}

func newOrderRow(o commerce.Order) orderRow {
	r := orderRow{Order: o, SubtotalText: commerce.FormatPrice(o.Subtotal, o.Currency), TaxText: commerce.FormatPrice(o.Tax, o.Currency),
		ShippingText: commerce.FormatPrice(o.Shipping, o.Currency), DiscountText: commerce.FormatPrice(o.Discount, o.Currency),
		TotalText: commerce.FormatPrice(o.Total, o.Currency), StateText: stateText[o.State], HasCharges: o.Tax != 0 || o.Shipping != 0 || o.Discount != 0,
		CreatedText: o.Created.UTC().Format("2 Jan 2006 15:04 UTC"), CreatedISO: o.Created.UTC().Format(time.RFC3339)}
	for _, it := range o.Items {
		r.Items += it.Quantity
		r.ItemLines = append(r.ItemLines, itemLine{OrderItem: it, PriceText: commerce.FormatPrice(it.Price, o.Currency),
			SumText: commerce.FormatPrice(it.Price*int64(it.Quantity), o.Currency)})
	}
	if len(o.Items) > 0 {
		r.FirstItem = o.Items[0].Name
		if len(o.Items) > 1 {
			r.FirstItem += fmt.Sprintf(" and %d more", len(o.Items)-1)
		}
	}
	return r
}

// stateText says what each state means, for people.
var stateText = map[string]string{
	commerce.OrderPending:   "Placed; its stock is held until it is paid or the hold runs out.",
	commerce.OrderConfirmed: "You took the order; it is not paid yet.",
	commerce.OrderPaid:      "Paid.",
	commerce.OrderShipped:   "Shipped.",
	commerce.OrderCompleted: "Completed.",
	commerce.OrderCanceled:  "Canceled; no longer open.",
	commerce.OrderExpired:   "Not paid in time; its stock went back.",
	commerce.OrderRefunded:  "The payment went back to the customer.",
}

// ordersData fills the list.
type ordersData struct {
	States []string
	State  string
	Orders []orderRow
	Next   string // the link to the next page, "" on the last
	First  bool   // this is the first page
}

// cursor reads ?after=MS-ID.
func parseCursor(s string) (commerce.OrderCursor, bool) {
	if s == "" {
		return commerce.OrderCursor{}, true
	}
	a, b, ok := strings.Cut(s, "-")
	msv, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := kontor.ParseID(b)
	if !ok || err1 != nil || err2 != nil || msv <= 0 {
		return commerce.OrderCursor{}, false
	}
	return commerce.OrderCursor{Created: time.UnixMilli(msv), ID: id}, true
}

func (p *orderPages) list(rq *req) {
	if !rq.allow(p.c, consoleauth.HandleOrders) {
		return
	}
	q := rq.r.URL.Query()
	d := ordersData{States: commerce.OrderStates, State: q.Get("state")}
	after, ok := parseCursor(q.Get("after"))
	if !ok {
		p.c.errorPage(rq.w, rq.r, http.StatusBadRequest, "This link to a page of orders is damaged. Go back to the first page of orders.")
		return
	}
	d.First = after.ID == 0
	os, more, err := commerce.ListOrders(rq.r.Context(), p.Data, commerce.OrderQuery{Business: rq.biz.ID, State: d.State, After: after, Limit: ordersPerPage})
	if err != nil {
		status, msg := p.c.message(err)
		if kontor.KindOf(err) == kontor.Invalid {
			msg = "Choose a state from the list to filter the orders."
		}
		pg := rq.page("Orders", "orders")
		pg.Error = msg
		d.State = ""
		pg.Data = d
		p.c.render(rq.w, rq.r, status, "orders", pg)
		return
	}
	for _, o := range os {
		d.Orders = append(d.Orders, newOrderRow(o))
	}
	if more && len(os) > 0 {
		last := os[len(os)-1]
		v := url.Values{"after": {fmt.Sprintf("%d-%s", last.Created.UnixMilli(), last.ID)}}
		if d.State != "" {
			v.Set("state", d.State)
		}
		d.Next = "/console/orders?" + v.Encode() // whole: html/template would escape a query's & and = after "?"
	}
	pg := rq.page("Orders", "orders")
	pg.Data = d
	p.c.render(rq.w, rq.r, http.StatusOK, "orders", pg)
}

// orderData fills the page of one order.
type orderData struct {
	Order    orderRow
	Payments []paymentRow
	History  []historyLine
	Moves    []moveChoice
	// CanRequest: pending or confirmed, so a payment request can go out.
	CanRequest bool
	CanRefund  bool
	// The payment request form as typed (decimals of the currency).
	Tax, Shipping, Discount, Text string
	// The status update form.
	Statuses           []statusChoice
	Status, StatusText string
	Exponent           int
	Example            string // an amount in the currency, for the hints
}

type paymentRow struct {
	payments.Payment
	AmountText string
}

type historyLine struct {
	At   time.Time
	Text string
}

type moveChoice struct{ To, Label string }

type statusChoice struct{ Value, Label string }

// moveLabels are the buttons of the moves the console offers by hand;
// paid comes from the payment, refunded from the refund button.
var moveLabels = []moveChoice{{commerce.OrderConfirmed, "Confirm"}, {commerce.OrderShipped, "Mark as shipped"},
	{commerce.OrderCompleted, "Mark as completed"}, {commerce.OrderCanceled, "Cancel the order"}}

var statusChoices = []statusChoice{{commerce.StatusProcessing, "Processing (confirms a placed order)"}, {commerce.StatusPartiallyShipped, "Partially shipped"},
	{commerce.StatusShipped, "Shipped"}, {commerce.StatusCompleted, "Completed"}, {commerce.StatusCanceled, "Canceled"}, {commerce.StatusPending, "Pending"}}

// theOrder finds the order in the path; an order of another business is
// not found.
func (p *orderPages) theOrder(rq *req) (commerce.Order, bool) {
	id, err := kontor.ParseID(rq.r.PathValue("id"))
	if err != nil {
		p.c.errorPage(rq.w, rq.r, http.StatusNotFound, "There is no such order.")
		return commerce.Order{}, false
	}
	o, err := p.Desk.Order(rq.r.Context(), id)
	if (err == nil && o.Business != rq.biz.ID) || kontor.KindOf(err) == kontor.NotFound {
		p.c.errorPage(rq.w, rq.r, http.StatusNotFound, "There is no such order.")
		return o, false
	}
	if err != nil {
		p.c.fail(rq.w, rq.r, err)
		return o, false
	}
	return o, true
}

func (p *orderPages) detail(rq *req) {
	if !rq.allow(p.c, consoleauth.HandleOrders) {
		return
	}
	o, ok := p.theOrder(rq)
	if !ok {
		return
	}
	d := orderData{Status: commerce.StatusProcessing}
	if o.Tax != 0 || o.Shipping != 0 || o.Discount != 0 {
		d.Tax, d.Shipping, d.Discount = commerce.FormatAmount(o.Tax, o.Currency), commerce.FormatAmount(o.Shipping, o.Currency), commerce.FormatAmount(o.Discount, o.Currency)
	}
	p.orderPage(rq, http.StatusOK, o, d, rq.page("Order "+o.ID.String(), "orders"))
}

// orderPage shows order o with d's forms as typed.
func (p *orderPages) orderPage(rq *req, status int, o commerce.Order, d orderData, pg Page) {
	pays, err := p.Data.OrderPayments(rq.r.Context(), o.ID)
	if err != nil {
		p.c.fail(rq.w, rq.r, err)
		return
	}
	evs, err := p.Data.OrderEvents(rq.r.Context(), o.ID)
	if err != nil {
		p.c.fail(rq.w, rq.r, err)
		return
	}
	d.Order = newOrderRow(o)
	d.Exponent, _ = commerce.Exponent(o.Currency)
	d.Example = commerce.FormatAmount(max(250*pow10(d.Exponent)/100, 250), o.Currency) // 2.50 EUR, 250 JPY, 2.500 BHD
	d.History = append(d.History, historyLine{o.Created, fmt.Sprintf("Placed by %s: %d items, %s.", o.Customer, d.Order.Items, d.Order.SubtotalText)})
	switch o.State {
	case commerce.OrderPending:
		d.History = append(d.History, historyLine{o.Expires, "The stock is held until this time; unpaid, the order expires then."})
	case commerce.OrderExpired:
		d.History = append(d.History, historyLine{o.Expires, "Not paid in time: the order expired and its stock went back."})
	}
	for _, ev := range evs {
		switch ev.Kind {
		case commerce.EventMove:
			d.History = append(d.History, historyLine{ev.At, fmt.Sprintf("%s → %s.", ev.From, ev.To)})
		case commerce.EventCharges:
			d.History = append(d.History, historyLine{ev.At, fmt.Sprintf("Payment request: tax %s, shipping %s, discount %s; total %s.",
				commerce.FormatPrice(ev.Tax, o.Currency), commerce.FormatPrice(ev.Shipping, o.Currency), commerce.FormatPrice(ev.Discount, o.Currency),
				commerce.FormatPrice(ev.Total, o.Currency))})
		}
	}
	for _, py := range pays {
		r := paymentRow{Payment: py, AmountText: commerce.FormatPrice(py.Amount, py.Currency)}
		d.Payments = append(d.Payments, r)
		what := "A payment of " + r.AmountText
		if py.Card != "" {
			what += " with " + py.Card
		}
		d.History = append(d.History, historyLine{py.Created, what + " started."})
		if !py.Updated.Equal(py.Created) || py.State != payments.Created {
			line := fmt.Sprintf("The payment of %s is %s.", r.AmountText, py.State)
			if py.Reason != "" {
				line = fmt.Sprintf("The payment of %s is %s (%s).", r.AmountText, py.State, py.Reason)
			}
			d.History = append(d.History, historyLine{py.Updated, line})
		}
	}
	slices.SortStableFunc(d.History, func(a, b historyLine) int { return a.At.Compare(b.At) })
	for _, m := range moveLabels {
		if commerce.CanMove(o.State, m.To) {
			d.Moves = append(d.Moves, m)
		}
	}
	d.CanRequest = o.State == commerce.OrderPending || o.State == commerce.OrderConfirmed
	d.CanRefund = commerce.CanMove(o.State, commerce.OrderRefunded) && consoleauth.Can(rq.user.Role, consoleauth.RefundOrders)
	d.Statuses = statusChoices
	if d.Text == "" {
		d.Text = "Here is your order. Please review it and pay."
	}
	pg.Data = d
	p.c.render(rq.w, rq.r, status, "order", pg)
}

func pow10(n int) int64 {
	v := int64(1)
	for range n {
		v *= 10
	}
	return v
}

// moved are the success messages of the moves.
var moved = map[string]string{
	commerce.OrderConfirmed: "The order is confirmed.",
	commerce.OrderShipped:   "The order is marked as shipped.",
	commerce.OrderCompleted: "The order is marked as completed.",
	commerce.OrderCanceled:  "The order is canceled.",
}

func init() {
	flashes["order-confirmed"] = moved[commerce.OrderConfirmed]
	flashes["order-shipped"] = moved[commerce.OrderShipped]
	flashes["order-completed"] = moved[commerce.OrderCompleted]
	flashes["order-canceled"] = moved[commerce.OrderCanceled] + " Stock it held is back."
	flashes["order-requested"] = "The payment request is sent to the customer's chat, with the new total."
	flashes["order-status"] = "The order update is sent to the customer's chat."
	flashes["order-refunded"] = "The payment went back to the customer through the payment provider; the order is refunded."
}

// refuse shows order o again with a message about what was refused.
func (p *orderPages) refuse(rq *req, o commerce.Order, d orderData, status int, msg string, fe business.FieldErrors) {
	pg := rq.page("Order "+o.ID.String(), "orders")
	pg.Error, pg.Fields = msg, fe
	p.orderPage(rq, status, o, d, pg)
}

// fresh reads o again after a refused change, so the page shows it as it is.
func (p *orderPages) fresh(rq *req, o commerce.Order) commerce.Order {
	if now, err := p.Desk.Order(rq.r.Context(), o.ID); err == nil {
		return now
	}
	return o
}

func (p *orderPages) move(rq *req) {
	if !rq.allow(p.c, consoleauth.HandleOrders) {
		return
	}
	o, ok := p.theOrder(rq)
	if !ok {
		return
	}
	to := rq.r.PostForm.Get("to")
	if _, known := moved[to]; !known {
		p.refuse(rq, o, orderData{}, http.StatusBadRequest, "Choose one of the buttons: confirm, ship, complete or cancel.", nil)
		return
	}
	if !commerce.CanMove(o.State, to) {
		p.refuse(rq, o, orderData{}, http.StatusConflict, commerce.MoveError(o.State, to), nil)
		return
	}
	if _, err := p.Desk.Move(rq.r.Context(), rq.biz.ID, o.ID, to); err != nil {
		status, msg := p.c.message(err)
		now := p.fresh(rq, o)
		if kontor.KindOf(err) == kontor.Conflict && now.State != o.State {
			msg = fmt.Sprintf("The order changed meanwhile: it is %s now. %s", now.State, commerce.MoveError(now.State, to))
		}
		p.refuse(rq, now, orderData{}, status, msg, nil)
		return
	}
	p.c.log.Info("console order moved", "business", rq.biz.ID, "user", rq.user.ID, "order", o.ID, "to", to)
	rq.redirect("/console/orders/"+o.ID.String(), "order-"+to)
}

func (p *orderPages) refund(rq *req) {
	if !rq.allow(p.c, consoleauth.RefundOrders) {
		return
	}
	o, ok := p.theOrder(rq)
	if !ok {
		return
	}
	if !commerce.CanMove(o.State, commerce.OrderRefunded) {
		msg := fmt.Sprintf("Only a paid order can be refunded; this one is %s.", o.State)
		p.refuse(rq, o, orderData{}, http.StatusConflict, msg, nil)
		return
	}
	if _, err := p.Desk.Move(rq.r.Context(), rq.biz.ID, o.ID, commerce.OrderRefunded); err != nil {
		status, msg := p.c.message(err)
		p.refuse(rq, p.fresh(rq, o), orderData{}, status, "The refund did not go through: "+msg, nil)
		return
	}
	p.c.log.Info("console order refunded", "business", rq.biz.ID, "user", rq.user.ID, "order", o.ID)
	rq.redirect("/console/orders/"+o.ID.String(), "order-refunded")
}

// maxMessageText bounds the text of a payment request or an update
// (the body of an interactive message).
const maxMessageText = 1024

// messageText checks the text of a message form.
func messageText(field, s string, fe *business.FieldErrors) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		*fe = append(*fe, business.FieldError{Field: field, Msg: "Write a short text for the customer; it shows above the order in the chat."})
	case utf8.RuneCountInString(s) > maxMessageText:
		*fe = append(*fe, business.FieldError{Field: field, Msg: fmt.Sprintf("The text can have at most %d characters; it has %d.", maxMessageText, utf8.RuneCountInString(s))})
	}
	return s
}

// amountField reads a decimal amount of the form (empty is 0).
func amountField(field, label, s, currency string, fe *business.FieldErrors) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	exp, _ := commerce.Exponent(currency)
	v, err := commerce.ParseAmount(s, exp)
	if err != nil {
		msg := fmt.Sprintf("%s: %s. Write an amount in %s such as %s.", label, err, currency, commerce.FormatAmount(1234*pow10(exp)/100, currency))
		if exp == 0 {
			msg = fmt.Sprintf("%s: %s. Write a whole amount in %s such as 1200.", label, err, currency)
		}
		*fe = append(*fe, business.FieldError{Field: field, Msg: msg})
	}
	return v
}

// number is the business's phone number that talks with customers: the
// first one.
func (p *orderPages) number(rq *req) (business.Number, error) {
	ns, err := p.c.biz.Store().Numbers(rq.r.Context(), rq.biz.ID)
	if err != nil {
		return business.Number{}, err
	}
	if len(ns) == 0 {
		return business.Number{}, kontor.Errorf(kontor.NotFound, "console.number", "The business has no phone number to send from.")
	}
	return ns[0], nil
}

// sendError says in words why a message to the customer was refused.
func sendError(ce *cloudapi.Error) (int, string) {
	status := ce.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	switch ce.Code {
	case cloudapi.CodeReengagement:
		return http.StatusConflict, "The customer has not written to you in the last 24 hours, so the chat is closed for this message. When the customer writes again (for example, sends the order in the chat), try again."
	case cloudapi.CodeAccessDenied:
		return http.StatusConflict, "This number's endpoint runs at your business (self-hosted), so the console cannot send for it: send the message from your own system."
	case cloudapi.CodeUnknown:
		return http.StatusInternalServerError, "Something went wrong on our side; nothing was sent. Please try again."
	case cloudapi.CodeServiceUnavailable:
		return http.StatusServiceUnavailable, "The service is busy; nothing was sent. Please try again in a minute."
	}
	msg := ce.Message
	if ce.Details != "" {
		msg = ce.Details
	}
	return status, "The message was not sent: " + msg
}

// send sends body from the business's number.
func (p *orderPages) send(rq *req, msg map[string]any) (int, string, bool) {
	n, err := p.number(rq)
	if err != nil {
		status, m := p.c.message(err)
		return status, m, false
	}
	body, err := json.Marshal(msg)
	if err != nil {
		status, m := p.c.message(&kontor.Error{Kind: kontor.Internal, Op: "console.send", Err: err})
		return status, m, false
	}
	if p.Messages == nil {
		return http.StatusServiceUnavailable, "Messages cannot be sent from this node.", false
	}
	if _, ce := p.Messages.SendMessage(rq.r.Context(), n.ID, body); ce != nil {
		status, m := sendError(ce)
		if ce.Code == cloudapi.CodeUnknown {
			p.c.log.Error("console message", "business", rq.biz.ID, "err", ce)
		}
		return status, m, false
	}
	return 0, "", true
}

// amount is a Cloud API amount in minor units of currency.
func amount(v int64, currency string) map[string]any {
	exp, _ := commerce.Exponent(currency)
	return map[string]any{"value": v, "offset": pow10(exp)}
}

// clip shortens s to n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// paymentRequest is the order_details message asking for order o with
// the given charges.
func paymentRequest(o commerce.Order, text string, tax, shipping, discount, total int64) map[string]any {
	items := make([]any, 0, len(o.Items))
	for _, it := range o.Items {
		name := it.Name
		if name == "" {
			name = it.RetailerID
		}
		items = append(items, map[string]any{"retailer_id": it.RetailerID, "name": clip(name, 60), "amount": amount(it.Price, o.Currency), "quantity": it.Quantity})
	}
	order := map[string]any{"status": "pending", "catalog_id": o.Catalog.String(), "items": items, "subtotal": amount(o.Subtotal, o.Currency)}
	for k, v := range map[string]int64{"tax": tax, "shipping": shipping, "discount": discount} {
		if v != 0 {
			order[k] = amount(v, o.Currency)
		}
	}
	return map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": strings.TrimPrefix(string(o.Customer), "+"), "type": "interactive",
		"interactive": map[string]any{"type": "order_details", "body": map[string]any{"text": text},
			"action": map[string]any{"name": "review_and_pay", "parameters": map[string]any{
				"reference_id": o.ID.String(), "type": "physical-goods", "currency": o.Currency, "total_amount": amount(total, o.Currency), "order": order}}}}
}

func (p *orderPages) requestPayment(rq *req) {
	if !rq.allow(p.c, consoleauth.HandleOrders) {
		return
	}
	o, ok := p.theOrder(rq)
	if !ok {
		return
	}
	f := rq.r.PostForm
	d := orderData{Tax: strings.TrimSpace(f.Get("tax")), Shipping: strings.TrimSpace(f.Get("shipping")), Discount: strings.TrimSpace(f.Get("discount")), Text: f.Get("text")}
	if o.State != commerce.OrderPending && o.State != commerce.OrderConfirmed {
		p.refuse(rq, o, d, http.StatusConflict, fmt.Sprintf("A payment request can be sent only while the order is pending or confirmed; this one is %s.", o.State), nil)
		return
	}
	var fe business.FieldErrors
	tax := amountField("tax", "Tax", d.Tax, o.Currency, &fe)
	shipping := amountField("shipping", "Shipping", d.Shipping, o.Currency, &fe)
	discount := amountField("discount", "Discount", d.Discount, o.Currency, &fe)
	d.Text = messageText("text", d.Text, &fe)
	var total int64
	if len(fe) == 0 {
		var bad *commerce.FieldError
		if total, bad = commerce.OrderTotal(o.Subtotal, tax, shipping, discount); bad != nil {
			field := strings.TrimPrefix(bad.Field, "order.")
			msg := "The amounts are too large."
			if field == "discount" {
				msg = fmt.Sprintf("The discount (%s) is more than subtotal, tax and shipping together (%s): the total would be below zero.",
					commerce.FormatPrice(discount, o.Currency), commerce.FormatPrice(o.Subtotal+tax+shipping, o.Currency))
			}
			fe = append(fe, business.FieldError{Field: field, Msg: msg})
		}
	}
	if len(fe) > 0 {
		p.refuse(rq, o, d, http.StatusBadRequest, "The payment request was not sent. Please correct the fields below.", fe)
		return
	}
	if status, msg, ok := p.send(rq, paymentRequest(o, d.Text, tax, shipping, discount, total)); !ok {
		p.refuse(rq, p.fresh(rq, o), d, status, msg, nil)
		return
	}
	p.c.log.Info("console payment request", "business", rq.biz.ID, "user", rq.user.ID, "order", o.ID, "total", total)
	rq.redirect("/console/orders/"+o.ID.String(), "order-requested")
}

func (p *orderPages) sendStatus(rq *req) {
	if !rq.allow(p.c, consoleauth.HandleOrders) {
		return
	}
	o, ok := p.theOrder(rq)
	if !ok {
		return
	}
	f := rq.r.PostForm
	d := orderData{Status: f.Get("status"), StatusText: f.Get("status_text")}
	var fe business.FieldErrors
	known := false
	for _, s := range statusChoices {
		known = known || s.Value == d.Status
	}
	if !known {
		fe = append(fe, business.FieldError{Field: "status", Msg: "Choose the order's status from the list."})
	}
	d.StatusText = messageText("status_text", d.StatusText, &fe)
	if len(fe) > 0 {
		p.refuse(rq, o, d, http.StatusBadRequest, "The update was not sent. Please correct the fields below.", fe)
		return
	}
	if to, fits := commerce.StatusTarget(o.State, d.Status); !fits || (to != o.State && !commerce.CanMove(o.State, to)) {
		p.refuse(rq, o, d, http.StatusConflict, fmt.Sprintf("The order is %s, so it cannot be reported as %s; nothing was sent.", o.State, strings.ReplaceAll(d.Status, "_", " ")), nil)
		return
	}
	msg := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": strings.TrimPrefix(string(o.Customer), "+"), "type": "interactive",
		"interactive": map[string]any{"type": "order_status", "body": map[string]any{"text": d.StatusText},
			"action": map[string]any{"name": "review_order", "parameters": map[string]any{"reference_id": o.ID.String(), "order": map[string]any{"status": d.Status}}}}}
	if status, m, ok := p.send(rq, msg); !ok {
		p.refuse(rq, p.fresh(rq, o), d, status, m, nil)
		return
	}
	p.c.log.Info("console order status", "business", rq.biz.ID, "user", rq.user.ID, "order", o.ID, "status", d.Status)
	rq.redirect("/console/orders/"+o.ID.String(), "order-status")
}
