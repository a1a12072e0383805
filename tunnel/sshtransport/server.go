package sshtransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server defaults.
const (
	// DefaultMaxSessions is how many sessions one connection may have open
	// at once, as sshd's MaxSessions.
	DefaultMaxSessions = 10
	// DefaultHandshakeTimeout bounds a client's SSH handshake and
	// authentication, as sshd's LoginGraceTime.
	DefaultHandshakeTimeout = 30 * time.Second
	// DefaultShutdownTimeout is how long handlers get to return after
	// Serve's context ends, before their sessions are closed under them.
	DefaultShutdownTimeout = 5 * time.Second
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// HostKey is the server's host key; see LoadOrCreateHostKey.
	HostKey ssh.Signer

	// AuthorizedKeysFile is the OpenSSH-format file of the keys that may
	// log in, with their tunnel settings in options (see
	// ParseAuthorizedKeys). Any SSH user name is accepted: the key decides.
	// The file is read by NewServer, which fails on any bad line, and read
	// again when it changes (checked at each authentication): a removed key
	// cannot open new connections, though its open sessions go on. If a
	// changed file has a bad line, every key is refused, with the error
	// logged, until it is fixed.
	AuthorizedKeysFile string

	// AllowPTY grants clients' pty requests, except for keys with no-pty or
	// restrict. The server allocates no terminal; the stream is the same
	// either way. Clients of the classic "ssh -t" setup ask for one.
	AllowPTY bool

	// MaxSessions limits the open sessions per connection; zero means
	// DefaultMaxSessions.
	MaxSessions int

	// HandshakeTimeout bounds each client's handshake and authentication;
	// zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// ShutdownTimeout is how long Serve waits for handlers to return after
	// its context ends before closing their sessions; zero means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// Logger receives connection and authentication events. Nil means
	// silent.
	Logger *slog.Logger
}

// Handler serves one session. It runs on its own goroutine, once per
// session, and may read and write sess until it returns. ctx ends when the
// client closes the session, the connection ends, or the server shuts down;
// the handler should then return promptly. When it returns, the server
// sends the client the exit status, 0 for a nil error, else the error's
// ExitStatus() int if it has that method, else 1, having written the
// error's text to the session's stderr; then it closes the session.
type Handler func(ctx context.Context, sess *Session) error

// Session is one client session: its identity, its tunnel settings and its
// byte stream (Read, Write, Close, as io.ReadWriteCloser). Its fields are
// set before the handler runs and must not be changed.
type Session struct {
	User       string        // the SSH user name the client sent (not used for authorization)
	RemoteAddr net.Addr      // the client's address
	Key        AuthorizedKey // the authorized_keys entry it logged in with: key, comment, line, Settings
	Command    string        // the exec request's command line; "" for a shell request
	Args       []string      // Command split with SplitCommand; the client's arguments
	PTY        bool          // the client was granted a pty
	Term       string        // its TERM, if PTY

	ch ssh.Channel
}

var _ io.ReadWriteCloser = (*Session)(nil)

// Read reads from the client's stdin.
func (s *Session) Read(p []byte) (int, error) { return s.ch.Read(p) }

// Write writes to the client's stdout.
func (s *Session) Write(p []byte) (int, error) { return s.ch.Write(p) }

// CloseWrite sends EOF on the client's stdout.
func (s *Session) CloseWrite() error { return s.ch.CloseWrite() }

// Close closes the session's channel; Read and Write fail from then on. The
// server closes it anyway when the handler returns.
func (s *Session) Close() error { return s.ch.Close() }

// Stderr returns a writer to the client's stderr, for messages the client
// should show.
func (s *Session) Stderr() io.Writer { return s.ch.Stderr() }

// Server is pppssh's built-in SSH server: it authenticates clients by
// authorized_keys alone and hands each session to a Handler.
type Server struct {
	cfg    ServerConfig
	keys   *authorizedKeysFile
	logger *slog.Logger
	ssh    *ssh.ServerConfig
}

type authKeyExtra struct{} // ssh.Permissions.ExtraData key for the *AuthorizedKey

// NewServer checks cfg and reads the authorized_keys file. It starts
// nothing; Serve does.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.HostKey == nil {
		return nil, errors.New("sshtransport: server: no host key (see LoadOrCreateHostKey)")
	}
	if cfg.AuthorizedKeysFile == "" {
		return nil, errors.New("sshtransport: server: no authorized_keys file")
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	s := &Server{cfg: cfg, keys: &authorizedKeysFile{path: cfg.AuthorizedKeysFile}, logger: cfg.Logger}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	keys, _, err := s.keys.load()
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		s.logger.Warn("authorized_keys has no keys; no client can log in until one is added", "file", cfg.AuthorizedKeysFile)
	}
	s.ssh = &ssh.ServerConfig{
		Config:            ssh.Config{Ciphers: Ciphers()},
		PublicKeyCallback: s.checkKey,
		ServerVersion:     clientVersion,
	}
	s.ssh.AddHostKey(cfg.HostKey)
	return s, nil
}

