package tunnel

import "net/netip"

// Host sets up the host around a link while IPCP is up: the interface's
// addresses, MTU and state, routes through the peer, proxy ARP, and the
// pppd-style ip-up and ip-down hooks. The engine calls Up once IPCP reaches
// Opened and Down when it leaves Opened or the link ends, both on the
// engine's control goroutine. A nil Host leaves the host alone (a userspace
// device, or a persistent TUN the administrator configured).
type Host interface {
	// Up configures the host for the link described by info. On error it
	// undoes what it did before returning; the engine then ends the link
	// with the error.
	Up(info LinkInfo) error
	// Down removes everything the last successful Up added, in reverse
	// order, and runs the ip-down hook. It is safe to call when Up failed
	// or was never called. It returns the first error but keeps cleaning.
	Down(info LinkInfo) error
}

// LinkInfo describes a link that IPCP has brought up, for Host and hooks.
type LinkInfo struct {
	Interface string        // the TUN device's name, e.g. "ppp0"
	Local     netip.Addr    // our address
	Peer      netip.Addr    // the peer's address
	MTU       int           // the interface MTU: the peer's MRU, capped by our MTU setting
	DNS       [2]netip.Addr // DNS servers the peer gave us (usepeerdns), if any
	TTY       string        // the stream's name for hooks ("ssh:host", "/dev/ttyS0", "stdio")
	Speed     int           // pppd's speed argument for hooks; 0 on a byte stream
	IPParam   string        // pppd's ipparam, passed to hooks
	// Counters for ip-down: octets sent and received, seconds connected.
	BytesSent, BytesReceived uint64
	ConnectTime              int64
}
