package sshtransport

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// dialOK dials s with cfg and fails the test on error.
func dialOK(t *testing.T, target string, cfg *ClientConfig) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, target, cfg)
	if err != nil {
		t.Fatalf("Dial(%q): %v", target, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialErr(t *testing.T, target string, cfg *ClientConfig) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, target, cfg)
	if err == nil {
		c.Close()
		t.Fatalf("Dial(%q) succeeded, want an error", target)
	}
	return err
}

// execOutput runs args and returns what it printed on stdout.
func execOutput(t *testing.T, c *Client, opts ExecOptions) (string, error) {
	t.Helper()
	s, err := c.Exec(context.Background(), opts)
	if err != nil {
		t.Fatalf("Exec(%q): %v", opts.Args, err)
	}
	defer s.Close()
	out, rerr := io.ReadAll(s)
	if rerr != nil {
		t.Fatalf("read from %q: %v", opts.Args, rerr)
	}
	return string(out), s.Wait()
}

func TestClientFileKey(t *testing.T) {
	goroutineLeakCheck(t)
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_plain", "")
	s.Authorize(key.pubLine)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))

	c := dialOK(t, "root@"+s.Addr(), testClientConfig(t, kh, key.file))
	if got, want := c.HostKeyFingerprint(), "ED25519 "+ssh.FingerprintSHA256(s.hostKey); got != want {
		t.Errorf("HostKeyFingerprint() = %q, want %q", got, want)
	}
	if got := c.User(); got != "root" {
		t.Errorf("User() = %q, want root", got)
	}
	am := c.SSH().Conn.(ssh.AlgorithmsConnMetadata).Algorithms()
	if want := Ciphers()[0]; am.Write.Cipher != want || am.Read.Cipher != want {
		t.Errorf("negotiated ciphers %s/%s, want %s (Ciphers()[0])", am.Write.Cipher, am.Read.Cipher, want)
	}
	out, err := execOutput(t, c, ExecOptions{Args: []string{"id", "-un"}})
	if err != nil || out != "root\n" {
		t.Errorf("id -un = %q, %v; want root", out, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Wait(); err != nil {
		t.Errorf("Wait after Close = %v, want nil", err)
	}
}

func TestClientEncryptedKey(t *testing.T) {
	s := startSSHD(t)
	dir := t.TempDir()
	key := newUserKey(t, dir, "id_locked", "correct horse")
	s.Authorize(key.pubLine)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))

	t.Run("prompt", func(t *testing.T) {
		cfg := testClientConfig(t, kh, key.file)
		var asked []string
		cfg.Passphrase = func(file string) ([]byte, error) {
			asked = append(asked, file)
			if len(asked) == 1 {
				return []byte("wrong"), nil // asked again after a wrong one
			}
			return []byte("correct horse"), nil
		}
		c := dialOK(t, "root@"+s.Addr(), cfg)
		if len(asked) != 2 || asked[0] != key.file {
			t.Errorf("prompted for %q, want twice for %s", asked, key.file)
		}
		c.Close()
	})
	t.Run("wrong passphrase", func(t *testing.T) {
		cfg := testClientConfig(t, kh, key.file)
		cfg.Passphrase = func(string) ([]byte, error) { return []byte("wrong"), nil }
		err := dialErr(t, "root@"+s.Addr(), cfg)
		if !strings.Contains(err.Error(), "wrong passphrase for key "+key.file) {
			t.Errorf("error %q does not say the passphrase for %s was wrong", err, key.file)
		}
	})
	t.Run("no terminal", func(t *testing.T) {
		old := ttyPath
		ttyPath = filepath.Join(t.TempDir(), "no-tty")
		defer func() { ttyPath = old }()
		cfg := testClientConfig(t, kh, key.file)
		cfg.Passphrase = nil
		err := dialErr(t, "root@"+s.Addr(), cfg)
		if !errors.Is(err, ErrNoTerminal) || !strings.Contains(err.Error(), "ssh-add") || !strings.Contains(err.Error(), key.file) {
			t.Errorf("error %q: want ErrNoTerminal, naming the key and suggesting ssh-add", err)
		}
	})
	t.Run("not asked for a key the server refuses", func(t *testing.T) {
		other := newUserKey(t, t.TempDir(), "id_other", "")
		s.Authorize(other.pubLine)
		stranger := newUserKey(t, t.TempDir(), "id_stranger", "secret")
		cfg := testClientConfig(t, kh, stranger.file, other.file) // testClientConfig's prompt fails the test
		dialOK(t, "root@"+s.Addr(), cfg).Close()
	})
}

