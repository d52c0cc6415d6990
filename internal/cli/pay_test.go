package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestClientPay: kontor client order, then kontor client pay with the
// sandbox's cards, as a script would: one JSON object per payment.
func TestClientPay(t *testing.T) {
	s := kontortest.Start(t, kontortest.WithConfig(func(c *config.Config) { c.SandboxDelay = 200 * time.Millisecond }))
	s.Shop(t, kontortest.ShopOptions{Products: []map[string]any{
		{"retailer_id": "rose", "name": "Rote Rose", "price": 299, "currency": "EUR", "inventory": 5}}})

	ann := filepath.Join(t.TempDir(), "ann")
	env := map[string]string{}
	run(t, env, "client", "register", "--server", s.URL, "--phone", "+4915100000001", "--profile", ann)
	order := lines(t, run(t, env, "client", "order", "--profile", ann, "--business", "+4930111111", "--item", "rose=2"))
	if len(order) != 1 || order[0]["status"] != "placed" {
		t.Fatalf("order: %v", order)
	}
	id := order[0]["order_id"].(string)
	pay := func(args ...string) map[string]any {
		t.Helper()
		out := lines(t, run(t, env, append([]string{"client", "pay", "--profile", ann, "--order", id}, args...)...))
		if len(out) != 1 {
			t.Fatalf("pay %v: %v", args, out)
		}
		return out[0]
	}
	if got := pay("--card", "4000000000000002"); got["status"] != "declined" || got["reason"] != "card_declined" || got["order_status"] != "pending" {
		t.Fatalf("declined: %v", got)
	}
	got := pay("--card", "4242424242424242")
	if got["status"] != "succeeded" || got["order_status"] != "paid" || got["amount"] != float64(598) || got["currency"] != "EUR" || got["card"] != "visa 4242" {
		t.Fatalf("succeeded: %v", got)
	}
	if again := pay("--card", "4242424242424242"); again["payment_id"] != got["payment_id"] {
		t.Fatalf("paid twice: %v then %v", got, again)
	}

	// Pending, then waited for.
	order = lines(t, run(t, env, "client", "order", "--profile", ann, "--business", "+4930111111", "--item", "rose=1"))
	id = order[0]["order_id"].(string)
	if got := pay("--card", "4000000000001000"); got["status"] != "pending" {
		t.Fatalf("pending: %v", got)
	}
	if got := pay("--card", "4000000000001000", "--wait", "30s"); got["status"] != "succeeded" || got["order_status"] != "paid" {
		t.Fatalf("pending, waited: %v", got)
	}

	// In the chat: /order, then /pay.
	var chatOut, chatErr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := strings.NewReader("/open +4930111111\n/catalog\n/add rose 1\n/order\n/pay 4000000000000002\n/pay 4242424242424242\n/pay 4242424242424242\n")
	if code := cli.RunEnv(ctx, cli.Env{Args: []string{"chat", "--profile", ann}, Stdin: in, Stdout: &chatOut, Stderr: &chatErr, Getenv: func(string) string { return "" }}); code != 0 {
		t.Fatalf("chat: exit %d %s", code, chatErr.String())
	}
	for _, want := range []string{"✔ business · Blumen Anna", "; /pay CARD to pay it", "declined with visa 0002: card_declined", "paid 2.99 EUR for order"} {
		if !strings.Contains(chatOut.String(), want) {
			t.Fatalf("the chat did not say %q:\n%s", want, chatOut.String())
		}
	}
	if strings.Count(chatOut.String(), "paid 2.99 EUR") != 2 {
		t.Fatalf("paying again:\n%s", chatOut.String())
	}

	// Bad input is a usage error or a clear error, exit non-zero.
	var stderr bytes.Buffer
	for _, args := range [][]string{
		{"client", "pay", "--profile", ann, "--order", id},
		{"client", "pay", "--profile", ann, "--order", "123", "--card", "4242424242424242"},
	} {
		stderr.Reset()
		code := cli.RunEnv(context.Background(), cli.Env{Args: args, Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(string) string { return "" }})
		if code == 0 || stderr.Len() == 0 {
			t.Fatalf("%v: exit %d, %q", args, code, stderr.String())
		}
	}
}
