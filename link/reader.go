package link

import "github.com/pppssh/pppssh/ppp"

// readLoop is the reader goroutine: it decodes frames from the stream until
// the stream fails, passes IPv4 packets to Config.Packets while IPCP is
// Opened, and hands every other packet to the control loop. Control packets
// are copied into a ring of buffers reused round after round, so steady
// state allocates nothing; a slot is reused only after ctlQueue+1 later
// packets were queued, by which time the control loop is done with it.
func (l *Link) readLoop() {
	var ring [ctlQueue + 2][]byte
	slot := 0
	for {
		frame, err := l.dec.ReadFrame()
		if err != nil {
			l.readErr <- err
			return
		}
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil {
			l.n.dropHeader.Add(1)
			continue
		}
		if proto == ppp.ProtoIPv4 && l.ipOpen.Load() {
			l.n.packetsIn.Add(1)
			if l.cfg.Packets != nil {
				l.cfg.Packets.HandlePacket(proto, info)
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

// countingReader counts the octets read from the stream.
type countingReader struct {
	l *Link
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.l.stream.Read(p)
	c.l.n.bytesIn.Add(uint64(n))
	return n, err
}
