package sshtransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testServer is a Server on 127.0.0.1, and what a client needs to reach it.
type testServer struct {
	srv        *Server
	addr       string
	port       int
	authorized string // the authorized_keys file
	knownHosts string // a known_hosts file with the server's key
	logs       *lockedBuffer
	cancel     context.CancelFunc
	served     chan error // Serve's result
	stopOnce   sync.Once
}

// startServer runs a Server with authorized_keys holding authorized and
// handler h, until the test ends.
func startServer(t testing.TB, cfg ServerConfig, authorized string, h Handler) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{authorized: filepath.Join(dir, "authorized_keys"), logs: &lockedBuffer{}, served: make(chan error, 1)}
	writeFile(t, ts.authorized, authorized)
	signer, _, err := LoadOrCreateHostKey(filepath.Join(dir, "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.HostKey = signer
	cfg.AuthorizedKeysFile = ts.authorized
	cfg.Logger = testLogger(ts.logs)
	if ts.srv, err = NewServer(cfg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ts.port = ln.Addr().(*net.TCPAddr).Port
	ts.knownHosts = filepath.Join(dir, "known_hosts")
	writeFile(t, ts.knownHosts, knownHostsEntry(portName(ts.port), signer.PublicKey()))
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.served <- ts.srv.Serve(ctx, ln, h) }()
	t.Cleanup(func() {
		ts.stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

// stop cancels Serve and waits for it.
func (ts *testServer) stop(t testing.TB) {
	t.Helper()
	ts.stopOnce.Do(func() {
		ts.cancel()
		select {
		case err := <-ts.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Serve did not return 20s after its context was cancelled")
		}
	})
}

func knownHostsEntry(name string, k ssh.PublicKey) string {
	return name + " " + string(ssh.MarshalAuthorizedKey(k))
}

// echo is a Handler that copies the session's input back until EOF.
func echo(_ context.Context, sess *Session) error {
	_, err := io.Copy(sess, sess)
	return err
}

// exitStatusError is a handler error with an exit status.
type exitStatusError struct {
	status int
	msg    string
}

func (e *exitStatusError) Error() string   { return e.msg }
func (e *exitStatusError) ExitStatus() int { return e.status }

func TestServerSessionSettings(t *testing.T) {
	goroutineLeakCheck(t)
	key := newUserKey(t, t.TempDir(), "id_laptop", "")
	sessions := make(chan *Session, 1)
	ts := startServer(t, ServerConfig{},
		"# the laptop\n"+
			`pppssh-address="192.0.2.10",pppssh-allow-route="203.0.113.0/24",PPPSSH-ALLOW-ROUTE="198.51.100.0/24",restrict `+key.pubLine+"\n",
		func(ctx context.Context, sess *Session) error {
			sessions <- sess
			return echo(ctx, sess)
		})

	c := dialOK(t, "tunnel@"+ts.addr, testClientConfig(t, ts.knownHosts, key.file))
	args := []string{"pppssh", "serve", "--remote-route", "203.0.113.0/24", "it's one argument"}
	st, err := c.Exec(context.Background(), ExecOptions{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sess := <-sessions
	if !slices.Equal(sess.Args, args) {
		t.Errorf("handler got Args %q, want %q", sess.Args, args)
	}
	if sess.Command != QuoteCommand(args) {
		t.Errorf("handler got Command %q, want %q", sess.Command, QuoteCommand(args))
	}
	want := KeySettings{
		Address:     netip.MustParseAddr("192.0.2.10"),
		AllowRoutes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.51.100.0/24")},
		NoPTY:       true,
	}
	if got := sess.Key.Settings; got.Address != want.Address || got.Pool.IsValid() || !slices.Equal(got.AllowRoutes, want.AllowRoutes) || got.NoPTY != want.NoPTY {
		t.Errorf("handler got settings %+v, want %+v", got, want)
	}
	if sess.Key.Comment != "id_laptop@test" || sess.Key.Line != 2 || sess.Key.File != ts.authorized {
		t.Errorf("handler got key %q from %s:%d, want id_laptop@test from %s:2", sess.Key.Comment, sess.Key.File, sess.Key.Line, ts.authorized)
	}
	if got, want := sess.Key.Fingerprint(), ssh.FingerprintSHA256(key.pub); got != want {
		t.Errorf("handler got key fingerprint %s, want %s", got, want)
	}
	if sess.User != "tunnel" || !strings.HasPrefix(sess.RemoteAddr.String(), "127.0.0.1:") || sess.PTY {
		t.Errorf("handler got user %q, remote %v, pty %v", sess.User, sess.RemoteAddr, sess.PTY)
	}

	msg := bytes.Repeat([]byte("ping\x00\xff\x7e\r\n"), 10000)
	go func() {
		st.Write(msg)
		st.CloseWrite()
	}()
	got, err := io.ReadAll(st)
	if err != nil || !bytes.Equal(got, msg) {
		t.Errorf("echo returned %d bytes (%v), want the %d sent", len(got), err, len(msg))
	}
	if err := st.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if !strings.Contains(ts.logs.String(), "client authenticated") {
		t.Errorf("no log line for the authentication:\n%s", ts.logs.String())
	}
	c.Close()
}

func TestServerHandlerExitStatus(t *testing.T) {
	key := newUserKey(t, t.TempDir(), "id_status", "")
	ts := startServer(t, ServerConfig{}, key.pubLine, func(ctx context.Context, sess *Session) error {
		switch sess.Args[0] {
		case "fail":
			return errors.New("tunnel: no address for this key")
		case "status":
			n, _ := strconv.Atoi(sess.Args[1])
			return &exitStatusError{n, "custom failure"}
		}
		return nil
	})
	c := dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, key.file))
	for _, tc := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"ok"}, 0, ""},
		{[]string{"fail"}, 1, "tunnel: no address for this key\n"},
		{[]string{"status", "42"}, 42, "custom failure\n"},
	} {
		_, err := execOutput(t, c, ExecOptions{Args: tc.args})
		var ee *ExitError
		switch {
		case tc.status == 0 && err != nil:
			t.Errorf("%q: Wait = %v, want nil", tc.args, err)
		case tc.status != 0 && (!errors.As(err, &ee) || ee.Status != tc.status || string(ee.Stderr) != tc.stderr):
			t.Errorf("%q: Wait = %v, want status %d with stderr %q", tc.args, err, tc.status, tc.stderr)
		}
	}
}

func TestServerRefusals(t *testing.T) {
	key := newUserKey(t, t.TempDir(), "id_known", "")
	stranger := newUserKey(t, t.TempDir(), "id_stranger", "")
	elsewhere := newUserKey(t, t.TempDir(), "id_elsewhere", "")
	negated := newUserKey(t, t.TempDir(), "id_negated", "")
	local := newUserKey(t, t.TempDir(), "id_local", "")
	noPTY := newUserKey(t, t.TempDir(), "id_nopty", "")
	sessions := make(chan *Session, 10)
	handler := func(ctx context.Context, sess *Session) error {
		sessions <- sess
		return nil
	}
	keys := key.pubLine + "\n" +
		`from="10.0.0.0/8,192.0.2.*" ` + elsewhere.pubLine + "\n" +
		`from="!127.0.0.1,*" ` + negated.pubLine + "\n" +
		`from="10.1.1.1,127.0.0.?" ` + local.pubLine + "\n" +
		`no-pty ` + noPTY.pubLine + "\n"

	for _, allowPTY := range []bool{false, true} {
		t.Run(fmt.Sprintf("AllowPTY=%v", allowPTY), func(t *testing.T) {
			ts := startServer(t, ServerConfig{AllowPTY: allowPTY}, keys, handler)
			for _, k := range []userKey{stranger, elsewhere, negated} {
				err := dialErr(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, k.file))
				if !strings.Contains(err.Error(), "accepted none of our keys") {
					t.Errorf("%s: error %q, want an authentication failure", filepath.Base(k.file), err)
				}
			}
			if !strings.Contains(ts.logs.String(), ssh.FingerprintSHA256(stranger.pub)) {
				t.Errorf("the server log does not name the refused key %s", ssh.FingerprintSHA256(stranger.pub))
			}
			dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, local.file)).Close()

			c := dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, key.file))
			st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"x"}, PTY: true, Term: "xterm"})
			if allowPTY {
				if err != nil {
					t.Fatalf("pty refused with AllowPTY: %v", err)
				}
				st.Wait()
				if sess := <-sessions; !sess.PTY || sess.Term != "xterm" {
					t.Errorf("session PTY=%v Term=%q, want a pty with TERM xterm", sess.PTY, sess.Term)
				}
			} else if err == nil || !strings.Contains(err.Error(), "refused a pty") {
				t.Errorf("pty request without AllowPTY: %v, want a refusal", err)
			}
			c.Close()

			c = dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, noPTY.file))
			if _, err := c.Exec(context.Background(), ExecOptions{Args: []string{"x"}, PTY: true}); err == nil || !strings.Contains(err.Error(), "refused a pty") {
				t.Errorf("pty request with no-pty: %v, want a refusal", err)
			}
			c.Close()
		})
	}
}

