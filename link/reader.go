package link

import (
	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ppp"
)

// readLoop is the reader goroutine: it decodes frames from the stream until
// the stream fails, passes IPv4 packets to Config.Packets while IPCP is
// Opened, and hands every other packet to the control loop. Control packets
// are copied into a ring of buffers reused round after round, so steady
// state allocates nothing; a slot is reused only after ctlQueue+1 later
// packets were queued, by which time the control loop is done with it.
//
// Config.Packets is flushed before every read from the stream (see
// countingReader), so the packets of one read reach the handler's device
// together, and none waits while the reader blocks.
func (l *Link) readLoop() {
	var ring [ctlQueue + 2][]byte
	slot := 0
	h := l.cfg.Packets
	for {
		frame, err := l.dec.ReadFrame()
		if err != nil {
			if h != nil {
				h.Flush()
			}
			l.readErr <- err
			return
		}
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil {
			l.n.dropHeader.Add(1)
			continue
		}
		if proto != ppp.ProtoLCP && l.rxFCS32.Load() && l.dec.FrameFCS() != hdlc.FCS32 {
			// RFC 1570: once FCS-32 is agreed only LCP keeps the
			// default FCS. A frame that passes only the 16-bit
			// check is damage FCS-32 would have caught.
			l.n.dropFCS.Add(1)
			continue
		}
		if (proto == ppp.ProtoIPv4 || proto == ppp.ProtoIPv6) && l.flowing(proto) {
			l.n.packetsIn.Add(1)
			if h != nil {
				h.HandlePacket(proto, info)
			}
			continue
		}
		buf := append(ring[slot][:0], info...)
		ring[slot] = buf
		select {
		case l.ctl <- ctlMsg{proto: proto, info: buf}:
			slot = (slot + 1) % len(ring)
		default:
			l.n.dropQueue.Add(1)
		}
	}
}

// countingReader is the decoder's view of the stream: it flushes the packet
// handler before each read, since the read may block, and counts the octets
// read.
type countingReader struct {
	l *Link
}

func (c countingReader) Read(p []byte) (int, error) {
	if h := c.l.cfg.Packets; h != nil {
		h.Flush()
	}
	n, err := c.l.stream.Read(p)
	c.l.n.bytesIn.Add(uint64(n))
	return n, err
}
