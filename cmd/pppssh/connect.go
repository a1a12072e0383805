package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

// Keep-alive defaults of connect: an SSH connection can die silently (a
// laptop suspended, a NAT mapping gone), and the user waits at the other
// end, so connect probes more often than the other commands: an LCP
// Echo-Request every 10 seconds, the peer dead after 3 unanswered.
const (
	connectEchoInterval = 10
	connectEchoFailure  = 3
)

// defaultRemoteCommand is what connect runs on the server unless told
// otherwise (command '…').
var defaultRemoteCommand = []string{"pppssh", "serve"}

const connectUsage = `Usage: pppssh connect [user@]host[:port] [options]

Connect to host over SSH, start the far end of the tunnel there (by default
"pppssh serve"; see command below), and run the PPP link over the SSH
channel, with a TUN device (ppp0, ppp1, …) for its packets on this side. It
stays in the foreground until interrupted: SIGINT or SIGTERM ends the link
the orderly way (LCP Terminate-Request), removes the routes it added and
exits 0. It replaces the VPN PPP-SSH mini-HOWTO's pty-redir, "ssh -t -l
slave REMOTE sudo pppd", local pppd, "route add" and sshroute, in one
command.

SSH is done as ssh does it: ssh-agent's keys, then the identity files (-i,
or ~/.ssh/id_ed25519, id_ecdsa, id_rsa), the host key checked against
~/.ssh/known_hosts (an unknown one is refused unless --accept-new), and
~/.ssh/config's Host entries (HostName, User, Port, IdentityFile,
ServerAliveInterval, …). SSH keepalives and LCP Echo-Requests (every 10 s,
3 unanswered: dead, unless lcp-echo-interval and lcp-echo-failure say
otherwise) both notice a dead path; with persist the link is made again.

Options of connect (pppd words or --flags):
  -i FILE                 identity file (repeatable)
  --accept-new            trust an unknown host key and add it to known_hosts
  command 'COMMAND'       run COMMAND on the server instead of "pppssh serve";
                          the request's words (below) are appended to it
  --route CIDR            route this network through the link (repeatable):
                          the HOWTO's "route add -net … gw 192.0.2.2"
  --remote-route CIDR     have the far end route this network back through
                          us (repeatable): the HOWTO's sshroute
  --remote-proxyarp       have the far end answer ARP for our address on its
                          LAN (the HOWTO's proxyarp)
  LOCAL:REMOTE            ask for these link addresses (IPCP), e.g.
                          192.0.2.2:192.0.2.1; by default the far end decides
  defaultroute            send everything through the link; the SSH server
                          stays reachable the way it is now
  persist, holdoff N, maxfail N   reconnect after failures
  updetach                go to the background once the link is up
  debug                   log every LCP and IPCP packet, as pppd does

The far end's command line is "pppssh serve" followed by serve's own words
for what we ask: "route CIDR" for each --remote-route, "proxyarp" for
--remote-proxyarp. The server decides what to grant: "pppssh serve" under a
forced command (its --allow-remote-route, --allow-proxyarp) or "pppssh
server" (the key's pppssh-allow-route). Addresses travel in IPCP.

Examples:
  # The HOWTO's VPN: reach the LAN 203.0.113.0/24 behind gw, and have gw
  # route our LAN 198.51.100.0/24 back through us.
  pppssh connect slave@gw --route 203.0.113.0/24 --remote-route 198.51.100.0/24

  # gw lets slave run pppssh through sudo only, as the HOWTO's pppd:
  pppssh connect slave@gw command 'sudo /usr/local/bin/pppssh serve' \
      --route 203.0.113.0/24

  # A built-in "pppssh server" on port 2222, first connection, own key:
  pppssh connect -i ~/.ssh/vpn_ed25519 --accept-new gw.example.org:2222 \
      --route 203.0.113.0/24

  # Everything through gw, reconnecting, in the background, pppd-style:
  pppssh connect slave@gw defaultroute persist holdoff 10 updetach

Run "pppssh help options" for every option.

Exit codes (pppd's where pppd has one). For connect, 2 also means the far
end refused what we asked (it exited 2 before speaking PPP), and 8 also
that the remote command failed before speaking PPP (not found, sudo
refused); the message quotes what it printed.
`

// runConnect implements "pppssh connect".
func runConnect(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, connectUsage+exitCodesHelp())
		return exitOK
	}
	o, target, err := parseConnect(args)
	if err != nil {
		return optionError(stderr, err)
	}
	remote, err := remoteArgs(&o)
	if err != nil {
		return optionError(stderr, err)
	}
	tr := sshTransport(target, &o, remote)
	return runLink(&o, tr, stderr)
}

