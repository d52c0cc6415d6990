package console_test

import (
	"context"
	"path/filepath"
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
	runScript(t, ctx, node, dir, "catalog.mjs", 50, "BASE="+s.URL, "EMAIL=berta@blumen.example", "PASSWORD="+pw, "CHROMIUM="+chrome)
}
