package peer

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// fakeTarget is a Target whose peer is serve, run on the far end of a
// net.Pipe for every line: a deliberately broken PPP implementation.
type fakeTarget struct {
	serve func(ctx context.Context, c *Conn)
	wg    sync.WaitGroup
}

func (ft *fakeTarget) String() string { return "a fake peer" }

func (ft *fakeTarget) Open(context.Context) (io.ReadWriteCloser, error) {
	ours, theirs := net.Pipe()
	c := NewConn(ours, ConnConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	ft.wg.Go(func() {
		defer c.Close()
		go func() { <-c.Done(); cancel() }()
		ft.serve(ctx, c)
	})
	return theirs, nil
}

// ackEverything is a peer that requests no options, acknowledges every
// Configure-Request whatever it holds, and answers nothing else: no
// Code-Reject, no Echo-Reply, no Terminate-Ack.
func ackEverything(ctx context.Context, c *Conn) {
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			_ = c.Send(ppp.ProtoLCP, ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, nil))
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return
		}
		if p, ok := f.Packet(); ok && f.Proto == ppp.ProtoLCP && p.Code() == ppp.CodeConfigureRequest {
			_ = c.Send(ppp.ProtoLCP, ppp.AppendPacket(nil, ppp.CodeConfigureAck, p.ID(), p.Data()))
		}
	}
}

// TestSuiteFindsFaults runs cases against a peer that breaks the RFC in
// known ways, and checks each verdict: the suite must catch the faults,
// say when a case does not apply, and tell its own failure to run from a
// failure of the peer.
func TestSuiteFindsFaults(t *testing.T) {
	ft := &fakeTarget{serve: ackEverything}
	defer ft.wg.Wait()
	cfg := SuiteConfig{Restart: 100 * time.Millisecond, Start: 2 * time.Second}
	want := map[string]struct {
		verdict Verdict
		level   Level
	}{
		"lcp/unknown-option":    {Fail, Must},          // acknowledged an unknown option
		"lcp/nak-reject-valid":  {Fail, Must},          // acknowledged unknown options and MRU 64
		"lcp/unknown-code":      {Fail, Must},          // no Code-Reject
		"lcp/magic-collision":   {NotApplicable, Must}, // it uses no magic number
		"lcp/echo-reply":        {Fail, Must},          // no Echo-Reply
		"lcp/discard-request":   {Error, Must},         // no Echo-Reply: the case cannot tell Opened
		"lcp/duplicate-request": {Pass, Must},
	}
	var cases []Case
	for _, c := range Suite(cfg) {
		if _, ok := want[c.Name]; ok {
			cases = append(cases, c)
		}
	}
	if len(cases) != len(want) {
		t.Fatalf("found %d of the %d cases", len(cases), len(want))
	}
	rep := Run(t.Context(), ft, cases, RunOptions{Parallel: len(cases)})
	for _, r := range rep.Results {
		w := want[r.Case]
		if r.Verdict != w.verdict || r.Level != w.level {
			t.Errorf("%s: %v (%v), want %v (%v): %s", r.Case, r.Verdict, r.Level, w.verdict, w.level, r.Reason)
		}
		if r.Reason == "" || len(r.Log) == 0 {
			t.Errorf("%s: reason %q, %d log lines; want both", r.Case, r.Reason, len(r.Log))
		}
	}
	if !rep.Failed() {
		t.Errorf("Report.Failed() = false with MUST failures")
	}
}
