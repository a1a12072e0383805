package hdlc

import (
	"bytes"
	"fmt"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/ppp"
)

// TestGopacket frames IP packets built by gopacket, decodes them again, and
// has gopacket's PPP layer read the result.
func TestGopacket(t *testing.T) {
	payload := append([]byte("hello over ppp \x7e\x7d\x11\x13 "), randomFrame(1200, 11)...)
	ip := &layers.IPv4{
		Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IPv4(10, 0, 2, 15), DstIP: net.IPv4(10, 0, 2, 2),
	}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 0x7e7d}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	sb := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(sb, opts, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	datagram := sb.Bytes()

	for _, cfg := range benchConfigs {
		for _, compressed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/acfc+pfc=%v", cfg.name, compressed), func(t *testing.T) {
				frame := ppp.AppendHeader(nil, ppp.ProtoIPv4, compressed, compressed)
				frame = append(frame, datagram...)

				var e Encoder
				e.SetACCM(cfg.accm)
				e.SetFCS(cfg.fcs)
				wire := e.AppendFrame(nil, frame)
				wire = e.AppendFrame(wire, frame) // a second one, sharing a flag

				d := NewDecoder(bytes.NewReader(wire))
				d.SetACCM(cfg.accm)
				d.SetFCS(cfg.fcs)
				for range 2 {
					got, err := d.ReadFrame()
					if err != nil {
						t.Fatal(err)
					}
					// gopacket's PPP layer starts at the Protocol
					// field: strip the Address and Control fields.
					if bytes.HasPrefix(got, []byte{ppp.AllStations, ppp.UI}) {
						got = got[2:]
					}
					pkt := gopacket.NewPacket(got, layers.LayerTypePPP, gopacket.Default)
					if el := pkt.ErrorLayer(); el != nil {
						t.Fatalf("gopacket: %v", el.Error())
					}
					pl, ok := pkt.Layer(layers.LayerTypePPP).(*layers.PPP)
					if !ok {
						t.Fatal("no PPP layer")
					}
					if pl.PPPType != layers.PPPTypeIPv4 {
						t.Errorf("PPP type %v, want IPv4", pl.PPPType)
					}
					if diff := cmp.Diff(datagram, pl.Payload); diff != "" {
						t.Errorf("PPP payload (-want +got):\n%s", diff)
					}
					u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
					if !ok {
						t.Fatal("no UDP layer")
					}
					if !bytes.Equal(u.Payload, payload) {
						t.Error("UDP payload differs")
					}
				}
			})
		}
	}
}
