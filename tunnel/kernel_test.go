package tunnel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const (
	uidNobody = 65534
	gidNogrp  = 65534
	uidDaemon = 1
)

// tunOpenHelper opens the TUN named args[1] through the clone device
// args[0] and prints the outcome on one line.
var tunOpenHelper = nstest.Register("tun-open", func(args []string) int {
	t, err := OpenTUN(TUNConfig{CloneDevice: args[0], Name: args[1]})
	if err != nil {
		fmt.Printf("ERR %v\n", err)
		return 0
	}
	defer t.Close()
	fmt.Printf("OK name=%s created=%v offload=%v\n", t.Name(), t.Created(), t.Offload())
	return 0
})

// tunEchoHelper attaches to the TUN named args[1] through the clone device
// args[0], says READY, then sends the first IPv4 UDP datagram it reads back
// to where it came from, and exits.
var tunEchoHelper = nstest.Register("tun-echo", func(args []string) int {
	t, err := OpenTUN(TUNConfig{CloneDevice: args[0], Name: args[1]})
	if err != nil {
		fmt.Printf("ERR %v\n", err)
		return 1
	}
	defer t.Close()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() { <-sigs; t.Close() }()
	fmt.Printf("READY name=%s created=%v offload=%v uid=%d\n", t.Name(), t.Created(), t.Offload(), os.Geteuid())

	bufs, sizes := tunBufs(t.BatchSize())
	for {
		n, err := t.Read(bufs, sizes, Headroom)
		if err != nil {
			fmt.Printf("ERR read: %v\n", err)
			return 1
		}
		for i := range n {
			pkt := bufs[i][Headroom : Headroom+sizes[i]]
			if !swapUDP(pkt) {
				continue
			}
			if _, err := t.Write([][]byte{bufs[i][:Headroom+sizes[i]]}, Headroom); err != nil {
				fmt.Printf("ERR write: %v\n", err)
				return 1
			}
			fmt.Printf("ECHOED %d bytes\n", len(pkt))
			return 0
		}
	}
})

func tunBufs(n int) ([][]byte, []int) {
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, Headroom+65535)
	}
	return bufs, make([]int, n)
}

// swapUDP turns an IPv4 UDP datagram around in place: addresses and ports
// swapped, which leaves both checksums valid. It reports whether pkt was one.
func swapUDP(pkt []byte) bool {
	if len(pkt) < 28 || pkt[0]>>4 != 4 || pkt[9] != unix.IPPROTO_UDP {
		return false
	}
	ihl := int(pkt[0]&0xf) * 4
	if len(pkt) < ihl+8 {
		return false
	}
	for i := range 4 {
		pkt[12+i], pkt[16+i] = pkt[16+i], pkt[12+i]
	}
	for i := range 2 {
		pkt[ihl+i], pkt[ihl+2+i] = pkt[ihl+2+i], pkt[ihl+i]
	}
	return true
}

// cloneNode makes a private TUN clone device node with the given mode, in a
// directory every user can enter, and returns its path. It lets a test give
// an unprivileged helper access to TUN (or deny it) whatever the mode of
// /dev/net/tun on this machine.
func cloneNode(t *testing.T, mode uint32) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pppssh-tun-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tun")
	if err := unix.Mknod(path, unix.S_IFCHR|mode, int(unix.Mkdev(10, 200))); err != nil {
		t.Fatalf("mknod %s: %v", path, err)
	}
	if err := os.Chmod(path, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
	return path
}

// openTUN opens a TUN inside ns and closes it when the test ends.
func openTUN(t *testing.T, ns *nstest.NS, cfg TUNConfig) (*TUN, error) {
	t.Helper()
	var tt *TUN
	err := ns.Do(func() (err error) {
		tt, err = OpenTUN(cfg)
		return err
	})
	if tt != nil {
		t.Cleanup(func() { tt.Close() })
	}
	return tt, err
}

func mustOpenTUN(t *testing.T, ns *nstest.NS, cfg TUNConfig) *TUN {
	t.Helper()
	tt, err := openTUN(t, ns, cfg)
	if err != nil {
		t.Fatalf("OpenTUN(%+v): %v", cfg, err)
	}
	return tt
}

// linkExists reports whether ns has an interface called name.
func linkExists(t *testing.T, ns *nstest.NS, name string) bool {
	t.Helper()
	var found bool
	ns.MustDo(func() error {
		_, err := netlink.LinkByName(name)
		if errors.As(err, new(netlink.LinkNotFoundError)) {
			return nil
		}
		found = err == nil
		return err
	})
	return found
}

