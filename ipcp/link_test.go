package ipcp

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/ppp"
)

// wire joins two automata back to back in memory. Packets are queued rather
// than delivered from inside Send, so that no automaton is entered while it
// is sending.
type wire struct {
	a, b  *end
	queue []queued
	trace []string // "A>B [IPCP ConfReq id=0x1 <addr 192.0.2.1>]", …
}

type queued struct {
	toB bool
	pkt []byte
}

func (w *wire) sendA(pkt []byte) { w.queue = append(w.queue, queued{true, bytes.Clone(pkt)}) }
func (w *wire) sendB(pkt []byte) { w.queue = append(w.queue, queued{false, bytes.Clone(pkt)}) }

// deliver passes the oldest queued packet on, then lets both owners act.
func (w *wire) deliver() {
	q := w.queue[0]
	w.queue = w.queue[1:]
	to, tag := w.b, "A>B "
	if !q.toB {
		to, tag = w.a, "B>A "
	}
	w.trace = append(w.trace, string(ppp.AppendPacketText([]byte(tag), ppp.ProtoIPCP, q.pkt, w.a.h)))
	to.a.Input(q.pkt)
	w.a.settle()
	w.b.settle()
}

// end is one side of an IPCP link: an automaton with our Handler, owned by
// the test as the link goroutine would own it.
type end struct {
	name  string
	h     *Handler
	a     *ppp.Automaton
	timer time.Duration // its restart timer's arming, 0 when stopped

	ups      []Negotiated // what Config.Up reported
	downs    int
	finished int
	closing  string // a Close the owner must make once the automaton returns
}

func newEnd(t *testing.T, name string, c Config, send func([]byte)) *end {
	e := &end{name: name}
	c.Up = func(n Negotiated) {
		e.ups = append(e.ups, n)
		if n.Err != nil {
			e.closing = n.Err.Error()
		}
	}
	c.Down = func() { e.downs++ }
	c.Finished = func() { e.finished++ }
	e.h = newHandler(t, c)
	e.a = ppp.NewAutomaton(ppp.Config{
		Protocol: ppp.ProtoIPCP,
		Handler:  e.h,
		Send:     send,
		Timer:    func(d time.Duration) { e.timer = d },
	})
	return e
}

// settle does what the owner does after each automaton call: the Close an
// unusable Up asked for.
func (e *end) settle() {
	if r := e.closing; r != "" {
		e.closing = ""
		e.a.Close(r)
	}
}

// runLink brings up IPCP between an end configured with ca and one with cb
// and runs it until nothing is left to send and no restart timer is armed,
// firing the timers when the wire is quiet, as the owners would.
func runLink(t *testing.T, ca, cb Config) (a, b *end, w *wire) {
	t.Helper()
	w = &wire{}
	a = newEnd(t, "A", ca, w.sendA)
	b = newEnd(t, "B", cb, w.sendB)
	w.a, w.b = a, b
	for _, e := range []*end{a, b} {
		e.a.Up()
		e.a.Open()
	}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("trace:\n%s", strings.Join(w.trace, "\n"))
		}
	})
	for steps := 0; ; steps++ {
		if steps > 1000 {
			t.Fatalf("the link did not settle: A %v, B %v", a.a.State(), b.a.State())
		}
		if len(w.queue) > 0 {
			w.deliver()
			continue
		}
		fired := false
		for _, e := range []*end{a, b} {
			if e.timer > 0 && e.a.State() != ppp.StateOpened {
				e.a.Timeout()
				e.settle()
				fired = true
				break
			}
		}
		if !fired {
			return a, b, w
		}
	}
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
			for _, c := range []struct {
				e    *end
				want Negotiated
			}{{a, tt.wantA}, {b, tt.wantB}} {
				if s := c.e.a.State(); s != ppp.StateOpened {
					t.Errorf("%s: state %v, want Opened (automaton: %v, ipcp: %v)", c.e.name, s, c.e.a.Err(), c.e.h.Err())
					continue
				}
				if len(c.e.ups) != 1 {
					t.Fatalf("%s: %d Ups, want 1", c.e.name, len(c.e.ups))
				}
				if diff := cmp.Diff(c.want, c.e.ups[0], addrCmp, cmp.Comparer(errEqual)); diff != "" {
					t.Errorf("%s: Negotiated (-want +got):\n%s", c.e.name, diff)
				}
				if err := c.e.h.Err(); err != nil {
					t.Errorf("%s: Err() = %v", c.e.name, err)
				}
			}
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
				for _, l := range w.trace {
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
				if s := c.e.a.State(); s == ppp.StateOpened {
					t.Errorf("%s: still Opened", c.e.name)
				}
				if diff := cmp.Diff(c.want, c.e.h.Err(), cmp.Comparer(errEqual)); diff != "" {
					t.Errorf("%s: Err() (-want +got):\n%s", c.e.name, diff)
				}
				for _, n := range c.e.ups {
					if n.Err == nil || n.Local.IsValid() || n.Peer.IsValid() {
						t.Errorf("%s: Up reported %+v", c.e.name, n)
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
	w := &wire{}
	a := newEnd(t, "A", howto, w.sendA)
	b := newEnd(t, "B", Config{Local: addr9, Remote: addr1}, w.sendB)
	b.a = ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoIPCP, Handler: stubborn{b.h}, Send: w.sendB,
		Timer: func(d time.Duration) { b.timer = d }})
	w.a, w.b = a, b
	for _, e := range []*end{a, b} {
		e.a.Up()
		e.a.Open()
	}
	// Run until B gives up; A, whose requests B keeps acknowledging, would
	// go on until its owner gave up.
	for steps := 0; b.finished == 0; steps++ {
		if steps > 1000 {
			t.Fatalf("B did not give up: A %v, B %v\n%s", a.a.State(), b.a.State(), strings.Join(w.trace, "\n"))
		}
		if len(w.queue) > 0 {
			w.deliver()
			continue
		}
		for _, e := range []*end{a, b} {
			if e.timer > 0 {
				e.a.Timeout()
			}
		}
	}
	if len(a.ups)+len(b.ups) != 0 {
		t.Errorf("A: %d Ups, B: %d Ups; want none", len(a.ups), len(b.ups))
	}
	if b.a.Err() == nil {
		t.Error("B's automaton gave up without an error")
	}
	wantA := &AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9}
	if diff := cmp.Diff(wantA, a.h.Err(), cmp.Comparer(errEqual)); diff != "" {
		t.Errorf("A: Err() (-want +got):\n%s", diff)
	}
	wantB := &AddressError{Problem: LocalAddressConflict, Ours: addr9, Theirs: addr2}
	if diff := cmp.Diff(wantB, b.h.Err(), cmp.Comparer(errEqual)); diff != "" {
		t.Errorf("B: Err() (-want +got):\n%s", diff)
	}
	if testing.Verbose() || t.Failed() {
		t.Logf("B: %v\ntrace:\n%s", b.a.Err(), strings.Join(w.trace, "\n"))
	}
}
