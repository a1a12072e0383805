package main

import (
	"encoding/binary"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Sizes and numbers of the packets the load generator makes.
const (
	ipv4Header  = 20
	udpHeader   = 8
	icmpHeader  = 8
	protoICMP   = 1
	protoUDP    = 17
	icmpEcho    = 8 // Echo Request
	icmpReply   = 0 // Echo Reply
	echoPayload = 8
	// loadSourcePort is the UDP source port of every link's datagrams.
	loadSourcePort = 40000
	// phaseHeader is the start of every datagram's payload: phaseMagic and
	// the phase number, so that the sink counts only the phase it expects.
	phaseHeader = 5
)

// phaseMagic starts the payload of the load generator's datagrams.
var phaseMagic = [4]byte{'p', 'l', 'g', '1'}

// loadDevice is the packet device of one link of the load generator, a
// tunnel.Device in userspace. Its Read hands the engine an echo request
// when one is queued and, while flooding, a full batch of UDP datagrams
// to the sink, copied from a template; otherwise it blocks. So the engine
// takes datagrams as fast as its SSH channel does, and no faster. Its
// Write looks only for the replies to its echo requests; everything else
// the server sends is dropped.
type loadDevice struct {
	id      uint16 // the ICMP identifier of its echo requests
	payload int    // UDP payload octets
	port    int    // the sink's UDP port

	// Set once by address, on the link's control goroutine, before the
	// generator floods or echoes.
	src, dst netip.Addr
	udp      []byte // the datagram to the sink, phase 0

	wake   chan struct{} // something to send: an echo, the flood
	closed chan struct{}
	once   sync.Once

	flooding atomic.Bool
	phase    atomic.Uint32

	mu      sync.Mutex
	echoes  []byte // the queued echo request, nil when none; a view of echoBuf
	echoBuf [ipv4Header + icmpHeader + echoPayload]byte

	replies chan uint16 // the sequence numbers of echo replies
}

// newLoadDevice returns the device of a link whose echo requests carry
// identifier id and whose datagrams carry payload octets to the sink's
// port.
func newLoadDevice(id uint16, payload, port int) *loadDevice {
	return &loadDevice{
		id:      id,
		payload: payload,
		port:    port,
		wake:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
		replies: make(chan uint16, 4),
	}
}

// address is called when IPCP is up with the link's address and the
// server's: the datagrams and echo requests go from the one to the other.
func (d *loadDevice) address(src, dst netip.Addr) {
	d.src, d.dst = src, dst
	d.udp = appendUDP(nil, src, dst, loadSourcePort, uint16(d.port), d.payload)
}

// Read implements tunnel.Device: the queued echo request, if any, then,
// while flooding, datagrams to fill bufs. It blocks while there is
// nothing to send, and returns os.ErrClosed once the device is closed.
func (d *loadDevice) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	for {
		select {
		case <-d.closed:
			return 0, os.ErrClosed
		default:
		}
		n := 0
		d.mu.Lock()
		if d.echoes != nil && len(bufs) > 0 {
			sizes[0] = copy(bufs[0][offset:], d.echoes)
			d.echoes = nil
			n = 1
		}
		d.mu.Unlock()
		if d.flooding.Load() {
			phase := byte(d.phase.Load())
			for ; n < len(bufs); n++ {
				b := bufs[n][offset:]
				sizes[n] = copy(b, d.udp)
				b[ipv4Header+udpHeader+len(phaseMagic)] = phase
			}
		}
		if n > 0 {
			return n, nil
		}
		select {
		case <-d.wake:
		case <-d.closed:
			return 0, os.ErrClosed
		}
	}
}

// Write implements tunnel.Device: it passes on the sequence numbers of the
// echo replies to this device's requests and drops every packet.
func (d *loadDevice) Write(bufs [][]byte, offset int) (int, error) {
	select {
	case <-d.closed:
		return 0, os.ErrClosed
	default:
	}
	for _, b := range bufs {
		if seq, ok := echoReplyTo(b[offset:], d.id); ok {
			select {
			case d.replies <- seq:
			default:
			}
		}
	}
	return len(bufs), nil
}

// BatchSize implements tunnel.Device.
func (d *loadDevice) BatchSize() int { return deviceBatch }

