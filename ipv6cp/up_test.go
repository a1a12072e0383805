package ipv6cp

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/internal/ncptest"
)

// TestUp drives one handler through a negotiation by hand, standing in for
// the automaton and the peer, and checks what Up reports.
func TestUp(t *testing.T) {
	type step = ncptest.Step
	tests := []struct {
		name  string
		cfg   Config
		prep  func(h *Handler)
		steps []step
		want  Negotiated
	}{
		{name: "HOWTO/configured end", cfg: howto,
			steps: []step{{PeerReq: iio(zero)}, {PeerReq: iio(id2)}},
			want:  Negotiated{Local: id1, Peer: id2}},
		{name: "HOWTO/unconfigured end", cfg: Config{Rand: draws(idA)},
			steps: []step{{Nak: iio(id2)}, {PeerReq: iio(id1)}},
			want:  Negotiated{Local: id2, Peer: id1}},
		{name: "random ends", cfg: Config{Rand: draws(idA)},
			steps: []step{{PeerReq: iio(idB)}},
			want:  Negotiated{Local: idA, Peer: idB}},
		{name: "pppd's random identifier, Remote accepted", cfg: Config{Local: id1, Remote: id2, AcceptRemote: true},
			steps: []step{{PeerReq: iio(idA)}},
			want:  Negotiated{Local: id1, Peer: idA}},
		{name: "collision resolved by our suggestion", cfg: Config{Rand: draws(idA, idC)},
			steps: []step{{PeerReq: iio(idA)}, {PeerReq: iio(idC)}},
			want:  Negotiated{Local: idA, Peer: idC}},
		{name: "peer omits its identifier, Remote assumed", cfg: howto,
			steps: []step{{PeerReq: []byte{}}, {PeerReq: []byte{}}},
			want:  Negotiated{Local: id1, Peer: id2}},
		{name: "peer rejects ours, we keep it", cfg: howto,
			steps: []step{{Rej: iio(id1)}, {PeerReq: iio(id2)}},
			want:  Negotiated{Local: id1, Peer: id2}},
		{name: "UseIPAddr", cfg: Config{UseIPAddr: true, LocalIPv4: addr("192.0.2.1"), RemoteIPv4: addr("192.0.2.2")},
			steps: []step{{PeerReq: iio(InterfaceID{4: 192, 5: 0, 6: 2, 7: 2})}},
			want:  Negotiated{Local: InterfaceID{4: 192, 5: 0, 6: 2, 7: 1}, Peer: InterfaceID{4: 192, 5: 0, 6: 2, 7: 2}}},

		// Failures.
		{name: "peer conflict", cfg: howto,
			steps: []step{
				{PeerReq: iio(id9)},
				{PeerReq: iio(id9), RID: true},
				{PeerReq: []byte{}, RID: true},
			},
			want: Negotiated{Err: &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9}}},
		{name: "local conflict", cfg: Config{Local: id9, Remote: id1},
			steps: []step{
				{Nak: iio(id2)},
				{Nak: iio(id2), NakRID: true},
				{PeerReq: iio(id1)},
			},
			want: Negotiated{Err: &IdentifierError{Problem: LocalIdentifierConflict, Ours: id9, Theirs: id2}}},
		{name: "no peer identifier", cfg: Config{Local: id1},
			steps: []step{{PeerReq: []byte{}}},
			want:  Negotiated{Err: &IdentifierError{Problem: NoPeerIdentifier}}},
		{name: "peer asks, we give up", cfg: Config{Local: id1},
			steps: []step{{PeerReq: iio(zero), RID: true}, {PeerReq: []byte{}}},
			want:  Negotiated{Err: &IdentifierError{Problem: NoPeerIdentifier}}},
		{name: "peer wants ours, gives up", cfg: Config{Local: id1, Rand: draws(idC)},
			steps: []step{{PeerReq: iio(id1)}, {PeerReq: iio(id1), RID: true}, {PeerReq: []byte{}}},
			want:  Negotiated{Err: &IdentifierError{Problem: SameIdentifier, Ours: id1}}},
		{name: "both configured the same", cfg: Config{Local: id1, Rand: draws(idC)},
			steps: []step{
				{PeerReq: iio(id1)},
				{Nak: iio(id7)},
				{Nak: iio(id7), NakRID: true},
				{PeerReq: iio(id1), RID: true},
				{PeerReq: []byte{}},
			},
			want: Negotiated{Err: &IdentifierError{Problem: SameIdentifier, Ours: id1}}},
		{name: "equal identifiers at Up", cfg: howto,
			prep:  func(h *Handler) { h.st.ours = id2 }, // cannot happen through the options
			steps: []step{{PeerReq: []byte{}}, {PeerReq: []byte{}}},
			want:  Negotiated{Err: &IdentifierError{Problem: SameIdentifier, Ours: id2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.cfg)
			if tt.prep != nil {
				tt.prep(h)
			}
			ncptest.Replay(t, h, tt.steps)
			n := upResult(t, h)
			if diff := cmp.Diff(tt.want, n, cmp.Comparer(errEqual)); diff != "" {
				t.Errorf("Negotiated (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Err, h.Err(), cmp.Comparer(errEqual)); diff != "" {
				t.Errorf("Err() (-want +got):\n%s", diff)
			}
			if n.Err == nil && (n.LocalAddr() != n.Local.LinkLocal() || n.PeerAddr() != n.Peer.LinkLocal()) {
				t.Errorf("LocalAddr %v, PeerAddr %v for %+v", n.LocalAddr(), n.PeerAddr(), n)
			}
			if n.Err != nil && (n.LocalAddr().IsValid() || n.PeerAddr().IsValid()) {
				t.Errorf("LocalAddr %v, PeerAddr %v with an error", n.LocalAddr(), n.PeerAddr())
			}
			h.Reset()
			if err := h.Err(); err != nil {
				t.Errorf("Err() after Reset = %v", err)
			}
		})
	}
}

