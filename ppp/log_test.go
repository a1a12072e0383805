package ppp_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// capture is a slog.Handler that keeps the messages at or above level.
type capture struct {
	level slog.Level
	msgs  *[]string
	attrs *[]string
}

func (c capture) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }
func (c capture) Handle(_ context.Context, r slog.Record) error {
	*c.msgs = append(*c.msgs, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		*c.attrs = append(*c.attrs, a.String())
		return true
	})
	return nil
}
func (c capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c capture) WithGroup(string) slog.Handler      { return c }

func newCapture(level slog.Level) (*slog.Logger, *[]string, *[]string) {
	var msgs, attrs []string
	return slog.New(capture{level, &msgs, &attrs}), &msgs, &attrs
}

func TestDebugLog(t *testing.T) {
	log, msgs, attrs := newCapture(slog.LevelDebug)
	h := &ppptest.Handler{Request: true, Want: 0x3d1981f, Accept: 1}
	a := ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoLCP, Handler: h, Logger: log})
	a.Up()
	a.Open()
	a.Input(pkt(ppp.CodeConfigureAck, 1, valueOpt(0x3d1981f)...))
	a.Input(peerRequest(1, 1))
	a.Input(pkt(ppp.CodeEchoRequest, 7, 0, 0, 0, 1))
	a.Input(pkt(ppp.CodeTerminateRequest, 2, []byte("User request")...))
	want := []string{
		"LCP: Initial -> Closed",
		"sent [LCP ConfReq id=0x1 <value 0x3d1981f>]",
		"LCP: Closed -> Req-Sent",
		"rcvd [LCP ConfAck id=0x1 <value 0x3d1981f>]",
		"LCP: Req-Sent -> Ack-Rcvd",
		"rcvd [LCP ConfReq id=0x1 <value 0x1>]",
		"sent [LCP ConfAck id=0x1 <value 0x1>]",
		"LCP: Ack-Rcvd -> Opened",
		"rcvd [LCP EchoReq id=0x7 magic=0x1]",
		"sent [LCP EchoRep id=0x7 magic=0x1]",
		"rcvd [LCP TermReq id=0x2 \"User request\"]",
		"LCP: peer sent Terminate-Request: \"User request\"",
		"sent [LCP TermAck id=0x2]",
		"LCP: Opened -> Stopping",
	}
	if diff := cmp.Diff(want, *msgs); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if !slices.Contains(*attrs, "event=RCR+") || !slices.Contains(*attrs, "event=RTR") {
		t.Errorf("state changes lack their event: %v", *attrs)
	}
}

func TestLogLevels(t *testing.T) {
	log, msgs, _ := newCapture(slog.LevelInfo)
	f := newFixture(t, func(c *ppp.Config) { c.Logger = log })
	f.a.Up()
	f.a.Open()
	for f.a.State() == ppp.StateReqSent {
		f.a.Timeout()
	}
	want := []string{"IPCP: timeout sending Config-Requests"}
	if diff := cmp.Diff(want, *msgs); diff != "" {
		t.Errorf("log at info (-want +got):\n%s", diff)
	}
}
