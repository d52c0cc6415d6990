package wire

import "fmt"

// Payment requests and order news a business sends (interactive
// order_details and order_status). Amounts are integers in minor units of
// the request's currency (ISO 4217: 1999 EUR is 19.99 €, 1000 JPY is
// 1000 ¥, 1234 BHD is 1.234 BD); nothing goes through a float.

// Limits of payment requests.
const (
	MaxAmount          = 1_000_000_000_000_000 // minor units of any amount: 10^15
	MaxPaymentQuantity = 1_000_000             // of one item
	MaxPaymentItems    = MaxOrderItems
)

// PaymentRequest asks the person to pay for an order. Subtotal is the sum
// of the items' Price × Quantity; Total is Subtotal + Tax + Shipping -
// Discount and never below 0 (Check refuses content where they do not
// add up, so an app can show the total as sent).
type PaymentRequest struct {
	// ReferenceID is the business's id of the request (the public
	// reference_id).
	ReferenceID string `json:"reference_id"`
	// OrderID is set when ReferenceID names an order the person placed
	// with this business on kontor: the business's endpoint checked that
	// the request asks for exactly that order and its total is the
	// order's. The app pays it through the platform (/pay CARD ORDER_ID).
	// Without it the request is the business's own: kontor knows no
	// order behind it.
	OrderID              string        `json:"order_id,omitempty"`
	GoodsType            string        `json:"goods_type"` // digital-goods, physical-goods
	PaymentType          string        `json:"payment_type,omitempty"`
	PaymentConfiguration string        `json:"payment_configuration,omitempty"`
	Currency             string        `json:"currency"`
	CatalogID            string        `json:"catalog_id,omitempty"`
	Items                []PaymentItem `json:"items"`
	Subtotal             int64         `json:"subtotal"`
	Tax                  *Charge       `json:"tax,omitempty"`
	Shipping             *Charge       `json:"shipping,omitempty"`
	Discount             *Charge       `json:"discount,omitempty"`
	Total                int64         `json:"total"`
	// Expires is when the request can no longer be paid (Unix
	// milliseconds; 0: not said), with the business's words for it.
	Expires     int64  `json:"expires,omitempty"`
	ExpiresText string `json:"expires_text,omitempty"`
}

// PaymentItem is a line of a payment request. Price is what one item
// costs; RegularPrice, when set, is its price before a sale.
type PaymentItem struct {
	RetailerID   string `json:"retailer_id,omitempty"`
	Name         string `json:"name"`
	Price        int64  `json:"price"`
	RegularPrice int64  `json:"regular_price,omitempty"`
	Quantity     int64  `json:"quantity"`
}

// Charge is a tax, a shipping cost or a discount of a payment request.
type Charge struct {
	Amount      int64  `json:"amount"`
	Description string `json:"description,omitempty"`
	Program     string `json:"program,omitempty"` // discount: the name of the discount programme
}

func (c *Charge) amount() int64 {
	if c == nil {
		return 0
	}
	return c.Amount
}

// OrderStatus is news of an order: Status is one of the public
// order_status values (pending, processing, partially_shipped, shipped,
// completed, canceled; India's payment flows also use captured and
// failed). An app shows a status it does not know as it is.
type OrderStatus struct {
	ReferenceID string `json:"reference_id"`
	// OrderID is set when ReferenceID names an order the person placed
	// with this business on kontor (and the endpoint moved it).
	OrderID     string `json:"order_id,omitempty"`
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
}

func (p *PaymentRequest) check() error {
	if p.ReferenceID == "" {
		return fmt.Errorf("a payment request needs a reference id")
	}
	if !currencyCode(p.Currency) {
		return fmt.Errorf("a payment request needs an ISO 4217 currency, not %q", p.Currency)
	}
	if err := checkStrings(p.ReferenceID, p.OrderID, p.GoodsType, p.PaymentType, p.PaymentConfiguration, p.CatalogID, p.ExpiresText); err != nil {
		return err
	}
	if len(p.Items) == 0 || len(p.Items) > MaxPaymentItems {
		return fmt.Errorf("a payment request has 1 to %d items", MaxPaymentItems)
	}
	var subtotal int64
	for _, it := range p.Items {
		if it.Name == "" || it.Quantity < 1 || it.Quantity > MaxPaymentQuantity || it.Price < 0 || it.Price > MaxAmount ||
			it.RegularPrice < 0 || it.RegularPrice > MaxAmount {
			return fmt.Errorf("an item of a payment request needs a name, a quantity of 1 to %d and prices of 0 to %d", MaxPaymentQuantity, int64(MaxAmount))
		}
		if err := checkStrings(it.RetailerID, it.Name); err != nil {
			return err
		}
		if it.Price > 0 && it.Quantity > MaxAmount/it.Price {
			return fmt.Errorf("an item of a payment request costs more than %d in all", int64(MaxAmount))
		}
		subtotal += it.Price * it.Quantity // at most 100 × 10^15: no overflow
	}
	if subtotal != p.Subtotal {
		return fmt.Errorf("the items of a payment request add up to %d, not to its subtotal %d", subtotal, p.Subtotal)
	}
	for _, c := range []*Charge{p.Tax, p.Shipping, p.Discount} {
		if c == nil {
			continue
		}
		if c.Amount < 0 || c.Amount > MaxAmount {
			return fmt.Errorf("a tax, shipping or discount of %d is not 0 to %d", c.Amount, int64(MaxAmount))
		}
		if err := checkStrings(c.Description, c.Program); err != nil {
			return err
		}
	}
	total := p.Subtotal + p.Tax.amount() + p.Shipping.amount() - p.Discount.amount()
	if total < 0 || total != p.Total {
		return fmt.Errorf("subtotal + tax + shipping - discount of a payment request is %d, not its total %d", total, p.Total)
	}
	return nil
}

func (s *OrderStatus) check() error {
	if s.ReferenceID == "" || s.Status == "" {
		return fmt.Errorf("order news needs a reference id and a status")
	}
	return checkStrings(s.ReferenceID, s.OrderID, s.Status, s.Description)
}
