package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

// Defaults of "pppssh server".
const (
	defaultServerListen  = ":2222"
	defaultServerHostKey = "/etc/pppssh/ssh_host_ed25519_key"
	defaultServerKeys    = "/etc/pppssh/authorized_keys"
)

const serverUsage = `Usage: pppssh server [options]

pppssh's built-in SSH server, for a gateway that should not hand out shell
accounts: it accepts only the keys of its authorized_keys file, runs no
commands, and gives every SSH session its own PPP link, TUN device (ppp0,
ppp1, …) and client address. It replaces the VPN PPP-SSH mini-HOWTO's
sshd, "slave" account, sudo pppd and sshroute on the gateway.

Options of server:
  --listen ADDR:PORT        where to accept SSH connections (default :2222,
                            beside the system's sshd)
  --host-key FILE           the server's host key (default
                            /etc/pppssh/ssh_host_ed25519_key); an Ed25519
                            key is generated on first start and its
                            fingerprint printed, for clients to check
  --authorized-keys FILE    the keys that may connect, in OpenSSH's format,
                            with pppssh's per-key settings (default
                            /etc/pppssh/authorized_keys); re-read when it
                            changes
  --local ADDR              the server's own address on every link (also
                            LOCAL: as in pppd); by default the first
                            address of --pool
  --pool CIDR               addresses for clients whose key has neither
                            pppssh-address nor pppssh-pool
  allow-proxyarp            let clients ask for proxy ARP of their address
                            on this server's LAN (connect --remote-proxyarp)
  ifname PATTERN            TUN device names, with %d (default ppp%d)
  mtu, mru, lcp-echo-*, mss-clamp, ms-dns, debug, logfile, … as for every
  command; they apply to every session.

authorized_keys options, per key:
  pppssh-address="192.0.2.10"         the client's link address (one client
                                      at a time: a new connection with this
                                      key replaces the session before it)
  pppssh-pool="192.0.2.16/28"         take the client's address from here
  pppssh-allow-route="198.51.100.0/24"  a network the client may have routed
                                      back through it (repeatable): its
                                      --remote-route must lie within one
  from="198.51.100.0/24"              where the client may connect from

A client gets the address its key gives; IPCP holds it to that address, so
no client can take another's. Packets from a client whose source address is
neither its own nor within its pppssh-allow-route networks are dropped and
counted (like WireGuard's allowed IPs). A refused request (a route outside
pppssh-allow-route, proxyarp without allow-proxyarp) ends the session with
exit status 2 and the reason on the client's standard error. Sessions come
and go without disturbing the others. SIGINT or SIGTERM ends every link the
orderly way (LCP Terminate-Request) and exits 0. The server needs root or
CAP_NET_ADMIN for its TUN devices; forwarding between the links and the LAN
is the administrator's choice (sysctl net.ipv4.ip_forward=1).

Examples:
  # The HOWTO's gateway: LAN 203.0.113.0/24 behind it, links in 192.0.2.0/24.
  sysctl -w net.ipv4.ip_forward=1
  pppssh server --listen 0.0.0.0:2222 --local 192.0.2.1 --pool 192.0.2.0/24

  # /etc/pppssh/authorized_keys: the office gets 192.0.2.2 and may have its
  # LAN 198.51.100.0/24 routed back (the HOWTO's sshroute); laptops share a
  # pool.
  pppssh-address="192.0.2.2",pppssh-allow-route="198.51.100.0/24" ssh-ed25519 AAAA… office
  pppssh-pool="192.0.2.16/28" ssh-ed25519 AAAA… laptop

  # The office's side:
  pppssh connect -i ~/.ssh/vpn_ed25519 --accept-new gw.example.org:2222 \
      --route 203.0.113.0/24 --remote-route 198.51.100.0/24

Run "pppssh help options" for every option.

Exit codes: the server exits 0 when stopped by SIGINT or SIGTERM, 1 when it
cannot listen or read its host key or authorized_keys, 2 on a bad command
line, 3 without CAP_NET_ADMIN. Each session ends with the exit status its
link gives (pppd's numbers, below), which the client receives.
`

// serverConfig is what "pppssh server" was told.
type serverConfig struct {
	o         options  // the options for every session
	adminArgs []string // the words they came from, applied over each client's request
	listen    string
	hostKey   string
	keysFile  string
	local     netip.Addr
	pool      netip.Prefix
}

