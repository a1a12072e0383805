package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// A Fuzzer sends mutated and malformed frames to a PPP peer and checks
// after every batch that the peer is still alive; the engine of "pppssh
// fuzz-peer".
//
// A batch is BatchSize frames (the executions) on a line where LCP has
// been negotiated to Opened when the peer allows it, so that the peer
// also parses what it only takes in the Network phase (IPCP, IPV6CP,
// CCP) and the authentication protocols. The frames are valid traffic of
// a valid initiator and of the peer itself, frames in the shapes of known
// bug classes (option lengths of 0, 1 and past the packet, duplicate
// options, extreme MRUs and packets beyond 1500 octets, long Naks, EAP,
// CHAP and PAP lengths past the packet, bad Length fields, unknown codes
// and protocols, compressed and malformed headers, bad FCS, stray
// escapes), and mutations of both (bit flips, interesting values,
// insertions, deletions, truncation, duplicated options, splices).
//
// After the batch the peer must answer an Echo-Request or, if it left the
// Opened state, a new Configure-Request within Timeout. A peer that
// crashes (killed by a signal, a sanitizer or Go panic report on its
// standard error, or as an ExitReporter line says), exits, closes the line
// or stops answering is a Finding, unless it first ended the link by the
// protocol (an LCP Terminate-Request or -Ack; or, after an LCP Code-Reject
// or Protocol-Reject, by exiting or closing the line, as RFC 1661 allows):
// then the fuzzer opens a fresh line and goes on. For each finding it
// replays what it sent on fresh lines to find the smallest sequence that
// still does it (delta debugging over the frames, then within each frame)
// and writes it to ReproDir.
//
// The frames depend only on Seed, the batch number and the frames the peer
// sent (which the fuzzer mutates too): with the same seed, a peer that
// behaves the same gets the same frames.
type Fuzzer struct {
	// Target opens the lines to the peer. Each line must reach a peer in
	// its initial state (see Target).
	Target Target
	// Seed seeds the frames; the same seed sends the same frames.
	Seed int64
	// Iterations is the number of batches to run; zero means no limit
	// but Duration.
	Iterations int
	// Duration bounds the run; zero means no limit but Iterations, and
	// one minute when both are zero. The batch under way is finished.
	Duration time.Duration
	// BatchSize is the number of frames per batch; zero means 32.
	BatchSize int
	// Timeout is how long the peer may take to answer a liveness check,
	// and a write to the line may take; zero means 3 seconds.
	Timeout time.Duration
	// MaxFindings ends the run after that many findings; zero means 1.
	MaxFindings int
	// MinimizeRuns and MinimizeTime bound the replays that minimise one
	// finding; zero means 200 replays and 2 minutes.
	MinimizeRuns int
	MinimizeTime time.Duration
	// ReproDir is where reproducers are written (see Finding.WriteFiles);
	// empty means they are not written.
	ReproDir string
	// ReplayCommand is the command line that replays a reproducer when
	// its path is appended ("pppssh fuzz-peer --exec 'pppd notty'
	// --replay"), for the reproducer's description.
	ReplayCommand string
	// Log receives the fuzzer's findings and their minimisation at info
	// level and, at debug level, every frame sent and received as pppd's
	// debug log shows them, the replays, and the links the peer ended.
	// Nil logs nothing.
	Log *slog.Logger
	// Progress, if set, is called after every batch with the counts so
	// far.
	Progress func(FuzzStats)
}

// FuzzStats counts what a Fuzzer did.
type FuzzStats struct {
	Batches  int           // batches run, each ended by a liveness check
	Execs    int           // fuzz frames sent
	Lines    int           // lines opened (fresh peers)
	Ended    int           // links the peer ended by the protocol
	Findings int           // findings so far, each failure counted once
	Elapsed  time.Duration // since Run began
}

// FuzzResult is what a Fuzzer's run did and found.
type FuzzResult struct {
	Seed int64 // the seed the run used
	FuzzStats
	Findings []Finding
}

// An ExitReporter is a line to a peer whose process the harness can watch
// without running it itself (a daemon in a VM or behind a socket): the
// Fuzzer asks it how the peer ended when the peer goes quiet or the line
// closes, to tell a crash from silence. An ExecLine needs none: the
// Fuzzer watches the process it started.
type ExitReporter interface {
	// PeerExit reports whether the peer's process on this line has ended;
	// if so, how ("exited with status 127 after \"Fatal signal 11\"") and
	// whether that was a crash. It is called from the Fuzzer's goroutine,
	// also while the line is open.
	PeerExit() (how string, crashed, ended bool)
}

// A FindingKind says what went wrong with the peer.
type FindingKind uint8

// The kinds of findings; PeerSurvived is none.
const (
	PeerSurvived FindingKind = iota // the peer is alive (Replay)
	PeerCrashed                     // killed by a signal, or a crash report on its standard error
	PeerExited                      // the process exited without ending the link by the protocol
	LineClosed                      // the line closed without the peer ending the link
	PeerSilent                      // the peer stopped answering, or stopped reading the line
)

