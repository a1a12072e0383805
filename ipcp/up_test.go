package ipcp

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/internal/ncptest"
)

// addrCmp compares netip.Addr values by ==, which is how the handler compares
// them.
var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// TestUp drives one handler through a negotiation by hand, standing in for
// the automaton and the peer, and checks what Up reports.
func TestUp(t *testing.T) {
	type step = ncptest.Step
	tests := []struct {
		name  string
		cfg   Config
		steps []step
		want  Negotiated
	}{
		{name: "HOWTO/configured end", cfg: howto,
			steps: []step{{PeerReq: ao(OptIPAddress, zero)}, {PeerReq: ao(OptIPAddress, addr2)}},
			want:  Negotiated{Local: addr1, Peer: addr2}},
		{name: "HOWTO/unconfigured end", cfg: Config{},
			steps: []step{{Nak: ao(OptIPAddress, addr2)}, {PeerReq: ao(OptIPAddress, addr1)}},
			want:  Negotiated{Local: addr2, Peer: addr1}},
		{name: "pppd capture", cfg: Config{},
			steps: []step{
				{PeerReq: cat(ao(OptIPAddress, netip.MustParseAddr("10.0.2.2")), raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01))},
				{PeerReq: ao(OptIPAddress, netip.MustParseAddr("10.0.2.2"))},
				{Nak: ao(OptIPAddress, netip.MustParseAddr("10.0.2.15"))},
			},
			want: Negotiated{Local: netip.MustParseAddr("10.0.2.15"), Peer: netip.MustParseAddr("10.0.2.2")}},
		{name: "peer omits its address, Remote assumed", cfg: howto,
			steps: []step{{PeerReq: []byte{}}, {PeerReq: []byte{}}},
			want:  Negotiated{Local: addr1, Peer: addr2}},
		{name: "UsePeerDNS and offered servers", cfg: Config{Local: addr1, Remote: addr2, UsePeerDNS: true,
			DNS: [2]netip.Addr{dns1, dns2}, NBNS: [2]netip.Addr{nbns1}},
			steps: []step{
				{Nak: cat(ao(OptPrimaryDNS, dns2), ao(OptSecondaryDNS, dns1))},
				{PeerReq: cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns1), ao(OptSecondaryNBNS, nbns1))},
			},
			want: Negotiated{Local: addr1, Peer: addr2, DNS: [2]netip.Addr{dns2, dns1},
				OfferedDNS: [2]netip.Addr{dns1}, OfferedNBNS: [2]netip.Addr{{}, nbns1}}},
		{name: "UsePeerDNS, peer rejects one", cfg: Config{Local: addr1, Remote: addr2, UsePeerDNS: true},
			steps: []step{
				{Rej: ao(OptSecondaryDNS, zero)},
				{Nak: ao(OptPrimaryDNS, dns1)},
				{PeerReq: ao(OptIPAddress, addr2)},
			},
			want: Negotiated{Local: addr1, Peer: addr2, DNS: [2]netip.Addr{dns1}}},
		{name: "UsePeerDNS, peer acks 0.0.0.0", cfg: Config{Local: addr1, Remote: addr2, UsePeerDNS: true},
			steps: []step{{PeerReq: ao(OptIPAddress, addr2)}},
			want:  Negotiated{Local: addr1, Peer: addr2}},
		{name: "DNS hint without UsePeerDNS is not reported", cfg: howto,
			steps: []step{{Nak: ao(OptPrimaryDNS, dns1)}, {PeerReq: ao(OptIPAddress, addr2)}},
			want:  Negotiated{Local: addr1, Peer: addr2}},

		// Failures.
		{name: "peer conflict", cfg: howto,
			steps: []step{
				{PeerReq: ao(OptIPAddress, addr9)},
				{PeerReq: ao(OptIPAddress, addr9), RID: true},
				{PeerReq: []byte{}, RID: true},
			},
			want: Negotiated{Err: &AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9}}},
		{name: "local conflict", cfg: Config{Local: addr9},
			steps: []step{
				{Nak: ao(OptIPAddress, addr2)},
				{Nak: ao(OptIPAddress, addr2), NakRID: true},
				{PeerReq: ao(OptIPAddress, addr1)},
			},
			want: Negotiated{Err: &AddressError{Problem: LocalAddressConflict, Ours: addr9, Theirs: addr2}}},
		{name: "no local address", cfg: Config{},
			steps: []step{{Rej: ao(OptIPAddress, zero)}, {PeerReq: ao(OptIPAddress, addr1)}},
			want:  Negotiated{Err: &AddressError{Problem: NoLocalAddress}}},
		{name: "peer acks 0.0.0.0", cfg: Config{},
			steps: []step{{PeerReq: ao(OptIPAddress, addr1)}},
			want:  Negotiated{Err: &AddressError{Problem: NoLocalAddress}}},
		{name: "local address refused", cfg: Config{Local: addr1},
			steps: []step{{Rej: ao(OptIPAddress, addr1)}, {PeerReq: ao(OptIPAddress, addr2)}},
			want:  Negotiated{Err: &AddressError{Problem: LocalAddressRefused, Ours: addr1}}},
		{name: "assigned address kept after a Reject", cfg: Config{},
			steps: []step{{Nak: ao(OptIPAddress, addr7)}, {Rej: ao(OptIPAddress, addr7)}, {PeerReq: ao(OptIPAddress, addr1)}},
			want:  Negotiated{Local: addr7, Peer: addr1}},
		{name: "no peer address", cfg: Config{Local: addr1},
			steps: []step{{PeerReq: []byte{}}},
			want:  Negotiated{Err: &AddressError{Problem: NoPeerAddress}}},
		{name: "peer asks, we have nothing", cfg: Config{Local: addr1},
			steps: []step{{PeerReq: ao(OptIPAddress, zero)}, {PeerReq: []byte{}}},
			want:  Negotiated{Err: &AddressError{Problem: NoPeerAddress}}},
		{name: "same address", cfg: Config{},
			steps: []step{{PeerReq: ao(OptIPAddress, addr7)}, {Nak: ao(OptIPAddress, addr7)}},
			want:  Negotiated{Err: &AddressError{Problem: SameAddress, Ours: addr7}}},
		{name: "peer wants ours, gives up", cfg: Config{Local: addr1},
			steps: []step{{PeerReq: ao(OptIPAddress, addr1)}, {PeerReq: []byte{}}},
			want:  Negotiated{Err: &AddressError{Problem: SameAddress, Ours: addr1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.cfg)
			h.Reset()
			ncptest.Replay(t, h, tt.steps)
			n := upResult(t, h)
			if diff := cmp.Diff(tt.want, n, addrCmp, cmp.Comparer(errEqual)); diff != "" {
				t.Errorf("Negotiated (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Err, h.Err(), cmp.Comparer(errEqual)); diff != "" {
				t.Errorf("Err() (-want +got):\n%s", diff)
			}
			h.Reset()
			if err := h.Err(); err != nil {
				t.Errorf("Err() after Reset = %v", err)
			}
		})
	}
}

