package peer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// fuzzSession is one line to the peer, as the fuzzer and the replayer
// drive it: it negotiates LCP as a valid initiator, sends units, answers
// the peer (its Configure-Requests, Echo-Requests and Terminate-Requests)
// and judges whether the peer is alive. One goroutine uses it.
type fuzzSession struct {
	f    *Fuzzer
	line io.ReadWriteCloser
	conn *Conn
	gen  *mutGen // captures the peer's frames; nil when replaying
	rng  *rand.Rand
	log  *slog.Logger

	opts  []byte // our LCP Configure-Request options, as the peer agreed so far
	magic uint32 // our Magic-Number, in opts
	id    uint8  // the last Identifier we used

	confID      uint8 // our outstanding Configure-Request's Identifier
	confPending bool  // it has had no valid reply yet
	resend      bool  // a Nak or Reject changed opts: send a new request
	ourAcked    bool  // the peer acknowledged our request
	peerAcked   bool  // we acknowledged the peer's latest request
	echoID      uint8
	echoed      bool // the Echo-Request echoID was answered
	opened      bool // LCP is Opened: an Echo-Request was answered since the peer's last Configure-Request
	answers     int  // replies to our requests (Configure-*, Echo, Terminate, Code-Reject)

	opened0 time.Time // when the line was opened
	heard   bool      // the peer has sent a frame on this line

	bye     string // how the peer ended the link by the protocol; "" while it has not
	rejSent bool   // we sent an LCP Code-Reject or Protocol-Reject, on which RFC 1661 lets the peer end the link silently (RXJ-)
	stuck   error  // a write that did not complete: the peer stopped reading

	steps    []ReproStep // what was sent, for the reproducer; nil unless recording
	recorded int         // octets in steps
	record   bool
}

// Options of a Conn used by the fuzzer: a short queue and no frame
// larger than any control packet the fuzzer needs to read, so that a
// flooding peer costs little memory (Conn.History keeps up to 4096
// frames: 32 MiB at most).
const (
	fuzzQueue    = 256
	fuzzMaxFrame = 8 << 10
)

// openSession opens a fresh line. It does not negotiate.
func (f *Fuzzer) openSession(ctx context.Context, rng *rand.Rand, gen *mutGen, record bool) (*fuzzSession, error) {
	octx, cancel := context.WithTimeout(ctx, max(f.timeout(), 30*time.Second))
	defer cancel()
	line, err := f.Target.Open(octx)
	if err != nil {
		return nil, err
	}
	s := &fuzzSession{
		f:       f,
		line:    line,
		conn:    NewConn(line, ConnConfig{Queue: fuzzQueue, MaxFrame: fuzzMaxFrame}),
		gen:     gen,
		rng:     rng,
		log:     f.logger(),
		record:  record,
		opened0: time.Now(),
	}
	s.magic = rng.Uint32() | 1
	s.opts = fuzzOptions(rng, s.magic)
	return s, nil
}

// fuzzOptions chooses the options of our LCP Configure-Requests on a line:
// always a Magic-Number; an ACCM of 0, PFC and ACFC as pppd asks; and
// often a large MRU, so that the peer may send, and build replies, longer
// than 1500 octets.
func fuzzOptions(rng *rand.Rand, magic uint32) []byte {
	var b []byte
	if rng.IntN(2) == 0 {
		b = ppp.AppendOptionUint16(b, lcp.OptMRU, mutPick(rng, []uint16{1500, 4096, 8192, 16384, 65535}))
	}
	if rng.IntN(2) == 0 {
		b = ppp.AppendOptionUint32(b, lcp.OptACCM, 0)
	}
	b = ppp.AppendOptionUint32(b, lcp.OptMagicNumber, magic)
	if rng.IntN(2) == 0 {
		b = ppp.AppendOption(b, lcp.OptPFC)
		b = ppp.AppendOption(b, lcp.OptACFC)
	}
	return b
}

// close closes the line and waits for its reader.
func (s *fuzzSession) close() {
	s.conn.Close()
}

// errFuzzLineEnded is returned when the line ended under a session.
var errFuzzLineEnded = errors.New("peer: the line ended")

// errFuzzWriteStuck is returned when a write did not complete in time.
var errFuzzWriteStuck = errors.New("peer: the peer stopped reading the line")

