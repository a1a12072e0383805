// Package tuntest provides a packet device backed by channels, a test double
// for tunnel.Device in the manner of wireguard's tun/tuntest: a test injects
// packets as if the host had routed them into the interface, and takes the
// packets the tunnel delivers to the host.
//
//	dev := tuntest.New(16, 64)
//	eng := tunnel.New(stream, dev, cfg)
//	go eng.Run(ctx)
//	dev.Outbound <- pkt // the engine reads it and sends it over the link
//	got := <-dev.Inbound // a packet the engine received from the peer
//
// The package does not import tunnel, so that tunnel's own tests can use it.
package tuntest

import (
	"os"
	"sync"
	"sync/atomic"
)

// Device is a tunnel.Device whose packets go through channels. Its queues are
// bounded, so a test that stops taking packets blocks the engine's writes,
// as a full device would. It is safe for concurrent use.
type Device struct {
	// Outbound carries packets into the tunnel: Read returns each packet
	// sent on it. Tests send; the device never closes it, and only reads
	// the packets, so a test may send the same slice again.
	Outbound chan []byte
	// Inbound carries the packets written to the device, each a copy the
	// receiver owns. Tests receive; the device never closes it.
	Inbound chan []byte

	batch  int
	closed chan struct{}
	once   sync.Once
	free   chan []byte

	reads, writes               atomic.Uint64
	packetsRead, packetsWritten atomic.Uint64
}

// New returns a Device whose BatchSize is batchSize (at least 1) and whose
// Outbound and Inbound channels hold queue packets each.
func New(batchSize, queue int) *Device {
	return &Device{
		Outbound: make(chan []byte, queue),
		Inbound:  make(chan []byte, queue),
		batch:    max(batchSize, 1),
		closed:   make(chan struct{}),
		free:     make(chan []byte, queue+batchSize),
	}
}

// Read waits for a packet on Outbound, then takes the packets already
// queued behind it, up to len(bufs), copying each into bufs[i][offset:] and
// its length into sizes[i]. A packet longer than the buffer is truncated, as
// a kernel TUN truncates it. Read returns os.ErrClosed once the device is
// closed.
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	select {
	case <-d.closed:
		return 0, os.ErrClosed
	case p := <-d.Outbound:
		sizes[0] = copy(bufs[0][offset:], p)
	}
	n := 1
	for ; n < len(bufs); n++ {
		select {
		case p := <-d.Outbound:
			sizes[n] = copy(bufs[n][offset:], p)
			continue
		default:
		}
		break
	}
	d.reads.Add(1)
	d.packetsRead.Add(uint64(n))
	return n, nil
}

// Write sends a copy of each packet bufs[i][offset:] on Inbound, waiting
// while Inbound is full, and returns how many it sent: all of them, or
// fewer with os.ErrClosed when the device is closed meanwhile. The copies
// reuse buffers given back with Recycle.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	for i, b := range bufs {
		select {
		case <-d.closed:
			return i, os.ErrClosed
		default:
		}
		var p []byte
		select {
		case p = <-d.free:
		default:
		}
		p = append(p[:0], b[offset:]...)
		select {
		case d.Inbound <- p:
		case <-d.closed:
			return i, os.ErrClosed
		}
		d.packetsWritten.Add(1)
	}
	if len(bufs) > 0 {
		d.writes.Add(1)
	}
	return len(bufs), nil
}

// Recycle gives a packet received from Inbound back to the device, which
// may reuse its buffer for a later Write: a test that recycles what it
// receives keeps a steady flow free of allocations. The caller must not use
// pkt afterwards.
func (d *Device) Recycle(pkt []byte) {
	select {
	case d.free <- pkt:
	default:
	}
}

// BatchSize returns the batch size given to New.
func (d *Device) BatchSize() int { return d.batch }

// Close makes Read and Write return os.ErrClosed, now and from then on. It
// may be called any number of times.
func (d *Device) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

// Closed returns a channel that is closed when the device is.
func (d *Device) Closed() <-chan struct{} { return d.closed }

// Stats counts a Device's calls and packets.
type Stats struct {
	Reads, Writes               uint64 // calls of Read and Write that moved packets
	PacketsRead, PacketsWritten uint64
}

// Stats returns the counters.
func (d *Device) Stats() Stats {
	return Stats{
		Reads:          d.reads.Load(),
		Writes:         d.writes.Load(),
		PacketsRead:    d.packetsRead.Load(),
		PacketsWritten: d.packetsWritten.Load(),
	}
}
