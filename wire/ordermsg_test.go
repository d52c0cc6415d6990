package wire

import (
	"strings"
	"testing"
)

// payment is a payment request that adds up: 3 × 249 + 2 × 150 = 1047,
// + 105 tax + 490 shipping - 100 discount = 1542.
func payment() *PaymentRequest {
	return &PaymentRequest{ReferenceID: "386285559745613828", OrderID: "386285559745613828", GoodsType: "physical-goods", Currency: "EUR",
		Items:    []PaymentItem{{RetailerID: "rose", Name: "Rose", Price: 249, RegularPrice: 299, Quantity: 3}, {RetailerID: "tulip", Name: "Tulpe", Price: 150, Quantity: 2}},
		Subtotal: 1047, Tax: &Charge{Amount: 105, Description: "MwSt."}, Shipping: &Charge{Amount: 490}, Discount: &Charge{Amount: 100, Program: "Stammkunde"},
		Total: 1542}
}

func TestPaymentRequestCheck(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(p *PaymentRequest)
		ok     bool
	}{
		{"adds up", func(*PaymentRequest) {}, true},
		{"no charges", func(p *PaymentRequest) { p.Tax, p.Shipping, p.Discount, p.Total = nil, nil, nil, 1047 }, true},
		{"free", func(p *PaymentRequest) { p.Tax, p.Shipping, p.Discount, p.Total = nil, nil, &Charge{Amount: 1047}, 0 }, true},
		{"yen", func(p *PaymentRequest) { p.Currency = "JPY" }, true},
		{"no reference", func(p *PaymentRequest) { p.ReferenceID = "" }, false},
		{"no currency", func(p *PaymentRequest) { p.Currency = "" }, false},
		{"currency in words", func(p *PaymentRequest) { p.Currency = "euro" }, false},
		{"no items", func(p *PaymentRequest) { p.Items = nil }, false},
		{"too many items", func(p *PaymentRequest) {
			p.Items = make([]PaymentItem, MaxPaymentItems+1)
			for i := range p.Items {
				p.Items[i] = PaymentItem{Name: "x", Quantity: 1}
			}
			p.Subtotal, p.Tax, p.Shipping, p.Discount, p.Total = 0, nil, nil, nil, 0
		}, false},
		{"item without name", func(p *PaymentRequest) { p.Items[0].Name = "" }, false},
		{"item of none", func(p *PaymentRequest) { p.Items[1].Quantity, p.Subtotal, p.Total = 0, 747, 1242 }, false},
		{"negative price", func(p *PaymentRequest) { p.Items[1].Price, p.Subtotal, p.Total = -150, 447, 942 }, false},
		{"subtotal off by one", func(p *PaymentRequest) { p.Subtotal, p.Total = 1048, 1543 }, false},
		{"total off by one", func(p *PaymentRequest) { p.Total = 1541 }, false},
		{"negative total", func(p *PaymentRequest) { p.Discount.Amount, p.Total = 2000, -358 }, false},
		{"negative tax", func(p *PaymentRequest) { p.Tax.Amount, p.Total = -105, 1332 }, false},
		{"huge line", func(p *PaymentRequest) {
			p.Items = []PaymentItem{{Name: "x", Price: MaxAmount, Quantity: 2}}
			p.Subtotal, p.Tax, p.Shipping, p.Discount, p.Total = 2*MaxAmount, nil, nil, nil, 2*MaxAmount
		}, false},
		{"overflowing line", func(p *PaymentRequest) {
			p.Items = []PaymentItem{{Name: "x", Price: MaxAmount, Quantity: MaxPaymentQuantity}}
			p.Subtotal, p.Tax, p.Shipping, p.Discount, p.Total = -1, nil, nil, nil, -1
		}, false},
		{"bad utf-8 name", func(p *PaymentRequest) { p.Items[0].Name = "\xff" }, false},
		{"long description", func(p *PaymentRequest) { p.Tax.Description = strings.Repeat("x", MaxText+1) }, false},
	} {
		p := payment()
		c.change(p)
		ct := Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveOrderDetails, Body: "Your order", Payment: p}}
		if err := ct.Check(); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestOrderStatusCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *OrderStatus
		ok   bool
	}{
		{"shipped", &OrderStatus{ReferenceID: "r1", OrderID: "386285559745613828", Status: "shipped", Description: "DHL 0034"}, true},
		{"a status this version does not know", &OrderStatus{ReferenceID: "r1", Status: "teleported"}, true},
		{"no status", &OrderStatus{ReferenceID: "r1"}, false},
		{"no reference", &OrderStatus{Status: "shipped"}, false},
		{"part missing", nil, false},
		{"bad utf-8", &OrderStatus{ReferenceID: "r1", Status: "shipped", Description: "\xc0"}, false},
	} {
		ct := Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveOrderStatus, Body: "News", OrderStatus: c.s}}
		if err := ct.Check(); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.ok && !ct.Known() {
			t.Errorf("%s: not known", c.name)
		}
	}
	if err := (Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveOrderDetails}}).Check(); err == nil {
		t.Error("order_details without its payment part")
	}
}

// TestPaymentRequestJSON: the content as docs/protocol.md shows it.
func TestPaymentRequestJSON(t *testing.T) {
	b, err := EncodeContent(Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveOrderDetails, Body: "Your order", Payment: payment()}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"type":"interactive","interactive":{"type":"order_details","body":"Your order","payment":{"reference_id":"386285559745613828",` +
		`"order_id":"386285559745613828","goods_type":"physical-goods","currency":"EUR","items":[{"retailer_id":"rose","name":"Rose","price":249,` +
		`"regular_price":299,"quantity":3},{"retailer_id":"tulip","name":"Tulpe","price":150,"quantity":2}],"subtotal":1047,` +
		`"tax":{"amount":105,"description":"MwSt."},"shipping":{"amount":490},"discount":{"amount":100,"program":"Stammkunde"},"total":1542}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	back, err := DecodeContent(b)
	if err != nil || back.Interactive.Payment.Total != 1542 || back.Interactive.Payment.Items[0].RegularPrice != 299 {
		t.Fatalf("%+v %v", back, err)
	}
}