// write writes b to the line. A write that does not complete within the
// timeout means the peer stopped reading: the session sends nothing more.
// The goroutine doing the write ends when the line is closed.
func (s *fuzzSession) write(ctx context.Context, b []byte) error {
	if s.stuck != nil {
		return s.stuck
	}
	select {
	case <-s.conn.Done():
		return errFuzzLineEnded
	default:
	}
	done := make(chan error, 1)
	go func() { done <- s.conn.SendRaw(b) }()
	t := time.NewTimer(s.f.timeout() + time.Duration(len(b)>>10)*time.Millisecond)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return errFuzzLineEnded
		}
		return nil
	case <-t.C:
		s.stuck = fmt.Errorf("%w: a write of %d octets did not complete within %v", errFuzzWriteStuck, len(b), s.f.timeout())
		return s.stuck
	case <-ctx.Done():
		s.stuck = ctx.Err()
		return s.stuck
	}
}

// send writes one step's octets, recording it when the session records.
func (s *fuzzSession) send(ctx context.Context, st ReproStep) error {
	if s.record && s.recorded < reproMaxRecord {
		s.steps = append(s.steps, st)
		s.recorded += len(st.Raw) + len(st.Options)
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("sent " + st.text())
	}
	if st.Frame != nil && fuzzIsReject(st.Frame) || st.Frame == nil && fuzzSendsReject(st.Raw) {
		s.rejSent = true
	}
	return s.write(ctx, st.Raw)
}

// fuzzSendsReject reports whether raw carries an LCP Code-Reject or
// Protocol-Reject that a receiver would decode.
func fuzzSendsReject(raw []byte) bool {
	d := hdlc.NewDecoder(bytes.NewReader(raw))
	d.SetFCS(hdlc.FCSEither)
	d.SetMaxFrame(len(raw) + 8)
	for {
		frame, err := d.ReadFrame()
		if err != nil {
			return false
		}
		if fuzzIsReject(frame) {
			return true
		}
	}
}

// fuzzIsReject reports whether frame is an LCP Code-Reject or
// Protocol-Reject, by its Code even if the packet is malformed.
func fuzzIsReject(frame []byte) bool {
	proto, info, err := ppp.ParseHeader(frame)
	return err == nil && proto == ppp.ProtoLCP && len(info) > 0 &&
		(ppp.Code(info[0]) == ppp.CodeCodeReject || ppp.Code(info[0]) == ppp.CodeProtocolReject)
}

// reply sends an answer of ours: not recorded, since a replay answers
// afresh.
func (s *fuzzSession) reply(ctx context.Context, code ppp.Code, id uint8, data []byte) {
	frame := mutPacket(ppp.ProtoLCP, code, id, data)
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("sent " + fuzzText(frame))
	}
	_ = s.write(ctx, wireFrame(frame))
}

func (s *fuzzSession) nextID() uint8 {
	s.id++
	return s.id
}

// sendConfReq sends a new Configure-Request with our options.
func (s *fuzzSession) sendConfReq(ctx context.Context) error {
	s.confID = s.nextID()
	s.confPending, s.resend, s.ourAcked = true, false, false
	return s.resendConfReq(ctx)
}

// resendConfReq sends our Configure-Request again, same Identifier.
func (s *fuzzSession) resendConfReq(ctx context.Context) error {
	frame := mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, s.confID, s.opts)
	return s.send(ctx, ReproStep{Raw: wireFrame(frame), Frame: frame, What: "our Configure-Request"})
}

// sendEcho sends an Echo-Request, recorded: it is part of what the peer
// saw.
func (s *fuzzSession) sendEcho(ctx context.Context) error {
	s.echoID = s.nextID()
	s.echoed = false
	data := binary.BigEndian.AppendUint32(nil, s.magic)
	data = append(data, "pppssh fuzz-peer"...)
	frame := mutPacket(ppp.ProtoLCP, ppp.CodeEchoRequest, s.echoID, data)
	return s.send(ctx, ReproStep{Raw: wireFrame(frame), Frame: frame, What: "our Echo-Request (liveness check)"})
}