func TestOpenTUNDefaultName(t *testing.T) {
	ns := nstest.New(t)
	first := mustOpenTUN(t, ns, TUNConfig{})
	if first.Name() != "ppp0" || !first.Created() {
		t.Fatalf("first TUN: name %q created %v, want ppp0 created", first.Name(), first.Created())
	}
	if !first.Offload() || first.BatchSize() != 128 {
		t.Errorf("offload %v batch %d, want offloads on with batches of 128", first.Offload(), first.BatchSize())
	}
	var v6off []byte
	ns.MustDo(func() (err error) {
		v6off, err = os.ReadFile("/proc/sys/net/ipv6/conf/ppp0/disable_ipv6")
		return err
	})
	if string(v6off) != "1\n" {
		t.Errorf("disable_ipv6 on the created ppp0 = %q, want 1", v6off)
	}
	second := mustOpenTUN(t, ns, TUNConfig{})
	if second.Name() != "ppp1" {
		t.Errorf("second TUN: name %q, want ppp1", second.Name())
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if linkExists(t, ns, "ppp0") {
		t.Errorf("ppp0 still exists after Close of the TUN that created it")
	}
	again := mustOpenTUN(t, ns, TUNConfig{})
	if again.Name() != "ppp0" {
		t.Errorf("after closing ppp0, got %q, want ppp0 again", again.Name())
	}
}

func TestOpenTUNExplicitName(t *testing.T) {
	ns := nstest.New(t)
	tt := mustOpenTUN(t, ns, TUNConfig{Name: "vpn7", NoOffload: true})
	if tt.Name() != "vpn7" || !tt.Created() || tt.Offload() || tt.BatchSize() != 1 {
		t.Errorf("got name %q created %v offload %v batch %d, want vpn7 created without offloads, batch 1",
			tt.Name(), tt.Created(), tt.Offload(), tt.BatchSize())
	}
	var l netlink.Link
	ns.MustDo(func() (err error) { l, err = netlink.LinkByName("vpn7"); return err })
	if tap, ok := l.(*netlink.Tuntap); !ok || tap.Mode != netlink.TUNTAP_MODE_TUN || !tap.NonPersist {
		t.Errorf("vpn7 is %#v, want a non-persistent TUN", l)
	}
}

func TestOpenTUNBadNames(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "taken0", "type", "veth", "peer", "name", "taken1")
	ns.Run("ip", "tuntap", "add", "dev", "tap0", "mode", "tap")
	for _, tc := range []struct{ name, want string }{
		{"taken0", "tunnel: taken0 exists and is not a TUN device (it is a veth device); choose another name, or remove it: ip link del taken0"},
		{"tap0", "tunnel: tap0 exists and is not a TUN device (it is a TAP device)"},
		{"a-very-long-name0", `tunnel: bad TUN name "a-very-long-name0"`},
		{"ppp%s", `tunnel: bad TUN name "ppp%s"`},
	} {
		_, err := openTUN(t, ns, TUNConfig{Name: tc.name})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("OpenTUN(%q) error = %v, want it to start with %q", tc.name, err, tc.want)
		}
	}
}

func TestOpenTUNBusy(t *testing.T) {
	ns := nstest.New(t)
	mustOpenTUN(t, ns, TUNConfig{Name: "busy0"})
	_, err := openTUN(t, ns, TUNConfig{Name: "busy0"})
	want := "tunnel: attach to TUN busy0: device busy (another process has it open: stop that process, or choose another name)"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, unix.EBUSY) {
		t.Errorf("second OpenTUN(busy0) error = %v, want %q wrapping EBUSY", err, want)
	}
}

