package main

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
)

// This file maps options to the engine's configuration: the LCP and IPCP
// settings, the link's timers, the TUN device and the Host around it.

// lcpConfig returns LCP's settings: pppd's defaults (lcp.DefaultConfig),
// the MRU, asyncmap and keep-alives o gives, and the 32-bit FCS (RFC 1570)
// offered and accepted unless nofcs32. Two pppssh ends then agree on
// FCS-32; pppd rejects the option and the link keeps the 16-bit FCS.
func lcpConfig(o *options) *lcp.Config {
	c := lcp.DefaultConfig()
	if o.mru != 0 {
		c.Want.NegMRU, c.Want.MRU = true, uint16(o.mru)
	}
	if o.defaultMRU {
		c.Want.NegMRU, c.Want.MRU = false, lcp.DefaultMRU
		c.Allow.NegMRU = false
	}
	if o.hasAsyncmap {
		c.Want.ACCM = o.asyncmap
	}
	if o.noFCS32 {
		c.Want.NegFCS, c.Allow.NegFCS = false, false
	} else {
		c.Want.NegFCS, c.Want.FCS = true, lcp.FCS32
		c.Allow.NegFCS, c.Allow.FCS = true, lcp.FCS16|lcp.FCS32
	}
	if o.noACComp {
		c.Want.NegACFC, c.Allow.NegACFC = false, false
	}
	if o.noPComp {
		c.Want.NegPFC, c.Allow.NegPFC = false, false
	}
	if o.noMagic {
		c.Want.NegMagic, c.Allow.NegMagic = false, false
	}
	c.EchoInterval = time.Duration(o.echoInterval) * time.Second
	c.EchoFailure = o.echoFailure
	return &c
}

// ipcpConfig returns IPCP's settings: the addresses of LOCAL:REMOTE, who
// may change them, and the name servers.
func ipcpConfig(o *options) ipcp.Config {
	c := ipcp.Config{
		Local:        o.local,
		Remote:       o.remote,
		AcceptLocal:  o.acceptLocal,
		AcceptRemote: o.acceptRemote,
		UsePeerDNS:   o.usePeerDNS,
	}
	copy(c.DNS[:], o.msDNS)
	copy(c.NBNS[:], o.msWINS)
	return c
}

// linkConfig returns the link's settings: LCP, IPCP, and the timers and
// counters of both automata.
func linkConfig(o *options) link.Config {
	return link.Config{
		LCP:             lcpConfig(o),
		IPCP:            ipcpConfig(o),
		RestartInterval: time.Duration(o.lcpRestart) * time.Second,
		MaxConfigure:    o.lcpMaxConfigure,
		MaxTerminate:    o.lcpMaxTerminate,
		MaxFailure:      o.lcpMaxFailure,
		Passive:         o.passive,
		Silent:          o.silent,
	}
}

// engineConfig returns the engine's settings for o, without the Host and
// Info, which depend on the TUN device and the stream of each attempt.
func engineConfig(o *options, log *slog.Logger) tunnel.Config {
	return tunnel.Config{
		Link:     linkConfig(o),
		MTU:      o.mtu,
		ClampMSS: o.mssClamp,
		Logger:   log,
	}
}

// netConfig returns the Host's settings. peer is the address of the
// transport's far end (the SSH server or client), if known: it is pinned
// to the way it is reached now when a route of the link would capture it
// (see pinAddr). checkOnly verifies the interface instead of configuring
// it.
func netConfig(o *options, peer netip.Addr, checkOnly bool, log *slog.Logger) tunnel.NetConfig {
	return tunnel.NetConfig{
		Routes:       o.routes,
		Metric:       o.metric,
		DefaultRoute: o.defaultRoute,
		PinHost:      pinAddr(o, peer),
		ProxyARP:     o.proxyARP,
		CheckOnly:    checkOnly,
		IPUp:         o.ipUp,
		IPDown:       o.ipDown,
		LinkName:     o.linkname,
		Logger:       log,
	}
}

// pinAddr returns peer when the routes the link adds would send it into
// the tunnel (defaultroute, or a route containing it), so that NetHost
// keeps a host route to it the way it goes now; otherwise the zero Addr.
func pinAddr(o *options, peer netip.Addr) netip.Addr {
	if !peer.IsValid() || !peer.Unmap().Is4() || peer.IsLoopback() {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if o.defaultRoute {
		return peer
	}
	for _, r := range o.routes {
		if r.Contains(peer) {
			return peer
		}
	}
	return netip.Addr{}
}

// openTUN opens the TUN device o names (ifname; by default the first free
// of ppp0, ppp1, …), or attaches to the persistent one of that name.
// Failures come back as *tunOpenError with tunnel.OpenTUN's explanation
// (what is missing and what to do) verbatim.
func openTUN(o *options, log *slog.Logger) (*tunnel.TUN, error) {
	t, err := tunnel.OpenTUN(tunConfig(o, log))
	if err != nil {
		return nil, &tunOpenError{err}
	}
	return t, nil
}

// tunConfig returns the TUN device's settings.
func tunConfig(o *options, log *slog.Logger) tunnel.TUNConfig {
	return tunnel.TUNConfig{Name: o.ifname, Logger: log}
}

// linkInfo returns what the engine passes to the Host and the scripts
// besides the negotiated values: the interface, the stream's name and
// speed, and ipparam.
func linkInfo(o *options, ifname string, c *conn) tunnel.LinkInfo {
	return tunnel.LinkInfo{Interface: ifname, TTY: c.tty, Speed: c.speed, IPParam: o.ipparam}
}

// newHost returns the Host that configures the host around tun while the
// link is up. Without CAP_NET_ADMIN on a persistent TUN (one the
// administrator made and addressed for this user), it only checks that
// the interface already has what the link needs, and names what is
// missing.
func newHost(o *options, tun *tunnel.TUN, peer netip.Addr, log *slog.Logger) (tunnel.Host, error) {
	checkOnly := !tun.Created() && !tunnel.HasNetAdmin()
	if checkOnly {
		log.Info("no CAP_NET_ADMIN: checking that " + tun.Name() + " already has what the link needs instead of configuring it")
	}
	return tunnel.NewNetHost(netConfig(o, peer, checkOnly, log))
}
