package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// shop stores a catalog of business biz with one product per stock level
// given, named p0, p1…, priced in currency.
func (e *env) shop(biz kontor.ID, currency string, price int64, stock ...int) (commerce.Catalog, []commerce.Product) {
	e.t.Helper()
	cat := commerce.Catalog{ID: e.ids.Next(), Business: biz, Name: "c", Created: t0}
	if err := e.db.CreateCatalog(e.ctx, cat); err != nil {
		e.t.Fatal(err)
	}
	var ps []commerce.Product
	for i, n := range stock {
		p := commerce.Product{ID: e.ids.Next(), Catalog: cat.ID, RetailerID: "p" + string(rune('0'+i)), Name: "Product " + string(rune('A'+i)),
			Price: price, Currency: currency, Availability: "in stock", Condition: "new", Inventory: n, Created: t0, Updated: t0}
		if err := e.db.CreateProduct(e.ctx, p); err != nil {
			e.t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return cat, ps
}

// order places an order of one item per product given (quantity q each)
// at time at; it returns the order, or the zero order when refused.
func (e *env) order(cat commerce.Catalog, at time.Time, q int, ps ...commerce.Product) commerce.Order {
	e.t.Helper()
	o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, State: commerce.OrderPending,
		Created: at, Expires: at.Add(30 * time.Minute)}
	for _, p := range ps {
		o.Currency = p.Currency
		o.Items = append(o.Items, commerce.OrderItem{Product: p.ID, RetailerID: p.RetailerID, Name: p.Name, Quantity: q, Price: p.Price})
		o.Subtotal += p.Price * int64(q)
	}
	o.Total = o.Subtotal
	short, err := e.db.PlaceOrder(e.ctx, o)
	if err != nil {
		e.t.Fatalf("place: %v", err)
	}
	if len(short) > 0 {
		return commerce.Order{}
	}
	return o
}

func (e *env) level(p kontor.ID) commerce.StockLevel {
	e.t.Helper()
	l, err := e.db.StockLevel(e.ctx, p)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *env) history(p kontor.ID) []commerce.StockMove {
	e.t.Helper()
	ms, err := e.db.StockMoves(e.ctx, p, 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// testStockAdjust: an adjustment changes the stock and appends its row in
// one transaction; one that would take more than is available, or go over
// the maximum, changes nothing; orders write their moves too, and what
// open orders hold shows as reserved.
func testStockAdjust(_ *testing.T, e *env) {
	cat, ps := e.shop(e.ids.Next(), "EUR", 299, 10, 0)
	p := ps[0]
	adj := func(delta int, reason string) (commerce.StockMove, error) {
		m, _, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: p.ID, Delta: delta, Reason: reason, Note: "n " + reason,
			Source: commerce.SourceAdmin, By: "Anna", At: t0.Add(time.Minute)})
		return m, err
	}
	m, err := adj(+5, commerce.ReasonReceived)
	if err != nil || m.Seq != 1 || m.Level != 15 {
		e.t.Fatalf("received: %+v %v", m, err)
	}
	if m, err = adj(-3, commerce.ReasonDamaged); err != nil || m.Seq != 2 || m.Level != 12 {
		e.t.Fatalf("damaged: %+v %v", m, err)
	}
	o := e.order(cat, t0.Add(2*time.Minute), 4, p)
	if o.ID == 0 {
		e.t.Fatal("order refused")
	}
	if l := e.level(p.ID); l.Available != 8 || l.Reserved != 4 || l.Threshold != commerce.NoThreshold || l.RetailerID != "p0" || l.Catalog != cat.ID {
		e.t.Fatalf("level after the order: %+v", l)
	}
	// 8 are available (4 more are reserved): taking 9 is refused and
	// changes nothing.
	_, err = adj(-9, commerce.ReasonCorrection)
	var fe *commerce.FieldError
	if kontor.KindOf(err) != kontor.Invalid || !errors.As(err, &fe) || fe.Field != "delta" || !strings.Contains(fe.Reason, "only 8 available (4 more reserved") {
		e.t.Fatalf("too much taken: %v", err)
	}
	if _, err := adj(commerce.MaxInventory, commerce.ReasonReceived); kontor.KindOf(err) != kontor.Invalid || !errors.As(err, &fe) {
		e.t.Fatalf("over the maximum: %v", err)
	}
	if got, _ := e.db.Product(e.ctx, p.ID); got.Inventory != 8 {
		e.t.Fatalf("a refused adjustment changed the stock: %d", got.Inventory)
	}
	if m, err = adj(-8, commerce.ReasonCorrection); err != nil || m.Level != 0 || m.Seq != 4 {
		e.t.Fatalf("everything available taken: %+v %v", m, err)
	}
	// Canceling the order gives its 4 back, as a move of its own.
	if err := e.db.MoveOrder(e.ctx, o.ID, commerce.OrderPending, commerce.OrderCanceled, true); err != nil {
		e.t.Fatal(err)
	}
	if l := e.level(p.ID); l.Available != 4 || l.Reserved != 0 {
		e.t.Fatalf("level after the cancel: %+v", l)
	}
	h := e.history(p.ID)
	want := []struct {
		delta, level int
		reason       string
		order        kontor.ID
	}{{4, 4, commerce.ReasonReleased, o.ID}, {-8, 0, commerce.ReasonCorrection, 0}, {-4, 8, commerce.ReasonSold, o.ID},
		{-3, 12, commerce.ReasonDamaged, 0}, {5, 15, commerce.ReasonReceived, 0}}
	if len(h) != len(want) {
		e.t.Fatalf("history: %+v", h)
	}
	for i, w := range want {
		if g := h[i]; g.Delta != w.delta || g.Level != w.level || g.Reason != w.reason || g.Order != w.order || g.Seq != int64(len(want)-i) {
			e.t.Fatalf("history[%d] = %+v, want %+v", i, g, w)
		}
	}
	if g := h[4]; g.Note != "n received" || g.Source != commerce.SourceAdmin || g.By != "Anna" || !g.At.Equal(t0.Add(time.Minute)) {
		e.t.Fatalf("an adjustment's row: %+v", g)
	}
	if g := h[2]; g.Source != commerce.SourceOrder || !g.At.Equal(t0.Add(2*time.Minute)) {
		e.t.Fatalf("an order's row: %+v", g)
	}
	// An order that expires gives its stock back as a move of the sweep's
	// time.
	o2 := e.order(cat, t0.Add(3*time.Minute), 1, p)
	swept := t0.Add(time.Hour)
	if n, err := e.db.ExpireOrders(e.ctx, swept, 10); err != nil || n != 1 {
		e.t.Fatalf("expire: %d %v", n, err)
	}
	if h2 := e.history(p.ID); len(h2) != 7 || h2[0].Reason != commerce.ReasonReleased || h2[0].Order != o2.ID || !h2[0].At.Equal(swept) ||
		h2[0].Level != 4 || h2[1].Reason != commerce.ReasonSold || h2[1].Level != 3 {
		e.t.Fatalf("history after the expiry: %+v", h2[:2])
	}
	// Pages, newest first.
	page, err := e.db.StockMoves(e.ctx, p.ID, 4, 2)
	if err != nil || len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 2 {
		e.t.Fatalf("page before 4: %+v %v", page, err)
	}
	// Thresholds and the low list.
	if err := e.db.SetLowStock(e.ctx, p.ID, 4); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.SetLowStock(e.ctx, ps[1].ID, 0); err != nil {
		e.t.Fatal(err)
	}
	low, err := e.db.StockLevels(e.ctx, cat.ID, true, 0, 10)
	if err != nil || len(low) != 2 || low[0].Product != p.ID || low[0].Threshold != 4 || low[1].Available != 0 {
		e.t.Fatalf("low: %+v %v", low, err)
	}
	if err := e.db.SetLowStock(e.ctx, p.ID, commerce.NoThreshold); err != nil {
		e.t.Fatal(err)
	}
	if low, _ = e.db.StockLevels(e.ctx, cat.ID, true, 0, 10); len(low) != 1 || low[0].Product != ps[1].ID {
		e.t.Fatalf("low without p0's threshold: %+v", low)
	}
	if all, _ := e.db.StockLevels(e.ctx, cat.ID, false, p.ID, 10); len(all) != 1 || all[0].Product != ps[1].ID {
		e.t.Fatalf("levels after p0: %+v", all)
	}
	// Unknown products.
	nobody := e.ids.Next()
	if _, _, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: nobody, Delta: 1, Reason: commerce.ReasonReceived, Source: "api", At: t0}); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("adjust unknown: %v", err)
	}
	if _, err := e.db.StockLevel(e.ctx, nobody); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("level unknown: %v", err)
	}
	if _, err := e.db.StockMoves(e.ctx, nobody, 0, 10); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("history unknown: %v", err)
	}
	if err := e.db.SetLowStock(e.ctx, nobody, 1); kontor.KindOf(err) != kontor.NotFound {
		e.t.Fatalf("threshold unknown: %v", err)
	}
}

