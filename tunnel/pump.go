package tunnel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/pppssh/pppssh/ppp"
)

// The data path has two directions, each on one goroutine with buffers
// made once, so that neither allocates per packet:
//
//   - device → link: the pump goroutine reads a batch from the device,
//     drops what is not IP, clamps MSS, and hands the batch to
//     link.WritePackets, which frames it into one stream write (or a few,
//     of at most link.MaxBatchWrite octets each);
//   - link → device: the link's reader goroutine calls the receiver for
//     every IP packet it decodes; the receiver copies it behind Headroom
//     into a batch buffer and writes the batch to the device when it is
//     full or when the reader is about to read the stream again (Flush).
//     It borrows the batch from a pool shared by the process's engines
//     for that time only.
//
// Both block rather than queue: a full stream blocks the pump in
// WritePackets, a full device blocks the reader in Write.

// pump moves packets from the device to the link.
type pump struct {
	e     *Engine
	bufs  [][]byte // BatchSize buffers of Headroom + the largest packet
	sizes []int
	out   [][]byte // the IP packets of a run of one version, views of bufs
	outN  []int
	warn  rateLimit
}

func newPump(e *Engine, batch, size int) *pump {
	p := &pump{
		e:     e,
		bufs:  make([][]byte, batch),
		sizes: make([]int, batch),
		out:   make([][]byte, 0, batch),
		outN:  make([]int, 0, batch),
	}
	for i := range p.bufs {
		p.bufs[i] = make([]byte, size)
	}
	return p
}

// run is the pump goroutine. It returns when the device is closed or
// fails, or when a write to the stream fails; in the last two cases it ends
// the link.
func (p *pump) run() {
	e := p.e
	e.log.Debug("tunnel: device reader started")
	defer e.log.Debug("tunnel: device reader stopped")
	for {
		n, err := e.dev.Read(p.bufs, p.sizes, Headroom)
		if n > 0 {
			if werr := p.send(n); werr != nil {
				e.link.CloseWithError(werr) // a *link.StreamError
				return
			}
		}
		if err == nil {
			continue
		}
		if e.devClosed.Load() {
			return
		}
		if errors.Is(err, tun.ErrTooManySegments) {
			// A segmentation-offload packet split into more segments
			// than a batch holds: the device dropped it.
			e.n.readErrors.Add(1)
			if p.warn.allow() {
				e.log.Warn("tunnel: reading from the packet device", "err", err)
			}
			continue
		}
		e.link.CloseWithError(fmt.Errorf("tunnel: reading from the packet device: %w (was it closed or removed? start the tunnel again)", err))
		return
	}
}

// send passes the first n packets read to the link.
func (p *pump) send(n int) error {
	e := p.e
	mss := uint16(e.mss.Load())
	out, outN := p.out[:0], p.outN[:0]
	var proto ppp.Protocol // of the run of packets in out
	octets, notIP, malformed, clamped := 0, 0, 0, 0
	for i, size := range p.sizes[:n] {
		octets += size
		pkt := p.bufs[i][Headroom : Headroom+size]
		next, ok := ipProto(pkt)
		switch {
		case size == 0 || ok && !whole(next, pkt):
			malformed++
			continue
		case !ok:
			notIP++
			continue
		}
		if next == ppp.ProtoIPv4 && mss != 0 && ClampMSS(pkt, mss) {
			clamped++
		}
		if len(out) > 0 && next != proto {
			// The protocol changes: send the run so far, so that the
			// packets keep their order.
			if err := e.link.WritePackets(proto, out, outN, Headroom); err != nil {
				return err
			}
			out, outN = out[:0], outN[:0]
		}
		proto = next
		out = append(out, p.bufs[i])
		outN = append(outN, size)
	}
	e.n.reads.Add(1)
	addCount(&e.n.packetsRead, n)
	addCount(&e.n.bytesRead, octets)
	addCount(&e.n.dropNotIP, notIP)
	addCount(&e.n.dropMalformed, malformed)
	addCount(&e.n.mssClamped, clamped)
	if len(out) == 0 {
		return nil
	}
	return e.link.WritePackets(proto, out, outN, Headroom)
}

// ipProto returns the PPP protocol of the IP packet pkt by its version:
// IPv4 or IPv6; false for anything else.
func ipProto(pkt []byte) (ppp.Protocol, bool) {
	if len(pkt) == 0 {
		return 0, false
	}
	switch pkt[0] >> 4 {
	case 4:
		return ppp.ProtoIPv4, true
	case 6:
		return ppp.ProtoIPv6, true
	}
	return 0, false
}

// whole reports whether pkt, an IP packet of proto, holds at least a
// minimal header and the whole of the length it gives.
func whole(proto ppp.Protocol, pkt []byte) bool {
	if proto == ppp.ProtoIPv6 {
		return len(pkt) >= ipv6Header && ipv6Header+int(binary.BigEndian.Uint16(pkt[4:6])) <= len(pkt)
	}
	return len(pkt) >= ipv4MinHeader && int(binary.BigEndian.Uint16(pkt[2:4])) <= len(pkt)
}

// ipv6Header is the length of the IPv6 header.
const ipv6Header = 40

// receiver moves packets from the link to the device. It is the link's
// PacketHandler; the link calls it on its reader goroutine only.
//
// It holds a batch only from the first packet after a flush to the next
// flush, and borrows it from batchPools: an idle link holds no receive
// buffers, and the links of one process (pppssh server's) share a few
// batches instead of holding one each.
type receiver struct {
	e     *Engine
	batch int      // packets per batch
	size  int      // the capacity of each buffer of a batch
	b     *rxBatch // the batch being filled; nil when empty
	pool  *batchPool
	warn  rateLimit
}

