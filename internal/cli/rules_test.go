package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestPricesRulesShow: kontor admin prices rules show prints the billing
// rules in force at a date; bad usage exits non-zero with a message.
func TestPricesRulesShow(t *testing.T) {
	s := kontortest.Start(t)
	env := map[string]string{"KONTOR_OPERATOR_TOKEN": s.Token}
	var v struct {
		At      time.Time `json:"at"`
		InForce struct {
			Effective string `json:"effective"`
		} `json:"in_force"`
		Shipped []struct {
			Effective string `json:"effective"`
		} `json:"shipped"`
	}
	out := run(t, env, "admin", "--server", s.URL, "prices", "rules", "show", "--at", "2027-01-01")
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if v.InForce.Effective != "2025-07-01" || !v.At.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || len(v.Shipped) != 2 {
		t.Errorf("rules show: %s", out)
	}
	for _, args := range [][]string{{"prices", "rules"}, {"prices", "rules", "list"}, {"prices", "rules", "show", "extra"}, {"prices", "rules", "show", "--at", "soon"}} {
		var o, e bytes.Buffer
		code := cli.RunEnv(context.Background(), cli.Env{Args: append([]string{"admin", "--server", s.URL}, args...), Stdout: &o, Stderr: &e,
			Getenv: func(k string) string { return env[k] }})
		if code == 0 || e.Len() == 0 {
			t.Errorf("kontor admin %s: exit %d, stderr %q", strings.Join(args, " "), code, e.String())
		}
	}
}