// Close implements tunnel.Device; it may be called more than once.
func (d *loadDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

// kick wakes a Read that waits.
func (d *loadDevice) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// flood makes Read hand out datagrams tagged phase until stopFlood.
func (d *loadDevice) flood(phase byte) {
	d.phase.Store(uint32(phase))
	d.flooding.Store(true)
	d.kick()
}

// stopFlood ends the flood; the datagrams Read handed out still go.
func (d *loadDevice) stopFlood() { d.flooding.Store(false) }

// echo sends an echo request with sequence number seq to the server, and
// again with the next sequence numbers every echoResend while no reply
// comes (the server configures its end of a link a moment after IPCP is
// up there, as ping's users know), for up to echoTimeout. It returns the
// round trip of the request answered, whether one was, and how many
// requests it sent. seq is the first of the numbers it uses.
func (d *loadDevice) echo(seq uint16) (rtt time.Duration, ok bool, sent int) {
drain: // late replies to earlier requests
	for {
		select {
		case <-d.replies:
		default:
			break drain
		}
	}
	timeout := time.NewTimer(echoTimeout)
	defer timeout.Stop()
	resend := time.NewTicker(echoResend)
	defer resend.Stop()
	first := seq
	var times []time.Time
	for {
		d.mu.Lock()
		d.echoes = appendEcho(d.echoBuf[:0], d.src, d.dst, d.id, seq)
		d.mu.Unlock()
		times = append(times, time.Now())
		d.kick()
	wait:
		for {
			select {
			case got := <-d.replies:
				if i := int(got - first); i < len(times) {
					return time.Since(times[i]), true, len(times)
				}
			case <-resend.C:
				seq++
				break wait
			case <-timeout.C:
				return 0, false, len(times)
			case <-d.closed:
				return 0, false, len(times)
			}
		}
	}
}

// appendIPv4 appends a 20-octet IPv4 header, Don't Fragment set, for a
// packet of total octets of protocol proto.
func appendIPv4(b []byte, total int, proto byte, src, dst netip.Addr) []byte {
	start := len(b)
	s, t := src.As4(), dst.As4()
	b = append(b, 0x45, 0, byte(total>>8), byte(total), 0, 0, 0x40, 0, 64, proto, 0, 0)
	b = append(b, s[:]...)
	b = append(b, t[:]...)
	binary.BigEndian.PutUint16(b[start+10:], checksum(b[start:]))
	return b
}

// appendUDP appends a UDP datagram from src:sport to dst:dport whose
// payload of size octets starts with phaseMagic and phase 0 and is zero
// after; its UDP checksum is 0, none, as IPv4 allows (RFC 768).
func appendUDP(b []byte, src, dst netip.Addr, sport, dport uint16, size int) []byte {
	total := ipv4Header + udpHeader + size
	b = appendIPv4(b, total, protoUDP, src, dst)
	b = append(b, byte(sport>>8), byte(sport), byte(dport>>8), byte(dport), byte((udpHeader+size)>>8), byte(udpHeader+size), 0, 0)
	b = append(b, phaseMagic[:]...)
	return append(b, make([]byte, size-len(phaseMagic))...)
}

// appendEcho appends an ICMP Echo Request (RFC 792) from src to dst with
// identifier id and sequence number seq, and echoPayload zero octets.
func appendEcho(b []byte, src, dst netip.Addr, id, seq uint16) []byte {
	b = appendIPv4(b, ipv4Header+icmpHeader+echoPayload, protoICMP, src, dst)
	start := len(b)
	b = append(b, icmpEcho, 0, 0, 0, byte(id>>8), byte(id), byte(seq>>8), byte(seq))
	b = append(b, make([]byte, echoPayload)...)
	binary.BigEndian.PutUint16(b[start+2:], checksum(b[start:]))
	return b
}

// echoReplyTo returns the sequence number of pkt if it is an ICMP Echo
// Reply with identifier id.
func echoReplyTo(pkt []byte, id uint16) (uint16, bool) {
	if len(pkt) < ipv4Header || pkt[0]>>4 != 4 || pkt[9] != protoICMP {
		return 0, false
	}
	hl := int(pkt[0]&0xf) * 4
	if hl < ipv4Header || hl > len(pkt) {
		return 0, false
	}
	icmp := pkt[hl:]
	if len(icmp) < icmpHeader || icmp[0] != icmpReply || binary.BigEndian.Uint16(icmp[4:]) != id {
		return 0, false
	}
	return binary.BigEndian.Uint16(icmp[6:]), true
}

// checksum returns the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var sum uint32
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
