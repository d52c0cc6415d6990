package payments

import "strings"

// TestCard is a card number the sandbox knows, with what happens when it
// pays. The numbers are Stripe's test cards where Stripe has one for the
// case, so the same number behaves alike with both providers.
type TestCard struct {
	Number  string
	Brand   string
	Outcome State  // Succeeded, Declined, or Pending (then Then)
	Then    State  // for Pending: what it becomes after the sandbox's delay
	Reason  string // for declines: the decline code, as Stripe names it
	Stripe  string // the Stripe test PaymentMethod for this case
	Meaning string // for the documentation
}

// TestCards are the sandbox's cards (docs/commerce.md lists them).
var TestCards = []TestCard{
	{Number: "4242424242424242", Brand: "visa", Outcome: Succeeded, Stripe: "pm_card_visa", Meaning: "succeeds"},
	{Number: "5555555555554444", Brand: "mastercard", Outcome: Succeeded, Stripe: "pm_card_mastercard", Meaning: "succeeds"},
	{Number: "4000000000000002", Brand: "visa", Outcome: Declined, Reason: "card_declined", Stripe: "pm_card_chargeDeclined", Meaning: "declined (generic decline)"},
	{Number: "4000000000009995", Brand: "visa", Outcome: Declined, Reason: "insufficient_funds", Stripe: "pm_card_chargeDeclinedInsufficientFunds", Meaning: "declined: insufficient funds"},
	{Number: "4000000000000069", Brand: "visa", Outcome: Declined, Reason: "expired_card", Stripe: "pm_card_chargeDeclinedExpiredCard", Meaning: "declined: expired card"},
	{Number: "4000000000001000", Brand: "visa", Outcome: Pending, Then: Succeeded, Meaning: "pending, then succeeds after the sandbox delay"},
	{Number: "4000000000001018", Brand: "visa", Outcome: Pending, Then: Declined, Reason: "card_declined", Meaning: "pending, then declined after the sandbox delay"},
}

// cardNumber strips spaces and dashes from a card number and checks that
// it is 12 to 19 digits with a valid Luhn check digit.
func cardNumber(s string) (string, bool) {
	n := strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(n) < 12 || len(n) > 19 {
		return "", false
	}
	sum := 0
	for i := len(n) - 1; i >= 0; i-- {
		c := n[i]
		if c < '0' || c > '9' {
			return "", false
		}
		d := int(c - '0')
		if (len(n)-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return n, sum%10 == 0
}

// testCard finds a test card by number.
func testCard(number string) (TestCard, bool) {
	for _, c := range TestCards {
		if c.Number == number {
			return c, true
		}
	}
	return TestCard{}, false
}
