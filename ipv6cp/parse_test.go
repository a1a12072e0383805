package ipv6cp

import (
	"errors"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

func TestParseIdentifiers(t *testing.T) {
	dead := InterfaceID{4: 0xde, 5: 0xad, 6: 0xbe, 7: 0xef}
	good := []struct {
		arg           string
		local, remote InterfaceID
	}{
		{"::1,::2", id1, id2},
		{",::2", zero, id2},
		{"::dead:beef,", dead, zero},
		{"::dead:beef", dead, zero},
		{"::123:4567:89ab:cdef,::580b:6152:aa75:c002", InterfaceID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, idA},
		{"0:0:0:0:0:0:0:1,0::2", id1, id2},
		{"::ffff:192.0.2.1,::2", InterfaceID{2: 0xff, 3: 0xff, 4: 192, 6: 2, 7: 1}, id2},
		{"::DEAD:BEEF,", dead, zero},
		// pppd accepts an argument that sets nothing.
		{"", zero, zero},
		{",", zero, zero},
	}
	for _, g := range good {
		l, r, err := ParseIdentifiers(g.arg)
		if err != nil || l != g.local || r != g.remote {
			t.Errorf("ParseIdentifiers(%q) = %v, %v, %v; want %v, %v", g.arg, l, r, err, g.local, g.remote)
		}
	}

	const hint = " (write the low 64 bits of the address as an IPv6 address whose first 64 bits are zero, such as ::1 or ::dead:beef for fe80::dead:beef)"
	bad := []struct {
		arg, want string
	}{
		{"fe80::1,::2", `ipv6cp: ipv6 "fe80::1,::2": local interface identifier "fe80::1": the first 64 bits are not zero` + hint},
		{"::1,fe80::2", `ipv6cp: ipv6 "::1,fe80::2": remote interface identifier "fe80::2": the first 64 bits are not zero` + hint},
		{"::,::2", `ipv6cp: ipv6 "::,::2": local interface identifier "::": the zero identifier is not allowed` + hint},
		{"::1,::0", `ipv6cp: ipv6 "::1,::0": remote interface identifier "::0": the zero identifier is not allowed` + hint},
		{"192.0.2.1,", `ipv6cp: ipv6 "192.0.2.1,": local interface identifier "192.0.2.1": not an IPv6 address` + hint},
		{"dead:beef,", `ipv6cp: ipv6 "dead:beef,": local interface identifier "dead:beef": not an IPv6 address` + hint},
		{"::1,::2,::3", `ipv6cp: ipv6 "::1,::2,::3": remote interface identifier "::2,::3": not an IPv6 address` + hint},
		{"::1%ppp0,", `ipv6cp: ipv6 "::1%ppp0,": local interface identifier "::1%ppp0": an identifier has no zone` + hint},
		{" ::1,", `ipv6cp: ipv6 " ::1,": local interface identifier " ::1": not an IPv6 address` + hint},
		{"::1,\x00", `ipv6cp: ipv6 "::1,\x00": remote interface identifier "\x00": not an IPv6 address` + hint},
	}
	for _, b := range bad {
		l, r, err := ParseIdentifiers(b.arg)
		if err == nil || err.Error() != b.want || !l.IsZero() || !r.IsZero() {
			t.Errorf("ParseIdentifiers(%q) = %v, %v, %v\nwant error %s", b.arg, l, r, err, b.want)
		}
	}
}

func TestParseInterfaceID(t *testing.T) {
	for _, id := range []InterfaceID{id1, id2, idA, idB, {2: 0xff, 3: 0xff, 4: 1, 5: 2, 6: 3, 7: 4}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		got, err := ParseInterfaceID(id.String())
		if err != nil || got != id {
			t.Errorf("ParseInterfaceID(%q) = %v, %v; want %v", id.String(), got, err, id)
		}
	}
	want := `ipv6cp: interface identifier "fe80::1": the first 64 bits are not zero (write the low 64 bits of the address as an IPv6 address whose first 64 bits are zero, such as ::1 or ::dead:beef for fe80::dead:beef)`
	if _, err := ParseInterfaceID("fe80::1"); err == nil || err.Error() != want {
		t.Errorf("ParseInterfaceID(\"fe80::1\") = %v, want %s", err, want)
	}
	if _, err := ParseInterfaceID(""); err == nil {
		t.Error(`ParseInterfaceID("") accepted the empty string`)
	}
}

func TestParseInterfaceIdentifier(t *testing.T) {
	for _, id := range []InterfaceID{id1, idA, zero} {
		b := AppendInterfaceIdentifier([]byte{0xee}, id)
		if b[0] != 0xee || len(b) != 11 || b[1] != OptInterfaceIdentifier || b[2] != 10 {
			t.Fatalf("AppendInterfaceIdentifier(%v) = % x", id, b)
		}
		got, err := ParseInterfaceIdentifier(ppp.Option{Type: b[1], Data: b[3:]})
		if err != nil || got != id {
			t.Errorf("ParseInterfaceIdentifier(% x) = %v, %v; want %v", b[1:], got, err, id)
		}
	}
	for _, o := range []ppp.Option{
		{Type: OptInterfaceIdentifier, Data: make([]byte, 7)},
		{Type: OptInterfaceIdentifier, Data: make([]byte, 9)},
		{Type: OptInterfaceIdentifier},
		{Type: OptIPv6CompressionProtocol, Data: make([]byte, 8)},
	} {
		if _, err := ParseInterfaceIdentifier(o); !errors.Is(err, ppp.ErrMalformed) {
			t.Errorf("ParseInterfaceIdentifier(%+v) = %v, want ppp.ErrMalformed", o, err)
		}
	}
}
