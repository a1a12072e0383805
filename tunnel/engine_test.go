package tunnel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/tunnel"
	"github.com/pppssh/pppssh/tunnel/tuntest"
)

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
	dns1  = netip.MustParseAddr("198.51.100.53")
)

// recordingHost is a Host that records its calls, and the link events seen
// around them, in one log.
type recordingHost struct {
	mu    sync.Mutex
	log   []string
	ups   []tunnel.LinkInfo
	downs []tunnel.LinkInfo
	upErr error
	delay time.Duration // how long Up takes
}

func (h *recordingHost) Up(info tunnel.LinkInfo) error {
	time.Sleep(h.delay)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, "host up")
	h.ups = append(h.ups, info)
	return h.upErr
}

func (h *recordingHost) Down(info tunnel.LinkInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, "host down")
	h.downs = append(h.downs, info)
	return nil
}

func (h *recordingHost) record(s string) {
	h.mu.Lock()
	h.log = append(h.log, s)
	h.mu.Unlock()
}

func (h *recordingHost) calls() (log []string, ups, downs []tunnel.LinkInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.log...), append([]tunnel.LinkInfo(nil), h.ups...), append([]tunnel.LinkInfo(nil), h.downs...)
}

// peer is one end of a test tunnel: an engine, its device, its host and
// what Run returned.
type peer struct {
	eng    *tunnel.Engine
	dev    *tuntest.Device
	host   *recordingHost
	ipcpUp chan ipcp.Negotiated
	done   chan error
}

// startPeer starts an engine on stream with a tuntest device of the given
// batch size. A nil cfg.Host becomes a recordingHost.
func startPeer(ctx context.Context, stream net.Conn, batch int, cfg tunnel.Config) *peer {
	p := &peer{
		dev:    tuntest.New(batch, 256),
		ipcpUp: make(chan ipcp.Negotiated, 4),
		done:   make(chan error, 1),
	}
	switch h := cfg.Host.(type) {
	case nil:
		p.host = &recordingHost{}
		cfg.Host = p.host
	case *recordingHost:
		p.host = h
	}
	user := cfg.Events
	cfg.Events = func(ev link.Event) {
		if p.host != nil && (ev.Kind == link.EventIPCPUp || ev.Kind == link.EventIPCPDown) {
			p.host.record(fmt.Sprintf("event %d", ev.Kind))
		}
		if ev.Kind == link.EventIPCPUp {
			p.ipcpUp <- ev.IPCP
		}
		if user != nil {
			user(ev)
		}
	}
	p.eng = tunnel.New(stream, p.dev, cfg)
	go func() { p.done <- p.eng.Run(ctx) }()
	return p
}

// startPair connects two engines over net.Pipe; A assigns the addresses.
func startPair(ctx context.Context, a, b tunnel.Config) (*peer, *peer) {
	if !a.Link.IPCP.Local.IsValid() {
		a.Link.IPCP.Local, a.Link.IPCP.Remote = addrA, addrB
	}
	ca, cb := net.Pipe()
	return startPeer(ctx, ca, 8, a), startPeer(ctx, cb, 8, b)
}

func (p *peer) waitUp(t testing.TB) ipcp.Negotiated {
	t.Helper()
	select {
	case n := <-p.ipcpUp:
		return n
	case err := <-p.done:
		t.Fatalf("link ended before IPCP came up: %v", err)
	case <-time.After(time.Minute):
		t.Fatalf("IPCP not up after a minute")
	}
	return ipcp.Negotiated{}
}

// stop closes p's link and waits for both ends to finish.
func stopPair(t testing.TB, a, b *peer) (errA, errB error) {
	t.Helper()
	a.eng.Close()
	return <-a.done, <-b.done
}

