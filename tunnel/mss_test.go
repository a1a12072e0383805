package tunnel_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/tunnel"
)

func mssOpt(v uint16) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{byte(v >> 8), byte(v)}}
}

var (
	nop  = layers.TCPOption{OptionType: layers.TCPOptionKindNop}
	eol  = layers.TCPOption{OptionType: layers.TCPOptionKindEndList}
	sack = layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}
	ts   = layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}
	ws   = layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}}
)

// segment describes a TCP segment in IPv4 for tcpPacket.
type segment struct {
	src, dst  net.IP
	syn, ack  bool
	opts      []layers.TCPOption
	payload   int    // octets of payload
	fragOff   uint16 // IPv4 fragment offset, in 8-octet units
	moreFrags bool
	ipOpts    bool // an IPv4 header with options (IHL 6)
}

// tcpPacket builds a TCP segment in IPv4 with gopacket, checksums computed.
// Options go on the wire as given, lengths included, even when they are
// malformed.
func tcpPacket(s segment) []byte {
	if s.src == nil {
		s.src, s.dst = net.IP{192, 0, 2, 1}, net.IP{198, 51, 100, 7}
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s.src, DstIP: s.dst,
		FragOffset: s.fragOff, Id: 0x1234}
	if s.moreFrags {
		ip.Flags = layers.IPv4MoreFragments
	}
	if s.ipOpts {
		ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 22, Seq: 0x01020304, SYN: s.syn, ACK: s.ack, Window: 64240, Options: s.opts}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	payload := bytes.Repeat([]byte{0x5a, 0xa5, 0x7e}, s.payload)[:s.payload]
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, tcp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	pkt := buf.Bytes()
	// FixLengths made every option length match its data: put back the
	// lengths asked for, and compute the TCP checksum again.
	ihl := int(pkt[0]&0xf) * 4
	off := ihl + 20
	for _, o := range s.opts {
		if o.OptionType <= 1 {
			off++
			continue
		}
		pkt[off+1] = o.OptionLength
		off += 2 + len(o.OptionData)
	}
	seg := pkt[ihl:]
	seg[16], seg[17] = 0, 0
	sum := checksum(checksum(0, pkt[12:20])+6+uint32(len(seg)), seg)
	binary.BigEndian.PutUint16(seg[16:], ^fold(sum))
	return pkt
}

// checksum folds the Internet checksum sum of b onto sum.
func checksum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// tcpChecksumOK reports whether pkt is an unfragmented IPv4 packet whose
// header checksum and TCP checksum are both valid, computed from scratch.
func tcpChecksumOK(pkt []byte) bool {
	if len(pkt) < 20 || pkt[0]>>4 != 4 || pkt[9] != 6 {
		return false
	}
	ihl := int(pkt[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:]))
	if ihl < 20 || total < ihl+20 || total > len(pkt) || binary.BigEndian.Uint16(pkt[6:])&0x3fff != 0 {
		return false
	}
	if fold(checksum(0, pkt[:ihl])) != 0xffff {
		return false
	}
	seg := pkt[ihl:total]
	sum := checksum(0, pkt[12:20]) + 6 + uint32(len(seg))
	return fold(checksum(sum, seg)) == 0xffff
}

// mssValues returns the values of the MSS options gopacket finds in pkt.
func mssValues(t *testing.T, pkt []byte) []uint16 {
	t.Helper()
	// gopacket decodes no TCP header in a fragment: clear More Fragments.
	pkt = bytes.Clone(pkt)
	pkt[6] &^= 0x20
	p := gopacket.NewPacket(pkt, layers.LayerTypeIPv4, gopacket.Default)
	tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		t.Fatalf("gopacket finds no TCP layer: %v", p.ErrorLayer())
	}
	var v []uint16
	for _, o := range tcp.Options {
		if o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2 {
			v = append(v, binary.BigEndian.Uint16(o.OptionData))
		}
	}
	return v
}

// gopacketChecksum has gopacket compute the TCP checksum of pkt afresh.
func gopacketChecksum(t *testing.T, pkt []byte) uint16 {
	t.Helper()
	p := gopacket.NewPacket(pkt, layers.LayerTypeIPv4, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tcp == nil {
		t.Fatalf("gopacket cannot decode the packet")
	}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, tcp, gopacket.Payload(tcp.Payload)); err != nil {
		t.Fatal(err)
	}
	return binary.BigEndian.Uint16(buf.Bytes()[16:])
}