func TestServerMaxSessions(t *testing.T) {
	key := newUserKey(t, t.TempDir(), "id_max", "")
	ts := startServer(t, ServerConfig{MaxSessions: 1}, key.pubLine, echo)
	c := dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, key.file))
	st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"one"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(context.Background(), ExecOptions{Args: []string{"two"}}); err == nil || !strings.Contains(err.Error(), "too many sessions") {
		t.Errorf("second session: %v, want a refusal", err)
	}
	st.CloseWrite()
	if err := st.Wait(); err != nil {
		t.Fatal(err)
	}
	// The slot is free again once the first session has ended.
	for range 100 {
		if st, err = c.Exec(context.Background(), ExecOptions{Args: []string{"three"}}); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("session after the first ended: %v", err)
	}
	st.Close()
	c.Close()
}

func TestServerAuthorizedKeysErrors(t *testing.T) {
	key := newUserKey(t, t.TempDir(), "id_x", "")
	signer, _, err := LoadOrCreateHostKey(filepath.Join(t.TempDir(), "hk"))
	if err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(t.TempDir(), "authorized_keys")
	writeFile(t, ak, "# comment\n"+
		key.pubLine+"\n"+
		"ssh-ed25519 not-base64!\n"+
		`pppssh-frobnicate="1" `+key.pubLine+"\n"+
		`command="/bin/sh" `+key.pubLine+"\n")
	_, err = NewServer(ServerConfig{HostKey: signer, AuthorizedKeysFile: ak})
	if err == nil {
		t.Fatal("NewServer accepted a malformed authorized_keys")
	}
	for _, want := range []string{ak + ":3: not a valid key line", ak + ":4: unknown option pppssh-frobnicate", ak + ":5: option command is not supported"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), ak+":2") {
		t.Errorf("error %q blames the good line 2", err)
	}
	if _, err := NewServer(ServerConfig{HostKey: signer, AuthorizedKeysFile: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("NewServer accepted a missing authorized_keys file")
	}
}