func TestClientAgent(t *testing.T) {
	goroutineLeakCheck(t)
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_agent", "")
	s.Authorize(key.pubLine)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))

	sock := startAgent(t)
	cmd := exec.Command(needBinary(t, "ssh-add", "openssh-client"), key.file)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	os.Remove(key.file) // only the agent has it now

	cfg := testClientConfig(t, kh) // no identity files; ~/.ssh/id_* do not exist
	cfg.AgentSocket = sock
	c := dialOK(t, "root@"+s.Addr(), cfg)
	out, err := execOutput(t, c, ExecOptions{Args: []string{"echo", "via agent"}})
	if err != nil || out != "via agent\n" {
		t.Errorf("echo = %q, %v", out, err)
	}
	c.Close()

	t.Run("SSH_AUTH_SOCK", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", sock)
		cfg := testClientConfig(t, kh)
		cfg.AgentSocket = ""
		dialOK(t, "root@"+s.Addr(), cfg).Close()
	})
}

// startAgent runs ssh-agent in the foreground on a socket of its own and
// returns the socket's path.
func startAgent(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command(needBinary(t, "ssh-agent", "openssh-client"), "-D", "-a", sock)
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("ssh-agent output:\n%s", stderr.String())
		}
	})
	for range 500 {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("ssh-agent did not create %s", sock)
	return ""
}

