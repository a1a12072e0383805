package ppp_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// negotiationError returns a's Err as a *ppp.NegotiationError, failing if it
// is not one.
func negotiationError(t *testing.T, a *ppp.Automaton) *ppp.NegotiationError {
	t.Helper()
	var ne *ppp.NegotiationError
	if err := a.Err(); !errors.As(err, &ne) {
		t.Fatalf("Err() = %v, want a *ppp.NegotiationError", err)
	}
	return ne
}

// timeoutUntil fires the restart timer while it is armed and the state is
// s, at most limit times, and returns how many times it fired.
func timeoutUntil(f *fixture, s ppp.State, limit int) int {
	n := 0
	for ; n < limit && f.a.State() == s && ppp.TimerArmed(f.a); n++ {
		f.a.Timeout()
	}
	return n
}

func TestMaxConfigure(t *testing.T) {
	f := newFixture(t, nil)
	f.a.Up()
	f.a.Open()
	timeoutUntil(f, ppp.StateReqSent, 100)

	if got := f.a.State(); got != ppp.StateStopped {
		t.Fatalf("state = %v, want Stopped", got)
	}
	if n := countOf(f.rec.Actions, "scr"); n != testMaxConfigure {
		t.Errorf("sent %d Configure-Requests, want Max-Configure = %d", n, testMaxConfigure)
	}
	for _, p := range f.rec.Packets {
		if p.ID() != 1 {
			t.Errorf("retransmission has Identifier %d, want 1 throughout", p.ID())
		}
	}
	for _, d := range f.rec.TimerCalls {
		if d != ppp.DefaultRestartInterval {
			t.Errorf("timer armed for %v, want %v", d, ppp.DefaultRestartInterval)
		}
	}
	if f.h.Finishes != 1 {
		t.Errorf("tlf called %d times, want 1", f.h.Finishes)
	}
	ne := negotiationError(t, f.a)
	want := &ppp.NegotiationError{Protocol: ppp.ProtoIPCP, State: ppp.StateReqSent, Reason: "no answer to 10 Configure-Requests"}
	if diff := cmp.Diff(want, ne); diff != "" {
		t.Errorf("Err (-want +got):\n%s", diff)
	}
	if got, want := ne.Error(), "ppp: IPCP: no answer to 10 Configure-Requests (state Req-Sent)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := f.a.Stats().Retransmits; got != testMaxConfigure-1 {
		t.Errorf("Stats.Retransmits = %d, want %d", got, testMaxConfigure-1)
	}
	f.a.Timeout() // the timer is not armed any more
	if got := f.a.Stats().Unexpected; got != 1 {
		t.Errorf("stale Timeout: Stats.Unexpected = %d, want 1", got)
	}
}

func TestMaxConfigureInAckSent(t *testing.T) {
	// The peer acknowledges nothing of ours but keeps its own request
	// acknowledged: TO- in Ack-Sent.
	f := newFixture(t, func(c *ppp.Config) { c.MaxConfigure = 3 })
	f.a.Up()
	f.a.Open()
	f.a.Input(peerRequest(1, peerGood))
	timeoutUntil(f, ppp.StateAckSent, 100)
	if f.a.State() != ppp.StateStopped || f.h.Finishes != 1 {
		t.Fatalf("state %v, tlf ×%d; want Stopped, tlf ×1", f.a.State(), f.h.Finishes)
	}
	if n := countOf(f.rec.Actions, "scr"); n != 3 {
		t.Errorf("sent %d Configure-Requests, want 3", n)
	}
	if ne := negotiationError(t, f.a); ne.State != ppp.StateAckSent {
		t.Errorf("Err state = %v, want Ack-Sent", ne.State)
	}
}

func TestMaxTerminate(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateOpened)
	f.a.Close("User request")
	timeoutUntil(f, ppp.StateClosing, 100)

	if got := f.a.State(); got != ppp.StateClosed {
		t.Fatalf("state = %v, want Closed", got)
	}
	want := []string{"tld", "str", "str", "tlf"}
	if diff := cmp.Diff(want, f.rec.Actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	first, second := f.rec.Packets[0], f.rec.Packets[1]
	if string(first.Data()) != "User request" {
		t.Errorf("Terminate-Request data = %q, want the Close reason", first.Data())
	}
	if !bytes.Equal(first, second) {
		t.Errorf("retransmitted Terminate-Request % x differs from % x", second, first)
	}
	if err := f.a.Err(); err != nil {
		t.Errorf("Err() = %v after our own Close, want nil", err)
	}
}

