package tunnel

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NetConfig says how a NetHost sets up the host around a kernel TUN while
// IPCP is up. The zero value gives the interface its addresses, MTU and
// state and does nothing else.
type NetConfig struct {
	// Routes are IPv4 prefixes to route through the peer, like the classic
	// recipe's "route add -net 193.6.37.0 gw PEER": each becomes a route
	// through the interface (scope link). Host bits must be zero.
	Routes []netip.Prefix
	// Metric is the metric (priority) of the routes Up adds, the default
	// route included. Zero is the kernel's default, the most preferred.
	Metric int
	// DefaultRoute makes the interface the IPv4 default route, as pppd's
	// defaultroute and replacedefaultroute together: default routes of the
	// main table with a metric not above Metric are removed while the link
	// is up and put back by Down.
	DefaultRoute bool
	// PinHost, if valid, is the address of the transport's far end (the SSH
	// server). Before adding any route, Up adds a host route to it through
	// the gateway and interface it is reached by now, so that the tunnel
	// does not route its own transport into itself.
	PinHost netip.Addr
	// ProxyARP publishes the peer's address on the Ethernet interface whose
	// subnet contains it, as pppd's proxyarp, so that the hosts of that LAN
	// reach the peer through this host, and turns on IPv4 forwarding. Up
	// fails if no Ethernet interface has such a subnet.
	ProxyARP bool
	// CheckOnly changes nothing: Up verifies that the interface already has
	// what the other fields ask for (addresses, MTU, up, routes, proxy ARP)
	// and fails with a *CheckError naming what is missing and the commands
	// that add it. Use it when this process may not configure the interface:
	// a persistent TUN owned by an unprivileged user (see HasNetAdmin).
	CheckOnly bool
	// IPUp and IPDown are pppd-style ip-up and ip-down scripts (see Hooks);
	// empty runs none.
	IPUp, IPDown string
	// LinkName is pppd's linkname, given to the scripts as LINKNAME.
	LinkName string
	// HookTimeout bounds each script's run; zero means DefaultHookTimeout.
	HookTimeout time.Duration
	// Logger receives what Up and Down change; nil discards it.
	Logger *slog.Logger
}

// NetHost is the Host for a kernel TUN: it configures the interface, routes
// and proxy ARP with netlink, and runs the ip-up and ip-down scripts. It
// records each change Up makes, and Down undoes exactly those, in reverse
// order; what was there before Up (an address the administrator gave a
// persistent TUN, say) stays. Up and Down act in the network namespace of
// the calling thread.
type NetHost struct {
	cfg   NetConfig
	log   *slog.Logger
	hooks *Hooks

	mu     sync.Mutex
	undo   []undoStep // changes made by the last Up, oldest first
	active bool       // Up succeeded and Down has not run
	info   LinkInfo   // of the last successful Up
}

var _ Host = (*NetHost)(nil)

// undoStep reverts one change Up made.
type undoStep struct {
	what    string // what fn does, e.g. "remove address 192.0.2.1 peer 192.0.2.2 from ppp0"
	fn      func() error
	restore bool // fn puts back something Up removed: its failing is always an error
}

