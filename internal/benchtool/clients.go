package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

const clientsUsage = `usage: benchtool clients -target USER@[ADDR]:PORT -i KEY -known-hosts FILE [flags]

The load generator for pppssh server: one process, run in a client network
namespace, that opens -n PPP links at once, each over an SSH connection of
its own (tunnel/sshtransport, the client of pppssh connect) running a
tunnel.Engine on a userspace packet device, so that no TUN is made on this
side. The server gives every link its address from the key's pool.

In turn, with every link held up:
  up_all_s        seconds until all links had IPCP up (-parallel dialing at
                  a time), from the first dial
  up_new_ms       three times, one more client: dial to IPCP up (median, max)
  echo_ms         an ICMP echo request from every link, one link at a time,
                  to the server's link address (median and max round trip,
                  and how many were answered: all must be, within 5 s; a
                  request unanswered for a second is sent again, and
                  echo_resent counts those)
  udp_one_mbps    UDP goodput from the first link alone to the sink for -d
  udp_all_mbps    the same from every link at once
  ratio           udp_all_mbps ÷ udp_one_mbps
  server_*_kib    with -server-pid: the server's VmRSS before the links and
                  with them all up and idle, the difference per link, and
                  its peak (VmHWM) at the end

The UDP sink is a socket this process opens inside the server's network
namespace (-sink-netns), on the port -sink-port of every address there: it
counts the datagrams that reach it, whose payload carries a phase number,
over the last three quarters of each -d (the first quarter is warm-up).
Without -sink-netns the UDP phases are skipped. Every link is closed the
orderly way (LCP Terminate-Request) at the end.

It prints one line of key=value fields on standard output (progress on
standard error) and exits 1 if a link fails to come up within -timeout,
ends early, or an echo goes unanswered.

Flags:
`

// The load generator's fixed settings.
const (
	// deviceBatch is how many packets a link's device hands its engine per
	// Read, as a kernel TUN with offloads does: the engine frames a batch
	// into one write to the SSH channel.
	deviceBatch = 16
	// echoTimeout bounds the wait for each link's echo reply; echoResend
	// is how long a request goes unanswered before another is sent.
	echoTimeout = 5 * time.Second
	echoResend  = time.Second
	// newClients is how many times up_new_ms is measured.
	newClients = 3
	// closeTimeout bounds the orderly end of the links at the end.
	closeTimeout = 30 * time.Second
	// remoteExitWait is how long a link's end waits for the server to end
	// the session before the SSH connection is closed under it.
	remoteExitWait = 2 * time.Second
	// idleSettle is how long the links stay idle before the server's
	// memory is read.
	idleSettle = time.Second
)

// clientsConfig is what runClients was told.
type clientsConfig struct {
	n, parallel int
	target      string
	ssh         *sshtransport.ClientConfig
	timeout     time.Duration
	duration    time.Duration
	payload     int
	sinkNetns   string
	sinkPort    int
	serverPID   int
}

