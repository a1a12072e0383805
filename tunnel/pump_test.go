package tunnel_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
)

// TestZeroAllocs proves that the data path allocates nothing per packet in
// steady state, each way: device read, framing, stream, decoding, device
// write, with MSS clamping on (a TCP SYN is in every batch).
func TestZeroAllocs(t *testing.T) {
	const batch = 32
	a, b := startPair(t.Context(), tunnel.Config{ClampMSS: true}, tunnel.Config{ClampMSS: true})
	a.waitUp(t)
	b.waitUp(t)
	for _, dir := range []struct {
		name     string
		from, to *peer
	}{{"A to B", a, b}, {"B to A", b, a}} {
		t.Run(dir.name, func(t *testing.T) {
			pkts := make([][]byte, batch)
			for i := range pkts {
				pkts[i] = udpPacket(addrA, addrB, 28+i*46, byte(i))
			}
			pkts[0] = tcpPacket(segment{syn: true, opts: []layers.TCPOption{mssOpt(9000)}})
			round := func() {
				for _, p := range pkts {
					dir.from.dev.Outbound <- p
				}
				for range pkts {
					dir.to.dev.Recycle(<-dir.to.dev.Inbound)
				}
			}
			for range 10 {
				round() // fill the recycled buffers
			}
			// The receiver counts a batch just after the device took
			// it: wait for the count to catch up with what arrived.
			written := func(want uint64) uint64 {
				deadline := time.Now().Add(5 * time.Second)
				for {
					n := dir.to.eng.Status().Device.PacketsWritten
					if n == want || time.Now().After(deadline) {
						return n
					}
					time.Sleep(time.Millisecond)
				}
			}
			before := written(10 * batch)
			clamped := dir.from.eng.Status().Device.MSSClamped
			if n := testing.AllocsPerRun(50, round); n != 0 {
				t.Errorf("%v allocations per batch of %d packets, want 0", n, batch)
			}
			// AllocsPerRun runs round once more to warm up.
			if got := written(before+51*batch) - before; got != 51*batch {
				t.Errorf("%d packets crossed, want %d", got, 51*batch)
			}
			if got := dir.from.eng.Status().Device.MSSClamped - clamped; got != 51 {
				t.Errorf("%d SYNs clamped, want 51", got)
			}
		})
	}
	stopPair(t, a, b)
}

// TestControlUnderLoad saturates one direction with data and checks that
// LCP Echo round trips still complete both ways, and that the link
// terminates promptly.
func TestControlUnderLoad(t *testing.T) {
	lc := lcp.DefaultConfig()
	lc.EchoInterval = 20 * time.Millisecond
	cfg := tunnel.Config{Link: link.Config{LCP: &lc}}
	a, b := startPair(t.Context(), cfg, cfg)
	a.waitUp(t)
	b.waitUp(t)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var octets atomic.Int64
	pkt := udpPacket(addrA, addrB, 1500, 0)
	wg.Go(func() { // flood A to B
		for {
			select {
			case a.dev.Outbound <- pkt:
			case <-stop:
				return
			case <-a.dev.Closed():
				return
			}
		}
	})
	wg.Go(func() { // drain B
		for {
			select {
			case p := <-b.dev.Inbound:
				octets.Add(int64(len(p)))
				b.dev.Recycle(p)
			case <-b.dev.Closed():
				return
			}
		}
	})
	time.Sleep(100 * time.Millisecond)
	rttA, rttB := a.eng.Status().RTT.Count, b.eng.Status().RTT.Count
	start, moved := time.Now(), octets.Load()
	time.Sleep(time.Second)
	elapsed := time.Since(start)
	moved = octets.Load() - moved
	sa, sb := a.eng.Status(), b.eng.Status()
	t.Logf("%.1f MB/s A to B; echo RTT A %+v, B %+v", float64(moved)/elapsed.Seconds()/1e6, sa.RTT, sb.RTT)
	if moved < 1<<20 {
		t.Errorf("only %d octets crossed in %v: the direction is not saturated", moved, elapsed)
	}
	// One echo every 20 ms: expect dozens; a control packet stuck behind
	// data would give none.
	if n := sa.RTT.Count - rttA; n < 5 {
		t.Errorf("A (sending data): %d echo round trips in %v, want at least 5", n, elapsed)
	}
	if n := sb.RTT.Count - rttB; n < 5 {
		t.Errorf("B (receiving data): %d echo round trips in %v, want at least 5", n, elapsed)
	}
	// An echo waits for at most one batch write each way: milliseconds,
	// not the time to drain a queue.
	if sa.RTT.Max > 500*time.Millisecond || sb.RTT.Max > 500*time.Millisecond {
		t.Errorf("longest echo round trip A %v, B %v; want well under 500ms", sa.RTT.Max, sb.RTT.Max)
	}
	closed := time.Now()
	a.eng.Close()
	errA := <-a.done
	if d := time.Since(closed); d > 2*time.Second {
		t.Errorf("terminating under load took %v", d)
	}
	if errA != link.ErrClosed {
		t.Errorf("A: Run = %v, want ErrClosed", errA)
	}
	<-b.done
	close(stop)
	wg.Wait()
}
