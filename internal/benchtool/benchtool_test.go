package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	dir := t.TempDir()
	in := filepath.Join(dir, "results.txt")
	if err := os.WriteFile(in, []byte(results), 0o644); err != nil {
		t.Fatal(err)
	}
	md, js := filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json")
	var buf strings.Builder
	if err := report(&buf, []string{"-markdown", md, "-json", js, in}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
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
	for _, f := range []string{md, js} {
		if b, err := os.ReadFile(f); err != nil || len(b) == 0 {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
}