func TestClientKnownHosts(t *testing.T) {
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_kh", "")
	s.Authorize(key.pubLine)
	target := "root@" + s.Addr()
	name := portName(s.port)
	otherKey := newUserKey(t, t.TempDir(), "not_the_host_key", "")

	t.Run("plain [host]:port entry", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, kh, "# comment\nexample.org "+otherKey.pubLine+"\n"+s.KnownHostsLine(name))
		dialOK(t, target, testClientConfig(t, kh, key.file)).Close()
	})
	t.Run("hashed entry", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, kh, s.KnownHostsLine(name))
		run(t, "ssh-keygen", "-H", "-f", kh)
		b, _ := os.ReadFile(kh)
		if !bytes.HasPrefix(b, []byte("|1|")) {
			t.Fatalf("ssh-keygen -H did not hash %s:\n%s", kh, b)
		}
		dialOK(t, target, testClientConfig(t, kh, key.file)).Close()
	})
	t.Run("second of several files", func(t *testing.T) {
		dir := t.TempDir()
		first, second := filepath.Join(dir, "kh1"), filepath.Join(dir, "kh2")
		writeFile(t, first, "other.example "+otherKey.pubLine+"\n")
		writeFile(t, second, s.KnownHostsLine(name))
		cfg := testClientConfig(t, first, key.file)
		cfg.KnownHostsFiles = []string{filepath.Join(dir, "missing"), first, second}
		dialOK(t, target, cfg).Close()
	})
	t.Run("known key type is preferred", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, kh, name+" "+s.ecdsaKeyLine+"\n")
		c := dialOK(t, target, testClientConfig(t, kh, key.file))
		if got := c.HostKey().Type(); got != s.ecdsaKey.Type() {
			t.Errorf("server presented its %s key, want the recorded %s one", got, s.ecdsaKey.Type())
		}
		c.Close()
	})
	t.Run("recorded key type no longer offered", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		rsa := filepath.Join(t.TempDir(), "rsa")
		run(t, "ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa)
		_, rsaLine := readPublicKey(t, rsa+".pub")
		writeFile(t, kh, name+" "+rsaLine+"\n")
		cfg := testClientConfig(t, kh, key.file)
		cfg.AcceptNew = true
		err := dialErr(t, target, cfg)
		if !errors.Is(err, ErrHostKeyChanged) || !strings.Contains(err.Error(), "no longer offers the recorded key type") {
			t.Errorf("error %v, want ErrHostKeyChanged explaining the key type", err)
		}
	})
	t.Run("entry for port 22 does not match", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, kh, s.KnownHostsLine("127.0.0.1"))
		err := dialErr(t, target, testClientConfig(t, kh, key.file))
		if !errors.Is(err, ErrHostKeyUnknown) {
			t.Errorf("error %v, want ErrHostKeyUnknown", err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		err := dialErr(t, target, testClientConfig(t, kh, key.file))
		var hke *HostKeyError
		if !errors.Is(err, ErrHostKeyUnknown) || !errors.As(err, &hke) {
			t.Fatalf("error %v, want a *HostKeyError for ErrHostKeyUnknown", err)
		}
		msg := err.Error()
		for _, want := range []string{"ED25519 " + ssh.FingerprintSHA256(s.hostKey), name, kh, "ssh-keyscan -p", "accept-new"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not contain %q", msg, want)
			}
		}
		if _, err := os.Stat(kh); err == nil {
			t.Errorf("%s was created without accept-new", kh)
		}
	})
	t.Run("changed", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, kh, "# line 1\n"+name+" "+otherKey.pubLine+"\n")
		before, _ := os.ReadFile(kh)
		for _, acceptNew := range []bool{false, true} {
			cfg := testClientConfig(t, kh, key.file)
			cfg.AcceptNew = acceptNew
			err := dialErr(t, target, cfg)
			if !errors.Is(err, ErrHostKeyChanged) {
				t.Fatalf("AcceptNew=%v: error %v, want ErrHostKeyChanged", acceptNew, err)
			}
			msg := err.Error()
			for _, want := range []string{"REMOTE HOST IDENTIFICATION HAS CHANGED", kh + ":2", ssh.FingerprintSHA256(s.hostKey),
				ssh.FingerprintSHA256(otherKey.pub), fmt.Sprintf("ssh-keygen -f %q -R %q", kh, name)} {
				if !strings.Contains(msg, want) {
					t.Errorf("AcceptNew=%v: error %q does not contain %q", acceptNew, msg, want)
				}
			}
		}
		if after, _ := os.ReadFile(kh); !bytes.Equal(before, after) {
			t.Errorf("%s changed:\n%s", kh, after)
		}
	})
	t.Run("accept-new", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			hashConfig string // ssh_config line, or none
			hashed     bool
		}{
			{"hashed by default", "", true},
			{"plain with HashKnownHosts no", "HashKnownHosts no\n", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				kh := filepath.Join(dir, "sub", "known_hosts")
				cfg := testClientConfig(t, kh, key.file)
				cfg.ConfigFile = filepath.Join(dir, "config")
				writeFile(t, cfg.ConfigFile, tc.hashConfig)
				cfg.AcceptNew = true
				var logs lockedBuffer
				cfg.Logger = testLogger(&logs)
				c := dialOK(t, target, cfg)
				if got := c.HostKeyFingerprint(); !strings.Contains(got, ssh.FingerprintSHA256(s.hostKey)) {
					t.Errorf("HostKeyFingerprint() = %q", got)
				}
				c.Close()
				if !strings.Contains(logs.String(), "permanently added") {
					t.Errorf("no log line about the added key:\n%s", logs.String())
				}
				b, err := os.ReadFile(kh)
				if err != nil {
					t.Fatal(err)
				}
				if fi, _ := os.Stat(kh); fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", kh, fi.Mode().Perm())
				}
				line := string(b)
				if got := strings.HasPrefix(line, "|1|"); got != tc.hashed {
					t.Errorf("entry %q: hashed = %v, want %v", line, got, tc.hashed)
				}
				if !tc.hashed && line != s.KnownHostsLine(name) {
					t.Errorf("entry %q, want %q", line, s.KnownHostsLine(name))
				}
				// OpenSSH finds the entry as well.
				if out := run(t, "ssh-keygen", "-F", name, "-f", kh); !strings.Contains(out, s.hostKeyLine) {
					t.Errorf("ssh-keygen -F %s -f %s does not find the added key:\n%s", name, kh, out)
				}
				// The next connection needs no accept-new.
				cfg.AcceptNew = false
				dialOK(t, target, cfg).Close()
				if b2, _ := os.ReadFile(kh); !bytes.Equal(b, b2) {
					t.Errorf("second connection changed %s", kh)
				}
			})
		}
	})
	t.Run("StrictHostKeyChecking accept-new in ssh_config", func(t *testing.T) {
		dir := t.TempDir()
		kh := filepath.Join(dir, "known_hosts")
		writeFile(t, kh, "example.org "+otherKey.pubLine) // no final newline
		cfg := testClientConfig(t, kh, key.file)
		cfg.ConfigFile = filepath.Join(dir, "config")
		writeFile(t, cfg.ConfigFile, "Host 127.0.0.1\n  StrictHostKeyChecking accept-new\n")
		dialOK(t, target, cfg).Close()
		b, _ := os.ReadFile(kh)
		if lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "|1|") {
			t.Errorf("known_hosts after accept-new:\n%s", b)
		}
	})
}

