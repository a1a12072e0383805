package peer

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// Level is how strongly an RFC words the requirement a case checks, in the
// terms of RFC 2119.
type Level uint8

// Requirement levels.
const (
	Must   Level = iota + 1 // MUST, MUST NOT, or a rule of the state table
	Should                  // SHOULD, SHOULD NOT, or a recommended default
	May                     // MAY: reported, never a failure of the peer
)

// String returns "MUST", "SHOULD" or "MAY".
func (l Level) String() string {
	switch l {
	case Must:
		return "MUST"
	case Should:
		return "SHOULD"
	case May:
		return "MAY"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Verdict is the outcome of one case.
type Verdict uint8

// Verdicts.
const (
	// Pass: the peer did what the case checks.
	Pass Verdict = iota + 1
	// Fail: the peer broke the requirement; Result.Level says how strong
	// it is.
	Fail
	// NotApplicable: the peer does not use what the case checks (it
	// rejected the option the case needs, for one).
	NotApplicable
	// Error: the harness could not run the case (the line could not be
	// opened, the peer never spoke, the case ran out of time).
	Error
)

// String returns "pass", "FAIL", "n/a" or "error".
func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	case NotApplicable:
		return "n/a"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// A Case is one conformance check. Run drives the peer on a fresh line
// through T and ends with a verdict; see Suite for the cases pppssh ships.
type Case struct {
	Name  string // short and unique, grouped by prefix: "lcp/restart-timer"
	RFC   string // the section the requirement comes from: "RFC 1661 §4.6"
	Level Level  // the requirement's level, the level of the case's failures
	// Doc says what is sent and what the peer must do, in a sentence or
	// two ("pppssh test-peer --list" prints it).
	Doc string
	// Timeout bounds the whole case, opening the line included; zero
	// means 30 seconds. Run gets an Error verdict when it runs out.
	Timeout time.Duration
	// Run runs the case. It is called on a goroutine of its own, and ends
	// the case with one of T's verdict methods (Pass when it returns
	// without one).
	Run func(t *T)
}

// A Result is what one case found.
type Result struct {
	Case    string
	RFC     string
	Level   Level // the level of the finding: the case's, or FailAt's
	Verdict Verdict
	// Reason says in one line what the peer did ("3 Configure-Requests,
	// 1.00 s apart"), or why the case failed or could not run.
	Reason   string
	Start    time.Time
	Duration time.Duration
	// Log holds the case's frames and notes in pppd's words, one a line,
	// each behind the seconds since the case began:
	// "  0.012 rcvd [LCP ConfReq id=0x1 <magic 0x5e3f2a10>]".
	Log []string
}

// SuiteConfig describes the peer under test, so that the suite's timing
// and counter expectations match how the peer was configured. The zero
// value expects RFC 1661's defaults.
type SuiteConfig struct {
	// Restart is the peer's restart timer (RFC 1661 section 4.6; pppd's
	// lcp-restart); zero means 3 s. The suite waits in multiples of it.
	Restart time.Duration
	// MaxConfigure, MaxTerminate and MaxFailure are the peer's counters
	// (RFC 1661 section 4.6; pppd's lcp-max-configure, lcp-max-terminate,
	// lcp-max-failure); zero means the RFC's defaults 10, 2 and 5.
	MaxConfigure int
	MaxTerminate int
	MaxFailure   int
	// MRU is the small MRU the MRU cases ask the peer to respect; zero
	// means 296.
	MRU int
	// ACCM is the map the ACCM case asks the peer to escape; zero means
	// 0x000a0000 (XON and XOFF).
	ACCM uint32
	// Address is the IPv4 address the harness asks for in IPCP. Unset, it
	// asks for 0.0.0.0 and takes the address the peer offers.
	Address netip.Addr
	// PeerAddress is given to a peer that asks for an address (0.0.0.0 in
	// its IP-Address option); unset means 192.0.2.1.
	PeerAddress netip.Addr
	// Start is how long the peer may take to send its first frame on a new
	// line (a process starting, a daemon restarting); zero means 10 s.
	Start time.Duration
}

// withDefaults fills in the zero fields.
func (c SuiteConfig) withDefaults() SuiteConfig {
	if c.Restart <= 0 {
		c.Restart = ppp.DefaultRestartInterval
	}
	if c.MaxConfigure <= 0 {
		c.MaxConfigure = ppp.DefaultMaxConfigure
	}
	if c.MaxTerminate <= 0 {
		c.MaxTerminate = ppp.DefaultMaxTerminate
	}
	if c.MaxFailure <= 0 {
		c.MaxFailure = ppp.DefaultMaxFailure
	}
	if c.MRU <= 0 {
		c.MRU = 296
	}
	if c.ACCM == 0 {
		c.ACCM = 0x000a0000
	}
	if !c.PeerAddress.IsValid() {
		c.PeerAddress = netip.MustParseAddr("192.0.2.1")
	}
	if c.Start <= 0 {
		c.Start = 10 * time.Second
	}
	return c
}

// RunOptions configures Run.
type RunOptions struct {
	// Parallel is how many cases run at once, each on its own line; zero
	// or one runs them one after the other. Use it only with a target
	// that can open several independent lines at once (a command, our
	// own link), never with one peer behind a single line.
	Parallel int
	// Done, if set, is called with each result as its case ends (in the
	// order the cases end, one call at a time).
	Done func(Result)
}

// defaultCaseTimeout bounds a case whose Timeout is zero.
const defaultCaseTimeout = 30 * time.Second

// Run runs cases against target, each on a fresh line from target.Open
// that it closes afterwards, and reports the results in the order of
// cases. Cancelling ctx ends the running cases with the Error verdict and
// the rest without running them.
func Run(ctx context.Context, target Target, cases []Case, opts RunOptions) Report {
	rep := Report{Target: target.String(), Start: time.Now(), Results: make([]Result, len(cases))}
	workers := max(opts.Parallel, 1)
	next := make(chan int)
	var wg sync.WaitGroup
	var doneMu sync.Mutex
	for range min(workers, len(cases)) {
		wg.Go(func() {
			for i := range next {
				r := runCase(ctx, target, cases[i])
				rep.Results[i] = r
				if opts.Done != nil {
					doneMu.Lock()
					opts.Done(r)
					doneMu.Unlock()
				}
			}
		})
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	rep.Duration = time.Since(rep.Start)
	return rep
}

// runCase runs one case on a fresh line.
func runCase(ctx context.Context, target Target, c Case) Result {
	res := Result{Case: c.Name, RFC: c.RFC, Level: c.Level, Start: time.Now()}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = defaultCaseTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := &caseLog{start: res.Start}
	finish := func(v Verdict, reason string) Result {
		res.Verdict, res.Reason = v, reason
		res.Duration = time.Since(res.Start)
		res.Log = log.lines()
		return res
	}
	if ctx.Err() != nil {
		return finish(Error, "not run: "+ctx.Err().Error())
	}
	line, err := target.Open(cctx)
	if err != nil {
		return finish(Error, "opening a line to the peer: "+err.Error())
	}
	tap := newRawTap(line)
	conn := NewConn(tap, ConnConfig{Log: slog.New(log)})
	t := &T{ctx: cctx, conn: conn, tap: tap, log: log, level: c.Level}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				t.decide(Error, c.Level, fmt.Sprintf("the case panicked: %v", p))
			}
		}()
		if c.Run != nil {
			c.Run(t)
		}
	}()
	select {
	case <-done:
	case <-cctx.Done():
		// Every wait of a case ends with its context; give it a moment
		// to notice, and close the line under it if it does not.
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			conn.Close()
			<-done
		}
	}
	conn.Close()
	v, level, reason, decided := t.verdict()
	switch {
	case cctx.Err() != nil && (!decided || v == Fail || v == Error):
		why := fmt.Sprintf("the case did not finish within %v", timeout)
		if ctx.Err() != nil {
			why = "interrupted: " + ctx.Err().Error()
		}
		if reason != "" {
			why += " (" + reason + ")"
		}
		v, level, reason = Error, c.Level, why
	case !decided:
		v, level = Pass, c.Level
	}
	if el, ok := line.(*ExecLine); ok && (v == Fail || v == Error) {
		if s := strings.TrimSpace(el.Stderr()); s != "" {
			log.add("the peer's standard error:\n" + s)
		}
		if err := el.ExitErr(); err != nil {
			log.add("the peer exited: " + err.Error())
		}
	}
	res.Level = level
	return finish(v, reason)
}

