package ipv6cp

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/internal/ncptest"
	"github.com/pppssh/pppssh/ppp"
)

// end is one side of an IPV6CP link under test (see internal/ncptest).
type end = ncptest.End[*Handler, Negotiated]

// wire joins two ends.
type wire = ncptest.Wire[*Handler, Negotiated]

// endSetup configures one end: its Config, optionally a test peer wrapping
// its Handler, and its automaton's Max-Failure (0 for the default).
type endSetup struct {
	cfg        Config
	wrap       func(h *Handler) ppp.Handler
	maxFailure int
}

// newEnd returns an end named name with a Handler for s.cfg, whose
// callbacks report to the end; an Up also logs the link-local addresses as
// pppd does.
func newEnd(t *testing.T, name string, s endSetup) (*end, ncptest.Setup) {
	e := ncptest.NewEnd[*Handler](name, func(n Negotiated) error { return n.Err })
	c := s.cfg
	c.Up = func(n Negotiated) {
		e.Up(n)
		if n.Err == nil {
			e.Log = append(e.Log,
				string(appendLinkLocal([]byte("local  LL address "), n.Local)),
				string(appendLinkLocal([]byte("remote LL address "), n.Peer)))
		}
	}
	c.Down, c.Finished = e.Down, e.Finish
	e.H = newHandler(t, c)
	set := ncptest.Setup{MaxFailure: s.maxFailure}
	if s.wrap != nil {
		set.Wrap = func(h ppp.Handler) ppp.Handler { return s.wrap(h.(*Handler)) }
	}
	return e, set
}

// newWire makes the two ends and the wire between them.
func newWire(t *testing.T, sa, sb endSetup) (a, b *end, w *wire) {
	a, seta := newEnd(t, "A", sa)
	b, setb := newEnd(t, "B", sb)
	return a, b, ncptest.NewWire(ppp.ProtoIPV6CP, a.H, a, b, seta, setb)
}

// runLink brings up IPV6CP between two ends and runs it until nothing is
// left to send and no restart timer is armed.
func runLink(t *testing.T, sa, sb endSetup) (a, b *end, w *wire) {
	t.Helper()
	a, b, w = newWire(t, sa, sb)
	w.Run(t)
	return a, b, w
}

// asker is a peer that first requests the zero identifier, asking us to
// choose one for it (RFC 5072 section 4.1), and requests its own Handler's
// choice once it has a Nak.
type asker struct {
	*Handler
	answered bool
}

func (k *asker) Reset() {
	k.answered = false
	k.Handler.Reset()
}

func (k *asker) AppendRequest(b []byte) []byte {
	if !k.answered {
		return AppendInterfaceIdentifier(b, zero)
	}
	return k.Handler.AppendRequest(b)
}

func (k *asker) Naked(opts []byte, rejectIfDisagree bool) error {
	k.answered = true
	return k.Handler.Naked(opts, rejectIfDisagree)
}

// silent is a peer that never sends its identifier, as pppd with
// ipv6cp-nosend.
type silent struct{ *Handler }

func (silent) AppendRequest(b []byte) []byte { return b }
func (silent) Rejected(opts []byte) error    { return errBadReject }

