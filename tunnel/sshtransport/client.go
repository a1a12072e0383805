package sshtransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"
)

// ErrKeepaliveTimeout is wrapped by the errors a Client and its streams
// return after the server stopped answering keepalives: the connection was
// declared dead and closed. Reconnect.
var ErrKeepaliveTimeout = errors.New("sshtransport: server not responding to keepalives")

// clientVersion is the identification string both sides send.
const clientVersion = "SSH-2.0-pppssh"

// Ciphers returns the cipher preference pppssh's client and server offer.
// With AES instructions (amd64 AES-NI and PCLMULQDQ, arm64 AES and PMULL,
// s390x KMA-GCM) aes128-gcm@openssh.com comes first: it is the fastest
// cipher there, ahead of chacha20-poly1305@openssh.com, which leads
// elsewhere. Both are AEAD ciphers, so no MAC is computed per packet. The
// AES-CTR ciphers follow for old peers.
func Ciphers() []string {
	if hasAESHardware() {
		return []string{ssh.CipherAES128GCM, ssh.CipherChaCha20Poly1305, ssh.CipherAES256GCM,
			ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR}
	}
	return []string{ssh.CipherChaCha20Poly1305, ssh.CipherAES128GCM, ssh.CipherAES256GCM,
		ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR}
}

func hasAESHardware() bool {
	return cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ ||
		cpu.ARM64.HasAES && cpu.ARM64.HasPMULL ||
		cpu.S390X.HasAESGCM
}

// Client is an authenticated SSH connection made by Dial. Its methods may be
// called from any goroutine.
type Client struct {
	conn    *ssh.Client
	ep      *endpoint
	hostKey ssh.PublicKey
	act     *activityConn
	logger  *slog.Logger

	wg        sync.WaitGroup // the client's goroutines and its streams'
	trackMu   sync.Mutex     // orders wg.Add in track against Close's wg.Wait
	done      chan struct{}  // closed when the connection has ended
	closeOnce sync.Once
	closed    atomic.Bool           // Close was called; set under trackMu
	dead      atomic.Pointer[error] // set when keepalives declared it dead
	err       error                 // why it ended; written before done is closed
}

// Dial connects to target, [user@]host[:port] as for ssh, and authenticates.
// It resolves target through ssh_config (HostName, User, Port,
// IdentityFile, UserKnownHostsFile, StrictHostKeyChecking,
// ServerAliveInterval, …), offers the ssh-agent's keys and then the
// identity files', and verifies the host key against known_hosts. A nil cfg
// is the zero ClientConfig.
//
// ctx bounds connecting and authenticating only; cancelling it later has no
// effect on the returned Client. Dial starts the keepalive goroutine; Close
// stops it.
//
// A host key that known_hosts does not vouch for yields a *HostKeyError
// (errors.Is ErrHostKeyUnknown or ErrHostKeyChanged).
func Dial(ctx context.Context, target string, cfg *ClientConfig) (*Client, error) {
	if cfg == nil {
		cfg = &ClientConfig{}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	ep, err := resolve(t, cfg)
	if err != nil {
		return nil, err
	}
	if ep.hostName != t.Host {
		logger.Debug("ssh config resolved host", "alias", t.Host, "host", ep.hostName, "port", ep.port, "user", ep.user)
	}
	hk, err := newHostKeyChecker(ep, logger)
	if err != nil {
		return nil, err
	}
	auth, err := newAuthenticator(ep, cfg.Passphrase, logger)
	if err != nil {
		return nil, err
	}
	defer auth.close()
	for _, s := range auth.sources {
		logger.Debug("will offer key", "key", s.String())
	}

	config := &ssh.ClientConfig{
		Config:            ssh.Config{Ciphers: Ciphers()},
		User:              ep.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(auth.signers...)},
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms(),
		ClientVersion:     clientVersion,
	}

	dctx, cancel := context.WithTimeout(ctx, ep.connectTimeout)
	defer cancel()
	where := ep.user + "@" + ep.addr()
	if ep.alias != ep.hostName {
		where += " (" + ep.alias + ")"
	}
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", ep.addr())
	if err != nil {
		return nil, fmt.Errorf("sshtransport: connect to %s: %w", where, dialHint(err, ctx, ep.connectTimeout))
	}
	// Closing the connection is how a handshake is interrupted.
	stop := context.AfterFunc(dctx, func() { nc.Close() })
	act := newActivityConn(nc)
	sc, chans, reqs, err := ssh.NewClientConn(act, ep.addr(), config)
	if !stop() && err == nil {
		sc.Close()
		err = dctx.Err()
	}
	if err != nil {
		if dctx.Err() != nil {
			return nil, fmt.Errorf("sshtransport: SSH handshake with %s: %w", where, dialHint(dctx.Err(), ctx, ep.connectTimeout))
		}
		var hke *HostKeyError
		if errors.As(err, &hke) {
			return nil, hke
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			advice := fmt.Sprintf("add one of them to the server's authorized_keys for %s, or pass another with -i", ep.user)
			if len(auth.signers) == 0 {
				advice = fmt.Sprintf("create one with ssh-keygen -t ed25519 and add its .pub to the server's authorized_keys for %s, or load one into ssh-agent", ep.user)
			}
			return nil, fmt.Errorf("sshtransport: %s accepted none of our keys: %s; %s: %w", where, auth.describe(), advice, err)
		}
		return nil, fmt.Errorf("sshtransport: SSH handshake with %s: %w", where, err)
	}

	c := &Client{
		conn:    ssh.NewClient(sc, chans, reqs),
		ep:      ep,
		hostKey: hk.hostKey(),
		act:     act,
		logger:  logger,
		done:    make(chan struct{}),
	}
	if am, ok := sc.(ssh.AlgorithmsConnMetadata); ok {
		a := am.Algorithms()
		logger.Debug("ssh connection up", "to", where, "hostkey", Fingerprint(c.hostKey),
			"kex", a.KeyExchange, "cipher", a.Write.Cipher)
	}
	c.wg.Add(1)
	go c.waitLoop()
	if ep.keepaliveInterval > 0 {
		c.wg.Add(1)
		go c.keepaliveLoop(ep.keepaliveInterval, ep.keepaliveCountMax)
	}
	return c, nil
}