// runClients implements "benchtool clients": see clientsUsage.
func runClients(args []string) error {
	fs := flag.NewFlagSet("clients", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), clientsUsage)
		fs.PrintDefaults()
	}
	n := fs.Int("n", 200, "links to hold up at once")
	parallel := fs.Int("parallel", 16, "connections dialed at a time while bringing the links up")
	target := fs.String("target", "", "the server, as for pppssh connect: USER@[ADDR]:PORT (the user name is not checked)")
	keyFile := fs.String("i", "", "private key file (unencrypted) of a key in the server's authorized_keys, with a pool of -n+1 addresses")
	knownHosts := fs.String("known-hosts", "", "known_hosts file with the server's host key")
	timeout := fs.Duration("timeout", 60*time.Second, "how long each link may take from dial to IPCP up")
	duration := fs.Duration("d", 3*time.Second, "how long each UDP phase sends")
	payload := fs.Int("size", 1472, "UDP payload octets per datagram (1472: 1500-octet IP packets)")
	sinkNetns := fs.String("sink-netns", "", "the server's network namespace (a name under /run/netns or a path), for the UDP sink")
	sinkPort := fs.Int("sink-port", 9, "the UDP sink's port")
	serverPID := fs.Int("server-pid", 0, "the pppssh server process, whose memory to read from /proc (0: do not)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return fmt.Errorf("unexpected argument %q (run benchtool clients -h)", fs.Arg(0))
	case *target == "" || *keyFile == "" || *knownHosts == "":
		return errors.New("-target, -i and -known-hosts are required (run benchtool clients -h)")
	case *n < 1:
		return fmt.Errorf("-n %d: want at least 1 link", *n)
	case *parallel < 1:
		return fmt.Errorf("-parallel %d: want at least 1", *parallel)
	case *payload < phaseHeader || *payload > tunnel.DefaultMTU-ipv4Header-udpHeader:
		return fmt.Errorf("-size %d: want %d to %d octets", *payload, phaseHeader, tunnel.DefaultMTU-ipv4Header-udpHeader)
	case *duration < 100*time.Millisecond:
		return fmt.Errorf("-d %v: want at least 100ms", *duration)
	case *sinkPort < 1 || *sinkPort > 65535:
		return fmt.Errorf("-sink-port %d: want 1 to 65535", *sinkPort)
	}
	for _, f := range []string{*keyFile, *knownHosts} {
		if _, err := os.Stat(f); err != nil {
			return err
		}
	}
	c := &clientsConfig{
		n: *n, parallel: *parallel, target: *target, timeout: *timeout, duration: *duration,
		payload: *payload, sinkNetns: *sinkNetns, sinkPort: *sinkPort, serverPID: *serverPID,
		ssh: &sshtransport.ClientConfig{
			ConfigFile:       "none",
			SystemConfigFile: "none",
			AgentSocket:      "none",
			IdentityFiles:    []string{*keyFile},
			KnownHostsFiles:  []string{*knownHosts},
			ConnectTimeout:   *timeout,
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := c.run(ctx)
	if res != nil {
		fmt.Println(res.String())
	}
	return err
}

// clientsResult is what runClients prints, as key=value fields in order.
type clientsResult struct {
	keys []string
	vals []string
}

func (r *clientsResult) add(key, format string, args ...any) {
	r.keys = append(r.keys, key)
	r.vals = append(r.vals, fmt.Sprintf(format, args...))
}

func (r *clientsResult) String() string {
	var b strings.Builder
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + r.vals[i])
	}
	return b.String()
}

// progress writes a line of progress on standard error.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchtool clients: "+format+"\n", args...)
}

