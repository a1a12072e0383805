package ipv6cp

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/ppp"
)

const (
	ack = ppp.CodeConfigureAck
	nak = ppp.CodeConfigureNak
	rej = ppp.CodeConfigureReject
)

func TestCheckRequest(t *testing.T) {
	acceptRemote := Config{Local: id1, Remote: id2, AcceptRemote: true}
	long := append([]byte{0x99, 0x01}, make([]byte, 300)...)
	tests := []struct {
		name     string
		cfg      Config
		opts     []byte
		rid      bool // rejectIfDisagree
		wantCode ppp.Code
		want     []byte
		wantErr  error // h.Err() afterwards
	}{
		// Interface-Identifier, RFC 5072 section 4.1, with pppd's rules.
		{name: "HOWTO/peer asks for an identifier", cfg: howto,
			opts: iio(zero), wantCode: nak, want: iio(id2)},
		{name: "HOWTO/peer requests Remote", cfg: howto,
			opts: iio(id2), wantCode: ack, want: iio(id2)},
		{name: "HOWTO/peer requests another identifier", cfg: howto,
			opts: iio(id9), wantCode: nak, want: iio(id2),
			wantErr: &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9}},
		{name: "HOWTO/peer requests another identifier/rejectIfDisagree", cfg: howto, rid: true,
			opts: iio(id9), wantCode: rej, want: iio(id9),
			wantErr: &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9}},
		{name: "HOWTO/peer requests ours", cfg: howto,
			opts: iio(id1), wantCode: nak, want: iio(id2),
			wantErr: &IdentifierError{Problem: SameIdentifier, Ours: id1}},
		{name: "HOWTO/peer requests ours/rejectIfDisagree", cfg: howto, rid: true,
			opts: iio(id1), wantCode: rej, want: iio(id1),
			wantErr: &IdentifierError{Problem: SameIdentifier, Ours: id1}},
		{name: "HOWTO/pppd's random identifier", cfg: howto,
			opts: iio(idA), wantCode: nak, want: iio(id2),
			wantErr: &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: idA}},
		{name: "AcceptRemote/peer requests another identifier", cfg: acceptRemote,
			opts: iio(id9), wantCode: ack, want: iio(id9)},
		{name: "AcceptRemote/peer asks for an identifier", cfg: acceptRemote,
			opts: iio(zero), wantCode: nak, want: iio(id2)},
		{name: "AcceptRemote/peer requests ours", cfg: acceptRemote,
			opts: iio(id1), wantCode: nak, want: iio(id2),
			wantErr: &IdentifierError{Problem: SameIdentifier, Ours: id1}},
		{name: "no Remote/peer requests an identifier", cfg: Config{Local: id1},
			opts: iio(id9), wantCode: ack, want: iio(id9)},
		{name: "no Remote/pppd's random identifier", cfg: Config{Local: id1},
			opts: iio(idA), wantCode: ack, want: iio(idA)},
		{name: "nothing configured/peer requests an identifier", cfg: Config{Rand: draws(idA)},
			opts: iio(idB), wantCode: ack, want: iio(idB)},
		{name: "no Remote/peer asks for an identifier", cfg: Config{Local: id1, Rand: draws(idC)},
			opts: iio(zero), wantCode: nak, want: iio(idC)},
		{name: "no Remote/peer asks, first draw is ours", cfg: Config{Local: id1, Rand: draws(id1, idC)},
			opts: iio(zero), wantCode: nak, want: iio(idC)},
		{name: "no Remote/suggestion has the universal/local bit cleared",
			cfg:  Config{Local: id1, Rand: draws(InterfaceID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},
			opts: iio(zero), wantCode: nak, want: iio(InterfaceID{0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},
		{name: "no Remote/collision", cfg: Config{Local: id1, Rand: draws(idC)},
			opts: iio(id1), wantCode: nak, want: iio(idC),
			wantErr: &IdentifierError{Problem: SameIdentifier, Ours: id1}},
		{name: "random identifiers collide", cfg: Config{Rand: draws(idA, idB)},
			opts: iio(idA), wantCode: nak, want: iio(idB),
			wantErr: &IdentifierError{Problem: SameIdentifier, Ours: idA}},
		{name: "no Remote/peer asks/rejectIfDisagree", cfg: Config{Local: id1, Rand: draws(idC)}, rid: true,
			opts: iio(zero), wantCode: rej, want: iio(zero)},
		{name: "no Remote/peer asks, nothing to suggest", cfg: Config{Local: id1},
			opts: iio(zero), wantCode: rej, want: iio(zero)},
		{name: "no Remote/collision, nothing to suggest", cfg: Config{Local: id1},
			opts: iio(id1), wantCode: rej, want: iio(id1),
			wantErr: &IdentifierError{Problem: SameIdentifier, Ours: id1}},
		{name: "peer omits its identifier", cfg: howto,
			opts: []byte{}, wantCode: nak, want: iio(id2)},
		{name: "peer omits its identifier/rejectIfDisagree", cfg: howto, rid: true,
			opts: []byte{}, wantCode: ack, want: []byte{}},
		{name: "AcceptRemote/peer omits its identifier", cfg: acceptRemote,
			opts: []byte{}, wantCode: nak, want: iio(id2)},
		{name: "no Remote/peer omits its identifier", cfg: Config{Local: id1},
			opts: []byte{}, wantCode: ack, want: []byte{}},
		{name: "Interface-Identifier too short", cfg: howto,
			opts: raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 2), wantCode: rej, want: raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 2)},
		{name: "Interface-Identifier without data", cfg: howto,
			opts: raw(OptInterfaceIdentifier), wantCode: rej, want: raw(OptInterfaceIdentifier)},
		{name: "Interface-Identifier too long", cfg: howto,
			opts: raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 0, 2, 0), wantCode: rej, want: raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 0, 2, 0)},

		// Options we never accept.
		{name: "IPHC compression", cfg: howto,
			opts:     cat(iio(id2), raw(OptIPv6CompressionProtocol, 0x00, 0x4f)),
			wantCode: rej, want: raw(OptIPv6CompressionProtocol, 0x00, 0x4f)},
		{name: "compression with parameters first", cfg: howto,
			opts:     cat(raw(OptIPv6CompressionProtocol, 0x00, 0x4f, 0x00, 0x0f, 0x00, 0x10), iio(id9)),
			wantCode: rej, want: raw(OptIPv6CompressionProtocol, 0x00, 0x4f, 0x00, 0x0f, 0x00, 0x10),
			wantErr: &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9}},
		{name: "compression alone: no Nak for the missing identifier", cfg: howto,
			opts:     raw(OptIPv6CompressionProtocol, 0x00, 0x03),
			wantCode: rej, want: raw(OptIPv6CompressionProtocol, 0x00, 0x03)},
		{name: "compression too short", cfg: howto,
			opts:     cat(iio(id2), raw(OptIPv6CompressionProtocol, 0x4f)),
			wantCode: rej, want: raw(OptIPv6CompressionProtocol, 0x4f)},
		{name: "unknown option", cfg: howto,
			opts:     cat(iio(id2), raw(0x55, 1, 2, 3)),
			wantCode: rej, want: raw(0x55, 1, 2, 3)},
		{name: "Reject wins over Nak", cfg: howto,
			opts:     cat(iio(id9), raw(0x55)),
			wantCode: rej, want: raw(0x55),
			wantErr: &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9}},
		{name: "duplicate Interface-Identifier", cfg: howto,
			opts:     cat(iio(id2), iio(id2)),
			wantCode: rej, want: iio(id2)},
		{name: "duplicate Interface-Identifier, the second different", cfg: Config{Local: id1},
			opts:     cat(iio(id2), iio(id9)),
			wantCode: rej, want: iio(id9)},
		{name: "duplicate compression", cfg: howto,
			opts:     cat(iio(id2), raw(OptIPv6CompressionProtocol, 0x00, 0x4f), raw(OptIPv6CompressionProtocol, 0x00, 0x4f)),
			wantCode: rej, want: cat(raw(OptIPv6CompressionProtocol, 0x00, 0x4f), raw(OptIPv6CompressionProtocol, 0x00, 0x4f))},

		// Malformed input, which the Automaton should have refused.
		{name: "zero-length option", cfg: howto,
			opts: []byte{OptInterfaceIdentifier, 0}, wantCode: rej, want: raw(OptInterfaceIdentifier)},
		{name: "length one", cfg: howto,
			opts: cat(iio(id2), []byte{0x81, 1}), wantCode: rej, want: raw(0x81)},
		{name: "single octet", cfg: howto,
			opts: []byte{OptInterfaceIdentifier}, wantCode: rej, want: raw(OptInterfaceIdentifier)},
		{name: "overrunning option", cfg: howto,
			opts: []byte{OptInterfaceIdentifier, 12, 0, 0, 0, 0, 0, 0, 0, 2}, wantCode: rej,
			want: raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 0, 2)},
		{name: "overrunning option after a good one", cfg: howto,
			opts: cat(iio(id2), []byte{OptIPv6CompressionProtocol, 6, 0}), wantCode: rej, want: raw(OptIPv6CompressionProtocol, 0)},
		{name: "long malformed tail", cfg: howto,
			opts: long, wantCode: rej, want: append([]byte{0x99, 255}, make([]byte, 253)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.cfg)
			prefix := []byte{0xee}
			in := bytes.Clone(tt.opts)
			code, got := h.CheckRequest(prefix, tt.opts, tt.rid)
			if !bytes.Equal(got[:1], prefix) {
				t.Fatalf("reply prefix overwritten: % x", got)
			}
			if !bytes.Equal(in, tt.opts) {
				t.Fatalf("CheckRequest changed the request")
			}
			got = got[1:]
			if code != tt.wantCode {
				t.Errorf("code = %v, want %v", code, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reply options (-want +got):\n%s", diff)
			}
			if err := ppp.CheckOptions(got); err != nil {
				t.Errorf("reply is malformed: %v", err)
			}
			if code == ack && !bytes.Equal(got, tt.opts) {
				t.Errorf("Ack % x does not repeat the request % x", got, tt.opts)
			}
			if diff := cmp.Diff(tt.wantErr, h.Err(), cmp.Comparer(errEqual)); diff != "" {
				t.Errorf("Err() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckRequestFreshSuggestions follows pppd: every request for the zero
// identifier, or for ours, gets a newly drawn suggestion when we have no
// Remote, and the last one is what a Nak offering it to us is compared with.
func TestCheckRequestFreshSuggestions(t *testing.T) {
	h := newHandler(t, Config{Local: id1, Rand: draws(idA, idB)})
	for _, want := range []InterfaceID{idA, idB} {
		code, got := h.CheckRequest(nil, iio(zero), false)
		if code != nak || !bytes.Equal(got, iio(want)) {
			t.Fatalf("got %v % x, want a Nak with %v", code, got, want)
		}
		if h.st.suggested != want {
			t.Errorf("suggested = %v, want %v", h.st.suggested, want)
		}
	}
	if code, got := h.CheckRequest(nil, iio(zero), false); code != rej || !bytes.Equal(got, iio(zero)) {
		t.Errorf("with Rand dry: got %v % x, want a Reject", code, got)
	}
}

// TestCheckRequestOmittedIdentifier follows pppd: a request without
// Interface-Identifier is Nak'd with Remote once; after that such requests
// are Acked, the peer is taken to use Remote, and a new negotiation starts
// over.
func TestCheckRequestOmittedIdentifier(t *testing.T) {
	h := newHandler(t, howto)
	steps := []struct {
		opts     []byte
		wantCode ppp.Code
		want     []byte
	}{
		{[]byte{}, nak, iio(id2)},
		{[]byte{}, ack, []byte{}},
		{[]byte{}, ack, []byte{}},
	}
	for i, s := range steps {
		code, got := h.CheckRequest(nil, s.opts, false)
		if code != s.wantCode || !bytes.Equal(got, s.want) {
			t.Errorf("step %d: got %v % x, want %v % x", i, code, got, s.wantCode, s.want)
		}
	}
	h.Acked(request(h))
	if n := upResult(t, h); n.Err != nil || n.Peer != id2 || n.Local != id1 {
		t.Errorf("Up reported %+v, want Local %v Peer %v", n, id1, id2)
	}
	h.Reset()
	if code, got := h.CheckRequest(nil, nil, false); code != nak || !bytes.Equal(got, iio(id2)) {
		t.Errorf("after Reset: got %v % x, want a Nak with the identifier", code, got)
	}
}

// TestCheckRequestRecordsHis checks that only an Ack records the peer's
// identifier, and that the last Ack decides.
func TestCheckRequestRecordsHis(t *testing.T) {
	h := newHandler(t, Config{Local: id1, Remote: id2, AcceptRemote: true})
	h.CheckRequest(nil, iio(zero), false)
	if h.st.acked || !h.st.his.IsZero() {
		t.Fatalf("a Nak recorded the peer's identifier: %+v", h.st)
	}
	if code, _ := h.CheckRequest(nil, iio(id9), false); code != ack {
		t.Fatalf("code = %v, want ConfAck", code)
	}
	if !h.st.acked || h.st.his != id9 {
		t.Fatalf("after the Ack: acked %v, his %v; want %v", h.st.acked, h.st.his, id9)
	}
	h.CheckRequest(nil, cat(iio(id7), raw(0x55)), false)
	if !h.st.acked || h.st.his != id9 {
		t.Fatalf("a Reject changed the peer's identifier: %+v", h.st)
	}
	if code, _ := h.CheckRequest(nil, []byte{}, false); code != nak {
		t.Fatalf("code = %v, want ConfNak", code)
	}
	if code, _ := h.CheckRequest(nil, []byte{}, false); code != ack {
		t.Fatalf("code = %v, want ConfAck", code)
	}
	if h.st.acked {
		t.Errorf("an Ack without the option kept the peer's identifier %v", h.st.his)
	}
}

func TestCheckRequestAllocs(t *testing.T) {
	handlers := []*Handler{
		newHandler(t, howto),
		newHandler(t, Config{Local: id1, Rand: seeded(1)}),
	}
	reply := make([]byte, 0, 256)
	requests := [][]byte{
		iio(id2),  // Ack (HOWTO), Ack
		iio(zero), // Nak with Remote, Nak with a random identifier
		iio(id1),  // collision
		cat(raw(OptIPv6CompressionProtocol, 0x00, 0x4f), iio(id9)), // Reject
		{},                              // Nak with the appended identifier, Ack
		{OptInterfaceIdentifier, 11, 0}, // malformed
	}
	for _, h := range handlers {
		for _, req := range requests {
			allocs := testing.AllocsPerRun(100, func() {
				h.st.nakMissing = true
				h.CheckRequest(reply[:0], req, false)
				h.CheckRequest(reply[:0], req, true)
			})
			if allocs != 0 {
				t.Errorf("CheckRequest(% x) allocates %v times per call", req, allocs)
			}
		}
	}
}

func BenchmarkCheckRequest(b *testing.B) {
	h := newHandler(b, howto)
	req := iio(id2)
	reply := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		h.CheckRequest(reply[:0], req, false)
	}
}