func TestNegotiatedAddrs(t *testing.T) {
	n := Negotiated{Local: idA, Peer: id2}
	if got, want := n.LocalAddr(), addr("fe80::580b:6152:aa75:c002"); got != want {
		t.Errorf("LocalAddr() = %v, want %v", got, want)
	}
	if got, want := n.PeerAddr(), addr("fe80::2"); got != want {
		t.Errorf("PeerAddr() = %v, want %v", got, want)
	}
	if got := n.LocalAddr(); !got.IsLinkLocalUnicast() {
		t.Errorf("%v is not link-local", got)
	}
	var none Negotiated
	if none.LocalAddr().IsValid() || none.PeerAddr().IsValid() {
		t.Errorf("zero Negotiated gives addresses %v, %v", none.LocalAddr(), none.PeerAddr())
	}
}

func TestIdentifierErrorMessages(t *testing.T) {
	tests := []struct {
		err  IdentifierError
		want string
	}{
		{IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9},
			"ipv6cp: interface identifier conflict: we require peer ::2, peer insists on ::9 (set ipv6cp-accept-remote or fix the configuration)"},
		{IdentifierError{Problem: LocalIdentifierConflict, Ours: id9, Theirs: idA},
			"ipv6cp: interface identifier conflict: we require local ::9, peer insists on giving us ::580b:6152:aa75:c002 (set ipv6cp-accept-local or fix the configuration)"},
		{IdentifierError{Problem: SameIdentifier, Ours: id1},
			"ipv6cp: interface identifier conflict: peer wants our own identifier ::1 (give each end its own identifier, or set ipv6cp-accept-local on one end)"},
		{IdentifierError{Problem: NoPeerIdentifier},
			"ipv6cp: could not determine remote interface identifier (configure one for the peer, or use a peer that sends its own)"},
		{IdentifierError{}, "ipv6cp: interface identifier problem"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestCallbacks(t *testing.T) {
	var calls []string
	h := newHandler(t, Config{
		Local:    id1,
		Remote:   id2,
		Up:       func(Negotiated) { calls = append(calls, "up") },
		Down:     func() { calls = append(calls, "down") },
		Started:  func() { calls = append(calls, "started") },
		Finished: func() { calls = append(calls, "finished") },
	})
	h.Started()
	h.Up()
	h.Down()
	h.Finished()
	if got, want := strings.Join(calls, " "), "started up down finished"; got != want {
		t.Errorf("callbacks = %q, want %q", got, want)
	}
	// Without callbacks nothing breaks.
	h = newHandler(t, howto)
	h.Started()
	h.Up()
	h.Down()
	h.Finished()
}

func TestNew(t *testing.T) {
	good := []struct {
		cfg                       Config
		tentative, local, remote  InterfaceID
		acceptLocal, acceptRemote bool
	}{
		{cfg: Config{Rand: draws(idA)}, tentative: idA, acceptLocal: true, acceptRemote: true},
		{cfg: howto, tentative: id1, local: id1, remote: id2},
		{cfg: Config{Local: id1, Remote: id2, AcceptLocal: true}, tentative: id1, local: id1, remote: id2, acceptLocal: true},
		// The random identifier avoids Remote and zero.
		{cfg: Config{Remote: id2, Rand: draws(zero, id2, idB)}, tentative: idB, remote: id2, acceptLocal: true},
		// pppd's ipv6cp-use-ipaddr.
		{cfg: Config{UseIPAddr: true, LocalIPv4: addr("192.0.2.1"), RemoteIPv4: addr("::ffff:192.0.2.2")},
			tentative: InterfaceID{4: 192, 6: 2, 7: 1}, local: InterfaceID{4: 192, 6: 2, 7: 1}, remote: InterfaceID{4: 192, 6: 2, 7: 2}},
		{cfg: Config{UseIPAddr: true, Local: id1, LocalIPv4: addr("192.0.2.1"), RemoteIPv4: addr("0.0.0.0"), Rand: draws(idA)},
			tentative: id1, local: id1, acceptRemote: true},
		{cfg: Config{UseIPAddr: true, RemoteIPv4: addr("192.0.2.2"), Rand: draws(idA)},
			tentative: idA, remote: InterfaceID{4: 192, 6: 2, 7: 2}, acceptLocal: true},
		// Without UseIPAddr the addresses are not used.
		{cfg: Config{LocalIPv4: addr("192.0.2.1"), Rand: draws(idA)}, tentative: idA, acceptLocal: true, acceptRemote: true},
	}
	for _, g := range good {
		h := newHandler(t, g.cfg)
		if h.tentative != g.tentative || h.local != g.local || h.remote != g.remote ||
			h.acceptLocal != g.acceptLocal || h.acceptRemote != g.acceptRemote {
			t.Errorf("New(%+v): tentative %v local %v remote %v acceptLocal %v acceptRemote %v; want %v %v %v %v %v",
				g.cfg, h.tentative, h.local, h.remote, h.acceptLocal, h.acceptRemote,
				g.tentative, g.local, g.remote, g.acceptLocal, g.acceptRemote)
		}
		if got, want := request(h), iio(g.tentative); string(got) != string(want) {
			t.Errorf("New(%+v): request % x, want % x", g.cfg, got, want)
		}
	}

	// crypto/rand is the default.
	h, err := New(Config{})
	if err != nil || h.tentative.IsZero() || h.tentative[0]&2 != 0 {
		t.Errorf("New(Config{}) = %v, %v: want a random identifier with the universal/local bit clear", h, err)
	}

	bad := []struct {
		cfg  Config
		want string
	}{
		{Config{Local: id1, Remote: id1}, "ipv6cp: Local and Remote are both ::1 (each end needs its own interface identifier)"},
		{Config{UseIPAddr: true, LocalIPv4: addr("192.0.2.1"), RemoteIPv4: addr("192.0.2.1")},
			"ipv6cp: Local and Remote are both ::c000:201 (each end needs its own interface identifier)"},
		{Config{UseIPAddr: true, LocalIPv4: addr("2001:db8::1")}, "ipv6cp: LocalIPv4 2001:db8::1 is not an IPv4 address"},
		{Config{UseIPAddr: true, Local: id1, RemoteIPv4: addr("fe80::2")}, "ipv6cp: RemoteIPv4 fe80::2 is not an IPv4 address"},
		{Config{Rand: draws()}, "ipv6cp: Rand gave no usable random interface identifier (set Local, or give Rand a working source of randomness)"},
		{Config{Rand: strings.NewReader(strings.Repeat("\x00", 8*maxDraws+8))},
			"ipv6cp: Rand gave no usable random interface identifier (set Local, or give Rand a working source of randomness)"},
	}
	for _, tt := range bad {
		_, err := New(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestInterfaceID(t *testing.T) {
	tests := []struct {
		id        InterfaceID
		str       string
		linkLocal netip.Addr
	}{
		{id1, "::1", addr("fe80::1")},
		{InterfaceID{4: 0xde, 5: 0xad, 6: 0xbe, 7: 0xef}, "::dead:beef", addr("fe80::dead:beef")},
		{InterfaceID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, "::123:4567:89ab:cdef", addr("fe80::123:4567:89ab:cdef")},
		{idA, "::580b:6152:aa75:c002", addr("fe80::580b:6152:aa75:c002")},
		{InterfaceID{2: 0xff, 3: 0xff, 4: 192, 6: 2, 7: 1}, "::ffff:192.0.2.1", addr("fe80::ffff:c000:201")},
		{zero, "::", netip.Addr{}},
	}
	for _, tt := range tests {
		if got := tt.id.String(); got != tt.str {
			t.Errorf("% x: String() = %q, want %q", tt.id[:], got, tt.str)
		}
		if got := tt.id.LinkLocal(); got != tt.linkLocal {
			t.Errorf("% x: LinkLocal() = %v, want %v", tt.id[:], got, tt.linkLocal)
		}
		if got := tt.id.IsZero(); got != (tt.id == zero) {
			t.Errorf("% x: IsZero() = %v", tt.id[:], got)
		}
	}
}