func TestTerminateAcknowledged(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateOpened)
	f.a.Close("")
	req := f.rec.Last()
	if len(req.Data()) != 0 {
		t.Errorf("Terminate-Request carries %q, want no data", req.Data())
	}
	f.a.Input(pkt(ppp.CodeTerminateAck, req.ID()))
	if f.a.State() != ppp.StateClosed || f.h.Finishes != 1 || ppp.TimerArmed(f.a) || f.rec.Timer != 0 {
		t.Errorf("after Terminate-Ack: state %v, tlf ×%d, timer %v; want Closed, tlf ×1, stopped",
			f.a.State(), f.h.Finishes, f.rec.Timer)
	}
}

func TestPeerTerminates(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateOpened)
	f.a.Input(pkt(ppp.CodeTerminateRequest, 9, []byte("User request")...))
	if f.a.State() != ppp.StateStopping {
		t.Fatalf("state = %v, want Stopping", f.a.State())
	}
	if ack := f.rec.Last(); ack.Code() != ppp.CodeTerminateAck || ack.ID() != 9 {
		t.Errorf("sent %v id %d, want a Terminate-Ack with id 9", ack.Code(), ack.ID())
	}
	// zrc: the counter is zero and the timer runs, so the next timeout is
	// TO-, which finishes the layer (tlf/3).
	if f.rec.Timer != ppp.DefaultRestartInterval {
		t.Errorf("timer = %v, want armed for %v", f.rec.Timer, ppp.DefaultRestartInterval)
	}
	f.a.Timeout()
	if f.a.State() != ppp.StateStopped || f.h.Finishes != 1 {
		t.Errorf("after the timeout: state %v, tlf ×%d; want Stopped, tlf ×1", f.a.State(), f.h.Finishes)
	}
	if n := countOf(f.rec.Actions, "str"); n != 0 {
		t.Errorf("sent %d Terminate-Requests after the peer's, want none", n)
	}
	ne := negotiationError(t, f.a)
	if want := `peer sent Terminate-Request: "User request"`; ne.Reason != want || ne.State != ppp.StateOpened {
		t.Errorf("Err = %q in %v, want %q in Opened", ne.Reason, ne.State, want)
	}
}

func TestMaxFailureTurnsNaksIntoRejects(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateReqSent)
	for i := range ppp.DefaultMaxFailure + 2 {
		f.a.Input(peerRequest(uint8(i), peerBad))
		reply := f.rec.Last()
		wantCode, wantData := ppp.CodeConfigureNak, valueOpt(peerGood)
		if i >= ppp.DefaultMaxFailure {
			// After Max-Failure Naks without an Ack, the option is
			// rejected as it stands.
			wantCode, wantData = ppp.CodeConfigureReject, valueOpt(peerBad)
		}
		if reply.Code() != wantCode || !bytes.Equal(reply.Data(), wantData) || reply.ID() != uint8(i) {
			t.Errorf("request %d: reply %v id %d % x, want %v id %d % x", i+1, reply.Code(), reply.ID(), reply.Data(), wantCode, i, wantData)
		}
		if f.h.RejectIfDisagree != (i >= ppp.DefaultMaxFailure) {
			t.Errorf("request %d: rejectIfDisagree = %v", i+1, f.h.RejectIfDisagree)
		}
		if f.a.State() != ppp.StateReqSent {
			t.Errorf("request %d: state %v, want Req-Sent", i+1, f.a.State())
		}
	}
	// An Ack sent starts the count again.
	f.a.Input(peerRequest(20, peerGood))
	f.a.Input(peerRequest(21, peerBad))
	if reply := f.rec.Last(); reply.Code() != ppp.CodeConfigureNak || f.h.RejectIfDisagree {
		t.Errorf("after an Ack: reply %v, rejectIfDisagree %v; want a Nak without", reply.Code(), f.h.RejectIfDisagree)
	}
}