// handle takes one frame from the peer: it keeps it as a seed and
// answers it as a valid peer would.
func (s *fuzzSession) handle(ctx context.Context, f Frame) {
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("rcvd " + fuzzText(f.Raw))
	}
	s.heard = true
	if s.gen != nil {
		s.gen.capture(f)
	}
	if f.Proto != ppp.ProtoLCP {
		return
	}
	pkt, ok := f.Packet()
	if !ok {
		return
	}
	switch pkt.Code() {
	case ppp.CodeConfigureRequest:
		// The peer (re)negotiates: it is not, or no longer, Opened.
		s.opened = false
		if ppp.CheckOptions(pkt.Data()) != nil {
			return
		}
		rej := fuzzJudge(pkt.Data())
		if len(rej) > 0 {
			s.peerAcked = false
			s.reply(ctx, ppp.CodeConfigureReject, pkt.ID(), rej)
			return
		}
		s.peerAcked = true
		s.reply(ctx, ppp.CodeConfigureAck, pkt.ID(), pkt.Data())
	case ppp.CodeConfigureAck:
		if s.confPending && pkt.ID() == s.confID {
			s.answers++
			s.confPending = false
			s.ourAcked = bytes.Equal(pkt.Data(), s.opts)
			if !s.ourAcked {
				s.resend = true
			}
		}
	case ppp.CodeConfigureNak, ppp.CodeConfigureReject:
		if s.confPending && pkt.ID() == s.confID {
			s.answers++
			s.confPending = false
			s.adopt(pkt.Code(), pkt.Data())
			s.resend = true
		}
	case ppp.CodeTerminateRequest:
		s.answers++
		s.opened, s.peerAcked, s.ourAcked = false, false, false
		if s.bye == "" {
			s.bye = "sent an LCP Terminate-Request"
			if d := pkt.Data(); len(d) > 0 {
				s.bye += " " + string(ppp.AppendQuoted(nil, d[:min(len(d), 64)]))
			}
		}
		s.reply(ctx, ppp.CodeTerminateAck, pkt.ID(), nil)
	case ppp.CodeTerminateAck:
		s.answers++
		s.opened, s.peerAcked, s.ourAcked = false, false, false
		if s.bye == "" {
			s.bye = "sent an LCP Terminate-Ack"
		}
	case ppp.CodeCodeReject:
		s.answers++
	case ppp.CodeEchoRequest:
		if s.opened || (s.ourAcked && s.peerAcked) {
			data := binary.BigEndian.AppendUint32(nil, s.magic)
			if d := pkt.Data(); len(d) > 4 {
				data = append(data, d[4:]...)
			}
			s.reply(ctx, ppp.CodeEchoReply, pkt.ID(), data)
		}
	case ppp.CodeEchoReply:
		if pkt.ID() == s.echoID {
			s.answers++
			s.echoed = true
		}
	}
}

// fuzzJudge returns the options of the peer's Configure-Request that we
// reject: all but MRU, ACCM, Magic-Number, PFC and ACFC. We acknowledge
// any value of those (our framing copes with all of them), and ask the
// peer for no authentication.
func fuzzJudge(opts []byte) []byte {
	var rej []byte
	r := ppp.OptionReader(opts)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		switch o.Type {
		case lcp.OptMRU, lcp.OptACCM, lcp.OptMagicNumber, lcp.OptPFC, lcp.OptACFC:
		default:
			rej = ppp.AppendOption(rej, o.Type, o.Data...)
		}
	}
	return rej
}

// adopt changes our options after a Configure-Nak (take the values
// offered for options we asked for; a new magic for a Nak'd one) or a
// Configure-Reject (stop asking for them).
func (s *fuzzSession) adopt(code ppp.Code, data []byte) {
	if ppp.CheckOptions(data) != nil {
		return
	}
	var out []byte
	r := ppp.OptionReader(s.opts)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		var theirs *ppp.Option
		nr := ppp.OptionReader(data)
		for n, ok := nr.Next(); ok; n, ok = nr.Next() {
			if n.Type == o.Type {
				theirs = &n
				break
			}
		}
		switch {
		case theirs == nil:
			out = ppp.AppendOption(out, o.Type, o.Data...)
		case code == ppp.CodeConfigureReject:
		case o.Type == lcp.OptMagicNumber:
			s.magic = s.rng.Uint32() | 1
			out = ppp.AppendOptionUint32(out, o.Type, s.magic)
		case len(theirs.Data) == len(o.Data):
			out = ppp.AppendOption(out, o.Type, theirs.Data...)
		default:
			// A Nak of a value of another size: stop asking.
		}
	}
	s.opts = out
}

