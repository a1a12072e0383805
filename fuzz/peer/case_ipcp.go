package peer

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/ppp"
)

// ipcpOpen: see Suite.
func (s *suite) ipcpOpen(t *T) {
	s.openLCP(t, wantMagic)
	c := s.newIPCP(t, ipcpWant{})
	c.open()
	ours, _ := address(c.want, ipcp.OptIPAddress)
	theirs, ok := address(c.peer, ipcp.OptIPAddress)
	peer := "no address"
	if ok {
		peer = theirs.String()
	}
	t.Pass("IPCP Opened: the harness at %v, the peer at %s", ours, peer)
}

// ipcpAddressNak: see Suite.
func (s *suite) ipcpAddressNak(t *T) {
	s.openLCP(t, wantMagic)
	c := s.newIPCP(t, ipcpWant{addr: netip.IPv4Unspecified()})
	c.request()
	p, ok := c.awaitReply(s.answer())
	if !ok {
		t.Fail("the peer did not answer an IPCP Configure-Request within %v", s.answer())
	}
	switch p.Code() {
	case ppp.CodeConfigureReject:
		t.NotApplicable("the peer rejected the IP-Address option: it has no address to give")
	case ppp.CodeConfigureAck:
		t.Fail("the peer acknowledged 0.0.0.0 as our address, where 0.0.0.0 asks it to supply one in a Configure-Nak")
	}
	got, _ := parseOpts(p.Data())
	a, ok := address(got, ipcp.OptIPAddress)
	if !ok || a.IsUnspecified() || !a.IsGlobalUnicast() && !a.IsPrivate() {
		t.Fail("the peer's Configure-Nak %s offers no usable address", optionsText(ppp.ProtoIPCP, p.Data()))
	}
	c.reply(p)
	c.open()
	t.Pass("offered %v in a Configure-Nak, then acknowledged it", a)
}

// ipcpDNS: see Suite.
func (s *suite) ipcpDNS(t *T) {
	s.openLCP(t, wantMagic)
	c := s.newIPCP(t, ipcpWant{dns: true, nbns: true})
	names := map[uint8]string{
		ipcp.OptPrimaryDNS: "primary DNS", ipcp.OptSecondaryDNS: "secondary DNS",
		ipcp.OptPrimaryNBNS: "primary NBNS", ipcp.OptSecondaryNBNS: "secondary NBNS",
	}
	outcome := map[uint8]string{}
	c.request()
	for !c.gotAck {
		p, ok := c.awaitReply(s.answer())
		if !ok {
			t.Abort("the peer did not answer our IPCP Configure-Request %s within %v", optionsText(ppp.ProtoIPCP, c.req), s.answer())
		}
		got, _ := parseOpts(p.Data())
		for typ, name := range names {
			o, ok := got.find(typ)
			if !ok {
				continue
			}
			switch p.Code() {
			case ppp.CodeConfigureReject:
				outcome[typ] = "rejected"
			case ppp.CodeConfigureNak:
				a, _ := address(got, typ)
				if len(o.Data) != 4 || a.IsUnspecified() {
					t.Fail("the peer Nak'd our request for the %s server with %s, no address", name, optionsText(ppp.ProtoIPCP, opts{o}.bytes()))
				}
				outcome[typ] = "Nak'd with " + a.String()
			case ppp.CodeConfigureAck:
				if a, _ := address(got, typ); a.IsUnspecified() {
					t.Fail("the peer acknowledged 0.0.0.0 as the %s server, where 0.0.0.0 asks it for one", name)
				}
			}
		}
		c.reply(p)
	}
	c.open()
	var parts []string
	for _, typ := range []uint8{ipcp.OptPrimaryDNS, ipcp.OptSecondaryDNS, ipcp.OptPrimaryNBNS, ipcp.OptSecondaryNBNS} {
		o := outcome[typ]
		if o == "" {
			o = "acknowledged"
		}
		parts = append(parts, fmt.Sprintf("%s %s", names[typ], o))
	}
	t.Pass("%s", strings.Join(parts, ", "))
}

// ipcpUnknownOption: see Suite.
func (s *suite) ipcpUnknownOption(t *T) {
	s.openLCP(t, wantMagic)
	c := s.newIPCP(t, ipcpWant{extra: opts{unknownIPCPOption}})
	s.configureUnknown(t, ppp.ProtoIPCP, c.negotiation, unknownIPCPOption)
}

// ipcpUnknownCode: see Suite.
func (s *suite) ipcpUnknownCode(t *T) {
	s.openLCP(t, wantMagic)
	s.codeRejected(t, ppp.ProtoIPCP)
}

// ipcpTerminate: see Suite.
func (s *suite) ipcpTerminate(t *T) {
	s.openLCP(t, wantMagic)
	c := s.newIPCP(t, ipcpWant{})
	c.open()
	s.terminateAcked(t, ppp.ProtoIPCP, "in the Opened state")
	t.Pass("IPCP Terminate-Ack with the request's Identifier")
}