// NewNetHost checks cfg and returns a NetHost for it. It changes nothing.
func NewNetHost(cfg NetConfig) (*NetHost, error) {
	for _, p := range cfg.Routes {
		switch {
		case !p.IsValid():
			return nil, fmt.Errorf("tunnel: invalid route prefix %v", p)
		case !p.Addr().Is4():
			return nil, fmt.Errorf("tunnel: route %v: only IPv4 prefixes can be routed through the link (IPCP carries IPv4 only)", p)
		case p != p.Masked():
			return nil, fmt.Errorf("tunnel: route %v has host bits set (did you mean %v?)", p, p.Masked())
		}
	}
	if cfg.Metric < 0 {
		return nil, fmt.Errorf("tunnel: route metric %d is negative", cfg.Metric)
	}
	if cfg.HookTimeout < 0 {
		return nil, fmt.Errorf("tunnel: hook timeout %v is negative", cfg.HookTimeout)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Routes = append([]netip.Prefix(nil), cfg.Routes...)
	return &NetHost{
		cfg: cfg,
		log: log,
		hooks: &Hooks{
			IPUp:     cfg.IPUp,
			IPDown:   cfg.IPDown,
			LinkName: cfg.LinkName,
			Timeout:  cfg.HookTimeout,
			Logger:   log,
		},
	}, nil
}

// Up configures the host for the link (see Host and NetConfig), then starts
// the ip-up script. If a step fails, Up undoes the steps before it and
// returns the error.
func (h *NetHost) Up(info LinkInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active {
		return fmt.Errorf("tunnel: Up for %s while the previous Up is still in place (call Down first)", info.Interface)
	}
	if err := checkLinkInfo(info); err != nil {
		return err
	}
	if h.cfg.CheckOnly {
		if err := h.check(info); err != nil {
			return err
		}
		h.log.Info("interface configured by the administrator has what the link needs", "device", info.Interface)
	} else if err := h.configure(info); err != nil {
		if uerr := h.rollback(); uerr != nil {
			h.log.Warn("undoing a failed Up", "device", info.Interface, "err", uerr)
		}
		return err
	}
	h.active = true
	h.info = info
	h.hooks.Up(info)
	return nil
}

// Down removes what the last successful Up added, in reverse order, then
// runs the ip-down script (after a still running ip-up ends). It goes on
// past errors and returns the first. Things already gone, such as the routes
// and addresses of a TUN that was closed first, are not errors. Down is safe
// to call again, and when Up failed or never ran.
func (h *NetHost) Down(info LinkInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	err := h.rollback()
	if h.active {
		h.active = false
		if info.Interface == "" {
			info.Interface, info.Local, info.Peer = h.info.Interface, h.info.Local, h.info.Peer
		}
		h.hooks.Down(info)
	}
	return err
}

// did logs a change Up made and records how Down undoes it.
func (h *NetHost) did(change, undoWhat string, undo func() error) {
	h.log.Info(change)
	h.undo = append(h.undo, undoStep{what: undoWhat, fn: undo})
}

// rollback undoes the recorded changes, newest first, and forgets them.
func (h *NetHost) rollback() error {
	var first error
	for i := len(h.undo) - 1; i >= 0; i-- {
		s := h.undo[i]
		err := s.fn()
		switch {
		case err == nil:
			h.log.Info("undo: " + s.what)
		case gone(err) && !s.restore:
			h.log.Debug("undo: nothing to do, already gone: "+s.what, "err", err)
		default:
			h.log.Warn("undo failed: "+s.what, "err", err)
			if first == nil {
				first = fmt.Errorf("tunnel: %s: %w", s.what, err)
			}
		}
	}
	h.undo = nil
	return first
}

// gone reports whether err says the thing to remove is not there (anymore).
func gone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) ||
		errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EADDRNOTAVAIL) ||
		errors.As(err, new(netlink.LinkNotFoundError))
}

func checkLinkInfo(info LinkInfo) error {
	switch {
	case info.Interface == "":
		return errors.New("tunnel: LinkInfo has no interface name")
	case !info.Local.Is4() || !info.Peer.Is4():
		return fmt.Errorf("tunnel: LinkInfo for %s needs IPv4 local and peer addresses (got %v and %v)", info.Interface, info.Local, info.Peer)
	case info.MTU < 68 || info.MTU > 65535:
		return fmt.Errorf("tunnel: LinkInfo for %s has MTU %d (IPv4 needs 68 to 65535)", info.Interface, info.MTU)
	}
	return nil
}

