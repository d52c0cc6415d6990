package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// pricesImport runs `kontor admin prices import FILE`: a new price sheet
// version. A refused sheet prints every problem (row, column, reason).
func pricesImport(ctx context.Context, env Env, ac *adminClient, out *json.Encoder, args []string) error {
	sub := flag.NewFlagSet("kontor admin prices import", flag.ContinueOnError)
	sub.SetOutput(env.Stderr)
	eff := sub.String("effective", "", "the day the sheet takes effect, e.g. 2026-12-01 (default: now)")
	label := sub.String("label", "", "a note on the sheet")
	pos, err := parseInterspersed(sub, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "kontor admin prices import: give the CSV file (header market,category,currency,price)")
		return errUsage
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	q := url.Values{"effective": {*eff}, "label": {*label}}
	status, body, err := ac.send(ctx, http.MethodPost, "/admin/v1/prices?"+q.Encode(), "text/csv", bytes.NewReader(b))
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return answerError(status, body)
	}
	if status != http.StatusOK {
		_ = out.Encode(m) // the problems, row by row
		return fmt.Errorf("the price sheet was refused")
	}
	return out.Encode(m)
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("import FILE --effective D"), and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// rulesImport adds rule sets at run time: kontor admin prices rules
// import FILE (a JSON array of sets as for --billing-rules, or one set).
func rulesImport(ctx context.Context, env Env, ac *adminClient, out *json.Encoder, args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.Stderr, "kontor admin prices rules import: give the JSON file of rule sets (as for --billing-rules, docs/billing.md)")
		return errUsage
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	status, body, err := ac.send(ctx, http.MethodPost, "/admin/v1/prices/rules", "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return answerError(status, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	return out.Encode(m)
}
