package commerce

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Product search works on words: the runs of letters and digits of a
// product's name and retailer id, folded (lower case, accents dropped:
// "Crème Brûlée" holds the words "creme" and "brulee"). A search finds the
// products that have, for every word typed, a word that begins with it
// ("tul 50" finds "Red Tulip 50%"). Everything else typed (%, _, -, …)
// only separates words. The store keeps an index of each word's first
// ShortPrefix beginnings and the whole word (IndexTokens), in the
// transaction that writes the product: a word typed of at most ShortPrefix
// letters is a token of the index, a longer one is the beginning of whole
// words of the index, which sit together in its order.

// MaxWordIndexed is how many letters of a word the index holds: a longer
// word typed is matched on its first MaxWordIndexed letters.
const MaxWordIndexed = 20

// ShortPrefix is how many of a word's first beginnings the product index
// holds besides the whole word ("tulip": "t", "tu", "tulip"). Each one
// more costs a row per word at every write (a feed of 100,000 products of
// three words: see docs/performance.md); each one less makes more typed
// words ranges of whole words.
const ShortPrefix = 2

// Fold lowers s and drops its accents, for comparing words.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var sb strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if f, ok := foldSpecial[r]; ok {
			sb.WriteString(f)
			continue
		}
		sb.WriteRune(unicode.ToLower(r))
	}
	return sb.String()
}

// foldSpecial holds letters that decomposing leaves as they are.
var foldSpecial = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o",
	'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'þ': "th", 'Þ': "th", 'ı': "i",
}

// SearchWords returns the folded words of s, in order, repeats kept.
func SearchWords(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// SearchQuery returns the distinct words of a search as the index holds
// them (at most MaxWordIndexed letters each), sorted; none when q has no
// letter or digit.
func SearchQuery(q string) []string {
	ws := SearchWords(q)
	for i, w := range ws {
		ws[i] = cut(w)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// SearchTokens returns every beginning (of up to MaxWordIndexed letters)
// of each word of a name and retailer id, each once, sorted: what the
// product index held before "search 3" and the inbox index before "inbox
// search 2" (both hold fewer now, IndexTokens); the tests build such old
// indexes with it.
func SearchTokens(name, retailerID string) []string {
	var out []string
	for _, w := range append(SearchWords(name), SearchWords(retailerID)...) {
		w = cut(w)
		for i, r := range w {
			out = append(out, w[:i+utf8.RuneLen(r)])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IndexTokens returns what the product search index holds for a product
// with this name and retailer id (and the inbox index for a text): the
// beginnings of up to ShortPrefix letters of each of their words and the
// whole word (of up to MaxWordIndexed letters), each once, sorted. A
// token longer than ShortPrefix is always a whole word.
func IndexTokens(name, retailerID string) []string {
	var out []string
	for _, w := range append(SearchWords(name), SearchWords(retailerID)...) {
		w = cut(w)
		n := 0
		for i, r := range w {
			if n == ShortPrefix {
				break
			}
			out = append(out, w[:i+utf8.RuneLen(r)])
			n++
		}
		out = append(out, w)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// cut keeps the first MaxWordIndexed letters of a word.
func cut(w string) string {
	n := 0
	for i := range w {
		if n == MaxWordIndexed {
			return w[:i]
		}
		n++
	}
	return w
}

// MatchesSearch says whether a product with this name and retailer id is
// found by a search of these words (SearchQuery), as the index finds it.
func MatchesSearch(name, retailerID string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	have := SearchWords(name + " " + retailerID)
	for _, w := range words {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(cut(h), w) }) {
			return false
		}
	}
	return true
}
