package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestCommerceFeeOnInvoice: the operator sets a business's commerce fee
// with kontor admin billing fee; a person pays an order in the chat; the
// fee is charged once, however often the payment is announced or paid
// again, and shows on the month's invoice as an exact line.
func TestCommerceFeeOnInvoice(t *testing.T) {
	s := kontortest.Start(t)
	biz := s.Shop(t, kontortest.ShopOptions{Products: []map[string]any{
		{"retailer_id": "rose", "name": "Rote Rose", "price": 1999, "currency": "EUR", "inventory": 5}}})

	env := map[string]string{"KONTOR_OPERATOR_TOKEN": s.Token}
	admin := func(args ...string) string {
		t.Helper()
		return run(t, env, append([]string{"admin", "--server", s.URL}, args...)...)
	}
	// 1.5 % plus 0.30 EUR per successful payment.
	admin("billing", "fee", "--business", biz.WABA, "--bps", "150", "--fixed", "0.30", "--currency", "EUR")

	ann := filepath.Join(t.TempDir(), "ann")
	run(t, env, "client", "register", "--server", s.URL, "--phone", "+4915100000001", "--profile", ann)
	order := lines(t, run(t, env, "client", "order", "--profile", ann, "--business", "+4930111111", "--item", "rose=3"))
	if len(order) != 1 || order[0]["status"] != "placed" {
		t.Fatalf("order: %v", order)
	}
	id := order[0]["order_id"].(string)
	for i := 0; i < 2; i++ { // paying again returns the one payment
		got := lines(t, run(t, env, "client", "pay", "--profile", ann, "--order", id, "--card", "4242424242424242"))
		if len(got) != 1 || got[0]["status"] != "succeeded" || got[0]["amount"] != float64(5997) {
			t.Fatalf("pay: %v", got)
		}
	}

	// 5997 × 1.5 % = 89.955 → 90 (half to even on the percentage), + 30.
	const fee = 120
	month := time.Now().UTC().Format("2006-01")
	deadline := time.Now().Add(20 * time.Second)
	var inv struct {
		Currency string `json:"currency"`
		Total    int64  `json:"total"`
		Lines    []struct {
			Kind   string `json:"kind"`
			Count  int64  `json:"count"`
			Amount int64  `json:"amount"`
		} `json:"lines"`
	}
	for {
		out := admin("billing", "invoice", "--business", biz.WABA, "--month", month)
		inv.Lines = nil
		if err := json.Unmarshal([]byte(out), &inv); err != nil {
			t.Fatalf("invoice: %v\n%s", err, out)
		}
		if len(inv.Lines) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the fee is charged once the payment is announced
	}
	if inv.Currency != "EUR" || inv.Total != fee || len(inv.Lines) != 1 || inv.Lines[0].Count != 1 || inv.Lines[0].Amount != fee || inv.Lines[0].Kind != "commerce" {
		t.Fatalf("invoice: %+v", inv)
	}

	// A negative percentage is refused, and the fee stays as it was.
	var stderr bytes.Buffer
	code := cli.RunEnv(context.Background(), cli.Env{Args: []string{"admin", "--server", s.URL, "billing", "fee", "--business", biz.WABA, "--bps", "-5", "--fixed", "0.30", "--currency", "EUR"},
		Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
	if code == 0 || !strings.Contains(stderr.String(), "basis points") {
		t.Fatalf("a negative fee: exit %d, %q", code, stderr.String())
	}
	if out := admin("billing", "fee", "--business", biz.WABA); !strings.Contains(out, "150") {
		t.Fatalf("the fee after a refused change: %s", out)
	}
}
