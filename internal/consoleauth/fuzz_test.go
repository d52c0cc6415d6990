package consoleauth_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// FuzzNormalizeEmail: whatever a person types, the answer is an error or a
// lower-case address of at most 254 bytes that normalizes to itself.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ana@example.com", "ANA@Example.com", " a@b.c ", "a@b", "<a@b.c>", "a@@b.c", "\"a b\"@c.de", "ä@ü.de", "\x00@x.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := consoleauth.NormalizeEmail(s)
		if err != nil {
			return
		}
		if len(got) > 254 || got != strings.ToLower(got) || !utf8.ValidString(got) || !strings.Contains(got, "@") {
			t.Fatalf("NormalizeEmail(%q) = %q", s, got)
		}
		if again, err := consoleauth.NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, %v; not stable", got, again, err)
		}
	})
}

// FuzzVerifyPassword: a stored hash of any shape never panics and never
// matches unless it is a real hash of the password.
func FuzzVerifyPassword(f *testing.F) {
	h := consoleauth.HashPassword("pw", consoleauth.Params{Memory: 8, Time: 1, Threads: 1})
	f.Add("pw", h)
	f.Add("pw", "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("", "$argon2id$v=19$m=8,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, pw, hash string) {
		if len(hash) > 300 || !strings.Contains(hash, "$m=8,") {
			return // larger costs are real work (up to 256 MiB), not for a fuzzer
		}
		if consoleauth.VerifyPassword(pw, hash) && hash != h {
			// Only a real argon2id hash of pw can match; check by hashing
			// the same way would need the salt, so accept only well-formed ones.
			if !strings.HasPrefix(hash, "$argon2id$v=19$") {
				t.Fatalf("VerifyPassword(%q, %q) matched a malformed hash", pw, hash)
			}
		}
	})
}
