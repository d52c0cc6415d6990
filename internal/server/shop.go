package server

import (
	"context"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
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
		price := p.Price
		if p.SalePrice > 0 {
			price = p.SalePrice
		}
		out.Products = append(out.Products, wire.ShopProduct{ID: p.ID.String(), RetailerID: p.RetailerID, Name: p.Name, Description: p.Description,
			Price: p.Price, SalePrice: p.SalePrice, Currency: p.Currency, PriceText: commerce.FormatPrice(price, p.Currency),
			Availability: p.Availability, ImageURL: p.ImageURL, URL: p.URL})
	}
	return out, nil
}
