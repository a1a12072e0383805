package ipcp

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/internal/ncptest"
	"github.com/pppssh/pppssh/ppp"
)

// end is one side of an IPCP link under test (see internal/ncptest).
type end = ncptest.End[*Handler, Negotiated]

// newEnd returns an end named name with a Handler for c, whose callbacks
// report to the end.
func newEnd(t *testing.T, name string, c Config) *end {
	e := ncptest.NewEnd[*Handler](name, func(n Negotiated) error { return n.Err })
	c.Up, c.Down, c.Finished = e.Up, e.Down, e.Finish
	e.H = newHandler(t, c)
	return e
}

// runLink brings up IPCP between an end configured with ca and one with cb
// and runs it until nothing is left to send and no restart timer is armed.
func runLink(t *testing.T, ca, cb Config) (a, b *end, w *ncptest.Wire[*Handler, Negotiated]) {
	t.Helper()
	a, b = newEnd(t, "A", ca), newEnd(t, "B", cb)
	w = ncptest.NewWire(ppp.ProtoIPCP, a.H, a, b, ncptest.Setup{}, ncptest.Setup{})
	w.Run(t)
	return a, b, w
}

func TestLink(t *testing.T) {
	tests := []struct {
		name           string
		a, b           Config
		wantA, wantB   Negotiated
		wantBDNSOffers bool
	}{
		{name: "HOWTO: one side configured", a: howto, b: Config{},
			wantA: Negotiated{Local: addr1, Peer: addr2}, wantB: Negotiated{Local: addr2, Peer: addr1}},
		{name: "both configured", a: howto, b: Config{Local: addr2, Remote: addr1},
			wantA: Negotiated{Local: addr1, Peer: addr2}, wantB: Negotiated{Local: addr2, Peer: addr1}},
		{name: "local halves only", a: Config{Local: addr1}, b: Config{Local: addr2},
			wantA: Negotiated{Local: addr1, Peer: addr2}, wantB: Negotiated{Local: addr2, Peer: addr1}},
		{name: "remote halves only", a: Config{Remote: addr2}, b: Config{Remote: addr1},
			wantA: Negotiated{Local: addr1, Peer: addr2}, wantB: Negotiated{Local: addr2, Peer: addr1}},
		{name: "AcceptRemote", a: Config{Local: addr1, Remote: addr2, AcceptRemote: true}, b: Config{Local: addr9},
			wantA: Negotiated{Local: addr1, Peer: addr9}, wantB: Negotiated{Local: addr9, Peer: addr1}},
		{name: "AcceptLocal", a: howto, b: Config{Local: addr9, AcceptLocal: true},
			wantA: Negotiated{Local: addr1, Peer: addr2}, wantB: Negotiated{Local: addr2, Peer: addr1}},
		{name: "DNS offered, usepeerdns",
			a:     Config{Local: addr1, Remote: addr2, DNS: [2]netip.Addr{dns1, dns2}},
			b:     Config{UsePeerDNS: true},
			wantA: Negotiated{Local: addr1, Peer: addr2, OfferedDNS: [2]netip.Addr{dns1, dns2}},
			wantB: Negotiated{Local: addr2, Peer: addr1, DNS: [2]netip.Addr{dns1, dns2}}},
		{name: "one DNS offered, usepeerdns",
			a:     Config{Local: addr1, Remote: addr2, DNS: [2]netip.Addr{dns1}},
			b:     Config{UsePeerDNS: true},
			wantA: Negotiated{Local: addr1, Peer: addr2, OfferedDNS: [2]netip.Addr{dns1, dns1}},
			wantB: Negotiated{Local: addr2, Peer: addr1, DNS: [2]netip.Addr{dns1, dns1}}},
		{name: "DNS not offered, usepeerdns", a: howto, b: Config{UsePeerDNS: true},
			wantA: Negotiated{Local: addr1, Peer: addr2}, wantB: Negotiated{Local: addr2, Peer: addr1}},
		{name: "DNS offered, no usepeerdns",
			a:     Config{Local: addr1, Remote: addr2, DNS: [2]netip.Addr{dns1, dns2}},
			b:     Config{},
			wantA: Negotiated{Local: addr1, Peer: addr2}, wantB: Negotiated{Local: addr2, Peer: addr1}},
		{name: "both usepeerdns, both offering",
			a:     Config{Local: addr1, Remote: addr2, UsePeerDNS: true, DNS: [2]netip.Addr{dns1, dns2}},
			b:     Config{UsePeerDNS: true, DNS: [2]netip.Addr{dns2, dns1}},
			wantA: Negotiated{Local: addr1, Peer: addr2, DNS: [2]netip.Addr{dns2, dns1}, OfferedDNS: [2]netip.Addr{dns1, dns2}},
			wantB: Negotiated{Local: addr2, Peer: addr1, DNS: [2]netip.Addr{dns1, dns2}, OfferedDNS: [2]netip.Addr{dns2, dns1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, _ := runLink(t, tt.a, tt.b)
			ncptest.CheckOpened(t, a, tt.wantA, addrCmp, cmp.Comparer(errEqual))
			ncptest.CheckOpened(t, b, tt.wantB, addrCmp, cmp.Comparer(errEqual))
		})
	}
}

// TestLinkFailure runs configurations that cannot work. Each end must come
// to rest outside Opened with an *AddressError that explains why.
func TestLinkFailure(t *testing.T) {
	tests := []struct {
		name         string
		a, b         Config
		wantA, wantB error
		wantNaks     int // Configure-Naks A sends before the ends give up
	}{
		{name: "address conflict", a: howto, b: Config{Local: addr9, Remote: addr1}, wantNaks: ppp.DefaultMaxFailure,
			wantA: &AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9},
			wantB: &AddressError{Problem: LocalAddressConflict, Ours: addr9, Theirs: addr2}},
		{name: "nothing configured", a: Config{}, b: Config{},
			wantA: &AddressError{Problem: NoLocalAddress},
			wantB: &AddressError{Problem: NoLocalAddress}},
		{name: "no address for the peer", a: Config{Local: addr1}, b: Config{},
			wantA: &AddressError{Problem: NoPeerAddress},
			wantB: &AddressError{Problem: NoLocalAddress}},
		{name: "peer wants our address", a: Config{Local: addr1}, b: Config{Local: addr1},
			wantA: &AddressError{Problem: SameAddress, Ours: addr1},
			wantB: &AddressError{Problem: SameAddress, Ours: addr1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, w := runLink(t, tt.a, tt.b)
			if tt.wantNaks > 0 {
				naks := 0
				for _, l := range w.Trace {
					if strings.HasPrefix(l, "A>B [IPCP ConfNak") {
						naks++
					}
				}
				if naks != tt.wantNaks {
					t.Errorf("A sent %d Configure-Naks, want %d (Max-Failure)", naks, tt.wantNaks)
				}
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
				for _, n := range c.e.Ups {
					if n.Err == nil || n.Local.IsValid() || n.Peer.IsValid() {
						t.Errorf("%s: Up reported %+v", c.e.Name, n)
					}
				}
			}
		})
	}
}