// runServer implements "pppssh server".
func runServer(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, serverUsage+exitCodesHelp())
		return exitOK
	}
	cfg, err := parseServer(args)
	if err != nil {
		return optionError(stderr, err)
	}
	logs, err := newLogging(&cfg.o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pppssh: %v\n", err)
		return exitOptionErr
	}
	defer logs.close()
	log := logs.Logger
	if !tunnel.HasNetAdmin() {
		log.Error("pppssh server creates a TUN device for every session: run it as root or with CAP_NET_ADMIN (setcap cap_net_admin+ep)")
		return exitNotPermitted
	}
	signer, created, err := sshtransport.LoadOrCreateHostKey(cfg.hostKey)
	if err != nil {
		log.Error(err.Error())
		return exitFatal
	}
	if created {
		log.Info("generated a new host key " + cfg.hostKey + "; its fingerprint, for clients to check: " + sshtransport.Fingerprint(signer.PublicKey()))
	} else {
		log.Info("host key " + cfg.hostKey + ": " + sshtransport.Fingerprint(signer.PublicKey()))
	}
	srv, err := sshtransport.NewServer(sshtransport.ServerConfig{
		HostKey:            signer,
		AuthorizedKeysFile: cfg.keysFile,
		Logger:             log,
	})
	if err != nil {
		log.Error(err.Error())
		return exitFatal
	}
	ctx, stop := serverSignals(log)
	defer stop()
	ln, err := listenServer(ctx, cfg.listen)
	if err != nil {
		log.Error("listen on " + cfg.listen + ": " + err.Error())
		return exitFatal
	}
	s := &server{cfg: cfg, log: log, pool: newAddressPool(cfg.local), stopping: ctx, ln: ln}
	if err := srv.Serve(ctx, ln, s.session); err != nil {
		log.Error(err.Error())
		return exitFatal
	}
	log.Info("server stopped")
	return exitOK
}

// serverSignals returns a context that the first SIGINT or SIGTERM ends,
// after logging it as pppd does, and a function that stops listening for
// them.
func serverSignals(log *slog.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			log.Info(fmt.Sprintf("Terminating on signal %d; ending every link", sig.(syscall.Signal)))
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

// serverFlags are the options only "pppssh server" takes, each with an
// argument.
var serverFlags = []string{"listen", "host-key", "authorized-keys", "local", "pool"}

// parseServer parses server's command line: its own flags, then the
// shared options, which must make sense for a server of many links.
func parseServer(args []string) (serverConfig, error) {
	c := serverConfig{o: defaultOptions(), listen: defaultServerListen, hostKey: defaultServerHostKey, keysFile: defaultServerKeys}
	own := map[string]string{}
	for i := 0; i < len(args); i++ {
		w := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !strings.HasPrefix(w, "--") || !isServerFlag(name) {
			c.adminArgs = append(c.adminArgs, w)
			continue
		}
		if !hasValue {
			// "local" alone is also pppd's CLOCAL word: take --local as
			// the server's address only when an address follows.
			if name == "local" && (i+1 >= len(args) || !isAddr(args[i+1])) {
				c.adminArgs = append(c.adminArgs, w)
				continue
			}
			if i+1 >= len(args) {
				return c, badOption("pppssh: option %s needs an argument (command line)", name)
			}
			i++
			value = args[i]
		}
		own[name] = value
	}
	if err := parseOptions(&c.o, c.adminArgs, "command line", nil); err != nil {
		return c, err
	}
	for name, v := range own {
		switch name {
		case "listen":
			if _, _, err := net.SplitHostPort(v); err != nil {
				return c, badOption("pppssh: option listen: want ADDR:PORT such as 0.0.0.0:2222 or :2222, not %q", v)
			}
			c.listen = v
		case "host-key":
			c.hostKey = v
		case "authorized-keys":
			c.keysFile = v
		case "local":
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				return c, badOption("pppssh: option local: want an IPv4 address such as 192.0.2.1, not %q", v)
			}
			c.o.local = a
		case "pool":
			p, err := netip.ParsePrefix(v)
			if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
				return c, badOption("pppssh: option pool: want an IPv4 network of at least 4 addresses such as 192.0.2.0/24, not %q", v)
			}
			c.pool = p.Masked()
		}
	}
	o := &c.o
	switch {
	case o.pty != "", o.notty, o.device != "":
		return c, badOption("pppssh: server accepts SSH connections; pty, notty and devices are for pppssh stdio")
	case o.persist, o.updetach:
		return c, badOption("pppssh: server runs in the foreground until stopped; persist and updetach belong to connect")
	case len(o.routes) > 0, o.defaultRoute:
		return c, badOption("pppssh: server routes only what each client asks for and its key allows (pppssh-allow-route in authorized_keys); route and defaultroute are for connect")
	case len(o.allowRoutes) > 0:
		return c, badOption("pppssh: server grants routes per key: pppssh-allow-route=\"CIDR\" in authorized_keys, not allow-remote-route")
	case o.proxyARP:
		return c, badOption("pppssh: server answers ARP for a client only when the client asks (connect --remote-proxyarp) and allow-proxyarp lets it; leave out proxyarp")
	case len(o.remoteRoutes) > 0, o.remoteProxyARP, o.remoteCommand != "", len(o.identities) > 0, o.acceptNew:
		return c, badOption("pppssh: remote-route, remote-proxyarp, command, -i and accept-new are options of connect")
	case o.remote.IsValid():
		return c, badOption("pppssh: server gives each client the address of its key (pppssh-address or pppssh-pool) or of --pool; give only the server's own as --local ADDR or LOCAL:")
	case o.ifname != "" && !strings.Contains(o.ifname, "%d"):
		return c, badOption("pppssh: server makes one TUN device per session: ifname must be a pattern with %%d, such as vpn%%d, not %q", o.ifname)
	}
	if !o.local.IsValid() {
		if !c.pool.IsValid() {
			return c, badOption("pppssh: server needs its own link address: --local ADDR (or --pool CIDR, whose first address it then takes)")
		}
		o.local = c.pool.Addr().Next()
	}
	c.local = o.local
	return c, nil
}