func TestNaksReceivedTreatedAsRejects(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateReqSent)
	for i := range ppp.DefaultMaxFailure {
		f.a.Input(f.nak(nakValue + uint32(i))) // a new suggestion each time
		if want := i+1 >= ppp.DefaultMaxFailure; f.h.NakTreatedAsReject != want {
			t.Errorf("Nak %d: rejectIfDisagree = %v, want %v", i+1, f.h.NakTreatedAsReject, want)
		}
	}
	if v, ok := f.h.Requesting(); ok {
		t.Errorf("still requesting value %#x after Max-Failure Naks", v)
	}
	if req := f.rec.Last(); req.Code() != ppp.CodeConfigureRequest || len(req.Data()) != 0 {
		t.Errorf("last request % x, want one without the option", req)
	}
	f.a.Input(f.ack())
	if f.a.State() != ppp.StateAckRcvd {
		t.Errorf("state = %v, want Ack-Rcvd", f.a.State())
	}
}

// peerLoop plays a peer that answers each of our Configure-Requests with
// answer, and fires the restart timer whenever the automaton waits on it,
// until the automaton leaves the negotiating states or limit packets have
// been answered. It returns how many it answered.
func peerLoop(f *fixture, limit int, answer func(req ppp.Packet) []byte) int {
	done := 0
	for n := 0; n < limit; n++ {
		s := f.a.State()
		if s < ppp.StateReqSent || s > ppp.StateAckSent {
			break
		}
		if done < len(f.rec.Packets) {
			p := f.rec.Packets[done]
			done++
			if p.Code() == ppp.CodeConfigureRequest {
				f.a.Input(answer(p))
			}
			continue
		}
		f.a.Timeout()
	}
	return done
}

func TestPeerNaksForever(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateReqSent)
	peerLoop(f, 1000, func(req ppp.Packet) []byte {
		return pkt(ppp.CodeConfigureNak, req.ID(), valueOpt(nakValue)...)
	})
	if f.a.State() != ppp.StateStopped || f.h.Finishes != 1 {
		t.Fatalf("state %v, tlf ×%d; want Stopped, tlf ×1", f.a.State(), f.h.Finishes)
	}
	st := f.a.Stats()
	if st.Futile == 0 {
		t.Error("Stats.Futile = 0, want the futile Naks counted")
	}
	// Bounded: Max-Failure Naks change the request, Max-Failure more leave
	// it unchanged, then Max-Configure requests paced by the timer.
	if n := countOf(f.rec.Actions, "scr"); n > 3*testMaxConfigure {
		t.Errorf("sent %d Configure-Requests to a peer that Naks forever", n)
	}
	ne := negotiationError(t, f.a)
	want := "peer kept Naking <value 0xd>; after 5 Naks we treated them as Rejects; no agreement after 10 Configure-Requests"
	if ne.Reason != want {
		t.Errorf("Err reason\n got %q\nwant %q", ne.Reason, want)
	}
}

func TestPeerRejectsNothingForever(t *testing.T) {
	// An empty Configure-Reject is valid but changes nothing.
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateReqSent)
	peerLoop(f, 1000, func(req ppp.Packet) []byte {
		return pkt(ppp.CodeConfigureReject, req.ID())
	})
	if f.a.State() != ppp.StateStopped {
		t.Fatalf("state = %v, want Stopped", f.a.State())
	}
	if ne := negotiationError(t, f.a); !strings.HasPrefix(ne.Reason, "peer kept Rejecting;") {
		t.Errorf("Err reason = %q", ne.Reason)
	}
}

