package ipcp

import (
	"bytes"
	"net/netip"
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
	dnsConf := Config{Local: addr1, Remote: addr2, DNS: [2]netip.Addr{dns1, dns2}, NBNS: [2]netip.Addr{nbns1, nbns2}}
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
		// IP-Address, RFC 1332 section 3.3, with pppd's rules.
		{name: "HOWTO/peer asks for an address", cfg: howto,
			opts: ao(OptIPAddress, zero), wantCode: nak, want: ao(OptIPAddress, addr2)},
		{name: "HOWTO/peer requests Remote", cfg: howto,
			opts: ao(OptIPAddress, addr2), wantCode: ack, want: ao(OptIPAddress, addr2)},
		{name: "HOWTO/peer requests another address", cfg: howto,
			opts: ao(OptIPAddress, addr9), wantCode: nak, want: ao(OptIPAddress, addr2),
			wantErr: &AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9}},
		{name: "HOWTO/peer requests another address/rejectIfDisagree", cfg: howto, rid: true,
			opts: ao(OptIPAddress, addr9), wantCode: rej, want: ao(OptIPAddress, addr9),
			wantErr: &AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9}},
		{name: "AcceptRemote/peer requests another address", cfg: Config{Local: addr1, Remote: addr2, AcceptRemote: true},
			opts: ao(OptIPAddress, addr9), wantCode: ack, want: ao(OptIPAddress, addr9)},
		{name: "AcceptRemote/peer asks for an address", cfg: Config{Local: addr1, Remote: addr2, AcceptRemote: true},
			opts: ao(OptIPAddress, zero), wantCode: nak, want: ao(OptIPAddress, addr2)},
		{name: "no Remote/peer requests an address", cfg: Config{Local: addr1},
			opts: ao(OptIPAddress, addr9), wantCode: ack, want: ao(OptIPAddress, addr9)},
		{name: "nothing configured/peer requests an address", cfg: Config{},
			opts: ao(OptIPAddress, addr1), wantCode: ack, want: ao(OptIPAddress, addr1)},
		{name: "no Remote/peer asks for an address", cfg: Config{Local: addr1},
			opts: ao(OptIPAddress, zero), wantCode: rej, want: ao(OptIPAddress, zero)},
		{name: "peer requests our address", cfg: howto,
			opts: ao(OptIPAddress, addr1), wantCode: nak, want: ao(OptIPAddress, addr2),
			wantErr: &AddressError{Problem: SameAddress, Ours: addr1}},
		{name: "no Remote/peer requests our address", cfg: Config{Local: addr1},
			opts: ao(OptIPAddress, addr1), wantCode: rej, want: ao(OptIPAddress, addr1),
			wantErr: &AddressError{Problem: SameAddress, Ours: addr1}},
		{name: "peer requests loopback", cfg: howto,
			opts: ao(OptIPAddress, netip.MustParseAddr("127.0.0.1")), wantCode: nak, want: ao(OptIPAddress, addr2)},
		{name: "no Remote/peer requests multicast", cfg: Config{},
			opts: ao(OptIPAddress, netip.MustParseAddr("224.0.0.1")), wantCode: rej,
			want: ao(OptIPAddress, netip.MustParseAddr("224.0.0.1"))},
		{name: "no Remote/peer requests broadcast", cfg: Config{AcceptRemote: true},
			opts: ao(OptIPAddress, netip.MustParseAddr("255.255.255.255")), wantCode: rej,
			want: ao(OptIPAddress, netip.MustParseAddr("255.255.255.255"))},
		{name: "peer omits its address", cfg: howto,
			opts: []byte{}, wantCode: nak, want: ao(OptIPAddress, addr2)},
		{name: "peer omits its address/rejectIfDisagree", cfg: howto, rid: true,
			opts: []byte{}, wantCode: ack, want: []byte{}},
		{name: "no Remote/peer omits its address", cfg: Config{Local: addr1},
			opts: []byte{}, wantCode: ack, want: []byte{}},
		{name: "IP-Address too short", cfg: howto,
			opts: raw(OptIPAddress, 192, 0), wantCode: rej, want: raw(OptIPAddress, 192, 0)},
		{name: "IP-Address without data", cfg: howto,
			opts: raw(OptIPAddress), wantCode: rej, want: raw(OptIPAddress)},
		{name: "IP-Address too long", cfg: howto,
			opts: raw(OptIPAddress, 192, 0, 2, 2, 0), wantCode: rej, want: raw(OptIPAddress, 192, 0, 2, 2, 0)},

		// Options we never accept.
		{name: "pppd's request: VJ rejected first", cfg: Config{Local: netip.MustParseAddr("10.0.2.2"), Remote: netip.MustParseAddr("10.0.2.15")},
			opts:     cat(raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01), ao(OptIPAddress, zero)),
			wantCode: rej, want: raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01)},
		{name: "old-style VJ", cfg: howto,
			opts:     cat(ao(OptIPAddress, addr2), raw(OptIPCompressionProtocol, 0x00, 0x37)),
			wantCode: rej, want: raw(OptIPCompressionProtocol, 0x00, 0x37)},
		{name: "IP-Addresses", cfg: howto,
			opts:     cat(raw(OptIPAddresses, 192, 0, 2, 2, 192, 0, 2, 1)),
			wantCode: rej, want: raw(OptIPAddresses, 192, 0, 2, 2, 192, 0, 2, 1)},
		{name: "unknown option", cfg: howto,
			opts:     cat(ao(OptIPAddress, addr2), raw(0x55, 1, 2, 3)),
			wantCode: rej, want: raw(0x55, 1, 2, 3)},
		{name: "Reject wins over Nak", cfg: howto,
			opts:     cat(ao(OptIPAddress, addr9), raw(0x55)),
			wantCode: rej, want: raw(0x55),
			wantErr: &AddressError{Problem: PeerAddressConflict, Ours: addr2, Theirs: addr9}},
		{name: "duplicate IP-Address", cfg: howto,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptIPAddress, addr2)),
			wantCode: rej, want: ao(OptIPAddress, addr2)},
		{name: "duplicate IP-Address, the second different", cfg: Config{},
			opts:     cat(ao(OptIPAddress, addr2), ao(OptIPAddress, addr9)),
			wantCode: rej, want: ao(OptIPAddress, addr9)},
		{name: "duplicate Primary-DNS", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns1), ao(OptPrimaryDNS, dns1)),
			wantCode: rej, want: ao(OptPrimaryDNS, dns1)},

		// Malformed input, which the Automaton should have refused.
		{name: "zero-length option", cfg: howto,
			opts: []byte{OptIPAddress, 0}, wantCode: rej, want: raw(OptIPAddress)},
		{name: "length one", cfg: howto,
			opts: cat(ao(OptIPAddress, addr2), []byte{0x81, 1}), wantCode: rej, want: raw(0x81)},
		{name: "single octet", cfg: howto,
			opts: []byte{OptIPAddress}, wantCode: rej, want: raw(OptIPAddress)},
		{name: "overrunning option", cfg: howto,
			opts: []byte{OptIPAddress, 8, 192, 0, 2, 2}, wantCode: rej, want: raw(OptIPAddress, 192, 0, 2, 2)},
		{name: "overrunning option after a good one", cfg: howto,
			opts: cat(ao(OptIPAddress, addr2), []byte{OptPrimaryDNS, 6, 0}), wantCode: rej, want: raw(OptPrimaryDNS, 0)},
		{name: "long malformed tail", cfg: howto,
			opts: long, wantCode: rej, want: append([]byte{0x99, 255}, make([]byte, 253)...)},

		// Name servers, RFC 1877.
		{name: "DNS/peer asks", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero)),
			wantCode: nak, want: cat(ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2))},
		{name: "DNS/peer has them", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2)),
			wantCode: ack, want: cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2))},
		{name: "DNS/peer requests other values", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns2), ao(OptSecondaryDNS, dns1)),
			wantCode: nak, want: cat(ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2))},
		{name: "DNS/one configured serves as both", cfg: Config{Remote: addr2, DNS: [2]netip.Addr{dns1}},
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero)),
			wantCode: nak, want: cat(ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns1))},
		{name: "DNS/only the secondary configured", cfg: Config{Remote: addr2, DNS: [2]netip.Addr{noAddr, dns2}},
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns2), ao(OptSecondaryDNS, dns2)),
			wantCode: ack, want: cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns2), ao(OptSecondaryDNS, dns2))},
		{name: "DNS/none configured", cfg: howto,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero)),
			wantCode: rej, want: cat(ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero))},
		{name: "DNS/wrong length", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), raw(OptPrimaryDNS, 0, 0)),
			wantCode: rej, want: raw(OptPrimaryDNS, 0, 0)},
		{name: "DNS/rejectIfDisagree", cfg: dnsConf, rid: true,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, dns2)),
			wantCode: rej, want: ao(OptPrimaryDNS, zero)},
		{name: "DNS asked, address omitted", cfg: dnsConf,
			opts:     ao(OptPrimaryDNS, zero),
			wantCode: nak, want: cat(ao(OptPrimaryDNS, dns1), ao(OptIPAddress, addr2))},
		{name: "NBNS/peer asks", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryNBNS, zero), ao(OptSecondaryNBNS, zero)),
			wantCode: nak, want: cat(ao(OptPrimaryNBNS, nbns1), ao(OptSecondaryNBNS, nbns2))},
		{name: "NBNS/peer has them", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryNBNS, nbns1), ao(OptSecondaryNBNS, nbns2)),
			wantCode: ack, want: cat(ao(OptIPAddress, addr2), ao(OptPrimaryNBNS, nbns1), ao(OptSecondaryNBNS, nbns2))},
		{name: "NBNS/none configured", cfg: Config{Remote: addr2, DNS: [2]netip.Addr{dns1}},
			opts:     cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns1), ao(OptSecondaryNBNS, zero)),
			wantCode: rej, want: ao(OptSecondaryNBNS, zero)},
		{name: "NBNS/wrong length", cfg: dnsConf,
			opts:     cat(ao(OptIPAddress, addr2), raw(OptSecondaryNBNS, 1, 2, 3, 4, 5)),
			wantCode: rej, want: raw(OptSecondaryNBNS, 1, 2, 3, 4, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.cfg)
			prefix := []byte{0xee}
			code, got := h.CheckRequest(prefix, tt.opts, tt.rid)
			if !bytes.Equal(got[:1], prefix) {
				t.Fatalf("reply prefix overwritten: % x", got)
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

// errEqual compares two errors by their text.
func errEqual(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

// TestCheckRequestOmittedAddress follows pppd: a request without IP-Address
// is Nak'd with Remote until one would otherwise have been Acked; after that
// such requests are Acked, and a new negotiation starts over.
func TestCheckRequestOmittedAddress(t *testing.T) {
	h := newHandler(t, Config{Local: addr1, Remote: addr2, DNS: [2]netip.Addr{dns1, dns2}})
	steps := []struct {
		opts     []byte
		wantCode ppp.Code
		want     []byte
	}{
		// A Nak for another option carries the address too, and does not
		// use up the one Nak of its own.
		{ao(OptPrimaryDNS, zero), nak, cat(ao(OptPrimaryDNS, dns1), ao(OptIPAddress, addr2))},
		{ao(OptPrimaryDNS, dns1), nak, ao(OptIPAddress, addr2)},
		{ao(OptPrimaryDNS, dns1), ack, ao(OptPrimaryDNS, dns1)},
		{[]byte{}, ack, []byte{}},
	}
	for i, s := range steps {
		code, got := h.CheckRequest(nil, s.opts, false)
		if code != s.wantCode || !bytes.Equal(got, s.want) {
			t.Errorf("step %d: got %v % x, want %v % x", i, code, got, s.wantCode, s.want)
		}
	}
	// The peer is then taken to use Remote, as pppd does.
	h.Acked(request(h))
	if n := upResult(t, h); n.Err != nil || n.Peer != addr2 || n.Local != addr1 {
		t.Errorf("Up reported %+v, want Local %v Peer %v", n, addr1, addr2)
	}
	h.Reset()
	if code, got := h.CheckRequest(nil, nil, false); code != nak || !bytes.Equal(got, ao(OptIPAddress, addr2)) {
		t.Errorf("after Reset: got %v % x, want a Nak with the address", code, got)
	}
}

// TestCheckRequestRecordsHis checks that only an Ack records the peer's
// values.
func TestCheckRequestRecordsHis(t *testing.T) {
	h := newHandler(t, Config{Local: addr1, DNS: [2]netip.Addr{dns1, dns2}, NBNS: [2]netip.Addr{nbns1}})
	h.CheckRequest(nil, cat(ao(OptIPAddress, addr9), ao(OptPrimaryDNS, zero)), false)
	if h.his != (options{}) {
		t.Fatalf("a Nak recorded the peer's options: %+v", h.his)
	}
	code, _ := h.CheckRequest(nil, cat(ao(OptIPAddress, addr9), ao(OptPrimaryDNS, dns1), ao(OptSecondaryNBNS, nbns1)), false)
	if code != ack {
		t.Fatalf("code = %v, want ConfAck", code)
	}
	want := options{addr: true, remote: addr9, dns: [2]bool{true}, dnsAddr: [2]netip.Addr{dns1},
		nbns: [2]bool{false, true}, nbnsAddr: [2]netip.Addr{{}, nbns1}}
	if diff := cmp.Diff(want, h.his, cmp.AllowUnexported(options{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("his (-want +got):\n%s", diff)
	}
}

func TestCheckRequestAllocs(t *testing.T) {
	h := newHandler(t, Config{Local: addr1, Remote: addr2, DNS: [2]netip.Addr{dns1, dns2}})
	reply := make([]byte, 0, 256)
	requests := [][]byte{
		cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2)),    // Ack
		cat(ao(OptIPAddress, zero), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero)),     // Nak
		cat(raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01), ao(OptIPAddress, addr9)), // Reject
		ao(OptPrimaryDNS, dns1), // Nak with the appended address
		{OptIPAddress, 9, 0},    // malformed
	}
	for _, req := range requests {
		allocs := testing.AllocsPerRun(100, func() {
			h.nakAddr = true
			h.CheckRequest(reply[:0], req, false)
			h.CheckRequest(reply[:0], req, true)
		})
		if allocs != 0 {
			t.Errorf("CheckRequest(% x) allocates %v times per call", req, allocs)
		}
	}
}

func BenchmarkCheckRequest(b *testing.B) {
	h := newHandler(b, Config{Local: addr1, Remote: addr2, DNS: [2]netip.Addr{dns1, dns2}})
	req := cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2))
	reply := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		h.CheckRequest(reply[:0], req, false)
	}
}
