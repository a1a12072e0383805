package ipcp

import (
	"net/netip"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// Addresses from the documentation ranges of RFC 5737.
var (
	addr1  = netip.MustParseAddr("192.0.2.1") // HOWTO's local end
	addr2  = netip.MustParseAddr("192.0.2.2") // HOWTO's remote end
	addr7  = netip.MustParseAddr("192.0.2.7") // another address a peer may assign
	addr9  = netip.MustParseAddr("192.0.2.9") // the address a stubborn peer insists on
	dns1   = netip.MustParseAddr("198.51.100.53")
	dns2   = netip.MustParseAddr("198.51.100.54")
	nbns1  = netip.MustParseAddr("203.0.113.137")
	nbns2  = netip.MustParseAddr("203.0.113.138")
	zero   = netip.IPv4Unspecified()
	howto  = Config{Local: addr1, Remote: addr2} // pppd's "192.0.2.1:192.0.2.2"
	noAddr = netip.Addr{}
)

// ao builds an option carrying address a.
func ao(typ uint8, a netip.Addr) []byte { return appendAddrOption(nil, typ, a) }

// raw builds an option from its type and data.
func raw(typ uint8, data ...byte) []byte { return ppp.AppendOption(nil, typ, data...) }

// cat concatenates options; with no arguments it returns an empty, non-nil
// slice.
func cat(opts ...[]byte) []byte {
	b := []byte{}
	for _, o := range opts {
		b = append(b, o...)
	}
	return b
}

// newHandler returns a Handler for c, failing the test if New refuses it.
func newHandler(t testing.TB, c Config) *Handler {
	t.Helper()
	h, err := New(c)
	if err != nil {
		t.Fatalf("New(%+v): %v", c, err)
	}
	return h
}

// request returns h's next Configure-Request options.
func request(h *Handler) []byte { return h.AppendRequest([]byte{}) }

// upResult calls h.Up and returns what it reported to Config.Up.
func upResult(t testing.TB, h *Handler) Negotiated {
	t.Helper()
	var got *Negotiated
	h.cfg.Up = func(n Negotiated) { got = &n }
	h.Up()
	if got == nil {
		t.Fatal("Up did not call Config.Up")
	}
	return *got
}

// netip4 parses an address written in a test.
func netip4(s string) netip.Addr { return netip.MustParseAddr(s) }
