package ppp_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// pair is two automata joined by a ppptest.Wire, each with its own handler
// and restart timer on one fake clock.
type pair struct {
	w      *ppptest.Wire
	ha, hb *ppptest.Handler
	clock  ppptest.Clock
}

func newPair(t *testing.T, ha, hb *ppptest.Handler) *pair {
	p := &pair{w: &ppptest.Wire{}, ha: ha, hb: hb}
	p.w.Formatter = ha
	ta := p.clock.NewTimer(func() { p.w.A.Timeout() })
	tb := p.clock.NewTimer(func() { p.w.B.Timeout() })
	p.w.A = ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoIPCP, Handler: ha, Send: p.w.SendA, Timer: ta.Set})
	p.w.B = ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoIPCP, Handler: hb, Send: p.w.SendB, Timer: tb.Set})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wire:\n%s", strings.Join(p.w.Trace, "\n"))
		}
	})
	return p
}

// settle delivers packets, instantly, and lets the fake clock run to the
// next timer when none is in flight, until nothing is left to do; it gives
// up after many steps.
func (p *pair) settle(t *testing.T) {
	t.Helper()
	for range 1000 {
		if p.w.Run(1) == 0 && !p.clock.Step() {
			return
		}
	}
	t.Fatal("the two automata never settled")
}

func TestPairNegotiatesAndTerminates(t *testing.T) {
	for _, start := range []string{"together", "A first", "B first", "B not open yet"} {
		t.Run(start, func(t *testing.T) {
			ha := &ppptest.Handler{Request: true, Want: 1, Accept: 2}
			hb := &ppptest.Handler{Request: true, Want: 2, Accept: 1}
			p := newPair(t, ha, hb)
			a, b := p.w.A, p.w.B
			switch start {
			case "together":
				a.Up()
				b.Up()
				a.Open()
				b.Open()
			case "A first":
				a.Up()
				a.Open()
				p.w.Run(100) // lost: B's lower layer is down
				b.Open()
				b.Up()
			case "B first":
				b.Open()
				b.Up()
				p.w.Run(100)
				a.Open()
				a.Up()
			case "B not open yet":
				a.Up()
				b.Up()
				a.Open()
				p.w.Run(100) // B is Closed and answers Terminate-Ack
				b.Open()
			}
			p.settle(t)
			if a.State() != ppp.StateOpened || b.State() != ppp.StateOpened {
				t.Fatalf("states %v and %v, want both Opened", a.State(), b.State())
			}
			if ha.Got != 1 || ha.His != 2 || hb.Got != 2 || hb.His != 1 || !ha.GotOK || !ha.HisOK || !hb.GotOK || !hb.HisOK {
				t.Errorf("negotiated A %+v, B %+v", ha, hb)
			}
			if ha.Ups != 1 || hb.Ups != 1 {
				t.Errorf("tlu ×%d and ×%d, want once each", ha.Ups, hb.Ups)
			}

			a.Close("User request")
			p.settle(t)
			// The closing side ends in Closed, the other in Stopped
			// (RFC 1661: RTR in Opened leads through Stopping).
			if a.State() != ppp.StateClosed || b.State() != ppp.StateStopped {
				t.Fatalf("after Close: states %v and %v, want Closed and Stopped", a.State(), b.State())
			}
			if ha.Downs != 1 || ha.Finishes != 1 || hb.Downs != 1 || hb.Finishes != 1 {
				t.Errorf("A tld ×%d tlf ×%d, B tld ×%d tlf ×%d; want 1 each", ha.Downs, ha.Finishes, hb.Downs, hb.Finishes)
			}
			if a.Err() != nil {
				t.Errorf("closing side: Err() = %v, want nil", a.Err())
			}
			if err := b.Err(); err == nil || !strings.Contains(err.Error(), `peer sent Terminate-Request: "User request"`) {
				t.Errorf("terminated side: Err() = %v", err)
			}
		})
	}
}

func TestPairConvergesAfterNak(t *testing.T) {
	// A asks for 1, B accepts only 5 and Naks; A adopts 5.
	ha := &ppptest.Handler{Request: true, Want: 1, AcceptAny: true}
	hb := &ppptest.Handler{Accept: 5}
	p := newPair(t, ha, hb)
	p.w.A.Up()
	p.w.B.Up()
	p.w.A.Open()
	p.w.B.Open()
	p.settle(t)
	if p.w.A.State() != ppp.StateOpened || p.w.B.State() != ppp.StateOpened || ha.Got != 5 || hb.His != 5 {
		t.Fatalf("states %v, %v; A got %d, B his %d", p.w.A.State(), p.w.B.State(), ha.Got, hb.His)
	}
}

func TestPairDisagreesThenGivesUpOption(t *testing.T) {
	// A insists on 1 and B on 5. After Max-Failure Naks from B, A stops
	// asking (treat as reject); the link opens without the option.
	ha := &ppptest.Handler{Request: true, Want: 1, AcceptAny: true}
	hb := &ppptest.Handler{Accept: 5}
	p := newPair(t, ha, hb)
	p.w.Drop = func(toB bool, pkt ppp.Packet) bool {
		// B's Naks always suggest 5, but A only listens to 7.
		if !toB && pkt.Code() == ppp.CodeConfigureNak {
			pkt[len(pkt)-1] = 7
			pkt[len(pkt)-4] = 0
		}
		return false
	}
	p.w.A.Up()
	p.w.B.Up()
	p.w.A.Open()
	p.w.B.Open()
	p.settle(t)
	if p.w.A.State() != ppp.StateOpened || p.w.B.State() != ppp.StateOpened || ha.GotOK {
		t.Fatalf("states %v, %v; A got option %v", p.w.A.State(), p.w.B.State(), ha.GotOK)
	}
}

func TestPairOverLossyWire(t *testing.T) {
	opened := 0
	defer func() {
		if opened < 15 {
			t.Errorf("only %d of 20 lossy negotiations opened", opened)
		}
	}()
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		ha := &ppptest.Handler{Request: true, Want: 1, Accept: 2}
		hb := &ppptest.Handler{Request: true, Want: 2, Accept: 1}
		p := newPair(t, ha, hb)
		p.w.Drop = func(bool, ppp.Packet) bool { return rng.IntN(4) == 0 }
		p.w.A.Up()
		p.w.B.Up()
		p.w.A.Open()
		p.w.B.Open()
		p.settle(t)
		a, b := p.w.A.State(), p.w.B.State()
		// Either both got through, or one ran out of retries: then the
		// state is one the RFC allows after TO-.
		if a == ppp.StateOpened && b == ppp.StateOpened {
			opened++
			continue
		}
		if a != ppp.StateStopped && b != ppp.StateStopped {
			t.Errorf("seed %d: states %v and %v", seed, a, b)
		}
	}
}