// stubborn is a peer that keeps requesting its address however often it is
// Nak'd or Rejected, as some implementations do: it refuses every
// Configure-Reject, so its requests go unanswered.
type stubborn struct{ *Handler }

func (s stubborn) Naked(opts []byte, _ bool) error { return s.Handler.Naked(opts, false) }

func (s stubborn) Rejected(opts []byte) error { return errBadReject }

// TestLinkStubbornPeer checks that when an automaton gives up before
// Opened (Max-Configure, TO-), Err still explains the conflict that kept the
// negotiation from converging, on both ends.
func TestLinkStubbornPeer(t *testing.T) {
	a, b := newEnd(t, "A", howto), newEnd(t, "B", Config{Local: addr9, Remote: addr1})
	w := ncptest.NewWire(ppp.ProtoIPCP, a.H, a, b, ncptest.Setup{},
		ncptest.Setup{Wrap: func(h ppp.Handler) ppp.Handler { return stubborn{h.(*Handler)} }})
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
	wantA := &AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9}
	if diff := cmp.Diff(wantA, a.H.Err(), cmp.Comparer(errEqual)); diff != "" {
		t.Errorf("A: Err() (-want +got):\n%s", diff)
	}
	wantB := &AddressError{Problem: LocalAddressConflict, Ours: addr9, Theirs: addr2}
	if diff := cmp.Diff(wantB, b.H.Err(), cmp.Comparer(errEqual)); diff != "" {
		t.Errorf("B: Err() (-want +got):\n%s", diff)
	}
	if testing.Verbose() || t.Failed() {
		t.Logf("B: %v\ntrace:\n%s", b.A.Err(), strings.Join(w.Trace, "\n"))
	}
}
