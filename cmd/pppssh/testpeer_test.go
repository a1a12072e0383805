package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/fuzz/peer"
	"github.com/pppssh/pppssh/internal/nstest"
)

// TestTestPeerOptions: bad command lines exit 2 with one line on standard
// error; --help, --list and --run work without a peer.
func TestTestPeerOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"test-peer"}, "no target"},
		{[]string{"test-peer", "--exec", "x", "--unix", "/y"}, "--exec and --unix: give one target only"},
		{[]string{"test-peer", "--tty", "/dev/null", "--parallel", "2"}, "a tty is one line"},
		{[]string{"test-peer", "--exec", "x", "--restart", "soon"}, "neither a duration"},
		{[]string{"test-peer", "--exec", "x", "--restart", "0"}, "positive duration"},
		{[]string{"test-peer", "--exec", "x", "--run", "("}, "--run"},
		{[]string{"test-peer", "--exec", "x", "--run", "^nothing$"}, "no case matches"},
		{[]string{"test-peer", "--exec", "x", "--mru", "1500"}, "--mru 1500"},
		{[]string{"test-peer", "--exec", "x", "--accm", "0"}, "--accm"},
		{[]string{"test-peer", "--exec", "x", "--address", "2001:db8::1"}, "IPv4"},
		{[]string{"test-peer", "--exec", "x", "--parallel", "0"}, "--parallel 0"},
		{[]string{"test-peer", "--exec", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"test-peer", "--frobnicate"}, "frobnicate"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		msg := errOut.String()
		if code != exitOptionErr || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, msg, tc.want)
		}
	}

	var out, errOut bytes.Buffer
	if code := run([]string{"test-peer", "--help"}, &out, &errOut); code != exitOK ||
		!strings.Contains(out.String(), "Usage: pppssh test-peer") || !strings.Contains(out.String(), "Examples:") {
		t.Errorf("--help: exit %d, output:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"test-peer", "--list", "--run", "^lcp/max-"}, &out, &errOut); code != exitOK {
		t.Fatalf("--list: exit %d: %s", code, errOut.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 3 ||
		!strings.HasPrefix(lines[0], "lcp/max-configure ") || !strings.Contains(lines[0], "RFC 1661 §4.6") {
		t.Errorf("--list --run '^lcp/max-': got\n%s\nwant the three counter cases", out.String())
	}
}

// TestTestPeerExitCodes: 1 when a MUST fails or a case cannot run, 0 for
// SHOULD findings only, 8 when no case reached the peer (here a command
// that never speaks PPP).
func TestTestPeerExitCodes(t *testing.T) {
	res := func(v peer.Verdict, l peer.Level) peer.Result { return peer.Result{Verdict: v, Level: l} }
	for _, tc := range []struct {
		results []peer.Result
		want    int
	}{
		{[]peer.Result{res(peer.Pass, peer.Must), res(peer.NotApplicable, peer.Must)}, exitOK},
		{[]peer.Result{res(peer.Pass, peer.Must), res(peer.Fail, peer.Should)}, exitOK},
		{[]peer.Result{res(peer.Pass, peer.Should), res(peer.Fail, peer.Must)}, exitFatal},
		{[]peer.Result{res(peer.Pass, peer.Must), res(peer.Error, peer.Should)}, exitFatal},
		{[]peer.Result{res(peer.Error, peer.Must), res(peer.Error, peer.Should)}, exitConnectFailed},
	} {
		if got := testPeerExitCode(peer.Report{Results: tc.results}); got != tc.want {
			t.Errorf("%+v: exit %d, want %d", tc.results, got, tc.want)
		}
	}

	var out, errOut bytes.Buffer
	code := run([]string{"test-peer", "--exec", "cat >/dev/null", "--start", "300ms", "--run", "^hdlc/"}, &out, &errOut)
	if code != exitConnectFailed || !strings.Contains(out.String(), "sent no LCP Configure-Request within 300ms") ||
		!strings.Contains(out.String(), "5 cases: 0 passed, 0 failed, 0 not applicable, 5 errors") {
		t.Errorf("a peer that never speaks: exit %d, want %d; output:\n%s%s", code, exitConnectFailed, out.String(), errOut.String())
	}
}

// junitDoc is the part of JUnit XML the test reads back.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestTestPeerStdio runs test-peer against the pppssh binary itself, as
// "pppssh stdio notty" in a network namespace of its own for every case
// (unshare --net, so that the TUN devices of parallel cases never meet):
// every case passes, the exit status is 0 and the JUnit file says so.
func TestTestPeerStdio(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	bin := pppsshBin(t)
	junit := filepath.Join(t.TempDir(), "peer.xml")
	peerCmd := fmt.Sprintf("%s --net %s stdio notty lcp-restart 1 lcp-max-configure 3 192.0.2.1:192.0.2.2", unshare, bin)
	var out, errOut bytes.Buffer
	begin := time.Now()
	code := run([]string{"test-peer", "--exec", peerCmd, "--restart", "1", "--max-configure", "3",
		"--parallel", "8", "--junit", junit, "-v"}, &out, &errOut)
	t.Logf("test-peer against pppssh stdio, %.1f s:\n%s", time.Since(begin).Seconds(), out.String())
	n := len(peer.Suite(peer.SuiteConfig{}))
	if code != exitOK || !strings.Contains(out.String(), fmt.Sprintf("%d cases: %d passed, 0 failed", n, n)) {
		t.Errorf("exit %d, want 0 with every case passed; standard error:\n%s", code, errOut.String())
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the JUnit file does not parse: %v\n%s", err, b)
	}
	if doc.Tests != n || doc.Failures != 0 || doc.Errors != 0 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != n {
		t.Errorf("JUnit: %d tests, %d failures, %d errors, %d suites; want %d tests, no failures", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites), n)
	}
}