// next returns the next frame from the peer, waiting until deadline. On
// a line that reports the peer's exit, a peer that has ended ends the
// wait as the end of the line does (errFuzzLineEnded).
func (s *fuzzSession) next(ctx context.Context, deadline time.Time) (Frame, error) {
	r, reports := s.line.(ExitReporter)
	// Asking costs the reporter some work: not for a look without waiting.
	reports = reports && time.Until(deadline) >= 100*time.Millisecond
	for {
		until := deadline
		if reports {
			until = fuzzMinTime(deadline, time.Now().Add(250*time.Millisecond))
		}
		wctx, cancel := context.WithDeadline(ctx, until)
		f, err := s.conn.Next(wctx)
		timedOut := wctx.Err() != nil
		cancel()
		switch {
		case err == nil:
			return f, nil
		case ctx.Err() != nil:
			return f, ctx.Err()
		case !timedOut:
			return f, errFuzzLineEnded
		case reports && !time.Now().Before(until):
			if _, _, ended := r.PeerExit(); ended {
				return f, errFuzzLineEnded
			}
		}
		if !time.Now().Before(deadline) {
			return f, err
		}
	}
}

// drain handles the frames that have arrived, without waiting.
func (s *fuzzSession) drain(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		default:
		}
		f, err := s.next(ctx, time.Now())
		if err != nil {
			return
		}
		s.handle(ctx, f)
	}
}

// settle handles the peer's frames until it has been quiet for a moment,
// at most half a second.
func (s *fuzzSession) settle(ctx context.Context) {
	end := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(end) {
		f, err := s.next(ctx, fuzzMinTime(end, time.Now().Add(30*time.Millisecond)))
		if err != nil {
			return
		}
		s.handle(ctx, f)
	}
}

// echoWait is how long an Echo-Request may wait for its reply before the
// liveness check tries a Configure-Request.
func (s *fuzzSession) echoWait() time.Duration { return min(s.f.timeout(), time.Second) }

// echo sends an Echo-Request and reports whether the peer answered it.
func (s *fuzzSession) echo(ctx context.Context) (bool, error) {
	if err := s.sendEcho(ctx); err != nil {
		return false, err
	}
	end := time.Now().Add(s.echoWait())
	for !s.echoed {
		f, err := s.next(ctx, end)
		if err != nil {
			if err == errFuzzLineEnded {
				return false, err
			}
			return false, ctx.Err()
		}
		s.handle(ctx, f)
	}
	return true, nil
}

// negotiate brings LCP to Opened as a valid initiator: our
// Configure-Request, the peer's acknowledged, and an Echo-Request
// answered to prove it. answered reports whether the peer answered our
// requests at all within the timeout; err is errFuzzLineEnded when the line
// ended, or ctx's error. A peer that ends the link by the protocol
// (s.bye) answered.
func (s *fuzzSession) negotiate(ctx context.Context) (answered bool, err error) {
	if s.record && s.recorded < reproMaxRecord {
		s.steps = append(s.steps, ReproStep{Negotiate: true, Options: mutClone(s.opts)})
		s.recorded += len(s.opts)
	}
	a0 := s.answers
	s.opened, s.echoed = false, false
	if err := s.sendConfReq(ctx); err != nil {
		return false, err
	}
	start := time.Now()
	answerBy := start.Add(s.f.timeout())
	// Past the answer, the peer may take its restart timer (3 seconds
	// in pppd) to send a Configure-Request we can acknowledge.
	openBy := answerBy.Add(4 * time.Second)
	resendAt := start.Add(time.Second)
	var echoBy time.Time
	for {
		switch {
		case s.bye != "":
			return true, nil
		case s.echoed:
			s.opened = true
			return true, nil
		case s.resend:
			if err := s.sendConfReq(ctx); err != nil {
				return s.answers > a0, err
			}
			resendAt = time.Now().Add(time.Second)
		case s.ourAcked && s.peerAcked && echoBy.IsZero():
			if err := s.sendEcho(ctx); err != nil {
				return s.answers > a0, err
			}
			echoBy = time.Now().Add(s.echoWait())
		}
		now := time.Now()
		answer := answerBy
		if !s.heardAnything() {
			// Nothing from the peer yet on this line: it may still be
			// starting (a program, a daemon), not silent.
			answer = fuzzMaxTime(answer, s.opened0.Add(fuzzStartup))
		}
		if s.answers == a0 && !now.Before(answer) {
			return false, nil
		}
		if !now.Before(fuzzMaxTime(openBy, answer)) {
			return true, nil
		}
		deadline := fuzzMaxTime(openBy, answer)
		if s.answers == a0 {
			deadline = answer
		}
		if s.confPending {
			deadline = fuzzMinTime(deadline, resendAt)
		}
		if !echoBy.IsZero() {
			deadline = fuzzMinTime(deadline, echoBy)
		}
		f, err := s.next(ctx, deadline)
		switch {
		case err == errFuzzLineEnded:
			return s.answers > a0, err
		case ctx.Err() != nil:
			return s.answers > a0, ctx.Err()
		case err != nil: // a deadline
			now := time.Now()
			if s.confPending && !now.Before(resendAt) {
				if err := s.resendConfReq(ctx); err != nil {
					return s.answers > a0, err
				}
				resendAt = now.Add(time.Second)
			}
			if !echoBy.IsZero() && !now.Before(echoBy) {
				echoBy = time.Time{} // no reply: echo again if still both acknowledged
			}
			continue
		}
		peerAcked := s.peerAcked
		s.handle(ctx, f)
		if !peerAcked && s.peerAcked && !s.echoed {
			echoBy = time.Time{} // a new agreement: check it with a new Echo-Request
		}
	}
}

