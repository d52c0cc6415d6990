package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// billingUsage is the help of `kontor admin billing`.
const billingUsage = `  billing invoice (--business ID | --partner ID) --month YYYY-MM [--finalize] [--csv]
                 a month's invoice as JSON (currency, total in minor units, lines with
                 market, category, count, unit_price, amount); --finalize makes it final
                 (then it never changes); --csv prints it as CSV
  billing credit --business ID [--mode prepaid|credit_line --currency USD [--limit 100.00]]
                 show, or set up, a business's credit (paid messages stop when it is spent)
  billing topup --business ID --amount 50.00 [--reference R] [--note N]
                 money paid in (positive); --reference makes a repeat add nothing
  billing adjust --business ID --amount -1.25 [--month YYYY-MM] [--currency C] [--note N] [--reference R]
                 a correction: positive charges, negative credits; with --month on that
                 month's draft (a final month is refused), else on the open invoice
  billing fee --business ID [--bps 150 --fixed 0.30 --currency EUR]
                 show, or set, the commerce fee per successful payment
  billing markup --partner ID [--bps 1000]        show, or set, a partner's markup (basis points)`

// adminBilling runs `kontor admin billing …`.
func adminBilling(ctx context.Context, env Env, ac *adminClient, out *json.Encoder, args []string) error {
	if len(args) < 2 {
		fmt.Fprintln(env.Stderr, "Usage: kontor admin billing COMMAND [flags]\n\n"+billingUsage)
		return errUsage
	}
	name := "kontor admin billing " + args[1]
	sub := flag.NewFlagSet(name, flag.ContinueOnError)
	sub.SetOutput(env.Stderr)
	biz := sub.String("business", "", "the business (waba id)")
	partner := sub.String("partner", "", "the partner id")
	month := sub.String("month", "", "the month, YYYY-MM")
	finalize := sub.Bool("finalize", false, "make the invoice final")
	csv := sub.Bool("csv", false, "print the invoice as CSV")
	mode := sub.String("mode", "", "prepaid or credit_line")
	limit := sub.String("limit", "", "a credit line's limit, a decimal of the currency")
	currency := sub.String("currency", "", "ISO 4217 currency")
	amount := sub.String("amount", "", "a decimal of the currency")
	reference := sub.String("reference", "", "an idempotency reference")
	note := sub.String("note", "", "a note")
	bps := sub.String("bps", "", "basis points (150 = 1.5 %)")
	fixed := sub.String("fixed", "", "a fixed amount per payment, a decimal of the currency")
	if err := sub.Parse(args[2:]); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if sub.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q\n", name, sub.Arg(0))
		return errUsage
	}
	need := func(v *string, flag string) bool {
		if *v == "" {
			fmt.Fprintf(env.Stderr, "%s: give --%s\n", name, flag)
			return false
		}
		return true
	}
	var res json.RawMessage // printed as the server wrote it: amounts stay integers
	var err error
	switch args[1] {
	case "invoice":
		if (*biz == "") == (*partner == "") {
			fmt.Fprintf(env.Stderr, "%s: give --business ID or --partner ID\n", name)
			return errUsage
		}
		if !need(month, "month") {
			return errUsage
		}
		path := "/admin/v1/businesses/" + url.PathEscape(*biz) + "/invoices/" + url.PathEscape(*month)
		if *partner != "" {
			path = "/admin/v1/partners/" + url.PathEscape(*partner) + "/invoices/" + url.PathEscape(*month)
		}
		method := http.MethodGet
		if *finalize {
			method, path = http.MethodPost, path+"/finalize"
		}
		if *csv {
			path += "?format=csv"
			status, body, err := ac.send(ctx, method, path, "application/json", nil)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return answerError(status, body)
			}
			_, err = env.Stdout.Write(body)
			return err
		}
		err = ac.do(ctx, method, path, nil, &res)
	case "credit":
		if !need(biz, "business") {
			return errUsage
		}
		path := "/admin/v1/businesses/" + url.PathEscape(*biz) + "/credit"
		if *mode == "" {
			err = ac.do(ctx, http.MethodGet, path, nil, &res)
		} else {
			err = ac.do(ctx, http.MethodPut, path, map[string]any{"mode": *mode, "limit": *limit, "currency": *currency}, &res)
		}
	case "topup":
		if !need(biz, "business") || !need(amount, "amount") {
			return errUsage
		}
		err = ac.do(ctx, http.MethodPost, "/admin/v1/businesses/"+url.PathEscape(*biz)+"/topups",
			map[string]any{"amount": *amount, "reference": *reference, "note": *note}, &res)
	case "adjust":
		if !need(biz, "business") || !need(amount, "amount") {
			return errUsage
		}
		path := "/admin/v1/businesses/" + url.PathEscape(*biz) + "/adjustments"
		if *month != "" {
			path = "/admin/v1/businesses/" + url.PathEscape(*biz) + "/invoices/" + url.PathEscape(*month) + "/adjustments"
		}
		err = ac.do(ctx, http.MethodPost, path, map[string]any{"amount": *amount, "currency": *currency, "note": *note, "reference": *reference}, &res)
	case "fee":
		if !need(biz, "business") {
			return errUsage
		}
		path := "/admin/v1/businesses/" + url.PathEscape(*biz) + "/commerce-fee"
		if *bps == "" && *fixed == "" {
			err = ac.do(ctx, http.MethodGet, path, nil, &res)
			break
		}
		n, perr := strconv.ParseInt(*bps, 10, 64)
		if *bps == "" {
			n, perr = 0, nil
		}
		if perr != nil {
			fmt.Fprintf(env.Stderr, "%s: --bps is a whole number of basis points\n", name)
			return errUsage
		}
		err = ac.do(ctx, http.MethodPut, path, map[string]any{"bps": n, "fixed": *fixed, "currency": *currency}, &res)
	case "markup":
		if !need(partner, "partner") {
			return errUsage
		}
		path := "/admin/v1/partners/" + url.PathEscape(*partner) + "/markup"
		if *bps == "" {
			err = ac.do(ctx, http.MethodGet, path, nil, &res)
			break
		}
		n, perr := strconv.ParseInt(*bps, 10, 64)
		if perr != nil {
			fmt.Fprintf(env.Stderr, "%s: --bps is a whole number of basis points\n", name)
			return errUsage
		}
		err = ac.do(ctx, http.MethodPut, path, map[string]any{"bps": n}, &res)
	default:
		fmt.Fprintf(env.Stderr, "kontor admin billing: unknown command %q\n\n%s\n", args[1], billingUsage)
		return errUsage
	}
	if err != nil {
		return err
	}
	return out.Encode(res)
}
