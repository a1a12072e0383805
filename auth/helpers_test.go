package auth

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// The secrets both ends of the tests share: alice's secret for server gw,
// and bob's for any server.
const testSecrets = `# client  server  secret       addresses
alice     gw      "s3cr3t"     10.0.0.2
bob       *       hunter2      -
`

// mustSecrets parses text as a secrets file named name.
func mustSecrets(t testing.TB, name, text string) *Secrets {
	t.Helper()
	s, err := ParseSecrets(strings.NewReader(text), name)
	if err != nil {
		t.Fatalf("ParseSecrets: %v", err)
	}
	return s
}

// end is one side of an exchange under test: the exchange, what it sent
// and reported, and its timer on the test's clock.
type end struct {
	ex      Exchange
	sent    []ppp.Packet
	results []Result
	timer   *ppptest.Timer
	peer    *end // where sent packets go, if any
	p       *pair
}

// pair joins two exchanges in memory on a fake clock: packets one sends
// are queued for the other, and delivered by Run.
type pair struct {
	t     testing.TB
	clock ppptest.Clock
	a, b  *end
	queue []flight
	// Drop, if set, is asked about every packet before delivery;
	// returning true loses it.
	Drop func(from *end, pkt ppp.Packet) bool
	// Trace lists every packet sent, as "A>B [PAP AuthReq …]", with
	// " (lost)" after lost ones, and "@3s" when the clock moved.
	Trace []string
	last  time.Duration
}

type flight struct {
	from *end
	pkt  ppp.Packet
}

// newEnd makes an exchange on p's clock; its packets are queued on p.
func (p *pair) newEnd(proto ppp.Protocol, role Role, cfg Config) *end {
	p.t.Helper()
	e := &end{p: p}
	e.timer = p.clock.NewTimer(func() { e.ex.Timeout() })
	cfg.Send = func(proto ppp.Protocol, pkt []byte) {
		if proto != e.ex.Protocol() {
			p.t.Errorf("sent a packet of %v from a %v exchange", proto, e.ex.Protocol())
		}
		c := ppp.Packet(bytes.Clone(pkt))
		e.sent = append(e.sent, c)
		p.queue = append(p.queue, flight{e, c})
	}
	cfg.Timer = e.timer.Set
	cfg.Done = func(r Result) { e.results = append(e.results, r) }
	ex, err := New(proto, role, cfg)
	if err != nil {
		p.t.Fatalf("New: %v", err)
	}
	e.ex = ex
	return e
}

// newPair makes a pair of exchanges of proto: a authenticates b.
func newPair(t testing.TB, proto ppp.Protocol, a, b Config) *pair {
	p := &pair{t: t}
	p.a = p.newEnd(proto, Authenticator, a)
	p.b = p.newEnd(proto, Authenticatee, b)
	p.a.peer, p.b.peer = p.b, p.a
	return p
}

// start starts both ends, the authenticator first.
func (p *pair) start() {
	p.a.ex.Start()
	p.b.ex.Start()
}

// run delivers queued packets, and those they cause, until none is left.
func (p *pair) run() {
	for n := 0; len(p.queue) > 0; n++ {
		if n > 1000 {
			p.t.Fatalf("more than 1000 packets: %q", p.Trace)
		}
		f := p.queue[0]
		p.queue = p.queue[1:]
		tag := "A>B "
		if f.from == p.b {
			tag = "B>A "
		}
		if p.clock.Now != p.last {
			p.Trace = append(p.Trace, "@"+p.clock.Now.String())
			p.last = p.clock.Now
		}
		line := string(AppendPacketText([]byte(tag), f.from.ex.Protocol(), f.pkt))
		if p.Drop != nil && p.Drop(f.from, f.pkt) {
			p.Trace = append(p.Trace, line+" (lost)")
			continue
		}
		p.Trace = append(p.Trace, line)
		if f.from.peer != nil {
			f.from.peer.ex.Input(f.pkt)
		}
	}
}

// runAll delivers packets and advances the clock from timer to timer
// until nothing is left to do, or the clock passes limit.
func (p *pair) runAll(limit time.Duration) {
	for {
		p.run()
		if p.clock.Now > limit || !p.clock.Step() {
			break
		}
	}
	p.run()
}

// lastResult returns the last result e reported, failing if none.
func (e *end) lastResult(t testing.TB) Result {
	t.Helper()
	if len(e.results) == 0 {
		t.Fatalf("%v %v reported nothing; status %v", e.ex.Protocol(), e.ex.Role(), e.ex.Status())
	}
	return e.results[len(e.results)-1]
}

// authError returns the *Error of e's last result, failing if it has none.
func (e *end) authError(t testing.TB) *Error {
	t.Helper()
	r := e.lastResult(t)
	var ae *Error
	if !errors.As(r.Err, &ae) {
		t.Fatalf("%v %v: result %+v, want an *Error", e.ex.Protocol(), e.ex.Role(), r)
	}
	return ae
}

// checkNoSecret fails if text contains any of the secrets.
func checkNoSecret(t testing.TB, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%q shows the secret %q", text, s)
		}
	}
}

// seqRand is a deterministic random source: 0, 1, 2, … from start.
type seqRand struct{ next byte }

func (r *seqRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = r.next
		r.next++
	}
	return len(b), nil
}

// failingRand fails every read.
type failingRand struct{}

func (failingRand) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func secretPtr(s string) *Secret {
	sec := NewSecret([]byte(s))
	return &sec
}

func packetOf(code, id uint8, data ...byte) []byte {
	return ppp.AppendPacket(nil, ppp.Code(code), id, data)
}

func diffLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
