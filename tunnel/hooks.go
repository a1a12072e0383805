package tunnel

import (
	"bufio"
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DefaultHookTimeout is how long an ip-up or ip-down script may run before
// it is killed, when Hooks.Timeout is zero.
const DefaultHookTimeout = 30 * time.Second

// hookOutputMax bounds how much of a script's output is kept for the log.
const hookOutputMax = 64 << 10

// Hooks runs pppd's ip-up and ip-down scripts, the way pppd does (see
// pppd(8), SCRIPTS): with the arguments
//
//	interface-name tty-device speed local-IP-address remote-IP-address ipparam
//
// and an environment that holds only these variables: IFNAME, IPLOCAL,
// IPREMOTE, DEVICE, SPEED, PPPLOGNAME, ORIG_UID, PPPD_PID (this process),
// IPPARAM and LINKNAME when set, DNS1 and DNS2 when the peer gave DNS
// servers, and for ip-down CONNECT_TIME, BYTES_SENT and BYTES_RCVD. Like
// pppd's, the environment has no PATH, so scripts should set their own. Unlike
// pppd, which sends a script's output to /dev/null, Hooks logs it.
//
// Hooks satisfies Host, so it can stand alone for a device that needs no
// configuration; NetHost runs one after configuring the interface. A script
// that fails, or is killed after Timeout, is logged and otherwise ignored, as
// in pppd: Up and Down return nil. A script path that does not exist is
// skipped with a log line.
//
// The fields must not change after the first Up.
type Hooks struct {
	// IPUp and IPDown are the paths of the scripts; empty runs none.
	IPUp, IPDown string
	// LinkName is pppd's linkname, passed as LINKNAME when not empty.
	LinkName string
	// Timeout bounds each script's run; zero means DefaultHookTimeout. When
	// it passes, the script's process group is killed.
	Timeout time.Duration
	// Logger receives the scripts' runs and output; nil discards them.
	Logger *slog.Logger

	mu     sync.Mutex
	up     bool          // Up ran and Down has not: ip-down is due
	upDone chan struct{} // closed when the last ip-up has ended; nil if none ran
}

var _ Host = (*Hooks)(nil)

// Up starts the ip-up script and returns without waiting for it, as pppd
// does, so that a slow script does not hold up the link. The script is
// started from the calling thread, and so in its network namespace.
func (h *Hooks) Up(info LinkInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.up = true
	if h.IPUp == "" {
		return nil
	}
	cmd := h.command("ip-up", h.IPUp, info, false)
	if cmd == nil {
		return nil
	}
	prev, done := h.upDone, make(chan struct{})
	h.upDone = done
	wait := h.start("ip-up", cmd)
	go func() {
		defer close(done)
		wait()
		if prev != nil {
			<-prev // an earlier ip-up still running
		}
	}()
	return nil
}

// Down waits for a still running ip-up script to end (it is killed when its
// timeout passes), then runs the ip-down script and waits for it, if Up ran
// since the last Down. Further calls do nothing.
func (h *Hooks) Down(info LinkInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.upDone != nil {
		<-h.upDone
		h.upDone = nil
	}
	if !h.up {
		return nil
	}
	h.up = false
	if h.IPDown == "" {
		return nil
	}
	if cmd := h.command("ip-down", h.IPDown, info, true); cmd != nil {
		h.start("ip-down", cmd)()
	}
	return nil
}

func (h *Hooks) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func (h *Hooks) timeout() time.Duration {
	if h.Timeout <= 0 {
		return DefaultHookTimeout
	}
	return h.Timeout
}

// command prepares the script at path for info, or returns nil (logged) if
// there is no such file.
func (h *Hooks) command(which, path string, info LinkInfo, down bool) *exec.Cmd {
	if _, err := os.Stat(path); err != nil {
		h.logger().Info(which+" script not run", "script", path, "err", err)
		return nil
	}
	cmd := exec.Command(path, hookArgs(info)...)
	cmd.Env = hookEnv(info, h.LinkName, down)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// start starts cmd on the calling thread and returns a function that waits
// for it (killing its process group when the timeout passes) and logs the
// outcome with its output.
func (h *Hooks) start(which string, cmd *exec.Cmd) (wait func()) {
	log := h.logger()
	out := &limitedBuffer{max: hookOutputMax}
	cmd.Stdout, cmd.Stderr = out, out
	// Background children that keep the output open do not hold us up.
	cmd.WaitDelay = time.Second
	begin := time.Now()
	log.Info("running "+which, "script", cmd.Path, "args", cmd.Args[1:])
	if err := cmd.Start(); err != nil {
		log.Warn(which+" script failed to start", "script", cmd.Path, "err", err)
		return func() {}
	}
	pgid := cmd.Process.Pid
	timeout := h.timeout()
	return func() {
		var timedOut bool
		var mu sync.Mutex
		timer := time.AfterFunc(timeout, func() {
			mu.Lock()
			timedOut = true
			mu.Unlock()
			syscall.Kill(-pgid, syscall.SIGKILL)
		})
		err := cmd.Wait()
		timer.Stop()
		mu.Lock()
		killed := timedOut
		mu.Unlock()
		for _, line := range out.lines() {
			log.Info(which+" output", "script", cmd.Path, "line", line)
		}
		elapsed := time.Since(begin).Round(time.Millisecond)
		switch {
		case killed:
			log.Warn(which+" script killed: still running after its timeout", "script", cmd.Path, "timeout", timeout)
		case err != nil && !errors.Is(err, exec.ErrWaitDelay):
			log.Warn(which+" script failed", "script", cmd.Path, "err", err, "elapsed", elapsed)
		default:
			log.Info(which+" script finished", "script", cmd.Path, "elapsed", elapsed)
		}
	}
}

// hookArgs returns pppd's script arguments: interface-name tty-device speed
// local-IP-address remote-IP-address ipparam.
func hookArgs(info LinkInfo) []string {
	return []string{
		info.Interface, info.TTY, strconv.Itoa(info.Speed),
		addrText(info.Local), addrText(info.Peer), info.IPParam,
	}
}

// hookEnv returns the environment pppd gives its scripts.
func hookEnv(info LinkInfo, linkName string, down bool) []string {
	env := []string{
		"IFNAME=" + info.Interface,
		"IPLOCAL=" + addrText(info.Local),
		"IPREMOTE=" + addrText(info.Peer),
		"DEVICE=" + info.TTY,
		"SPEED=" + strconv.Itoa(info.Speed),
		"PPPLOGNAME=" + loginName(),
		"ORIG_UID=" + strconv.Itoa(os.Getuid()),
		"PPPD_PID=" + strconv.Itoa(os.Getpid()),
	}
	if info.IPParam != "" {
		env = append(env, "IPPARAM="+info.IPParam)
	}
	if linkName != "" {
		env = append(env, "LINKNAME="+linkName)
	}
	for i, dns := range info.DNS {
		if dns.IsValid() && !dns.IsUnspecified() {
			env = append(env, "DNS"+strconv.Itoa(i+1)+"="+dns.String())
		}
	}
	if down {
		env = append(env,
			"CONNECT_TIME="+strconv.FormatInt(info.ConnectTime, 10),
			"BYTES_SENT="+strconv.FormatUint(info.BytesSent, 10),
			"BYTES_RCVD="+strconv.FormatUint(info.BytesReceived, 10),
		)
	}
	return env
}

// loginName returns the name of the real user, as pppd's PPPLOGNAME.
var loginName = sync.OnceValue(func() string {
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
		return u.Username
	}
	return "(unknown)"
})

// limitedBuffer keeps the first max bytes written to it, from any goroutine.
type limitedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	if len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
	} else {
		b.buf.Write(p)
	}
	return len(p), nil
}

// lines returns the output line by line.
func (b *limitedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(nil, hookOutputMax+1)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if b.truncated {
		lines = append(lines, "(output cut)")
	}
	return lines
}

// addrText formats an address for a script, empty if unset.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
