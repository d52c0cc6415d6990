package kontor_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in   string
		want kontor.Phone
		ok   bool
	}{
		{"+4915112345678", "+4915112345678", true},
		{"+49 151 1234-5678", "+4915112345678", true},
		{"+1 (555) 010.9999", "+15550109999", true},
		{"4915112345678", "", false},  // no +
		{"+0491511234567", "", false}, // country code 0
		{"+1234567", "", false},       // too short (7 digits)
		{"+12345678", "+12345678", true},
		{"+1234567890123456", "", false}, // 16 digits
		{"+49151a2345678", "", false},
		{"", "", false},
		{"+", "", false},
	}
	for _, tt := range tests {
		got, err := kontor.ParsePhone(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && kontor.KindOf(err) != kontor.Invalid {
			t.Errorf("ParsePhone(%q) error kind = %v, want invalid", tt.in, kontor.KindOf(err))
		}
	}
}

// TestParsePhoneE164NoCopy: a number already in E.164 form is taken as it
// is (it is parsed for every frame and every sealed payload).
func TestParsePhoneE164NoCopy(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = kontor.ParsePhone("+4915112345678") }); n != 0 {
		t.Errorf("ParsePhone of an E.164 number: %v allocations, want 0", n)
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func TestIDsIncrease(t *testing.T) {
	// A frozen clock forces the sequence to roll over into the next millisecond.
	g := kontor.NewIDs(fixedClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, 7)
	var last kontor.ID
	for i := range 10000 {
		id := g.Next()
		if id <= last {
			t.Fatalf("id %d: %d is not above %d", i, id, last)
		}
		last = id
	}
	if g := kontor.NewIDs(nil, 3).Next(); time.Since(g.Time()) > time.Minute || time.Since(g.Time()) < -time.Minute {
		t.Errorf("ID time %v is not now", g.Time())
	}
}

func TestIDsConcurrentUnique(t *testing.T) {
	g := kontor.NewIDs(nil, -1)
	var mu sync.Mutex
	seen := map[kontor.ID]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]kontor.ID, 0, 2000)
			for range 2000 {
				local = append(local, g.Next())
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range local {
				if seen[id] {
					t.Errorf("duplicate id %d", id)
				}
				seen[id] = true
			}
		}()
	}
	wg.Wait()
}

func TestIDText(t *testing.T) {
	id := kontor.ID(123456789)
	b, _ := id.MarshalText()
	var back kontor.ID
	if err := back.UnmarshalText(b); err != nil || back != id {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{"", "0", "-5", "12x"} {
		if _, err := kontor.ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	cause := errors.New("disk full")
	err := &kontor.Error{Kind: kontor.Unavailable, Op: "store.Put", Msg: "try later", Err: cause}
	wrapped := errors.Join(errors.New("outer"), err)
	if kontor.KindOf(wrapped) != kontor.Unavailable {
		t.Errorf("KindOf = %v", kontor.KindOf(wrapped))
	}
	if kontor.MessageOf(err) != "try later" {
		t.Errorf("MessageOf = %q", kontor.MessageOf(err))
	}
	if !errors.Is(err, cause) {
		t.Error("errors.Is does not reach the cause")
	}
	if kontor.KindOf(cause) != kontor.Internal {
		t.Error("a plain error is not Internal")
	}
	if got := err.Error(); got != "store.Put: try later: disk full" {
		t.Errorf("Error() = %q", got)
	}
}