func TestClampMSS(t *testing.T) {
	const limit = 1360
	raw := func(kind, length byte, data ...byte) layers.TCPOption {
		return layers.TCPOption{OptionType: layers.TCPOptionKind(kind), OptionLength: length, OptionData: data}
	}
	tests := []struct {
		name    string
		seg     segment
		want    bool     // ClampMSS changes the packet
		wantMSS []uint16 // the MSS options after
	}{
		{"SYN", segment{syn: true, opts: []layers.TCPOption{mssOpt(1460)}}, true, []uint16{limit}},
		{"SYN-ACK", segment{syn: true, ack: true, opts: []layers.TCPOption{mssOpt(1460), nop, nop}}, true, []uint16{limit}},
		{"Linux SYN", segment{syn: true, opts: []layers.TCPOption{mssOpt(65495), sack, ts, nop, ws}}, true, []uint16{limit}},
		{"MSS at an odd offset", segment{syn: true, opts: []layers.TCPOption{nop, mssOpt(1460), nop, nop, nop}}, true, []uint16{limit}},
		{"MSS after timestamps", segment{syn: true, opts: []layers.TCPOption{nop, nop, ts, mssOpt(9000)}}, true, []uint16{limit}},
		{"odd offset, octets that carry", segment{syn: true, opts: []layers.TCPOption{nop, mssOpt(0xffff), nop, nop, nop}}, true, []uint16{limit}},
		{"with payload", segment{syn: true, opts: []layers.TCPOption{mssOpt(1460)}, payload: 33}, true, []uint16{limit}},
		{"IPv4 options", segment{syn: true, ipOpts: true, opts: []layers.TCPOption{mssOpt(1460)}}, true, []uint16{limit}},
		{"two MSS options", segment{syn: true, opts: []layers.TCPOption{mssOpt(1460), mssOpt(8960)}}, true, []uint16{limit, limit}},
		{"MSS of the wrong length skipped", segment{syn: true, opts: []layers.TCPOption{raw(2, 3, 5), mssOpt(1460), nop}}, true, []uint16{limit}},
		{"first fragment", segment{syn: true, moreFrags: true, opts: []layers.TCPOption{mssOpt(1460)}}, true, []uint16{limit}},
		{"MSS below the limit", segment{syn: true, opts: []layers.TCPOption{mssOpt(1200)}}, false, []uint16{1200}},
		{"MSS at the limit", segment{syn: true, opts: []layers.TCPOption{mssOpt(limit)}}, false, []uint16{limit}},
		{"not a SYN", segment{ack: true, opts: []layers.TCPOption{mssOpt(1460)}}, false, []uint16{1460}},
		{"no MSS option", segment{syn: true, opts: []layers.TCPOption{sack, ts, nop, ws}}, false, nil},
		{"no options", segment{syn: true}, false, nil},
		{"zero-length option first", segment{syn: true, opts: []layers.TCPOption{raw(8, 0), nop, mssOpt(1460)}}, false, nil},
		{"length-1 option first", segment{syn: true, opts: []layers.TCPOption{raw(30, 1), nop, mssOpt(1460)}}, false, nil},
		{"option past the header", segment{syn: true, opts: []layers.TCPOption{raw(30, 40, 0, 0), mssOpt(1460)}}, false, nil},
		{"End of Option List first", segment{syn: true, opts: []layers.TCPOption{eol, nop, nop, nop, mssOpt(1460)}}, false, nil},
		{"non-first fragment", segment{syn: true, fragOff: 8, opts: []layers.TCPOption{mssOpt(1460)}}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := tcpPacket(tt.seg)
			orig := bytes.Clone(pkt)
			if got := tunnel.ClampMSS(pkt, limit); got != tt.want {
				t.Fatalf("ClampMSS = %v, want %v", got, tt.want)
			}
			if !tt.want {
				if !bytes.Equal(pkt, orig) {
					t.Fatalf("packet changed though ClampMSS said not:\n% x\n% x", orig, pkt)
				}
				if tt.wantMSS == nil {
					return
				}
			}
			if tt.seg.fragOff == 0 && !tt.seg.moreFrags {
				if !tcpChecksumOK(pkt) {
					t.Errorf("checksums invalid after clamping")
				}
				if got, want := binary.BigEndian.Uint16(pkt[int(pkt[0]&0xf)*4+16:]), gopacketChecksum(t, pkt); got != want {
					t.Errorf("TCP checksum %#04x, gopacket computes %#04x", got, want)
				}
			}
			got := mssValues(t, pkt)
			if !bytes.Equal(u16s(got), u16s(tt.wantMSS)) {
				t.Errorf("MSS options %v, want %v", got, tt.wantMSS)
			}
			if tunnel.ClampMSS(pkt, limit) {
				t.Errorf("clamping again changed the packet")
			}
		})
	}
}

func u16s(v []uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return b
}