func TestPeerNeverAnswersPassive(t *testing.T) {
	f := newFixture(t, func(c *ppp.Config) { c.Passive = true })
	f.a.Up()
	f.a.Open()
	timeoutUntil(f, ppp.StateReqSent, 100)
	if f.a.State() != ppp.StateStopped {
		t.Fatalf("state = %v, want Stopped", f.a.State())
	}
	if f.h.Finishes != 0 {
		t.Errorf("passive: tlf called %d times, want none ([p])", f.h.Finishes)
	}
	if f.a.Err() == nil {
		t.Error("Err() = nil after Max-Configure ran out")
	}
	// The peer turns up at last.
	f.rec.Clear()
	f.a.Input(peerRequest(1, peerGood))
	if diff := cmp.Diff([]string{"scr", "sca"}, f.rec.Actions); diff != "" || f.a.State() != ppp.StateAckSent {
		t.Fatalf("state %v, actions (-want +got):\n%s", f.a.State(), diff)
	}
	f.a.Input(f.ack())
	if f.a.State() != ppp.StateOpened || f.a.Err() != nil {
		t.Errorf("state %v, Err %v; want Opened and nil", f.a.State(), f.a.Err())
	}
}

func TestSilent(t *testing.T) {
	for _, order := range []string{"Up,Open", "Open,Up"} {
		t.Run(order, func(t *testing.T) {
			f := newFixture(t, func(c *ppp.Config) { c.Silent = true })
			if order == "Up,Open" {
				f.a.Up()
				f.a.Open()
			} else {
				f.a.Open()
				f.a.Up()
			}
			if f.a.State() != ppp.StateStopped || len(f.rec.Packets) != 0 || ppp.TimerArmed(f.a) {
				t.Fatalf("state %v, %d packets, timer %v; want Stopped, silent, no timer",
					f.a.State(), len(f.rec.Packets), ppp.TimerArmed(f.a))
			}
			f.rec.Clear()
			f.a.Input(peerRequest(1, peerBad))
			if diff := cmp.Diff([]string{"scr", "scn"}, f.rec.Actions); diff != "" || f.a.State() != ppp.StateReqSent {
				t.Errorf("state %v, actions (-want +got):\n%s", f.a.State(), diff)
			}
		})
	}
}

func TestRestartOption(t *testing.T) {
	t.Run("Opened", func(t *testing.T) {
		f := newFixture(t, func(c *ppp.Config) { c.Restart = true })
		f.driveTo(t, ppp.StateOpened)
		resets := f.h.Resets
		f.a.Open()
		if diff := cmp.Diff([]string{"tld", "scr"}, f.rec.Actions); diff != "" || f.a.State() != ppp.StateReqSent {
			t.Errorf("state %v, actions (-want +got):\n%s", f.a.State(), diff)
		}
		if err := f.a.Err(); err != nil {
			t.Errorf("Err() = %v after a renegotiation asked for", err)
		}
		if f.h.Resets != resets+1 {
			t.Error("renegotiation did not Reset the handler")
		}
	})
	t.Run("Stopped", func(t *testing.T) {
		f := newFixture(t, func(c *ppp.Config) { c.Restart = true })
		f.driveTo(t, ppp.StateStopped)
		f.a.Open()
		if diff := cmp.Diff([]string{"tls", "scr"}, f.rec.Actions); diff != "" || f.a.State() != ppp.StateReqSent {
			t.Errorf("state %v, actions (-want +got):\n%s", f.a.State(), diff)
		}
	})
	t.Run("Closing", func(t *testing.T) {
		f := newFixture(t, func(c *ppp.Config) { c.Restart = true })
		f.driveTo(t, ppp.StateClosing)
		f.a.Open()
		if diff := cmp.Diff([]string{"scr"}, f.rec.Actions); diff != "" || f.a.State() != ppp.StateReqSent {
			t.Errorf("state %v, actions (-want +got):\n%s", f.a.State(), diff)
		}
	})
}