// HostKey returns the server's public host key; Fingerprint formats it.
func (s *Server) HostKey() ssh.PublicKey { return s.cfg.HostKey.PublicKey() }

// checkKey is the PublicKeyCallback: the key must be in authorized_keys and
// the client's address must satisfy its from= option.
func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	k, reloaded, err := s.keys.find(key)
	if reloaded {
		if err != nil {
			s.logger.Error("authorized_keys changed and is now invalid; refusing every key until it is fixed", "err", err)
		} else {
			s.logger.Info("authorized_keys changed; reloaded", "file", s.cfg.AuthorizedKeysFile)
		}
	}
	if err != nil {
		return nil, err
	}
	if k == nil {
		s.logger.Info("refused key: not in authorized_keys", "remote", meta.RemoteAddr(), "user", meta.User(), "key", Fingerprint(key))
		return nil, fmt.Errorf("sshtransport: key %s is not authorized", ssh.FingerprintSHA256(key))
	}
	if !k.allowsFrom(meta.RemoteAddr()) {
		s.logger.Info("refused key: client address does not match its from= option", "remote", meta.RemoteAddr(),
			"key", Fingerprint(key), "line", fmt.Sprintf("%s:%d", k.File, k.Line))
		return nil, fmt.Errorf("sshtransport: key %s is not authorized from %s", ssh.FingerprintSHA256(key), meta.RemoteAddr())
	}
	return &ssh.Permissions{ExtraData: map[any]any{authKeyExtra{}: k}}, nil
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string, h Handler) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("sshtransport: server: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln, h)
}

// Serve accepts connections on ln and runs h for each session, until ctx
// ends or accepting fails. It closes ln. On ctx's end it stops accepting,
// refuses new sessions, cancels the handlers' contexts, gives them
// ShutdownTimeout to return, then closes whatever sessions remain and waits
// for their handlers. It returns nil after a shutdown caused by ctx, else
// the error that stopped it, and only once every goroutine it started has
// returned.
func (s *Server) Serve(ctx context.Context, ln net.Listener, h Handler) error {
	s.logger.Info("ssh server listening", "addr", ln.Addr(), "hostkey", Fingerprint(s.HostKey()))
	ctx, cancel := context.WithCancel(ctx) // also ended when accepting fails
	defer cancel()
	var (
		wg    sync.WaitGroup
		conns = &connSet{m: make(map[ssh.Conn]struct{})}
	)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var serveErr error
	for delay := time.Duration(0); ; {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if retryableAccept(err) {
				// Out of file descriptors and the like: back off, as
				// net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger.Warn("accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			serveErr = fmt.Errorf("sshtransport: server: accept on %s: %w", ln.Addr(), err)
			ln.Close()
			break
		}
		delay = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, nc, h, conns)
		}()
	}

	// Shutting down: handlers see ctx done; connections close themselves
	// once their sessions end. Force the stragglers after the grace time.
	all := make(chan struct{})
	go func() {
		wg.Wait()
		close(all)
	}()
	if serveErr != nil {
		cancel()
		conns.closeAll()
	}
	select {
	case <-all:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.logger.Warn("handlers did not finish in time; closing their sessions", "timeout", s.cfg.ShutdownTimeout)
		conns.closeAll()
		<-all
	}
	return serveErr
}

// retryableAccept reports whether an Accept error is passing: a shortage
// of file descriptors or memory, or a connection aborted before accept.
func retryableAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// connSet tracks live connections so a shutdown can close them.
type connSet struct {
	mu     sync.Mutex
	m      map[ssh.Conn]struct{}
	closed bool
}

func (cs *connSet) add(c ssh.Conn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		c.Close()
		return
	}
	cs.m[c] = struct{}{}
}

func (cs *connSet) remove(c ssh.Conn) {
	cs.mu.Lock()
	delete(cs.m, c)
	cs.mu.Unlock()
}

func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	for c := range cs.m {
		c.Close()
	}
}