// TestTUNReadWrite moves a datagram through a created TUN and checks the
// offset contract and that Close ends a blocked Read.
func TestTUNReadWrite(t *testing.T) {
	ns := nstest.New(t)
	tt := mustOpenTUN(t, ns, TUNConfig{Name: "rw0"})
	ns.Run("ip", "addr", "add", "192.0.2.1", "peer", "192.0.2.2", "dev", "rw0")
	ns.Run("ip", "link", "set", "rw0", "up")

	var conn net.Conn
	ns.MustDo(func() (err error) {
		conn, err = net.Dial("udp4", "192.0.2.2:7")
		return err
	})
	defer conn.Close()
	if _, err := conn.Write([]byte("through the tunnel")); err != nil {
		t.Fatal(err)
	}
	bufs, sizes := tunBufs(tt.BatchSize())
	readDone := make(chan error, 1)
	go func() {
		for {
			n, err := tt.Read(bufs, sizes, Headroom)
			if err != nil {
				readDone <- err
				return
			}
			for i := range n {
				pkt := bufs[i][Headroom : Headroom+sizes[i]]
				if swapUDP(pkt) {
					if _, err := tt.Write([][]byte{bufs[i][:Headroom+sizes[i]]}, 4); err != errShortOffset {
						readDone <- fmt.Errorf("Write at offset 4 = %v, want errShortOffset", err)
						return
					}
					_, err := tt.Write([][]byte{bufs[i][:Headroom+sizes[i]]}, Headroom)
					readDone <- err
					return
				}
			}
		}
	}()
	select {
	case err := <-readDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the datagram sent to 192.0.2.2 never came out of the TUN")
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply := make([]byte, 64)
	n, err := conn.Read(reply)
	if err != nil || string(reply[:n]) != "through the tunnel" {
		t.Fatalf("reply written to the TUN: %q, %v", reply[:n], err)
	}

	// Close makes a blocked Read return os.ErrClosed. (Until then, the
	// kernel's own IPv6 chatter on the new link may come out.)
	go func() {
		for {
			if _, err := tt.Read(bufs, sizes, Headroom); err != nil {
				readDone <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	tt.Close()
	select {
	case err := <-readDone:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read after Close = %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

// TestTUNAttachPersistent attaches to persistent TUNs owned by nobody, made
// with each of ip tuntap's flags, from a process running as nobody, and moves
// a datagram through each both ways: the offloads are on whatever flags the
// device was made with.
func TestTUNAttachPersistent(t *testing.T) {
	clone := cloneNode(t, 0o666)
	for _, flag := range []string{"", "vnet_hdr", "pi", "multi_queue"} {
		t.Run("flags "+flag, func(t *testing.T) {
			ns := nstest.New(t)
			args := []string{"ip", "tuntap", "add", "dev", "pst0", "mode", "tun", "user", "nobody"}
			if flag != "" {
				args = append(args, flag)
			}
			ns.Run(args...)
			ns.Run("ip", "addr", "add", "192.0.2.1", "peer", "192.0.2.2", "dev", "pst0")
			ns.Run("ip", "link", "set", "pst0", "up")

			cmd := ns.Helper(tunEchoHelper, clone, "pst0")
			nstest.RunAs(cmd, uidNobody, gidNogrp)
			p := ns.Start(cmd)
			if err := p.WaitOutput("READY name=pst0 created=false offload=true uid=65534", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			var conn net.Conn
			ns.MustDo(func() (err error) {
				conn, err = net.Dial("udp4", "192.0.2.2:7")
				return err
			})
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write([]byte("hello nobody")); err != nil {
				t.Fatal(err)
			}
			reply := make([]byte, 64)
			n, err := conn.Read(reply)
			if err != nil || string(reply[:n]) != "hello nobody" {
				t.Fatalf("reply through the persistent TUN: %q, %v; helper output:\n%s", reply[:n], err, p.Output())
			}
			if err := p.Wait(); err != nil {
				t.Fatalf("helper: %v\n%s", err, p.Output())
			}
			if !linkExists(t, ns, "pst0") {
				t.Errorf("persistent pst0 was deleted when the attached process exited")
			}
		})
	}
}

// TestTUNPermissions runs OpenTUN in unprivileged processes and checks each
// refusal explains itself.
func TestTUNPermissions(t *testing.T) {
	ns := nstest.New(t)
	open := cloneNode(t, 0o666)
	closed := cloneNode(t, 0o600) // like this machine's /dev/net/tun
	ns.Run("ip", "tuntap", "add", "dev", "pst0", "mode", "tun", "user", "nobody")

	for _, tc := range []struct {
		name     string
		uid      int
		clone    string
		dev      string
		want     string
		wantMore string
	}{
		{"clone device not accessible", uidNobody, closed, "", "ERR tunnel: open " + closed + ": permission denied (run as root or with CAP_NET_ADMIN;", "ip tuntap add dev ppp0 mode tun user USER"},
		{"create without CAP_NET_ADMIN", uidNobody, open, "", "ERR tunnel: create TUN ppp%d: operation not permitted (run as root or with CAP_NET_ADMIN", "ip tuntap add dev ppp0 mode tun user USER"},
		{"persistent TUN of another user", uidDaemon, open, "pst0", "ERR tunnel: attach to TUN pst0: operation not permitted (it belongs to uid 65534: run as that user, or as root)", ""},
		{"persistent TUN of this user", uidNobody, open, "pst0", "OK name=pst0 created=false offload=true", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := ns.Helper(tunOpenHelper, tc.clone, tc.dev)
			nstest.RunAs(cmd, tc.uid, tc.uid)
			p := ns.Start(cmd)
			if err := p.Wait(); err != nil {
				t.Fatalf("helper: %v\n%s", err, p.Output())
			}
			out := p.Output()
			if !strings.HasPrefix(out, tc.want) || !strings.Contains(out, tc.wantMore) {
				t.Errorf("got %q\nwant it to start with %q and contain %q", out, tc.want, tc.wantMore)
			}
		})
	}
}