func TestMalformedInput(t *testing.T) {
	req := peerRequest(1, peerGood)
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"short header", []byte{1, 1, 0}},
		{"Length below 4", []byte{1, 1, 0, 3}},
		{"Length beyond packet", bytes.Clone(req[:len(req)-1])},
		{"Length zero", []byte{1, 1, 0, 0, 1, 6, 0, 0, 0, 0}},
		{"zero-length option", pkt(ppp.CodeConfigureRequest, 1, 1, 0, 0, 0)},
		{"option length 1", pkt(ppp.CodeConfigureRequest, 1, 1, 1)},
		{"overrunning option", pkt(ppp.CodeConfigureRequest, 1, 1, 7, 0, 0, 0, 0)},
		{"trailing octet", pkt(ppp.CodeConfigureRequest, 1, append(valueOpt(peerGood), 3)...)},
		{"malformed Nak", pkt(ppp.CodeConfigureNak, 1, 1, 9, 0)},
		{"malformed Reject", pkt(ppp.CodeConfigureReject, 1, 0)},
		{"short Code-Reject", pkt(ppp.CodeCodeReject, 1, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.driveTo(t, ppp.StateReqSent)
			f.a.Input(tt.pkt)
			st := f.a.Stats()
			if st.Malformed != 1 || len(f.rec.Packets) != 0 || f.a.State() != ppp.StateReqSent {
				t.Errorf("Malformed %d, sent %d, state %v; want 1, 0, Req-Sent", st.Malformed, len(f.rec.Packets), f.a.State())
			}
		})
	}
	t.Run("padding", func(t *testing.T) {
		// Octets after Length are padding, ignored (RFC 1661 section 5).
		f := newFixture(t, nil)
		f.driveTo(t, ppp.StateReqSent)
		f.a.Input(append(bytes.Clone(req), 0, 0, 0))
		if f.a.State() != ppp.StateAckSent || f.a.Stats().Malformed != 0 {
			t.Errorf("state %v, Malformed %d; want Ack-Sent, 0", f.a.State(), f.a.Stats().Malformed)
		}
		if ack := f.rec.Last(); !bytes.Equal(ack.Data(), req[4:]) {
			t.Errorf("Ack data % x, want % x", ack.Data(), req[4:])
		}
	})
}

func TestRepliesDiscarded(t *testing.T) {
	tests := []struct {
		name  string
		state ppp.State
		reply func(f *fixture) []byte
		stat  func(ppp.Stats) uint64
	}{
		{"unsolicited Ack in Opened", ppp.StateOpened, (*fixture).ack, wrongID},
		{"unsolicited Nak in Opened", ppp.StateOpened, func(f *fixture) []byte { return f.nak(nakValue) }, wrongID},
		{"unsolicited Reject in Opened", ppp.StateOpened, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureReject, f.lastReq.ID(), valueOpt(wantValue)...)
		}, wrongID},
		{"duplicate Ack in Ack-Rcvd", ppp.StateAckRcvd, (*fixture).ack, wrongID},
		{"Ack with wrong Identifier", ppp.StateReqSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureAck, f.lastReq.ID()+1, f.lastReq.Data()...)
		}, wrongID},
		{"Nak with wrong Identifier", ppp.StateAckSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureNak, f.lastReq.ID()-1, valueOpt(nakValue)...)
		}, wrongID},
		{"Ack altering a value", ppp.StateReqSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureAck, f.lastReq.ID(), valueOpt(wantValue+1)...)
		}, badAck},
		{"Ack dropping the options", ppp.StateReqSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureAck, f.lastReq.ID())
		}, badAck},
		{"Ack adding an option", ppp.StateReqSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureAck, f.lastReq.ID(), append(valueOpt(wantValue), 3, 2)...)
		}, badAck},
		{"Nak of an option with a bad length", ppp.StateReqSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureNak, f.lastReq.ID(), 1, 5, 0, 0, 0)
		}, badNakRej},
		{"Reject of an option not requested", ppp.StateReqSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureReject, f.lastReq.ID(), 3, 2)
		}, badNakRej},
		{"Reject altering a value", ppp.StateReqSent, func(f *fixture) []byte {
			return pkt(ppp.CodeConfigureReject, f.lastReq.ID(), valueOpt(wantValue+1)...)
		}, badNakRej},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.driveTo(t, tt.state)
			before := f.a.Stats()
			f.a.Input(tt.reply(f))
			if f.a.State() != tt.state || len(f.rec.Actions) != 0 {
				t.Errorf("state %v, actions %v; want %v and none", f.a.State(), f.rec.Actions, tt.state)
			}
			if got := tt.stat(f.a.Stats()); got != tt.stat(before)+1 {
				t.Errorf("counter = %d, want %d", got, tt.stat(before)+1)
			}
		})
	}
}

func wrongID(s ppp.Stats) uint64   { return s.WrongID }
func badAck(s ppp.Stats) uint64    { return s.BadAck }
func badNakRej(s ppp.Stats) uint64 { return s.BadNakRej }

