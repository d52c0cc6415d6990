package server

import (
	"context"
	"errors"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/payments"
	"github.com/kontor-chat/kontor/wire"
)

// shops shows people the catalogs of businesses (gateway.Shops).
type shops struct {
	s    *Server
	shop *commerce.Service
}

// Catalog returns what the business at phone shows in the chat.
func (sh shops) Catalog(ctx context.Context, phone kontor.Phone, after kontor.ID, limit int) (wire.ShopCatalog, error) {
	const op = "shop.Catalog"
	n, err := sh.s.db.NumberByPhone(ctx, phone)
	if err != nil {
		return wire.ShopCatalog{}, kontor.Errorf(kontor.NotFound, op, "%s is not a business", phone)
	}
	st, err := sh.shop.Settings(ctx, n.ID)
	if err != nil {
		return wire.ShopCatalog{}, err
	}
	cats, err := sh.shop.Catalogs(ctx, n.Business)
	if err != nil {
		return wire.ShopCatalog{}, err
	}
	if !st.CatalogVisible || len(cats) == 0 {
		return wire.ShopCatalog{}, kontor.Errorf(kontor.NotFound, op, "%s shows no catalog in the chat", phone)
	}
	c := cats[0]
	ps, more, err := sh.shop.Products(ctx, c.ID, commerce.Page{After: after, Limit: limit})
	if err != nil {
		return wire.ShopCatalog{}, err
	}
	out := wire.ShopCatalog{Business: phone, Name: n.VerifiedName, CatalogID: c.ID.String(), CartEnabled: st.CartEnabled,
		Products: make([]wire.ShopProduct, 0, len(ps)), More: more}
	for _, p := range ps {
		out.Products = append(out.Products, wire.ShopProduct{ID: p.ID.String(), RetailerID: p.RetailerID, Name: p.Name, Description: p.Description,
			Price: p.Price, SalePrice: p.SalePrice, Currency: p.Currency, PriceText: commerce.FormatPrice(p.UnitPrice(), p.Currency),
			Availability: p.Availability, ImageURL: p.ImageURL, URL: p.URL})
	}
	return out, nil
}

// Business says what the platform publishes of the business at phone:
// its verified name, whether its endpoint is hosted here (and by whom),
// whether it shows a catalog and takes orders (gateway.Businesses).
func (sh shops) Business(ctx context.Context, phone kontor.Phone) (wire.BusinessInfo, error) {
	const op = "shop.Business"
	n, err := sh.s.db.NumberByPhone(ctx, phone)
	if err != nil {
		return wire.BusinessInfo{}, kontor.Errorf(kontor.NotFound, op, "%s is not a business", phone)
	}
	b, err := sh.s.db.Business(ctx, n.Business)
	if err != nil {
		return wire.BusinessInfo{}, err
	}
	st, err := sh.shop.Settings(ctx, n.ID)
	if err != nil {
		return wire.BusinessInfo{}, err
	}
	out := wire.BusinessInfo{Phone: phone, Name: n.VerifiedName, Hosted: !b.SelfHosted}
	if out.Hosted {
		out.Operator = sh.s.cfg.OperatorName
	}
	if st.CatalogVisible {
		cats, err := sh.shop.Catalogs(ctx, n.Business)
		if err != nil {
			return wire.BusinessInfo{}, err
		}
		out.Catalog = len(cats) > 0
		out.CartEnabled = out.Catalog && st.CartEnabled
	}
	return out, nil
}

// PlaceOrder reserves the stock of a person's cart at the business at phone.
func (sh shops) PlaceOrder(ctx context.Context, customer, phone kontor.Phone, req wire.PlaceOrder) (wire.OrderPlaced, error) {
	const op = "shop.PlaceOrder"
	n, err := sh.s.db.NumberByPhone(ctx, phone)
	if err != nil {
		return wire.OrderPlaced{}, kontor.Errorf(kontor.NotFound, op, "%s is not a business", phone)
	}
	st, err := sh.shop.Settings(ctx, n.ID)
	if err != nil {
		return wire.OrderPlaced{}, err
	}
	cats, err := sh.shop.Catalogs(ctx, n.Business)
	if err != nil {
		return wire.OrderPlaced{}, err
	}
	if !st.CatalogVisible || !st.CartEnabled || len(cats) == 0 {
		return wire.OrderPlaced{}, kontor.Errorf(kontor.Forbidden, op, "%s does not take orders in the chat", phone)
	}
	o, short, err := sh.shop.PlaceOrder(ctx, sh.s.db, commerce.OrderRequest{Catalog: cats[0].ID, Customer: customer, Items: req.Items, Text: req.Text}, sh.s.cfg.OrderHold)
	if err != nil {
		return wire.OrderPlaced{}, err
	}
	if len(short) > 0 {
		out := wire.OrderPlaced{Status: "refused"}
		for _, s := range short {
			out.Short = append(out.Short, wire.ShortItem{RetailerID: s.RetailerID, Wanted: s.Wanted, Available: s.Available})
		}
		return out, nil
	}
	out := wire.OrderPlaced{OrderID: o.ID.String(), Status: "placed", Total: o.Total, Currency: o.Currency, Expires: o.Expires.UnixMilli()}
	for _, it := range o.Items {
		out.Items = append(out.Items, wire.OrderItem{RetailerID: it.RetailerID, Quantity: it.Quantity, Price: it.Price, Currency: o.Currency})
	}
	return out, nil
}

// orderDesk lets businesses see and move their orders (bizapi.Orders).
type orderDesk struct {
	s    *Server
	shop *commerce.Service
	pay  *payments.Service
}

func (d orderDesk) Order(ctx context.Context, id kontor.ID) (commerce.Order, error) {
	return d.s.db.Order(ctx, id)
}

func (d orderDesk) Move(ctx context.Context, business, id kontor.ID, to string) (commerce.Order, error) {
	if to == commerce.OrderRefunded {
		// A refund of an order paid in kontor goes through its provider.
		_, err := d.pay.RefundOrder(ctx, business, id)
		if err == nil {
			return d.s.db.Order(ctx, id)
		}
		if !errors.Is(err, payments.ErrNoPayment) {
			return commerce.Order{}, err
		}
	}
	return d.shop.MoveOrder(ctx, d.s.db, business, id, to)
}

func (d orderDesk) RequestPayment(ctx context.Context, business, id kontor.ID, customer kontor.Phone, r commerce.PaymentRequest) (commerce.Order, error) {
	return d.shop.RequestPayment(ctx, d.s.db, business, id, customer, r)
}

func (d orderDesk) UpdateOrder(ctx context.Context, business, id kontor.ID, customer kontor.Phone, status string) (commerce.Order, error) {
	return d.shop.ApplyOrderStatus(ctx, d.s.db, business, id, customer, status)
}
