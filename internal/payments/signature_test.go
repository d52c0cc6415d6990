package payments_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/payments"
)

func TestVerify(t *testing.T) {
	const secret = "whsec_test"
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","object":"event"}`)
	good := payments.Sign(secret, now, body)
	sig := strings.TrimPrefix(good[strings.Index(good, "v1="):], "v1=")
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name   string
		header string
		body   []byte
		secret string
		now    time.Time
		ok     bool
	}{
		{"good", good, body, secret, now, true},
		{"good, spaces", "t=" + ts + ", v1=" + sig, body, secret, now, true},
		{"several v1, one matches (secret being rolled)", "t=" + ts + ",v1=" + strings.Repeat("ab", 32) + ",v1=" + sig, body, secret, now, true},
		{"v0 and v1", "t=" + ts + ",v0=" + strings.Repeat("00", 32) + ",v1=" + sig, body, secret, now, true},
		{"299 s old", good, body, secret, now.Add(299 * time.Second), true},
		{"300 s old", good, body, secret, now.Add(300 * time.Second), true},
		{"301 s old: stale", good, body, secret, now.Add(301 * time.Second), false},
		{"from the future", good, body, secret, now.Add(-301 * time.Second), false},
		{"wrong secret", good, body, "whsec_other", now, false},
		{"body changed", good, []byte(`{"id":"evt_2","object":"event"}`), secret, now, false},
		{"body with a space more", good, append(append([]byte{}, body...), ' '), secret, now, false},
		{"timestamp changed", "t=" + strconv.FormatInt(now.Unix()+1, 10) + ",v1=" + sig, body, secret, now, false},
		{"no header", "", body, secret, now, false},
		{"no timestamp", "v1=" + sig, body, secret, now, false},
		{"two timestamps", "t=" + ts + ",t=" + ts + ",v1=" + sig, body, secret, now, false},
		{"no v1", "t=" + ts + ",v0=" + sig, body, secret, now, false},
		{"v1 not hex", "t=" + ts + ",v1=zz" + sig[2:], body, secret, now, false},
		{"v1 short", "t=" + ts + ",v1=" + sig[:62], body, secret, now, false},
		{"timestamp not a number", "t=abc,v1=" + sig, body, secret, now, false},
		{"not key=value", "t" + ts + ",v1=" + sig, body, secret, now, false},
		{"no secret configured", good, body, "", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := payments.Verify(tt.header, tt.body, tt.secret, tt.now, payments.Tolerance)
			if (err == nil) != tt.ok {
				t.Fatalf("Verify = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, payments.ErrSignature) {
				t.Fatalf("error %v is not ErrSignature", err)
			}
		})
	}
}

// FuzzVerify: no header or body makes Verify panic, and whatever Sign
// makes verifies for that body only.
func FuzzVerify(f *testing.F) {
	f.Add("t=1800000000,v1=00", []byte("{}"), int64(1_800_000_000))
	f.Add("t=,v1=,v1=,,=", []byte(""), int64(0))
	f.Add("t=99999999999999999999,v1="+strings.Repeat("a", 64), []byte("x"), int64(-5))
	f.Fuzz(func(t *testing.T, header string, body []byte, unix int64) {
		now := time.Unix(unix%(1<<40), 0)
		_ = payments.Verify(header, body, "s", now, payments.Tolerance)
		if unix <= 0 {
			return
		}
		h := payments.Sign("s", now, body)
		if err := payments.Verify(h, body, "s", now, payments.Tolerance); err != nil {
			t.Fatalf("own signature %q refused: %v", h, err)
		}
		if err := payments.Verify(h, append(body, 'x'), "s", now, payments.Tolerance); err == nil {
			t.Fatal("a signature verified another body")
		}
	})
}
