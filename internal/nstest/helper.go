package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The test binary re-executed as a helper finds its instructions here.
const (
	helperEnv = "PPPSSH_NSTEST_HELPER" // name of the registered function to run
	userEnv   = "PPPSSH_NSTEST_USER"   // "uid:gid" to switch to before running it
)

var (
	helpersMu sync.Mutex
	helpers   = map[string]func(args []string) int{}
)

// Register makes fn runnable as a helper process called name, and returns
// name. Call it from a package-level variable declaration or init function
// of a _test.go file, so that it has run before Main:
//
//	var engineHelper = nstest.Register("engine", func(args []string) int {
//		… // runs in its own process; args are those given to (*NS).Helper
//		return 0 // the exit status
//	})
//
// The function runs in a fresh process of the test binary, in whichever
// namespace the helper was started in. Its standard output and standard
// error go to the test (see (*Proc).Output and (*Proc).WaitOutput). It should
// stop cleanly on SIGTERM when the test asks it to ((*Proc).Stop). Register
// panics if name is taken.
func Register(name string, fn func(args []string) int) string {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	if _, dup := helpers[name]; dup {
		panic("nstest: helper " + strconv.Quote(name) + " registered twice")
	}
	helpers[name] = fn
	return name
}

// Main is the TestMain of a package whose tests start helpers:
//
//	func TestMain(m *testing.M) { nstest.Main(m) }
//
// When the binary runs as a helper it runs the helper function and exits
// with its status; otherwise it runs the tests. A package has one TestMain:
// every test file of the package registers its helpers with Register and
// shares it.
func Main(m *testing.M) {
	if name, ok := os.LookupEnv(helperEnv); ok {
		os.Exit(runHelper(name))
	}
	os.Exit(m.Run())
}

func runHelper(name string) int {
	user := os.Getenv(userEnv)
	// The helper's own children are ordinary programs, not helpers.
	os.Unsetenv(helperEnv)
	os.Unsetenv(userEnv)
	helpersMu.Lock()
	fn := helpers[name]
	helpersMu.Unlock()
	if fn == nil {
		fmt.Fprintf(os.Stderr, "nstest: no helper %q registered (registered: %s)\n", name, strings.Join(registered(), ", "))
		return 2
	}
	if user != "" {
		if err := becomeUser(user); err != nil {
			fmt.Fprintf(os.Stderr, "nstest: helper %s: %v\n", name, err)
			return 2
		}
	}
	return fn(os.Args[1:])
}

// becomeUser drops root for "uid:gid": supplementary groups, then group, then
// user, on every thread. Capabilities go with root.
func becomeUser(spec string) error {
	u, g, ok := strings.Cut(spec, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("bad user %q, want uid:gid", spec)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("setresgid %d: %w", gid, err)
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("setresuid %d: %w", uid, err)
	}
	return nil
}

func registered() []string {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	names := make([]string, 0, len(helpers))
	for n := range helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Helper returns a command that runs the registered helper name, with args,
// as a new process of the current test binary inside the namespace. Start it
// with (*NS).Start. It fails the test if no helper has that name.
func (ns *NS) Helper(name string, args ...string) *exec.Cmd {
	ns.t.Helper()
	helpersMu.Lock()
	_, ok := helpers[name]
	helpersMu.Unlock()
	if !ok {
		ns.t.Fatalf("nstest: no helper %q registered (registered: %s)", name, strings.Join(registered(), ", "))
	}
	exe, err := os.Executable()
	if err != nil {
		ns.t.Fatalf("nstest: find the test binary: %v", err)
	}
	cmd := ns.Command(exe, args...)
	// A binary built with -race sleeps a second at exit (for late reports
	// from other threads) unless told not to; helpers exit often.
	race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), helperEnv+"="+name, "GORACE="+race)
	return cmd
}

// RunAs makes a helper command (from Helper) give up root and run its
// function as uid and gid, with no supplementary groups and no capabilities.
// The process starts as root so that it can enter the namespace and execute
// the test binary, which the go command keeps in a directory only root can
// read.
func RunAs(cmd *exec.Cmd, uid, gid int) {
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d:%d", userEnv, uid, gid))
}

// helperName returns the helper a command runs, or "".
func helperName(cmd *exec.Cmd) string {
	for _, e := range cmd.Env {
		if v, ok := strings.CutPrefix(e, helperEnv+"="); ok {
			return v
		}
	}
	return ""
}
