package tunnel_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
)

// benchDevice is a Device as cheap as a device can be, so that a benchmark
// measures the engine: Read returns a batch of copies of one packet for each
// token it is given, and Write counts packets and signals every batch.
type benchDevice struct {
	pkt    []byte
	batch  int
	tokens chan struct{} // each lets Read return one batch
	done   chan struct{} // a signal for every batch written
	closed chan struct{}
	once   sync.Once

	written atomic.Int64
	signals int64 // owned by the writing goroutine
}

const benchWindow = 8 // batches in flight per direction

func newBenchDevice(pkt []byte, batch int) *benchDevice {
	return &benchDevice{
		pkt:    pkt,
		batch:  batch,
		tokens: make(chan struct{}, benchWindow),
		done:   make(chan struct{}, benchWindow+2),
		closed: make(chan struct{}),
	}
}

func (d *benchDevice) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	select {
	case <-d.tokens:
	case <-d.closed:
		return 0, os.ErrClosed
	}
	n := min(len(bufs), d.batch)
	for i := range n {
		sizes[i] = copy(bufs[i][offset:], d.pkt)
	}
	return n, nil
}

func (d *benchDevice) Write(bufs [][]byte, offset int) (int, error) {
	total := d.written.Add(int64(len(bufs)))
	for total >= (d.signals+1)*int64(d.batch) {
		d.signals++
		select {
		case d.done <- struct{}{}:
		case <-d.closed:
			return len(bufs), nil
		}
	}
	return len(bufs), nil
}

func (d *benchDevice) BatchSize() int { return d.batch }

func (d *benchDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

// flow drives packets from one device to another: tick is called once per
// packet (one benchmark op) and releases a batch every batch packets, with
// at most benchWindow batches in flight; finish waits for the rest.
type flow struct {
	src, dst *benchDevice
	i        int
	sent     int // batches released
	recv     int // batches seen arrive
}

func (f *flow) tick() {
	if f.i%f.src.batch == 0 {
		if f.sent-f.recv >= benchWindow {
			<-f.dst.done
			f.recv++
		}
		f.src.tokens <- struct{}{}
		f.sent++
	}
	f.i++
}

func (f *flow) finish() {
	for ; f.recv < f.sent; f.recv++ {
		<-f.dst.done
	}
}

// BenchmarkPump moves IPv4 packets from one engine's device to the other's
// over net.Pipe, one way and both ways at once, with FCS-16 and FCS-32. An
// op is one packet (each way, for "both"); pkts/s counts all directions.
func BenchmarkPump(b *testing.B) {
	const batch = 128
	for _, fcs := range []lcp.FCS{lcp.FCS16, lcp.FCS32} {
		for _, size := range []int{64, 576, 1500} {
			for _, both := range []bool{false, true} {
				dir := map[bool]string{false: "oneway", true: "both"}[both]
				b.Run(fmt.Sprintf("fcs=%d/size=%d/%s", map[lcp.FCS]int{lcp.FCS16: 16, lcp.FCS32: 32}[fcs], size, dir), func(b *testing.B) {
					benchPump(b, fcs == lcp.FCS32, size, batch, both)
				})
			}
		}
	}
}

func benchPump(b *testing.B, fcs32 bool, size, batch int, both bool) {
	lc := lcp.DefaultConfig()
	lc.Want.NegFCS, lc.Allow.NegFCS = fcs32, fcs32
	devA := newBenchDevice(udpPacket(addrA, addrB, size, 0), batch)
	devB := newBenchDevice(udpPacket(addrB, addrA, size, 0), batch)
	up := make(chan struct{}, 2)
	events := func(ev link.Event) {
		if ev.Kind == link.EventIPCPUp {
			up <- struct{}{}
		}
	}
	ca, cb := net.Pipe()
	engA := tunnel.New(ca, devA, tunnel.Config{Link: link.Config{LCP: &lc, IPCP: ipcp.Config{Local: addrA, Remote: addrB}}, Events: events})
	engB := tunnel.New(cb, devB, tunnel.Config{Link: link.Config{LCP: &lc}, Events: events})
	ctx, cancel := context.WithCancel(b.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = engA.Run(ctx) })
	wg.Go(func() { _ = engB.Run(ctx) })
	<-up
	<-up

	ab := &flow{src: devA, dst: devB}
	ba := &flow{src: devB, dst: devA}
	dirs := 1
	if both {
		dirs = 2
	}
	b.SetBytes(int64(size * dirs))
	b.ReportAllocs()
	for b.Loop() {
		ab.tick()
		if both {
			ba.tick()
		}
	}
	ab.finish()
	ba.finish()
	b.ReportMetric(float64(b.N*dirs)/b.Elapsed().Seconds(), "pkts/s")
	sa, sb := engA.Status(), engB.Status()
	drops := sa.Counters.DropTooBig + sa.Counters.DropNotOpen + sa.Device.DropWrite + sa.Device.DropMalformed +
		sb.Counters.DropTooBig + sb.Counters.DropNotOpen + sb.Device.DropWrite + sb.Device.DropMalformed
	b.ReportMetric(float64(drops), "drops")
	if sa.Counters.PacketsOut > 0 {
		b.ReportMetric(float64(sa.Counters.PacketsOut)/float64(sa.Counters.StreamWrites), "pkts/write")
	}
	cancel()
	wg.Wait()
}