// udpPacket builds an IPv4/UDP packet of n octets (n >= 28) with gopacket.
func udpPacket(src, dst netip.Addr, n int, seed byte) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Id: uint16(n)}
	udp := &layers.UDP{SrcPort: 4000, DstPort: 5000}
	_ = udp.SetNetworkLayerForChecksum(ip)
	payload := make([]byte, n-28)
	for i := range payload {
		payload[i] = seed + byte(i) // includes 0x7e and 0x7d, which get escaped
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, udp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// tcpData builds an IPv4/TCP segment with n octets of payload, 40 + n in
// all.
func tcpData(src, dst netip.Addr, n int) []byte {
	return tcpPacket(segment{src: src.AsSlice(), dst: dst.AsSlice(), ack: true, payload: n})
}

// receive takes n packets from dev, recycling nothing.
func receive(t testing.TB, dev *tuntest.Device, n int) [][]byte {
	t.Helper()
	var got [][]byte
	for len(got) < n {
		select {
		case p := <-dev.Inbound:
			got = append(got, p)
		case <-time.After(time.Minute):
			t.Fatalf("received %d packets of %d", len(got), n)
		}
	}
	return got
}

// TestPackets brings two engines up and sends UDP and TCP packets of many
// sizes up to the MTU each way: they come out of the other device intact,
// in order, and gopacket decodes them.
func TestPackets(t *testing.T) {
	for _, fcs32 := range []bool{false, true} {
		t.Run(fmt.Sprintf("fcs32=%v", fcs32), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lc := lcp.DefaultConfig()
				lc.Want.NegFCS, lc.Allow.NegFCS = fcs32, fcs32
				a, b := startPair(t.Context(), tunnel.Config{Link: link.Config{LCP: &lc}}, tunnel.Config{Link: link.Config{LCP: &lc}})
				a.waitUp(t)
				b.waitUp(t)
				for _, dir := range []struct {
					name     string
					from, to *peer
					src, dst netip.Addr
				}{{"A to B", a, b, addrA, addrB}, {"B to A", b, a, addrB, addrA}} {
					var sent [][]byte
					for n := 28; n <= 1500; n += 61 {
						sent = append(sent, udpPacket(dir.src, dir.dst, n, byte(n)))
						sent = append(sent, tcpData(dir.src, dir.dst, max(n-40, 0)))
					}
					sent = append(sent, udpPacket(dir.src, dir.dst, 1500, 0x7e))
					for _, p := range sent {
						dir.from.dev.Outbound <- p
					}
					got := receive(t, dir.to.dev, len(sent))
					for i := range sent {
						if !bytes.Equal(got[i], sent[i]) {
							t.Fatalf("%s: packet %d: got %d octets, want the %d sent", dir.name, i, len(got[i]), len(sent[i]))
						}
						p := gopacket.NewPacket(got[i], layers.LayerTypeIPv4, gopacket.Default)
						if p.ErrorLayer() != nil {
							t.Errorf("%s: gopacket: %v", dir.name, p.ErrorLayer().Error())
						}
					}
				}
				synctest.Wait()
				s := a.eng.Status()
				if s.LCP.SendFCS != map[bool]lcp.FCS{false: lcp.FCS16, true: lcp.FCS32}[fcs32] {
					t.Errorf("send FCS %v", s.LCP.SendFCS)
				}
				if s.Device.PacketsRead != s.Device.PacketsWritten || s.Device.PacketsRead == 0 {
					t.Errorf("A read %d and wrote %d packets, want the same number", s.Device.PacketsRead, s.Device.PacketsWritten)
				}
				if s.Counters.PacketsOut != s.Device.PacketsRead || s.Counters.PacketsIn != s.Device.PacketsWritten {
					t.Errorf("link counted %d out %d in, device %d read %d written", s.Counters.PacketsOut, s.Counters.PacketsIn, s.Device.PacketsRead, s.Device.PacketsWritten)
				}
				stopPair(t, a, b)
			})
		})
	}
}

// gatedDevice holds each Read until the test opens the gate, so that the
// test can queue a batch first.
type gatedDevice struct {
	*tuntest.Device
	gate chan struct{}
}

func (d *gatedDevice) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	select {
	case <-d.gate:
	case <-d.Closed():
	}
	return d.Device.Read(bufs, sizes, offset)
}

