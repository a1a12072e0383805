package ipv6cp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// Identifiers of the tests. idA and idB are the random identifiers pppd
// 2.4.9 requested in the repository's captures (ppp/testdata and
// interop/testdata); their universal/local bit is clear, as in every random
// identifier, so a source that yields them yields them unchanged.
var (
	id1  = InterfaceID{7: 1}                                           // ::1, HOWTO's local end
	id2  = InterfaceID{7: 2}                                           // ::2, HOWTO's remote end
	id7  = InterfaceID{7: 7}                                           // ::7, another identifier a peer may assign
	id9  = InterfaceID{7: 9}                                           // ::9, the identifier a stubborn peer insists on
	idA  = InterfaceID{0x58, 0x0b, 0x61, 0x52, 0xaa, 0x75, 0xc0, 0x02} // pppd's fe80::580b:6152:aa75:c002
	idB  = InterfaceID{0x0d, 0x8d, 0x47, 0x30, 0xbb, 0x4d, 0x4a, 0x1f} // pppd's fe80::0d8d:4730:bb4d:4a1f
	idC  = InterfaceID{0x3c, 0x11, 0x00, 0x42, 0x9e, 0x01, 0x77, 0x10} // a third random identifier
	zero = InterfaceID{}
)

// howto is pppd's "ipv6 ::1,::2".
var howto = Config{Local: id1, Remote: id2}

// draws is a source of randomness that yields the given identifiers, then
// fails: tests list exactly the random draws they expect.
func draws(ids ...InterfaceID) io.Reader {
	var b []byte
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return &failAfter{r: bytes.NewReader(b)}
}

// failAfter reads from r, then fails with errRandDry.
type failAfter struct{ r *bytes.Reader }

var errRandDry = errors.New("test source of randomness ran dry")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.r.Len() == 0 {
		return 0, errRandDry
	}
	return f.r.Read(p)
}

// seeded is a deterministic source of randomness for tests that do not care
// which identifiers are drawn.
func seeded(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// iio builds an Interface-Identifier option.
func iio(id InterfaceID) []byte { return AppendInterfaceIdentifier(nil, id) }

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
// A Config without Rand gets a source that fails, so that a test notices
// any draw it did not plan for.
func newHandler(t testing.TB, c Config) *Handler {
	t.Helper()
	if c.Rand == nil {
		c.Rand = draws()
	}
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

// errEqual compares two errors by their text.
func errEqual(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

// addr parses an address written in a test.
func addr(s string) netip.Addr { return netip.MustParseAddr(s) }
