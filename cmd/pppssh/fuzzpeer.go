package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pppssh/pppssh/fuzz/peer"
)

const fuzzPeerUsage = `Usage: pppssh fuzz-peer TARGET [options]

Fuzz another PPP implementation: send it batches of mutated and malformed
frames (valid negotiation traffic mutated, and the shapes of known bugs:
option lengths of 0, 1 and past the packet, duplicate options, MRUs past
1500, long Naks, EAP, CHAP and PAP lengths past the packet, bad Length
fields and FCS, stray escapes, compressed LCP headers) and check after
every batch that it still answers an LCP Echo-Request or a new
Configure-Request. A peer that crashes, exits, closes the line or stops
answering without ending the link by the protocol is a finding: what was
sent is replayed on fresh lines to find the smallest sequence that still
does it, which is written to the reproducer directory as NAME.raw (the
octets as sent) and NAME.txt (what happened, the frames, the command that
replays it).

Every line is fresh: a new process for --exec, a new connection for the
others (with --reset to restart a daemon in between). Run the peer without
authentication (pppd's noauth) so that the fuzzer reaches its Network phase.

Target (exactly one):
  --exec 'CMD'      run CMD with /bin/sh -c for every line; its standard
                    input and output are the line
  --unix PATH       connect to a unix socket for every line
  --tcp HOST:PORT   connect over TCP for every line
  --tty PATH        open a tty device, in raw mode, for every line

Options:
  --reset 'CMD'     run CMD with /bin/sh -c before every line is opened
  --duration D      fuzz for D (default 1m; with --iterations, no limit)
  --iterations N    fuzz N batches
  --batch N         frames per batch (default 32)
  --timeout D       how long the peer may take to answer a liveness check
                    (default 3s)
  --seed N          seed of the frames (default: random, printed); the same
                    seed sends the same frames to a peer that behaves the same
  --repro-dir DIR   where reproducers are written (default .)
  --keep-going      go on after a finding (until --duration or --iterations)
  --replay FILE     send the reproducer FILE (.raw, steps from its .txt) on a
                    fresh line instead of fuzzing, and say whether the peer
                    survives it
  -v                print every frame sent and received, as pppd's debug log

Examples:
  pppssh fuzz-peer --exec 'pppd notty noauth' --duration 10m
  pppssh fuzz-peer --exec 'pppssh stdio notty' --iterations 200 --seed 42
  pppssh fuzz-peer --unix /run/peer.sock --reset 'systemctl restart peerd'
  pppssh fuzz-peer --exec 'pppd notty noauth' --replay fuzz-peer-crash-42-17.raw

Exit status: 0 when nothing was found (with --replay: the peer survived), 1
when the peer crashed, exited, closed the line or stopped answering, 2 on a
bad command line, 8 when the target cannot be opened or does not speak PPP.
`

// fuzzPeerConfig is what "pppssh fuzz-peer" was told.
type fuzzPeerConfig struct {
	target     peer.Target
	replayArgs []string // the flags that replay a reproducer: the target's, --reset, --timeout
	iterations int
	duration   time.Duration
	batch      int
	timeout    time.Duration
	seed       int64
	seedSet    bool
	reproDir   string
	keepGoing  bool
	replay     string
	verbose    bool
}