// twoOptions requests the test handler's option followed by a second one,
// to see Acks that reorder them refused.
type twoOptions struct{ ppptest.Handler }

func (h *twoOptions) AppendRequest(b []byte) []byte {
	return ppp.AppendOption(h.Handler.AppendRequest(b), 3, 7)
}

func TestAckReorderingOptions(t *testing.T) {
	rec := &ppptest.Recorder{}
	h := &twoOptions{ppptest.Handler{Request: true, Want: wantValue}}
	a := ppp.NewAutomaton(ppp.Config{Handler: h, Send: rec.Send, Timer: rec.SetTimer})
	a.Up()
	a.Open()
	req := rec.Last()
	opts := req.Data()
	swapped := append(bytes.Clone(opts[6:]), opts[:6]...)
	a.Input(pkt(ppp.CodeConfigureAck, req.ID(), swapped...))
	if a.State() != ppp.StateReqSent || a.Stats().BadAck != 1 {
		t.Fatalf("reordered Ack: state %v, BadAck %d; want Req-Sent, 1", a.State(), a.Stats().BadAck)
	}
	a.Input(pkt(ppp.CodeConfigureAck, req.ID(), opts...))
	if a.State() != ppp.StateAckRcvd {
		t.Errorf("exact Ack: state %v, want Ack-Rcvd", a.State())
	}
}

func TestDuplicates(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateReqSent)
	req := peerRequest(7, peerGood)
	f.a.Input(req)
	f.a.Input(req) // RCR+ in Ack-Sent: sca/8 again
	ack := f.ack()
	f.a.Input(ack)
	f.a.Input(ack) // already answered
	if diff := cmp.Diff([]string{"sca", "sca", "tlu"}, f.rec.Actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if f.a.State() != ppp.StateOpened || f.a.Stats().WrongID != 1 {
		t.Errorf("state %v, WrongID %d; want Opened, 1", f.a.State(), f.a.Stats().WrongID)
	}
}

func TestUnknownCode(t *testing.T) {
	f := newFixture(t, func(c *ppp.Config) { c.MaxSend = func() int { return 64 } })
	f.driveTo(t, ppp.StateOpened)
	unknown := pkt(0x0e, 0x21, bytes.Repeat([]byte{0xab}, 200)...)
	f.a.Input(unknown)
	rej := f.rec.Last()
	if rej.Code() != ppp.CodeCodeReject || len(rej) != 64 {
		t.Fatalf("sent %v of %d octets, want a Code-Reject of 64", rej.Code(), len(rej))
	}
	if !bytes.Equal(rej.Data(), unknown[:60]) {
		t.Errorf("Code-Reject carries % x, want the start of the rejected packet", rej.Data())
	}
	st := f.a.Stats()
	if st.CodeRejectsSent != 1 || st.Truncated != 1 || f.a.State() != ppp.StateOpened {
		t.Errorf("CodeRejectsSent %d, Truncated %d, state %v", st.CodeRejectsSent, st.Truncated, f.a.State())
	}
	if rej.ID() == f.lastReq.ID() {
		t.Errorf("Code-Reject reuses Identifier %d", rej.ID())
	}

	// A code the handler knows is not rejected.
	f.rec.Clear()
	f.a.Input(pkt(ppp.CodeDiscardRequest, 1, 0, 0, 0, 0))
	if len(f.rec.Packets) != 0 {
		t.Errorf("Discard-Request answered with %v", f.rec.Actions)
	}
}

func TestNoHandler(t *testing.T) {
	rec := &ppptest.Recorder{}
	a := ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoIPV6CP, Send: rec.Send})
	a.Up()
	a.Open()
	if req := rec.Last(); req.Code() != ppp.CodeConfigureRequest || len(req.Data()) != 0 {
		t.Fatalf("sent % x, want an empty Configure-Request", req)
	}
	a.Input(peerRequest(1, 5))
	if rej := rec.Last(); rej.Code() != ppp.CodeConfigureReject || !bytes.Equal(rej.Data(), valueOpt(5)) {
		t.Errorf("sent % x, want a Configure-Reject of the option", rej)
	}
	a.Input(pkt(ppp.CodeEchoRequest, 2, 0, 0, 0, 0))
	if rej := rec.Last(); rej.Code() != ppp.CodeCodeReject {
		t.Errorf("Echo-Request without a CodeHandler: sent %v, want a Code-Reject", rej.Code())
	}
	a.Input(pkt(ppp.CodeConfigureRequest, 3))
	a.Input(pkt(ppp.CodeConfigureAck, 1))
	if a.State() != ppp.StateOpened {
		t.Errorf("state = %v, want Opened", a.State())
	}
	a.Timeout() // nil Timer: never armed
	a.Close("")
	a.Down()
	if a.State() != ppp.StateInitial {
		t.Errorf("state = %v, want Initial", a.State())
	}
}

