package main

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/tunnel"
	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

// countingDevice is a tunnel.Device that takes every packet written to it
// and remembers the source addresses; it reads nothing.
type countingDevice struct {
	batch   int
	sources []netip.Addr
	record  bool
}

func (d *countingDevice) Read([][]byte, []int, int) (int, error) { select {} }
func (d *countingDevice) Write(bufs [][]byte, offset int) (int, error) {
	if d.record {
		for _, b := range bufs {
			d.sources = append(d.sources, netip.AddrFrom4([4]byte(b[offset+12:offset+16])))
		}
	}
	return len(bufs), nil
}
func (d *countingDevice) BatchSize() int { return d.batch }
func (d *countingDevice) Close() error   { return nil }

// ipv4From returns a buffer holding, behind tunnel.Headroom octets, a
// minimal IPv4 header from src to 192.0.2.1.
func ipv4From(src string) []byte {
	b := make([]byte, tunnel.Headroom+20)
	p := b[tunnel.Headroom:]
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], 20)
	p[9] = 1 // ICMP
	s := netip.MustParseAddr(src).As4()
	copy(p[12:16], s[:])
	copy(p[16:20], []byte{192, 0, 2, 1})
	return b
}

// TestSourceFilter drops exactly the packets whose source the client was
// not given, counts them, and passes the others in order.
func TestSourceFilter(t *testing.T) {
	var logBuf strings.Builder
	dev := &countingDevice{batch: 4, record: true}
	f := newSourceFilter(dev, netip.MustParseAddr("192.0.2.17"),
		[]netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.128/25")},
		slog.New(slog.NewTextHandler(&logBuf, nil)))
	srcs := []string{
		"192.0.2.17",      // the client itself
		"192.0.2.18",      // another client's address
		"198.51.100.9",    // behind the client
		"203.0.113.77",    // outside its /25
		"203.0.113.200",   // inside it
		"0.0.0.0",         // unspecified
		"255.255.255.255", // broadcast
	}
	var bufs [][]byte
	for _, s := range srcs {
		bufs = append(bufs, ipv4From(s))
	}
	n, err := f.Write(bufs, tunnel.Headroom)
	if err != nil || n != len(bufs) {
		t.Fatalf("Write = %d, %v; want %d, nil (dropped packets count as taken)", n, err, len(bufs))
	}
	var got []string
	for _, a := range dev.sources {
		got = append(got, a.String())
	}
	if want := "192.0.2.17 198.51.100.9 203.0.113.200"; strings.Join(got, " ") != want {
		t.Errorf("passed sources %q, want %q", strings.Join(got, " "), want)
	}
	if f.Dropped() != 4 {
		t.Errorf("Dropped() = %d, want 4", f.Dropped())
	}
	if !strings.Contains(logBuf.String(), "forged source address (last from 255.255.255.255)") {
		t.Errorf("no warning naming the forged source:\n%s", logBuf.String())
	}
	// A batch with nothing to drop goes to the device as it is.
	dev.sources = nil
	if n, _ := f.Write(bufs[:1], tunnel.Headroom); n != 1 || len(dev.sources) != 1 {
		t.Errorf("clean batch: wrote %d, device got %d", n, len(dev.sources))
	}
	// A batch of only forged packets reaches the device not at all.
	dev.sources = nil
	if n, _ := f.Write(bufs[1:2], tunnel.Headroom); n != 1 || len(dev.sources) != 0 {
		t.Errorf("forged batch: wrote %d, device got %d", n, len(dev.sources))
	}
}

// TestSourceFilterZeroAllocs: filtering allocates nothing per batch, with
// drops and without.
func TestSourceFilterZeroAllocs(t *testing.T) {
	dev := &countingDevice{batch: 8}
	f := newSourceFilter(dev, netip.MustParseAddr("192.0.2.17"),
		[]netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}, slog.New(slog.DiscardHandler))
	var mixed, clean [][]byte
	for i := range 8 {
		clean = append(clean, ipv4From("192.0.2.17"))
		if i%2 == 0 {
			mixed = append(mixed, ipv4From("198.51.100.1"))
		} else {
			mixed = append(mixed, ipv4From("203.0.113.1"))
		}
	}
	f.Write(mixed, tunnel.Headroom) // the warning's first log line may allocate
	for name, batch := range map[string][][]byte{"mixed": mixed, "clean": clean} {
		if n := testing.AllocsPerRun(1000, func() { f.Write(batch, tunnel.Headroom) }); n != 0 {
			t.Errorf("%s batch: %v allocations per Write, want 0", name, n)
		}
	}
}

