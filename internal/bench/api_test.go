package bench

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// TestAPIBody: the bodies of the Business API load are the JSON they
// always were (as fmt made them), and the text reads back as sent.
func TestAPIBody(t *testing.T) {
	at := time.Unix(1765152000, 123456789)
	for _, tc := range []struct {
		digits   string
		k        int
		template bool
		want     string
	}{
		{"989999900000001", 0, false, fmt.Sprintf(`{"messaging_product":"whatsapp","to":%q,"type":"text","text":{"body":"bench %d %d"}}`, "989999900000001", 0, at.UnixNano())},
		{"4915100000001", 29999, false, fmt.Sprintf(`{"messaging_product":"whatsapp","to":%q,"type":"text","text":{"body":"bench %d %d"}}`, "4915100000001", 29999, at.UnixNano())},
		{"4915100000001", 7, true, fmt.Sprintf(`{"messaging_product":"whatsapp","to":%q,"type":"template","template":{"name":"bench_offer","language":{"code":"en"},`+
			`"components":[{"type":"body","parameters":[{"type":"text","text":"%d"},{"type":"text","text":"%d"}]}]}}`, "4915100000001", 7, at.UnixNano())},
	} {
		got := apiBody(tc.digits, tc.k, at, tc.template)
		if string(got) != tc.want {
			t.Errorf("apiBody(%q, %d, %v):\n got %s\nwant %s", tc.digits, tc.k, tc.template, got, tc.want)
		}
		if tc.template {
			continue
		}
		var v struct {
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		if k, when, ok := parseBenchText(v.Text.Body); !ok || k != tc.k || !when.Equal(at) {
			t.Errorf("read back %d %v %v, want %d %v", k, when, ok, tc.k, at)
		}
	}
}