// TestBatching queues a batch at A's device: A reads it in one Read and
// writes it to the stream in one write, and B writes it to its device in
// one Write.
func TestBatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, cb := net.Pipe()
		devA := &gatedDevice{Device: tuntest.New(64, 256), gate: make(chan struct{})}
		engA := tunnel.New(ca, devA, tunnel.Config{Link: link.Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}}})
		doneA := make(chan error, 1)
		go func() { doneA <- engA.Run(t.Context()) }()
		b := startPeer(t.Context(), cb, 64, tunnel.Config{})
		b.waitUp(t)
		synctest.Wait()

		var sent [][]byte
		for i := range 40 {
			sent = append(sent, udpPacket(addrA, addrB, 100+30*i, byte(i)))
		}
		for _, p := range sent {
			devA.Outbound <- p
		}
		before, devBefore := engA.Status().Counters.StreamWrites, b.dev.Stats()
		devA.gate <- struct{}{}
		got := receive(t, b.dev, len(sent))
		synctest.Wait()
		for i := range sent {
			if !bytes.Equal(got[i], sent[i]) {
				t.Fatalf("packet %d differs", i)
			}
		}
		if n := engA.Status().Counters.StreamWrites - before; n != 1 {
			t.Errorf("A wrote the batch in %d stream writes, want 1", n)
		}
		if st := engA.Status().Device; st.Reads != 1 || st.PacketsRead != 40 {
			t.Errorf("A read %d packets in %d reads, want 40 in 1", st.PacketsRead, st.Reads)
		}
		if n := b.dev.Stats().Writes - devBefore.Writes; n != 1 {
			t.Errorf("B wrote the batch to its device in %d writes, want 1", n)
		}
		engA.Close()
		<-doneA
		<-b.done
	})
}

// TestHost checks the LinkInfo given to Host.Up and Host.Down, and that each
// successful Up is balanced by one Down, after the link ended.
func TestHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lcB := lcp.DefaultConfig()
		lcB.Want.MRU = 1400 // A's interface MTU
		a, b := startPair(t.Context(),
			tunnel.Config{
				Info: tunnel.LinkInfo{Interface: "ppp7", TTY: "ssh:example", IPParam: "office"},
				Link: link.Config{IPCP: ipcp.Config{DNS: [2]netip.Addr{dns1}}},
				MTU:  1450,
			},
			tunnel.Config{
				Info: tunnel.LinkInfo{Interface: "ppp0"},
				Link: link.Config{LCP: &lcB, IPCP: ipcp.Config{UsePeerDNS: true}},
				MTU:  1300, // B's interface MTU: its setting, below A's MRU
			})
		a.waitUp(t)
		b.waitUp(t)
		synctest.Wait()
		if s := a.eng.Status(); s.MTU != 1400 || !s.HostUp {
			t.Errorf("A: Status MTU %d HostUp %v, want 1400 true", s.MTU, s.HostUp)
		}
		a.dev.Outbound <- udpPacket(addrA, addrB, 1000, 0)
		receive(t, b.dev, 1)
		time.Sleep(90 * time.Second)
		stopPair(t, a, b)

		wantA := tunnel.LinkInfo{Interface: "ppp7", TTY: "ssh:example", IPParam: "office", Local: addrA, Peer: addrB, MTU: 1400}
		// One DNS server offered serves as primary and secondary.
		wantB := tunnel.LinkInfo{Interface: "ppp0", Local: addrB, Peer: addrA, MTU: 1300, DNS: [2]netip.Addr{dns1, dns1}}
		for _, tt := range []struct {
			name string
			p    *peer
			want tunnel.LinkInfo
			out  bool // sent the data packet
		}{{"A", a, wantA, true}, {"B", b, wantB, false}} {
			log, ups, downs := tt.p.host.calls()
			if d := cmp.Diff([]string{"host up", "event 4", "host down", "event 5"}, log); d != "" {
				t.Errorf("%s: calls and events (-want +got):\n%s", tt.name, d)
			}
			if len(ups) != 1 || len(downs) != 1 {
				t.Fatalf("%s: %d Up and %d Down calls, want 1 each", tt.name, len(ups), len(downs))
			}
			if d := cmp.Diff(tt.want, ups[0], cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
				t.Errorf("%s: Up info (-want +got):\n%s", tt.name, d)
			}
			down := downs[0]
			if down.ConnectTime != 90 {
				t.Errorf("%s: Down ConnectTime %d, want 90", tt.name, down.ConnectTime)
			}
			if n := map[bool]uint64{true: down.BytesSent, false: down.BytesReceived}[tt.out]; n < 1000 {
				t.Errorf("%s: Down BytesSent %d BytesReceived %d: the 1000-octet packet is missing", tt.name, down.BytesSent, down.BytesReceived)
			}
			down.BytesSent, down.BytesReceived, down.ConnectTime = 0, 0, 0
			if down != ups[0] {
				t.Errorf("%s: Down info %+v differs from Up's %+v", tt.name, down, ups[0])
			}
			if s := tt.p.eng.Status(); s.HostUp || s.MTU != 0 {
				t.Errorf("%s: after Run, Status HostUp %v MTU %d", tt.name, s.HostUp, s.MTU)
			}
		}
	})
}