// testStockRace: orders and negative adjustments race for 50 units; the
// stock never goes below zero, exactly 50 units go, and the history is
// gapless with each row's level the one before plus its delta.
func testStockRace(_ *testing.T, e *env) {
	cat, ps := e.shop(e.ids.Next(), "EUR", 100, 50)
	p := ps[0]
	var took atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if i%2 == 0 {
				o := commerce.Order{ID: e.ids.Next(), Business: cat.Business, Catalog: cat.ID, Customer: phoneA, Currency: "EUR", State: commerce.OrderPending,
					Items: []commerce.OrderItem{{Product: p.ID, RetailerID: p.RetailerID, Quantity: 1, Price: 100}}, Subtotal: 100, Total: 100,
					Created: t0, Expires: t0.Add(time.Hour)}
				short, err := e.db.PlaceOrder(e.ctx, o)
				if err != nil {
					e.t.Errorf("place: %v", err)
				} else if len(short) == 0 {
					took.Add(1)
				}
				return
			}
			_, _, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: p.ID, Delta: -1, Reason: commerce.ReasonDamaged, Source: "api", At: t0})
			switch {
			case err == nil:
				took.Add(1)
			case kontor.KindOf(err) != kontor.Invalid:
				e.t.Errorf("adjust: %v", err)
			}
		})
	}
	wg.Wait()
	if took.Load() != 50 {
		e.t.Fatalf("%d units went, want 50", took.Load())
	}
	if got, _ := e.db.Product(e.ctx, p.ID); got.Inventory != 0 {
		e.t.Fatalf("stock %d", got.Inventory)
	}
	h := e.history(p.ID)
	if len(h) != 50 {
		e.t.Fatalf("%d moves, want 50", len(h))
	}
	level := 0
	for i, m := range h { // newest first: walk back up
		if m.Seq != int64(50-i) || m.Level != level || m.Level < 0 {
			e.t.Fatalf("move %d: %+v (level %d)", i, m, level)
		}
		level -= m.Delta
	}
	if level != 50 {
		e.t.Fatalf("the history starts from %d, want 50", level)
	}
}