// heardAnything reports whether the peer has sent anything on the line, a
// frame or not.
func (s *fuzzSession) heardAnything() bool {
	if s.heard {
		return true
	}
	st := s.conn.Decoder().Stats()
	return st.Frames+st.BadFCS+st.Oversized+st.Short+st.Aborted+st.Outside > 0
}

// fuzzStartup is how long a fresh line's peer may take to say anything
// at all before its silence counts.
const fuzzStartup = 10 * time.Second

func fuzzMaxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func fuzzMinTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// fuzzVerdict is what became of the peer after a batch or a replay.
type fuzzVerdict struct {
	kind    FindingKind // PeerSurvived unless something is wrong
	message string
	// ended says how the peer ended the link by the protocol, when it
	// did and nothing is wrong: the line is done with.
	ended  string
	stderr string // the end of an exec'd peer's standard error (replays)
}

// verdict checks that the peer is alive after what was sent: it answers
// an Echo-Request if LCP was Opened and it has not renegotiated, or else
// a new Configure-Request within the timeout (negotiating to Opened
// again for the next batch). A line that ended, a process that exited or
// crashed, and a peer that answers neither are findings unless the peer
// ended the link by the protocol first.
func (s *fuzzSession) verdict(ctx context.Context) fuzzVerdict {
	if s.stuck == nil {
		s.settle(ctx)
	}
	if ctx.Err() != nil {
		return fuzzVerdict{ended: "interrupted"}
	}
	select {
	case <-s.conn.Done():
		return s.death(ctx)
	default:
	}
	if v, crashed := s.crashReport(); crashed {
		return v
	}
	if s.stuck != nil {
		return s.silence(ctx, s.stuck.Error())
	}
	echoed := s.opened
	if echoed {
		ok, err := s.echo(ctx)
		switch {
		case err == errFuzzLineEnded:
			return s.death(ctx)
		case ctx.Err() != nil:
			return fuzzVerdict{ended: "interrupted"}
		case ok:
			// Alive: a Code-Reject sent before no longer excuses silence.
			s.rejSent = false
			return fuzzVerdict{}
		}
	}
	if s.bye != "" {
		return fuzzVerdict{ended: s.endedHow()}
	}
	answered, err := s.negotiate(ctx)
	switch {
	case err == errFuzzLineEnded:
		return s.death(ctx)
	case ctx.Err() != nil:
		return fuzzVerdict{ended: "interrupted"}
	case s.stuck != nil:
		return s.silence(ctx, s.stuck.Error())
	case s.bye != "":
		return fuzzVerdict{ended: s.endedHow()}
	case answered:
		if v, crashed := s.crashReport(); crashed {
			return v
		}
		s.rejSent = false
		return fuzzVerdict{}
	}
	what := "a Configure-Request"
	if echoed {
		what = "an Echo-Request nor to a Configure-Request"
	}
	return s.silence(ctx, fmt.Sprintf("stopped answering: no reply to %s within %v, the line still open", what, s.f.timeout()))
}

