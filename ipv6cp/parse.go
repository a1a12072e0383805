package ipv6cp

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// identifierHint tells the user what a valid interface identifier looks
// like; it ends every parse error.
const identifierHint = " (write the low 64 bits of the address as an IPv6 address whose first 64 bits are zero, such as ::1 or ::dead:beef for fe80::dead:beef)"

// ParseInterfaceID parses an interface identifier written as pppd's ipv6
// option takes it: an IPv6 address whose first 64 bits are zero and whose
// last 64 bits, the identifier, are not ("::1", "::dead:beef",
// "::123:4567:89ab:cdef"). It is the inverse of InterfaceID.String for
// every non-zero identifier.
func ParseInterfaceID(s string) (InterfaceID, error) {
	id, why := parseID(s)
	if why != "" {
		return InterfaceID{}, errors.New("ipv6cp: interface identifier " + quote(s) + ": " + why + identifierHint)
	}
	return id, nil
}

// ParseIdentifiers parses the argument of pppd's "ipv6" option,
// "<local_interface_identifier>,<remote_interface_identifier>", into the
// Local and Remote of a Config: "::1,::2" sets both, ",::2" only the remote
// one, "::dead:beef," or "::dead:beef" only the local one. An identifier
// left out is returned as zero. Each identifier must be as ParseInterfaceID
// accepts; the error says which one is wrong and why.
func ParseIdentifiers(s string) (local, remote InterfaceID, err error) {
	l, r, _ := strings.Cut(s, ",")
	if l != "" {
		var why string
		if local, why = parseID(l); why != "" {
			return InterfaceID{}, InterfaceID{}, errors.New("ipv6cp: ipv6 " + quote(s) +
				": local interface identifier " + quote(l) + ": " + why + identifierHint)
		}
	}
	if r != "" {
		var why string
		if remote, why = parseID(r); why != "" {
			return InterfaceID{}, InterfaceID{}, errors.New("ipv6cp: ipv6 " + quote(s) +
				": remote interface identifier " + quote(r) + ": " + why + identifierHint)
		}
	}
	return local, remote, nil
}

// parseID parses one identifier, returning why it is invalid, or "".
func parseID(s string) (InterfaceID, string) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil, !a.Is6():
		return InterfaceID{}, "not an IPv6 address"
	case a.Zone() != "":
		return InterfaceID{}, "an identifier has no zone"
	}
	b := a.As16()
	if [8]byte(b[:8]) != [8]byte{} {
		return InterfaceID{}, "the first 64 bits are not zero"
	}
	id := InterfaceID(b[8:])
	if id.IsZero() {
		return InterfaceID{}, "the zero identifier is not allowed"
	}
	return id, ""
}

// quote returns s as a Go string literal, cut short if it is long, for
// error messages.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return strconv.Quote(s)
}
