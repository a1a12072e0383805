package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/tunnel"
)

// mapping is everything the options map to.
type mapping struct {
	engine tunnel.Config
	net    tunnel.NetConfig
	tun    tunnel.TUNConfig
	info   tunnel.LinkInfo
	line   lineMode
}

func mapArgs(t *testing.T, defaults options, peer netip.Addr, args ...string) mapping {
	t.Helper()
	o := defaults
	if err := parseOptions(&o, args, "test", deviceWord(&o)); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return mapping{
		engine: engineConfig(&o, nil),
		net:    netConfig(&o, peer, false, nil),
		tun:    tunConfig(&o, nil),
		info:   linkInfo(&o, "ppp7", &conn{tty: "/dev/pts/3", speed: o.speed}),
		line:   modeOf(&o),
	}
}

var (
	addr1  = netip.MustParseAddr("192.0.2.1")
	addr2  = netip.MustParseAddr("192.0.2.2")
	farEnd = netip.MustParseAddr("198.51.100.7")
)

// TestOptionsMapping checks that each option lands in the engine's
// configuration field it is meant for.
func TestOptionsMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		peer netip.Addr
		pppd bool // pppd's defaults instead of pppssh's
		got  func(m mapping) any
		want any
	}{
		{"mtu", []string{"mtu", "1400"}, netip.Addr{}, false, func(m mapping) any { return m.engine.MTU }, 1400},
		{"mru", []string{"mru", "1400"}, netip.Addr{}, false, func(m mapping) any {
			return [2]any{m.engine.Link.LCP.Want.NegMRU, m.engine.Link.LCP.Want.MRU}
		}, [2]any{true, uint16(1400)}},
		{"default-mru", []string{"default-mru"}, netip.Addr{}, false, func(m mapping) any {
			return [2]bool{m.engine.Link.LCP.Want.NegMRU, m.engine.Link.LCP.Allow.NegMRU}
		}, [2]bool{false, false}},
		{"asyncmap", []string{"asyncmap", "0xa0000"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.LCP.Want.ACCM }, uint32(0xa0000)},
		{"default-asyncmap", []string{"default-asyncmap"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.LCP.Want.ACCM }, uint32(0xffffffff)},
		{"asyncmap default", nil, netip.Addr{}, false, func(m mapping) any {
			return [2]any{m.engine.Link.LCP.Want.NegACCM, m.engine.Link.LCP.Want.ACCM}
		}, [2]any{true, uint32(0)}},
		{"fcs32 by default", nil, netip.Addr{}, false, func(m mapping) any {
			c := m.engine.Link.LCP
			return [4]any{c.Want.NegFCS, c.Want.FCS, c.Allow.NegFCS, c.Allow.FCS}
		}, [4]any{true, lcp.FCS32, true, lcp.FCS16 | lcp.FCS32}},
		{"nofcs32", []string{"nofcs32"}, netip.Addr{}, false, func(m mapping) any {
			return [2]bool{m.engine.Link.LCP.Want.NegFCS, m.engine.Link.LCP.Allow.NegFCS}
		}, [2]bool{false, false}},
		{"noaccomp", []string{"noaccomp"}, netip.Addr{}, false, func(m mapping) any {
			return [2]bool{m.engine.Link.LCP.Want.NegACFC, m.engine.Link.LCP.Allow.NegACFC}
		}, [2]bool{false, false}},
		{"nopcomp", []string{"nopcomp"}, netip.Addr{}, false, func(m mapping) any {
			return [2]bool{m.engine.Link.LCP.Want.NegPFC, m.engine.Link.LCP.Allow.NegPFC}
		}, [2]bool{false, false}},
		{"nomagic", []string{"nomagic"}, netip.Addr{}, false, func(m mapping) any {
			return [2]bool{m.engine.Link.LCP.Want.NegMagic, m.engine.Link.LCP.Allow.NegMagic}
		}, [2]bool{false, false}},
		{"echo default", nil, netip.Addr{}, false, func(m mapping) any {
			return [2]any{m.engine.Link.LCP.EchoInterval, m.engine.Link.LCP.EchoFailure}
		}, [2]any{30 * time.Second, 4}},
		{"echo default as pppd", nil, netip.Addr{}, true, func(m mapping) any { return m.engine.Link.LCP.EchoInterval }, time.Duration(0)},
		{"lcp-echo-interval", []string{"lcp-echo-interval", "5"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.LCP.EchoInterval }, 5 * time.Second},
		{"lcp-echo-failure", []string{"lcp-echo-failure", "2"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.LCP.EchoFailure }, 2},
		{"lcp-restart", []string{"lcp-restart", "2"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.RestartInterval }, 2 * time.Second},
		{"lcp-max-configure", []string{"lcp-max-configure", "4"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.MaxConfigure }, 4},
		{"lcp-max-terminate", []string{"lcp-max-terminate", "3"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.MaxTerminate }, 3},
		{"lcp-max-failure", []string{"lcp-max-failure", "6"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.MaxFailure }, 6},
		{"passive", []string{"passive"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.Passive }, true},
		{"silent", []string{"silent"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.Silent }, true},
		{"addresses", []string{"192.0.2.1:192.0.2.2"}, netip.Addr{}, false, func(m mapping) any {
			return [2]netip.Addr{m.engine.Link.IPCP.Local, m.engine.Link.IPCP.Remote}
		}, [2]netip.Addr{addr1, addr2}},
		{"ipcp-accept-local", []string{"ipcp-accept-local"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.IPCP.AcceptLocal }, true},
		{"ipcp-accept-remote", []string{"ipcp-accept-remote"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.IPCP.AcceptRemote }, true},
		{"noipdefault", []string{"noipdefault"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.IPCP.Local }, netip.Addr{}},
		{"usepeerdns", []string{"usepeerdns"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.IPCP.UsePeerDNS }, true},
		{"ms-dns", []string{"ms-dns", "192.0.2.53", "ms-dns", "192.0.2.54"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.IPCP.DNS },
			[2]netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("192.0.2.54")}},
		{"ms-wins", []string{"ms-wins", "192.0.2.137"}, netip.Addr{}, false, func(m mapping) any { return m.engine.Link.IPCP.NBNS },
			[2]netip.Addr{netip.MustParseAddr("192.0.2.137")}},
		{"mss-clamp", []string{"mss-clamp"}, netip.Addr{}, false, func(m mapping) any { return m.engine.ClampMSS }, true},
		{"route", []string{"route", "203.0.113.0/24", "--route=198.51.100.0/24"}, netip.Addr{}, false, func(m mapping) any { return m.net.Routes },
			[]netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.51.100.0/24")}},
		{"metric", []string{"metric", "50"}, netip.Addr{}, false, func(m mapping) any { return m.net.Metric }, 50},
		{"defaultroute", []string{"defaultroute"}, netip.Addr{}, false, func(m mapping) any { return m.net.DefaultRoute }, true},
		{"nodefaultroute", []string{"defaultroute", "nodefaultroute"}, netip.Addr{}, false, func(m mapping) any { return m.net.DefaultRoute }, false},
		{"proxyarp", []string{"proxyarp"}, netip.Addr{}, false, func(m mapping) any { return m.net.ProxyARP }, true},
		{"ip-up ip-down linkname", []string{"ip-up", "/etc/ppp/ip-up", "ip-down", "/etc/ppp/ip-down", "linkname", "vpn"}, netip.Addr{}, false,
			func(m mapping) any { return [3]string{m.net.IPUp, m.net.IPDown, m.net.LinkName} }, [3]string{"/etc/ppp/ip-up", "/etc/ppp/ip-down", "vpn"}},
		{"pin with defaultroute", []string{"defaultroute"}, farEnd, false, func(m mapping) any { return m.net.PinHost }, farEnd},
		{"pin with a route over the far end", []string{"route", "198.51.100.0/24"}, farEnd, false, func(m mapping) any { return m.net.PinHost }, farEnd},
		{"no pin otherwise", []string{"route", "203.0.113.0/24"}, farEnd, false, func(m mapping) any { return m.net.PinHost }, netip.Addr{}},
		{"ifname", []string{"ifname", "vpn0"}, netip.Addr{}, false, func(m mapping) any { return m.tun.Name }, "vpn0"},
		{"unit", []string{"unit", "3"}, netip.Addr{}, false, func(m mapping) any { return m.tun.Name }, "ppp3"},
		{"ipparam", []string{"ipparam", "vpn"}, netip.Addr{}, false, func(m mapping) any { return m.info },
			tunnel.LinkInfo{Interface: "ppp7", TTY: "/dev/pts/3", IPParam: "vpn"}},
		{"line options", []string{"/dev/ttyS0", "115200", "crtscts", "local"}, netip.Addr{}, true, func(m mapping) any { return m.line },
			lineMode{speed: 115200, crtscts: 1, local: true}},
		{"nocrtscts", []string{"nocrtscts"}, netip.Addr{}, true, func(m mapping) any { return m.line.crtscts }, -1},
		{"speed for scripts", []string{"/dev/ttyS0", "38400"}, netip.Addr{}, true, func(m mapping) any { return m.info.Speed }, 38400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defaults := defaultOptions()
			if tc.pppd {
				defaults = pppdDefaults()
			}
			got := tc.got(mapArgs(t, defaults, tc.peer, tc.args...))
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }), cmp.AllowUnexported(lineMode{})); diff != "" {
				t.Errorf("%q (-want +got):\n%s", tc.args, diff)
			}
		})
	}
}

