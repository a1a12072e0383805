package sshdtest

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

// TestStart logs in to the sshd of Start as the test account with a key
// whose authorized_keys line forces a command, and checks what the
// command saw: its user, the command the client asked for, and a
// /dev/net/tun it may open.
func TestStart(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("ip", "addr", "add", "2001:db8::1/64", "dev", "lo")
	srv := Start(t, ns, "[2001:db8::1]:2222")
	key := NewKey(t, t.TempDir(), "client")
	srv.Authorize(`command="id -un; echo $SSH_ORIGINAL_COMMAND; test -r /dev/net/tun -a -w /dev/net/tun && echo tun ok",restrict`, key.AuthorizedLine)
	home := t.TempDir()
	known := home + "/known_hosts"
	if err := os.WriteFile(known, []byte(srv.KnownHostsLine()), 0o600); err != nil {
		t.Fatal(err)
	}
	if want := "[2001:db8::1]:2222 ssh-ed25519 "; !strings.HasPrefix(srv.KnownHostsLine(), want) {
		t.Errorf("KnownHostsLine() = %q, want it to start with %q", srv.KnownHostsLine(), want)
	}

	var out []byte
	ns.MustDo(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := sshtransport.Dial(ctx, srv.Account.Name+"@"+srv.Addr, &sshtransport.ClientConfig{
			Home: home, ConfigFile: "none", SystemConfigFile: "none", AgentSocket: "none",
			KnownHostsFiles: []string{known}, IdentityFiles: []string{key.File}, KeepaliveInterval: -1,
		})
		if err != nil {
			return err
		}
		defer c.Close()
		s, err := c.Exec(ctx, sshtransport.ExecOptions{Args: []string{"pppssh", "serve", "route", "198.51.100.0/24"}})
		if err != nil {
			return err
		}
		out, err = io.ReadAll(s)
		if err != nil {
			return err
		}
		return s.Wait()
	})
	want := srv.Account.Name + "\npppssh serve route 198.51.100.0/24\ntun ok\n"
	if string(out) != want {
		t.Errorf("the forced command printed %q, want %q", out, want)
	}
	if err := srv.WaitLog("Close session: user "+srv.Account.Name, 10*time.Second); err != nil {
		t.Error(err)
	}

	PersistentTUN(t, ns, "ppp7", srv.Account, "192.0.2.1", "192.0.2.2")
	if out := ns.Run("ip", "-d", "link", "show", "ppp7"); !strings.Contains(out, "user "+strconv.Itoa(srv.Account.UID)) &&
		!strings.Contains(out, "user "+srv.Account.Name) {
		t.Errorf("ppp7 is not owned by %s:\n%s", srv.Account.Name, out)
	}
}

// TestInstallCopy copies an executable with CAP_NET_ADMIN as a file
// capability.
func TestInstallCopy(t *testing.T) {
	nstest.RequireRoot(t)
	path, remove, err := InstallCopy("/bin/true", "true-copy", true)
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("copy %s: %v, mode %v", path, err, fi.Mode())
	}
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, "security.capability", buf)
	if err != nil || n != 20 || buf[4] != 0 || buf[5] != 0x10 { // bit 12, CAP_NET_ADMIN
		t.Errorf("security.capability of %s: %d octets %x, %v", path, n, buf[:max(n, 0)], err)
	}
	remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("remove left %s (stat: %v)", path, err)
	}
}