// T is a case's handle on its line: it sends to and expects from the peer,
// logs, and ends the case with a verdict. Its methods must be called from
// the goroutine that runs the case; the verdict methods end that goroutine
// with runtime.Goexit, as testing.T's FailNow does.
type T struct {
	ctx   context.Context
	conn  *Conn
	tap   *rawTap
	log   *caseLog
	level Level

	mu       sync.Mutex
	decided  bool
	result   Verdict
	resLevel Level
	reason   string

	nextID uint8   // identifiers of the packets the harness sends on its own
	stash  []Frame // frames put back by unread, returned first
	// requested holds, per protocol, the Identifiers of every
	// Configure-Request the harness sent, well-formed or not.
	requested map[ppp.Protocol]*[256]bool
}

// Context returns the case's context, which ends when the case runs out of
// time.
func (t *T) Context() context.Context { return t.ctx }

// Conn returns the case's line to the peer.
func (t *T) Conn() *Conn { return t.conn }

// Logf adds a note to the case's log, between its frames.
func (t *T) Logf(format string, args ...any) {
	t.log.add("note: " + fmt.Sprintf(format, args...))
}

// Pass ends the case: the peer did what it checks. The reason says what
// was seen.
func (t *T) Pass(format string, args ...any) { t.end(Pass, t.level, format, args...) }

// Fail ends the case: the peer broke the case's requirement, at the case's
// level.
func (t *T) Fail(format string, args ...any) { t.end(Fail, t.level, format, args...) }

