// Package ncptest runs two copies of a control protocol's Handler against
// each other in memory, each behind its own ppp.Automaton and owned by the
// test as a link's control goroutine would own it, and reads the pppd
// captures the protocol packages keep in their testdata. It serves the
// tests of ipcp and ipv6cp.
package ncptest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/ppp"
)

// End is one side of a link under test: a Handler of type H behind an
// automaton, and what the handler reported through the callbacks Up, Down
// and Finish, which the test puts in the handler's Config before it makes
// H. N is the protocol's Negotiated type.
type End[H ppp.Handler, N any] struct {
	Name string
	H    H
	A    *ppp.Automaton
	// Timer is the restart timer's arming, 0 when it is stopped.
	Timer time.Duration

	Ups      []N // what Up reported
	Downs    int
	Finished int
	// Log holds the packets it sent and received, as pppd logs them
	// ("sent [IPCP ConfReq id=0x1 …]"), and the lines the test adds.
	Log []string

	errOf   func(N) error
	closing string // a Close the owner must make once the automaton returns
}

// NewEnd returns an end named name; errOf returns a Negotiated's Err.
func NewEnd[H ppp.Handler, N any](name string, errOf func(N) error) *End[H, N] {
	return &End[H, N]{Name: name, errOf: errOf}
}

// Up records n. If n carries an error, the end closes the layer with it as
// the reason once the automaton call that led here has returned, as a
// link does.
func (e *End[H, N]) Up(n N) {
	e.Ups = append(e.Ups, n)
	if err := e.errOf(n); err != nil {
		e.closing = err.Error()
	}
}

// Down counts a Down.
func (e *End[H, N]) Down() { e.Downs++ }

// Finish counts a Finished.
func (e *End[H, N]) Finish() { e.Finished++ }

// settle does what the owner does after each automaton call: the Close an
// unusable Up asked for.
func (e *End[H, N]) settle() {
	if r := e.closing; r != "" {
		e.closing = ""
		e.A.Close(r)
	}
}

// Wire joins two ends back to back. Packets are queued rather than
// delivered from inside Send, so that no automaton is entered while it is
// sending.
type Wire[H ppp.Handler, N any] struct {
	A, B *End[H, N]
	// Trace holds every packet in sending order: "A>B [IPCP ConfReq …]".
	Trace []string

	proto ppp.Protocol
	text  ppp.OptionFormatter
	queue []queued
}

type queued struct {
	toB bool
	pkt []byte
}

// Setup configures an end's automaton: Wrap, if set, puts a test peer
// around its handler, and MaxFailure is its Max-Failure (0: the default).
type Setup struct {
	Wrap       func(h ppp.Handler) ppp.Handler
	MaxFailure int
}

// NewWire gives a and b, whose H the test has made, automata for proto
// that send to each other, and returns the wire between them. text formats
// the options in traces and logs.
func NewWire[H ppp.Handler, N any](proto ppp.Protocol, text ppp.OptionFormatter, a, b *End[H, N], sa, sb Setup) *Wire[H, N] {
	w := &Wire[H, N]{A: a, B: b, proto: proto, text: text}
	for _, s := range []struct {
		e   *End[H, N]
		toB bool
		set Setup
	}{{a, true, sa}, {b, false, sb}} {
		var h ppp.Handler = s.e.H
		if s.set.Wrap != nil {
			h = s.set.Wrap(h)
		}
		e, toB := s.e, s.toB
		e.A = ppp.NewAutomaton(ppp.Config{
			Protocol:   proto,
			Handler:    h,
			Send:       func(pkt []byte) { w.send(e, toB, pkt) },
			Timer:      func(d time.Duration) { e.Timer = d },
			MaxFailure: s.set.MaxFailure,
		})
	}
	return w
}

// Text formats pkt as pppd's debug log does, after prefix.
func (w *Wire[H, N]) Text(prefix string, pkt []byte) string {
	return string(ppp.AppendPacketText([]byte(prefix), w.proto, pkt, w.text))
}

func (w *Wire[H, N]) send(from *End[H, N], toB bool, pkt []byte) {
	w.queue = append(w.queue, queued{toB, bytes.Clone(pkt)})
	tag := "A>B "
	if !toB {
		tag = "B>A "
	}
	w.Trace = append(w.Trace, w.Text(tag, pkt))
	from.Log = append(from.Log, w.Text("sent ", pkt))
}

// Deliver passes the oldest queued packet on, then lets both owners act.
// It reports whether there was one.
func (w *Wire[H, N]) Deliver() bool {
	if len(w.queue) == 0 {
		return false
	}
	q := w.queue[0]
	w.queue = w.queue[1:]
	to := w.B
	if !q.toB {
		to = w.A
	}
	to.Log = append(to.Log, w.Text("rcvd ", q.pkt))
	to.A.Input(q.pkt)
	w.A.settle()
	w.B.settle()
	return true
}

// Fire fires the armed restart timer of the first end in [A, B] for which
// armed reports true, as its owner would when the wire is quiet, and
// reports whether one fired.
func (w *Wire[H, N]) Fire(armed func(e *End[H, N]) bool) bool {
	for _, e := range []*End[H, N]{w.A, w.B} {
		if e.Timer > 0 && armed(e) {
			e.Timer = 0 // it fired; the automaton arms it again if it wants
			e.A.Timeout()
			e.settle()
			return true
		}
	}
	return false
}