func TestServerReloadsAuthorizedKeys(t *testing.T) {
	first := newUserKey(t, t.TempDir(), "id_first", "")
	second := newUserKey(t, t.TempDir(), "id_second", "")
	ts := startServer(t, ServerConfig{}, first.pubLine+"\n", echo)
	dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, first.file)).Close()
	dialErr(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, second.file))

	writeFile(t, ts.authorized, first.pubLine+"\n"+`pppssh-pool="192.0.2.16/28" `+second.pubLine+"\n")
	dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, second.file)).Close()
	if !strings.Contains(ts.logs.String(), "authorized_keys changed; reloaded") {
		t.Errorf("no log line about the reload:\n%s", ts.logs.String())
	}

	// A bad line refuses everyone until it is fixed.
	writeFile(t, ts.authorized, first.pubLine+"\nbroken line\n")
	err := dialErr(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, first.file))
	if !strings.Contains(err.Error(), "accepted none of our keys") {
		t.Errorf("error %q", err)
	}
	if !strings.Contains(ts.logs.String(), ts.authorized+":2") {
		t.Errorf("the server log does not name the bad line %s:2:\n%s", ts.authorized, ts.logs.String())
	}
	writeFile(t, ts.authorized, first.pubLine+"\n")
	dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, first.file)).Close()
}

func TestLoadOrCreateHostKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "host_ed25519_key")
	s1, created, err := LoadOrCreateHostKey(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateHostKey = created %v, %v; want a new key", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	if s1.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("generated a %s key, want ssh-ed25519", s1.PublicKey().Type())
	}
	if fp := Fingerprint(s1.PublicKey()); !strings.HasPrefix(fp, "ED25519 SHA256:") {
		t.Errorf("Fingerprint = %q", fp)
	}
	// OpenSSH reads both halves.
	pub, _ := readPublicKey(t, path+".pub")
	if !bytes.Equal(pub.Marshal(), s1.PublicKey().Marshal()) {
		t.Errorf("%s.pub holds another key", path)
	}
	if out := run(t, "ssh-keygen", "-y", "-f", path); !strings.Contains(out, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s1.PublicKey())))) {
		t.Errorf("ssh-keygen -y -f %s = %q", path, out)
	}

	s2, created, err := LoadOrCreateHostKey(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateHostKey = created %v, %v; want the existing key", created, err)
	}
	if !bytes.Equal(s1.PublicKey().Marshal(), s2.PublicKey().Marshal()) {
		t.Error("second LoadOrCreateHostKey returned a different key")
	}

	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Errorf("mode 0644: %v, want a refusal telling to chmod 600", err)
	}
	os.Chmod(path, 0o600)

	enc := newUserKey(t, t.TempDir(), "encrypted", "pass")
	if _, _, err := LoadOrCreateHostKey(enc.file); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted key: %v, want a refusal", err)
	}
}

func TestServerOpenSSHClient(t *testing.T) {
	sshBin := needBinary(t, "ssh", "openssh-client")
	key := newUserKey(t, t.TempDir(), "id_openssh", "")
	sessions := make(chan *Session, 10)
	ts := startServer(t, ServerConfig{}, `pppssh-pool="192.0.2.16/28" `+key.pubLine, func(ctx context.Context, sess *Session) error {
		sessions <- sess
		if len(sess.Args) > 0 && sess.Args[0] == "fail" {
			return &exitStatusError{7, "pppssh: nope"}
		}
		return echo(ctx, sess)
	})
	ssh := func(args ...string) *exec.Cmd {
		return exec.Command(sshBin, append([]string{
			"-F", "none", "-T",
			"-o", "UserKnownHostsFile=" + ts.knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
			"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i", key.file,
			"-p", strconv.Itoa(ts.port), "tunnel@127.0.0.1",
		}, args...)...)
	}

	msg := bytes.Repeat([]byte("through OpenSSH\x00\xff\n"), 5000)
	cmd := ssh("pppssh", "serve", "--remote-route", "'203.0.113.0/24'")
	cmd.Stdin = bytes.NewReader(msg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ssh: %v\n%s", err, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), msg) {
		t.Errorf("ssh got back %d bytes, want the %d sent", stdout.Len(), len(msg))
	}
	sess := <-sessions
	if want := []string{"pppssh", "serve", "--remote-route", "203.0.113.0/24"}; !slices.Equal(sess.Args, want) {
		t.Errorf("handler got Args %q, want %q", sess.Args, want)
	}
	if sess.Key.Settings.Pool != netip.MustParsePrefix("192.0.2.16/28") {
		t.Errorf("handler got settings %+v", sess.Key.Settings)
	}

	cmd = ssh("fail")
	stderr.Reset()
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || !strings.Contains(stderr.String(), "pppssh: nope") {
		t.Errorf("ssh … fail: %v, stderr %q; want exit status 7 and the handler's message", err, stderr.String())
	}
	<-sessions

	cmd = ssh("echo", "a;", "rm", "-rf", "/")
	stderr.Reset()
	cmd.Stderr = &stderr
	err = cmd.Run()
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "needs a shell") {
		t.Errorf("ssh … 'a; rm': %v, stderr %q; want exit status 2 and a refusal", err, stderr.String())
	}
	select {
	case s := <-sessions:
		t.Errorf("the handler ran for an unparsable command %q", s.Command)
	default:
	}

	// An unknown host key is refused by OpenSSH too: the server's key is
	// what the known_hosts file says.
	writeFile(t, ts.knownHosts, "")
	cmd = ssh("x")
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "Host key verification failed") {
		t.Errorf("ssh with an empty known_hosts: %v, %q", err, stderr.String())
	}
}