// run measures, in the order of clientsUsage, and closes every link. It
// returns what it measured so far along with an error.
func (c *clientsConfig) run(ctx context.Context) (*clientsResult, error) {
	res := &clientsResult{}
	var rssBefore int64
	if c.serverPID != 0 {
		var err error
		if rssBefore, err = procStatusKiB(c.serverPID, "VmRSS:"); err != nil {
			return nil, err
		}
	}
	var sink *udpSink
	if c.sinkNetns != "" {
		conn, err := listenUDPIn(c.sinkNetns, c.sinkPort)
		if err != nil {
			return nil, err
		}
		sink = newUDPSink(conn)
		go sink.run()
		defer sink.close()
	}

	links, upAll, err := c.openAll(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if links != nil {
			closeLinks(links)
		}
	}()
	res.add("links", "%d", len(links))
	res.add("cipher", "%s", cipherOf(links[0].client))
	res.add("up_all_s", "%.3f", upAll.Seconds())
	progress("%d links up in %v", len(links), upAll.Round(time.Millisecond))

	var rssIdle int64
	if c.serverPID != 0 {
		time.Sleep(idleSettle)
		if rssIdle, err = procStatusKiB(c.serverPID, "VmRSS:"); err != nil {
			return res, err
		}
		progress("server VmRSS %d KiB before the links, %d KiB with %d idle links: %.1f KiB per link",
			rssBefore, rssIdle, len(links), float64(rssIdle-rssBefore)/float64(len(links)))
	}

	var ups []float64
	for i := range newClients {
		l, took, err := c.open(ctx, len(links)+i)
		if err != nil {
			return res, fmt.Errorf("one more client with %d links up: %w", len(links), err)
		}
		if err := l.shutdown(); err != nil {
			return res, err
		}
		ups = append(ups, ms(took))
		progress("one more client: link up in %v", took.Round(100*time.Microsecond))
	}
	up := summarize(ups)
	res.add("up_new_ms_med", "%.1f", up.Median)
	res.add("up_new_ms_max", "%.1f", up.Max)

	rtts, answered, resent := echoAll(ctx, links)
	echo := summarize(rtts)
	res.add("echo_answered", "%d", answered)
	res.add("echo_resent", "%d", resent)
	res.add("echo_ms_med", "%.3f", echo.Median)
	res.add("echo_ms_max", "%.3f", echo.Max)
	progress("echo: %d of %d answered (%d requests sent again), median %.3f ms, max %.3f ms", answered, len(links), resent, echo.Median, echo.Max)
	if answered != len(links) {
		return res, fmt.Errorf("%d of %d links got no echo reply from the server within %v", len(links)-answered, len(links), echoTimeout)
	}
	if err := alive(links); err != nil {
		return res, err
	}

	if sink != nil {
		one, err := c.udpPhase(ctx, sink, 1, links[:1])
		if err != nil {
			return res, err
		}
		all, err := c.udpPhase(ctx, sink, 2, links)
		if err != nil {
			return res, err
		}
		res.add("udp_one_mbps", "%.1f", one)
		res.add("udp_all_mbps", "%.1f", all)
		res.add("ratio", "%.3f", all/one)
		progress("UDP: %.1f Mbit/s from one link, %.1f Mbit/s from %d links (%.0f%%)", one, all, len(links), 100*all/one)
		if err := alive(links); err != nil {
			return res, err
		}
	}

	if c.serverPID != 0 {
		hwm, err := procStatusKiB(c.serverPID, "VmHWM:")
		if err != nil {
			return res, err
		}
		res.add("server_rss_before_kib", "%d", rssBefore)
		res.add("server_rss_idle_kib", "%d", rssIdle)
		res.add("server_kib_per_link", "%.1f", float64(rssIdle-rssBefore)/float64(len(links)))
		res.add("server_hwm_kib", "%d", hwm)
	}

	err = closeLinks(links)
	links = nil
	if err == nil {
		progress("every link closed")
	}
	return res, err
}

