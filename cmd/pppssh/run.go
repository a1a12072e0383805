package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
)

// Reconnection timing under persist (see holdoffDelay).
const (
	// maxHoldoff caps the doubled holdoff, unless holdoff itself is larger.
	maxHoldoff = 5 * time.Minute
	// stableLink is how long a link must have been up for its end not to
	// count as a quick failure.
	stableLink = time.Minute
)

// runLink runs the link o describes over tr until it ends for good, and
// returns the exit code. It is the common part of every command that runs
// a link: it sets up logging (standard error, logfile, syslog once
// detached), goes to the background once the link is up with updetach,
// handles the signals (SIGINT and SIGTERM end the link cleanly, SIGHUP
// hangs it up, SIGUSR1 toggles debug logging), and with persist opens the
// transport again after each failure (see supervise). prelude functions
// run with the logger before the first attempt, for a command's own
// messages.
//
// o must have passed the command's checks: errors in it are option errors,
// to report before calling runLink.
func runLink(o *options, tr transport, stderr io.Writer, prelude ...func(*slog.Logger)) int {
	if o.updetach && !o.nodetach && os.Getenv(detachEnv) == "" {
		return detachParent(stderr)
	}
	logs, err := newLogging(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pppssh: %v\n", err)
		return exitOptionErr
	}
	defer logs.close()
	if tr.stdio && sameTerminal(0, 2) {
		// PPP runs on the terminal standard error writes to: log to
		// syslog and the logfile only.
		logs.detach()
	}
	r := &runner{o: o, tr: tr, logs: logs, log: logs.Logger, bg: takeDetachedChild()}
	for _, f := range prelude {
		f(r.log)
	}
	if len(o.ignored) > 0 {
		r.log.Debug("options accepted for pppd compatibility, with nothing to do", "options", o.ignored)
	}
	ctx, stop := r.handleSignals()
	defer stop()
	code := r.supervise(ctx)
	r.log.Debug("exit", "status", code)
	return code
}

// runner runs the attempts of one link command.
type runner struct {
	o    *options
	tr   transport
	logs *logging
	log  *slog.Logger
	bg   *detachedChild // set in the process updetach started

	mu       sync.Mutex
	eng      *tunnel.Engine // the attempt running, nil between attempts
	stream   io.Closer      // its stream
	hungUp   bool           // SIGHUP ended the attempt
	stopping bool           // SIGINT or SIGTERM arrived
}

// handleSignals returns a context that SIGINT and SIGTERM cancel, and
// handles SIGHUP, SIGUSR1 and SIGPIPE until stop is called.
//
// A first SIGINT or SIGTERM ends the link the orderly way (LCP
// Terminate-Request, the host restored) and the program exits 0; a second
// one closes the stream at once. SIGHUP ends the current link: persist
// reconnects, otherwise the exit code is 16, as pppd. SIGUSR1 toggles
// debug logging, as pppd. SIGPIPE is caught, so that a reader of our
// standard error going away makes writes fail instead of killing the
// process before it has restored the host.
func (r *runner) handleSignals() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGPIPE)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			var sig os.Signal
			select {
			case <-done:
				return
			case sig = <-ch:
			}
			switch sig {
			case syscall.SIGINT, syscall.SIGTERM:
				r.mu.Lock()
				again := r.stopping
				r.stopping = true
				stream := r.stream
				r.mu.Unlock()
				if !again {
					r.log.Info(fmt.Sprintf("Terminating on signal %d", sig.(syscall.Signal)))
					cancel()
				} else if stream != nil {
					r.log.Info("Signal again: closing the stream now")
					stream.Close()
				}
			case syscall.SIGHUP:
				r.log.Info("Hangup (SIGHUP)")
				r.mu.Lock()
				if r.eng != nil {
					r.hungUp = true
					r.eng.Close()
				}
				r.mu.Unlock()
			case syscall.SIGUSR1:
				r.logs.toggleDebug()
			}
		}
	})
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
		cancel()
	}
}

// supervise runs attempts until one ends for good, and returns its exit
// code. Without persist that is the first. With persist a failed attempt
// is followed by another after the holdoff delay (holdoffDelay), until a
// signal, an error no retry can fix (the TUN device cannot be had), or
// maxfail attempts in a row that never brought the link up; the exit code
// is then that of the last attempt.
func (r *runner) supervise(ctx context.Context) int {
	failures, quick := 0, 0
	for {
		res := r.attempt(ctx)
		code := exitCode(res.err, res.up)
		if ctx.Err() != nil {
			return exitOK
		}
		if !r.o.persist || !retryable(res.err) {
			return code
		}
		if res.up {
			failures = 0
		} else {
			failures++
		}
		if res.upFor >= stableLink {
			quick = 0
		} else {
			quick++
		}
		if r.o.maxfail > 0 && failures >= r.o.maxfail {
			r.log.Error(fmt.Sprintf("giving up: %d attempts in a row failed to bring the link up (maxfail %d)", failures, r.o.maxfail))
			return code
		}
		d := holdoffDelay(r.o.holdoff, quick)
		r.log.Info(fmt.Sprintf("reconnecting in %v (persist)", d))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return exitOK
		case <-t.C:
		}
	}
}