func TestServerShutdown(t *testing.T) {
	key := newUserKey(t, t.TempDir(), "id_shutdown", "")
	t.Run("handlers that honour ctx", func(t *testing.T) {
		goroutineLeakCheck(t)
		started := make(chan struct{}, 2)
		ts := startServer(t, ServerConfig{}, key.pubLine, func(ctx context.Context, sess *Session) error {
			started <- struct{}{}
			<-ctx.Done()
			fmt.Fprintln(sess, "bye")
			return nil
		})
		c := dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, key.file))
		var streams []*Stream
		for range 2 {
			st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"x"}})
			if err != nil {
				t.Fatal(err)
			}
			streams = append(streams, st)
			<-started
		}
		begin := time.Now()
		ts.stop(t)
		if d := time.Since(begin); d > DefaultShutdownTimeout/2 {
			t.Errorf("shutdown took %v although the handlers returned at once", d)
		}
		for i, st := range streams {
			out, _ := io.ReadAll(st)
			if string(out) != "bye\n" {
				t.Errorf("stream %d read %q, want the handler's goodbye", i, out)
			}
			if err := st.Wait(); err != nil {
				t.Errorf("stream %d: Wait = %v, want exit status 0", i, err)
			}
		}
		if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
			t.Error("the server still accepts connections after shutdown")
		}
		c.Close()
	})
	t.Run("handlers that ignore ctx", func(t *testing.T) {
		goroutineLeakCheck(t)
		started := make(chan struct{})
		ts := startServer(t, ServerConfig{ShutdownTimeout: 300 * time.Millisecond}, key.pubLine, func(ctx context.Context, sess *Session) error {
			close(started)
			io.Copy(io.Discard, sess) // returns only when the session is closed
			return nil
		})
		c := dialOK(t, "u@"+ts.addr, testClientConfig(t, ts.knownHosts, key.file))
		st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"x"}})
		if err != nil {
			t.Fatal(err)
		}
		<-started
		begin := time.Now()
		ts.stop(t)
		if d := time.Since(begin); d < 300*time.Millisecond || d > 5*time.Second {
			t.Errorf("shutdown took %v, want the 300ms ShutdownTimeout and then some", d)
		}
		if _, err := io.ReadAll(st); err != nil {
			t.Errorf("read after the forced close: %v", err)
		}
		if err := st.Wait(); err == nil {
			t.Error("Wait = nil after the server dropped the connection, want an error")
		}
		c.Close()
	})
}

func TestRetryableAccept(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}, true},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}, true},
		{net.ErrClosed, false},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EINVAL)}, false},
	} {
		if got := retryableAccept(tc.err); got != tc.want {
			t.Errorf("retryableAccept(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
