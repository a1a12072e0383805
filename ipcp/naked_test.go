package ipcp

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
		// IP-Address.
		{name: "no Local/take the assigned address", cfg: Config{},
			nak: ao(OptIPAddress, addr2), want: ao(OptIPAddress, addr2)},
		{name: "pppd capture/take 10.0.2.15", cfg: Config{},
			nak:  ao(OptIPAddress, netip.MustParseAddr("10.0.2.15")),
			want: ao(OptIPAddress, netip.MustParseAddr("10.0.2.15"))},
		{name: "Local/insist", cfg: Config{Local: addr9},
			nak: ao(OptIPAddress, addr2), want: ao(OptIPAddress, addr9),
			wantErr: &AddressError{Problem: LocalAddressConflict, Ours: addr9, Theirs: addr2}},
		{name: "Local/AcceptLocal", cfg: Config{Local: addr9, AcceptLocal: true},
			nak: ao(OptIPAddress, addr2), want: ao(OptIPAddress, addr2)},
		{name: "Nak with our own value", cfg: Config{Local: addr9},
			nak: ao(OptIPAddress, addr9), want: ao(OptIPAddress, addr9)},
		{name: "Nak with 0.0.0.0", cfg: Config{Local: addr9, AcceptLocal: true},
			nak: ao(OptIPAddress, zero), want: ao(OptIPAddress, addr9)},
		{name: "Nak with loopback", cfg: Config{},
			nak: ao(OptIPAddress, netip.MustParseAddr("127.0.0.1")), want: ao(OptIPAddress, zero)},
		{name: "Nak with multicast", cfg: Config{},
			nak: ao(OptIPAddress, netip.MustParseAddr("239.1.2.3")), want: ao(OptIPAddress, zero)},
		{name: "rejectIfDisagree/stop requesting the address", cfg: Config{Local: addr9}, rid: true,
			nak: ao(OptIPAddress, addr2), want: []byte{}},
		{name: "address hint after a Reject", cfg: Config{},
			prep: func(h *Handler) { h.got.addr = false },
			nak:  ao(OptIPAddress, addr7), want: ao(OptIPAddress, addr7)},
		{name: "address hint, Local kept", cfg: Config{Local: addr9},
			prep: func(h *Handler) { h.got.addr = false },
			nak:  ao(OptIPAddress, addr7), want: ao(OptIPAddress, addr9)},
		{name: "address hint of 0.0.0.0 without an address", cfg: Config{},
			prep: func(h *Handler) { h.got.addr = false },
			nak:  ao(OptIPAddress, zero), want: []byte{}},
		{name: "address hint ignored with rejectIfDisagree", cfg: Config{}, rid: true,
			prep: func(h *Handler) { h.got.addr = false },
			nak:  ao(OptIPAddress, addr7), want: []byte{}},

		// DNS, RFC 1877.
		{name: "UsePeerDNS/take both", cfg: Config{UsePeerDNS: true},
			nak:  cat(ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2)),
			want: cat(ao(OptIPAddress, zero), ao(OptPrimaryDNS, dns1), ao(OptSecondaryDNS, dns2))},
		{name: "UsePeerDNS/address and secondary", cfg: Config{UsePeerDNS: true},
			nak:  cat(ao(OptIPAddress, addr2), ao(OptSecondaryDNS, dns2)),
			want: cat(ao(OptIPAddress, addr2), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, dns2))},
		{name: "UsePeerDNS/rejectIfDisagree", cfg: Config{UsePeerDNS: true}, rid: true,
			nak:  ao(OptPrimaryDNS, dns1),
			want: cat(ao(OptIPAddress, zero), ao(OptSecondaryDNS, zero))},
		{name: "DNS hint starts a request", cfg: Config{Local: addr1},
			nak:  ao(OptSecondaryDNS, dns2),
			want: cat(ao(OptIPAddress, addr1), ao(OptSecondaryDNS, dns2))},

		// Hints we ignore.
		{name: "NBNS hint", cfg: Config{Local: addr1},
			nak: ao(OptPrimaryNBNS, nbns1), want: ao(OptIPAddress, addr1)},
		{name: "VJ hint", cfg: Config{Local: addr1},
			nak: raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01), want: ao(OptIPAddress, addr1)},
		{name: "IP-Addresses hint", cfg: Config{Local: addr1},
			nak: raw(OptIPAddresses, 192, 0, 2, 1, 192, 0, 2, 2), want: ao(OptIPAddress, addr1)},
		{name: "unknown hint", cfg: Config{Local: addr1},
			nak: cat(raw(0x55), raw(0xfe, 1, 2, 3)), want: ao(OptIPAddress, addr1)},
		{name: "empty Nak", cfg: Config{Local: addr1},
			nak: []byte{}, want: ao(OptIPAddress, addr1)},
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
// peer's Ack, clears a disagreement about our address.
func TestNakedConflictResolved(t *testing.T) {
	h := newHandler(t, Config{Local: addr9})
	if err := h.Naked(ao(OptIPAddress, addr2), false); err != nil {
		t.Fatal(err)
	}
	if h.Err() == nil {
		t.Fatal("no conflict recorded")
	}
	h.Acked(request(h))
	if err := h.Err(); err != nil {
		t.Errorf("Err() after the peer acked our address = %v", err)
	}
}

func TestNakedInvalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		nak  []byte
	}{
		{"malformed", Config{}, []byte{OptIPAddress, 7, 192, 0, 2, 2}},
		{"zero length", Config{}, []byte{OptIPAddress, 0}},
		{"truncated", Config{}, []byte{OptIPAddress}},
		{"IP-Address too short", Config{}, raw(OptIPAddress, 192, 0, 2)},
		{"IP-Address too long", Config{}, raw(OptIPAddress, 192, 0, 2, 2, 2)},
		{"IP-Address twice", Config{}, cat(ao(OptIPAddress, addr2), ao(OptIPAddress, addr2))},
		{"out of order", Config{UsePeerDNS: true}, cat(ao(OptPrimaryDNS, dns1), ao(OptIPAddress, addr2))},
		{"DNS out of order", Config{UsePeerDNS: true}, cat(ao(OptSecondaryDNS, dns2), ao(OptPrimaryDNS, dns1))},
		{"DNS too short", Config{UsePeerDNS: true}, raw(OptPrimaryDNS, 1)},
		{"DNS hint too short", Config{}, raw(OptSecondaryDNS, 1, 2, 3)},
		{"NBNS hint too long", Config{}, raw(OptPrimaryNBNS, 1, 2, 3, 4, 5)},
		{"VJ hint too short", Config{}, raw(OptIPCompressionProtocol, 0x2d)},
		{"IP-Addresses hint too short", Config{}, raw(OptIPAddresses, 1, 2, 3, 4)},
		{"unknown hint twice", Config{}, cat(raw(0x55), raw(0x55))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rid := range []bool{false, true} {
				h := newHandler(t, tt.cfg)
				before := *h
				if err := h.Naked(tt.nak, rid); err == nil {
					t.Errorf("Naked(% x, %v) accepted an invalid Nak", tt.nak, rid)
				}
				if !sameState(&before, h) {
					t.Errorf("Naked(% x, %v) changed the handler", tt.nak, rid)
				}
			}
		})
	}
}

func TestRejected(t *testing.T) {
	dnsCfg := Config{Local: addr1, UsePeerDNS: true}
	tests := []struct {
		name string
		cfg  Config
		rej  []byte
		want []byte // our next request
	}{
		{"IP-Address", dnsCfg, ao(OptIPAddress, addr1),
			cat(ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero))},
		{"0.0.0.0", Config{}, ao(OptIPAddress, zero), []byte{}},
		{"Primary-DNS", dnsCfg, ao(OptPrimaryDNS, zero),
			cat(ao(OptIPAddress, addr1), ao(OptSecondaryDNS, zero))},
		{"both DNS", dnsCfg, cat(ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero)),
			ao(OptIPAddress, addr1)},
		{"everything", dnsCfg, cat(ao(OptIPAddress, addr1), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero)),
			[]byte{}},
		{"nothing", dnsCfg, []byte{},
			cat(ao(OptIPAddress, addr1), ao(OptPrimaryDNS, zero), ao(OptSecondaryDNS, zero))},
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
	dnsCfg := Config{Local: addr1, UsePeerDNS: true}
	tests := []struct {
		name string
		cfg  Config
		rej  []byte
	}{
		{"malformed", dnsCfg, []byte{OptIPAddress, 9, 192, 0, 2, 1}},
		{"zero length", dnsCfg, []byte{OptIPAddress, 0, 0, 0}},
		{"other value", dnsCfg, ao(OptIPAddress, addr2)},
		{"too short", dnsCfg, raw(OptIPAddress, 192, 0, 2)},
		{"not requested", Config{Local: addr1}, ao(OptPrimaryDNS, zero)},
		{"out of order", dnsCfg, cat(ao(OptPrimaryDNS, zero), ao(OptIPAddress, addr1))},
		{"twice", dnsCfg, cat(ao(OptIPAddress, addr1), ao(OptIPAddress, addr1))},
		{"VJ", dnsCfg, raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01)},
		{"unknown", dnsCfg, raw(0x55)},
		{"DNS value differs", dnsCfg, ao(OptSecondaryDNS, dns2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.cfg)
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
	return a.want == b.want && a.allow == b.allow && a.got == b.got && a.his == b.his &&
		a.nakAddr == b.nakAddr && a.localConflict == b.localConflict &&
		a.peerConflict == b.peerConflict && a.err == b.err &&
		bytes.Equal(request(a), request(b))
}
