package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/internal/linecap"
	"github.com/pppssh/pppssh/ppp"
)

// frame is one frame decoded from a recorded stream.
type frame struct {
	proto      ppp.Protocol
	info       []byte
	compressed bool // Address/Control omitted or the Protocol field one octet
	acfc, pfc  bool
}

// decodeStream decodes every frame of a recorded direction. It accepts
// control characters the sender did not escape, as a receiver with an
// ACCM of 0 does, and returns the decoder's counters.
func decodeStream(t *testing.T, b []byte) ([]frame, hdlc.Stats) {
	t.Helper()
	d := hdlc.NewDecoder(bytes.NewReader(b))
	d.SetACCM(0)
	d.SetFCS(hdlc.FCS16)
	d.SetMaxFrame(70000)
	var frames []frame
	for {
		f, err := d.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("decoding the capture: %v", err)
		}
		proto, info, err := ppp.ParseHeader(f)
		if err != nil {
			t.Fatalf("frame % x: %v", f, err)
		}
		hasAC := len(f) >= 2 && f[0] == 0xff && f[1] == 0x03
		protoLen := len(f) - len(info)
		if hasAC {
			protoLen -= 2
		}
		frames = append(frames, frame{
			proto: proto, info: bytes.Clone(info),
			acfc: !hasAC, pfc: protoLen == 1,
			compressed: !hasAC || protoLen == 1,
		})
	}
	return frames, d.Stats()
}

// udpPacket returns an IPv4 UDP datagram from src to dst's port with
// payload.
func udpPacket(src, dst netip.Addr, srcPort, dstPort uint16, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(srcPort), DstPort: layers.UDPPort(dstPort)}
	_ = udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, udp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// payloadFor returns a payload that makes a UDP datagram of size octets
// and holds every octet value, the control characters and the HDLC flag
// and escape among them.
func payloadFor(size int) []byte {
	p := make([]byte, size-28)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// decodeUDP decodes an IPv4 packet with gopacket and returns its UDP layer
// and source and destination addresses; ok is false if it is not UDP over
// IPv4 with good lengths.
func decodeUDP(pkt []byte) (udp *layers.UDP, src, dst netip.Addr, ok bool) {
	p := gopacket.NewPacket(pkt, layers.LayerTypeIPv4, gopacket.Default)
	ip, ok1 := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	u, ok2 := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok1 || !ok2 || p.ErrorLayer() != nil || int(ip.Length) != len(pkt) {
		return nil, netip.Addr{}, netip.Addr{}, false
	}
	src, _ = netip.AddrFromSlice(ip.SrcIP)
	dst, _ = netip.AddrFromSlice(ip.DstIP)
	return u, src, dst, true
}

// udpEcho sends a UDP datagram of size octets through our link to the
// guest's echo service at pppd's address and waits until the answer comes
// back through pppd, found in what the tap read. It returns an error if the
// link ends first or ctx ends.
func udpEcho(ctx context.Context, o *ours, local, peer netip.Addr, size int) error {
	const srcPort = 40007
	payload := payloadFor(size)
	if err := o.l.WritePacket(ppp.ProtoIPv4, udpPacket(local, peer, srcPort, 7, payload)); err != nil {
		return err
	}
	for {
		recs, next := o.tap.capture()
		frames, _ := decodeStreamQuiet(linecap.Stream(recs, false))
		for _, f := range frames {
			if f.proto != ppp.ProtoIPv4 {
				continue
			}
			u, src, dst, ok := decodeUDP(f.info)
			if ok && src == peer && dst == local && u.SrcPort == 7 && u.DstPort == srcPort && bytes.Equal(u.Payload, payload) {
				return nil
			}
		}
		select {
		case <-next:
		case <-ctx.Done():
			return fmt.Errorf("no echo of a %d-octet UDP datagram from %v: %w", size, peer, ctx.Err())
		}
	}
}

// decodeStreamQuiet is decodeStream for a stream still being recorded,
// whose last frame may be unfinished.
func decodeStreamQuiet(b []byte) ([]frame, hdlc.Stats) {
	d := hdlc.NewDecoder(bytes.NewReader(b))
	d.SetACCM(0)
	d.SetFCS(hdlc.FCS16)
	d.SetMaxFrame(70000)
	var frames []frame
	for {
		f, err := d.ReadFrame()
		if err != nil {
			return frames, d.Stats()
		}
		if proto, info, err := ppp.ParseHeader(f); err == nil {
			frames = append(frames, frame{proto: proto, info: bytes.Clone(info)})
		}
	}
}