// dialHint turns a timeout into advice.
func dialHint(err error, parent context.Context, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
		return fmt.Errorf("no answer within %v (ConnectTimeout): %w", timeout, err)
	}
	return err
}

// waitLoop records why the connection ended.
func (c *Client) waitLoop() {
	defer c.wg.Done()
	err := c.conn.Wait()
	switch {
	case c.dead.Load() != nil:
		err = *c.dead.Load()
	case c.closed.Load():
		err = nil
	case err == nil || errors.Is(err, io.EOF):
		err = fmt.Errorf("sshtransport: %s closed the connection", c.ep.addr())
	default:
		err = fmt.Errorf("sshtransport: connection to %s lost: %w", c.ep.addr(), err)
	}
	c.err = err
	close(c.done)
}

// keepaliveLoop implements ServerAliveInterval and ServerAliveCountMax as
// ssh does: whenever nothing has come from the server for interval, it
// sends a keepalive@openssh.com global request (any reply, even a failure,
// is traffic); after countMax such silent intervals in a row, that is
// (countMax+1)×interval after the server was last heard, it declares the
// connection dead and closes it.
func (c *Client) keepaliveLoop(interval time.Duration, countMax int) {
	defer c.wg.Done()
	timer := time.NewTimer(interval)
	defer timer.Stop()
	inflight := make(chan struct{}, 1)
	timeouts := 0
	lastCheck := time.Now()
	for {
		select {
		case <-c.done:
			return
		case <-timer.C:
		}
		now, last := time.Now(), c.act.lastRead()
		if last.After(lastCheck) {
			timeouts = 0 // heard from the server since the last check
		}
		lastCheck = now
		if idle := now.Sub(last); idle < interval {
			timer.Reset(interval - idle)
			continue
		}
		timeouts++
		if timeouts > countMax {
			err := fmt.Errorf("%w: %s sent nothing for %v (%d keepalives at %v intervals unanswered)",
				ErrKeepaliveTimeout, c.ep.addr(), now.Sub(last).Round(time.Millisecond), countMax, interval)
			c.dead.Store(&err)
			c.logger.Warn("server not responding; closing the connection", "host", c.ep.addr(), "err", err)
			c.conn.Close()
			return
		}
		select {
		case inflight <- struct{}{}:
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				// The reply (success or failure) is the answer; the error
				// only says the connection is gone, which waitLoop reports.
				c.conn.SendRequest("keepalive@openssh.com", true, nil)
				<-inflight
			}()
		default:
			// The previous keepalive is still unanswered; x/crypto sends
			// global requests one at a time.
		}
		timer.Reset(interval)
	}
}

// HostKey returns the server's host key, as verified against known_hosts.
func (c *Client) HostKey() ssh.PublicKey { return c.hostKey }

// HostKeyFingerprint returns the server's host key type and SHA-256
// fingerprint, e.g. "ED25519 SHA256:…", for status displays.
func (c *Client) HostKeyFingerprint() string { return Fingerprint(c.hostKey) }

// User returns the user name the client logged in as.
func (c *Client) User() string { return c.ep.user }

// Addr returns the host:port the client connected to, after ssh_config's
// HostName and Port.
func (c *Client) Addr() string { return c.ep.addr() }

// RemoteAddr returns the server's network address.
func (c *Client) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SSH returns the underlying x/crypto/ssh client, for requests this package
// does not wrap. Close the Client, not it.
func (c *Client) SSH() *ssh.Client { return c.conn }

// Done returns a channel that is closed when the connection has ended, by
// Close, by the server, by a network error or by missed keepalives.
func (c *Client) Done() <-chan struct{} { return c.done }

// Wait blocks until the connection has ended and returns why: nil after
// Close, an error wrapping ErrKeepaliveTimeout when keepalives declared it
// dead, or another error when the server or the network ended it.
func (c *Client) Wait() error {
	<-c.done
	return c.err
}

// Close closes the connection and every stream on it, and returns once the
// client's goroutines have. It may be called more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.trackMu.Lock()
		c.closed.Store(true)
		c.trackMu.Unlock()
		c.conn.Close()
		c.wg.Wait()
	})
	return nil
}

// deadErr returns the keepalive error, or nil.
func (c *Client) deadErr() error {
	if p := c.dead.Load(); p != nil {
		return *p
	}
	return nil
}

// activityConn records when bytes last arrived from the server, for the
// keepalive loop.
type activityConn struct {
	net.Conn
	base time.Time    // when it was made; its monotonic clock reading counts
	last atomic.Int64 // time of the last successful Read, as nanoseconds since base
}

func newActivityConn(c net.Conn) *activityConn {
	return &activityConn{Conn: c, base: time.Now()}
}

func (a *activityConn) Read(p []byte) (int, error) {
	n, err := a.Conn.Read(p)
	if n > 0 {
		a.last.Store(int64(time.Since(a.base)))
	}
	return n, err
}

func (a *activityConn) lastRead() time.Time { return a.base.Add(time.Duration(a.last.Load())) }
