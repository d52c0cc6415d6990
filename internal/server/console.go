package server

import (
	"context"
	"net/http"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/web/console"
)

// mountConsoleCommerce adds the console's orders, billing and product picture pages.
func (s *Server) mountConsoleCommerce(con *console.Console, mux *http.ServeMux, shop *commerce.Service, invoices *billing.Invoices) {
	con.MountOrders(mux, console.Orders{Desk: orderDesk{s: s, shop: shop, pay: s.pay}, Data: s.db, Messages: consoleMessenger{s}})
	con.MountBilling(mux, console.Billing{Usage: s.db, Credit: s.credit, Invoices: invoices, Exponents: commerce.Exponent})
	con.MountImages(mux, s.db) // product pictures kept by the platform, public at /catalog-images/
}

// consoleMessenger sends the console's messages through the number's
// hosted endpoint (on this node or the one that runs it), as
// POST /{phone-number-id}/messages does.
type consoleMessenger struct{ s *Server }

func (m consoleMessenger) SendMessage(ctx context.Context, number kontor.ID, body []byte) (any, *cloudapi.Error) {
	e, ok := m.s.hosted.Find(ctx, number)
	if !ok {
		return nil, cloudapi.Errorf(cloudapi.CodeAccessDenied, "The endpoint of phone number %s runs at the business (self-hosted): send through it, not the platform.", number)
	}
	return e.Send(ctx, body)
}
