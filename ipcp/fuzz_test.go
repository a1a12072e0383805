package ipcp

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/pppssh/pppssh/internal/ncptest"
	"github.com/pppssh/pppssh/ppp"
)

// fuzzConfigs are the configurations the fuzz targets pick from with bits
// 1-3 of their flags argument; bit 0 is rejectIfDisagree.
var fuzzConfigs = [8]Config{
	{},
	howto,
	{Local: addr1, Remote: addr2, UsePeerDNS: true, DNS: [2]netip.Addr{dns1, dns2}, NBNS: [2]netip.Addr{nbns1, nbns2}},
	{Local: addr1, Remote: addr2, AcceptLocal: true, AcceptRemote: true, UsePeerDNS: true},
	{Remote: addr2},
	{Local: netip.MustParseAddr("10.0.2.2"), Remote: netip.MustParseAddr("10.0.2.15")},
	{UsePeerDNS: true},
	{Local: addr1, DNS: [2]netip.Addr{dns1}, NBNS: [2]netip.Addr{{}, nbns2}},
}

func fuzzHandler(t *testing.T, flags byte) (h *Handler, rejectIfDisagree bool) {
	return newHandler(t, fuzzConfigs[flags>>1&7]), flags&1 != 0
}

// checkUp checks that whatever state h is in, Up reports either usable,
// distinct addresses or an *AddressError, never both.
func checkUp(t *testing.T, h *Handler) {
	t.Helper()
	if err := ppp.CheckOptions(request(h)); err != nil {
		t.Fatalf("our request % x is malformed", request(h))
	}
	h.Acked(request(h))
	n := upResult(t, h)
	if n.Err != nil {
		if _, ok := n.Err.(*AddressError); !ok || n.Local.IsValid() || n.Peer.IsValid() {
			t.Fatalf("Up reported %+v", n)
		}
		return
	}
	if !usable(n.Local) || !usable(n.Peer) || n.Local == n.Peer {
		t.Fatalf("Up reported unusable addresses: %+v", n)
	}
}

func FuzzCheckRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, opts []byte, flags byte) {
		h, rid := fuzzHandler(t, flags)
		in := bytes.Clone(opts)
		code, reply := h.CheckRequest([]byte{}, opts, rid)
		if !bytes.Equal(in, opts) {
			t.Fatalf("CheckRequest changed its input")
		}
		if err := ppp.CheckOptions(reply); err != nil {
			t.Fatalf("reply % x to % x is malformed", reply, opts)
		}
		wellFormed := ppp.CheckOptions(opts) == nil
		switch code {
		case ppp.CodeConfigureAck:
			if !wellFormed || !bytes.Equal(reply, opts) {
				t.Fatalf("Ack % x differs from the request % x", reply, opts)
			}
		case ppp.CodeConfigureNak:
			if rid {
				t.Fatalf("Nak % x with rejectIfDisagree", reply)
			}
			if !wellFormed {
				t.Fatalf("Nak % x of a malformed request % x", reply, opts)
			}
			for _, o := range ncptest.OptionList(reply) {
				if len(o) != 6 || (o[0] != OptIPAddress && (o[0] < OptPrimaryDNS || o[0] > OptSecondaryNBNS)) {
					t.Fatalf("Nak carries % x", o)
				}
			}
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
		before := *h
		if err := h.Naked(opts, rid); err != nil && !sameState(&before, h) {
			t.Fatalf("a refused Nak changed the handler")
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
		checkUp(t, h)
	})
}
