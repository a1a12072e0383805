package ppp_test

import (
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

func TestProtocol(t *testing.T) {
	tests := []struct {
		p                            ppp.Protocol
		name                         string
		valid, control, compressible bool
	}{
		{ppp.ProtoIPv4, "IP", true, false, true},
		{ppp.ProtoIPv6, "IPv6", true, false, true},
		{ppp.ProtoLCP, "LCP", true, true, false},
		{ppp.ProtoIPCP, "IPCP", true, true, false},
		{ppp.ProtoIPV6CP, "IPV6CP", true, true, false},
		{ppp.ProtoCCP, "CCP", true, true, false},
		{0x00ff, "0xff", true, false, false},
		{0x8281, "0x8281", true, true, false},
		{0x0120, "0x120", false, false, false},
		{0x0022, "0x22", false, false, true},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.name {
			t.Errorf("%#x: String() = %q, want %q", uint16(tt.p), got, tt.name)
		}
		if tt.p.Valid() != tt.valid || tt.p.IsControl() != tt.control || tt.p.Compressible() != tt.compressible {
			t.Errorf("%v: Valid %v IsControl %v Compressible %v", tt.p, tt.p.Valid(), tt.p.IsControl(), tt.p.Compressible())
		}
	}
}