func isServerFlag(name string) bool {
	for _, f := range serverFlags {
		if f == name {
			return true
		}
	}
	return false
}

func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// server serves the sessions of "pppssh server".
type server struct {
	cfg      serverConfig
	log      *slog.Logger
	pool     *addressPool
	ids      atomic.Uint64
	stopping context.Context // ends when the server is told to stop
	ln       *connListener
}

// sessionError is a session's failure with the exit status its client
// gets.
type sessionError struct {
	status int
	err    error
}

func (e *sessionError) Error() string   { return e.err.Error() }
func (e *sessionError) Unwrap() error   { return e.err }
func (e *sessionError) ExitStatus() int { return e.status }

// session runs one client's link: it vets the client's request, gives it
// its address, opens a TUN device, and runs the engine on the session's
// channel, with the anti-spoofing filter between the link and the TUN,
// until the link ends.
func (s *server) session(ctx context.Context, sess *sshtransport.Session) error {
	id := s.ids.Add(1)
	log := s.log.With("session", id)
	key := sess.Key
	who := fmt.Sprintf("session %d from %s with key %s (%s:%d)", id, sess.RemoteAddr, key.Comment, key.File, key.Line)
	log.Info("session from "+sess.RemoteAddr.String()+" with key "+key.Fingerprint(), "comment", key.Comment, "command", sess.Command)
	refuse := func(err error) error {
		log.Warn("refused: " + err.Error())
		return &sessionError{status: exitOptionErr, err: fmt.Errorf("pppssh server: refused: %w", err)}
	}

	if sess.Command == "" {
		return refuse(errors.New("this server runs only pppssh serve (ask for it as the remote command, as pppssh connect does); it opens no shells"))
	}
	words, err := requestWords(sess.Command)
	if err != nil {
		return refuse(err)
	}
	// Vet the request before taking an address, which may end another
	// session. A client of a pool key cannot ask for its address: it is
	// not known yet.
	policy := requestPolicy{routes: key.Settings.AllowRoutes, proxyARP: s.cfg.o.allowProxyARP, local: s.cfg.local, remote: key.Settings.Address}
	if refused := checkRequest(words, policy); len(refused) > 0 {
		return refuse(fmt.Errorf("the client's request %q: %s", sess.Command, serverReasons(refused, key)))
	}
	// A later session of this key with the same fixed address replaces
	// this one: it ends the link and closes the client's connection (the
	// old client is most likely gone, and would not answer).
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Whether the session's context ended (the client went away, or this
	// session was replaced) before the server began to stop.
	var endedFirst atomic.Bool
	context.AfterFunc(ctx, func() { endedFirst.Store(s.stopping.Err() == nil) })
	forceClose := func() { s.ln.closeConn(sess.RemoteAddr) }
	evict := func() {
		cancel(errReplaced)
		forceClose()
	}
	addr, err := s.pool.take(key.Settings.Address, poolOf(key.Settings, s.cfg.pool), who, evict, log)
	if err != nil {
		return refuse(err)
	}
	defer s.pool.release(addr)

	o := defaultOptions()
	if err := parseOptions(&o, words, "the client's request", nil); err != nil {
		return refuse(err)
	}
	if err := parseOptions(&o, s.cfg.adminArgs, "command line", nil); err != nil {
		return refuse(err)
	}
	// IPCP holds the client to its address and us to ours.
	o.local, o.remote = s.cfg.local, addr
	o.acceptLocal, o.acceptRemote = false, false
	if len(words) > 0 {
		log.Info("client's request granted: " + shellQuote(words))
	}

	tun, err := openTUN(&o, log)
	if err != nil {
		log.Error(err.Error())
		return &sessionError{status: exitCode(err, false), err: err}
	}
	defer tun.Close()
	var peer netip.Addr
	if ta, ok := sess.RemoteAddr.(*net.TCPAddr); ok {
		peer, _ = netip.AddrFromSlice(ta.IP)
	}
	host, err := tunnel.NewNetHost(netConfig(&o, peer.Unmap(), false, log))
	if err != nil {
		log.Error(err.Error())
		return &sessionError{status: exitFatal, err: err}
	}
	filter := newSourceFilter(tun, addr, key.Settings.AllowRoutes, log)
	w := &hostWatch{Host: host, log: log, onUp: func() {
		log.Info(fmt.Sprintf("session %d up: client %s (%s) on %s", id, addr, key.Comment, tun.Name()))
	}}
	cfg := engineConfig(&o, log)
	cfg.Host = w
	cfg.Info = tunnel.LinkInfo{Interface: tun.Name(), TTY: "ssh:" + sess.RemoteAddr.String(), IPParam: o.ipparam}
	log.Info("Connect: " + tun.Name() + " <--> " + cfg.Info.TTY + " (client address " + addr.String() + ")")
	stream := &sessionStream{Session: sess, force: forceClose}
	eng := tunnel.New(stream, filter, cfg)
	err = eng.Run(ctx)
	stream.finished()

	st := eng.Status()
	reason := endReason(err)
	// The session's context ends when the client's connection does, also
	// just after an orderly end (the client's Terminate-Request): only a
	// link that ended because of it is put down to it.
	var streamErr *link.StreamError
	cut := errors.Is(err, context.Canceled) || errors.As(err, &streamErr)
	switch {
	case errors.Is(context.Cause(ctx), errReplaced):
		reason = errReplaced.Error()
	case ctx.Err() != nil && cut && endedFirst.Load():
		reason = "the client closed the session, or its connection ended"
	case ctx.Err() != nil && cut:
		reason = "server shutting down"
	}
	log.Info(fmt.Sprintf("session ended: sent %d bytes, received %d bytes; dropped %d packets with a forged source address",
		st.Counters.BytesOut, st.Counters.BytesIn, filter.Dropped()), "reason", reason)
	code := exitCode(err, w.wasUp)
	if code == exitOK || ctx.Err() != nil {
		return nil
	}
	return &sessionError{status: code, err: err}
}