func TestCodeRejectReceived(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateOpened)
	f.a.Input(codeReject(1, ppp.CodeEchoRequest))
	if f.a.State() != ppp.StateOpened || f.a.Err() != nil {
		t.Fatalf("RXJ+: state %v, Err %v; want Opened, nil", f.a.State(), f.a.Err())
	}
	f.a.Input(codeReject(2, ppp.CodeTerminateRequest))
	if diff := cmp.Diff([]string{"tld", "str"}, f.rec.Actions); diff != "" || f.a.State() != ppp.StateStopping {
		t.Errorf("RXJ-: state %v, actions (-want +got):\n%s", f.a.State(), diff)
	}
	if got := f.a.Stats().CodeRejectsRcvd; got != 2 {
		t.Errorf("CodeRejectsRcvd = %d, want 2", got)
	}
	if ne := negotiationError(t, f.a); ne.Reason != "peer sent Code-Reject of TermReq (catastrophic)" {
		t.Errorf("Err reason = %q", ne.Reason)
	}
}

func TestProtocolRejected(t *testing.T) {
	f := newFixture(t, nil)
	f.a.ProtocolRejected()
	if got := f.a.Stats().Unexpected; got != 1 {
		t.Errorf("Protocol-Reject in Initial: Unexpected = %d, want 1", got)
	}
	f.driveTo(t, ppp.StateReqSent)
	f.a.ProtocolRejected()
	if f.a.State() != ppp.StateStopped || f.h.Finishes != 1 || ppp.TimerArmed(f.a) {
		t.Errorf("state %v, tlf ×%d, timer %v; want Stopped, tlf ×1, stopped", f.a.State(), f.h.Finishes, ppp.TimerArmed(f.a))
	}
	if ne := negotiationError(t, f.a); ne.Reason != "peer sent Protocol-Reject" {
		t.Errorf("Err reason = %q", ne.Reason)
	}
}

func TestErrLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	f.driveTo(t, ppp.StateOpened)
	if err := f.a.Err(); err != nil {
		t.Fatalf("Err() = %v in Opened", err)
	}
	f.a.Input(pkt(ppp.CodeTerminateRequest, 1))
	if ne := negotiationError(t, f.a); ne.Reason != "peer sent Terminate-Request" {
		t.Errorf("Err reason = %q", ne.Reason)
	}
	f.a.Down() // the first cause is kept
	if ne := negotiationError(t, f.a); ne.Reason != "peer sent Terminate-Request" {
		t.Errorf("after Down: Err reason = %q", ne.Reason)
	}
	f.a.Close("")
	f.a.Up()
	f.a.Open() // a fresh Open from Closed
	if err := f.a.Err(); err != nil {
		t.Errorf("Err() = %v after a fresh Open", err)
	}
	f.a.Input(peerRequest(1, peerGood))
	f.a.Input(f.ack())
	f.a.Down()
	if ne := negotiationError(t, f.a); ne.Reason != "lower layer went down" || ne.State != ppp.StateOpened {
		t.Errorf("Err = %q in %v", ne.Reason, ne.State)
	}
}

// changing is a handler whose request the test changes between
// retransmissions.
type changing struct {
	ppptest.Handler
	v byte
}

func (h *changing) AppendRequest(b []byte) []byte { return ppp.AppendOption(b, 1, h.v) }