// parseFuzzPeer parses fuzz-peer's command line.
func parseFuzzPeer(args []string) (fuzzPeerConfig, error) {
	var c fuzzPeerConfig
	fs := flag.NewFlagSet("fuzz-peer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var tf peerTargetFlags
	tf.add(fs)
	fs.IntVar(&c.iterations, "iterations", 0, "")
	fs.DurationVar(&c.duration, "duration", 0, "")
	fs.IntVar(&c.batch, "batch", 0, "")
	fs.DurationVar(&c.timeout, "timeout", 0, "")
	seed := fs.String("seed", "", "")
	fs.StringVar(&c.reproDir, "repro-dir", ".", "")
	fs.BoolVar(&c.keepGoing, "keep-going", false, "")
	fs.StringVar(&c.replay, "replay", "", "")
	fs.BoolVar(&c.verbose, "v", false, "")
	if err := fs.Parse(args); err != nil {
		return c, badOption("pppssh fuzz-peer: %v (run \"pppssh fuzz-peer --help\" for the usage)", err)
	}
	if fs.NArg() > 0 {
		return c, badOption("pppssh fuzz-peer: unexpected argument %q: the target is given with --exec, --unix, --tcp or --tty", fs.Arg(0))
	}
	var err error
	if c.target, c.replayArgs, err = tf.target("fuzz-peer"); err != nil {
		return c, err
	}
	switch {
	case c.iterations < 0:
		return c, badOption("pppssh fuzz-peer: --iterations %d: give a positive number of batches", c.iterations)
	case c.duration < 0:
		return c, badOption("pppssh fuzz-peer: --duration %v: give a positive duration", c.duration)
	case c.batch < 0 || c.batch > 10000:
		return c, badOption("pppssh fuzz-peer: --batch %d: give 1 to 10000 frames", c.batch)
	case c.timeout < 0:
		return c, badOption("pppssh fuzz-peer: --timeout %v: give a positive duration", c.timeout)
	}
	if c.timeout > 0 {
		c.replayArgs = append(c.replayArgs, "--timeout", c.timeout.String())
	}
	if *seed != "" {
		n, err := strconv.ParseInt(*seed, 10, 64)
		if err != nil {
			return c, badOption("pppssh fuzz-peer: --seed %q: give a whole number", *seed)
		}
		c.seed, c.seedSet = n, true
	}
	if c.replay != "" && (c.iterations > 0 || c.duration > 0 || c.keepGoing) {
		return c, badOption("pppssh fuzz-peer: --replay sends one reproducer: it takes no --iterations, --duration or --keep-going")
	}
	return c, nil
}

// replayCommand is the command line that replays a reproducer, the path
// appended.
func (c fuzzPeerConfig) replayCommand() string {
	words := []string{"pppssh", "fuzz-peer"}
	for i, a := range c.replayArgs {
		if i%2 == 1 {
			a = fuzzShellWord(a)
		}
		words = append(words, a)
	}
	return strings.Join(append(words, "--replay"), " ")
}

// fuzzShellWord quotes s for a POSIX shell when it needs it.
func fuzzShellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runFuzzPeer implements "pppssh fuzz-peer".
func runFuzzPeer(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, fuzzPeerUsage)
		return exitOK
	}
	c, err := parseFuzzPeer(args)
	if err != nil {
		return optionError(stderr, err)
	}
	if !c.seedSet {
		c.seed = rand.Int64N(1_000_000_000)
	}
	level := slog.LevelInfo
	if c.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(&lineHandler{sink: &fileSink{w: stderr}, level: level})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	f := &peer.Fuzzer{
		Target:        c.target,
		Seed:          c.seed,
		Iterations:    c.iterations,
		Duration:      c.duration,
		BatchSize:     c.batch,
		Timeout:       c.timeout,
		ReproDir:      c.reproDir,
		ReplayCommand: c.replayCommand(),
		Log:           log,
	}
	if c.keepGoing {
		f.MaxFindings = 1 << 30
	}
	if c.replay != "" {
		return replayFuzzPeer(ctx, f, c.replay, stdout, stderr)
	}

	fmt.Fprintf(stdout, "pppssh fuzz-peer: %v, seed %d (run again with --seed %d)\n", c.target, c.seed, c.seed)
	lastReport := time.Now()
	f.Progress = func(s peer.FuzzStats) {
		if time.Since(lastReport) < 5*time.Second {
			return
		}
		lastReport = time.Now()
		fmt.Fprintf(stdout, "  %s\n", fuzzStatsLine(s))
	}
	res, err := f.Run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "pppssh fuzz-peer: %v\n", err)
		printFuzzSummary(stdout, res)
		if len(res.Findings) > 0 {
			return exitFatal
		}
		return exitConnectFailed
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stdout, "interrupted")
	}
	printFuzzSummary(stdout, res)
	if len(res.Findings) > 0 {
		return exitFatal
	}
	return exitOK
}

