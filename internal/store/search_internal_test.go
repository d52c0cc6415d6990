package store

import (
	"encoding/json"
	"reflect"
	"testing"
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
