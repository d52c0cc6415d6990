package storetest

import (
	"slices"
	"testing"

	"github.com/kontor-chat/kontor/internal/commerce"
)

// testProductSearch: a page of products can be narrowed to those that
// have, for each word searched, a word of their name or retailer id that
// begins with it (case ignored; %, _ and the like only separate words), or
// to one item group's variants, paged both ways; the low-stock list holds
// the products at or below their threshold only.
func testProductSearch(t *testing.T, e *env) {
	cat, ps := e.shop(e.ids.Next(), "EUR", 500, 1, 2, 3, 4, 5, 6)
	names := []string{"Red Tulip", "red rose", "Tulip 50%", "Daisy", "white_tulip", "Tulipwhite"}
	for i := range ps {
		ps[i].Name = names[i]
		if i < 3 {
			ps[i].ItemGroupID = "flowers"
		}
		if err := e.db.UpdateProduct(e.ctx, ps[i], false); err != nil {
			t.Fatal(err)
		}
	}
	e.shop(e.ids.Next(), "EUR", 500, 1) // another catalog's product is never found
	find := func(page commerce.Page) []string {
		t.Helper()
		if page.Limit == 0 {
			page.Limit = 10
		}
		got, err := e.db.Products(e.ctx, cat.ID, page)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range got {
			out = append(out, p.Name)
		}
		return out
	}
	for _, tc := range []struct {
		page commerce.Page
		want []string
	}{
		{commerce.Page{Query: "tulip"}, []string{"Red Tulip", "Tulip 50%", "white_tulip", "Tulipwhite"}},
		{commerce.Page{Query: "RED"}, []string{"Red Tulip", "red rose"}},
		{commerce.Page{Query: "tul red"}, []string{"Red Tulip"}},
		{commerce.Page{Query: "r t"}, []string{"Red Tulip"}},
		{commerce.Page{Query: "50%"}, []string{"Tulip 50%"}},
		{commerce.Page{Query: "%"}, nil}, // no word: % is no wildcard
		{commerce.Page{Query: "_"}, nil},
		{commerce.Page{Query: "whi_tul"}, []string{"white_tulip"}},
		{commerce.Page{Query: "ulip"}, nil},             // not the beginning of a word
		{commerce.Page{Query: "p3"}, []string{"Daisy"}}, // the retailer id
		{commerce.Page{Query: "nothing"}, nil},
		{commerce.Page{Query: "tulip nothing"}, nil},
		{commerce.Page{Query: "product"}, nil}, // only the other catalog has it
		{commerce.Page{Query: "tulip", Limit: 2}, []string{"Red Tulip", "Tulip 50%"}},
		{commerce.Page{Query: "tulip", After: ps[2].ID}, []string{"white_tulip", "Tulipwhite"}},
		{commerce.Page{Query: "tulip", Before: ps[5].ID, Limit: 2}, []string{"Tulip 50%", "white_tulip"}},
		{commerce.Page{Query: "tulip", Before: ps[1].ID}, []string{"Red Tulip"}},
		{commerce.Page{Group: "flowers"}, []string{"Red Tulip", "red rose", "Tulip 50%"}},
		{commerce.Page{Group: "flowers", Query: "tulip"}, []string{"Red Tulip", "Tulip 50%"}},
		{commerce.Page{Group: "none"}, nil},
	} {
		if got := find(tc.page); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: got %q, want %q", tc.page, got, tc.want)
		}
	}

	// A page of levels says what open orders hold of each.
	if o := e.order(cat, t0, 1, ps[0], ps[2]); o.ID == 0 {
		t.Fatal("the order was refused")
	}
	all, err := e.db.StockLevels(e.ctx, cat.ID, false, 0, 10)
	if err != nil || len(all) != 6 {
		t.Fatalf("levels: %v %v", all, err)
	}
	for i, want := range []int{1, 0, 1, 0, 0, 0} {
		if all[i].Reserved != want || all[i].Product != ps[i].ID {
			t.Errorf("level %d: %+v, want %d reserved", i, all[i], want)
		}
	}

	// Low stock: thresholds on three products, two of them reached.
	for i, th := range map[int]int{0: 1, 1: 1, 4: 5} {
		if err := e.db.SetLowStock(e.ctx, ps[i].ID, th); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := e.db.StockLevels(e.ctx, cat.ID, true, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].Product != ps[0].ID || ls[1].Product != ps[4].ID || !ls[0].Low() || !ls[1].Low() {
		t.Fatalf("low stock: %+v", ls)
	}
	if ls, err = e.db.StockLevels(e.ctx, cat.ID, true, ps[0].ID, 10); err != nil || len(ls) != 1 || ls[0].Product != ps[4].ID {
		t.Fatalf("low stock after the first: %+v %v", ls, err)
	}
}
