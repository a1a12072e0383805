// Package netns manages named Linux network namespaces for pppssh's own
// commands (pppssh demo): create and delete them the way ip netns does, run
// Go code with its thread inside one, and run programs inside one. It needs
// root (CAP_SYS_ADMIN) and the ip program of iproute2.
package netns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

// Dir is where ip netns keeps its named namespaces.
const Dir = "/run/netns"

// Exists reports whether the named namespace exists.
func Exists(name string) bool {
	_, err := os.Stat(Dir + "/" + name)
	return err == nil
}

// List returns the named namespaces whose names start with prefix.
func List(prefix string) []string {
	entries, err := os.ReadDir(Dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names
}

// Create makes a named namespace (ip netns add) and brings its loopback
// interface up.
func Create(name string) error {
	if err := ip("netns", "add", name); err != nil {
		return err
	}
	return ip("-n", name, "link", "set", "lo", "up")
}

// Delete ends every process left in the namespace (SIGKILL; they are the
// caller's), then deletes it, which destroys its virtual devices. A
// namespace that does not exist is not an error.
func Delete(name string) error {
	if !Exists(name) {
		return nil
	}
	KillAll(name)
	return ip("netns", "del", name)
}

// KillAll sends SIGKILL to the processes in the named namespace and waits
// up to two seconds for them to be gone.
func KillAll(name string) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		out, err := exec.Command("ip", "netns", "pids", name).Output()
		if err != nil {
			return
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, f := range pids {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Command returns a command that runs path with args inside the named
// namespace (ip netns exec, which executes the program in its place, so
// that the command's process is the program's).
func Command(name, path string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", name, path}, args...)...)
}

// Run runs the ip command with args, as iproute2 writes them, and returns
// an error with its output if it fails.
func Run(args ...string) error { return ip(args...) }

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Do runs f on the calling goroutine with its thread switched into the
// named namespace, and switches back. Sockets, netlink handles and files
// under /proc/sys/net that f opens belong to that namespace and may be
// used from any goroutine afterwards. A thread that cannot be switched back
// stays locked and is discarded when the goroutine ends.
func Do(name string, f func() error) error {
	h, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("netns: open namespace %s: %w", name, err)
	}
	defer h.Close()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(h); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter namespace %s: %w", name, err)
	}
	defer func() {
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return f()
}

// Handle returns an open handle on the named namespace; close it after
// use.
func Handle(name string) (netns.NsHandle, error) {
	h, err := netns.GetFromName(name)
	if err != nil {
		return h, fmt.Errorf("netns: open namespace %s: %w", name, err)
	}
	return h, nil
}

// ErrNotRoot is returned by RequireRoot.
var ErrNotRoot = errors.New("netns: network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")

// RequireRoot returns ErrNotRoot unless the process runs as root.
func RequireRoot() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	return nil
}
