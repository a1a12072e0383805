package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
	"github.com/pppssh/pppssh/tunnel/tuntest"
)

func TestParseStat(t *testing.T) {
	// proc(5): the command name may hold spaces and parentheses.
	line := "4242 (sshd: root@no) tty) S 4200 4242 4242 0 -1 4194560 500 0 0 0 120 35 7 3 20 0 1 0 100 1000 200"
	p, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if p.ppid != 4200 || p.ticks != 120+35+7+3 {
		t.Errorf("parseStat = ppid %d ticks %d, want 4200 and 165", p.ppid, p.ticks)
	}
	if _, err := parseStat([]byte("1 (x) S 0 1")); err == nil {
		t.Error("parseStat accepted a short line")
	}
}

func TestTreeUsage(t *testing.T) {
	procs := map[int]proc{
		1:  {ppid: 0, ticks: 1000, hwm: 99999}, // not in the tree
		10: {ppid: 1, ticks: 5, hwm: 8000},     // the root: an sshd listener
		11: {ppid: 10, ticks: 100, hwm: 6000},
		12: {ppid: 11, ticks: 300, hwm: 20000},
		13: {ppid: 1, ticks: 7, hwm: 1},
	}
	ticks, hwm := treeUsage(procs, 10, false)
	if ticks != 405 || hwm != 20000 {
		t.Errorf("treeUsage(10) = %d, %d; want 405, 20000", ticks, hwm)
	}
	procs[12] = proc{ppid: 11, ticks: 300, hwm: 100}
	if _, hwm := treeUsage(procs, 10, true); hwm != 6000 {
		t.Errorf("treeUsage(10, skip root) hwm = %d, want 6000", hwm)
	}
}

func TestStatusKiB(t *testing.T) {
	status := "Name:\tpppssh\nVmPeak:\t  900000 kB\nVmHWM:\t   17240 kB\nVmRSS:\t   16000 kB\n"
	if got := statusKiB([]byte(status), "VmHWM:"); got != 17240 {
		t.Errorf("VmHWM = %d, want 17240", got)
	}
}