// openAll brings up c.n links, c.parallel dialing at a time, and returns
// them with the time it took. If any fails, it stops, closes the others
// and returns an error.
func (c *clientsConfig) openAll(ctx context.Context) ([]*loadLink, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	links := make([]*loadLink, c.n)
	errs := make([]error, c.n)
	sem := make(chan struct{}, c.parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range links {
		sem <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			links[i], _, errs[i] = c.open(ctx, i)
			if errs[i] != nil {
				cancel() // no use bringing up the rest
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	var opened []*loadLink
	for _, l := range links {
		if l != nil {
			opened = append(opened, l)
		}
	}
	if len(opened) == c.n {
		return links, took, nil
	}
	closeLinks(opened)
	// The links not dialed, or cut short, when one failed (or on a signal)
	// ended with context.Canceled; the others say what went wrong.
	var first error
	failed := 0
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			failed++
			if first == nil {
				first = e
			}
		}
	}
	if first == nil {
		return nil, took, fmt.Errorf("interrupted with %d of %d links up", len(opened), c.n)
	}
	return nil, took, fmt.Errorf("%d of %d links came up and %d failed; the failure of the lowest number: %w", len(opened), c.n, failed, first)
}

// open dials one link, numbered id, and waits until IPCP is up on it. It
// returns the link and the time from dialing to IPCP up.
func (c *clientsConfig) open(ctx context.Context, id int) (*loadLink, time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	client, err := sshtransport.Dial(ctx, c.target, c.ssh)
	if err != nil {
		return nil, 0, fmt.Errorf("link %d: %w", id, err)
	}
	stream, err := client.Exec(ctx, sshtransport.ExecOptions{})
	if err != nil {
		client.Close()
		return nil, 0, fmt.Errorf("link %d: %w", id, err)
	}
	l := &loadLink{id: id, client: client, stream: stream, up: make(chan struct{}), done: make(chan struct{})}
	l.dev = newLoadDevice(uint16(id), c.payload, c.sinkPort)
	l.eng = tunnel.New(stream, l.dev, tunnel.Config{Events: l.event})
	go func() {
		l.err = l.eng.Run(context.Background())
		close(l.done)
	}()
	select {
	case <-l.up:
		return l, l.upAt.Sub(start), nil
	case <-l.done:
		l.finish()
		return nil, 0, fmt.Errorf("link %d: ended before IPCP came up: %v%s", id, l.err, remoteSaid(stream))
	case <-ctx.Done():
		l.shutdown()
		if ctx.Err() == context.Canceled {
			return nil, 0, ctx.Err()
		}
		return nil, 0, fmt.Errorf("link %d: IPCP not up within %v of dialing (-timeout; the server may be overloaded: lower -parallel or -n)%s", id, c.timeout, remoteSaid(stream))
	}
}

// remoteSaid returns what the server wrote on the session's standard
// error (a refusal), for an error message.
func remoteSaid(s *sshtransport.Stream) string {
	if e := strings.TrimSpace(string(s.Stderr())); e != "" {
		return "; the server said: " + e
	}
	return ""
}

// cipherOf returns the cipher the client's connection sends with.
func cipherOf(c *sshtransport.Client) string {
	if am, ok := c.SSH().Conn.(ssh.AlgorithmsConnMetadata); ok {
		return am.Algorithms().Write.Cipher
	}
	return "unknown"
}

// loadLink is one link of the load generator: an SSH connection, the
// session running the server's end, and an engine on a loadDevice.
type loadLink struct {
	id     int
	client *sshtransport.Client
	stream *sshtransport.Stream
	dev    *loadDevice
	eng    *tunnel.Engine

	up     chan struct{} // closed when IPCP first reached Opened
	upOnce sync.Once
	upAt   time.Time  // when; written before up is closed
	local  netip.Addr // the link's address, likewise
	downs  atomic.Int32

	done chan struct{} // closed when Run has returned
	err  error         // Run's error, written before done is closed

	closeOnce sync.Once
}

// event is the engine's Events callback, on the link's control goroutine.
func (l *loadLink) event(ev link.Event) {
	switch ev.Kind {
	case link.EventIPCPUp:
		l.upOnce.Do(func() {
			l.upAt = time.Now()
			l.local = ev.IPCP.Local
			l.dev.address(ev.IPCP.Local, ev.IPCP.Peer)
			close(l.up)
		})
	case link.EventIPCPDown:
		l.downs.Add(1)
	}
}

// shutdown ends the link the orderly way (LCP Terminate-Request), waits for
// the engine, gives the server remoteExitWait to end the session, and
// closes the connection. It returns an error if the link had ended before,
// or did not end cleanly.
func (l *loadLink) shutdown() error {
	var err error
	l.closeOnce.Do(func() {
		select {
		case <-l.done:
			err = l.failure()
		default:
		}
		l.eng.Close()
		select {
		case <-l.done:
		case <-time.After(closeTimeout):
			l.client.Close() // makes Run return
			<-l.done
			if err == nil {
				err = fmt.Errorf("%s: no answer to LCP Terminate-Request within %v", l.name(), closeTimeout)
			}
		}
		if err == nil && l.err != nil && !errors.Is(l.err, link.ErrClosed) {
			err = fmt.Errorf("%s: did not end cleanly: %w", l.name(), l.err)
		}
		l.finish()
	})
	return err
}

// finish waits up to remoteExitWait for the session to end after the
// engine closed it, and closes the connection.
func (l *loadLink) finish() {
	select {
	case <-l.stream.Done():
	case <-time.After(remoteExitWait):
	}
	l.client.Close()
}

// failure describes a link that ended before it was closed.
func (l *loadLink) failure() error {
	return fmt.Errorf("%s ended before the end of the run: %v%s", l.name(), l.err, remoteSaid(l.stream))
}

// name names the link in messages: its number and, once IPCP is up, its
// address.
func (l *loadLink) name() string {
	select {
	case <-l.up:
		return fmt.Sprintf("link %d (%s)", l.id, l.local)
	default:
		return fmt.Sprintf("link %d", l.id)
	}
}

// alive returns an error for the first link that has ended or whose IPCP
// went down.
func alive(links []*loadLink) error {
	for _, l := range links {
		select {
		case <-l.done:
			return l.failure()
		default:
		}
		if l.downs.Load() > 0 {
			return fmt.Errorf("%s: IPCP went down during the run", l.name())
		}
	}
	return nil
}

// closeLinks shuts every link down at once and returns the errors.
func closeLinks(links []*loadLink) error {
	errs := make([]error, len(links))
	var wg sync.WaitGroup
	for i, l := range links {
		wg.Go(func() { errs[i] = l.shutdown() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// echoAll sends an echo request to the server's link address from each
// link in turn, until ctx ends, and returns the round trips of those
// answered (ms), how many links got an answer and how many requests were
// sent again.
func echoAll(ctx context.Context, links []*loadLink) (rtts []float64, answered, resent int) {
	for _, l := range links {
		if ctx.Err() != nil {
			break
		}
		rtt, ok, sent := l.dev.echo(0)
		if ok {
			rtts = append(rtts, ms(rtt))
		}
		resent += sent - 1
	}
	return rtts, len(rtts), resent
}

// udpPhase floods the sink from links for c.duration with datagrams tagged
// phase, and returns the goodput the sink saw over the last three quarters
// of that time, in Mbit/s. It then waits until the sink has seen the last
// datagram, so that the next phase starts with the server idle.
func (c *clientsConfig) udpPhase(ctx context.Context, sink *udpSink, phase byte, links []*loadLink) (float64, error) {
	sink.expect(phase)
	for _, l := range links {
		l.dev.flood(phase)
	}
	warm := c.duration / 4
	wait := func(d time.Duration) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			for _, l := range links {
				l.dev.stopFlood()
			}
			return ctx.Err()
		}
	}
	if err := wait(warm); err != nil {
		return 0, err
	}
	b0, t0 := sink.bytes.Load(), time.Now()
	if err := wait(c.duration - warm); err != nil {
		return 0, err
	}
	b1, t1 := sink.bytes.Load(), time.Now()
	for _, l := range links {
		l.dev.stopFlood()
	}
	if b1 == 0 {
		return 0, fmt.Errorf("UDP phase %d: nothing reached the sink on port %d in %s within %v (is -sink-netns the server's namespace?)",
			phase, c.sinkPort, c.sinkNetns, c.duration)
	}
	if !sink.drained(30 * time.Second) {
		progress("UDP phase %d: datagrams still arrive 30 s after the senders stopped; going on", phase)
	}
	return float64(b1-b0) * 8 / t1.Sub(t0).Seconds() / 1e6, nil
}

// procStatusKiB returns a "Key: N kB" value of /proc/PID/status.
func procStatusKiB(pid int, key string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("-server-pid %d: %w", pid, err)
	}
	v := statusKiB(b, key)
	if v == 0 {
		return 0, fmt.Errorf("-server-pid %d: no %s in /proc/%d/status (a kernel thread?)", pid, key, pid)
	}
	return v, nil
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }
