package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// stockUsage lists the stock and sales commands for kontor admin's help.
const stockUsage = `  stock adjust --product ID --delta N --reason received|damaged|correction|returned [--note T] [--by NAME] [--key K]
                 change a product's stock (negative takes away; never below what is available)
  stock show --product ID                          available, reserved, low-stock threshold
  stock history --product ID [--limit N] [--before SEQ]   the product's stock moves, newest first
  stock threshold --product ID (--set N | --clear) the low-stock alert threshold
  stock list --catalog ID [--low] [--limit N] [--after PRODUCT_ID]
                 stock levels of a catalog (--low: at or below their threshold)
  sales report --business ID --from YYYY-MM-DD --to YYYY-MM-DD [--tz ZONE] [--by day|product] [--csv]
                 revenue per currency of paid orders (refunds subtracted); --csv prints CSV
`

// adminStock runs the stock and sales commands; handled is false for other
// commands.
func adminStock(ctx context.Context, env Env, ac *adminClient, out *json.Encoder, args []string) (handled bool, err error) {
	if len(args) < 2 || (args[0] != "stock" && args[0] != "sales") {
		return false, nil
	}
	name := "kontor admin " + args[0] + " " + args[1]
	sub := flag.NewFlagSet(name, flag.ContinueOnError)
	sub.SetOutput(env.Stderr)
	need := func(flags ...*string) error {
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
		for _, f := range flags {
			if strings.TrimSpace(*f) == "" {
				fmt.Fprintf(env.Stderr, "%s: missing a required flag (see -h)\n", name)
				return errUsage
			}
		}
		return nil
	}
	var res map[string]any
	switch args[0] + " " + args[1] {
	case "stock adjust":
		product := sub.String("product", "", "the product id")
		delta := sub.Int("delta", 0, "units to add (negative: to take away)")
		reason := sub.String("reason", "", "received, damaged, correction or returned")
		note := sub.String("note", "", "a note kept with the adjustment")
		by := sub.String("by", "", "who made it")
		key := sub.String("key", "", "an idempotency key: run the command again with the same key and it is not applied twice")
		if err := need(product, reason); err != nil {
			return true, err
		}
		err = ac.do(ctx, http.MethodPost, "/admin/v1/products/"+url.PathEscape(*product)+"/stock_adjustments",
			map[string]any{"delta": *delta, "reason": *reason, "note": *note, "by": *by, "idempotency_key": *key}, &res)
	case "stock show":
		product := sub.String("product", "", "the product id")
		if err := need(product); err != nil {
			return true, err
		}
		err = ac.do(ctx, http.MethodGet, "/admin/v1/products/"+url.PathEscape(*product)+"/stock", nil, &res)
	case "stock history":
		product := sub.String("product", "", "the product id")
		limit := sub.Int("limit", 25, "moves to show (at most 1000)")
		before := sub.Int64("before", 0, "show the moves before this seq (the next page)")
		if err := need(product); err != nil {
			return true, err
		}
		q := url.Values{"limit": {strconv.Itoa(*limit)}, "before": {strconv.FormatInt(*before, 10)}}
		err = ac.do(ctx, http.MethodGet, "/admin/v1/products/"+url.PathEscape(*product)+"/stock_adjustments?"+q.Encode(), nil, &res)
	case "stock threshold":
		product := sub.String("product", "", "the product id")
		set := sub.String("set", "", "alert when the available stock falls to this many units or below")
		clearIt := sub.Bool("clear", false, "no low-stock alert for this product")
		if err := need(product); err != nil {
			return true, err
		}
		if (*set == "") == !*clearIt {
			fmt.Fprintf(env.Stderr, "%s: give --set N or --clear\n", name)
			return true, errUsage
		}
		var th any // null clears
		if *set != "" {
			n, err := strconv.Atoi(*set)
			if err != nil {
				fmt.Fprintf(env.Stderr, "%s: --set %q is not a whole number\n", name, *set)
				return true, errUsage
			}
			th = n
		}
		err = ac.do(ctx, http.MethodPost, "/admin/v1/products/"+url.PathEscape(*product)+"/stock", map[string]any{"low_stock_threshold": th}, &res)
	case "stock list":
		catalog := sub.String("catalog", "", "the catalog id")
		low := sub.Bool("low", false, "only products at or below their low-stock threshold")
		limit := sub.Int("limit", 100, "products to show (at most 1000)")
		after := sub.String("after", "0", "show the products after this product id (the next page)")
		if err := need(catalog); err != nil {
			return true, err
		}
		q := url.Values{"low": {strconv.FormatBool(*low)}, "limit": {strconv.Itoa(*limit)}, "after": {*after}}
		err = ac.do(ctx, http.MethodGet, "/admin/v1/catalogs/"+url.PathEscape(*catalog)+"/stock?"+q.Encode(), nil, &res)
	case "sales report":
		biz := sub.String("business", "", "the business (waba id)")
		from := sub.String("from", "", "the first day, YYYY-MM-DD")
		to := sub.String("to", "", "the last day, YYYY-MM-DD (included)")
		tz := sub.String("tz", "UTC", "the time zone the days are in (IANA name, e.g. Europe/Berlin)")
		by := sub.String("by", "day", "day or product")
		asCSV := sub.Bool("csv", false, "print CSV (amounts as decimals) instead of JSON")
		if err := need(biz, from, to); err != nil {
			return true, err
		}
		q := url.Values{"since": {*from}, "until": {*to}, "time_zone": {*tz}, "group_by": {*by}}
		path := "/admin/v1/businesses/" + url.PathEscape(*biz) + "/sales_report?"
		if *asCSV {
			q.Set("format", "csv")
			resp, err := ac.raw(ctx, http.MethodGet, path+q.Encode(), nil, "")
			if err != nil {
				return true, err
			}
			defer resp.Body.Close()
			_, err = io.Copy(env.Stdout, resp.Body)
			return true, err
		}
		err = ac.do(ctx, http.MethodGet, path+q.Encode(), nil, &res)
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return true, out.Encode(res)
}
