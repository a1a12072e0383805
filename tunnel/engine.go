package tunnel

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
)

// DefaultMTU is the interface MTU an Engine allows when Config.MTU is 0:
// that of pppd and of RFC 1661's default MRU.
const DefaultMTU = 1500

// Config configures an Engine. The zero value runs a link with pppd's
// defaults and "noauth", leaves the host alone, allows an MTU of 1500 and
// does not clamp the TCP MSS.
type Config struct {
	// Link configures the PPP link. Its Packets and Events belong to the
	// engine and are overwritten (use Events below); a nil Link.Logger
	// means Logger.
	Link link.Config

	// Host, if not nil, configures the host while IPCP is Opened: Up when
	// IPCP comes up, Down when it goes down or the link ends. Nil leaves
	// the host alone.
	Host Host
	// Info holds what the engine passes to Host but cannot know itself:
	// Interface, TTY, Speed and IPParam. The engine fills in the
	// addresses, DNS servers, MTU and the counters.
	Info LinkInfo

	// MTU is the largest interface MTU (pppd's mtu option). The interface
	// MTU is the peer's MRU, capped at MTU. It also sizes the buffers for
	// packets read from the device, so it must be at least the device's
	// MTU. Zero means DefaultMTU.
	MTU int
	// ClampMSS rewrites the MSS option of TCP SYNs crossing the link, both
	// ways, to at most the interface MTU − 40 (pppssh's mss-clamp; see
	// ClampMSS).
	ClampMSS bool

	// Events, if set, is called on the link's control goroutine for every
	// link event, after the engine has handled it: on EventIPCPUp the host
	// is configured. It should return promptly (the link's control loop
	// waits for it) and must not call Run.
	Events func(link.Event)
	// Logger receives the engine's messages and, unless Link.Logger is
	// set, the link's. Nil discards them.
	Logger *slog.Logger
}

// An Engine runs one PPP link over a byte stream and moves IPv4 packets
// between it and a packet Device. Create it with New and run it with Run;
// Close ends it from any goroutine.
//
// The engine does not open the device, and closes it when the link ends,
// since closing is the only way to stop a Device's blocked Read; a Device
// must therefore tolerate a second Close from the code that opened it (the
// kernel TUN of this package and tuntest's device do).
type Engine struct {
	link *link.Link
	dev  Device
	cfg  Config
	log  *slog.Logger
	mtu  int // Config.MTU or DefaultMTU

	rx receiver // link → device, on the link's reader goroutine

	// mss is the MSS ClampMSS lowers SYNs to, 0 while IPCP is down or
	// clamping is off. Both data-path goroutines read it.
	mss atomic.Uint32

	// Owned by the link's control goroutine (the Events callback, and
	// Run after the link has ended).
	peerMRU int
	ipUp    bool // IPCP is Opened
	hostUp  bool // Host.Up succeeded and Down is owed
	info    LinkInfo
	upAt    time.Time
	upIn    uint64 // the link's BytesIn when IPCP came up
	upOut   uint64 // and its BytesOut

	mu    sync.Mutex // guards shown
	shown struct {
		mtu    int
		hostUp bool
	}

	ran       atomic.Bool
	devClosed atomic.Bool
	// flowing is set while IPCP is up and the host configured; device
	// write errors outside it (the interface being taken down at the
	// end) are expected and not worth a warning.
	flowing  atomic.Bool
	closeDev sync.Once
	n        deviceCounters
}