// serveConn runs one client connection: handshake, then its sessions,
// each on its own goroutine. On ctx's end it refuses new sessions and
// closes the connection once the open ones have ended.
func (s *Server) serveConn(ctx context.Context, nc net.Conn, h Handler, conns *connSet) {
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() }) // no new clients once shutting down
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.ssh)
	if !stop() && err == nil {
		sc.Close()
		return
	}
	if err != nil {
		s.logger.Info("ssh handshake failed", "remote", nc.RemoteAddr(), "err", err)
		return
	}
	nc.SetDeadline(time.Time{})
	conns.add(sc)
	defer conns.remove(sc)
	key := sc.Permissions.ExtraData[authKeyExtra{}].(*AuthorizedKey)
	log := s.logger.With("remote", sc.RemoteAddr(), "user", sc.User(), "key", Fingerprint(key.Key), "comment", key.Comment)
	log.Info("client authenticated", "line", fmt.Sprintf("%s:%d", key.File, key.Line))

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ssh.DiscardRequests(reqs) // keepalive@openssh.com and the like get a failure reply
	}()
	sessionDone := make(chan struct{})
	active := 0
	shuttingDown := ctx.Done()
	draining := false
	for chans != nil || active > 0 {
		select {
		case nch, ok := <-chans:
			if !ok {
				chans = nil // the connection has ended; wait for its sessions
				continue
			}
			switch {
			case nch.ChannelType() != "session":
				nch.Reject(ssh.UnknownChannelType, "pppssh serves only sessions")
			case draining:
				nch.Reject(ssh.ResourceShortage, "server shutting down")
			case active >= s.cfg.MaxSessions:
				nch.Reject(ssh.ResourceShortage, fmt.Sprintf("too many sessions (at most %d per connection)", s.cfg.MaxSessions))
			default:
				active++
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.serveSession(ctx, sc, key, nch, h, log)
					sessionDone <- struct{}{}
				}()
			}
		case <-sessionDone:
			active--
			if draining && active == 0 {
				sc.Close()
			}
		case <-shuttingDown:
			shuttingDown = nil
			draining = true
			if active == 0 {
				sc.Close()
			}
		}
	}
	sc.Close()
	wg.Wait()
	log.Info("client disconnected")
}

// exitStatuser is implemented by handler errors that carry an exit status.
type exitStatuser interface{ ExitStatus() int }

// serveSession runs one session: it answers the client's requests (pty-req,
// env, exec or shell), then runs the handler and reports its exit status.
func (s *Server) serveSession(ctx context.Context, sc *ssh.ServerConn, key *AuthorizedKey, nch ssh.NewChannel, h Handler, log *slog.Logger) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		log.Info("accept session", "err", err)
		return
	}
	defer ch.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sess := &Session{User: sc.User(), RemoteAddr: sc.RemoteAddr(), Key: *key, ch: ch}

	// The request goroutine owns sess until it hands it over on start.
	start := make(chan error, 1)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		defer cancel() // the channel is gone
		started := false
		for req := range reqs {
			ok := false
			switch req.Type {
			case "pty-req":
				var p struct {
					Term                         string
					Columns, Rows, Width, Height uint32
					Modes                        string
				}
				switch {
				case started:
				case !s.cfg.AllowPTY || key.Settings.NoPTY:
					log.Info("refused pty request", "allowed by server", s.cfg.AllowPTY, "no-pty", key.Settings.NoPTY)
				case ssh.Unmarshal(req.Payload, &p) == nil:
					sess.PTY, sess.Term, ok = true, p.Term, true
				}
			case "exec", "shell":
				if started {
					break
				}
				var cmdErr error
				if req.Type == "exec" {
					var p struct{ Command string }
					if err := ssh.Unmarshal(req.Payload, &p); err != nil {
						break
					}
					sess.Command = p.Command
					sess.Args, cmdErr = SplitCommand(p.Command)
				}
				started, ok = true, true
				req.Reply(true, nil)
				start <- cmdErr
				continue
			}
			// env, subsystem, x11-req, signal, window-change, and the rest:
			// refused or ignored.
			if req.WantReply {
				req.Reply(ok, nil)
			}
		}
	}()

	select {
	case err := <-start:
		if err != nil {
			log.Info("refused command", "command", sess.Command, "err", err)
			fmt.Fprintf(ch.Stderr(), "%v\n", err)
			sendExitStatus(ch, 2)
		} else {
			log.Info("session started", "command", sess.Command, "pty", sess.PTY)
			status := 0
			if err := h(sctx, sess); err != nil {
				status = 1
				var es exitStatuser
				if errors.As(err, &es) {
					status = es.ExitStatus()
				}
				log.Info("session ended", "status", status, "err", err)
				fmt.Fprintf(ch.Stderr(), "%v\n", err)
			} else {
				log.Info("session ended", "status", 0)
			}
			sendExitStatus(ch, status)
		}
	case <-sctx.Done():
	}
	ch.CloseWrite()
	ch.Close()
	<-loopDone
}

func sendExitStatus(ch ssh.Channel, status int) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
}