// FailAt ends the case like Fail, with a finding of another level: a
// departure from a SHOULD within a MUST case (a counter other than the
// RFC's default, say), or a MUST broken on the way in a SHOULD case.
func (t *T) FailAt(level Level, format string, args ...any) { t.end(Fail, level, format, args...) }

// NotApplicable ends the case: the peer does not use what it checks.
func (t *T) NotApplicable(format string, args ...any) {
	t.end(NotApplicable, t.level, format, args...)
}

// Abort ends the case with the Error verdict: the harness could not run it.
func (t *T) Abort(format string, args ...any) { t.end(Error, t.level, format, args...) }

func (t *T) end(v Verdict, level Level, format string, args ...any) {
	t.decide(v, level, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// decide records the first verdict.
func (t *T) decide(v Verdict, level Level, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.decided {
		return
	}
	t.decided, t.result, t.resLevel, t.reason = true, v, level, oneLine(reason)
}

func (t *T) verdict() (Verdict, Level, string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.result, t.resLevel, t.reason, t.decided
}

// oneLine joins the lines of s.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Send sends a control packet of proto with code, identifier and data,
// in a frame with the full header, the default ACCM and FCS-16. A failed
// write ends the case with Error.
func (t *T) Send(proto ppp.Protocol, code ppp.Code, id uint8, data []byte) {
	t.sendPacket(proto, ppp.AppendPacket(nil, code, id, data))
}

// sendPacket sends a packet built by the caller (which may be malformed on
// purpose).
func (t *T) sendPacket(proto ppp.Protocol, pkt []byte) {
	if len(pkt) >= 2 && ppp.Code(pkt[0]) == ppp.CodeConfigureRequest {
		t.noteRequest(proto, pkt[1])
	}
	if err := t.conn.Send(proto, pkt); err != nil {
		t.lineFailed(err)
	}
}

// noteRequest records that the harness sent a Configure-Request of proto
// with identifier id.
func (t *T) noteRequest(proto ppp.Protocol, id uint8) {
	if t.requested == nil {
		t.requested = map[ppp.Protocol]*[256]bool{}
	}
	if t.requested[proto] == nil {
		t.requested[proto] = new([256]bool)
	}
	t.requested[proto][id] = true
}

// wasRequested reports whether the harness sent a Configure-Request of
// proto with identifier id.
func (t *T) wasRequested(proto ppp.Protocol, id uint8) bool {
	r := t.requested[proto]
	return r != nil && r[id]
}

// sendRaw writes octets to the line as they are.
func (t *T) sendRaw(b []byte) {
	if err := t.conn.SendRaw(b); err != nil {
		t.lineFailed(err)
	}
}

// lineFailed ends the case when the line cannot be written: an Error,
// unless the peer had closed it, which the case's caller reports.
func (t *T) lineFailed(err error) {
	t.Abort("%v", err)
}

// Expect waits up to within for a frame for which match is true and
// returns it, passing over the others. ok is false when none came in time
// or the line ended (Closed tells).
func (t *T) Expect(within time.Duration, match func(Frame) bool) (f Frame, ok bool) {
	f, _, ok = t.until(within, match)
	return f, ok
}

// until is Expect that also returns the frames passed over on the way.
func (t *T) until(within time.Duration, match func(Frame) bool) (hit Frame, before []Frame, ok bool) {
	ctx, cancel := context.WithTimeout(t.ctx, within)
	defer cancel()
	for {
		f, err := t.next(ctx)
		if err != nil {
			return Frame{}, before, false
		}
		if match(f) {
			return f, before, true
		}
		before = append(before, f)
	}
}

// collect returns every frame that arrives within d, or until the line
// ends.
func (t *T) collect(d time.Duration) []Frame {
	_, fs, _ := t.until(d, func(Frame) bool { return false })
	return fs
}

// Closed reports whether the line has ended: the peer closed it (a
// command that exited, a socket the far end closed).
func (t *T) Closed() bool {
	select {
	case <-t.conn.Done():
		return true
	default:
		return false
	}
}

// Raw returns every octet received on the line so far, as it arrived.
func (t *T) Raw() []byte { return t.tap.received() }

// id returns a fresh identifier for a packet the harness sends on its own
// (Echo-Requests, unknown codes), distinct from the last few.
func (t *T) id() uint8 {
	t.nextID += 0x11
	if t.nextID == 0 {
		t.nextID = 0x11
	}
	return t.nextID
}

// caseLog is the slog handler the case's Conn logs its frames to, and the
// keeper of the case's notes.
type caseLog struct {
	start time.Time
	mu    sync.Mutex
	buf   []string
}

// maxLogLines bounds a case's log.
const maxLogLines = 2000

func (l *caseLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case len(l.buf) < maxLogLines:
		l.buf = append(l.buf, fmt.Sprintf("%7.3f %s", time.Since(l.start).Seconds(), s))
	case len(l.buf) == maxLogLines:
		l.buf = append(l.buf, "        (log truncated)")
	}
}

func (l *caseLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.buf...)
}

func (l *caseLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *caseLog) Handle(_ context.Context, r slog.Record) error {
	l.add(r.Message)
	return nil
}

func (l *caseLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *caseLog) WithGroup(string) slog.Handler      { return l }
