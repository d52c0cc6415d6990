package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
	if err := sub.Parse(args); err != nil {
		return errUsage
	}
	if sub.NArg() != 1 {
		fmt.Fprintln(env.Stderr, "kontor admin prices import: give the CSV file (header market,category,currency,price)")
		return errUsage
	}
	b, err := os.ReadFile(sub.Arg(0))
	if err != nil {
		return err
	}
	q := url.Values{"effective": {*eff}, "label": {*label}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(ac.server, "/")+"/admin/v1/prices?"+q.Encode(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ac.token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := ac.http.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the server: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("server answered %s", resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		_ = out.Encode(m) // the problems, row by row
		return fmt.Errorf("the price sheet was refused")
	}
	return out.Encode(m)
}
