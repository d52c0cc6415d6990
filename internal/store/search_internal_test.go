package store

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kontor-chat/kontor/internal/commerce"
)

// TestGroupedJSON: the hand-written nesting of index rows decodes to the
// rows, whatever the tokens hold.
func TestGroupedJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		ws   []word
		want map[string]map[string][]int64
	}{
		{"none", nil, map[string]map[string][]int64{}},
		{"one", []word{{1, "a", 5}}, map[string]map[string][]int64{"1": {"a": {5}}}},
		{"runs", []word{{1, "a", 5}, {1, "a", 7}, {1, "ab", 5}, {2, "a", 9}, {2, "zé", 10}},
			map[string]map[string][]int64{"1": {"a": {5, 7}, "ab": {5}}, "2": {"a": {9}, "zé": {10}}}},
		{"escaped", []word{{3, `q"\<&` + "\x01", 1}, {3, "bad\xff", 2}},
			map[string]map[string][]int64{"3": {`q"\<&` + "\x01": {1}, "bad\ufffd": {2}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, err := groupedJSON(tc.ws)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]map[string][]int64
			if err := json.Unmarshal(js, &got); err != nil {
				t.Fatalf("%s: %v", js, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: %v, want %v", js, got, tc.want)
			}
		})
	}
}

// TestWordEnd: the bound of a word's range is above every string that
// begins with the word (a token: at most MaxWordIndexed letters), in
// byte order, and valid UTF-8.
func TestWordEnd(t *testing.T) {
	for _, tc := range []struct{ w, want string }{
		{"abc", "abd"},
		{"az", "a{"},
		{"ab\u00ff", "ab\u0100"},
		{"a\u007f", "a\u0080"},
		{"a\ud7ff", "a\ue000"},
		{"a\U0002000b", "a\U0002000c"},
		{"a\U0010ffff", "b"},
		{"\U0010ffff", strings.Repeat("\U0010ffff", commerce.MaxWordIndexed+1)},
	} {
		got := wordEnd(tc.w)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("wordEnd(%q) = %q, want %q", tc.w, got, tc.want)
		}
		for _, in := range []string{tc.w, tc.w + "a", tc.w + "\U0010ffff", tc.w + strings.Repeat("\U0010ffff", commerce.MaxWordIndexed-utf8.RuneCountInString(tc.w))} {
			if in >= got {
				t.Errorf("wordEnd(%q) = %q is not above %q", tc.w, got, in)
			}
		}
	}
}
