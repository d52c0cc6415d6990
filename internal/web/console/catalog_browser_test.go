package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestCatalogBrowser drives the catalog and inventory pages in Chromium
// (test/console-browser/catalog.mjs) at 1280 × 900 and 390 × 844: a product
// form with a problem named at its field and then saved, a stock
// adjustment, a threshold and its alert, a feed uploaded with its progress
// page and report, a search; every control labelled and no page wider than
// the screen, no script, CSP or resource errors. Needs what TestBrowser
// needs; KONTOR_SHOTS=dir keeps screenshots.
func TestCatalogBrowser(t *testing.T) {
	node, chrome := needBrowser(t)
	dir, err := filepath.Abs("../../../test/console-browser")
	if err != nil {
		t.Fatal(err)
	}
	npmInstall(t, dir)

	s := kontortest.Start(t)
	shop := s.Shop(t, kontortest.ShopOptions{Name: "Blumen Berta", Phone: "+4930123456", Products: []map[string]any{
		{"retailer_id": "tulip-red", "name": "Red tulip with a rather long name that has to wrap on a phone", "price": 250, "currency": "EUR", "inventory": 40}}})
	const pw = "tulips and roses in spring"
	consoleUser(t, s, shop.WABA, "berta@blumen.example", "owner", pw)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "catalog.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE="+s.URL, "EMAIL=berta@blumen.example", "PASSWORD="+pw, "CHROMIUM="+chrome, "SHOTS="+os.Getenv("KONTOR_SHOTS"))
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, checks := false, 0
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Step   string `json:"step"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Logf("catalog.mjs: %s", sc.Text())
			continue
		}
		if !l.OK {
			t.Errorf("browser: %s: %s", l.Step, l.Detail)
			continue
		}
		checks++
		done = done || l.Step == "done"
	}
	if err := cmd.Wait(); err != nil || !done {
		t.Fatalf("catalog.mjs ended (%v) after %d checks without finishing\n%s", err, checks, stderr.String())
	}
	if checks < 50 {
		t.Fatalf("only %d checks ran", checks)
	}
}