// String returns what happened to the peer ("crashed").
func (k FindingKind) String() string {
	switch k {
	case PeerSurvived:
		return "survived"
	case PeerCrashed:
		return "crashed"
	case PeerExited:
		return "exited"
	case LineClosed:
		return "closed the line"
	case PeerSilent:
		return "stopped answering"
	}
	return fmt.Sprintf("FindingKind(%d)", uint8(k))
}

// word is the kind in a file name.
func (k FindingKind) word() string {
	switch k {
	case PeerCrashed:
		return "crash"
	case PeerExited:
		return "exit"
	case LineClosed:
		return "closed"
	case PeerSilent:
		return "silent"
	}
	return "none"
}

// A Finding is something wrong with the peer, and what reproduces it.
type Finding struct {
	Kind    FindingKind
	Message string // what happened: "killed by signal SIGSEGV (segmentation fault)"
	Seed    int64  // the run's seed
	Batch   int    // the batch after which it was found, from 1
	Stderr  string // an exec'd peer's standard error: 4 KiB from its crash report, or its last 4 KiB
	// Repro is the minimised reproducer; Reproduced says whether
	// replaying it on a fresh line brought the same kind of finding.
	Repro      Repro
	Reproduced bool
	// OriginalSteps and OriginalOctets are the size of what was sent on
	// the line before minimisation, Replays the replays it took.
	OriginalSteps  int
	OriginalOctets int
	Replays        int
	// Path is the reproducer's .raw file, when one was written.
	Path string
	// Repeats counts the later batches after which the peer failed in the
	// same way (the same Kind and Message); they are not minimised again.
	Repeats int
}

func (f *Fuzzer) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return 3 * time.Second
}

func (f *Fuzzer) logger() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.New(slog.DiscardHandler)
}

