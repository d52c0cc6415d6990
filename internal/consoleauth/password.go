package consoleauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id costs of a new password hash.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams are OWASP's recommendation for argon2id: 19 MiB, two
// passes, one thread.
func DefaultParams() Params { return Params{Memory: 19 * 1024, Time: 2, Threads: 1} }

// Limits on passwords.
const (
	MinPassword = 12  // characters
	MaxPassword = 256 // bytes: argon2id takes any length, but a bound keeps requests small
)

const (
	saltLen = 16
	keyLen  = 32
)

// checkPassword says, in words for a person, what is wrong with a new
// password, or "".
func checkPassword(pw string) string {
	switch {
	case !utf8.ValidString(pw):
		return "The password has characters that cannot be read; type it again."
	case utf8.RuneCountInString(pw) < MinPassword:
		return fmt.Sprintf("Choose a password of at least %d characters.", MinPassword)
	case len(pw) > MaxPassword:
		return fmt.Sprintf("Choose a password of at most %d bytes.", MaxPassword)
	case strings.TrimSpace(pw) == "":
		return "A password cannot be only spaces."
	}
	return ""
}

// HashPassword returns the PHC string of pw under p:
// $argon2id$v=19$m=19456,t=2,p=1$salt$key (unpadded base64).
func HashPassword(pw string, p Params) string {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand does not fail
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword says whether pw matches the PHC string hash. The key is
// compared in constant time; a hash that cannot be read never matches.
func VerifyPassword(pw, hash string) bool {
	p, salt, key, ok := parseHash(hash)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// parseHash reads a PHC argon2id string; the costs must be sane, so that a
// damaged row cannot make a sign-in take gigabytes.
func parseHash(h string) (Params, []byte, []byte, bool) {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, false
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, false
	}
	if p.Memory < 8 || p.Memory > 256<<10 || p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 16 {
		return Params{}, nil, nil, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, false
	}
	return p, salt, key, true
}