// configure makes the changes, recording each for rollback.
func (h *NetHost) configure(info LinkInfo) error {
	dev := info.Interface
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("tunnel: configure %s: %w (the TUN must be open while the link is up)", dev, err)
	}
	idx := link.Attrs().Index

	if h.cfg.PinHost.IsValid() {
		if err := h.pin(h.cfg.PinHost, idx, dev); err != nil {
			return err
		}
	}

	addr := &netlink.Addr{IPNet: hostNet(info.Local), Peer: hostNet(info.Peer)}
	switch err := netlink.AddrAdd(link, addr); {
	case errors.Is(err, unix.EEXIST):
		h.log.Info("interface has the address already; leaving it", "device", dev, "local", info.Local, "peer", info.Peer)
	case err != nil:
		return fmt.Errorf("tunnel: add address %s peer %s to %s: %w", info.Local, info.Peer, dev, err)
	default:
		a := fmt.Sprintf("address %s peer %s", info.Local, info.Peer)
		h.did("added "+a+" to "+dev, "remove "+a+" from "+dev, func() error {
			return netlink.AddrDel(link, &netlink.Addr{IPNet: hostNet(info.Local), Peer: hostNet(info.Peer)})
		})
	}

	if old := link.Attrs().MTU; old != info.MTU {
		if err := netlink.LinkSetMTU(link, info.MTU); err != nil {
			return fmt.Errorf("tunnel: set MTU of %s to %d: %w", dev, info.MTU, err)
		}
		h.did(fmt.Sprintf("set MTU of %s to %d (was %d)", dev, info.MTU, old), fmt.Sprintf("restore MTU %d on %s", old, dev), func() error {
			return netlink.LinkSetMTU(link, old)
		})
	}

	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(link); err != nil {
			return fmt.Errorf("tunnel: bring %s up: %w", dev, err)
		}
		h.did("brought "+dev+" up", "bring "+dev+" down", func() error { return netlink.LinkSetDown(link) })
	}

	for _, p := range h.cfg.Routes {
		r := &netlink.Route{LinkIndex: idx, Dst: prefixNet(p), Scope: netlink.SCOPE_LINK, Priority: h.cfg.Metric}
		if err := netlink.RouteAdd(r); err != nil {
			if errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("tunnel: add route %v dev %s metric %d: a route to %v with that metric exists already (remove it, or choose another metric): %w", p, dev, h.cfg.Metric, p, err)
			}
			return fmt.Errorf("tunnel: add route %v dev %s metric %d: %w", p, dev, h.cfg.Metric, err)
		}
		route := fmt.Sprintf("route %v dev %s metric %d", p, dev, h.cfg.Metric)
		h.did("added "+route, "remove "+route, func() error { return netlink.RouteDel(r) })
	}

	if h.cfg.DefaultRoute {
		if err := h.defaultRoute(idx, dev); err != nil {
			return err
		}
	}
	if h.cfg.ProxyARP {
		if err := h.proxyARP(idx, info.Peer); err != nil {
			return err
		}
	}
	return nil
}

// pin adds a host route to addr through whatever reaches it now.
func (h *NetHost) pin(addr netip.Addr, tunIdx int, dev string) error {
	routes, err := netlink.RouteGet(addr.AsSlice())
	if err != nil || len(routes) == 0 {
		return fmt.Errorf("tunnel: find the route to %s to keep the transport out of the tunnel: %v (is %s reachable?)", addr, err, addr)
	}
	cur := routes[0]
	if cur.Type == unix.RTN_LOCAL || cur.LinkIndex == 0 {
		h.log.Debug("transport's far end is local; nothing to pin", "addr", addr)
		return nil
	}
	if cur.LinkIndex == tunIdx {
		return fmt.Errorf("tunnel: the route to %s, the transport's far end, already goes through %s; remove that route, or it would carry the tunnel inside itself", addr, dev)
	}
	r := &netlink.Route{LinkIndex: cur.LinkIndex, Dst: prefixNet(netip.PrefixFrom(addr, addr.BitLen())), Gw: cur.Gw, Scope: netlink.SCOPE_LINK}
	if cur.Gw != nil {
		r.Scope = netlink.SCOPE_UNIVERSE
	}
	what := fmt.Sprintf("host route %s dev %s", addr, linkName(cur.LinkIndex))
	if cur.Gw != nil {
		what = fmt.Sprintf("host route %s via %s dev %s", addr, cur.Gw, linkName(cur.LinkIndex))
	}
	switch err := netlink.RouteAdd(r); {
	case errors.Is(err, unix.EEXIST):
		h.log.Info("transport's far end has a host route already; leaving it", "addr", addr)
		return nil
	case err != nil:
		return fmt.Errorf("tunnel: add %s (keeps the transport out of the tunnel): %w", what, err)
	}
	h.did("added "+what+" (keeps the transport out of the tunnel)", "remove "+what, func() error { return netlink.RouteDel(r) })
	return nil
}

