package peer

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
)

// fuzzTestLog is a logger for a Fuzzer under test: its info lines go to the
// test log (seen with -v or on failure).
func fuzzTestLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(fuzzTestWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type fuzzTestWriter struct{ t *testing.T }

func (w fuzzTestWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestFuzzOurLink fuzzes our own link, in process: it must survive every
// batch. The links it ended, it ended by the protocol.
func TestFuzzOurLink(t *testing.T) {
	t.Parallel()
	lt := newLinkTarget(t, link.Config{})
	f := &Fuzzer{Target: lt, Seed: 1, Iterations: 40, Timeout: 2 * time.Second, Log: fuzzTestLog(t)}
	res, err := f.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range res.Findings {
		t.Errorf("finding against our link: the peer %v: %s after batch %d; reproducer %s", fd.Kind, fd.Message, fd.Batch, fd.Repro.Summary())
	}
	if res.Batches != 40 || res.Execs < 20*32 {
		t.Errorf("ran %d batches and %d execs, want 40 batches and most of their %d frames sent", res.Batches, res.Execs, 40*32)
	}
	t.Logf("our link: %d execs in %d batches over %d lines (%d ended by the peer) in %v", res.Execs, res.Batches, res.Lines, res.Ended, res.Elapsed.Round(time.Millisecond))
}

// TestFuzzFindsCrash fuzzes the fragile peer, which dies of SIGABRT on an
// LCP option with a bad length: the fuzzer must find it, minimise what it
// sent to that one frame, write the reproducer, and the reproducer must
// kill a fresh fragile peer again while our link survives it. A second
// run with the same seed finds the same thing after the same batch.
func TestFuzzFindsCrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := &Fuzzer{Target: fragileTarget(t, "crash"), Seed: 7, Iterations: 60, ReproDir: dir, ReplayCommand: "pppssh fuzz-peer --exec fragile --replay", Log: fuzzTestLog(t)}
	res, err := f.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("%d findings in %d batches, want 1", len(res.Findings), res.Batches)
	}
	fd := res.Findings[0]
	t.Logf("found after batch %d (%d execs): the peer %v: %s; minimised from %d steps (%d octets) to %s in %d replays",
		fd.Batch, res.Execs, fd.Kind, fd.Message, fd.OriginalSteps, fd.OriginalOctets, fd.Repro.Summary(), fd.Replays)
	if fd.Kind != PeerCrashed || !strings.Contains(fd.Message, "SIGABRT") {
		t.Errorf("finding: the peer %v: %s; want a crash by SIGABRT", fd.Kind, fd.Message)
	}
	if !strings.Contains(fd.Stderr, "slice bounds out of range") && !strings.Contains(fd.Stderr, "index out of range") {
		t.Errorf("the finding's standard error lacks the Go panic:\n%s", fd.Stderr)
	}
	fuzzCheckOneFrame(t, fd)

	// The files: the .raw is the octets, the .txt says what and how.
	raw, err := os.ReadFile(fd.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, fd.Repro.Bytes()) {
		t.Errorf(".raw holds % x, want % x", raw, fd.Repro.Bytes())
	}
	txt, err := os.ReadFile(strings.TrimSuffix(fd.Path, ".raw") + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Finding:  the peer crashed: killed by signal SIGABRT", "Found:    seed 7, batch", "pppssh fuzz-peer --exec fragile --replay " + fd.Path, "1. send octets 0 to", "[LCP ConfReq id="} {
		if !strings.Contains(string(txt), want) {
			t.Errorf("the .txt lacks %q:\n%s", want, txt)
		}
	}
	t.Logf("%s:\n%s", filepath.Base(fd.Path), txt)

	// Replay: a fresh fragile peer dies again; our link survives it.
	r, err := ReadRepro(fd.Path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Replay(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != PeerCrashed {
		t.Errorf("replay against the fragile peer: it %v (%s), want it crashed", got.Kind, got.Message)
	}
	ours := &Fuzzer{Target: newLinkTarget(t, link.Config{}), Timeout: 2 * time.Second}
	if got, err := ours.Replay(t.Context(), r); err != nil || got.Kind != PeerSurvived {
		t.Errorf("replay against our link: %v, %v (%s); want it survived", err, got.Kind, got.Message)
	}

	// The same seed finds it after the same batch. (How many frames of
	// that batch were sent before the writes failed depends on timing.)
	again := &Fuzzer{Target: fragileTarget(t, "crash"), Seed: 7, Iterations: fd.Batch, MinimizeRuns: 1}
	res2, err := again.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Findings) != 1 || res2.Findings[0].Batch != fd.Batch {
		t.Errorf("second run with seed 7: %d findings in %d batches, want the one after batch %d", len(res2.Findings), res2.Batches, fd.Batch)
	}
}

// fuzzCheckOneFrame checks a minimised reproducer of the fragile peer's bug:
// one LCP Configure-Request in plain framing, without a negotiation (the
// fragile peer parses a request in any state), whose options are short.
func fuzzCheckOneFrame(t *testing.T, fd Finding) {
	t.Helper()
	if !fd.Reproduced {
		t.Fatalf("the finding did not reproduce on a fresh line")
	}
	frames, negs := fd.Repro.Frames()
	if frames != 1 || negs != 0 {
		t.Fatalf("minimised reproducer: %s, want one frame and no negotiation:\n%s", fd.Repro.Summary(), fuzzDescribe(fd.Repro))
	}
	st := fd.Repro.Steps[0]
	if st.Frame == nil || len(st.Frame) > 12 || len(st.Raw) > 32 {
		t.Errorf("minimised frame: %s (% x), want a frame of 12 octets at most", st.text(), st.Raw)
	}
	if proto, info, err := ppp.ParseHeader(st.Frame); err != nil || proto != ppp.ProtoLCP || len(info) < 1 || ppp.Code(info[0]) != ppp.CodeConfigureRequest {
		t.Errorf("minimised frame: %s, want an LCP Configure-Request", st.text())
	}
}

func fuzzDescribe(r Repro) string {
	var b strings.Builder
	for _, s := range r.Steps {
		b.WriteString("  " + s.text() + "\n")
	}
	return b.String()
}

// TestFuzzFindsSilence fuzzes the fragile peer in the mode where the bad
// option makes it stop answering: a finding of silence, minimised to one
// frame within a small budget.
func TestFuzzFindsSilence(t *testing.T) {
	t.Parallel()
	f := &Fuzzer{Target: fragileTarget(t, "silent"), Seed: 7, Iterations: 60, Timeout: 1500 * time.Millisecond, MinimizeRuns: 16, Log: fuzzTestLog(t)}
	res, err := f.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("%d findings in %d batches, want 1", len(res.Findings), res.Batches)
	}
	fd := res.Findings[0]
	t.Logf("found after batch %d: the peer %v: %s; minimised to %s in %d replays", fd.Batch, fd.Kind, fd.Message, fd.Repro.Summary(), fd.Replays)
	if fd.Kind != PeerSilent {
		t.Errorf("finding: the peer %v: %s; want it stopped answering", fd.Kind, fd.Message)
	}
	if frames, negs := fd.Repro.Frames(); !fd.Reproduced || frames != 1 || negs != 0 {
		t.Errorf("minimised reproducer: %s (reproduced %v), want one frame:\n%s", fd.Repro.Summary(), fd.Reproduced, fuzzDescribe(fd.Repro))
	}
}

// TestFuzzTargetFails: a target that is no PPP peer is an error of the
// run, not a finding, and says what the far end printed.
func TestFuzzTargetFails(t *testing.T) {
	t.Parallel()
	f := &Fuzzer{Target: Shell("echo this is not PPP; cat >/dev/null"), Seed: 1, Iterations: 1, Timeout: 300 * time.Millisecond}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	res, err := f.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "does not speak PPP") || !strings.Contains(err.Error(), "this is not PPP") {
		t.Errorf("Run = %+v, %v; want an error quoting what the peer printed", res, err)
	}
}
