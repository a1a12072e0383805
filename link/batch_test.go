package link

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// batch lays packets out as a pump does: each in a buffer of its own at
// offset, with headroom before it.
func batch(offset int, pkts ...[]byte) ([][]byte, []int) {
	bufs := make([][]byte, len(pkts))
	sizes := make([]int, len(pkts))
	for i, p := range pkts {
		bufs[i] = append(bytes.Repeat([]byte{0xee}, offset), p...)
		sizes[i] = len(p)
	}
	return bufs, sizes
}

// TestWritePackets sends a batch of packets of many sizes: it crosses in
// one write of frames sharing their flags, arrives intact and in order, and
// is delivered to the far end's handler in one flush; the packet above the
// peer's MRU is dropped and counted.
func TestWritePackets(t *testing.T) {
	for _, comp := range []bool{false, true} {
		t.Run(map[bool]string{false: "uncompressed", true: "pfc+acfc"}[comp], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lc := lcpConfig(func(c *lcp.Config) {
					c.Want.NegPFC, c.Want.NegACFC = comp, comp
					c.Allow.NegPFC, c.Allow.NegACFC = comp, comp
				})
				a, b := pipePair(t, t.Context(), Config{LCP: lc, IPCP: ipcp.Config{Local: addrA, Remote: addrB}}, Config{LCP: lc})
				a.waitIPCP(t)
				b.waitIPCP(t)
				synctest.Wait()

				var want [][]byte
				var pkts [][]byte
				for _, n := range []int{28, 64, 200, 576, 1000, 1500, 1501, 40, 1400} {
					p := ipv4Packet(addrA, addrB, n)
					pkts = append(pkts, p)
					if n <= lcp.DefaultMRU {
						want = append(want, p)
					}
				}
				bufs, sizes := batch(16, pkts...)
				writesBefore := len(a.tap.writeSizes(0))
				flushesBefore := b.pkts.flushes
				if err := a.l.WritePackets(ppp.ProtoIPv4, bufs, sizes, 16); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()

				writes := a.tap.writeSizes(writesBefore)
				if len(writes) != 1 {
					t.Fatalf("the batch went in %d writes %v, want 1", len(writes), writes)
				}
				wire := a.tap.written()
				wire = wire[len(wire)-writes[0]:]
				if n := bytes.Count(wire, []byte{0x7e}); n != len(want)+1 {
					t.Errorf("%d flags for %d frames, want %d: frames share their flags", n, len(want), len(want)+1)
				}
				got := b.pkts.got()
				got = got[len(got)-min(len(got), len(want)):]
				if len(got) != len(want) {
					t.Fatalf("B received %d packets, want %d", len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Errorf("packet %d: got %d octets, want the %d sent", i, len(got[i]), len(want[i]))
					}
				}
				if n := b.pkts.flushes - flushesBefore; n != 1 {
					t.Errorf("B's handler got the batch in %d flushes, want 1", n)
				}
				s := a.l.Status().Counters
				if s.DropTooBig != 1 || s.PacketsOut != uint64(len(want)) {
					t.Errorf("DropTooBig %d PacketsOut %d, want 1 and %d", s.DropTooBig, s.PacketsOut, len(want))
				}
				checkWire(t, a.tap.written(), comp)
				a.l.Close()
				<-a.done
				<-b.done
			})
		})
	}
}

// TestWritePacketsSplits checks that a batch larger than MaxBatchWrite goes
// in several writes, each at most MaxBatchWrite octets, all packets intact.
func TestWritePacketsSplits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipePair(t, t.Context(), Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}}, Config{})
		a.waitIPCP(t)
		b.waitIPCP(t)
		synctest.Wait()
		var pkts [][]byte
		for i := range 100 {
			p := ipv4Packet(addrA, addrB, 1500)
			p[len(p)-1] = byte(i)
			pkts = append(pkts, p)
		}
		bufs, sizes := batch(MaxHeaderLen, pkts...)
		before := len(a.tap.writeSizes(0))
		if err := a.l.WritePackets(ppp.ProtoIPv4, bufs, sizes, MaxHeaderLen); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		writes := a.tap.writeSizes(before)
		if len(writes) < 3 {
			t.Errorf("150 KB went in %d writes, want at least 3", len(writes))
		}
		for _, n := range writes {
			if n > MaxBatchWrite {
				t.Errorf("a write of %d octets, above MaxBatchWrite", n)
			}
		}
		got := b.pkts.got()
		if len(got) != len(pkts) {
			t.Fatalf("B received %d packets, want %d", len(got), len(pkts))
		}
		for i := range pkts {
			if !bytes.Equal(got[i], pkts[i]) {
				t.Errorf("packet %d differs", i)
			}
		}
		a.l.Close()
		<-a.done
		<-b.done
	})
}

// WritePackets drops and counts packets while IPCP is not Opened, and
// refuses an offset with no room for the PPP header.
func TestWritePacketsNotOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, theirs) }()
		ctx, cancel := context.WithCancel(t.Context())
		l, done := runLink(ctx, ours, Config{})
		bufs, sizes := batch(8, ipv4Packet(addrA, addrB, 100), ipv4Packet(addrA, addrB, 100))
		if err := l.WritePackets(ppp.ProtoIPv4, bufs, sizes, 8); err != nil {
			t.Fatal(err)
		}
		if n := l.Status().Counters.DropNotOpen; n != 2 {
			t.Errorf("DropNotOpen = %d, want 2", n)
		}
		err := l.WritePackets(ppp.ProtoIPv4, bufs, sizes, 3)
		if err == nil || !strings.Contains(err.Error(), "at least 4") {
			t.Errorf("offset 3: %v, want an error asking for 4 octets", err)
		}
		cancel()
		<-done
		theirs.Close()
	})
}

// CloseWithError ends the link with the given error and sends its text as
// the Terminate-Request's reason.
func TestCloseWithError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipePair(t, t.Context(), Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}}, Config{})
		a.waitIPCP(t)
		b.waitIPCP(t)
		myErr := errors.New("tunnel: no route to 10.9.9.0/24")
		a.l.CloseWithError(myErr)
		a.l.Close() // the first call counts
		if err := <-a.done; err != myErr {
			t.Errorf("A: Run = %v, want %v", err, myErr)
		}
		if err := <-b.done; err == nil || !strings.Contains(err.Error(), "no route to 10.9.9.0/24") {
			t.Errorf("B: Run = %v, want the reason A gave", err)
		}
	})
}

// blockedStream is a stream whose writes never complete and whose reads
// never return, until it is closed: a far end that stopped reading.
type blockedStream struct {
	once   sync.Once
	closed chan struct{}
}

func (s *blockedStream) Read([]byte) (int, error) {
	<-s.closed
	return 0, io.ErrClosedPipe
}

func (s *blockedStream) Write([]byte) (int, error) {
	<-s.closed
	return 0, io.ErrClosedPipe
}

func (s *blockedStream) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// TestStuckStream: with the control loop stuck in a write, cancelling the
// context still ends Run, after the watchdog's grace period.
func TestStuckStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s := &blockedStream{closed: make(chan struct{})}
		_, done := runLink(ctx, s, Config{})
		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Run returned %v with the context alive", err)
		default:
		}
		start := time.Now()
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		grace := ppp.DefaultRestartInterval*(ppp.DefaultMaxTerminate+1) + time.Second
		if d := time.Since(start); d != grace {
			t.Errorf("Run returned %v after the cancel, want the watchdog's %v", d, grace)
		}
	})
}
