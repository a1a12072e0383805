package ppptest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

func TestClockFiresInDeadlineOrder(t *testing.T) {
	var c ppptest.Clock
	var fired []string
	a := c.NewTimer(func() { fired = append(fired, "a") })
	b := c.NewTimer(func() { fired = append(fired, "b") })
	a.Set(3 * time.Second)
	c.Now = time.Second
	b.Set(time.Second) // due at 2s, before a
	for c.Step() {
	}
	if !slices.Equal(fired, []string{"b", "a"}) || c.Now != 3*time.Second {
		t.Errorf("fired %v, now %v; want [b a] at 3s", fired, c.Now)
	}
	a.Set(time.Second)
	a.Set(0)
	if a.Armed() || c.Step() {
		t.Error("a stopped timer fired")
	}
}

func TestHandlerNegotiates(t *testing.T) {
	var w ppptest.Wire
	ha := &ppptest.Handler{Request: true, Want: 1, Accept: 2}
	hb := &ppptest.Handler{Request: true, Want: 3, Accept: 1}
	w.A = ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoIPCP, Handler: ha, Send: w.SendA})
	w.B = ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoIPCP, Handler: hb, Send: w.SendB})
	w.Formatter = ha
	for _, a := range []*ppp.Automaton{w.A, w.B} {
		a.Up()
		a.Open()
	}
	w.Run(100)
	if w.A.State() != ppp.StateOpened || w.B.State() != ppp.StateOpened {
		t.Fatalf("states %v, %v\n%v", w.A.State(), w.B.State(), w.Trace)
	}
	// B asked for 3, A wanted 2 and Naked; B took 2.
	if ha.His != 2 || hb.Got != 2 || ha.Got != 1 || hb.His != 1 {
		t.Errorf("A got %d his %d, B got %d his %d", ha.Got, ha.His, hb.Got, hb.His)
	}
	if !slices.Contains(w.Trace, "A>B [IPCP ConfNak id=0x1 <value 0x2>]") {
		t.Errorf("trace lacks A's Nak:\n%v", w.Trace)
	}
}

func TestRecorder(t *testing.T) {
	var r ppptest.Recorder
	r.Send(ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, nil))
	r.Layer("tlu")
	r.Send(ppp.AppendPacket(nil, ppp.CodeEchoReply, 2, nil))
	r.Send(ppp.AppendPacket(nil, ppp.CodeEchoRequest, 3, nil))
	r.SetTimer(time.Second)
	if !slices.Equal(r.Actions, []string{"scr", "tlu", "ser", "send EchoReq"}) {
		t.Errorf("actions %v", r.Actions)
	}
	if r.LastOf(ppp.CodeConfigureRequest).ID() != 1 || r.Last().ID() != 3 || r.Timer != time.Second {
		t.Errorf("LastOf, Last or Timer wrong")
	}
	r.Clear()
	if r.Last() != nil || len(r.Actions) != 0 || r.Timer != time.Second {
		t.Errorf("Clear left %v, or lost the timer", r.Actions)
	}
}