func TestParsePing(t *testing.T) {
	out := `PING 192.0.2.1 (192.0.2.1) 56(84) bytes of data.
64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=0.512 ms
64 bytes from 192.0.2.1: icmp_seq=2 ttl=64 time=12.3 ms
64 bytes from 192.0.2.1: icmp_seq=3 ttl=64 time=0.601 ms

--- 192.0.2.1 ping statistics ---
4 packets transmitted, 3 received, 25% packet loss, time 301ms
rtt min/avg/max/mdev = 0.512/4.471/12.300/5.538 ms
`
	p, err := parsePing(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.sent != 4 || p.received != 3 || p.times.Median != 0.601 || p.times.Min != 0.512 || p.times.Max != 12.3 {
		t.Errorf("parsePing = %+v", p)
	}
	if _, err := parsePing("4 packets transmitted, 0 received, 100% packet loss\n"); err == nil {
		t.Error("parsePing accepted no answers")
	}
}

func TestParseIperf(t *testing.T) {
	r, err := parseIperf([]byte(`{"end": {"sum_received": {"seconds": 6.01, "bytes": 751250000, "bits_per_second": 1e9}, "sum_sent": {"retransmits": 3}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.End.SumReceived.Bytes != 751250000 || r.End.SumSent.Retransmits != 3 {
		t.Errorf("parseIperf = %+v", r)
	}
	if _, err := parseIperf([]byte(`{"error": "unable to connect to server"}`)); err == nil || !strings.Contains(err.Error(), "unable to connect") {
		t.Errorf("parseIperf of an error = %v", err)
	}
}

func TestSummarize(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want stat
	}{
		{nil, stat{}},
		{[]float64{3}, stat{3, 3, 3, 1}},
		{[]float64{5, 1, 3}, stat{3, 1, 5, 3}},
		{[]float64{4, 1, 3, 10}, stat{3.5, 1, 10, 4}},
	} {
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(stat{})) {
		t.Error("median of nothing is not NaN")
	}
}

// TestReport runs the report over a small results file and checks the
// ratios and targets it prints.
func TestReport(t *testing.T) {
	results := `meta date 2026-01-01 00:00 UTC
# a comment
ping case=ssh-w cipher=aes128-gcm@openssh.com mtu=1500 rep=1 rtt_med=0.600
ping case=server cipher=aes128-gcm@openssh.com mtu=1500 rep=1 rtt_med=0.500
run case=raw-go cipher=aes128-gcm@openssh.com mtu=- dir=up rep=1 bytes=2000000000 secs=10 cpu_a=1 cpu_b=1 rss_a=8000
run case=ssh-w cipher=aes128-gcm@openssh.com mtu=1500 dir=up rep=1 bytes=250000000 secs=10 cpu_a=2 cpu_b=3 rss_a=8000 rss_b=12000 rtt_med=20
run case=ssh-w cipher=aes128-gcm@openssh.com mtu=1500 dir=up rep=2 bytes=350000000 secs=10 cpu_a=2 cpu_b=3 rss_a=8000 rss_b=12000 rtt_med=30
run case=server cipher=aes128-gcm@openssh.com mtu=1500 dir=up rep=1 bytes=1000000000 secs=10 cpu_a=4 cpu_b=4 rss_a=11000 rss_b=17000 rtt_med=10
run case=server cipher=aes128-gcm@openssh.com mtu=1500 dir=up rep=2 bytes=1400000000 secs=10 cpu_a=4 cpu_b=4 rss_a=12000 rss_b=35000 rtt_med=12
`
	out, md, js := reportOf(t, results)
	// ssh -w: median of 200 and 280 Mbit/s = 240; server: 800 and 1120 = 960.
	for _, want := range []string{
		"pppssh → pppssh server",
		"960 (800–1120)",
		"4.00×",           // 960 ÷ 240
		"60%",             // 960 ÷ 1600 raw x/crypto/ssh
		"0.50 vs 0.60 ms", // idle ping
		"✗",               // RSS 35 MB > 30 MB
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "benchtool clients") {
		t.Errorf("report has the clients table without clients runs:\n%s", out)
	}
	for _, f := range []string{md, js} {
		if b, err := os.ReadFile(f); err != nil || len(b) == 0 {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
}

var (
	loadSrc = netip.MustParseAddr("192.0.2.7")
	loadDst = netip.MustParseAddr("192.0.2.1")
)

// TestLoadPackets decodes the load generator's datagram and echo request
// with gopacket and checks their checksums.
func TestLoadPackets(t *testing.T) {
	udp := appendUDP(nil, loadSrc, loadDst, loadSourcePort, 9, 1472)
	if len(udp) != 1500 {
		t.Fatalf("datagram of %d octets, want 1500", len(udp))
	}
	echo := appendEcho(nil, loadSrc, loadDst, 513, 7)
	for _, tc := range []struct {
		name string
		pkt  []byte
	}{{"udp", udp}, {"echo", echo}} {
		p := gopacket.NewPacket(tc.pkt, layers.LayerTypeIPv4, gopacket.Default)
		if err := p.ErrorLayer(); err != nil {
			t.Fatalf("%s: gopacket: %v", tc.name, err.Error())
		}
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if !ip.SrcIP.Equal(loadSrc.AsSlice()) || !ip.DstIP.Equal(loadDst.AsSlice()) || int(ip.Length) != len(tc.pkt) || ip.Flags != layers.IPv4DontFragment {
			t.Errorf("%s: IPv4 header %+v", tc.name, ip)
		}
		if c := checksum(tc.pkt[:ipv4Header]); c != 0 {
			t.Errorf("%s: IPv4 header checksum does not verify (%#04x)", tc.name, c)
		}
	}
	p := gopacket.NewPacket(udp, layers.LayerTypeIPv4, gopacket.Default)
	u := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if u.SrcPort != loadSourcePort || u.DstPort != 9 || int(u.Length) != 1480 || u.Checksum != 0 || !bytes.HasPrefix(u.Payload, phaseMagic[:]) {
		t.Errorf("UDP header %+v, payload starting %x", u, u.Payload[:8])
	}
	p = gopacket.NewPacket(echo, layers.LayerTypeIPv4, gopacket.Default)
	ic := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if ic.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0) || ic.Id != 513 || ic.Seq != 7 {
		t.Errorf("ICMP %+v", ic)
	}
	if c := checksum(echo[ipv4Header:]); c != 0 {
		t.Errorf("ICMP checksum does not verify (%#04x)", c)
	}
	if _, ok := echoReplyTo(echo, 513); ok {
		t.Error("echoReplyTo took an echo request for a reply")
	}
	if seq, ok := echoReplyTo(reply(echo), 513); !ok || seq != 7 {
		t.Errorf("echoReplyTo(reply) = %d, %v; want 7, true", seq, ok)
	}
	if _, ok := echoReplyTo(reply(echo), 514); ok {
		t.Error("echoReplyTo took a reply to another identifier")
	}
	for n := range len(echo) {
		echoReplyTo(reply(echo)[:n], 513) // must not panic
	}
}

// reply turns an echo request into its reply, as the server's kernel
// answers it.
func reply(req []byte) []byte {
	r := bytes.Clone(req)
	copy(r[12:16], req[16:20])
	copy(r[16:20], req[12:16])
	r[ipv4Header] = icmpReply
	r[ipv4Header+2], r[ipv4Header+3] = 0, 0
	c := checksum(r[ipv4Header:])
	r[ipv4Header+2], r[ipv4Header+3] = byte(c>>8), byte(c)
	return r
}

// TestLoadDevice runs a loadDevice under an engine against a peer engine
// on a tuntest device that plays the server: IPCP gives the device its
// address, an echo request is answered, a flood fills batches of
// datagrams tagged with the phase until it is stopped, and closing ends
// both.
func TestLoadDevice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ca, cb := net.Pipe()
	srvDev := tuntest.New(8, 64)
	srv := tunnel.New(cb, srvDev, tunnel.Config{Link: link.Config{IPCP: ipcp.Config{Local: loadDst, Remote: loadSrc}}})
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(ctx) }()
	l := &loadLink{up: make(chan struct{}), done: make(chan struct{}), dev: newLoadDevice(3, 100, 9)}
	l.eng = tunnel.New(ca, l.dev, tunnel.Config{Events: l.event})
	go func() {
		l.err = l.eng.Run(ctx)
		close(l.done)
	}()
	select {
	case <-l.up:
	case <-l.done:
		t.Fatalf("link ended before IPCP came up: %v", l.err)
	case <-ctx.Done():
		t.Fatal("IPCP not up")
	}
	if l.local != loadSrc {
		t.Fatalf("link address %s, want %s", l.local, loadSrc)
	}

	// The server's side answers echo requests and counts datagrams.
	var udp, phase2 atomic.Int64
	go func() {
		for {
			var p []byte
			select {
			case p = <-srvDev.Inbound:
			case <-ctx.Done():
				return
			}
			switch p[9] {
			case protoICMP:
				srvDev.Outbound <- reply(p)
			case protoUDP:
				udp.Add(1)
				if p[ipv4Header+udpHeader+4] == 2 {
					phase2.Add(1)
				}
			}
			srvDev.Recycle(p)
		}
	}()
	for seq := uint16(0); seq < 30; seq += 10 {
		if rtt, ok, sent := l.dev.echo(seq); !ok || rtt <= 0 {
			t.Fatalf("echo %d: %v, %v after %d requests", seq, rtt, ok, sent)
		}
	}
	if udp.Load() != 0 {
		t.Fatalf("%d datagrams before the flood", udp.Load())
	}
	l.dev.flood(2)
	for udp.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}
	l.dev.stopFlood()
	time.Sleep(100 * time.Millisecond) // the batches in flight
	stopped := udp.Load()
	time.Sleep(100 * time.Millisecond)
	if n := udp.Load(); n != stopped || phase2.Load() != n {
		t.Errorf("%d datagrams of phase 2 of %d; %d more 100 ms after the flood stopped", phase2.Load(), stopped, n-stopped)
	}
	if st := l.eng.Status(); st.Device.PacketsRead/st.Device.Reads < deviceBatch/2 {
		t.Errorf("%d packets in %d reads: the device's batches are not full", st.Device.PacketsRead, st.Device.Reads)
	}
	l.eng.Close()
	<-l.done
	if !errors.Is(l.err, link.ErrClosed) {
		t.Errorf("link ended with %v, want link.ErrClosed", l.err)
	}
	<-srvDone
	if _, err := l.dev.Read(make([][]byte, 1), make([]int, 1), 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read after Close: %v, want os.ErrClosed", err)
	}
}

// TestUDPSink counts the datagrams of the phase it expects only.
func TestUDPSink(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := newUDPSink(conn)
	go s.run()
	defer s.close()
	c, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.expect(2)
	pkt := appendUDP(nil, loadSrc, loadDst, 1, 2, 100)[ipv4Header+udpHeader:]
	send := func(phase byte, n int) {
		pkt[4] = phase
		for range n {
			if _, err := c.Write(pkt); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(1, 3)
	send(2, 5)
	c.Write([]byte("noise"))
	for deadline := time.Now().Add(10 * time.Second); s.bytes.Load() < 5*100 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if !s.drained(10 * time.Second) {
		t.Fatal("the sink still receives")
	}
	if got := s.bytes.Load(); got != 5*100 {
		t.Errorf("the sink counted %d octets, want 500", got)
	}
}

// TestReportClients runs the report over the lines of two benchtool
// clients runs: the clients table and its targets, and no main table.
func TestReportClients(t *testing.T) {
	results := `meta date 2026-01-01 00:00 UTC
clients rep=1 links=200 cipher=aes128-gcm@openssh.com up_all_s=1.1 up_new_ms_med=11.0 up_new_ms_max=12.5 echo_answered=200 echo_resent=0 echo_ms_med=0.35 echo_ms_max=1.4 udp_one_mbps=700 udp_all_mbps=630 ratio=0.9 server_rss_before_kib=9000 server_rss_idle_kib=89000 server_kib_per_link=400 server_hwm_kib=470000 load=1.5
clients rep=2 links=200 cipher=aes128-gcm@openssh.com up_all_s=1.3 up_new_ms_med=13.0 up_new_ms_max=1400 echo_answered=200 echo_resent=1 echo_ms_med=0.45 echo_ms_max=2.5 udp_one_mbps=800 udp_all_mbps=560 ratio=0.7 server_rss_before_kib=9000 server_rss_idle_kib=19000 server_kib_per_link=50 server_hwm_kib=480000 load=1.5
`
	out, md, js := reportOf(t, results)
	for _, want := range []string{
		"benchtool clients → pppssh server  aes128-gcm  200",
		"1.20 (1.10–1.30)",  // all up
		"12.0 (max 1400.0)", // new link up
		"0.40 (max 2.50)",   // echo
		"750 (700–800)",     // one link
		"80%",               // the median of 90% and 70%
		"225 (50–400)",      // KiB per idle link
		"480.0",             // peak RSS MB
		"UDP from all ≥ 80% of one link",
		"80% ✓",
		"RSS per idle link ≤ 64 KiB",
		"225 KiB ✗",
		"a new link up in < 1 s (longest)",
		"1400 ms ✗",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Mbit/s median") {
		t.Errorf("report has the main table without runs:\n%s", out)
	}
	b, err := os.ReadFile(js)
	if err != nil || !strings.Contains(string(b), `"KiBPerIdleLink"`) || !strings.Contains(string(b), `"kind": "clients"`) {
		t.Errorf("%s: %v:\n%s", js, err, b)
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "| benchtool clients → pppssh server | aes128-gcm | 200 |") {
		t.Errorf("%s: %v:\n%s", md, err, b)
	}
}

// reportOf writes results to a file, runs the report over it and returns
// what it printed and the paths of its Markdown and JSON files.
func reportOf(t *testing.T, results string) (out, md, js string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "results.txt")
	if err := os.WriteFile(in, []byte(results), 0o644); err != nil {
		t.Fatal(err)
	}
	md, js = filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json")
	var buf strings.Builder
	if err := report(&buf, []string{"-markdown", md, "-json", js, in}); err != nil {
		t.Fatal(err)
	}
	return buf.String(), md, js
}
