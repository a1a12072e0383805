package ppp_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/pppssh/pppssh/ppp"
)

func TestAppendHeader(t *testing.T) {
	tests := []struct {
		proto     ppp.Protocol
		acfc, pfc bool
		want      []byte
	}{
		{ppp.ProtoIPv4, false, false, []byte{0xff, 0x03, 0x00, 0x21}},
		{ppp.ProtoIPv4, true, false, []byte{0x00, 0x21}},
		{ppp.ProtoIPv4, true, true, []byte{0x21}},
		{ppp.ProtoIPv4, false, true, []byte{0xff, 0x03, 0x21}},
		{ppp.ProtoIPCP, true, true, []byte{0x80, 0x21}},
		{ppp.ProtoLCP, true, true, []byte{0xff, 0x03, 0xc0, 0x21}}, // never compressed
		{0x00ff, true, true, []byte{0x00, 0xff}},                   // would read as an address
	}
	for _, tt := range tests {
		if got := ppp.AppendHeader(nil, tt.proto, tt.acfc, tt.pfc); !bytes.Equal(got, tt.want) {
			t.Errorf("AppendHeader(%v, acfc=%v, pfc=%v) = % x, want % x", tt.proto, tt.acfc, tt.pfc, got, tt.want)
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		proto ppp.Protocol
		info  []byte
	}{
		{"full", []byte{0xff, 0x03, 0xc0, 0x21, 9}, ppp.ProtoLCP, []byte{9}},
		{"ACFC", []byte{0x80, 0x21, 1}, ppp.ProtoIPCP, []byte{1}},
		{"ACFC and PFC", []byte{0x21, 0x45}, ppp.ProtoIPv4, []byte{0x45}},
		{"PFC only", []byte{0xff, 0x03, 0x57}, ppp.ProtoIPv6, []byte{}},
	}
	for _, tt := range tests {
		proto, info, err := ppp.ParseHeader(tt.frame)
		if err != nil || proto != tt.proto || !bytes.Equal(info, tt.info) {
			t.Errorf("%s: ParseHeader(% x) = %v % x %v; want %v % x", tt.name, tt.frame, proto, info, err, tt.proto, tt.info)
		}
	}
	for name, frame := range map[string][]byte{
		"empty":                   nil,
		"address only":            {0xff},
		"address without control": {0xff, 0x21},
		"header only":             {0xff, 0x03},
		"short protocol":          {0x80},
		"even low octet":          {0x80, 0x20},
	} {
		if _, _, err := ppp.ParseHeader(frame); !errors.Is(err, ppp.ErrMalformed) {
			t.Errorf("%s: ParseHeader(% x) = %v, want ErrMalformed", name, frame, err)
		}
	}
}

// TestHeaderGopacket decodes our headers with gopacket's PPP layer.
func TestHeaderGopacket(t *testing.T) {
	ip := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 2, 15, 10, 0, 2, 2}
	for _, acfc := range []bool{false, true} {
		for _, pfc := range []bool{false, true} {
			frame := append(ppp.AppendHeader(nil, ppp.ProtoIPv4, acfc, pfc), ip...)
			pkt := gopacket.NewPacket(frame, layers.LayerTypePPP, gopacket.Default)
			l, ok := pkt.Layer(layers.LayerTypePPP).(*layers.PPP)
			if !ok {
				t.Fatalf("acfc=%v pfc=%v: gopacket found no PPP layer in % x", acfc, pfc, frame)
			}
			if l.PPPType != layers.PPPTypeIPv4 || l.HasPPTPHeader == acfc {
				t.Errorf("acfc=%v pfc=%v: gopacket read type %v, address/control %v", acfc, pfc, l.PPPType, l.HasPPTPHeader)
			}
			if pkt.Layer(layers.LayerTypeIPv4) == nil {
				t.Errorf("acfc=%v pfc=%v: gopacket found no IPv4 after the header", acfc, pfc)
			}
		}
	}
}
