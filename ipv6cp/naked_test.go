package ipv6cp

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// notRequesting stands for a peer that rejected our Interface-Identifier
// earlier: a Nak carrying it is then a hint.
func notRequesting(h *Handler) { h.st.request = false }

func TestNaked(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		prep    func(h *Handler) // runs after New, before the Nak
		nak     []byte
		rid     bool
		want    []byte // our next request
		wantErr error  // h.Err() afterwards
	}{
		// The Interface-Identifier we requested.
		{name: "no Local/take the suggestion", cfg: Config{Rand: draws(idA)},
			nak: iio(id2), want: iio(id2)},
		{name: "no Local/take pppd's suggestion", cfg: Config{Rand: draws(idA)},
			nak: iio(idB), want: iio(idB)},
		{name: "Local/insist", cfg: Config{Local: id9},
			nak: iio(id2), want: iio(id9),
			wantErr: &IdentifierError{Problem: LocalIdentifierConflict, Ours: id9, Theirs: id2}},
		{name: "Local/AcceptLocal", cfg: Config{Local: id9, AcceptLocal: true},
			nak: iio(id2), want: iio(id2)},
		{name: "Nak with our own value", cfg: Config{Local: id9},
			nak: iio(id9), want: iio(id9)},
		{name: "no Local/Nak with zero draws another", cfg: Config{Rand: draws(idA, idB)},
			nak: iio(zero), want: iio(idB)},
		{name: "no Local/Nak with zero, the draw repeats ours", cfg: Config{Rand: draws(idA, idA, idC)},
			nak: iio(zero), want: iio(idC)},
		{name: "no Local/Nak with zero, Rand dry", cfg: Config{Rand: draws(idA)},
			nak: iio(zero), want: iio(idA)},
		{name: "Local/Nak with zero", cfg: Config{Local: id9, AcceptLocal: true},
			nak: iio(zero), want: iio(id9)},
		{name: "no Local/Nak with the peer's Remote", cfg: Config{Remote: id2, Rand: draws(idA, idB)},
			nak: iio(id2), want: iio(idB)},
		{name: "no Local/Nak with the peer's acked identifier", cfg: Config{Rand: draws(idA, idB)},
			prep: func(h *Handler) { h.CheckRequest(nil, iio(id7), false) },
			nak:  iio(id7), want: iio(idB)},
		{name: "AcceptLocal/Nak with our suggestion to the peer", cfg: Config{Local: id1, AcceptLocal: true, Rand: draws(idC)},
			prep: func(h *Handler) { h.CheckRequest(nil, iio(zero), false) },
			nak:  iio(idC), want: iio(id1)},
		{name: "AcceptLocal/the peer's acked identifier is not its Remote", cfg: Config{Local: id1, Remote: id2, AcceptLocal: true, AcceptRemote: true},
			prep: func(h *Handler) { h.CheckRequest(nil, iio(id9), false) },
			nak:  iio(id2), want: iio(id2)},
		{name: "rejectIfDisagree/stop requesting", cfg: Config{Local: id9}, rid: true,
			nak: iio(id2), want: []byte{}},
		{name: "rejectIfDisagree/stop requesting even a suggestion we would take", cfg: Config{Rand: draws(idA)}, rid: true,
			nak: iio(id2), want: []byte{}},

		// Hints: an Interface-Identifier we did not request.
		{name: "hint taken", cfg: Config{Rand: draws(idA)}, prep: notRequesting,
			nak: iio(id7), want: iio(id7)},
		{name: "hint, Local kept and not requested", cfg: Config{Local: id9}, prep: notRequesting,
			nak: iio(id7), want: []byte{}},
		{name: "hint with AcceptLocal", cfg: Config{Local: id9, AcceptLocal: true}, prep: notRequesting,
			nak: iio(id7), want: iio(id7)},
		{name: "zero hint without Local", cfg: Config{Rand: draws(idA)}, prep: notRequesting,
			nak: iio(zero), want: iio(idA)},
		{name: "zero hint without Local, ours is the peer's", cfg: Config{Rand: draws(idA, idB)},
			prep: func(h *Handler) {
				h.st.request = false
				h.st.his, h.st.acked = idA, true
			},
			nak: iio(zero), want: iio(idB)},
		{name: "zero hint with Local", cfg: Config{Local: id9}, prep: notRequesting,
			nak: iio(zero), want: []byte{}},
		{name: "hint ignored with rejectIfDisagree", cfg: Config{Rand: draws(idA)}, prep: notRequesting, rid: true,
			nak: iio(id7), want: []byte{}},

		// Hints we ignore.
		{name: "compression hint", cfg: Config{Local: id1},
			nak: raw(OptIPv6CompressionProtocol, 0x00, 0x4f), want: iio(id1)},
		{name: "compression hint with parameters", cfg: Config{Local: id1},
			nak: raw(OptIPv6CompressionProtocol, 0x00, 0x4f, 0x00, 0x0f), want: iio(id1)},
		{name: "unknown hints", cfg: Config{Local: id1},
			nak: cat(raw(0x55), raw(0xfe, 1, 2, 3)), want: iio(id1)},
		{name: "empty Nak", cfg: Config{Local: id1},
			nak: []byte{}, want: iio(id1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.cfg)
			if tt.prep != nil {
				tt.prep(h)
			}
			if err := h.Naked(tt.nak, tt.rid); err != nil {
				t.Fatalf("Naked(% x) = %v", tt.nak, err)
			}
			if diff := cmp.Diff(tt.want, request(h)); diff != "" {
				t.Errorf("next request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, h.Err(), cmp.Comparer(errEqual)); diff != "" {
				t.Errorf("Err() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNakedConflictResolved checks that a later Nak we can follow, or the
// peer's Ack, clears a disagreement about our identifier.
func TestNakedConflictResolved(t *testing.T) {
	h := newHandler(t, Config{Local: id9})
	if err := h.Naked(iio(id2), false); err != nil {
		t.Fatal(err)
	}
	if h.Err() == nil {
		t.Fatal("no conflict recorded")
	}
	h.Acked(request(h))
	if err := h.Err(); err != nil {
		t.Errorf("Err() after the peer acked our identifier = %v", err)
	}
}

func TestNakedInvalid(t *testing.T) {
	tests := []struct {
		name string
		nak  []byte
	}{
		{"malformed", []byte{OptInterfaceIdentifier, 11, 0, 0, 0, 0, 0, 0, 0, 2}},
		{"zero length", []byte{OptInterfaceIdentifier, 0}},
		{"truncated", []byte{OptInterfaceIdentifier}},
		{"Interface-Identifier too short", raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 2)},
		{"Interface-Identifier too long", raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 0, 2, 0)},
		{"Interface-Identifier twice", cat(iio(id2), iio(id2))},
		{"Interface-Identifier twice, the first good", cat(iio(id2), raw(OptInterfaceIdentifier))},
		{"compression hint too short", raw(OptIPv6CompressionProtocol, 0x4f)},
		{"compression hint twice", cat(raw(OptIPv6CompressionProtocol, 0, 0x4f), raw(OptIPv6CompressionProtocol, 0, 0x4f))},
		{"unknown hint twice", cat(raw(0x55), raw(0x55))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rid := range []bool{false, true} {
				for _, prep := range []func(*Handler){func(*Handler) {}, notRequesting} {
					h := newHandler(t, Config{Rand: draws(idA, idB)})
					prep(h)
					before := *h
					if err := h.Naked(tt.nak, rid); err == nil {
						t.Errorf("Naked(% x, %v) accepted an invalid Nak", tt.nak, rid)
					}
					if !sameState(&before, h) {
						t.Errorf("Naked(% x, %v) changed the handler", tt.nak, rid)
					}
				}
			}
		})
	}
}

func TestRejected(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		rej  []byte
		want []byte // our next request
	}{
		{"Interface-Identifier", Config{Local: id1}, iio(id1), []byte{}},
		{"random identifier", Config{Rand: draws(idA)}, iio(idA), []byte{}},
		{"nothing", Config{Local: id1}, []byte{}, iio(id1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.cfg)
			if err := h.Rejected(tt.rej); err != nil {
				t.Fatalf("Rejected(% x) = %v", tt.rej, err)
			}
			if diff := cmp.Diff(tt.want, request(h)); diff != "" {
				t.Errorf("next request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRejectedInvalid(t *testing.T) {
	tests := []struct {
		name string
		prep func(h *Handler)
		rej  []byte
	}{
		{"malformed", nil, []byte{OptInterfaceIdentifier, 11, 0, 0, 0, 0, 0, 0, 0, 1}},
		{"zero length", nil, []byte{OptInterfaceIdentifier, 0, 0, 0}},
		{"other value", nil, iio(id2)},
		{"zero", nil, iio(zero)},
		{"too short", nil, raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 1)},
		{"twice", nil, cat(iio(id1), iio(id1))},
		{"not requested", notRequesting, iio(id1)},
		{"compression", nil, raw(OptIPv6CompressionProtocol, 0x00, 0x4f)},
		{"unknown", nil, raw(0x55)},
		{"ours, then unknown", nil, cat(iio(id1), raw(0x55))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, Config{Local: id1})
			if tt.prep != nil {
				tt.prep(h)
			}
			before := *h
			if err := h.Rejected(tt.rej); err == nil {
				t.Errorf("Rejected(% x) accepted an invalid Reject", tt.rej)
			}
			if !sameState(&before, h) {
				t.Errorf("Rejected(% x) changed the handler", tt.rej)
			}
		})
	}
}

// sameState reports whether two handlers hold the same negotiation state.
func sameState(a, b *Handler) bool {
	return a.st == b.st && a.err == b.err && a.tentative == b.tentative &&
		bytes.Equal(request(a), request(b))
}
