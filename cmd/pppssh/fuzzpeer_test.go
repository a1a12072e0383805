package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/fuzz/peer"
	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/ppp"
)

// TestFuzzPeerOptions: the command line's mistakes are exit 2 with one
// line saying what to do; --help is the usage.
func TestFuzzPeerOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no target: give the peer with --exec"},
		{[]string{"--exec", "pppd", "--tcp", "127.0.0.1:1"}, "--exec and --tcp: give one target only"},
		{[]string{"--unix", "/x", "--duration", "soon"}, `invalid value "soon" for flag -duration`},
		{[]string{"--exec", "pppd", "--seed", "x1"}, `--seed "x1": give a whole number`},
		{[]string{"--exec", "pppd", "--iterations", "-1"}, "--iterations -1: give a positive number"},
		{[]string{"--exec", "pppd", "extra"}, `unexpected argument "extra"`},
		{[]string{"--exec", "pppd", "--replay", "f.raw", "--duration", "1m"}, "--replay sends one reproducer"},
		{[]string{"--exec", "pppd", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
	} {
		var out, errOut bytes.Buffer
		if code := run(append([]string{"fuzz-peer"}, tc.args...), &out, &errOut); code != exitOptionErr || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("fuzz-peer %q: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), exitOptionErr, tc.want)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"fuzz-peer", "--help"}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "Usage: pppssh fuzz-peer TARGET") || !strings.Contains(out.String(), "--replay FILE") {
		t.Errorf("fuzz-peer --help: exit %d, %q", code, out.String())
	}
	// A missing reproducer is said so.
	out.Reset()
	errOut.Reset()
	if code := run([]string{"fuzz-peer", "--exec", "cat", "--replay", filepath.Join(t.TempDir(), "none.raw")}, &out, &errOut); code != exitOptionErr || !strings.Contains(errOut.String(), "reading the reproducer") {
		t.Errorf("--replay of a missing file: exit %d, stderr %q", code, errOut.String())
	}
}

// TestFuzzPeerNotPPP: a target that prints text instead of speaking PPP
// is exit 8, quoting what it printed.
func TestFuzzPeerNotPPP(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run([]string{"fuzz-peer", "--exec", "echo sudo: a password is required; cat >/dev/null", "--iterations", "1", "--timeout", "300ms"}, &out, &errOut)
	if code != exitConnectFailed || !strings.Contains(errOut.String(), "does not speak PPP") || !strings.Contains(errOut.String(), "sudo: a password is required") {
		t.Errorf("exit %d, stderr %q; want %d quoting the text", code, errOut.String(), exitConnectFailed)
	}
}

// TestFuzzPeerBinary runs "pppssh fuzz-peer --exec 'pppssh stdio notty …'"
// against the built binary, in a namespace of its own (each peer makes a
// TUN), for a few seconds: pppssh must survive everything it is sent.
func TestFuzzPeerBinary(t *testing.T) {
	t.Parallel()
	ns := nstest.New(t)
	bin := pppsshBin(t)
	dir := t.TempDir()
	cmd := ns.Command(bin, "fuzz-peer", "--exec", bin+" stdio notty 192.0.2.1:192.0.2.2", "--duration", "5s", "--seed", "1", "--repro-dir", dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%v:\n%s", time.Since(start).Round(time.Millisecond), out)
	if code := statusOf(err); code != exitOK {
		t.Fatalf("fuzz-peer against pppssh stdio: exit %d", code)
	}
	for _, want := range []string{"pppssh fuzz-peer: exec: " + bin + " stdio notty 192.0.2.1:192.0.2.2, seed 1 (run again with --seed 1)", " 0 findings in ", "; seed 1\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("reproducers written for pppssh: %v", entries)
	}
}

// TestFuzzPeerReplay replays a reproducer written as the fuzzer writes
// them: pppssh survives it (exit 0); a peer that dies of SIGSEGV on the
// first octet it reads does not (exit 1, the signal named).
func TestFuzzPeerReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	frame := ppp.AppendPacket(ppp.AppendHeader(nil, ppp.ProtoLCP, false, false), ppp.CodeConfigureRequest, 9, []byte{1, 0, 3, 0xff, 2})
	var enc hdlc.Encoder
	fd := peer.Finding{Kind: peer.PeerCrashed, Message: "test", Repro: peer.Repro{Steps: []peer.ReproStep{
		{Negotiate: true, Options: ppp.AppendOptionUint32(nil, 5, 0x01020304)},
		{Raw: enc.AppendFrame(nil, frame), Frame: frame},
	}}}
	path, err := fd.WriteFiles(dir, "repro", "test", "")
	if err != nil {
		t.Fatal(err)
	}

	ns := nstest.New(t)
	bin := pppsshBin(t)
	out, err := ns.Command(bin, "fuzz-peer", "--exec", bin+" stdio notty 192.0.2.1:192.0.2.2", "--replay", path).CombinedOutput()
	if code := statusOf(err); code != exitOK || !strings.Contains(string(out), "the peer survived") || !strings.Contains(string(out), "(1 frame, ") {
		t.Errorf("replay against pppssh: exit %d:\n%s", code, out)
	}

	raw := filepath.Join(dir, "lone.raw")
	os.WriteFile(raw, enc.AppendFrame(nil, frame), 0o644)
	var stdout, stderr bytes.Buffer
	code := run([]string{"fuzz-peer", "--exec", "head -c 1 >/dev/null; kill -SEGV $$", "--replay", raw}, &stdout, &stderr)
	if code != exitFatal || !strings.Contains(stdout.String(), "the peer crashed: killed by signal SIGSEGV") {
		t.Errorf("replay against a crashing peer: exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
}
