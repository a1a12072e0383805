package tunnel

import (
	"bytes"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordScript writes its arguments and environment to "$0.out".
const recordScript = `#!/bin/sh
{
	echo "argc=$#"
	for a in "$@"; do echo "arg=$a"; done
	env
} > "$0.tmp"
mv "$0.tmp" "$0.out"
echo "hello from $0"
`

func writeScript(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// logBuffer collects log output from any goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newTestLogger returns a debug logger whose output is shown if the test
// fails.
func newTestLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func testLogger(t *testing.T) *slog.Logger {
	l, _ := newTestLogger(t)
	return l
}

// readRecord parses what recordScript wrote.
func readRecord(t *testing.T, script string) (args []string, env map[string]string) {
	t.Helper()
	b, err := os.ReadFile(script + ".out")
	if err != nil {
		t.Fatalf("%s did not run: %v", filepath.Base(script), err)
	}
	env = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if a, ok := strings.CutPrefix(line, "arg="); ok {
			args = append(args, a)
		} else if k, v, ok := strings.Cut(line, "="); ok && k != "argc" {
			env[k] = v
		}
	}
	return args, env
}

// shellVars may appear in a script's environment because the shell sets them.
var shellVars = []string{"PWD", "OLDPWD", "SHLVL", "_"}

func TestHooksArgsAndEnv(t *testing.T) {
	dir := t.TempDir()
	log, logs := newTestLogger(t)
	h := &Hooks{
		IPUp:     writeScript(t, dir, "ip-up", recordScript),
		IPDown:   writeScript(t, dir, "ip-down", recordScript),
		LinkName: "work",
		Logger:   log,
	}
	info := LinkInfo{
		Interface: "ppp3", Local: local, Peer: peer, MTU: 1500,
		DNS: [2]netip.Addr{netip.MustParseAddr("198.51.100.53"), netip.MustParseAddr("198.51.100.54")},
		TTY: "ssh:gw.example", Speed: 115200, IPParam: "office",
		BytesSent: 1000, BytesReceived: 2000, ConnectTime: 42,
	}
	h.Up(info)
	h.Down(info)

	wantArgs := []string{"ppp3", "ssh:gw.example", "115200", "192.0.2.1", "192.0.2.2", "office"}
	wantEnv := map[string]string{
		"IFNAME": "ppp3", "IPLOCAL": "192.0.2.1", "IPREMOTE": "192.0.2.2",
		"DEVICE": "ssh:gw.example", "SPEED": "115200", "IPPARAM": "office", "LINKNAME": "work",
		"DNS1": "198.51.100.53", "DNS2": "198.51.100.54",
		"PPPLOGNAME": "root", "ORIG_UID": "0", "PPPD_PID": strconv.Itoa(os.Getpid()),
	}
	for _, script := range []string{"ip-up", "ip-down"} {
		args, env := readRecord(t, filepath.Join(dir, script))
		if diff := cmp.Diff(wantArgs, args); diff != "" {
			t.Errorf("%s arguments (-want +got):\n%s", script, diff)
		}
		want := maps.Clone(wantEnv)
		if script == "ip-down" {
			want["CONNECT_TIME"], want["BYTES_SENT"], want["BYTES_RCVD"] = "42", "1000", "2000"
		}
		for _, k := range shellVars {
			delete(env, k)
		}
		if diff := cmp.Diff(want, env); diff != "" {
			t.Errorf("%s environment (-want +got):\n%s", script, diff)
		}
		if !strings.Contains(logs.String(), "line=\"hello from "+filepath.Join(dir, script)+"\"") {
			t.Errorf("%s output not logged", script)
		}
	}
}

func TestHookEnvWithoutOptionalVars(t *testing.T) {
	env := hookEnv(LinkInfo{Interface: "ppp0", Local: local, Peer: peer}, "", false)
	for _, v := range env {
		k, _, _ := strings.Cut(v, "=")
		if slices.Contains([]string{"DNS1", "DNS2", "IPPARAM", "LINKNAME", "CONNECT_TIME", "BYTES_SENT", "BYTES_RCVD"}, k) {
			t.Errorf("environment has %s without a value for it", v)
		}
	}
	env = hookEnv(LinkInfo{DNS: [2]netip.Addr{{}, netip.MustParseAddr("198.51.100.54")}}, "", false)
	if !slices.Contains(env, "DNS2=198.51.100.54") || slices.ContainsFunc(env, func(s string) bool { return strings.HasPrefix(s, "DNS1=") }) {
		t.Errorf("only a second DNS server: env %v, want DNS2 alone", env)
	}
}

// TestHooksTimeout runs an ip-up that hangs: Up does not wait for it, Down
// waits until the timeout kills it with its children.
func TestHooksTimeout(t *testing.T) {
	dir := t.TempDir()
	log, logs := newTestLogger(t)
	script := writeScript(t, dir, "ip-up", "#!/bin/sh\nsleep 60 &\necho $! > \"$0.pid\"\necho going to sleep\nwait\n")
	h := &Hooks{IPUp: script, Timeout: 2 * time.Second, Logger: log}

	start := time.Now()
	h.Up(linkInfo)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Up waited %v for a hanging ip-up", d)
	}
	h.Down(linkInfo)
	d := time.Since(start)
	if d < 2*time.Second || d > 8*time.Second {
		t.Errorf("Down returned after %v, want about the 2s timeout", d)
	}
	for _, want := range []string{"ip-up script killed: still running after its timeout", "going to sleep"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	b, err := os.ReadFile(script + ".pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for deadline := time.Now().Add(5 * time.Second); ; {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			break // gone, or dead and waiting to be reaped
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the script's child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHooksFailureNotFatal(t *testing.T) {
	dir := t.TempDir()
	log, logs := newTestLogger(t)
	h := &Hooks{
		IPUp:   filepath.Join(dir, "missing"),
		IPDown: writeScript(t, dir, "ip-down", "#!/bin/sh\necho something broke >&2\nexit 3\n"),
		Logger: log,
	}
	if err := h.Up(linkInfo); err != nil {
		t.Errorf("Up with a missing ip-up: %v", err)
	}
	if err := h.Down(linkInfo); err != nil {
		t.Errorf("Down with a failing ip-down: %v", err)
	}
	for _, want := range []string{"ip-up script not run", "ip-down script failed", "exit status 3", "something broke"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestHooksDownWithoutUp(t *testing.T) {
	dir := t.TempDir()
	down := writeScript(t, dir, "ip-down", recordScript)
	h := &Hooks{IPDown: down}
	h.Down(linkInfo)
	if _, err := os.Stat(down + ".out"); err == nil {
		t.Errorf("ip-down ran without a previous Up")
	}
	h.Up(linkInfo)
	h.Down(linkInfo)
	if _, err := os.Stat(down + ".out"); err != nil {
		t.Errorf("ip-down did not run after Up: %v", err)
	}
}
