package cloudapi

import (
	"math"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
)

func TestMessageIDs(t *testing.T) {
	for _, id := range []kontor.ID{1, 383765450756349952, math.MaxInt64} {
		w := MessageID(id)
		if !strings.HasPrefix(w, "wamid.") || w != MessageID(id) {
			t.Errorf("%d: %q", id, w)
		}
		back, ok := ParseMessageID(w)
		if !ok || back != id {
			t.Errorf("%d → %q → %d %v", id, w, back, ok)
		}
	}
	if MessageID(1) == MessageID(2) {
		t.Error("two ids, one wamid")
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		w := NewMessageID()
		if seen[w] || !strings.HasPrefix(w, "wamid.") || len(w) != len("wamid.")+27 {
			t.Fatalf("NewMessageID %q", w)
		}
		seen[w] = true
		if _, ok := ParseMessageID(w); ok {
			t.Fatalf("random id %q parsed as a kontor id", w)
		}
	}
	for _, s := range []string{"", "wamid.", "383765450756349952", "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA",
		"wamid.a29uAQAAAAAAAAAA", // id 0
		"wamid.a29uAYAAAAAAAAAA", // negative
		"wamid.a29uAgAAAAAAAAAB", // other tag
		"WAMID.a29uAQAAAAAAAAAB", "wamid.a29uAQAAAAAAAAAB=", "wamid.a29uAQAAAAAAAAA!"} {
		if id, ok := ParseMessageID(s); ok {
			t.Errorf("%q parsed as %d", s, id)
		}
	}
	if id, ok := ParseMessageID("wamid.a29uAQAAAAAAAAAB"); !ok || id != 1 {
		t.Errorf("id 1: %d %v", id, ok)
	}
}

func TestParseVersion(t *testing.T) {
	for _, s := range []string{"v13.0", "v16.0", "v21.0", "v23.0", "v24.0", "v99.0", "v100.0", "v13.1", "v2026.12"} {
		if !ParseVersion(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "v", "v12.0", "v2.12", "v13", "v13.", "13.0", "V21.0", "v21.0.1", "v021.0", "v21.00", "v-21.0",
		"v+21.0", "v21,0", "v21.0 ", "v99999.0", "messages", "v1e3.0"} {
		if ParseVersion(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