// rxBatch is a batch of the receiver: buffers, the packets in them as
// handed to the device, and the packets' lengths.
type rxBatch struct {
	bufs [][]byte // buffers, grown for a packet larger than their capacity
	out  [][]byte // out[:n]: the batch, views of bufs of Headroom + packet
	size []int    // the packets' lengths, kept apart since Write may modify out
	n    int
}

// init sets the receiver's batch size and buffer capacity. A device taking
// batches (batch > 1) gets at least coalesceRoom behind Headroom in each
// buffer, since a kernel TUN with offloads coalesces the TCP segments of a
// batch into the first segment's buffer, in place, and only as far as its
// capacity allows: with buffers as small as one packet it writes every
// segment on its own, and the kernel's per-packet cost, not ours, limits
// throughput.
func (r *receiver) init(batch, size int) {
	if batch > 1 {
		size = max(size, Headroom+coalesceRoom)
	}
	r.batch, r.size = batch, size
	pool, _ := batchPools.LoadOrStore([2]int{batch, size}, &batchPool{free: make([]*rxBatch, 0, batchPoolSize)})
	r.pool = pool.(*batchPool)
}

// coalesceRoom is the room behind Headroom the receiver leaves in each
// buffer for a device that coalesces: 22 full-size segments of a 1500-octet
// MTU, so that a typical batch reaches the kernel in two writes. Room that
// segments have filled is memory, and the garbage collector lets the heap
// grow to about twice what is live: room for a whole 64 KiB packet (one
// write per batch) costs twice the memory for little more throughput
// (scripts/bench).
const coalesceRoom = 32 << 10

// maxReceiveBatch bounds the receiver's batch. The reader flushes the batch
// before each read from the stream, and a read brings at most 64 KiB, about
// 44 full-size packets: a larger batch fills only with small packets, which
// do not coalesce.
const maxReceiveBatch = 64

// batchPools holds, for each shape of batch (packets, buffer capacity), a
// *batchPool of the batches of that shape no receiver is filling.
var batchPools sync.Map

// batchPool is a bounded free list of batches: a batch given back to a full
// pool is left to the garbage collector, so the batches kept are about as
// many as receivers flush at once. (A mutex, not a channel: engines run
// inside testing/synctest bubbles too, which may not share channels.)
type batchPool struct {
	mu   sync.Mutex
	free []*rxBatch
}

// batchPoolSize bounds each batchPool.
const batchPoolSize = 8

func (p *batchPool) get() *rxBatch {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.free)
	if n == 0 {
		return nil
	}
	b := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	return b
}

func (p *batchPool) put(b *rxBatch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < batchPoolSize {
		p.free = append(p.free, b)
	}
}

// take returns a batch from the receiver's pool, or a new one.
func (r *receiver) take() *rxBatch {
	if b := r.pool.get(); b != nil {
		return b
	}
	b := &rxBatch{bufs: make([][]byte, r.batch), out: make([][]byte, r.batch), size: make([]int, r.batch)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, r.size)
	}
	return b
}

// HandlePacket copies an IP packet received from the peer into the batch,
// clamping the MSS of an IPv4 TCP SYN, and writes the batch when it is
// full.
func (r *receiver) HandlePacket(proto ppp.Protocol, pkt []byte) {
	e := r.e
	if version, ok := ipProto(pkt); !ok || version != proto || !whole(proto, pkt) {
		// A kernel TUN takes the version from the first octet: an
		// IPv4 frame must carry IPv4, an IPv6 frame IPv6.
		e.n.dropMalformed.Add(1)
		return
	}
	if r.b == nil {
		r.b = r.take()
	}
	rb := r.b
	b := rb.bufs[rb.n]
	if cap(b) < Headroom+len(pkt) {
		// Larger than our MRU: the peer's MRU was raised by a Nak.
		// Grow the buffer once.
		b = make([]byte, Headroom+len(pkt))
		rb.bufs[rb.n] = b
	}
	b = b[:Headroom+len(pkt)]
	copy(b[Headroom:], pkt)
	if mss := uint16(e.mss.Load()); mss != 0 && proto == ppp.ProtoIPv4 && ClampMSS(b[Headroom:], mss) {
		e.n.mssClamped.Add(1)
	}
	rb.out[rb.n] = b
	rb.size[rb.n] = len(pkt)
	rb.n++
	if rb.n == len(rb.out) {
		r.Flush()
	}
}

// Flush writes the batch to the device and gives it back to the pool.
func (r *receiver) Flush() {
	rb := r.b
	if rb == nil {
		return
	}
	r.b = nil
	e := r.e
	batch, sizes := rb.out[:rb.n], rb.size[:rb.n]
	written, err := e.dev.Write(batch, Headroom)
	written = min(max(written, 0), len(batch))
	octets := 0
	for _, n := range sizes[:written] {
		octets += n
	}
	rb.n = 0
	r.pool.put(rb)
	e.n.writes.Add(1)
	addCount(&e.n.packetsWritten, written)
	addCount(&e.n.bytesWritten, octets)
	addCount(&e.n.dropWrite, len(batch)-written)
	if err != nil && e.flowing.Load() && !e.devClosed.Load() && r.warn.allow() {
		e.log.Warn("tunnel: writing to the packet device", "err", err, "dropped", len(batch)-written)
	}
}

// rateLimit lets a data-path warning through at most every 10 seconds. It
// belongs to one goroutine.
type rateLimit struct {
	last time.Time
}

func (r *rateLimit) allow() bool {
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < 10*time.Second {
		return false
	}
	r.last = now
	return true
}