// errReplaced ends a session that a newer session of its key replaced.
var errReplaced = errors.New("replaced by a new session of the same key (same pppssh-address)")

// serverReasons words checkRequest's refusals for pppssh server, where
// what serve's forced command grants comes from the key's authorized_keys
// line and from the server's options.
func serverReasons(refused []string, key sshtransport.AuthorizedKey) string {
	where := fmt.Sprintf("%s:%d", key.File, key.Line)
	r := strings.NewReplacer(
		"the forced command allows no routes (--allow-remote-route CIDR)",
		"this key allows no routes (add pppssh-allow-route=\"CIDR\" to its line, "+where+")",
		"not within the networks the forced command allows (--allow-remote-route ",
		"not within the networks this key allows ("+where+", pppssh-allow-route ",
		"the forced command does not allow it (--allow-proxyarp)",
		"the server does not allow it (start it with allow-proxyarp)",
		"the forced command gives", "this key gives",
		"the forced command fixes", "the server fixes",
	)
	return r.Replace(strings.Join(refused, "; "))
}

// poolOf returns where a key's clients get their addresses from: its
// pppssh-pool, else the server's --pool (a key with pppssh-address needs
// none).
func poolOf(k sshtransport.KeySettings, serverPool netip.Prefix) netip.Prefix {
	if k.Pool.IsValid() {
		return k.Pool
	}
	return serverPool
}

// endReason says in a few words why a link ended, for the log.
func endReason(err error) string {
	switch {
	case err == nil:
		return "ended"
	case errors.Is(err, link.ErrClosed):
		return "closed"
	}
	return err.Error()
}
