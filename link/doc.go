// Package link runs one PPP link over a byte stream: the RFC 1662 framing of
// package hdlc, the RFC 1661 automata of package ppp with LCP (package lcp),
// IPCP (package ipcp) and, when configured, IPV6CP (package ipv6cp) plugged
// in, the link phases, keep-alives, and a small data interface for the IPv4
// and IPv6 packets the link carries.
//
// A Link takes any io.ReadWriteCloser (an SSH channel, a pipe, a pty, a
// serial line) and speaks PPP on it until one side ends the link:
//
//	l := link.New(stream, link.Config{IPCP: ipcp.Config{Local: a, Remote: b}})
//	err := l.Run(ctx) // blocks until the link ends; err says why
//
// # Goroutines
//
// Run starts one reader goroutine and runs the control loop on the caller's
// goroutine. The reader decodes frames from the stream, 64 KiB at a time:
// IPv4 packets go straight to Config.Packets while IPCP is Opened, IPv6
// packets while IPV6CP is Opened, and the
// handler is flushed before every read from the stream, so that it can
// deliver the packets of one read as one batch; control packets are copied
// and handed to the control loop over a bounded channel (dropped and counted
// when it is full, as a line would lose them). The control loop owns the
// automata, their handlers, the restart timers and the keep-alive ticker;
// nothing else touches them. Frames are written to the stream under one
// mutex by the control loop (control packets) and by WritePacket and
// WritePackets (data). WritePackets frames a batch of packets into one write
// of at most MaxBatchWrite octets, so a control packet waits for at most one
// such write, never for a queue of them. Run also starts a watchdog that
// closes the stream if the link has not ended some seconds after Close or
// the context's end, in case a write to the stream is stuck.
//
// Neither direction queues without bound: a stream that takes no more
// blocks WritePackets (and so its caller), and a handler that blocks stops
// the reader, which stops reading the stream.
//
// # Phases
//
// The link follows RFC 1661 section 3: Dead, Establish (LCP negotiating),
// Network (LCP Opened: IPCP and IPV6CP run, each unless turned off),
// Terminate, Dead. Packets of protocols other than LCP are dropped before
// the Network phase; in the Network phase a packet of a protocol the link
// does not run is answered with an LCP Protocol-Reject, its information
// truncated to the peer's MRU. A network protocol that fails or that the
// peer rejects leaves the others running; when the last one has finished
// while LCP is Opened, the link closes LCP ("No network protocols
// running"), as pppd does.
package link
