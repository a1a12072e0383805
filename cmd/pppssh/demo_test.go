package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/netns"
	"github.com/pppssh/pppssh/internal/nstest"
	"golang.org/x/sys/unix"
)

// demoTimeout bounds a run of the demo.
const demoTimeout = 2 * time.Minute

// demoTestLock serialises the demo tests of every test process on the
// machine: the demo's namespaces have fixed names, and a second demo
// refuses to start while one runs.
const demoTestLock = "/run/pppssh-demo-test.lock"

// lockDemoTests waits for the other test processes' demos to end.
func lockDemoTests(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(demoTestLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

// watched is a process's output that can be waited on.
type watched struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatched() *watched { return &watched{changed: make(chan struct{})} }

func (w *watched) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	return w.buf.Write(p)
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the output holds s, or done is closed, or timeout.
func (w *watched) waitFor(t *testing.T, s string, done <-chan struct{}, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		text, changed := w.buf.String(), w.changed
		w.mu.Unlock()
		if strings.Contains(text, s) {
			return
		}
		select {
		case <-changed:
		case <-done:
			if strings.Contains(w.String(), s) {
				return
			}
			t.Fatalf("the demo ended without printing %q:\n%s", s, w.String())
		case <-deadline:
			t.Fatalf("the demo did not print %q within %v:\n%s", s, timeout, w.String())
		}
	}
}

// startDemo starts pppssh demo with args and returns its output and a
// channel closed when it has exited, with its exit status in *status.
func startDemo(t *testing.T, status *int, args ...string) (*exec.Cmd, *watched, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(pppsshBin(t), append([]string{"demo"}, args...)...)
	out := newWatched()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		*status = statusOf(cmd.Wait())
		close(done)
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	})
	return cmd, out, done
}

// tempDirOf returns the temporary directory the demo reported.
var tempDirOf = regexp.MustCompile(`(?m)^   (/\S+/pppssh-demo-\S+)$`)

// assertDemoGone fails the test if the demo left namespaces or its
// temporary directory behind.
func assertDemoGone(t *testing.T, out string) {
	t.Helper()
	if left := netns.List(demoPrefix); len(left) > 0 {
		t.Errorf("the demo left namespaces behind: %v", left)
	}
	m := tempDirOf.FindStringSubmatch(out)
	if m == nil {
		t.Errorf("the demo did not say where its keys are:\n%s", out)
		return
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("the demo left %s behind (stat: %v)", m[1], err)
	}
}

// TestDemo runs the README's first command, pppssh demo, end to end: the
// negotiation log as pppd prints it, a ping and 100 MB through the
// tunnel, the summary, and nothing left behind.
func TestDemo(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	lockDemoTests(t)
	var status int
	_, out, done := startDemo(t, &status)
	select {
	case <-done:
	case <-time.After(demoTimeout):
		t.Fatalf("the demo did not end within %v:\n%s", demoTimeout, out.String())
	}
	text := out.String()
	t.Logf("pppssh demo:\n%s", text)
	if status != exitOK {
		t.Fatalf("the demo exited %d, want 0", status)
	}
	for _, want := range []string{
		"client | sent [LCP ConfReq id=0x1 ",
		"client | rcvd [IPCP ConfAck ",
		"4 packets transmitted, 4 received, 0% packet loss",
		"104857600 bytes in ",
		"SHA-256 verified at the far end",
		"link addresses   192.0.2.2 (client) ↔ 192.0.2.1 (gateway)",
		"MTU              1500",
		"round-trip time  ",
		"throughput       ",
		"Done: namespaces, processes and keys removed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	assertDemoGone(t, text)
}

// TestDemoInterrupted: Ctrl-C (SIGINT) in the middle of the demo removes
// everything it made, and it exits 0.
func TestDemoInterrupted(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	lockDemoTests(t)
	var status int
	cmd, out, done := startDemo(t, &status)
	out.waitFor(t, "link up: ", done, demoTimeout)
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(demoTimeout):
		t.Fatalf("the demo did not end within %v of SIGINT:\n%s", demoTimeout, out.String())
	}
	if status != exitOK || !strings.Contains(out.String(), "Interrupted; everything the demo made is removed.") {
		t.Errorf("interrupted demo: exit %d, want 0 and a word that it cleaned up:\n%s", status, out.String())
	}
	assertDemoGone(t, out.String())
}

// TestDemoNeedsRoot: without root the demo says what it needs and exits 3.
func TestDemoNeedsRoot(t *testing.T) {
	t.Parallel()
	setpriv := nstest.RequireTool(t, "setpriv", "util-linux")
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", pppsshBin(t), "demo")
	out, err := cmd.CombinedOutput()
	if code := statusOf(err); code != exitNotPermitted || !strings.Contains(string(out), "needs root: run it as root") {
		t.Errorf("demo as nobody: exit %d, want %d; output:\n%s", code, exitNotPermitted, out)
	}
}
