package payments

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a webhook signature's timestamp may be from now,
// as Stripe's libraries allow.
const Tolerance = 300 * time.Second

// Sign makes a Stripe-Signature header value for body at t:
// "t=UNIX,v1=HEX", HEX being HMAC-SHA256(secret, "UNIX." + body). The
// sandbox signs its webhooks the same way.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + signature(secret, ts, body)
}

func signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a Stripe-Signature header for body: one t= timestamp
// within tolerance of now (either way), and at least one v1= signature
// that matches (there are several while a secret is being rolled); other
// schemes (v0) are ignored. Signatures are compared in constant time. It
// returns ErrSignature, wrapped with the reason.
func Verify(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: no webhook secret is configured", ErrSignature)
	}
	if header == "" {
		return fmt.Errorf("%w: the signature header is missing", ErrSignature)
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: %q is not key=value", ErrSignature, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: more than one timestamp", ErrSignature)
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				continue // not ours; another may match
			}
			sigs = append(sigs, b)
		}
	}
	if ts == "" {
		return fmt.Errorf("%w: no timestamp (t=)", ErrSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return fmt.Errorf("%w: timestamp %q is not a Unix time", ErrSignature, ts)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1 signature", ErrSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: the timestamp is %s away from now (at most %s)", ErrSignature, d.Round(time.Second), tolerance)
	}
	want, _ := hex.DecodeString(signature(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches", ErrSignature)
}