func TestClientSSHConfigAlias(t *testing.T) {
	s := startSSHD(t)
	home := t.TempDir()
	key := newUserKey(t, filepath.Join(home, ".ssh"), "id_alias", "")
	s.Authorize(key.pubLine)
	writeFile(t, filepath.Join(home, ".ssh", "kh"), s.KnownHostsLine(portName(s.port)))
	writeFile(t, filepath.Join(home, ".ssh", "config"), fmt.Sprintf(`
Host other
  HostName 192.0.2.1

Host my*
  HostName 127.0.0.1
  Port %d
  User root
  IdentityFile ~/.ssh/id_alias
  UserKnownHostsFile ~/.ssh/kh
  ServerAliveInterval 7
  ServerAliveCountMax 5

Host *
  User nobody
  Port 1
`, s.port))
	cfg := testClientConfig(t, "")
	cfg.Home = home
	cfg.ConfigFile = ""
	cfg.KnownHostsFiles = nil
	cfg.IdentityFiles = nil
	cfg.KeepaliveInterval = 0

	ep, err := resolve(Target{Host: "myhost"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ep.keepaliveInterval != 7*time.Second || ep.keepaliveCountMax != 5 {
		t.Errorf("keepalive %v×%d, want 7s×5 from ServerAliveInterval/ServerAliveCountMax", ep.keepaliveInterval, ep.keepaliveCountMax)
	}
	c := dialOK(t, "myhost", cfg)
	if c.Addr() != s.Addr() || c.User() != "root" {
		t.Errorf("connected to %s@%s, want root@%s", c.User(), c.Addr(), s.Addr())
	}
	out, err := execOutput(t, c, ExecOptions{Args: []string{"echo", "alias ok"}})
	if err != nil || out != "alias ok\n" {
		t.Errorf("echo = %q, %v", out, err)
	}
}

func TestStreamCat(t *testing.T) {
	goroutineLeakCheck(t)
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_cat", "")
	s.Authorize(key.pubLine)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))
	c := dialOK(t, "root@"+s.Addr(), testClientConfig(t, kh, key.file))

	st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"cat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rwc io.ReadWriteCloser = st
	want := make([]byte, 1<<20)
	rand.Read(want)
	werr := make(chan error, 1)
	go func() {
		_, err := rwc.Write(want)
		if err == nil {
			err = st.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(rwc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("cat returned %d bytes, not the %d sent", len(got), len(want))
	}
	if err := st.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if status, ok := st.ExitStatus(); status != 0 || !ok {
		t.Errorf("ExitStatus() = %d, %v; want 0, true", status, ok)
	}

	// Closing the stream ends the session; Wait does not report the
	// command's lost stdin as a failure.
	st2, err := c.Exec(context.Background(), ExecOptions{Args: []string{"cat"}})
	if err != nil {
		t.Fatal(err)
	}
	st2.Close()
	st2.Close()
	if _, err := st2.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after Close: %v, want io.EOF", err)
	}
	if err := st2.Wait(); err != nil {
		t.Errorf("Wait after Close: %v, want nil", err)
	}

	// Closing the client ends its streams.
	st3, err := c.Exec(context.Background(), ExecOptions{Args: []string{"cat"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := io.ReadAll(st3); err != nil {
		t.Errorf("Read after the client closed: %v", err)
	}
	<-st3.Done()
	if _, err := c.Exec(context.Background(), ExecOptions{Args: []string{"cat"}}); err == nil {
		t.Error("Exec on a closed client succeeded")
	}
}

func TestStreamRemoteFailure(t *testing.T) {
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_fail", "")
	s.Authorize(key.pubLine)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))
	c := dialOK(t, "root@"+s.Addr(), testClientConfig(t, kh, key.file))

	cmd := []string{"sh", "-c", "echo sudo: a password is required >&2; exit 1"}
	out, err := execOutput(t, c, ExecOptions{Args: cmd})
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("Wait: %v, want an *ExitError", err)
	}
	if ee.Status != 1 || string(ee.Stderr) != "sudo: a password is required\n" {
		t.Errorf("ExitError{Status: %d, Stderr: %q}, want status 1 and the sudo message", ee.Status, ee.Stderr)
	}
	if !strings.Contains(err.Error(), "exited with status 1; it printed: sudo: a password is required") {
		t.Errorf("error %q does not show the status and what the remote printed", err)
	}

	t.Run("stderr limit and live copy", func(t *testing.T) {
		var live lockedBuffer
		st, err := c.Exec(context.Background(), ExecOptions{
			Args:        []string{"sh", "-c", "for i in $(seq 1000); do echo line $i >&2; done; exit 3"},
			StderrLimit: 100,
			Stderr:      &live,
		})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, st)
		err = st.Wait()
		if status, _ := st.ExitStatus(); status != 3 {
			t.Errorf("exit status %d, want 3 (%v)", status, err)
		}
		tail := st.Stderr()
		if len(tail) != 100 || !bytes.HasSuffix(tail, []byte("line 1000\n")) {
			t.Errorf("Stderr() = %q, want the last 100 bytes", tail)
		}
		if !strings.HasPrefix(live.String(), "line 1\n") || !strings.HasSuffix(live.String(), "line 1000\n") {
			t.Errorf("the live copy does not hold all of stderr (%d bytes)", len(live.String()))
		}
	})
	t.Run("arguments are quoted for the remote shell", func(t *testing.T) {
		args := []string{"it's", `"double"`, "$HOME", "`id`", "a b", "", "back\\slash", "semi;colon", "new\nline", "*", "~", "#"}
		out, err := execOutput(t, c, ExecOptions{Args: append([]string{"printf", `[%s]\n`}, args...)})
		if err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for _, a := range args {
			fmt.Fprintf(&want, "[%s]\n", a)
		}
		if out != want.String() {
			t.Errorf("the remote printf saw\n%s\nwant\n%s", out, want.String())
		}
	})
	t.Run("missing command", func(t *testing.T) {
		_, err := execOutput(t, c, ExecOptions{Args: []string{"pppssh-no-such-command", "serve"}})
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Status != 127 || !strings.Contains(err.Error(), `"pppssh-no-such-command serve"`) ||
			!strings.Contains(err.Error(), "not found") {
			t.Errorf("Wait: %v, want exit status 127 naming the command and the shell's complaint", err)
		}
	})
}