func TestLink(t *testing.T) {
	ip := func(local, remote string) Config {
		return Config{UseIPAddr: true, LocalIPv4: addr(local), RemoteIPv4: addr(remote)}
	}
	id11, id12 := InterfaceID{5: 1, 7: 1}, InterfaceID{5: 1, 7: 2} // ::1:1, ::1:2
	v4 := func(a, b, c, d byte) InterfaceID { return InterfaceID{4: a, 5: b, 6: c, 7: d} }
	tests := []struct {
		name         string
		a, b         endSetup
		wantA, wantB Negotiated
	}{
		{name: "HOWTO: one side configured, the other random",
			a: endSetup{cfg: howto}, b: endSetup{cfg: Config{Rand: draws(idA)}},
			wantA: Negotiated{Local: id1, Peer: id2}, wantB: Negotiated{Local: id2, Peer: id1}},
		{name: "both configured",
			a: endSetup{cfg: howto}, b: endSetup{cfg: Config{Local: id2, Remote: id1}},
			wantA: Negotiated{Local: id1, Peer: id2}, wantB: Negotiated{Local: id2, Peer: id1}},
		{name: "local halves only",
			a: endSetup{cfg: Config{Local: id1}}, b: endSetup{cfg: Config{Local: id2}},
			wantA: Negotiated{Local: id1, Peer: id2}, wantB: Negotiated{Local: id2, Peer: id1}},
		{name: "remote halves only",
			a: endSetup{cfg: Config{Remote: id2, Rand: draws(idA)}}, b: endSetup{cfg: Config{Remote: id1, Rand: draws(idB)}},
			wantA: Negotiated{Local: id1, Peer: id2}, wantB: Negotiated{Local: id2, Peer: id1}},
		{name: "both random",
			a: endSetup{cfg: Config{Rand: draws(idA)}}, b: endSetup{cfg: Config{Rand: draws(idB)}},
			wantA: Negotiated{Local: idA, Peer: idB}, wantB: Negotiated{Local: idB, Peer: idA}},
		{name: "random identifiers collide",
			a: endSetup{cfg: Config{Rand: draws(idA, idB)}}, b: endSetup{cfg: Config{Rand: draws(idA, idC)}},
			wantA: Negotiated{Local: idC, Peer: idB}, wantB: Negotiated{Local: idB, Peer: idC}},
		{name: "both configured the same, one accepts a suggestion",
			a: endSetup{cfg: Config{Local: id1, Rand: draws(idC)}}, b: endSetup{cfg: Config{Local: id1, AcceptLocal: true, Rand: draws(idA)}},
			wantA: Negotiated{Local: id1, Peer: idC}, wantB: Negotiated{Local: idC, Peer: id1}},
		{name: "AcceptLocal",
			a: endSetup{cfg: howto}, b: endSetup{cfg: Config{Local: id9, AcceptLocal: true}},
			wantA: Negotiated{Local: id1, Peer: id2}, wantB: Negotiated{Local: id2, Peer: id1}},
		{name: "AcceptRemote",
			a: endSetup{cfg: Config{Local: id1, Remote: id2, AcceptRemote: true}}, b: endSetup{cfg: Config{Local: id9}},
			wantA: Negotiated{Local: id1, Peer: id9}, wantB: Negotiated{Local: id9, Peer: id1}},
		{name: "pppd's accept-local and accept-remote against strict identifiers",
			a:     endSetup{cfg: Config{Local: id2, Remote: id1, AcceptLocal: true, AcceptRemote: true}},
			b:     endSetup{cfg: Config{Local: id11, Remote: id12}},
			wantA: Negotiated{Local: id12, Peer: id11}, wantB: Negotiated{Local: id11, Peer: id12}},
		{name: "UseIPAddr",
			a: endSetup{cfg: ip("192.0.2.1", "192.0.2.2")}, b: endSetup{cfg: ip("192.0.2.2", "192.0.2.1")},
			wantA: Negotiated{Local: v4(192, 0, 2, 1), Peer: v4(192, 0, 2, 2)}, wantB: Negotiated{Local: v4(192, 0, 2, 2), Peer: v4(192, 0, 2, 1)}},
		{name: "peer asks for an identifier, we have Remote",
			a:     endSetup{cfg: howto},
			b:     endSetup{cfg: Config{Rand: draws(idA)}, wrap: func(h *Handler) ppp.Handler { return &asker{Handler: h} }},
			wantA: Negotiated{Local: id1, Peer: id2}, wantB: Negotiated{Local: id2, Peer: id1}},
		{name: "peer asks for an identifier, we suggest a random one",
			a:     endSetup{cfg: Config{Local: id1, Rand: draws(idC)}},
			b:     endSetup{cfg: Config{Rand: draws(idA)}, wrap: func(h *Handler) ppp.Handler { return &asker{Handler: h} }},
			wantA: Negotiated{Local: id1, Peer: idC}, wantB: Negotiated{Local: idC, Peer: id1}},
		{name: "peer never sends its identifier, Remote assumed",
			a:     endSetup{cfg: howto},
			b:     endSetup{cfg: Config{Local: id2}, wrap: func(h *Handler) ppp.Handler { return silent{h} }},
			wantA: Negotiated{Local: id1, Peer: id2}, wantB: Negotiated{Local: id2, Peer: id1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, _ := runLink(t, tt.a, tt.b)
			ncptest.CheckOpened(t, a, tt.wantA, cmp.Comparer(errEqual))
			ncptest.CheckOpened(t, b, tt.wantB, cmp.Comparer(errEqual))
		})
	}
}

