package cli

import (
	"context"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/wire"
)

// pay pays an order the profile's person placed and prints the outcome:
// {"payment_id","order_id","status":"succeeded"|"pending"|"declined"|…,
// "reason"?,"amount","currency","card","provider","order_status"}.
func (cc *clientCmd) pay(ctx context.Context, args []string) error {
	fs := cc.flags("--profile DIR --order ID --card TESTCARD [--key K] [--wait D]")
	profile := cc.profileFlag()
	order := fs.String("order", "", "the order's id, as `kontor client order` printed it")
	card := fs.String("card", "", "the card: a sandbox test card such as 4242424242424242 (docs/commerce.md), or a Stripe PaymentMethod id (pm_…)")
	key := fs.String("key", "", "idempotency key: the same key again returns the first payment (default: kontor derives one per attempt)")
	wait := fs.Duration("wait", 0, "while the payment is pending, ask again until it is not or this long passed (0: print pending at once)")
	if err := cc.parse(args, false); err != nil {
		return err
	}
	if err := cc.need("profile", *profile, "order", *order, "card", *card); err != nil {
		return err
	}
	a, err := client.LoadAccount(*profile)
	if err != nil {
		return err
	}
	out, err := a.API(nil).PayOrder(ctx, *order, *card, *key)
	deadline := time.Now().Add(*wait)
	for err == nil && out.Status == wire.PaymentPending && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		// Paying again is idempotent: it returns the pending payment,
		// looked up at its provider.
		out, err = a.API(nil).PayOrder(ctx, *order, *card, *key)
	}
	if err != nil {
		return err
	}
	return cc.out.Encode(out)
}