func TestStreamPTY(t *testing.T) {
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_pty", "")
	s.Authorize(key.pubLine)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))
	c := dialOK(t, "root@"+s.Addr(), testClientConfig(t, kh, key.file))

	t.Run("raw modes", func(t *testing.T) {
		out, err := execOutput(t, c, ExecOptions{Args: []string{"stty", "-a"}, PTY: true})
		if err != nil {
			t.Fatalf("stty -a: %v\n%s", err, out)
		}
		fields := strings.Fields(out)
		for _, want := range []string{"-echo", "-icanon", "-isig", "-iexten", "-icrnl", "-inlcr", "-igncr", "-ixon", "-istrip", "-opost", "-onlcr", "cs8", "-parenb"} {
			found := false
			for _, f := range fields {
				found = found || f == want
			}
			if !found {
				t.Errorf("stty -a on the remote pty lacks %s:\n%s", want, out)
			}
		}
	})
	t.Run("8-bit clean", func(t *testing.T) {
		st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"cat"}, PTY: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var want []byte
		for range 16 {
			for b := range 256 {
				want = append(want, byte(b))
			}
		}
		go st.Write(want)
		got := make([]byte, len(want))
		closeAfter(t, st, 10*time.Second)
		if _, err := io.ReadFull(st, got); err != nil {
			t.Fatalf("read back: %v (got %q)", err, got)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("the pty changed the bytes:\ngot  %q\nwant %q", got, want)
		}
	})
}