func TestIdentifiers(t *testing.T) {
	rec := &ppptest.Recorder{}
	h := &changing{v: 1}
	a := ppp.NewAutomaton(ppp.Config{Handler: h, Send: rec.Send, Timer: rec.SetTimer})
	a.Up()
	a.Open()
	a.Timeout() // unchanged: same Identifier
	h.v = 2
	a.Timeout() // changed: new Identifier (RFC 1661 section 5.1)
	last := rec.Last()
	a.Input(pkt(ppp.CodeConfigureReject, last.ID())) // valid reply: next request gets a new one
	a.Close("")
	a.Timeout()
	var ids []uint8
	for _, p := range rec.Packets {
		ids = append(ids, p.ID())
	}
	// ConfReq 1, 1 (TO+), 2 (changed), 3 (after Reject), TermReq 4, 4 (TO+).
	if diff := cmp.Diff([]uint8{1, 1, 2, 3, 4, 4}, ids); diff != "" {
		t.Errorf("identifiers (-want +got):\n%s", diff)
	}
}

func TestRequestCutToMaxSend(t *testing.T) {
	rec := &ppptest.Recorder{}
	h := &twoOptions{ppptest.Handler{Request: true, Want: wantValue}}
	a := ppp.NewAutomaton(ppp.Config{Handler: h, Send: rec.Send, MaxSend: func() int { return 4 + 6 + 2 }})
	a.Up()
	a.Open()
	req := rec.Last()
	if !bytes.Equal(req.Data(), valueOpt(wantValue)) {
		t.Fatalf("request % x, want only the options that fit whole", req)
	}
	a.Input(pkt(ppp.CodeConfigureAck, req.ID(), req.Data()...))
	if a.State() != ppp.StateAckRcvd || a.Stats().Truncated != 1 {
		t.Errorf("state %v, Truncated %d; want Ack-Rcvd, 1", a.State(), a.Stats().Truncated)
	}
}

func TestTimer(t *testing.T) {
	f := newFixture(t, func(c *ppp.Config) { c.RestartInterval = time.Second })
	f.a.Up()
	f.a.Open()
	if f.rec.Timer != time.Second {
		t.Fatalf("timer = %v after scr, want 1s", f.rec.Timer)
	}
	f.a.Down()
	if f.rec.Timer != 0 || ppp.TimerArmed(f.a) {
		t.Errorf("timer = %v after Down, want stopped", f.rec.Timer)
	}
	f.a.Up()
	f.a.Input(peerRequest(1, peerGood))
	f.a.Input(f.ack())
	if f.a.State() != ppp.StateOpened || f.rec.Timer != 0 {
		t.Errorf("state %v, timer %v; want Opened, stopped", f.a.State(), f.rec.Timer)
	}
}

func TestStateString(t *testing.T) {
	want := []string{"Initial", "Starting", "Closed", "Stopped", "Closing", "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened", "State(10)"}
	for i, w := range want {
		if got := ppp.State(i).String(); got != w {
			t.Errorf("State(%d).String() = %q, want %q", i, got, w)
		}
	}
}

// bogus answers every request with a code that is no verdict.
type bogus struct{ ppptest.Handler }

func (*bogus) CheckRequest(reply, opts []byte, _ bool) (ppp.Code, []byte) {
	return ppp.CodeEchoRequest, reply
}

func TestHandlerWithoutVerdict(t *testing.T) {
	rec := &ppptest.Recorder{}
	a := ppp.NewAutomaton(ppp.Config{Handler: &bogus{}, Send: rec.Send})
	a.Up()
	a.Open()
	req := peerRequest(4, 1)
	a.Input(req)
	if rej := rec.Last(); rej.Code() != ppp.CodeConfigureReject || !bytes.Equal(rej.Data(), req[4:]) {
		t.Errorf("sent % x, want a Configure-Reject of the whole request", rej)
	}
}

func TestImpossibleEventLogged(t *testing.T) {
	log, msgs, _ := newCapture(slog.LevelDebug)
	a := ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoLCP, Logger: log})
	a.Down()
	a.Input(pkt(ppp.CodeTerminateAck, 1))
	want := []string{
		"LCP: unexpected Down event in state Initial",
		"rcvd [LCP TermAck id=0x1]",
		"LCP: unexpected RTA event in state Initial",
	}
	if diff := cmp.Diff(want, *msgs); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}