// fuzzStatsLine is a progress line: "batch 40: 1280 execs, …".
func fuzzStatsLine(s peer.FuzzStats) string {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Execs) / s.Elapsed.Seconds()
	}
	return fmt.Sprintf("batch %d: %d execs, %s (%d ended by the peer), %s, %v, %.0f execs/s",
		s.Batches, s.Execs, fuzzCount(s.Lines, "line"), s.Ended, fuzzCount(s.Findings, "finding"), s.Elapsed.Round(time.Second), rate)
}

// fuzzCount is n and the word, in the plural unless n is 1.
func fuzzCount(n int, word string) string {
	switch {
	case n == 1:
		return "1 " + word
	case strings.HasSuffix(word, "ch"):
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// printFuzzSummary prints the counts and every finding with its
// reproducer.
func printFuzzSummary(w io.Writer, res peer.FuzzResult) {
	fmt.Fprintf(w, "Summary: %d execs in %s over %s (%d ended by the peer), %s in %v; seed %d\n",
		res.Execs, fuzzCount(res.Batches, "batch"), fuzzCount(res.Lines, "line"), res.Ended, fuzzCount(len(res.Findings), "finding"), res.Elapsed.Round(100*time.Millisecond), res.Seed)
	for i, fd := range res.Findings {
		fmt.Fprintf(w, "Finding %d: the peer %v after batch %d: %s\n", i+1, fd.Kind, fd.Batch, fd.Message)
		if fd.Repeats > 0 {
			fmt.Fprintf(w, "  the same again after %s\n", fuzzCount(fd.Repeats, "later batch"))
		}
		size := fd.Repro.Summary()
		if fd.Reproduced {
			size += fmt.Sprintf(", minimised from %d steps and %d octets in %d replays", fd.OriginalSteps, fd.OriginalOctets, fd.Replays)
		} else {
			size += "; it did not come again when replayed on a fresh line"
		}
		if fd.Path != "" {
			fmt.Fprintf(w, "  reproducer: %s (%s)\n", fd.Path, size)
			fmt.Fprintf(w, "  described:  %s.txt\n", strings.TrimSuffix(fd.Path, ".raw"))
		} else {
			fmt.Fprintf(w, "  reproducer not written (%s)\n", size)
		}
	}
}

// replayFuzzPeer implements --replay.
func replayFuzzPeer(ctx context.Context, f *peer.Fuzzer, path string, stdout, stderr io.Writer) int {
	r, err := peer.ReadRepro(path)
	if err != nil {
		fmt.Fprintf(stderr, "pppssh fuzz-peer: %v\n", err)
		return exitOptionErr
	}
	fmt.Fprintf(stdout, "pppssh fuzz-peer: replaying %s (%s) on a fresh line to %v\n", path, r.Summary(), f.Target)
	fd, err := f.Replay(ctx, r)
	if err != nil {
		fmt.Fprintf(stderr, "pppssh fuzz-peer: %v\n", err)
		return exitConnectFailed
	}
	if fd.Kind == peer.PeerSurvived {
		how := "it answered the liveness check"
		if fd.Message != "" {
			how = fd.Message
		}
		fmt.Fprintf(stdout, "the peer survived: %s\n", how)
		return exitOK
	}
	fmt.Fprintf(stdout, "the peer %v: %s\n", fd.Kind, fd.Message)
	if fd.Stderr != "" {
		lines := strings.Split(strings.TrimRight(fd.Stderr, "\n"), "\n")
		if len(lines) > 12 {
			lines = append(lines[:12], "…")
		}
		fmt.Fprintf(stdout, "its standard error:\n  %s\n", strings.Join(lines, "\n  "))
	}
	return exitFatal
}