// closeAfter closes c if the test is still running after d, so that a
// stuck read fails the test instead of hanging it.
func closeAfter(t *testing.T, c io.Closer, d time.Duration) {
	timer := time.AfterFunc(d, func() { c.Close() })
	t.Cleanup(func() { timer.Stop() })
}

func TestClientKeepalive(t *testing.T) {
	goroutineLeakCheck(t)
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_ka", "")
	s.Authorize(key.pubLine)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))
	cfg := testClientConfig(t, kh, key.file)
	const interval, countMax = 250 * time.Millisecond, 3
	cfg.KeepaliveInterval, cfg.KeepaliveCountMax = interval, countMax
	c := dialOK(t, "root@"+s.Addr(), cfg)
	st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"cat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	buf := make([]byte, 5)
	if _, err := st.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(st, buf); err != nil {
		t.Fatal(err)
	}

	// Idle but healthy: the keepalives are answered.
	time.Sleep(6 * interval)
	select {
	case <-c.Done():
		t.Fatalf("connection declared dead while the server was answering: %v", c.Wait())
	default:
	}

	readErr := make(chan error, 1)
	go func() {
		_, err := st.Read(buf)
		readErr <- err
	}()
	frozen := time.Now()
	s.Freeze()
	limit := time.Duration(countMax+1)*interval + 2*time.Second
	select {
	case err := <-readErr:
		elapsed := time.Since(frozen)
		if !errors.Is(err, ErrKeepaliveTimeout) {
			t.Errorf("Read after the path froze: %v, want ErrKeepaliveTimeout", err)
		}
		if elapsed < time.Duration(countMax)*interval {
			t.Errorf("declared dead after %v, sooner than %d intervals of %v", elapsed, countMax, interval)
		}
		t.Logf("declared dead %v after the path froze: %v", elapsed.Round(time.Millisecond), err)
	case <-time.After(limit):
		t.Fatalf("not declared dead %v after the path froze (interval %v, count %d)", limit, interval, countMax)
	}
	if err := c.Wait(); !errors.Is(err, ErrKeepaliveTimeout) {
		t.Errorf("Client.Wait() = %v, want ErrKeepaliveTimeout", err)
	}
	if err := st.Wait(); !errors.Is(err, ErrKeepaliveTimeout) {
		t.Errorf("Stream.Wait() = %v, want ErrKeepaliveTimeout", err)
	}
	c.Close()
}

func TestClientAuthFailure(t *testing.T) {
	s := startSSHD(t)
	key := newUserKey(t, t.TempDir(), "id_unauthorized", "")
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, s.KnownHostsLine(portName(s.port)))
	err := dialErr(t, "root@"+s.Addr(), testClientConfig(t, kh, key.file))
	for _, want := range []string{"accepted none of our keys", key.file, ssh.FingerprintSHA256(key.pub), "authorized_keys"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	t.Run("missing -i file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		err := dialErr(t, "root@"+s.Addr(), testClientConfig(t, kh, missing))
		if !strings.Contains(err.Error(), missing) {
			t.Errorf("error %q does not name %s", err, missing)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		err := dialErr(t, "root@127.0.0.1:1", testClientConfig(t, kh, key.file))
		if !strings.Contains(err.Error(), "connect to root@127.0.0.1:1") {
			t.Errorf("error %q", err)
		}
	})
}