// ClampMSS leaves alone what is not a TCP SYN in IPv4, and packets cut
// short anywhere.
func TestClampMSSOtherPackets(t *testing.T) {
	udp := func() []byte {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
		u := &layers.UDP{SrcPort: 53, DstPort: 53}
		_ = u.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, u,
			gopacket.Payload([]byte{2, 0x04, 0x05, 0xb4, 0x02, 0x02}))
		return buf.Bytes()
	}()
	v6 := func() []byte {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
		tcp := &layers.TCP{SrcPort: 1, DstPort: 2, SYN: true, Options: []layers.TCPOption{mssOpt(1440)}}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp)
		return buf.Bytes()
	}()
	syn := tcpPacket(segment{syn: true, opts: []layers.TCPOption{mssOpt(1460)}})
	pkts := map[string][]byte{"UDP": udp, "IPv6": v6, "empty": {}, "one octet": {0x45}}
	for n := range syn {
		pkts["SYN cut to "+string(rune('0'+n/10))+string(rune('0'+n%10))] = syn[:n]
	}
	for name, pkt := range pkts {
		orig := bytes.Clone(pkt)
		if tunnel.ClampMSS(pkt, 536) || !bytes.Equal(pkt, orig) {
			t.Errorf("%s: changed", name)
		}
	}
}

func TestClampMSSAllocs(t *testing.T) {
	pkt := tcpPacket(segment{syn: true, opts: []layers.TCPOption{nop, mssOpt(1460), nop, nop, nop}})
	mss := uint16(1460)
	if n := testing.AllocsPerRun(100, func() {
		mss ^= 1 // alternate between changing the packet and not
		tunnel.ClampMSS(pkt, mss)
	}); n != 0 {
		t.Errorf("%v allocations per ClampMSS, want 0", n)
	}
}

// FuzzClampMSS checks that ClampMSS never panics, never changes the
// packet's length or anything but MSS values and the TCP checksum, lowers
// MSS values only to the limit, keeps valid checksums valid, and changes
// nothing the second time.
func FuzzClampMSS(f *testing.F) {
	for _, s := range []segment{
		{syn: true, opts: []layers.TCPOption{mssOpt(1460)}},
		{syn: true, ack: true, opts: []layers.TCPOption{nop, mssOpt(1460), nop, nop, nop}},
		{syn: true, opts: []layers.TCPOption{mssOpt(65495), sack, ts, nop, ws}},
		{syn: true, ipOpts: true, opts: []layers.TCPOption{nop, nop, ts, mssOpt(9000)}, payload: 7},
		{syn: true, moreFrags: true, opts: []layers.TCPOption{mssOpt(1460)}},
		{syn: true, fragOff: 8, opts: []layers.TCPOption{mssOpt(1460)}},
		{ack: true, opts: []layers.TCPOption{mssOpt(1460)}},
	} {
		f.Add(tcpPacket(s), uint16(1360))
	}
	f.Add([]byte{0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
		0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x60, 0x02, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0}, uint16(536))
	f.Fuzz(func(t *testing.T, pkt []byte, mss uint16) {
		orig := bytes.Clone(pkt)
		validBefore := tcpChecksumOK(pkt)
		changed := tunnel.ClampMSS(pkt, mss)
		if len(pkt) != len(orig) {
			t.Fatalf("length changed")
		}
		if !changed {
			if !bytes.Equal(pkt, orig) {
				t.Fatalf("changed the packet but reported no change")
			}
			return
		}
		ihl := int(pkt[0]&0xf) * 4
		sum := ihl + 16 // the TCP checksum
		for i := range pkt {
			if pkt[i] == orig[i] || i == sum || i == sum+1 {
				continue
			}
			// Any other change is in the value of an MSS option
			// (kind 2, length 4) inside the TCP options, starting 2 or
			// 3 octets before: the value is now mss and was larger.
			ok := false
			for _, k := range []int{i - 2, i - 3} {
				if k >= ihl+20 && orig[k] == 2 && orig[k+1] == 4 &&
					binary.BigEndian.Uint16(pkt[k+2:]) == mss && binary.BigEndian.Uint16(orig[k+2:]) > mss {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("octet %d changed (%#02x -> %#02x), not in a lowered MSS option nor the checksum:\n% x\n% x", i, orig[i], pkt[i], orig, pkt)
			}
		}
		if validBefore && !tcpChecksumOK(pkt) {
			t.Fatalf("checksum was valid, is not after clamping:\n% x\n% x", orig, pkt)
		}
		if tunnel.ClampMSS(pkt, mss) {
			t.Fatalf("second clamp changed the packet")
		}
	})
}