// silence judges a peer that does not answer on a line still open: a
// finding, unless it ended the link by the protocol. A process that is
// still running (ExecLine, or an ExitReporter saying so) and silent is
// not excused by an LCP Code-Reject: an automaton that finished on one
// (RXJ-) is in Stopped or Closed, where it answers a Configure-Request,
// or its program exits. On a line that cannot say, it is.
func (s *fuzzSession) silence(ctx context.Context, why string) fuzzVerdict {
	if v, ok := s.exitReport(); ok {
		return v
	}
	if v, crashed := s.crashReport(); crashed {
		return v
	}
	if s.bye != "" {
		return fuzzVerdict{ended: s.endedHow()}
	}
	_, exec := s.line.(*ExecLine)
	_, reports := s.line.(ExitReporter)
	if s.rejSent && !exec && !reports {
		return fuzzVerdict{ended: "went quiet after our LCP Code-Reject or Protocol-Reject (RFC 1661 lets it end the link without a Terminate-Request)"}
	}
	return fuzzVerdict{kind: PeerSilent, message: why}
}

// exitReport asks a line that implements ExitReporter how the peer ended;
// ok is false while it runs, or when the line cannot say.
func (s *fuzzSession) exitReport() (v fuzzVerdict, ok bool) {
	r, reports := s.line.(ExitReporter)
	if !reports {
		return fuzzVerdict{}, false
	}
	how, crashed, ended := r.PeerExit()
	switch {
	case !ended:
		return fuzzVerdict{}, false
	case crashed:
		return fuzzVerdict{kind: PeerCrashed, message: how}, true
	case s.bye != "" || s.rejSent:
		return fuzzVerdict{ended: s.endedHow() + ", then " + how}, true
	}
	return fuzzVerdict{kind: PeerExited, message: how + " without ending the link (no LCP Terminate-Request)"}, true
}

// endedHow says how the peer ended the link by the protocol.
func (s *fuzzSession) endedHow() string {
	if s.bye != "" {
		return s.bye
	}
	return "ended the link after our LCP Code-Reject or Protocol-Reject (RFC 1661 lets it do so without a Terminate-Request)"
}

// death judges a line that ended: a crash (a signal, or a report of one
// on standard error) is always a finding; a process that exited or a line
// that closed is one unless the peer ended the link by the protocol.
func (s *fuzzSession) death(ctx context.Context) fuzzVerdict {
	if v, ok := s.exitReport(); ok {
		return v
	}
	el, ok := s.line.(*ExecLine)
	if !ok {
		if s.bye != "" || s.rejSent {
			return fuzzVerdict{ended: s.endedHow() + ", then closed the line"}
		}
		why := "the line closed"
		if err := s.conn.Err(); err != nil && !errors.Is(err, io.EOF) {
			why = "the line failed: " + err.Error()
		} else if s.stuck != nil {
			why = "the line failed: " + s.stuck.Error()
		}
		return fuzzVerdict{kind: LineClosed, message: why + " without the peer ending the link (no LCP Terminate-Request)"}
	}
	select {
	case <-el.Exited():
	case <-time.After(2 * time.Second):
		if v, crashed := s.crashReport(); crashed {
			return v
		}
		if s.bye != "" || s.rejSent {
			return fuzzVerdict{ended: s.endedHow() + ", then closed its standard output"}
		}
		return fuzzVerdict{kind: LineClosed, message: "closed its standard output without ending the link (no LCP Terminate-Request), and has not exited"}
	case <-ctx.Done():
		return fuzzVerdict{ended: "interrupted"}
	}
	err := el.ExitErr()
	if v, crashed := s.crashReport(); crashed {
		return v
	}
	if sig, how := fuzzSignal(err); sig != 0 {
		return fuzzVerdict{kind: PeerCrashed, message: how}
	}
	status := "exited with status 0"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		status = fmt.Sprintf("exited with status %d", ee.ExitCode())
	} else if err != nil {
		status = "exited: " + err.Error()
	}
	if s.bye != "" || s.rejSent {
		return fuzzVerdict{ended: s.endedHow() + ", then " + status}
	}
	return fuzzVerdict{kind: PeerExited, message: status + " without ending the link (no LCP Terminate-Request)"}
}