// holdoffDelay returns the wait before the next attempt under persist:
// holdoff (pppd's holdoff option, 30 seconds by default) after a link that
// stayed up for stableLink or longer and after a first quick failure; each
// further quick failure in a row doubles it, up to maxHoldoff (or holdoff,
// if that is longer). A holdoff of 0 reconnects at once every time.
func holdoffDelay(holdoff time.Duration, quick int) time.Duration {
	if holdoff <= 0 {
		return 0
	}
	limit := max(holdoff, maxHoldoff)
	d := holdoff
	for i := 1; i < quick && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// result is how an attempt ended.
type result struct {
	err   error         // why; nil never happens in practice
	up    bool          // the link came up: IPCP Opened and the host configured
	upFor time.Duration // for how long it was up
}

// attempt opens the TUN device and the transport's stream and runs one
// link over them until it ends.
func (r *runner) attempt(ctx context.Context) result {
	o := r.o
	tun, err := openTUN(o, r.log)
	if err != nil {
		r.log.Error(err.Error())
		return result{err: err}
	}
	defer tun.Close()
	c, err := r.tr.dial(ctx, r.log)
	if err != nil {
		r.log.Error(err.Error())
		return result{err: err}
	}
	r.log.Info("Using interface " + tun.Name())
	r.log.Info("Connect: " + tun.Name() + " <--> " + c.tty)
	host, err := newHost(o, tun, c.peer, r.log)
	if err != nil {
		c.rw.Close()
		if c.finish != nil {
			c.finish(err)
		}
		r.log.Error(err.Error())
		return result{err: err}
	}
	w := &hostWatch{Host: host, log: r.log, onUp: r.linkUp}
	cfg := engineConfig(o, r.log)
	cfg.Host = w
	cfg.Info = linkInfo(o, tun.Name(), c)
	eng := tunnel.New(c.rw, tun, cfg)

	r.mu.Lock()
	r.eng, r.stream, r.hungUp = eng, c.rw, false
	stopping := r.stopping
	r.mu.Unlock()
	if stopping {
		eng.Close()
	}
	err = eng.Run(ctx)
	r.mu.Lock()
	hungUp := r.hungUp
	r.eng, r.stream = nil, nil
	r.mu.Unlock()
	if hungUp && errors.Is(err, link.ErrClosed) {
		err = errHangupSignal
	}
	if c.finish != nil {
		err = c.finish(err)
	}
	r.report(err, w)
	return result{err: err, up: w.wasUp, upFor: w.upFor}
}

// report logs why the link ended, then pppd's closing lines:
// "Connection terminated.", and for a link that came up "Connect time 0.2
// minutes." and "Sent N bytes, received M bytes.".
func (r *runner) report(err error, w *hostWatch) {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, link.ErrClosed):
	case w.upErr != nil && err == w.upErr:
		// The engine has logged why the host could not be configured.
	case exitCode(err, w.wasUp) == exitOK:
		// Terminated by the peer after coming up: LCP has said so.
		r.log.Debug(err.Error())
	default:
		r.log.Error(err.Error())
	}
	r.log.Info("Connection terminated.")
	if w.down != nil {
		t := (w.down.ConnectTime + 5) / 6 // tenths of minutes, as pppd rounds
		r.log.Info(fmt.Sprintf("Connect time %d.%d minutes.", t/10, t%10))
		r.log.Info(fmt.Sprintf("Sent %d bytes, received %d bytes.", w.down.BytesSent, w.down.BytesReceived))
	}
}

// linkUp runs when the link has come up: the process updetach started
// reports it and goes to the background.
func (r *runner) linkUp() {
	if r.bg != nil {
		r.bg.up(r.log, r.logs)
	}
}

// hostWatch is the Host of an attempt: it passes Up and Down on to the
// real one, and watches them for the log and for supervision. The engine
// calls it on the goroutine that runs Engine.Run.
type hostWatch struct {
	tunnel.Host
	log  *slog.Logger
	onUp func()

	wasUp bool
	upErr error // the last Up's error
	upAt  time.Time
	upFor time.Duration
	down  *tunnel.LinkInfo // what the last Down was given: the counters
}

// Up configures the host; once it has, it logs the DNS servers the peer
// gave (usepeerdns), as pppd does, and reports the link up.
func (h *hostWatch) Up(info tunnel.LinkInfo) error {
	if err := h.Host.Up(info); err != nil {
		h.upErr = err
		return err
	}
	if info.DNS[0].IsValid() && !info.DNS[0].IsUnspecified() {
		h.log.Info("primary   DNS address " + info.DNS[0].String())
	}
	if info.DNS[1].IsValid() && !info.DNS[1].IsUnspecified() {
		h.log.Info("secondary DNS address " + info.DNS[1].String())
	}
	h.wasUp = true
	h.upAt = time.Now()
	h.onUp()
	return nil
}

// Down restores the host and keeps the link's counters.
func (h *hostWatch) Down(info tunnel.LinkInfo) error {
	err := h.Host.Down(info)
	if !h.upAt.IsZero() {
		h.upFor += time.Since(h.upAt)
		h.upAt = time.Time{}
		h.down = &info
	}
	return err
}
