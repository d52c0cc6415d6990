package kontor

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind says what sort of failure an Error is; transports map kinds to their
// own codes in one table each.
type Kind uint8

// The kinds of error.
const (
	Internal        Kind = iota // a fault of ours; the cause is logged, not shown
	Invalid                     // the request is malformed or a value is out of range
	NotFound                    // the thing asked for does not exist
	Conflict                    // the request conflicts with the current state
	Unauthenticated             // no or bad credentials
	Forbidden                   // credentials fine, but not allowed
	RateLimited                 // too many requests; try later
	Unavailable                 // shutting down or a dependency is down; try later
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "unauthenticated", "forbidden", "rate_limited", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is kontor's error value: what was being done (Op), what kind of
// failure it is, a message safe to show to the caller, and the cause.
type Error struct {
	Kind Kind
	Op   string // e.g. "identity.Verify"
	Msg  string // shown to callers; no secrets, no internals
	Err  error  // the cause, for logs
}

func (e *Error) Error() string {
	s := e.Op
	if e.Msg != "" {
		if s != "" {
			s += ": "
		}
		s += e.Msg
	}
	if e.Err != nil {
		if s != "" {
			s += ": "
		}
		s += e.Err.Error()
	}
	if s == "" {
		s = e.Kind.String()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, Internal if none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the caller-safe message of the first *Error in err's chain
// that has one.
func MessageOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Msg != "" {
			return e.Msg
		}
		err = e.Err
	}
	return ""
}

// Clock tells the time; tests pass a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ID is a 64-bit, roughly time-ordered identifier: 42 bits of milliseconds
// since 2024-01-01, 10 bits of node, 12 bits of sequence. It is printed and
// sent as a decimal string.
type ID int64

// epoch is the start of ID time.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// String returns the decimal form.
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// Time returns when id was made.
func (id ID) Time() time.Time { return time.UnixMilli(int64(id)>>22 + epoch) }

// ParseID parses the decimal form.
func ParseID(s string) (ID, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, Errorf(Invalid, "kontor.ParseID", "%q is not an id", s)
	}
	return ID(n), nil
}

// MarshalText implements encoding.TextMarshaler (ids are strings in JSON).
func (id ID) MarshalText() ([]byte, error) { return strconv.AppendInt(nil, int64(id), 10), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// IDs makes IDs. Give every process its own; the node number is random unless set.
type IDs struct {
	mu    sync.Mutex
	node  int64
	last  int64 // last millisecond used
	seq   int64
	clock Clock
}

// NewIDs returns a generator; node is taken modulo 1024, and a negative node
// picks one at random.
func NewIDs(clock Clock, node int) *IDs {
	if clock == nil {
		clock = SystemClock{}
	}
	n := int64(node)
	if n < 0 {
		var b [2]byte
		_, _ = rand.Read(b[:])
		n = int64(binary.BigEndian.Uint16(b[:]))
	}
	return &IDs{node: n & 1023, clock: clock}
}

// Next returns a new ID, greater than every ID this generator returned before.
func (g *IDs) Next() ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.clock.Now().UnixMilli() - epoch
	if ms < g.last {
		ms = g.last // the clock went back: keep going up
	}
	if ms == g.last {
		g.seq++
		if g.seq >= 4096 {
			ms++
			g.seq = 0
		}
	} else {
		g.seq = 0
	}
	g.last = ms
	return ID(ms<<22 | g.node<<12 | g.seq)
}

// Phone is an E.164 number, with the leading '+'.
type Phone string

// ParsePhone checks that s is an E.164 number: '+', a non-zero digit, then
// 7 to 14 more digits. Spaces, dashes, dots and parentheses are removed first.
func ParsePhone(s string) (Phone, error) {
	b := s // most come in E.164 form already: then s itself
	if strings.ContainsAny(s, " -.()") {
		c := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case ' ', '-', '.', '(', ')':
			default:
				c = append(c, s[i])
			}
		}
		b = string(c)
	}
	const op = "kontor.ParsePhone"
	if len(b) == 0 || b[0] != '+' {
		return "", Errorf(Invalid, op, "phone number %q must be in E.164 form, starting with + and the country code (e.g. +4915112345678)", s)
	}
	d := b[1:]
	if len(d) < 8 || len(d) > 15 {
		return "", Errorf(Invalid, op, "phone number %q must have 8 to 15 digits after the +", s)
	}
	if d[0] == '0' {
		return "", Errorf(Invalid, op, "phone number %q: a country code never starts with 0", s)
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return "", Errorf(Invalid, op, "phone number %q may hold only digits after the +", s)
		}
	}
	return Phone(b), nil
}

// Digits returns the number without the '+', as the Business API writes it.
func (p Phone) Digits() string {
	if len(p) > 0 && p[0] == '+' {
		return string(p[1:])
	}
	return string(p)
}
