package cli

import (
	"context"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/wire"
)

// pay pays the last order placed in this session (or the order named)
// with a card: "/pay CARD [ORDER]".
func (ui *chatUI) pay(ctx context.Context, arg string) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 {
		ui.info("/pay CARD [ORDER]: the sandbox's test cards are in docs/commerce.md (4242424242424242 succeeds)")
		return
	}
	order := ui.ordered
	if len(f) == 2 {
		order = f[1]
	}
	if order == "" {
		ui.info("no order to pay: /order first, or /pay CARD ORDER")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := ui.c.API().PayOrder(cctx, order, f[0], "")
	if err != nil {
		ui.info("not paid: %s", kontor.MessageOf(err))
		return
	}
	amount := commerce.FormatPrice(out.Amount, out.Currency)
	switch out.Status {
	case wire.PaymentSucceeded:
		ui.info("paid %s for order %s with %s", amount, out.OrderID, out.Card)
	case wire.PaymentPending:
		ui.info("the payment of %s is pending; /pay again to see how it ended", amount)
	case wire.PaymentDeclined, wire.PaymentCanceled:
		ui.info("%s with %s: %s; the order keeps its items until it expires, /pay with another card", out.Status, out.Card, out.Reason)
	default:
		ui.info("the payment of order %s is %s", out.OrderID, out.Status)
	}
}