// TestLinkPPPDLog runs the configurations of a negotiation between two pppd
// processes whose log pppd's developers published, and expects our end to
// send, receive and conclude exactly what pppd did.
func TestLinkPPPDLog(t *testing.T) {
	b, err := os.ReadFile("testdata/pppd-accept-local-remote.log")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimSuffix(l, "\n"); l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	local, remote, err := ParseIdentifiers("::2,::1")
	if err != nil {
		t.Fatal(err)
	}
	peerLocal, peerRemote, err := ParseIdentifiers("::1:1,::1:2")
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := runLink(t,
		endSetup{cfg: Config{Local: local, Remote: remote, AcceptLocal: true, AcceptRemote: true}},
		endSetup{cfg: Config{Local: peerLocal, Remote: peerRemote}})
	if diff := cmp.Diff(want, a.Log); diff != "" {
		t.Errorf("our end's log (-pppd +ours):\n%s", diff)
	}
}

// TestLinkFailure runs configurations that cannot work. Each end must come
// to rest outside Opened with the *IdentifierError that explains why.
func TestLinkFailure(t *testing.T) {
	tests := []struct {
		name         string
		a, b         endSetup
		wantA, wantB error
		wantNaks     int  // Configure-Naks A sends before the ends give up
		wantRejects  bool // A ends up rejecting B's identifier (Max-Failure)
	}{
		{name: "identifier conflict",
			a: endSetup{cfg: howto}, b: endSetup{cfg: Config{Local: id9, Remote: id1}},
			wantNaks: ppp.DefaultMaxFailure,
			wantA:    &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9},
			wantB:    &IdentifierError{Problem: LocalIdentifierConflict, Ours: id9, Theirs: id2}},
		{name: "identifier conflict, peer with a higher Max-Failure",
			a: endSetup{cfg: howto}, b: endSetup{cfg: Config{Local: id9, Remote: id1}, maxFailure: 10},
			wantNaks: ppp.DefaultMaxFailure, wantRejects: true,
			wantA: &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9},
			wantB: &IdentifierError{Problem: LocalIdentifierConflict, Ours: id9, Theirs: id2}},
		{name: "both configured the same",
			a: endSetup{cfg: Config{Local: id1, Rand: seeded(1)}}, b: endSetup{cfg: Config{Local: id1, Rand: seeded(2)}},
			wantNaks: ppp.DefaultMaxFailure,
			wantA:    &IdentifierError{Problem: SameIdentifier, Ours: id1},
			wantB:    &IdentifierError{Problem: SameIdentifier, Ours: id1}},
		{name: "both configured the same, nothing to suggest",
			a: endSetup{cfg: Config{Local: id1}}, b: endSetup{cfg: Config{Local: id1}},
			wantRejects: true,
			wantA:       &IdentifierError{Problem: SameIdentifier, Ours: id1},
			wantB:       &IdentifierError{Problem: SameIdentifier, Ours: id1}},
		{name: "both configured the same with a Remote, both strict",
			a: endSetup{cfg: Config{Local: id1, Remote: id2}}, b: endSetup{cfg: Config{Local: id1, Remote: id2}},
			wantNaks: ppp.DefaultMaxFailure,
			wantA:    &IdentifierError{Problem: SameIdentifier, Ours: id1},
			wantB:    &IdentifierError{Problem: SameIdentifier, Ours: id1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, w := runLink(t, tt.a, tt.b)
			naks, rejects := 0, 0
			for _, l := range w.Trace {
				switch {
				case strings.HasPrefix(l, "A>B [IPV6CP ConfNak"):
					naks++
				case strings.HasPrefix(l, "A>B [IPV6CP ConfRej") && strings.Contains(l, "<addr "):
					rejects++
				}
			}
			if tt.wantNaks > 0 && naks != tt.wantNaks {
				t.Errorf("A sent %d Configure-Naks, want %d (Max-Failure)", naks, tt.wantNaks)
			}
			if tt.wantRejects != (rejects > 0) {
				t.Errorf("A sent %d Configure-Rejects of the identifier", rejects)
			}
			for _, c := range []struct {
				e    *end
				want error
			}{{a, tt.wantA}, {b, tt.wantB}} {
				if s := c.e.A.State(); s == ppp.StateOpened {
					t.Errorf("%s: still Opened", c.e.Name)
				}
				if diff := cmp.Diff(c.want, c.e.H.Err(), cmp.Comparer(errEqual)); diff != "" {
					t.Errorf("%s: Err() (-want +got):\n%s", c.e.Name, diff)
				}
				if len(c.e.Ups) == 0 {
					t.Errorf("%s: never came up to report the error", c.e.Name)
				}
				for _, n := range c.e.Ups {
					if n.Err == nil || !n.Local.IsZero() || !n.Peer.IsZero() {
						t.Errorf("%s: Up reported %+v", c.e.Name, n)
					}
				}
			}
		})
	}
}