// TestHostUpFails: when Host.Up fails, Run ends with its error, Down is not
// called for it, and the peer sees the link terminated with the reason.
func TestHostUpFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		upErr := errors.New("tunnel: add route 192.0.2.2/32 dev ppp0: file exists")
		hostB := &recordingHost{upErr: upErr, delay: 30 * time.Millisecond}
		a, b := startPair(t.Context(), tunnel.Config{}, tunnel.Config{Host: hostB})
		errB := <-b.done
		errA := <-a.done
		if !errors.Is(errB, upErr) {
			t.Errorf("B: Run = %v, want the Host.Up error", errB)
		}
		if errA == nil || !strings.Contains(errA.Error(), "file exists") {
			t.Errorf("A: Run = %v, want the peer's Terminate-Request with B's reason", errA)
		}
		_, ups, downs := hostB.calls()
		if len(ups) != 1 || len(downs) != 0 {
			t.Errorf("B: %d Up and %d Down calls, want 1 Up and no Down", len(ups), len(downs))
		}
		_, ups, downs = a.host.calls()
		if len(ups) != len(downs) {
			t.Errorf("A: %d Up and %d Down calls, want them balanced", len(ups), len(downs))
		}
	})
}

// TestDrops: packets that are not IP and truncated packets read from the
// device are dropped and counted; an IPv6 packet while the link runs no
// IPV6CP and a packet over the peer's MRU are dropped by the link.
func TestDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := startPair(t.Context(), tunnel.Config{MTU: 2000}, tunnel.Config{})
		a.waitUp(t)
		b.waitUp(t)
		v6 := make([]byte, 60)
		v6[0] = 0x60
		notIP := make([]byte, 60)
		notIP[0] = 0x50
		good := udpPacket(addrA, addrB, 200, 1)
		for _, p := range [][]byte{v6, notIP, good[:100], {}, udpPacket(addrA, addrB, 1501, 0), good} {
			a.dev.Outbound <- p
		}
		got := receive(t, b.dev, 1)
		synctest.Wait()
		if !bytes.Equal(got[0], good) {
			t.Errorf("B received %d octets, want the good packet", len(got[0]))
		}
		select {
		case p := <-b.dev.Inbound:
			t.Errorf("B received a %d-octet packet more", len(p))
		default:
		}
		s := a.eng.Status()
		if s.Device.DropNotIP != 1 || s.Device.DropMalformed != 2 || s.Counters.DropTooBig != 1 || s.Counters.DropNotOpen != 1 {
			t.Errorf("drops: not IP %d, malformed %d, too big %d, IPv6 not open %d; want 1, 2, 1, 1",
				s.Device.DropNotIP, s.Device.DropMalformed, s.Counters.DropTooBig, s.Counters.DropNotOpen)
		}
		if s.Device.PacketsRead != 6 {
			t.Errorf("PacketsRead %d, want 6", s.Device.PacketsRead)
		}
		stopPair(t, a, b)
	})
}

// TestMSSClampEndToEnd: with mss-clamp on A, SYNs crossing the link either
// way leave it with their MSS lowered to A's MTU − 40 and valid checksums.
func TestMSSClampEndToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := startPair(t.Context(), tunnel.Config{ClampMSS: true, MTU: 1400}, tunnel.Config{})
		a.waitUp(t)
		b.waitUp(t)
		syn := tcpPacket(segment{src: addrA.AsSlice(), dst: addrB.AsSlice(), syn: true, opts: []layers.TCPOption{mssOpt(1460), sack, ts, nop, ws}})
		synAck := tcpPacket(segment{src: addrB.AsSlice(), dst: addrA.AsSlice(), syn: true, ack: true, opts: []layers.TCPOption{nop, mssOpt(8960), nop, nop, nop}})
		a.dev.Outbound <- bytes.Clone(syn)
		b.dev.Outbound <- bytes.Clone(synAck)
		atB := receive(t, b.dev, 1)[0]
		atA := receive(t, a.dev, 1)[0]
		for _, tt := range []struct {
			name string
			pkt  []byte
		}{{"A to B", atB}, {"B to A", atA}} {
			if got := mssValues(t, tt.pkt); len(got) != 1 || got[0] != 1360 {
				t.Errorf("%s: MSS %v, want 1360", tt.name, got)
			}
			if !tcpChecksumOK(tt.pkt) {
				t.Errorf("%s: checksums invalid", tt.name)
			}
		}
		synctest.Wait()
		if n := a.eng.Status().Device.MSSClamped; n != 2 {
			t.Errorf("A clamped %d SYNs, want 2", n)
		}
		if n := b.eng.Status().Device.MSSClamped; n != 0 {
			t.Errorf("B clamped %d SYNs without mss-clamp", n)
		}
		stopPair(t, a, b)
	})
}

