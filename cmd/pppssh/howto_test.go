package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/internal/sshdtest"
)

// The HOWTO tests run the VPN PPP-SSH mini-HOWTO's command lines with
// pppssh installed as pppd on both ends and OpenSSH's ssh and sshd doing
// the transport, over a veth pair carrying 198.51.100.0/24 (the server
// 198.51.100.1, the client 198.51.100.2); the link is 192.0.2.0/24.
//
// On the server, the unprivileged account pppssh-slave runs the command
// the client asks for ("pppd nodetach …") through a forced command that
// puts a directory first on its PATH holding pppssh under the name pppd,
// with CAP_NET_ADMIN as a file capability (the HOWTO's sudo): the remote
// pppd makes, configures and removes its own ppp0.

// howtoSSHPort is where the HOWTO tests' sshd listens: not 22, so that
// the client's -p is exercised.
const howtoSSHPort = "2222"

// howtoSetup is what a HOWTO test runs against.
type howtoSetup struct {
	srv     *sshdtest.Server
	gw, cl  *nstest.NS
	key     sshdtest.Key
	known   string // the client's UserKnownHostsFile
	logDir  string // for both ends' logfiles, writable by the account
	started time.Time
}

// startHowto makes the two namespaces, the veth between them, sshd in the
// server's, and the account's pppd. keyOptions ends the authorized_keys
// line's options ("restrict", or "restrict,pty" to let ssh -t have a
// terminal).
func startHowto(t *testing.T, keyOptions string) *howtoSetup {
	t.Helper()
	nstest.RequireTool(t, "ssh", "openssh-client")
	h := &howtoSetup{started: time.Now()}
	h.gw, h.cl = nstest.New(t), nstest.New(t)
	nstest.Veth(t, h.gw, h.cl, netip.MustParsePrefix("198.51.100.1/24"), netip.MustParsePrefix("198.51.100.2/24"))
	h.srv = sshdtest.Start(t, h.gw, "198.51.100.1:"+howtoSSHPort)

	pppd, remove, err := sshdtest.InstallCopy(pppsshBin(t), "pppd", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	dir := t.TempDir()
	h.key = sshdtest.NewKey(t, dir, "client")
	// The forced command runs what the client asked for with the
	// account's pppd first on its PATH, as if pppssh were installed as
	// /usr/sbin/pppd.
	forced := fmt.Sprintf(`command="PATH=%s:$PATH; export PATH; exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"",%s`,
		filepath.Dir(pppd), keyOptions)
	h.srv.Authorize(forced, h.key.AuthorizedLine)
	h.known = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(h.known, []byte(h.srv.KnownHostsLine()), 0o600); err != nil {
		t.Fatal(err)
	}
	h.logDir = sshdtest.WorldReadableDir(t, "pppssh-howto-")
	return h
}

// sshCommand returns the pty command: OpenSSH's ssh to the account, with
// sshOptions (such as -t) and the remote command.
func (h *howtoSetup) sshCommand(sshOptions, remote string) string {
	return fmt.Sprintf("ssh -F none -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes "+
		"-o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile=%s -i %s -p %s %s %s@198.51.100.1 %s",
		h.known, h.key.File, howtoSSHPort, sshOptions, h.srv.Account.Name, remote)
}

// accountLogfile creates a logfile the account may write and returns its
// path.
func (h *howtoSetup) accountLogfile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(h.logDir, name)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, h.srv.Account.UID, h.srv.Account.GID); err != nil {
		t.Fatal(err)
	}
	return path
}