// fuzzRand returns the random source for one purpose of a run: a batch,
// a line's options, a replay.
func fuzzRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// Run fuzzes the peer until Iterations batches have run, Duration has
// passed, MaxFindings findings were made or ctx ends, and returns what it
// did. Each finding is minimised and, with ReproDir set, written there; a
// failure like one found before (the same Kind and Message) is counted in
// that finding's Repeats.
// It returns an error, with the result so far, when a line cannot be
// opened or the peer does not answer on a fresh line: the target is not
// a working PPP peer.
func (f *Fuzzer) Run(ctx context.Context) (FuzzResult, error) {
	if f.Target == nil {
		return FuzzResult{}, errors.New("peer: Fuzzer.Target is not set")
	}
	res := FuzzResult{Seed: f.Seed}
	start := time.Now()
	batchSize := f.BatchSize
	if batchSize <= 0 {
		batchSize = 32
	}
	maxFindings := f.MaxFindings
	if maxFindings <= 0 {
		maxFindings = 1
	}
	duration := f.Duration
	if duration <= 0 && f.Iterations <= 0 {
		duration = time.Minute
	}
	log := f.logger()
	gen := newMutGen()
	seen := map[string]int{} // a finding's kind and message: its index in res.Findings, from 1
	var s *fuzzSession
	defer func() {
		if s != nil {
			s.close()
		}
	}()
	for batch := 1; ; batch++ {
		res.Elapsed = time.Since(start)
		if f.Iterations > 0 && batch > f.Iterations || duration > 0 && res.Elapsed >= duration || ctx.Err() != nil {
			break
		}
		if s == nil {
			var err error
			s, err = f.openFresh(ctx, res.Lines, gen)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return res, err
			}
			res.Lines++
		}
		gen.rng = fuzzRand(f.Seed, uint64(batch))
		gen.magic = s.magic
		batchStart := len(s.steps)
		for range batchSize {
			u := gen.unit()
			err := s.send(ctx, ReproStep{Raw: u.raw, Frame: u.frame, What: u.what})
			if err != nil {
				break
			}
			res.Execs++
			s.drain(ctx)
		}
		v := s.verdict(ctx)
		if ctx.Err() != nil {
			break
		}
		res.Batches++
		switch {
		case v.kind != PeerSurvived && seen[v.kind.String()+v.message] > 0:
			i := seen[v.kind.String()+v.message] - 1
			res.Findings[i].Repeats++
			log.Info(fmt.Sprintf("the peer %v again after batch %d, as in finding %d: %s", v.kind, batch, i+1, v.message))
			s.close()
			s = nil
		case v.kind != PeerSurvived:
			fd := f.finding(ctx, s, batchStart, batch, v)
			s = nil
			res.Findings = append(res.Findings, fd)
			res.FuzzStats.Findings++
			seen[v.kind.String()+v.message] = len(res.Findings)
		case v.ended != "":
			log.Debug("the peer ended the link; opening a fresh line", "batch", batch, "how", v.ended)
			res.Ended++
			s.close()
			s = nil
		case s.recorded > reproMaxRecord/4:
			s.close()
			s = nil
		}
		res.Elapsed = time.Since(start)
		if f.Progress != nil {
			f.Progress(res.FuzzStats)
		}
		if len(res.Findings) >= maxFindings {
			break
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// openFresh opens the n-th line of a run and negotiates LCP on it. A peer
// that does not answer at all is given a second line before the run
// gives up on it.
func (f *Fuzzer) openFresh(ctx context.Context, n int, gen *mutGen) (*fuzzSession, error) {
	var lastErr error
	for attempt := range 2 {
		s, err := f.openSession(ctx, fuzzRand(f.Seed, 1<<32|uint64(n)<<1|uint64(attempt)), gen, true)
		if err != nil {
			return nil, err
		}
		answered, err := s.negotiate(ctx)
		if err == nil && answered {
			if !s.opened && s.bye == "" {
				level := slog.LevelDebug
				if n == 0 {
					level = slog.LevelInfo
				}
				f.logger().Log(ctx, level, "LCP did not reach Opened on a fresh line; fuzzing in the Establish phase", "line", n+1)
			}
			return s, nil
		}
		why := fmt.Sprintf("no answer to our LCP Configure-Request within %v", f.timeout())
		switch {
		case err == errFuzzLineEnded:
			why = "the line ended before the peer answered"
		case s.stuck != nil:
			why = s.stuck.Error()
		}
		if v, crashed := s.crashReport(); crashed {
			why += "; it " + v.message
		}
		if tail := strings.TrimSpace(s.stderrTail()); tail != "" {
			why += "; its standard error: " + tail
		}
		if g := s.conn.Decoder().Garbage(); len(g) > 0 {
			why += fmt.Sprintf("; it sent %q", g[:min(len(g), 200)])
		}
		s.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = fmt.Errorf("peer: %v does not speak PPP on a fresh line: %s (check the command or address, and that the peer runs without authentication)", f.Target, why)
	}
	return nil, lastErr
}

// finding minimises what killed the peer on s, writes the reproducer and
// returns the Finding. It closes s.
func (f *Fuzzer) finding(ctx context.Context, s *fuzzSession, batchStart, batch int, v fuzzVerdict) Finding {
	log := f.logger()
	fd := Finding{Kind: v.kind, Message: v.message, Seed: f.Seed, Batch: batch, Stderr: s.stderrTail()}
	record := s.steps
	s.close()
	fd.OriginalSteps = len(record)
	fd.OriginalOctets = len(Repro{Steps: record}.Bytes())
	log.Info(fmt.Sprintf("the peer %v after batch %d: %s; minimising what was sent, replaying it on fresh lines", v.kind, batch, v.message))

	// The batch alone, after the last negotiation before it, is the
	// first candidate; the whole line's record the second.
	var last []ReproStep
	for i := min(batchStart, len(record)) - 1; i >= 0; i-- {
		if record[i].Negotiate {
			last = append(last, record[i])
			break
		}
	}
	last = append(last, record[min(batchStart, len(record)):]...)

	runs := f.MinimizeRuns
	if runs <= 0 {
		runs = 200
	}
	limit := f.MinimizeTime
	if limit <= 0 {
		limit = 2 * time.Minute
	}
	m := &reproMinimizer{f: f, kind: v.kind, runs: runs, deadline: time.Now().Add(limit)}
	switch {
	case m.test(ctx, last):
		fd.Repro, fd.Reproduced = Repro{Steps: last}, true
	case len(last) < len(record) && m.test(ctx, record):
		fd.Repro, fd.Reproduced = Repro{Steps: record}, true
	default:
		fd.Repro = Repro{Steps: last}
	}
	if fd.Reproduced {
		steps := m.ddmin(ctx, fd.Repro.Steps)
		steps = m.shrinkFrames(ctx, steps)
		fd.Repro = Repro{Steps: steps}
		log.Info("minimised the reproducer", "size", fd.Repro.Summary(), "replays", m.replays)
	} else {
		log.Info("the finding did not come again on a fresh line; keeping the batch unminimised", "replays", m.replays)
	}
	if m.err != nil {
		log.Info("minimisation stopped: a fresh line could not be opened", "err", m.err)
	}
	fd.Replays = m.replays
	if f.ReproDir != "" {
		name := fmt.Sprintf("fuzz-peer-%s-%d-%d", v.kind.word(), f.Seed, batch)
		path, err := fd.WriteFiles(f.ReproDir, name, f.Target.String(), f.ReplayCommand)
		if err != nil {
			log.Error("could not write the reproducer", "err", err)
		} else {
			fd.Path = path
			log.Info("reproducer written", "path", path)
		}
	}
	return fd
}

// Replay sends r to the peer on a fresh line and reports what became of
// the peer: a Finding whose Kind is PeerSurvived when it is alive and
// well, with Message saying how it ended the link if it did. It returns
// an error when the line cannot be opened.
func (f *Fuzzer) Replay(ctx context.Context, r Repro) (Finding, error) {
	if f.Target == nil {
		return Finding{}, errors.New("peer: Fuzzer.Target is not set")
	}
	v, err := f.replay(ctx, r.Steps)
	if err != nil {
		return Finding{}, err
	}
	fd := Finding{Kind: v.kind, Message: v.message, Seed: f.Seed, Stderr: v.stderr, Repro: r, Reproduced: v.kind != PeerSurvived}
	if v.kind == PeerSurvived && v.ended != "" {
		fd.Message = "it " + v.ended
	}
	return fd, nil
}
