package nstest

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

func TestMain(m *testing.M) { Main(m) }

// whereHelper prints its namespace, user and arguments, then waits for
// SIGTERM and says so.
var whereHelper = Register("where", func(args []string) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	ino, err := nsInode("/proc/self/ns/net")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf("netns=%d uid=%d gid=%d args=%s\n", ino, os.Geteuid(), os.Getegid(), strings.Join(args, ","))
	if len(args) > 0 && args[0] == "exit" {
		return 3
	}
	<-sigs
	fmt.Println("got SIGTERM")
	return 0
})

func nsInode(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

func TestNewAndCleanup(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		ns := New(t)
		name = ns.Name()
		if !strings.HasPrefix(name, fmt.Sprintf("%s%d-", Prefix, os.Getpid())) {
			t.Errorf("name %q does not start with %s<pid>-", name, Prefix)
		}
		if _, err := os.Stat("/run/netns/" + name); err != nil {
			t.Fatalf("namespace not created: %v", err)
		}
		out := ns.Run("ip", "-o", "link", "show", "lo")
		if !strings.Contains(out, "UP") {
			t.Errorf("lo not up in %s: %s", name, out)
		}
		// A process that would outlive the test is killed at cleanup.
		ns.Start(ns.Command("sleep", "600"))
	})
	if _, err := os.Stat("/run/netns/" + name); !os.IsNotExist(err) {
		t.Errorf("namespace %s still exists after its test ended (stat: %v)", name, err)
	}
}

func TestDo(t *testing.T) {
	ns := New(t)
	before, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	var links []string
	ns.MustDo(func() error {
		cur, err := netns.Get()
		if err != nil {
			return err
		}
		defer cur.Close()
		if !cur.Equal(ns.Handle()) {
			return fmt.Errorf("thread not in %s", ns.Name())
		}
		ll, err := netlink.LinkList()
		for _, l := range ll {
			links = append(links, l.Attrs().Name)
		}
		return err
	})
	if len(links) != 1 || links[0] != "lo" {
		t.Errorf("links inside the namespace = %v, want [lo]", links)
	}
	after, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if !after.Equal(before) {
		t.Errorf("thread left in another namespace after Do")
	}
	wantErr := fmt.Errorf("boom")
	if err := ns.Do(func() error { return wantErr }); err != wantErr {
		t.Errorf("Do returned %v, want f's error", err)
	}
}

func TestVeth(t *testing.T) {
	a, b := New(t), New(t)
	pa, pb := netip.MustParsePrefix("198.51.100.1/24"), netip.MustParsePrefix("198.51.100.2/24")
	ifA, ifB := Veth(t, a, b, pa, pb)
	if !strings.Contains(a.Run("ip", "-o", "addr", "show", "dev", ifA), "198.51.100.1/24") {
		t.Errorf("%s in %s lacks its address", ifA, a.Name())
	}
	if !strings.Contains(b.Run("ip", "-o", "addr", "show", "dev", ifB), "198.51.100.2/24") {
		t.Errorf("%s in %s lacks its address", ifB, b.Name())
	}

	// A datagram crosses from a to b.
	var conn *net.UDPConn
	b.MustDo(func() (err error) {
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP("198.51.100.2"), Port: 9})
		return err
	})
	defer conn.Close()
	a.MustDo(func() error {
		c, err := net.Dial("udp4", "198.51.100.2:9")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hello"))
		return err
	})
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("datagram from a did not reach b: %v", err)
	}
	if string(buf[:n]) != "hello" || !from.IP.Equal(net.ParseIP("198.51.100.1")) {
		t.Errorf("got %q from %v, want \"hello\" from 198.51.100.1", buf[:n], from)
	}
}

func TestHelper(t *testing.T) {
	ns := New(t)
	var want uint64
	ns.MustDo(func() (err error) {
		want, err = nsInode("/proc/thread-self/ns/net")
		return err
	})

	t.Run("stop", func(t *testing.T) {
		p := ns.Start(ns.Helper(whereHelper, "a", "b"))
		line := fmt.Sprintf("netns=%d uid=0 gid=0 args=a,b", want)
		if err := p.WaitOutput(line, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(5 * time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !strings.Contains(p.Output(), "got SIGTERM") {
			t.Errorf("helper did not see SIGTERM; output:\n%s", p.Output())
		}
	})
	t.Run("exit status", func(t *testing.T) {
		p := ns.Start(ns.Helper(whereHelper, "exit"))
		err := p.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Errorf("Wait = %v, want exit status 3", err)
		}
	})
	t.Run("as nobody", func(t *testing.T) {
		cmd := ns.Helper(whereHelper, "exit")
		RunAs(cmd, 65534, 65534)
		p := ns.Start(cmd)
		p.Wait()
		if want := fmt.Sprintf("netns=%d uid=65534 gid=65534", want); !strings.Contains(p.Output(), want) {
			t.Errorf("output %q does not contain %q", p.Output(), want)
		}
	})
}

func TestWaitOutputExited(t *testing.T) {
	ns := New(t)
	p := ns.Start(ns.Command("echo", "something else"))
	err := p.WaitOutput("ready", 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "something else") {
		t.Errorf("WaitOutput on an exited process = %v, want an error naming the exit and the output", err)
	}
}
