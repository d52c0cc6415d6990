package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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

// runFail runs a kontor command line that must fail, and returns its
// stderr.
func runFail(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var o, e bytes.Buffer
	code := cli.RunEnv(context.Background(), cli.Env{Args: args, Stdout: &o, Stderr: &e, Getenv: func(k string) string { return env[k] }})
	if code == 0 {
		t.Fatalf("kontor %s: exit 0, want a failure\n%s", strings.Join(args, " "), o.String())
	}
	return e.String()
}

// TestPricesRulesImport: kontor admin prices rules import adds a rule set
// that starts on a later day; rules show has it; the same date again, a
// day that has begun or a bad set is refused with a message and changes
// nothing; on PostgreSQL a second node shows it too within its reload.
func TestPricesRulesImport(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		env := map[string]string{"KONTOR_OPERATOR_TOKEN": s.Token}
		dir := t.TempDir()
		write := func(name, body string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		set := func(date, utility string) string {
			return `[{"effective":"` + date + `","label":"tiers","categories":{"marketing":{},"utility":{` + utility + `},` +
				`"authentication":{"tiers":[{"from":100001,"discount_bps":1500}]},"authentication-international":{},"service":{}}}]`
		}
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		good := write("good.json", set(tomorrow, `"free_in_window":true,"tiers":[{"from":1001,"discount_bps":1000},{"from":10001,"rates":{"IN":"0.001"}}]`))
		out := run(t, env, "admin", "--server", s.URL, "prices", "rules", "import", good)
		if !strings.Contains(out, `"added"`) || !strings.Contains(out, tomorrow) {
			t.Fatalf("import: %s", out)
		}
		type view struct {
			InForce struct {
				Effective  string `json:"effective"`
				Categories map[string]struct {
					Tiers []struct {
						From int64 `json:"from"`
					} `json:"tiers"`
				} `json:"categories"`
			} `json:"in_force"`
			Imported []struct {
				Effective string    `json:"effective"`
				Imported  time.Time `json:"imported"`
			} `json:"imported"`
			Source string `json:"source"`
		}
		show := func(url, token string) view {
			t.Helper()
			var v view
			o := run(t, map[string]string{"KONTOR_OPERATOR_TOKEN": token}, "admin", "--server", url, "prices", "rules", "show", "--at", time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly))
			if err := json.Unmarshal([]byte(o), &v); err != nil {
				t.Fatalf("%v: %s", err, o)
			}
			return v
		}
		v := show(s.URL, s.Token)
		if v.InForce.Effective != tomorrow || len(v.InForce.Categories["utility"].Tiers) != 2 || len(v.Imported) != 1 || !strings.Contains(v.Source, "imported") {
			t.Errorf("rules show after the import: %+v", v)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		for _, c := range []struct {
			name, file, problem string
		}{
			{"the same date", good, "a new set must start after it"},
			{"today", write("today.json", set(today, "")), "starts on a day that has begun"},
			{"unknown category", write("cat.json", `[{"effective":"2099-01-01","categories":{"promo":{}}}]`), `"promo" is not one of`},
			{"negative", write("neg.json", set("2099-01-01", `"monthly_free":-3`)), "monthly_free is negative"},
			{"tier on marketing", write("mkt.json", strings.Replace(set("2099-01-01", ""), `"marketing":{}`, `"marketing":{"tiers":[{"from":5,"discount_bps":5}]}`, 1)), "volume tiers are only for"},
			{"not JSON", write("bad.json", "effective=2099-01-01"), "not a JSON array"},
			{"no file", filepath.Join(dir, "missing.json"), "no such file"},
		} {
			if e := runFail(t, env, "admin", "--server", s.URL, "prices", "rules", "import", c.file); !strings.Contains(e, c.problem) {
				t.Errorf("import %s: stderr %q, want %q", c.name, e, c.problem)
			}
		}
		if v := show(s.URL, s.Token); len(v.Imported) != 1 || v.InForce.Effective != tomorrow {
			t.Errorf("refused imports changed the rules: %+v", v)
		}
		if e := runFail(t, env, "admin", "--server", s.URL, "prices", "rules", "import"); !strings.Contains(e, "give the JSON file") {
			t.Errorf("import without a file: %q", e)
		}
		if len(opts) == 0 {
			return // SQLite: one node
		}
		// Another node on the same database: started after the import, it
		// has the set; one started before picks it up within its reload.
		s2 := kontortest.Start(t, opts...)
		if v := show(s2.URL, s2.Token); v.InForce.Effective != tomorrow {
			t.Errorf("a node started after the import: %+v", v)
		}
		later := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
		run(t, env, "admin", "--server", s.URL, "prices", "rules", "import", write("later.json", set(later, "")))
		deadline := time.Now().Add(10 * time.Second)
		for {
			v := show(s2.URL, s2.Token)
			if len(v.Imported) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other node did not pick up the import: %+v", v)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