// runHowto runs pppd (pppssh under that name) in the client namespace with
// the HOWTO's options and the pty command, checks that updetach returns 0
// with the link up, that ping crosses it both ways and the server's ppp0
// has the negotiated addresses, then sends SIGTERM to the background
// process and checks that both ends end and remove their interfaces.
// remoteLog, if not empty, is the far end's logfile, shown on failure.
func runHowto(t *testing.T, h *howtoSetup, ptyCommand, remoteLog string) {
	t.Helper()
	logfile := filepath.Join(h.logDir, "client.log")
	showLogs := func() {
		if !t.Failed() {
			return
		}
		for _, f := range []string{logfile, remoteLog} {
			if f == "" {
				continue
			}
			b, err := os.ReadFile(f)
			t.Logf("%s (%v):\n%s", f, err, b)
		}
	}
	t.Cleanup(showLogs)

	cmd := h.cl.Command(pppdBinary(t), "updetach", "noauth", "silent", "nodeflate", "pty", ptyCommand,
		"ipparam", "vpn", "192.0.2.1:192.0.2.2", "logfile", logfile)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SSH_AUTH_SOCK=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("pppd updetach: %v (after %v); output:\n%s", err, time.Since(start), out.String())
		}
	case <-time.After(sshTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("pppd updetach did not return within %v; output:\n%s", sshTimeout, out.String())
	}
	t.Logf("updetach returned 0 after %v", time.Since(start).Round(time.Millisecond))
	m := regexp.MustCompile(`in the background as process (\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no background process ID in the output:\n%s", out.String())
	}
	pid, _ := strconv.Atoi(m[1])
	for _, want := range []string{"local  IP address 192.0.2.1", "remote IP address 192.0.2.2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output before updetach lacks %q:\n%s", want, out.String())
		}
	}

	mustPingFrom(t, h.cl, "192.0.2.2")
	mustPingFrom(t, h.gw, "192.0.2.1")
	if got := h.gw.Run("ip", "-4", "-o", "addr", "show", "dev", "ppp0"); !strings.Contains(got, "192.0.2.2 peer 192.0.2.1") {
		t.Errorf("the server's ppp0: %q, want 192.0.2.2 peer 192.0.2.1", got)
	}

	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	pidfdWait(t, pid, sshTimeout)
	linkGone(t, h.cl, "ppp0")
	// OpenSSH's ssh disconnects as soon as the session's command has
	// exited (sshd then logs no "Close session").
	if err := h.srv.WaitLog("Disconnected from user "+h.srv.Account.Name, sshTimeout); err != nil {
		t.Errorf("the SSH session did not end after the link: %v", err)
	}
	// The remote pppd's TUN goes when the process has let go of it.
	waitLinkGone(t, h.gw, "ppp0", sshTimeout)
	log, err := os.ReadFile(logfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Terminating on signal 15", "Connection terminated.", "Connect time"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the client's logfile lacks %q:\n%s", want, log)
		}
	}
	t.Logf("test took %v", time.Since(h.started).Round(time.Millisecond))
}

// TestHowtoPtySSH is the HOWTO's one-liner against OpenSSH:
//
//	pppd updetach noauth silent nodeflate \
//	  pty "ssh … pppssh-slave@198.51.100.1 pppd nodetach notty noauth" \
//	  ipparam vpn 192.0.2.1:192.0.2.2
//
// The remote pppd speaks PPP on the session's standard input and output
// (notty) and logs to its standard error, which ssh passes on to the
// client's log behind "pty: ".
func TestHowtoPtySSH(t *testing.T) {
	t.Parallel()
	h := startHowto(t, "restrict")
	runHowto(t, h, h.sshCommand("", "pppd nodetach notty noauth"), "")
	log, _ := os.ReadFile(filepath.Join(h.logDir, "client.log"))
	// The far end's own log, through ssh's standard error.
	for _, want := range []string{"pty: Connect: ppp0 <--> stdio", "pty: Connection terminated."} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the client's logfile lacks the far end's %q:\n%s", want, log)
		}
	}
}

// TestHowtoSSHt is the HOWTO's older form, through "ssh -t": sshd gives
// the remote pppd a terminal, without notty, which it speaks PPP on (its
// standard input and output, put in raw mode); silent keeps the client
// quiet until the remote pppd speaks, so that nothing reaches the remote
// terminal before it is raw. The remote pppd's standard error is that
// terminal too, so it logs to its logfile only.
func TestHowtoSSHt(t *testing.T) {
	t.Parallel()
	h := startHowto(t, "restrict,pty")
	remoteLog := h.accountLogfile(t, "remote.log")
	runHowto(t, h, h.sshCommand("-t", "pppd nodetach noauth logfile "+remoteLog), remoteLog)
	log, err := os.ReadFile(remoteLog)
	if err != nil {
		t.Fatal(err)
	}
	// Its terminal is the pty sshd made for the session.
	for _, want := range []string{"Connect: ppp0 <--> /dev/pts/", "Connection terminated."} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the remote pppd's logfile lacks %q:\n%s", want, log)
		}
	}
	if out, _ := os.ReadFile(filepath.Join(h.logDir, "client.log")); strings.Contains(string(out), "far end wrote") {
		t.Errorf("text reached the PPP stream:\n%s", out)
	}
}

// waitLinkGone waits until ns no longer has the interface dev, checking
// every 50 ms, and fails the test if it still has it after timeout.
func waitLinkGone(t *testing.T, ns *nstest.NS, dev string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := exec.Command("ip", "-n", ns.Name(), "link", "show", "dev", dev).CombinedOutput()
		if err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s still exists in %s %v after the link ended:\n%s", dev, ns.Name(), timeout, out)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
