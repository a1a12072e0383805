package main

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/pppssh/pppssh/tunnel"
)

// keepingDevice is a tunnel.Device that takes every packet written to it
// and keeps the buffers, to compare with what was offered.
type keepingDevice struct {
	kept [][]byte
}

func (d *keepingDevice) Read([][]byte, []int, int) (int, error) { select {} }
func (d *keepingDevice) Write(bufs [][]byte, _ int) (int, error) {
	d.kept = append(d.kept, bufs...)
	return len(bufs), nil
}
func (d *keepingDevice) BatchSize() int { return 8 }
func (d *keepingDevice) Close() error   { return nil }

// FuzzSourceFilter writes a batch of packets from the client through the
// anti-spoofing filter of "pppssh server": it must pass on, in order,
// exactly the packets whose IPv4 source address is the client's or lies in
// an allowed network (netip decides, as a reference), and report the
// whole batch as taken.
//
// Input: the packets, each a length octet and that many octets; the
// client's address; the allowed networks, five octets each (address and
// prefix length; a length above 32 makes an IPv6 network, which the filter
// ignores).
func FuzzSourceFilter(f *testing.F) {
	pkt := func(src string) []byte {
		p := make([]byte, 21)
		p[0] = 20
		p[1] = 0x45
		a := netip.MustParseAddr(src).As4()
		copy(p[13:17], a[:])
		return p
	}
	var batch []byte
	for _, src := range []string{"192.0.2.10", "203.0.113.7", "198.51.100.1", "192.0.2.11"} {
		batch = append(batch, pkt(src)...)
	}
	f.Add(batch, uint32(0xc000020a), []byte{203, 0, 113, 0, 24, 198, 51, 100, 128, 25})
	f.Add([]byte{3, 0x45, 0, 0, 0}, uint32(0), []byte{0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, pkts []byte, client uint32, nets []byte) {
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], client)
		clientAddr := netip.AddrFrom4(c)
		var allowed []netip.Prefix
		for ; len(nets) >= 5; nets = nets[5:] {
			if nets[4] > 32 {
				var a16 [16]byte
				copy(a16[:], nets[:4])
				allowed = append(allowed, netip.PrefixFrom(netip.AddrFrom16(a16), int(nets[4])%129))
				continue
			}
			allowed = append(allowed, netip.PrefixFrom(netip.AddrFrom4([4]byte(nets[:4])), int(nets[4])))
		}
		var bufs [][]byte
		for len(pkts) > 0 {
			n := min(int(pkts[0]), len(pkts)-1)
			b := make([]byte, tunnel.Headroom+n)
			copy(b[tunnel.Headroom:], pkts[1:1+n])
			bufs = append(bufs, b)
			pkts = pkts[1+n:]
		}
		dev := &keepingDevice{}
		sf := newSourceFilter(dev, clientAddr, allowed, slog.New(slog.DiscardHandler))
		n, err := sf.Write(bufs, tunnel.Headroom)
		if n != len(bufs) || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(bufs))
		}
		var want [][]byte
		for _, b := range bufs {
			p := b[tunnel.Headroom:]
			if len(p) < 20 {
				continue
			}
			src := netip.AddrFrom4([4]byte(p[12:16]))
			ok := src == clientAddr
			for _, a := range allowed {
				ok = ok || a.Addr().Is4() && a.Masked().Contains(src)
			}
			if ok {
				want = append(want, b)
			}
		}
		if len(dev.kept) != len(want) {
			t.Fatalf("passed %d packets, want %d", len(dev.kept), len(want))
		}
		for i := range want {
			if &dev.kept[i][0] != &want[i][0] {
				t.Fatalf("packet %d passed is not the one expected", i)
			}
		}
		if d := sf.Dropped(); d != uint64(len(bufs)-len(want)) {
			t.Fatalf("Dropped = %d, want %d", d, len(bufs)-len(want))
		}
	})
}