// parseConnect parses connect's command line: the options, with connect's
// keep-alive defaults, and exactly one [user@]host[:port].
func parseConnect(args []string) (options, string, error) {
	o := defaultOptions()
	o.echoInterval, o.echoFailure = connectEchoInterval, connectEchoFailure
	var target string
	err := parseOptions(&o, args, "command line", func(w string) error {
		if target != "" {
			return badOption("pppssh: connect takes one [user@]host[:port], not %q and %q (run pppssh connect --help)", target, w)
		}
		if _, err := sshtransport.ParseTarget(w); err != nil {
			return badOption("pppssh: connect: %v", err)
		}
		target = w
		return nil
	})
	if err != nil {
		return o, "", err
	}
	switch {
	case target == "":
		return o, "", badOption("pppssh: connect needs the server: pppssh connect [user@]host[:port] [options] (run pppssh connect --help)")
	case o.pty != "", o.notty, o.device != "":
		return o, "", badOption("pppssh: connect makes its own SSH connection; pty, notty and devices are for pppssh stdio")
	case len(o.allowRoutes) > 0, o.allowProxyARP:
		return o, "", badOption("pppssh: allow-remote-route and allow-proxyarp are for the far end (pppssh serve); connect asks with --remote-route and --remote-proxyarp")
	}
	return o, target, nil
}

// remoteArgs returns the far end's command line as words: serve's request
// (serveRequest: "pppssh serve", then "route CIDR" for every
// --remote-route and "proxyarp" for --remote-proxyarp), or, with command
// '…', that command followed by the request's words. A command that uses
// shell syntax (redirections, ";", "$") runs under sh -c, with the
// request's words appended to its text.
func remoteArgs(o *options) ([]string, error) {
	request := serveRequest(o)
	if o.remoteCommand == "" {
		return request, nil
	}
	extra := request[len(defaultRemoteCommand):]
	words, err := splitWords(o.remoteCommand)
	if err != nil {
		return nil, badOption("pppssh: command %q: %v", o.remoteCommand, err)
	}
	if len(words) == 0 {
		return nil, badOption("pppssh: command is empty; leave it out to run pppssh serve")
	}
	if strings.ContainsAny(o.remoteCommand, ";&|<>()$`\n") {
		line := o.remoteCommand
		if len(extra) > 0 {
			line += " " + sshtransport.QuoteCommand(extra)
		}
		return []string{"sh", "-c", line}, nil
	}
	return append(words, extra...), nil
}

// sshTransport connects to target and runs the far end there, once per
// attempt: the stream is the remote command's standard input and output.
// What the remote command writes to its standard error is logged as it
// comes ("remote: …"). When the link fails before the far end spoke PPP,
// the error shows what it printed instead (a login banner on its standard
// output, "sudo: a password is required" on its standard error).
func sshTransport(target string, o *options, remote []string) transport {
	return transport{desc: "ssh " + target, dial: func(ctx context.Context, log *slog.Logger) (*conn, error) {
		client, err := sshtransport.Dial(ctx, target, &sshtransport.ClientConfig{
			IdentityFiles: o.identities,
			AcceptNew:     o.acceptNew,
			Logger:        log,
		})
		if err != nil {
			return nil, withExitCode(exitConnectFailed, err)
		}
		log.Info("SSH connection to " + client.User() + "@" + client.Addr() + " up; host key " + client.HostKeyFingerprint())
		lines := &lineLog{log: log, prefix: "remote: "}
		stream, err := client.Exec(ctx, sshtransport.ExecOptions{Args: remote, Stderr: lines})
		if err != nil {
			client.Close()
			return nil, withExitCode(exitConnectFailed, err)
		}
		log.Debug("remote command started", "command", stream.Command())
		var peer netip.Addr
		if ta, ok := client.RemoteAddr().(*net.TCPAddr); ok {
			peer, _ = netip.AddrFromSlice(ta.IP)
			peer = peer.Unmap()
		}
		rw := &sshStream{stream: stream, client: client}
		finish := func(linkErr error) error {
			err := explainRemote(linkErr, stream, rw)
			lines.flush()
			return err
		}
		return &conn{rw: rw, tty: "ssh:" + client.Addr(), peer: peer, finish: finish}, nil
	}}
}

// remoteExitWait is how long closing the stream waits for the remote
// command to end (and report its exit status, and the last of its standard
// error) before the SSH connection is closed under it.
const remoteExitWait = 2 * time.Second

// explainRemote returns the error to report for a link over stream that
// ended with linkErr. A link that ended normally, or after the far end
// spoke PPP and the remote command did not fail, keeps linkErr. Otherwise
// linkErr gets what the far end said: its exit status and the last lines
// of its standard error when it failed, and, when it never spoke PPP, the
// text it printed instead (a banner) or wrote on its standard error
// ("sudo: a password is required"). A far end that failed before speaking
// PPP ends in exitOptionErr when it refused our request (its exit status
// 2, as pppssh's option errors; persist does not retry that) and in
// exitConnectFailed otherwise.
func explainRemote(linkErr error, stream *sshtransport.Stream, tap *sshStream) error {
	if linkErr == nil || errors.Is(linkErr, context.Canceled) || errors.Is(linkErr, link.ErrClosed) || !streamOrLCPFailed(linkErr) {
		return linkErr
	}
	spoke := tap.sawPPP()
	tap.Close() // done already by the engine: the remote has ended or been cut off
	var exitErr *sshtransport.ExitError
	errors.As(stream.Wait(), &exitErr)
	var said []string
	if text := tap.text(); text != "" && !spoke && !errors.As(linkErr, new(*link.StreamError)) {
		// A StreamError carries the far end's output already.
		said = append(said, fmt.Sprintf("it printed: %q", text))
	}
	if exitErr != nil {
		// ExitError quotes the remote's standard error.
		err := fmt.Errorf("%w; %v", linkErr, strings.TrimPrefix(exitErr.Error(), "sshtransport: "))
		if len(said) > 0 {
			err = fmt.Errorf("%w; %s", err, strings.Join(said, "; "))
		}
		switch {
		case spoke:
			return err
		case exitErr.Status == exitOptionErr:
			// The far end refused what we asked for; no retry helps.
			return withExitCode(exitOptionErr, err)
		}
		return withExitCode(exitConnectFailed, err)
	}
	if spoke {
		return linkErr
	}
	if errText := lastLines(stream.Stderr()); errText != "" {
		said = append(said, "on its standard error: "+errText)
	}
	if len(said) == 0 {
		return linkErr
	}
	return fmt.Errorf("%w; the far end (%s) did not speak PPP; %s", linkErr, stream.Command(), strings.Join(said, "; "))
}