// TestLinkNoPeerIdentifier: a peer that never sends its identifier, with no
// Remote configured for it, leaves our end without one; the peer itself
// came up, and goes down when we close.
func TestLinkNoPeerIdentifier(t *testing.T) {
	a, b, _ := runLink(t,
		endSetup{cfg: Config{Local: id1}},
		endSetup{cfg: Config{Local: id2}, wrap: func(h *Handler) ppp.Handler { return silent{h} }})
	want := &IdentifierError{Problem: NoPeerIdentifier}
	if diff := cmp.Diff(error(want), a.H.Err(), cmp.Comparer(errEqual)); diff != "" {
		t.Errorf("A: Err() (-want +got):\n%s", diff)
	}
	if len(a.Ups) != 1 || a.Ups[0].Err == nil {
		t.Errorf("A: Ups %+v, want one with the error", a.Ups)
	}
	if len(b.Ups) != 1 || b.Ups[0] != (Negotiated{Local: id2, Peer: id1}) {
		t.Errorf("B: Ups %+v, want one with ::2 and ::1", b.Ups)
	}
	if a.A.State() == ppp.StateOpened || b.A.State() == ppp.StateOpened || b.Downs != 1 {
		t.Errorf("A %v, B %v with %d Downs: want both closed", a.A.State(), b.A.State(), b.Downs)
	}
}

// stubborn is a peer that keeps requesting its identifier however often it
// is Nak'd or Rejected, as some implementations do: it refuses every
// Configure-Reject, so its requests go unanswered.
type stubborn struct{ *Handler }

func (s stubborn) Naked(opts []byte, _ bool) error { return s.Handler.Naked(opts, false) }

func (s stubborn) Rejected(opts []byte) error { return errBadReject }

// TestLinkStubbornPeer checks that when an automaton gives up before
// Opened (Max-Configure, TO-), Err still explains the conflict that kept the
// negotiation from converging, on both ends.
func TestLinkStubbornPeer(t *testing.T) {
	a, b, w := newWire(t, endSetup{cfg: howto}, endSetup{cfg: Config{Local: id9, Remote: id1},
		wrap: func(h *Handler) ppp.Handler { return stubborn{h} }})
	w.Start()
	// Run until B gives up; A, whose requests B keeps acknowledging, would
	// go on until its owner gave up.
	w.RunUntil(t, func() bool { return b.Finished > 0 })
	if len(a.Ups)+len(b.Ups) != 0 {
		t.Errorf("A: %d Ups, B: %d Ups; want none", len(a.Ups), len(b.Ups))
	}
	if b.A.Err() == nil {
		t.Error("B's automaton gave up without an error")
	}
	wantA := &IdentifierError{Problem: PeerIdentifierConflict, Ours: id2, Theirs: id9}
	if diff := cmp.Diff(wantA, a.H.Err(), cmp.Comparer(errEqual)); diff != "" {
		t.Errorf("A: Err() (-want +got):\n%s", diff)
	}
	wantB := &IdentifierError{Problem: LocalIdentifierConflict, Ours: id9, Theirs: id2}
	if diff := cmp.Diff(wantB, b.H.Err(), cmp.Comparer(errEqual)); diff != "" {
		t.Errorf("B: Err() (-want +got):\n%s", diff)
	}
	if testing.Verbose() || t.Failed() {
		t.Logf("B: %v\ntrace:\n%s", b.A.Err(), strings.Join(w.Trace, "\n"))
	}
}
