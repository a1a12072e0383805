// Package tunnel runs pppssh's tunnel: a PPP link (package link) over a byte
// stream, and the IP packets it carries (IPv4, and IPv6 when the link runs
// IPV6CP) moved to and from a packet
// Device, in batches and without allocating per packet. It also holds the
// kernel side: a TUN device and the host configuration (addresses, routes,
// proxy ARP, ip-up and ip-down hooks) behind the Host interface.
//
//	eng := tunnel.New(stream, dev, tunnel.Config{Host: host, ClampMSS: true})
//	err := eng.Run(ctx) // blocks until the link ends; err says why
//
// The stream is any io.ReadWriteCloser: an SSH channel, stdin and stdout, a
// pty, a net.Conn, a pipe. The Device is a kernel TUN, a userspace network
// stack, or the test double of package tuntest. This package never imports
// an SSH implementation.
//
// # The path of a packet
//
// Device to peer: the engine's pump goroutine reads up to BatchSize packets
// from the Device in one Read, each behind Headroom octets of its buffer. It
// drops what is neither IPv4 nor IPv6 (counted), clamps the TCP MSS of IPv4
// SYNs if asked to (ClampMSS), and hands the batch to link.WritePackets (one
// call per run of one IP version, so that mixed packets keep their order). That writes each packet's PPP header into the
// headroom, frames the packets one after another into one buffer with the
// negotiated ACCM, PFC, ACFC and FCS, the frames sharing their flags, and
// hands the stream one write per batch, of at most link.MaxBatchWrite octets.
//
// Peer to device: the link's reader goroutine decodes the stream in reads
// of up to 64 KiB. It passes each IP packet to the engine's receiver,
// which copies it behind Headroom into a buffer of its batch and clamps an
// IPv4 SYN's MSS; the batch goes to the Device in one Write when it is full, or when
// the reader is about to read the stream again, which may block.
//
// # Goroutines
//
// Run runs the link's control loop on the caller's goroutine and starts the
// pump; the link starts its reader and a watchdog. The control loop owns the
// PPP automata and calls Host.Up and Host.Down from Config.Events handling,
// so the host is configured on that goroutine and the control loop waits for
// it. Nothing queues without bound: a stream that takes no more blocks the
// pump, a Device that takes no more blocks the reader. A control packet
// waits for at most one batch write on its way out, and for at most one
// device write on its way in. Run closes the stream and the device when the
// link ends, waits for every goroutine, and returns.
//
// References:
//
//   - RFC 1661, The Point-to-Point Protocol (PPP)
//   - RFC 1662, PPP in HDLC-like Framing
//   - RFC 1332, The PPP Internet Protocol Control Protocol (IPCP)
//   - RFC 1624, Computation of the Internet Checksum via Incremental Update
//   - RFC 9293, Transmission Control Protocol (the MSS option, section 3.7.1)
package tunnel
