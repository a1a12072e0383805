package netns

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLifecycle creates a namespace, runs code and a program in it, and
// deletes it with what runs there.
func TestLifecycle(t *testing.T) {
	if err := RequireRoot(); err != nil {
		t.Fatalf("%v (run the tests as root)", err)
	}
	name := fmt.Sprintf("pppssh-netns-test-%d", os.Getpid())
	if err := Create(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Delete(name) })
	if !Exists(name) || len(List("pppssh-netns-test-")) == 0 {
		t.Fatalf("%s not listed after Create", name)
	}
	var names []string
	if err := Do(name, func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != "lo" {
		t.Errorf("interfaces inside: %v, want only lo", names)
	}
	out, err := Command(name, "ip", "-o", "link", "show", "lo").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "UP") {
		t.Errorf("lo inside %s: %v %s", name, err, out)
	}
	sleeper := Command(name, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	// ip netns exec enters the namespace after it starts: wait until the
	// process is there, as a program the demo started would be.
	pid := strconv.Itoa(sleeper.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, _ := exec.Command("ip", "netns", "pids", name).Output()
		if slices.Contains(strings.Fields(string(out)), pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %s never appeared in %s", pid, name)
		}
	}
	if err := Delete(name); err != nil {
		t.Fatal(err)
	}
	if err := sleeper.Wait(); err == nil {
		t.Error("a process in the namespace outlived Delete")
	}
	if Exists(name) {
		t.Errorf("%s still exists after Delete", name)
	}
	if err := Delete(name); err != nil {
		t.Errorf("Delete of a namespace that is gone: %v", err)
	}
}