// defaultRoute moves the IPv4 default route to the interface.
func (h *NetHost) defaultRoute(idx int, dev string) error {
	routes, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("tunnel: list routes: %w", err)
	}
	for _, r := range routes {
		if !isDefault(r) || r.Type != unix.RTN_UNICAST || r.Priority > h.cfg.Metric {
			continue
		}
		old := r
		old.Dst = prefixNet(netip.PrefixFrom(netip.IPv4Unspecified(), 0))
		old.Flags &= unix.RTNH_F_ONLINK
		desc := describeRoute(old)
		if err := netlink.RouteDel(&old); err != nil {
			return fmt.Errorf("tunnel: replace the default route %s: %w", desc, err)
		}
		h.log.Info("removed the default route while the link is up", "route", desc)
		h.undo = append(h.undo, undoStep{what: "restore default route " + desc, restore: true, fn: func() error {
			err := netlink.RouteAdd(&old)
			if errors.Is(err, unix.EEXIST) {
				return nil
			}
			return err
		}})
	}
	r := &netlink.Route{LinkIndex: idx, Dst: prefixNet(netip.PrefixFrom(netip.IPv4Unspecified(), 0)), Scope: netlink.SCOPE_LINK, Priority: h.cfg.Metric}
	if err := netlink.RouteAdd(r); err != nil {
		return fmt.Errorf("tunnel: add default route dev %s metric %d: %w", dev, h.cfg.Metric, err)
	}
	route := fmt.Sprintf("default route dev %s metric %d", dev, h.cfg.Metric)
	h.did("added "+route, "remove "+route, func() error { return netlink.RouteDel(r) })
	return nil
}

func isDefault(r netlink.Route) bool {
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0
}

func describeRoute(r netlink.Route) string {
	var b strings.Builder
	b.WriteString("default")
	if r.Gw != nil {
		fmt.Fprintf(&b, " via %s", r.Gw)
	}
	if r.LinkIndex != 0 {
		fmt.Fprintf(&b, " dev %s", linkName(r.LinkIndex))
	}
	if r.Priority != 0 {
		fmt.Fprintf(&b, " metric %d", r.Priority)
	}
	return b.String()
}

// linkName returns the name of the interface with index idx, for messages.
func linkName(idx int) string {
	if l, err := netlink.LinkByIndex(idx); err == nil {
		return l.Attrs().Name
	}
	return fmt.Sprintf("if%d", idx)
}