// fuzzSignal says whether a process's exit error is a crash: death by a
// signal, or the status 128+N a shell reports for its child's death by
// signal N (for the signals that crash a program). sig is 0 otherwise.
func fuzzSignal(err error) (sig syscall.Signal, how string) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, ""
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok {
		return 0, ""
	}
	if ws.Signaled() {
		sig = ws.Signal()
		how = fmt.Sprintf("killed by signal %s (%v)", fuzzSignalName(sig), sig)
		if ws.CoreDump() {
			how += ", core dumped"
		}
		return sig, how
	}
	if code := ws.ExitStatus(); code > 128 {
		switch s := syscall.Signal(code - 128); s {
		case syscall.SIGSEGV, syscall.SIGABRT, syscall.SIGBUS, syscall.SIGILL, syscall.SIGFPE, syscall.SIGSYS, syscall.SIGTRAP:
			return s, fmt.Sprintf("exited with status %d, a shell's report of its command killed by signal %s (%v)", code, fuzzSignalName(s), s)
		}
	}
	return 0, ""
}

func fuzzSignalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGSEGV: "SIGSEGV", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGILL: "SIGILL",
		syscall.SIGFPE: "SIGFPE", syscall.SIGSYS: "SIGSYS", syscall.SIGTRAP: "SIGTRAP", syscall.SIGKILL: "SIGKILL",
		syscall.SIGTERM: "SIGTERM", syscall.SIGPIPE: "SIGPIPE", syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT",
		syscall.SIGQUIT: "SIGQUIT", syscall.SIGXCPU: "SIGXCPU",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("%d", int(s))
}

// fuzzCrashMarkers are what sanitizers, the C library, shells and the Go
// runtime print on standard error when a program's memory is corrupted
// or it crashes. Those ending in a newline must start a line (a peer's
// debug log may quote what it received).
var fuzzCrashMarkers = []string{
	"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "ERROR: MemorySanitizer", "WARNING: ThreadSanitizer",
	"SUMMARY: UndefinedBehaviorSanitizer", ": runtime error: ",
	"*** stack smashing detected ***", "*** buffer overflow detected ***", "double free or corruption",
	"free(): invalid", "malloc(): corrupted", "malloc(): invalid", "Segmentation fault",
	"\npanic: ", "\nfatal error: ",
}

// crashReport looks for a crash report on the exec'd peer's standard
// error. When it finds one it waits a moment for the process to exit, to
// say which signal killed it.
func (s *fuzzSession) crashReport() (fuzzVerdict, bool) {
	el, ok := s.line.(*ExecLine)
	if !ok {
		return fuzzVerdict{}, false
	}
	stderr := el.Stderr()
	i := fuzzCrashIndex(stderr)
	if i < 0 {
		return fuzzVerdict{}, false
	}
	line := stderr[i:]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	msg := "reported on standard error: " + strings.TrimSpace(line)
	select {
	case <-el.Exited():
	case <-time.After(2 * time.Second):
	}
	if sig, how := fuzzSignal(el.ExitErr()); sig != 0 {
		msg = how + "; " + msg
	}
	return fuzzVerdict{kind: PeerCrashed, message: msg}, true
}

// fuzzCrashIndex returns where the first crash report starts in stderr
// (the start of its line), or -1.
func fuzzCrashIndex(stderr string) int {
	text := "\n" + stderr // a marker that starts a line may be on the first
	first := -1
	for _, m := range fuzzCrashMarkers {
		i := strings.Index(text, m)
		if i < 0 {
			continue
		}
		if m[0] == '\n' {
			i++
		}
		if first < 0 || i < first {
			first = i
		}
	}
	if first < 0 {
		return -1
	}
	// The newline before it in text is where its line starts in stderr.
	return strings.LastIndexByte(text[:first], '\n')
}

// stderrTail returns what to show of the exec'd peer's standard error: 4
// KiB from the start of a crash report, or else its last 4 KiB.
func (s *fuzzSession) stderrTail() string {
	el, ok := s.line.(*ExecLine)
	if !ok {
		return ""
	}
	e := el.Stderr()
	if i := fuzzCrashIndex(e); i >= 0 {
		if e = e[i:]; len(e) > 4096 {
			e = e[:4096] + "…"
		}
		return e
	}
	if len(e) > 4096 {
		e = "…" + e[len(e)-4096:]
	}
	return e
}