// streamOrLCPFailed reports whether linkErr ends a link whose far end may
// have failed or never spoken PPP: the stream ended, or LCP gave up.
func streamOrLCPFailed(linkErr error) bool {
	if errors.As(linkErr, new(*link.StreamError)) {
		return true
	}
	var ne *ppp.NegotiationError
	return errors.As(linkErr, &ne) && ne.Protocol == ppp.ProtoLCP
}

// lastLines returns the last three non-empty lines of b, joined with " / ".
func lastLines(b []byte) string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " / ")
}

// firstBytesLimit is how much of the far end's output sshStream keeps.
const firstBytesLimit = 4096

// sshStream is the remote command's stream as the link uses it, with two
// additions. It keeps the first octets the far end sent, so that, if the
// link never comes up, the text the far end printed before any PPP frame
// (a banner, a shell's error) can be shown; once it holds firstBytesLimit
// octets, reads pass through with one atomic load. And its Close ends the
// SSH connection too, once the remote command has ended or remoteExitWait
// has passed: OpenSSH's sshd completes the closing of a session channel
// only when the command exits, so a command that neither reads its input
// nor exits ("sleep 60" after a password prompt) would keep a Read of the
// stream blocked, and the link waiting for its reader, until it does.
type sshStream struct {
	stream *sshtransport.Stream
	client *sshtransport.Client
	full   atomic.Bool
	mu     sync.Mutex
	buf    []byte
	once   sync.Once
}

func (f *sshStream) Read(p []byte) (int, error) {
	n, err := f.stream.Read(p)
	if n > 0 && !f.full.Load() {
		f.mu.Lock()
		f.buf = append(f.buf, p[:min(n, firstBytesLimit-len(f.buf))]...)
		if len(f.buf) >= firstBytesLimit {
			f.full.Store(true)
		}
		f.mu.Unlock()
	}
	return n, err
}

func (f *sshStream) Write(p []byte) (int, error) { return f.stream.Write(p) }

// Close closes the session, waits up to remoteExitWait for the remote
// command to end, and closes the SSH connection. It may be called more
// than once and from any goroutine; every call returns once the
// connection is closed.
func (f *sshStream) Close() error {
	f.once.Do(func() {
		f.stream.Close()
		select {
		case <-f.stream.Done():
		case <-time.After(remoteExitWait):
		}
		f.client.Close()
	})
	return nil
}

// lcpFrameStart is how every LCP frame begins on the wire (RFC 1662,
// RFC 1661): a Flag Sequence, the All-Stations address, the UI control
// field escaped (LCP packets are sent with every control character
// escaped), and protocol 0xc021.
var lcpFrameStart = []byte{0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21}

// sawPPP reports whether the far end has sent the start of an LCP frame
// among its first octets.
func (f *sshStream) sawPPP() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Contains(f.buf, lcpFrameStart)
}

// text returns what the far end sent before its first PPP frame (before
// the first 0x7e flag octet), trimmed.
func (f *sshStream) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buf
	if i := bytes.IndexByte(b, 0x7e); i >= 0 {
		b = b[:i]
	}
	return string(bytes.TrimSpace(b))
}

// lineLog logs what is written to it line by line, with a prefix: the far
// end's standard error. Its Write is called from one goroutine of the SSH
// stream, flush from the link's end.
type lineLog struct {
	log    *slog.Logger
	prefix string
	mu     sync.Mutex
	part   []byte
}

// maxLogLine bounds a line kept while its end has not arrived.
const maxLogLine = 1024

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		l.emit(l.part[:i])
		l.part = l.part[i+1:]
	}
	if len(l.part) > maxLogLine {
		l.emit(l.part)
		l.part = l.part[:0]
	}
	return len(p), nil
}

// flush logs a last line that had no newline.
func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.part) > 0 {
		l.emit(l.part)
		l.part = nil
	}
}

func (l *lineLog) emit(line []byte) {
	if s := strings.TrimRight(string(line), "\r"); strings.TrimSpace(s) != "" {
		l.log.Info(l.prefix + s)
	}
}
