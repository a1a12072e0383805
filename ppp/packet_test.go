package ppp_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte // nil: ErrMalformed
	}{
		{"LCP Echo-Request from pppd", []byte{0x09, 0x00, 0x00, 0x08, 0x03, 0xd1, 0x98, 0x1f}, []byte{0x09, 0x00, 0x00, 0x08, 0x03, 0xd1, 0x98, 0x1f}},
		{"header only", []byte{6, 1, 0, 4}, []byte{6, 1, 0, 4}},
		{"padding trimmed", []byte{6, 1, 0, 4, 0xff, 0xff}, []byte{6, 1, 0, 4}},
		{"empty", nil, nil},
		{"three octets", []byte{1, 1, 0}, nil},
		{"Length 3", []byte{1, 1, 0, 3}, nil},
		{"Length beyond", []byte{1, 1, 0, 5}, nil},
		{"Length 65535", []byte{1, 1, 0xff, 0xff, 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ppp.ParsePacket(tt.in)
			if tt.want == nil {
				if !errors.Is(err, ppp.ErrMalformed) {
					t.Fatalf("ParsePacket(% x) = % x, %v; want ErrMalformed", tt.in, p, err)
				}
				return
			}
			if err != nil || !bytes.Equal(p, tt.want) {
				t.Fatalf("ParsePacket(% x) = % x, %v; want % x", tt.in, p, err, tt.want)
			}
			if cap(p) != len(p) {
				t.Errorf("cap %d > len %d: appending would overwrite the caller's padding", cap(p), len(p))
			}
		})
	}
}

func TestPacketAccessors(t *testing.T) {
	p, err := ppp.ParsePacket([]byte{0x05, 0x02, 0x00, 0x06, 'h', 'i'})
	if err != nil {
		t.Fatal(err)
	}
	if p.Code() != ppp.CodeTerminateRequest || p.ID() != 2 || string(p.Data()) != "hi" {
		t.Errorf("Code %v, ID %d, Data %q", p.Code(), p.ID(), p.Data())
	}
}

func TestAppendPacket(t *testing.T) {
	// pppd's first LCP Configure-Request of the capture.
	opts := []byte{0x02, 0x06, 0, 0, 0, 0, 0x05, 0x06, 0x03, 0xd1, 0x98, 0x1f, 0x07, 0x02, 0x08, 0x02}
	want := append([]byte{0x01, 0x01, 0x00, 0x14}, opts...)
	if got := ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, opts); !bytes.Equal(got, want) {
		t.Errorf("AppendPacket = % x, want % x", got, want)
	}
	b, start := ppp.StartPacket([]byte{0xc0, 0x21}, ppp.CodeConfigureRequest, 1)
	b = append(b, opts...)
	b = ppp.FinishPacket(b, start)
	if start != 2 || !bytes.Equal(b[2:], want) {
		t.Errorf("StartPacket/FinishPacket = % x (start %d), want c0 21 % x", b, start, want)
	}
}

func TestCodeString(t *testing.T) {
	tests := map[ppp.Code]string{
		ppp.CodeConfigureRequest: "ConfReq", ppp.CodeConfigureAck: "ConfAck", ppp.CodeConfigureNak: "ConfNak",
		ppp.CodeConfigureReject: "ConfRej", ppp.CodeTerminateRequest: "TermReq", ppp.CodeTerminateAck: "TermAck",
		ppp.CodeCodeReject: "CodeRej", ppp.CodeProtocolReject: "ProtRej", ppp.CodeEchoRequest: "EchoReq",
		ppp.CodeEchoReply: "EchoRep", ppp.CodeDiscardRequest: "DiscReq", ppp.CodeIdentification: "Ident",
		ppp.CodeTimeRemaining: "TimeRem", 0: "code=0x0", 14: "code=0xe", 255: "code=0xff",
	}
	for c, want := range tests {
		if got := c.String(); got != want {
			t.Errorf("Code(%d).String() = %q, want %q", uint8(c), got, want)
		}
	}
}