// TestMappingCheckOnly: the check-only decision reaches NetConfig.
func TestMappingCheckOnly(t *testing.T) {
	o := defaultOptions()
	if !netConfig(&o, netip.Addr{}, true, nil).CheckOnly || netConfig(&o, netip.Addr{}, false, nil).CheckOnly {
		t.Error("CheckOnly not passed through")
	}
}

// TestPickTransport checks which transport the options choose and the
// combinations refused.
func TestPickTransport(t *testing.T) {
	for _, tc := range []struct {
		args []string
		desc string
		err  string
	}{
		{nil, "standard input and output", ""},
		{[]string{"notty"}, "standard input and output", ""},
		{[]string{"pty", "ssh gw pppd notty"}, "pty command", ""},
		{[]string{"pty", "ssh gw", "persist"}, "pty command", ""},
		{[]string{"/dev/ttyS1"}, "/dev/ttyS1", ""},
		{[]string{"pty", "x", "/dev/ttyS1"}, "", "either a device (/dev/ttyS1) or pty COMMAND"},
		{[]string{"pty", "x", "notty"}, "", "either pty COMMAND or notty"},
		{[]string{"/dev/ttyS1", "notty"}, "", "either a device (/dev/ttyS1) or notty"},
		{[]string{"persist"}, "", "persist needs a device or pty COMMAND"},
	} {
		o := defaultOptions()
		if err := parseOptions(&o, tc.args, "test", nil); err != nil {
			t.Fatal(err)
		}
		tr, err := pickTransport(&o)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
		case tc.err == "" && (err != nil || tr.desc != tc.desc):
			t.Errorf("%q: transport %q, error %v; want %q", tc.args, tr.desc, err, tc.desc)
		}
	}
}
