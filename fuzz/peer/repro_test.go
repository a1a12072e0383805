package peer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// TestReproFiles writes a reproducer with a negotiation and two send
// steps, one of them malformed framing, and reads it back step for step.
func TestReproFiles(t *testing.T) {
	dir := t.TempDir()
	frame := mutPacket(ppp.ProtoEAP, 2, 7, []byte{4, 0xff, 'x'})
	fd := Finding{
		Kind: PeerCrashed, Message: "killed by signal SIGSEGV (segmentation fault)", Seed: 3, Batch: 9,
		Stderr: "ERROR: AddressSanitizer: stack-buffer-overflow\n", Reproduced: true,
		Repro: Repro{Steps: []ReproStep{
			{Negotiate: true, Options: ppp.AppendOptionUint16(nil, 1, 16384)},
			{Raw: wireFrame(frame), Frame: frame, What: "EAP: code 2 type 4"},
			{Raw: []byte{0x7e, 0xff, 0x7d}, What: "no closing flag"},
		}},
		OriginalSteps: 40, OriginalOctets: 4000, Replays: 12,
	}
	path, err := fd.WriteFiles(dir, "x", "exec: pppd notty", "pppssh fuzz-peer --exec 'pppd notty' --replay")
	if err != nil {
		t.Fatal(err)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "x.txt"))
	for _, want := range []string{
		"Finding:  the peer crashed: killed by signal SIGSEGV",
		"Size:     2 frames, ",
		"with an LCP negotiation, minimised from 40 steps and 4000 octets in 12 replays",
		"pppssh fuzz-peer --exec 'pppd notty' --replay " + path,
		"1. negotiate LCP to Opened; our Configure-Request options: 01 04 40 00",
		"[EAP Response id=0x7 04 ff 78]",
		"3. send octets ",
		"ERROR: AddressSanitizer",
	} {
		if !strings.Contains(string(txt), want) {
			t.Errorf("x.txt lacks %q:\n%s", want, txt)
		}
	}
	for _, p := range []string{path, filepath.Join(dir, "x.txt")} {
		r, err := ReadRepro(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Steps) != 3 || !r.Steps[0].Negotiate || !bytes.Equal(r.Steps[0].Options, fd.Repro.Steps[0].Options) ||
			!bytes.Equal(r.Steps[1].Raw, fd.Repro.Steps[1].Raw) || !bytes.Equal(r.Steps[1].Frame, frame) ||
			!bytes.Equal(r.Steps[2].Raw, fd.Repro.Steps[2].Raw) || r.Steps[2].Frame != nil {
			t.Errorf("ReadRepro(%s) = %+v, want the steps written", p, r.Steps)
		}
	}

	// A .raw file alone is one step, as it is.
	lone := filepath.Join(dir, "lone.raw")
	os.WriteFile(lone, wireFrame(frame), 0o644)
	r, err := ReadRepro(lone)
	if err != nil || len(r.Steps) != 1 || r.Steps[0].Negotiate || !bytes.Equal(r.Steps[0].Frame, frame) {
		t.Errorf("ReadRepro(lone.raw) = %+v, %v; want one step holding the frame", r, err)
	}
	// A description that does not fit its .raw file is an error.
	os.WriteFile(filepath.Join(dir, "lone.txt"), []byte("  1. send octets 0 to 999 of the .raw file: x\n"), 0o644)
	if _, err := ReadRepro(lone); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("ReadRepro with a bad description: %v", err)
	}
	if _, err := ReadRepro(filepath.Join(dir, "missing.raw")); err == nil {
		t.Error("ReadRepro of a missing file: no error")
	}
}

// TestMinimizer runs the minimiser against a model peer that dies when it
// has received a Configure-Request carrying an option of type 0x42 after
// an LCP negotiation: the 30 steps shrink to the negotiation and that
// frame, and the frame to the bad option alone.
func TestMinimizer(t *testing.T) {
	bad := ppp.AppendOption(nil, 0x42, 1, 2, 3)
	var steps []ReproStep
	steps = append(steps, ReproStep{Negotiate: true, Options: ppp.AppendOptionUint32(nil, 5, 1)})
	for i := range 30 {
		data := ppp.AppendOptionUint16(nil, 1, 1500)
		if i == 17 {
			data = append(append(data, bad...), ppp.AppendOptionUint32(nil, 5, 7)...)
		}
		frame := mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, byte(i), data)
		steps = append(steps, ReproStep{Raw: wireFrame(frame), Frame: frame})
	}
	dies := func(_ context.Context, steps []ReproStep) (fuzzVerdict, error) {
		negotiated := false
		for _, s := range steps {
			if s.Negotiate {
				negotiated = true
				continue
			}
			pkt, err := ppp.ParsePacket(s.Frame[4:])
			if err != nil || !negotiated {
				continue
			}
			r := ppp.OptionReader(pkt.Data())
			for o, ok := r.Next(); ok; o, ok = r.Next() {
				if o.Type == 0x42 {
					return fuzzVerdict{kind: PeerCrashed}, nil
				}
			}
		}
		return fuzzVerdict{}, nil
	}
	m := &reproMinimizer{f: &Fuzzer{}, kind: PeerCrashed, runs: 500, deadline: time.Now().Add(time.Minute), replay: dies}
	if !m.test(t.Context(), steps) {
		t.Fatal("the model peer does not die of the whole sequence")
	}
	got := m.shrinkFrames(t.Context(), m.ddmin(t.Context(), steps))
	if len(got) != 2 || !got[0].Negotiate {
		t.Fatalf("minimised to %d steps, want the negotiation and one frame:\n%s", len(got), fuzzDescribe(Repro{Steps: got}))
	}
	want := mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 17, ppp.AppendOption(nil, 0x42))
	if !bytes.Equal(got[1].Frame, want) || !bytes.Equal(got[1].Raw, wireFrame(want)) {
		t.Errorf("minimised frame % x (%s), want % x", got[1].Frame, got[1].text(), want)
	}
	t.Logf("%d replays", m.replays)
	if m.replays > 120 {
		t.Errorf("took %d replays", m.replays)
	}

	// Out of budget, it stops and keeps what still does it.
	m = &reproMinimizer{f: &Fuzzer{}, kind: PeerCrashed, runs: 3, deadline: time.Now().Add(time.Minute), replay: dies}
	if got := m.ddmin(t.Context(), steps); len(got) == 0 || m.replays != 3 {
		t.Errorf("with a budget of 3: %d steps after %d replays", len(got), m.replays)
	}
}
