package ipv6cp

import (
	"bytes"
	"io"
	"testing"

	"github.com/pppssh/pppssh/internal/ncptest"
	"github.com/pppssh/pppssh/ppp"
)

// fuzzConfig returns the configuration the fuzz targets pick with bits 1-3
// of their flags argument (bit 0 is rejectIfDisagree), with a fresh
// deterministic source of randomness: 0 draws idA for our identifier, so
// that inputs can collide with it.
func fuzzConfig(flags byte) Config {
	c := [8]Config{
		{},
		howto,
		{Local: id1, Remote: id2, AcceptLocal: true, AcceptRemote: true},
		{Remote: id2},
		{Local: id1},
		{UseIPAddr: true, LocalIPv4: addr("192.0.2.1"), RemoteIPv4: addr("192.0.2.2")},
		{Local: idA},
		{Local: id1, Remote: id2, AcceptRemote: true},
	}[flags>>1&7]
	c.Rand = &prefixed{first: idA, r: seeded(uint64(flags))}
	return c
}

// prefixed yields first, then what r yields.
type prefixed struct {
	first InterfaceID
	n     int
	r     io.Reader
}

func (p *prefixed) Read(b []byte) (int, error) {
	if p.n < len(p.first) {
		n := copy(b, p.first[p.n:])
		p.n += n
		return n, nil
	}
	return p.r.Read(b)
}

func fuzzHandler(t *testing.T, flags byte) (h *Handler, rejectIfDisagree bool) {
	return newHandler(t, fuzzConfig(flags)), flags&1 != 0
}

// checkUp checks that whatever state h is in, Up reports either usable,
// distinct identifiers or an *IdentifierError, never both.
func checkUp(t *testing.T, h *Handler) {
	t.Helper()
	req := request(h)
	if err := ppp.CheckOptions(req); err != nil {
		t.Fatalf("our request % x is malformed", req)
	}
	if len(req) != 0 && (len(req) != 10 || !bytes.Equal(req, iio(h.st.ours)) || h.st.ours.IsZero()) {
		t.Fatalf("our request % x is not one non-zero Interface-Identifier", req)
	}
	h.Acked(req)
	n := upResult(t, h)
	if n.Err != nil {
		if _, ok := n.Err.(*IdentifierError); !ok || !n.Local.IsZero() || !n.Peer.IsZero() {
			t.Fatalf("Up reported %+v", n)
		}
		return
	}
	if n.Local.IsZero() || n.Peer.IsZero() || n.Local == n.Peer {
		t.Fatalf("Up reported unusable identifiers: %+v", n)
	}
	if !n.LocalAddr().IsLinkLocalUnicast() || !n.PeerAddr().IsLinkLocalUnicast() {
		t.Fatalf("Up reported addresses %v and %v", n.LocalAddr(), n.PeerAddr())
	}
}

// checkRoundTrip decodes every Interface-Identifier option of a well-formed
// option list, encodes it again and decodes the result: the octets and the
// identifier must survive.
func checkRoundTrip(t *testing.T, opts []byte) {
	t.Helper()
	r := ppp.OptionReader(opts)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		id, err := ParseInterfaceIdentifier(o)
		if err != nil {
			if o.Type == OptInterfaceIdentifier && len(o.Data) == 8 {
				t.Fatalf("ParseInterfaceIdentifier(%+v) = %v", o, err)
			}
			continue
		}
		enc := AppendInterfaceIdentifier(nil, id)
		if !bytes.Equal(enc, ppp.AppendOption(nil, o.Type, o.Data...)) {
			t.Fatalf("option %d % x encodes again as % x", o.Type, o.Data, enc)
		}
		again, err := ParseInterfaceIdentifier(ppp.Option{Type: enc[0], Data: enc[2:]})
		if err != nil || again != id {
			t.Fatalf("% x decodes as %v, %v; want %v", enc, again, err, id)
		}
		if s := id.String(); !id.IsZero() {
			if back, err := ParseInterfaceID(s); err != nil || back != id {
				t.Fatalf("ParseInterfaceID(%q) = %v, %v; want %v", s, back, err, id)
			}
		}
	}
}

func FuzzCheckRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, opts []byte, flags byte) {
		h, rid := fuzzHandler(t, flags)
		ours := h.st.ours
		in := bytes.Clone(opts)
		code, reply := h.CheckRequest([]byte{}, opts, rid)
		if !bytes.Equal(in, opts) {
			t.Fatalf("CheckRequest changed its input")
		}
		if h.st.ours != ours {
			t.Fatalf("CheckRequest changed our identifier")
		}
		if err := ppp.CheckOptions(reply); err != nil {
			t.Fatalf("reply % x to % x is malformed", reply, opts)
		}
		wellFormed := ppp.CheckOptions(opts) == nil
		if wellFormed {
			checkRoundTrip(t, opts)
		}
		switch code {
		case ppp.CodeConfigureAck:
			if !wellFormed || !bytes.Equal(reply, opts) {
				t.Fatalf("Ack % x differs from the request % x", reply, opts)
			}
			if h.st.acked && (h.st.his.IsZero() || h.st.his == ours) {
				t.Fatalf("Acked the peer's identifier %v with ours %v", h.st.his, ours)
			}
		case ppp.CodeConfigureNak:
			if rid {
				t.Fatalf("Nak % x with rejectIfDisagree", reply)
			}
			if !wellFormed {
				t.Fatalf("Nak % x of a malformed request % x", reply, opts)
			}
			list := ncptest.OptionList(reply)
			if len(list) != 1 {
				t.Fatalf("Nak carries %d options: % x", len(list), reply)
			}
			id, err := ParseInterfaceIdentifier(ppp.Option{Type: list[0][0], Data: list[0][2:]})
			if err != nil || id.IsZero() || id == ours {
				t.Fatalf("Nak suggests % x (%v) with ours %v", list[0], err, ours)
			}
			checkRoundTrip(t, reply)
		case ppp.CodeConfigureReject:
			ncptest.CheckReject(t, reply, opts, wellFormed)
		default:
			t.Fatalf("code %v", code)
		}
		checkUp(t, h)
	})
}

func FuzzNaked(f *testing.F) {
	f.Fuzz(func(t *testing.T, opts []byte, flags byte) {
		h, rid := fuzzHandler(t, flags)
		if flags&0x10 != 0 {
			h.st.request = false // a hint
		}
		before := *h
		if err := h.Naked(opts, rid); err != nil {
			if !sameState(&before, h) {
				t.Fatalf("a refused Nak changed the handler")
			}
		} else if wellFormed := ppp.CheckOptions(opts) == nil; wellFormed {
			checkRoundTrip(t, opts)
		}
		if h.st.ours != before.st.ours && !h.local.IsZero() && !h.acceptLocal {
			t.Fatalf("a Nak changed our configured identifier %v to %v", before.st.ours, h.st.ours)
		}
		checkUp(t, h)
	})
}

func FuzzRejected(f *testing.F) {
	f.Fuzz(func(t *testing.T, opts []byte, flags byte) {
		h, _ := fuzzHandler(t, flags)
		before := *h
		if err := h.Rejected(opts); err != nil && !sameState(&before, h) {
			t.Fatalf("a refused Reject changed the handler")
		}
		if h.st.ours != before.st.ours {
			t.Fatalf("a Reject changed our identifier")
		}
		checkUp(t, h)
	})
}
