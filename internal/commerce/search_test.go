package commerce

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSearchWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Red Tulip", []string{"red", "tulip"}},
		{"Crème Brûlée", []string{"creme", "brulee"}},
		{"STRASSE straße Ærø", []string{"strasse", "strasse", "aero"}},
		{"Łódź Đakovo", []string{"lodz", "dakovo"}},
		{"white_tulip 50% sku-000123", []string{"white", "tulip", "50", "sku", "000123"}},
		{"ＦＵＬＬ width", []string{"full", "width"}}, // compatibility forms
		{"Ἀθῆναι", []string{"αθηναι"}},
		{"日本茶 tea", []string{"日本茶", "tea"}},
		{"%_-.", nil},
		{"", nil},
		{"a\x00b\xffc", []string{"a", "b", "c"}},
	} {
		if got := SearchWords(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("SearchWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSearchTokens(t *testing.T) {
	got := SearchTokens("Red rose", "RR-1")
	want := []string{"1", "r", "re", "red", "ro", "ros", "rose", "rr"}
	if !slices.Equal(got, want) {
		t.Errorf("tokens %q, want %q", got, want)
	}
	long := strings.Repeat("ä", 30)
	toks := SearchTokens(long, "")
	if len(toks) != MaxWordIndexed || toks[len(toks)-1] != strings.Repeat("a", MaxWordIndexed) {
		t.Errorf("a long word: %d tokens, last %q", len(toks), toks[len(toks)-1])
	}
	if q := SearchQuery(long + " x"); !slices.Equal(q, []string{strings.Repeat("a", MaxWordIndexed), "x"}) {
		t.Errorf("a long word searched: %q", q)
	}
	for _, tc := range []struct {
		name, rid, q string
		found        bool
	}{
		{"Red Tulip", "p1", "tul red", true},
		{"Red Tulip", "p1", "TULIPS", false},
		{"Red Tulip", "p1", "ulip", false},
		{"Red Tulip", "p1", "P1", true},
		{"Crème brûlée", "x", "CRÈ BRU", true},
		{"Crème brûlée", "x", "%", false},
		{"Tulip 50%", "x", "50%", true},
	} {
		if got := MatchesSearch(tc.name, tc.rid, SearchQuery(tc.q)); got != tc.found {
			t.Errorf("%q %q searched %q: %v", tc.name, tc.rid, tc.q, got)
		}
		toks := SearchTokens(tc.name, tc.rid)
		inIndex := len(SearchQuery(tc.q)) > 0
		for _, w := range SearchQuery(tc.q) {
			_, ok := slices.BinarySearch(toks, w)
			inIndex = inIndex && ok
		}
		if inIndex != tc.found {
			t.Errorf("%q %q searched %q: the index finds it: %v", tc.name, tc.rid, tc.q, inIndex)
		}
	}
}

func TestIndexTokens(t *testing.T) {
	if ShortPrefix != 2 {
		t.Skipf("the cases assume a ShortPrefix of 2, not %d", ShortPrefix)
	}
	for _, tc := range []struct {
		name, rid string
		want      []string
	}{
		{"Red rose", "RR-1", []string{"1", "r", "re", "red", "ro", "rose", "rr"}},
		{"Product 12345", "sku-12345", []string{"1", "12", "12345", "p", "pr", "product", "s", "sk", "sku"}},
		{"Ἀθῆναι", "", []string{"α", "αθ", "αθηναι"}},
		{strings.Repeat("ä", 30), "", []string{"a", "aa", strings.Repeat("a", MaxWordIndexed)}},
		{"-", "", nil},
	} {
		if got := IndexTokens(tc.name, tc.rid); !slices.Equal(got, tc.want) {
			t.Errorf("IndexTokens(%q, %q) = %q, want %q", tc.name, tc.rid, got, tc.want)
		}
	}
}

// FuzzSearchTokens: whatever a name or retailer id holds, its tokens are
// valid UTF-8, not empty, at most MaxWordIndexed letters, sorted and
// distinct, and include every beginning of every word of a search for the
// name or the id itself, so a product is found by its own words.
func FuzzSearchTokens(f *testing.F) {
	for _, s := range []string{"Red Tulip", "Crème Brûlée", "sku-000123", "Straße", "ＦＵＬＬ", "\xff\x00", "İstanbul", "ǅ", "ﬁne", strings.Repeat("é", 40)} {
		f.Add(s, "p1")
	}
	f.Fuzz(func(t *testing.T, name, rid string) {
		toks := SearchTokens(name, rid)
		if !slices.IsSorted(toks) || len(slices.Compact(slices.Clone(toks))) != len(toks) {
			t.Fatalf("tokens not sorted and distinct: %q", toks)
		}
		for _, tok := range toks {
			if tok == "" || !utf8.ValidString(tok) || utf8.RuneCountInString(tok) > MaxWordIndexed || strings.ContainsRune(tok, 0) {
				t.Fatalf("bad token %q of %q %q", tok, name, rid)
			}
		}
		for _, q := range []string{name, rid, name + " " + rid} {
			words := SearchQuery(q)
			for _, w := range words {
				for i := range w {
					if i == 0 {
						continue
					}
					if _, ok := slices.BinarySearch(toks, w[:i]); !ok {
						t.Fatalf("%q searched %q: the beginning %q of %q is not in %q", name, q, w[:i], w, toks)
					}
				}
				if _, ok := slices.BinarySearch(toks, w); !ok {
					t.Fatalf("%q searched %q: %q is not in %q", name, q, w, toks)
				}
			}
			if len(words) > 0 && !MatchesSearch(name, rid, words) {
				t.Fatalf("%q %q does not match a search of %q", name, rid, q)
			}
		}
	})
}

// FuzzIndexTokens: the product index's tokens are valid, sorted and
// distinct; a token longer than ShortPrefix is a whole word (so the words
// a longer search word begins are the index's tokens that begin with it);
// every word has its first ShortPrefix beginnings and itself.
func FuzzIndexTokens(f *testing.F) {
	for _, s := range []string{"Red Tulip", "Crème Brûlée", "sku-000123", "Straße", "日本茶葉", "\xff\x00", strings.Repeat("é", 40)} {
		f.Add(s, "p1")
	}
	f.Fuzz(func(t *testing.T, name, rid string) {
		toks := IndexTokens(name, rid)
		if !slices.IsSorted(toks) || len(slices.Compact(slices.Clone(toks))) != len(toks) {
			t.Fatalf("tokens not sorted and distinct: %q", toks)
		}
		var words []string
		for _, w := range append(SearchWords(name), SearchWords(rid)...) {
			words = append(words, cut(w))
		}
		for _, tok := range toks {
			if tok == "" || !utf8.ValidString(tok) || utf8.RuneCountInString(tok) > MaxWordIndexed {
				t.Fatalf("bad token %q of %q %q", tok, name, rid)
			}
			if utf8.RuneCountInString(tok) > ShortPrefix && !slices.Contains(words, tok) {
				t.Fatalf("%q is not a word of %q %q", tok, name, rid)
			}
		}
		for _, w := range words {
			for _, tok := range []string{w, firstRunes(w, ShortPrefix)} {
				if _, ok := slices.BinarySearch(toks, tok); !ok {
					t.Fatalf("%q of %q %q is not in %q", tok, name, rid, toks)
				}
			}
		}
	})
}

// firstRunes returns the first n letters of w.
func firstRunes(w string, n int) string {
	r := []rune(w)
	return string(r[:min(n, len(r))])
}