// New returns an Engine that will speak PPP on stream and move packets to
// and from dev. It starts nothing; call Run.
func New(stream io.ReadWriteCloser, dev Device, cfg Config) *Engine {
	e := &Engine{
		dev:     dev,
		cfg:     cfg,
		log:     cfg.Logger,
		mtu:     cfg.MTU,
		peerMRU: lcp.DefaultMRU,
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.mtu <= 0 {
		e.mtu = DefaultMTU
	}
	e.rx.e = e
	lc := cfg.Link
	lc.Packets = &e.rx
	lc.Events = e.event
	if lc.Logger == nil {
		lc.Logger = cfg.Logger
	}
	e.link = link.New(stream, lc)
	return e
}

// errRunTwice is returned by a second call of Run.
var errRunTwice = errors.New("tunnel: Engine.Run called twice; create a new Engine for each link")

// Run speaks PPP on the stream and moves packets until the link ends, and
// returns why: the link's error (see link.Link.Run: the peer terminated the
// link, LCP or IPCP negotiation failed, echo timeout, the stream closed or
// failed, ErrClosed after Close, or the context's error), Host.Up's error if
// the host could not be configured, or the device's error if reading from
// it failed. Shutting down sends LCP Terminate-Request and waits briefly for
// the Ack.
//
// Run closes the stream and the device before it returns, calls Host.Down
// once for every successful Host.Up, and returns only after every goroutine
// it started has ended. Run may be called once.
func (e *Engine) Run(ctx context.Context) error {
	if !e.ran.CompareAndSwap(false, true) {
		return errRunTwice
	}
	p := e.prepare()

	var wg sync.WaitGroup
	wg.Go(p.run)
	err := e.link.Run(ctx)
	// The link's last event (PhaseDead) has taken the host down and
	// closed the device already; this covers a link that never started.
	e.down()
	e.closeDevice()
	wg.Wait()
	return err
}

// Close asks the engine to end the link: LCP sends Terminate-Request and Run
// returns link.ErrClosed. It may be called from any goroutine, any number of
// times, and does not wait.
func (e *Engine) Close() {
	e.link.Close()
}

// Status returns a snapshot of the link and of the device side.
func (e *Engine) Status() Status {
	s := Status{Status: e.link.Status(), Device: e.n.snapshot()}
	e.mu.Lock()
	s.MTU, s.HostUp = e.shown.mtu, e.shown.hostUp
	e.mu.Unlock()
	return s
}

// event handles a link event on the link's control goroutine, then passes
// it on to Config.Events.
func (e *Engine) event(ev link.Event) {
	switch ev.Kind {
	case link.EventLCPUp:
		e.peerMRU = ev.LCP.PeerMRU
	case link.EventIPCPUp:
		e.up(ev.IPCP)
	case link.EventIPCPDown:
		e.down()
	case link.EventPhase:
		if ev.Phase == ppp.PhaseDead {
			e.down()
		}
	}
	if e.cfg.Events != nil {
		e.cfg.Events(ev)
	}
	if ev.Kind == link.EventPhase && ev.Phase == ppp.PhaseDead {
		// The link has ended. Closing the device now, before the link
		// waits for its reader, releases a reader blocked in a Write
		// to a device nobody drains.
		e.closeDevice()
	}
}

// up handles IPCP reaching Opened: it works out the interface MTU, starts
// MSS clamping and configures the host. If Host.Up fails, the link ends with
// its error.
func (e *Engine) up(n ipcp.Negotiated) {
	e.down() // a Down is owed from an earlier Up: the link never skips it, but keep Up and Down balanced
	mtu := min(e.peerMRU, e.mtu)
	info := e.cfg.Info
	info.Local, info.Peer, info.DNS, info.MTU = n.Local, n.Peer, n.DNS, mtu
	info.BytesSent, info.BytesReceived, info.ConnectTime = 0, 0, 0
	e.info = info
	c := e.link.Status().Counters
	e.upAt, e.upIn, e.upOut = time.Now(), c.BytesIn, c.BytesOut
	e.ipUp = true
	if e.cfg.ClampMSS && mtu > MSSOverhead {
		e.mss.Store(uint32(mtu - MSSOverhead))
	}
	if e.cfg.Host != nil {
		if err := e.cfg.Host.Up(info); err != nil {
			e.log.Error("tunnel: configuring the host failed; ending the link", "err", err)
			e.link.CloseWithError(err)
		} else {
			e.hostUp = true
			e.flowing.Store(true)
		}
	} else {
		e.flowing.Store(true)
	}
	e.show()
}

// down handles IPCP leaving Opened, or the link ending while it was: it
// stops MSS clamping and calls Host.Down if Host.Up succeeded. It does
// nothing when IPCP is not up.
func (e *Engine) down() {
	if !e.ipUp {
		return
	}
	e.ipUp = false
	e.flowing.Store(false)
	e.mss.Store(0)
	if e.hostUp {
		e.hostUp = false
		info := e.info
		c := e.link.Status().Counters
		info.BytesSent, info.BytesReceived = c.BytesOut-e.upOut, c.BytesIn-e.upIn
		info.ConnectTime = int64(time.Since(e.upAt) / time.Second)
		if err := e.cfg.Host.Down(info); err != nil {
			e.log.Warn("tunnel: restoring the host failed", "err", err)
		}
	}
	e.show()
}

// show publishes the MTU and host state for Status.
func (e *Engine) show() {
	e.mu.Lock()
	e.shown.mtu, e.shown.hostUp = 0, e.hostUp
	if e.ipUp {
		e.shown.mtu = e.info.MTU
	}
	e.mu.Unlock()
}

// closeDevice closes the device, once.
func (e *Engine) closeDevice() {
	e.closeDev.Do(func() {
		e.devClosed.Store(true)
		if err := e.dev.Close(); err != nil {
			e.log.Warn("tunnel: closing the packet device failed", "err", err)
		}
	})
}

// prepare allocates the buffers of both directions of the data path: the
// receiver's and those of the pump it returns.
func (e *Engine) prepare() *pump {
	batch := max(e.dev.BatchSize(), 1)
	e.rx.init(min(batch, maxReceiveBatch), Headroom+receiveLimit(e.cfg.Link.LCP))
	return newPump(e, batch, Headroom+max(e.mtu, lcp.DefaultMRU))
}

// receiveLimit returns the largest packet the link will accept from the
// peer when LCP is configured by c: our MRU, at least 1500 (see
// lcp.Negotiated.ReceiveLimit).
func receiveLimit(c *lcp.Config) int {
	want := lcp.DefaultConfig().Want
	if c != nil {
		want = c.Want
	}
	mru := lcp.DefaultMRU
	if want.NegMRU {
		mru = int(want.MRU)
	}
	return max(mru, lcp.DefaultMRU)
}