// TestAddressPool hands out a key's fixed address to one session at a
// time (a new one replacing the old), and pool addresses lowest first, never the network, broadcast or
// server address, and again once released.
func TestAddressPool(t *testing.T) {
	p := newAddressPool(netip.MustParseAddr("192.0.2.17"))
	pool := netip.MustParsePrefix("192.0.2.16/29") // .17 to .22 usable, .17 the server's
	var got []string
	for i := range 5 {
		a, err := p.take(netip.Addr{}, pool, "s"+string(rune('0'+i)), nil, discard)
		if err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
		got = append(got, a.String())
	}
	if want := "192.0.2.18 192.0.2.19 192.0.2.20 192.0.2.21 192.0.2.22"; strings.Join(got, " ") != want {
		t.Errorf("pool gave %s, want %s", strings.Join(got, " "), want)
	}
	if _, err := p.take(netip.Addr{}, pool, "s5", nil, discard); err == nil || !strings.Contains(err.Error(), "no free address left in pool 192.0.2.16/29") {
		t.Errorf("exhausted pool: %v", err)
	}
	p.release(netip.MustParseAddr("192.0.2.20"))
	if a, err := p.take(netip.Addr{}, pool, "s6", nil, discard); err != nil || a.String() != "192.0.2.20" {
		t.Errorf("after release: %v, %v; want 192.0.2.20", a, err)
	}

	// A second session for a fixed address ends the first and takes over
	// once the first has let go.
	fixed := netip.MustParseAddr("192.0.2.5")
	evicted := make(chan struct{})
	if _, err := p.take(fixed, netip.Prefix{}, "first", func() { close(evicted) }, discard); err != nil {
		t.Fatal(err)
	}
	go func() {
		<-evicted
		p.release(fixed)
	}()
	if a, err := p.take(fixed, netip.Prefix{}, "second", func() {}, discard); err != nil || a != fixed {
		t.Errorf("second session on a fixed address: %v, %v", a, err)
	}
	if _, err := p.take(netip.MustParseAddr("192.0.2.17"), netip.Prefix{}, "x", nil, discard); err == nil {
		t.Error("the server's own address was handed out")
	}
	if _, err := p.take(netip.Addr{}, netip.Prefix{}, "x", nil, discard); err == nil {
		t.Error("a key without address or pool got an address")
	}
}

var discard = slog.New(slog.DiscardHandler)

// TestServerReasons: the built-in server explains refusals in its own
// terms (the key's pppssh-allow-route, the server's allow-proxyarp), not
// in those of serve's forced command.
func TestServerReasons(t *testing.T) {
	key := sshtransport.AuthorizedKey{File: "/etc/pppssh/authorized_keys", Line: 3}
	for _, tc := range []struct {
		words  []string
		policy requestPolicy
		want   string
	}{
		{[]string{"route", "198.51.100.0/24"}, requestPolicy{},
			`route 198.51.100.0/24: this key allows no routes (add pppssh-allow-route="CIDR" to its line, /etc/pppssh/authorized_keys:3)`},
		{[]string{"route", "198.51.100.0/24"}, requestPolicy{routes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
			"route 198.51.100.0/24: not within the networks this key allows (/etc/pppssh/authorized_keys:3, pppssh-allow-route 203.0.113.0/24)"},
		{[]string{"proxyarp"}, requestPolicy{}, "proxyarp: the server does not allow it (start it with allow-proxyarp)"},
		{[]string{"192.0.2.1:192.0.2.9"}, requestPolicy{local: netip.MustParseAddr("192.0.2.1"), remote: netip.MustParseAddr("192.0.2.5")},
			"192.0.2.9 as the client's address: this key gives 192.0.2.5"},
	} {
		got := serverReasons(checkRequest(tc.words, tc.policy), key)
		if got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.words, got, tc.want)
		}
		if strings.Contains(got, "forced command") {
			t.Errorf("%q: the reason speaks of a forced command: %s", tc.words, got)
		}
	}
}