func TestAddressErrorMessages(t *testing.T) {
	tests := []struct {
		err  AddressError
		want string
	}{
		{AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9},
			"ipcp: address conflict: we require peer 192.0.2.2, peer insists on 192.0.2.9 (set ipcp-accept-remote or fix the configuration)"},
		{AddressError{Problem: LocalAddressConflict, Ours: addr9, Theirs: addr2},
			"ipcp: address conflict: we require local 192.0.2.9, peer insists on giving us 192.0.2.2 (set ipcp-accept-local or fix the configuration)"},
		{AddressError{Problem: SameAddress, Ours: addr1},
			"ipcp: address conflict: peer wants our own address 192.0.2.1 (assign the peer another address or fix its configuration)"},
		{AddressError{Problem: LocalAddressRefused, Ours: addr1},
			"ipcp: peer refused to agree to our IP address 192.0.2.1 (leave the local address unset to let the peer assign one, or fix the peer's configuration)"},
		{AddressError{Problem: NoLocalAddress},
			"ipcp: could not determine local IP address (configure one, or use a peer that assigns one)"},
		{AddressError{Problem: NoPeerAddress},
			"ipcp: could not determine remote IP address (configure one for the peer, or use a peer that requests one)"},
		{AddressError{}, "ipcp: address problem"},
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
	h = newHandler(t, Config{})
	h.Started()
	h.Up()
	h.Down()
	h.Finished()
}

func TestNew(t *testing.T) {
	good := []Config{
		{},
		howto,
		{Local: netip.MustParseAddr("::ffff:192.0.2.1"), Remote: zero},
		{Local: zero, Remote: zero},
		{DNS: [2]netip.Addr{dns1}, NBNS: [2]netip.Addr{{}, nbns2}},
	}
	for _, c := range good {
		if _, err := New(c); err != nil {
			t.Errorf("New(%+v) = %v", c, err)
		}
	}
	h := newHandler(t, good[2])
	if h.want.local != addr1 || h.want.remote != zero || !h.want.acceptRemote || h.want.acceptLocal {
		t.Errorf("New(%+v) wants %+v", good[2], h.want)
	}

	bad := []struct {
		cfg  Config
		want string
	}{
		{Config{Local: netip.MustParseAddr("2001:db8::1")}, "ipcp: Local 2001:db8::1 is not an IPv4 address"},
		{Config{Remote: netip.MustParseAddr("224.0.0.5")}, "ipcp: Remote 224.0.0.5 is not a unicast address"},
		{Config{Local: netip.MustParseAddr("127.0.0.1")}, "ipcp: Local 127.0.0.1 is not a unicast address"},
		{Config{Local: addr1, Remote: addr1}, "ipcp: Local and Remote are both 192.0.2.1 (each end needs its own address)"},
		{Config{DNS: [2]netip.Addr{{}, netip.MustParseAddr("2001:db8::53")}}, "ipcp: DNS 2001:db8::53 is not an IPv4 address"},
		{Config{NBNS: [2]netip.Addr{netip.MustParseAddr("::1")}}, "ipcp: NBNS ::1 is not an IPv4 address"},
	}
	for _, tt := range bad {
		_, err := New(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}
