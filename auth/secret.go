package auth

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

// hidden is what every printed form of a Secret shows instead of its
// octets, the word pppd's debug log prints for a PAP password.
const hidden = "<hidden>"

// Secret is a password or a CHAP secret. It never prints its octets: String,
// GoString, Format (every verb of package fmt) and LogValue all give
// "<hidden>". The octets are held by a function, which fmt prints as an
// address whatever the verb and however deep, so that even a Secret in an
// unexported struct field, which fmt prints by reflection without calling
// its methods, shows no octet; and encoding/json ignores it.
//
// The zero Secret is the empty secret. A Secret is a small value, cheap to
// copy; copies share the octets, which nothing modifies. Secrets are not
// comparable with ==: use Equal.
type Secret struct {
	octets func() []byte
}

// NewSecret returns a Secret holding a copy of b.
func NewSecret(b []byte) Secret {
	if len(b) == 0 {
		return Secret{}
	}
	return secretView(append([]byte(nil), b...))
}

// secretView returns a Secret that aliases b, for packets being parsed.
func secretView(b []byte) Secret {
	if len(b) == 0 {
		return Secret{}
	}
	return Secret{func() []byte { return b }}
}

// bytes returns the octets of s. Callers inside the package must not modify
// them or let them escape into text.
func (s Secret) bytes() []byte {
	if s.octets == nil {
		return nil
	}
	return s.octets()
}

// Len returns the length of the secret in octets.
func (s Secret) Len() int { return len(s.bytes()) }

// Equal reports whether s and t hold the same octets. The comparison takes
// a time that depends on their lengths only, not on where they differ.
func (s Secret) Equal(t Secret) bool {
	a, b := s.bytes(), t.bytes()
	// ConstantTimeCompare returns 0 at once for different lengths; the
	// length of a password is not what it protects.
	return subtle.ConstantTimeCompare(a, b) == 1
}

// String returns "<hidden>".
func (s Secret) String() string { return hidden }

// GoString returns "<hidden>", so that %#v does not print the octets.
func (s Secret) GoString() string { return hidden }

// Format writes "<hidden>" for every verb and flag, so that no verb of
// package fmt (%x, %q, %d, %#v, …) prints the octets.
func (s Secret) Format(f fmt.State, verb rune) { io.WriteString(f, hidden) }

// LogValue returns "<hidden>" as a string value, for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(hidden) }