func hostNet(a netip.Addr) *net.IPNet {
	return prefixNet(netip.PrefixFrom(a, a.BitLen()))
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// CheckError is returned by a NetHost in CheckOnly mode when the interface
// lacks something the link needs. It lists what is missing and the commands
// an administrator can run to add it.
type CheckError struct {
	Interface string
	// Missing has one clause per missing thing, e.g. "ppp0 has no address
	// 192.0.2.1 peer 192.0.2.2".
	Missing []string
	// Commands add what is missing, e.g. "ip addr add 192.0.2.1 peer
	// 192.0.2.2 dev ppp0".
	Commands []string
}

// Error reads, for one missing address: "tunnel: ppp0 has no address
// 192.0.2.1 peer 192.0.2.2; ask the administrator to run: ip addr add
// 192.0.2.1 peer 192.0.2.2 dev ppp0".
func (e *CheckError) Error() string {
	return "tunnel: " + strings.Join(e.Missing, "; ") + "; ask the administrator to run: " + strings.Join(e.Commands, "; ")
}

// check verifies, changing nothing, that the interface has what configure
// would have given it.
func (h *NetHost) check(info LinkInfo) error {
	dev := info.Interface
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("tunnel: check %s: %w (the TUN must be open while the link is up)", dev, err)
	}
	idx := link.Attrs().Index
	e := &CheckError{Interface: dev}
	miss := func(what, cmd string) {
		e.Missing = append(e.Missing, what)
		e.Commands = append(e.Commands, cmd)
	}

	addrs, err := netlink.AddrList(link, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("tunnel: list addresses of %s: %w", dev, err)
	}
	if !hasPeerAddr(addrs, info.Local, info.Peer) {
		miss(fmt.Sprintf("%s has no address %s peer %s", dev, info.Local, info.Peer),
			fmt.Sprintf("ip addr add %s peer %s dev %s", info.Local, info.Peer, dev))
	}
	if mtu := link.Attrs().MTU; mtu > info.MTU {
		miss(fmt.Sprintf("%s has MTU %d, above the link's %d", dev, mtu, info.MTU),
			fmt.Sprintf("ip link set dev %s mtu %d", dev, info.MTU))
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		miss(dev+" is down", fmt.Sprintf("ip link set dev %s up", dev))
	}

	if len(h.cfg.Routes) > 0 || h.cfg.DefaultRoute {
		routes, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN, LinkIndex: idx}, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_OIF)
		if err != nil {
			return fmt.Errorf("tunnel: list routes of %s: %w", dev, err)
		}
		metric := ""
		if h.cfg.Metric != 0 {
			metric = fmt.Sprintf(" metric %d", h.cfg.Metric)
		}
		for _, p := range h.cfg.Routes {
			if !hasRoute(routes, p) {
				miss(fmt.Sprintf("%s has no route to %v", dev, p), fmt.Sprintf("ip route add %v dev %s%s", p, dev, metric))
			}
		}
		if h.cfg.DefaultRoute && !hasRoute(routes, netip.PrefixFrom(netip.IPv4Unspecified(), 0)) {
			miss(dev+" is not the default route", fmt.Sprintf("ip route replace default dev %s%s", dev, metric))
		}
	}
	if pin := h.cfg.PinHost; pin.IsValid() {
		if rs, err := netlink.RouteGet(pin.AsSlice()); err == nil && len(rs) > 0 && rs[0].LinkIndex == idx {
			miss(fmt.Sprintf("the route to %s, the transport's far end, goes through %s", pin, dev),
				fmt.Sprintf("ip route add %s via GATEWAY dev INTERFACE (the way it went before)", pin))
		}
	}
	if h.cfg.ProxyARP {
		eth, err := proxyARPInterface(idx, info.Peer)
		if err != nil {
			return err
		}
		if !hasProxyEntry(eth.Attrs().Index, info.Peer) {
			miss(fmt.Sprintf("%s has no proxy ARP entry for %s", eth.Attrs().Name, info.Peer),
				fmt.Sprintf("ip neigh add proxy %s dev %s", info.Peer, eth.Attrs().Name))
		}
		if on, err := ipForwarding(); err != nil || !on {
			miss("IPv4 forwarding is off", "sysctl -w net.ipv4.ip_forward=1")
		}
	}
	if len(e.Missing) > 0 {
		return e
	}
	return nil
}

func hasPeerAddr(addrs []netlink.Addr, local, peer netip.Addr) bool {
	for _, a := range addrs {
		if a.Peer == nil || a.IPNet == nil {
			continue
		}
		l, _ := netip.AddrFromSlice(a.IP)
		p, _ := netip.AddrFromSlice(a.Peer.IP)
		ones, _ := a.Peer.Mask.Size()
		if l.Unmap() == local && p.Unmap() == peer && ones == 32 {
			return true
		}
	}
	return false
}

func hasRoute(routes []netlink.Route, p netip.Prefix) bool {
	for _, r := range routes {
		if p.Bits() == 0 && isDefault(r) {
			return true
		}
		if r.Dst == nil {
			continue
		}
		a, _ := netip.AddrFromSlice(r.Dst.IP)
		ones, _ := r.Dst.Mask.Size()
		if netip.PrefixFrom(a.Unmap(), ones) == p {
			return true
		}
	}
	return false
}

// HasNetAdmin reports whether the calling thread has CAP_NET_ADMIN, which
// configuring an interface needs. Without it, a NetHost for a persistent TUN
// should use CheckOnly.
func HasNetAdmin() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[unix.CAP_NET_ADMIN/32].Effective&(1<<(unix.CAP_NET_ADMIN%32)) != 0
}