// alerts claims the low-stock webhooks waiting for url and decodes them.
func (e *env) alerts(url string) []map[string]any {
	e.t.Helper()
	ds, err := e.db.DueWebhooks(e.ctx, webhook.Claim{Now: t0.Add(1000 * time.Hour), Until: t0.Add(1001 * time.Hour), Token: 7,
		Want: []webhook.Want{{URL: url, Limit: 1000}}})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for _, d := range ds {
		var n struct {
			Object string `json:"object"`
			Entry  []struct {
				ID      string `json:"id"`
				Changes []struct {
					Field string         `json:"field"`
					Value map[string]any `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(d.Body, &n); err != nil || n.Object != "whatsapp_business_account" || len(n.Entry) != 1 ||
			len(n.Entry[0].Changes) != 1 || n.Entry[0].Changes[0].Field != "inventory_alerts" {
			e.t.Fatalf("alert %s: %s %v", d.ID, d.Body, err)
		}
		v := n.Entry[0].Changes[0].Value
		v["waba"], v["webhook_id"] = n.Entry[0].ID, d.ID
		out = append(out, v)
	}
	return out
}

// testStockAlerts: crossing the low-stock threshold enqueues exactly one
// webhook per crossing, in the transaction of the move: 20 racing orders
// cross once; stock received above the threshold arms it again; moves
// below it send nothing; a refused order takes its alert back with it.
func testStockAlerts(_ *testing.T, e *env) {
	b, _ := e.newBusiness("+4930222222")
	const url = "https://shop.example/hook"
	if err := e.db.SetWebhook(e.ctx, b.ID, url, "v"); err != nil {
		e.t.Fatal(err)
	}
	cat, ps := e.shop(b.ID, "EUR", 100, 10, 6, 1)
	p := ps[0]
	for _, x := range ps[:2] {
		if err := e.db.SetLowStock(e.ctx, x.ID, 5); err != nil {
			e.t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { e.order(cat, t0, 1, p) })
	}
	wg.Wait()
	as := e.alerts(url)
	if len(as) != 1 {
		e.t.Fatalf("%d alerts for one crossing: %v", len(as), as)
	}
	a := as[0]
	if a["event"] != "LOW_STOCK" || a["product_id"] != p.ID.String() || a["retailer_id"] != "p0" || a["inventory"] != 5.0 ||
		a["low_stock_threshold"] != 5.0 || a["reason"] != "sold" || a["catalog_id"] != cat.ID.String() || a["waba"] != b.ID.String() ||
		a["order_id"] == nil || a["webhook_id"] != "stock."+p.ID.String()+".5" {
		e.t.Fatalf("alert: %v", a)
	}
	// Received above the threshold, then below it again: one more alert.
	move := func(delta int, reason string) bool {
		_, alerted, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: p.ID, Delta: delta, Reason: reason, Source: "api", At: t0})
		if err != nil {
			e.t.Fatal(err)
		}
		return alerted
	}
	if move(+10, commerce.ReasonReceived) || !move(-6, commerce.ReasonDamaged) || move(-1, commerce.ReasonDamaged) || move(+1, commerce.ReasonCorrection) {
		e.t.Fatal("alerted wrong")
	}
	if as = e.alerts(url); len(as) != 1 || as[0]["inventory"] != 4.0 || as[0]["reason"] != "damaged" || as[0]["order_id"] != nil {
		e.t.Fatalf("second crossing: %v", as)
	}
	// An order that would cross ps[1]'s threshold but is refused for
	// ps[2] sends nothing and changes nothing.
	if o := e.order(cat, t0, 2, ps[1], ps[2]); o.ID != 0 {
		e.t.Fatal("short order placed")
	}
	if l := e.level(ps[1].ID); l.Available != 6 || len(e.history(ps[1].ID)) != 0 || len(e.alerts(url)) != 0 {
		e.t.Fatalf("a refused order left %+v, moves or alerts", l)
	}
	// A business without a webhook URL: the move stands, no webhook.
	b2, _ := e.newBusiness("+4930333333")
	_, ps2 := e.shop(b2.ID, "EUR", 100, 3)
	if err := e.db.SetLowStock(e.ctx, ps2[0].ID, 2); err != nil {
		e.t.Fatal(err)
	}
	if m, alerted, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: ps2[0].ID, Delta: -1, Reason: "damaged", Source: "api", At: t0}); err != nil || !alerted || m.Level != 2 {
		e.t.Fatalf("no webhook URL: %+v %v %v", m, alerted, err)
	}
}

// testSalesReport: the report adds up exactly, per day in a time zone and
// per product, in currencies with 0, 2 and 3 decimals, counting paid,
// shipped, completed and refunded orders (refunds subtracted) and nothing
// pending, confirmed, canceled or expired.
func testSalesReport(_ *testing.T, e *env) {
	biz := e.ids.Next()
	eurCat, eur := e.shop(biz, "EUR", 1999, 1000, 1000)
	jpyCat, jpy := e.shop(biz, "JPY", 1500, 1000)
	bhdCat, bhd := e.shop(biz, "BHD", 1234, 1000)
	otherCat, other := e.shop(e.ids.Next(), "EUR", 100, 1000)
	day := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 30, 0, 0, time.UTC) }
	move := func(o commerce.Order, states ...string) {
		from := commerce.OrderPending
		for _, s := range states {
			if err := e.db.MoveOrder(e.ctx, o.ID, from, s, s == commerce.OrderCanceled); err != nil {
				e.t.Fatal(err)
			}
			from = s
		}
	}
	move(e.order(eurCat, day(1, 10), 2, eur[0]), "paid")                         // 39.98
	move(e.order(eurCat, day(1, 23), 1, eur[0], eur[1]), "paid", "shipped")      // 39.98; 1 Dec in UTC, 2 Dec in Berlin
	move(e.order(eurCat, day(2, 9), 3, eur[1]), "paid", "completed", "refunded") // 59.97, refunded
	move(e.order(eurCat, day(2, 9), 1, eur[1]), "confirmed")                     // not paid
	move(e.order(eurCat, day(2, 9), 1, eur[1]), "canceled")                      // never paid
	e.order(eurCat, day(2, 10), 5, eur[0])                                       // pending
	// The yen order has shipping (a payment request set it): its day
	// counts the order's total, its product the items alone.
	jo := commerce.Order{ID: e.ids.Next(), Business: biz, Catalog: jpyCat.ID, Customer: phoneA, State: commerce.OrderPending, Currency: "JPY",
		Items: []commerce.OrderItem{{Product: jpy[0].ID, RetailerID: "p0", Name: "Product A", Quantity: 3, Price: 1500}}, Subtotal: 4500,
		Shipping: 500, Total: 5000, Created: day(2, 11), Expires: day(2, 11).Add(time.Hour)}
	if short, err := e.db.PlaceOrder(e.ctx, jo); err != nil || len(short) > 0 {
		e.t.Fatalf("yen order: %v %v", short, err)
	}
	move(jo, "paid")
	move(e.order(bhdCat, day(3, 12), 7, bhd[0]), "paid", "shipped", "completed")              // 8.638 BHD
	move(e.order(eurCat, time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC), 1, eur[0]), "paid") // 30 Nov UTC, 1 Dec in Berlin
	move(e.order(otherCat, day(1, 10), 1, other[0]), "paid")                                  // another business
	st := commerce.NewStock(e.db, nil)
	rep, err := st.SalesReport(e.ctx, commerce.SalesQuery{Business: biz, Since: "2026-12-01", Until: "2026-12-31"})
	if err != nil {
		e.t.Fatal(err)
	}
	type r = commerce.SalesRow
	wantDays := []r{
		{Date: "2026-12-01", Currency: "EUR", Orders: 2, Units: 4, Gross: 7996, Net: 7996},
		{Date: "2026-12-02", Currency: "EUR", Orders: 1, Units: 3, Gross: 5997, Refunded: 5997},
		{Date: "2026-12-02", Currency: "JPY", Orders: 1, Units: 3, Gross: 5000, Net: 5000},
		{Date: "2026-12-03", Currency: "BHD", Orders: 1, Units: 7, Gross: 8638, Net: 8638},
	}
	if !equalRows(rep.Rows, wantDays) {
		e.t.Fatalf("by day (UTC):\n%+v\nwant\n%+v", rep.Rows, wantDays)
	}
	wantTotals := []r{{Currency: "BHD", Orders: 1, Units: 7, Gross: 8638, Net: 8638}, {Currency: "EUR", Orders: 3, Units: 7, Gross: 13993, Refunded: 5997, Net: 7996},
		{Currency: "JPY", Orders: 1, Units: 3, Gross: 5000, Net: 5000}}
	if !equalRows(rep.Totals, wantTotals) {
		e.t.Fatalf("totals:\n%+v\nwant\n%+v", rep.Totals, wantTotals)
	}
	var csv strings.Builder
	if err := rep.WriteCSV(&csv); err != nil {
		e.t.Fatal(err)
	}
	if want := "date,currency,orders,units,gross,refunded,net\n2026-12-01,EUR,2,4,79.96,0.00,79.96\n2026-12-02,EUR,1,3,59.97,59.97,0.00\n" +
		"2026-12-02,JPY,1,3,5000,0,5000\n2026-12-03,BHD,1,7,8.638,0.000,8.638\n"; csv.String() != want {
		e.t.Fatalf("CSV:\n%s\nwant\n%s", csv.String(), want)
	}
	// In Berlin (UTC+1) the 23:30 orders fall on the next day, and the one
	// of 30 November on 1 December.
	rep, err = st.SalesReport(e.ctx, commerce.SalesQuery{Business: biz, Since: "2026-12-01", Until: "2026-12-02", TimeZone: "Europe/Berlin"})
	if err != nil {
		e.t.Fatal(err)
	}
	wantDays = []r{
		{Date: "2026-12-01", Currency: "EUR", Orders: 2, Units: 3, Gross: 5997, Net: 5997},
		{Date: "2026-12-02", Currency: "EUR", Orders: 2, Units: 5, Gross: 9995, Refunded: 5997, Net: 3998},
		{Date: "2026-12-02", Currency: "JPY", Orders: 1, Units: 3, Gross: 5000, Net: 5000},
	}
	if !equalRows(rep.Rows, wantDays) {
		e.t.Fatalf("by day (Berlin):\n%+v\nwant\n%+v", rep.Rows, wantDays)
	}
	// By product: item prices × quantities.
	rep, err = st.SalesReport(e.ctx, commerce.SalesQuery{Business: biz, Since: "2026-12-01", Until: "2026-12-31", GroupBy: "product"})
	if err != nil {
		e.t.Fatal(err)
	}
	wantProducts := []r{
		{Product: eur[0].ID, RetailerID: "p0", Name: "Product A", Currency: "EUR", Orders: 2, Units: 3, Gross: 5997, Net: 5997},
		{Product: jpy[0].ID, RetailerID: "p0", Name: "Product A", Currency: "JPY", Orders: 1, Units: 3, Gross: 4500, Net: 4500},
		{Product: bhd[0].ID, RetailerID: "p0", Name: "Product A", Currency: "BHD", Orders: 1, Units: 7, Gross: 8638, Net: 8638},
		{Product: eur[1].ID, RetailerID: "p1", Name: "Product B", Currency: "EUR", Orders: 2, Units: 4, Gross: 7996, Refunded: 5997, Net: 1999},
	}
	if !equalRows(rep.Rows, wantProducts) {
		e.t.Fatalf("by product:\n%+v\nwant\n%+v", rep.Rows, wantProducts)
	}
	if rep, err = st.SalesReport(e.ctx, commerce.SalesQuery{Business: e.ids.Next(), Since: "2026-12-01", Until: "2026-12-31"}); err != nil || len(rep.Rows) != 0 || len(rep.Totals) != 0 {
		e.t.Fatalf("a business without sales: %+v %v", rep, err)
	}
}

// equalRows compares report rows regardless of the order of rows with the
// same sort key (products of one retailer id in different currencies).
func equalRows(got, want []commerce.SalesRow) bool {
	if len(got) != len(want) {
		return false
	}
	left := append([]commerce.SalesRow(nil), want...)
	for _, g := range got {
		found := false
		for i, w := range left {
			if g == w {
				left = append(left[:i], left[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// testStockProductEdit: editing a product read before an order does not
// undo the order's reservation; setting its inventory is a correction in
// the history, and crosses the threshold like any move.
func testStockProductEdit(_ *testing.T, e *env) {
	cat, ps := e.shop(e.ids.Next(), "EUR", 100, 10)
	stale := ps[0]
	if o := e.order(cat, t0, 4, stale); o.ID == 0 {
		e.t.Fatal("order refused")
	}
	stale.Name, stale.Updated = "Red rose", t0.Add(time.Minute)
	if err := e.db.UpdateProduct(e.ctx, stale, false); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.Product(e.ctx, stale.ID); got.Inventory != 6 || got.Name != "Red rose" {
		e.t.Fatalf("an edit of a product read before an order: %+v", got)
	}
	if err := e.db.SetLowStock(e.ctx, stale.ID, 2); err != nil {
		e.t.Fatal(err)
	}
	stale.Inventory = 2
	if err := e.db.UpdateProduct(e.ctx, stale, true); err != nil {
		e.t.Fatal(err)
	}
	h := e.history(stale.ID)
	if got, _ := e.db.Product(e.ctx, stale.ID); got.Inventory != 2 || len(h) != 2 || h[0].Delta != -4 || h[0].Reason != commerce.ReasonCorrection ||
		h[0].Level != 2 || h[0].Note != "inventory set to 2" {
		e.t.Fatalf("inventory set: %+v %+v", got, h)
	}
	if err := e.db.UpdateProduct(e.ctx, stale, true); err != nil || len(e.history(stale.ID)) != 2 {
		e.t.Fatalf("setting the same inventory again wrote a move: %v", err)
	}
	// Stock an order gives back is never refused, even beyond the most an
	// adjustment may reach.
	cat2, full := e.shop(e.ids.Next(), "EUR", 100, commerce.MaxInventory)
	o := e.order(cat2, t0, 5, full[0])
	if _, _, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: full[0].ID, Delta: 5, Reason: commerce.ReasonReceived, Source: "api", At: t0}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.MoveOrder(e.ctx, o.ID, commerce.OrderPending, commerce.OrderCanceled, true); err != nil {
		e.t.Fatal(err)
	}
	if l := e.level(full[0].ID); l.Available != commerce.MaxInventory+5 {
		e.t.Fatalf("released beyond the maximum: %+v", l)
	}
}

// testStockIdempotent: an adjustment retried with its idempotency key is
// applied once, also when the retries race; the same key for another
// adjustment is a conflict; keys are per product.
func testStockIdempotent(_ *testing.T, e *env) {
	_, ps := e.shop(e.ids.Next(), "EUR", 100, 10, 10)
	p := ps[0]
	adj := func(product kontor.ID, delta int, key string) (commerce.StockMove, error) {
		m, _, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: product, Delta: delta, Reason: commerce.ReasonCorrection, Source: "api", Key: key, At: t0})
		return m, err
	}
	first, err := adj(p.ID, -2, "count-1")
	if err != nil || first.Level != 8 || first.Key != "count-1" {
		e.t.Fatalf("first: %+v %v", first, err)
	}
	again, err := adj(p.ID, -2, "count-1")
	if err != nil || again.Seq != first.Seq || again.Level != 8 {
		e.t.Fatalf("retry: %+v %v", again, err)
	}
	if _, err := adj(p.ID, -3, "count-1"); kontor.KindOf(err) != kontor.Conflict {
		e.t.Fatalf("the key for another delta: %v", err)
	}
	if m, err := adj(ps[1].ID, -2, "count-1"); err != nil || m.Level != 8 {
		e.t.Fatalf("the key on another product: %+v %v", m, err)
	}
	var wg sync.WaitGroup
	var seqs sync.Map
	for range 10 {
		wg.Go(func() {
			m, err := adj(p.ID, 1, "race")
			if err != nil {
				e.t.Errorf("racing retry: %v", err)
				return
			}
			seqs.Store(m.Seq, true)
		})
	}
	wg.Wait()
	n := 0
	seqs.Range(func(any, any) bool { n++; return true })
	if got, _ := e.db.Product(e.ctx, p.ID); got.Inventory != 9 || n != 1 || len(e.history(p.ID)) != 2 {
		e.t.Fatalf("10 racing retries: stock %d, %d different moves", got.Inventory, n)
	}
}

// testStockAboveMax: stock that orders give back may take a product above
// MaxInventory; selling from there or taking stock away is not refused for
// the level being high.
func testStockAboveMax(_ *testing.T, e *env) {
	cat, ps := e.shop(e.ids.Next(), "EUR", 299, commerce.MaxInventory)
	p := ps[0]
	o := e.order(cat, t0.Add(time.Minute), 2, p)
	if o.ID == 0 {
		e.t.Fatal("order refused")
	}
	if _, _, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: p.ID, Delta: 2, Reason: commerce.ReasonReceived,
		Source: commerce.SourceAdmin, By: "Anna", At: t0.Add(2 * time.Minute)}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.MoveOrder(e.ctx, o.ID, commerce.OrderPending, commerce.OrderCanceled, true); err != nil {
		e.t.Fatal(err)
	}
	if got, _ := e.db.Product(e.ctx, p.ID); got.Inventory != commerce.MaxInventory+2 {
		e.t.Fatalf("after the cancel: %d in stock, want %d", got.Inventory, commerce.MaxInventory+2)
	}
	if o2 := e.order(cat, t0.Add(3*time.Minute), 1, p); o2.ID == 0 {
		e.t.Fatal("an order of stock above the maximum was refused")
	}
	if m, _, err := e.db.AdjustStock(e.ctx, commerce.StockMove{Product: p.ID, Delta: -1, Reason: commerce.ReasonDamaged,
		Source: commerce.SourceAdmin, By: "Anna", At: t0.Add(4 * time.Minute)}); err != nil || m.Level != commerce.MaxInventory {
		e.t.Fatalf("taking stock away above the maximum: %+v %v", m, err)
	}
}