// TestRunEnds checks how Run ends: with the context's error, with
// ErrClosed, and with an error when called twice; and that the device is
// closed.
func TestRunEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		a, b := startPair(ctx, tunnel.Config{}, tunnel.Config{})
		a.waitUp(t)
		b.waitUp(t)
		if err := a.eng.Run(ctx); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("second Run = %v, want an error", err)
		}
		cancel()
		for _, p := range []*peer{a, b} {
			if err := <-p.done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			select {
			case <-p.dev.Closed():
			default:
				t.Errorf("device not closed after Run")
			}
		}
	})
}

// failingDevice fails its Read after the first packets.
type failingDevice struct {
	*tuntest.Device
	err error
}

func (d *failingDevice) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	n, err := d.Device.Read(bufs, sizes, offset)
	if err == nil {
		err = d.err
	}
	return n, err
}

// A device that fails ends the link with its error.
func TestDeviceFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, cb := net.Pipe()
		dev := &failingDevice{Device: tuntest.New(4, 4), err: errors.New("read /dev/net/tun: input/output error")}
		eng := tunnel.New(ca, dev, tunnel.Config{Link: link.Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}}})
		done := make(chan error, 1)
		go func() { done <- eng.Run(t.Context()) }()
		b := startPeer(t.Context(), cb, 4, tunnel.Config{})
		b.waitUp(t)
		dev.Outbound <- udpPacket(addrA, addrB, 100, 0)
		err := <-done
		if err == nil || !strings.Contains(err.Error(), "reading from the packet device") || !errors.Is(err, dev.err) {
			t.Errorf("Run = %v, want the device's error", err)
		}
		<-b.done
	})
}

// TestNoGoroutinesLeft checks that when Run returns, every goroutine it
// started has ended: no goroutine is left in package tunnel or link (a
// goroutine past its WaitGroup's Done has left those functions).
func TestNoGoroutinesLeft(t *testing.T) {
	a, b := startPair(t.Context(), tunnel.Config{}, tunnel.Config{})
	a.waitUp(t)
	b.waitUp(t)
	a.dev.Outbound <- udpPacket(addrA, addrB, 100, 0)
	b.dev.Outbound <- udpPacket(addrB, addrA, 100, 0)
	receive(t, b.dev, 1)
	receive(t, a.dev, 1)
	stopPair(t, a, b)
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, fn := range []string{"pppssh/tunnel.(*", "pppssh/link.(*"} {
		if strings.Contains(stacks, fn) {
			t.Errorf("a goroutine in %s is still running after Run returned:\n%s", fn, stacks)
		}
	}
}

// A Host.Up that takes a while delays the link's control loop but not
// the outcome; ppp.PhaseNetwork is reached and packets flow.
func TestSlowHostUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		host := &recordingHost{delay: 200 * time.Millisecond}
		a, b := startPair(t.Context(), tunnel.Config{Host: host}, tunnel.Config{})
		a.waitUp(t)
		b.waitUp(t)
		a.dev.Outbound <- udpPacket(addrA, addrB, 300, 0)
		receive(t, b.dev, 1)
		synctest.Wait()
		if s := a.eng.Status(); s.Phase != ppp.PhaseNetwork || !s.HostUp {
			t.Errorf("phase %v HostUp %v", s.Phase, s.HostUp)
		}
		stopPair(t, a, b)
		if _, ups, downs := host.calls(); len(ups) != 1 || len(downs) != 1 {
			t.Errorf("%d Up, %d Down", len(ups), len(downs))
		}
	})
}