// Run brings the layer up on both ends and runs it until nothing is left
// to send and no restart timer of an end that is not Opened is armed,
// firing the timers when the wire is quiet. It logs the trace when the
// test fails or runs verbosely.
func (w *Wire[H, N]) Run(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("trace:\n%s", strings.Join(w.Trace, "\n"))
		}
	})
	w.Start()
	notOpened := func(e *End[H, N]) bool { return e.A.State() != ppp.StateOpened }
	for steps := 0; w.Deliver() || w.Fire(notOpened); steps++ {
		if steps > 1000 {
			t.Fatalf("the link did not settle: A %v, B %v", w.A.A.State(), w.B.A.State())
		}
	}
}

// CheckOpened fails the test unless e's layer is Opened, came up once with
// want (compared with opts) and its handler reports no error.
func CheckOpened[H interface {
	ppp.Handler
	Err() error
}, N any](t testing.TB, e *End[H, N], want N, opts ...cmp.Option) {
	t.Helper()
	if s := e.A.State(); s != ppp.StateOpened {
		t.Errorf("%s: state %v, want Opened (automaton: %v, handler: %v)", e.Name, s, e.A.Err(), e.H.Err())
		return
	}
	if len(e.Ups) != 1 {
		t.Fatalf("%s: %d Ups, want 1", e.Name, len(e.Ups))
	}
	if diff := cmp.Diff(want, e.Ups[0], opts...); diff != "" {
		t.Errorf("%s: Negotiated (-want +got):\n%s", e.Name, diff)
	}
	if err := e.H.Err(); err != nil {
		t.Errorf("%s: Err() = %v", e.Name, err)
	}
}

// Start brings the lower layer up and opens the layer on both ends.
func (w *Wire[H, N]) Start() {
	for _, e := range []*End[H, N]{w.A, w.B} {
		e.A.Up()
		e.A.Open()
	}
}

// RunUntil delivers packets until done reports true, firing both ends'
// armed restart timers whenever the wire is quiet, and fails the test
// after 1000 steps.
func (w *Wire[H, N]) RunUntil(t testing.TB, done func() bool) {
	t.Helper()
	for steps := 0; !done(); steps++ {
		if steps > 1000 {
			t.Fatalf("no end after 1000 steps: A %v, B %v\n%s", w.A.A.State(), w.B.A.State(), strings.Join(w.Trace, "\n"))
		}
		if !w.Deliver() {
			for _, e := range []*End[H, N]{w.A, w.B} {
				w.Fire(func(x *End[H, N]) bool { return x == e })
			}
		}
	}
}

// CapturePacket is one packet of a pppd capture file, with the line pppd
// logged for it.
type CapturePacket struct {
	Line string // "sent [IPCP ConfReq id=0x1 <compress VJ 0f 01> <addr 0.0.0.0>]"
	Pkt  ppp.Packet
}

// ReadCapture reads a capture file of the protocol packages' testdata:
// pppd's "sent […]" or "rcvd […]" line, then the packet in hex on the next
// line; blank lines and lines starting with # are skipped.
func ReadCapture(t testing.TB, path string) []CapturePacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []CapturePacket
	var line string
	s := bufio.NewScanner(f)
	for s.Scan() {
		text := s.Text()
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
		case strings.HasPrefix(text, "sent ") || strings.HasPrefix(text, "rcvd "):
			line = text
		default:
			b, err := hex.DecodeString(text)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, text, err)
			}
			pkt, err := ppp.ParsePacket(b)
			if err != nil || len(pkt) != len(b) {
				t.Fatalf("%s: %q: bad packet (%v)", path, text, err)
			}
			out = append(out, CapturePacket{line, pkt})
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no packets in the capture", path)
	}
	return out
}

// Step is one thing the peer does to a Handler under test: a
// Configure-Request it sends (PeerReq, judged with CheckRequest and
// rejectIfDisagree RID), or its Configure-Nak (Nak, NakRID) or
// Configure-Reject (Rej) of our request. Only one of them is set.
type Step struct {
	PeerReq []byte
	RID     bool
	Nak     []byte
	NakRID  bool
	Rej     []byte
}

// Replay has h take each step, failing the test if h refuses a Nak or a
// Reject, then the peer's Ack of h's next request: what h's Up reports
// afterwards is what those steps negotiated.
func Replay(t testing.TB, h ppp.Handler, steps []Step) {
	t.Helper()
	for i, s := range steps {
		var err error
		switch {
		case s.PeerReq != nil:
			h.CheckRequest(nil, s.PeerReq, s.RID)
		case s.Nak != nil:
			err = h.Naked(s.Nak, s.NakRID)
		case s.Rej != nil:
			err = h.Rejected(s.Rej)
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	h.Acked(h.AppendRequest([]byte{}))
}

// OptionList splits a well-formed list of options into the octets of each.
func OptionList(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 && int(b[1]) >= 2 && int(b[1]) <= len(b) {
		out = append(out, b[:b[1]])
		b = b[b[1]:]
	}
	return out
}

// CheckReject fails the test if reply, the options of a Configure-Reject of
// the request opts, is empty, or, when opts is well formed, carries an
// option that opts does not (RFC 1661 section 5.4: a Reject repeats what it
// rejects, unmodified).
func CheckReject(t testing.TB, reply, opts []byte, wellFormed bool) {
	t.Helper()
	if len(reply) == 0 {
		t.Fatalf("empty Reject of % x", opts)
	}
	if wellFormed {
		for _, o := range OptionList(reply) {
			if !bytes.Contains(opts, o) {
				t.Fatalf("Reject carries % x, which is not in the request % x", o, opts)
			}
		}
	}
}
