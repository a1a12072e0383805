package link

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/ipv6cp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// ErrClosed is returned by Run when the link ended because Close was called
// (or the context was cancelled: then Run returns the context's error).
var ErrClosed = errors.New("link: closed locally")

// StreamError is returned by Run when the byte stream under the link failed
// or reached its end before the link was terminated by PPP. Output holds what
// the far end wrote outside PPP frames before its first valid frame (a login
// banner, "sudo: a terminal is required to read the password", "command not
// found"), so the user sees why the far end never spoke PPP.
type StreamError struct {
	Err    error  // the stream's error, io.EOF when the stream ended
	Output []byte // non-PPP bytes the far end wrote before any valid frame
	Write  bool   // the error came from a write to the stream, not a read
}

// Error returns "link: stream closed: EOF", followed by the far end's
// output when there was some.
func (e *StreamError) Error() string {
	s := "link: stream closed"
	switch {
	case e.Write:
		s = "link: stream failed while writing"
	case !errors.Is(e.Err, io.EOF):
		s = "link: stream failed"
	}
	s += ": " + e.Err.Error()
	if len(e.Output) > 0 {
		s += fmt.Sprintf("; the far end wrote instead of PPP: %q", e.Output)
	}
	return s
}

// Unwrap returns the stream's error.
func (e *StreamError) Unwrap() error { return e.Err }

// PacketHandler receives the network-layer packets a link carries, in
// batches: the reader hands it every packet decoded from one read of the
// stream, then calls Flush before it reads again, so a handler can deliver
// each batch to its device with one call.
type PacketHandler interface {
	// HandlePacket is called on the link's reader goroutine for every
	// IPv4 packet (proto ppp.ProtoIPv4) received while IPCP is Opened and
	// every IPv6 packet (ppp.ProtoIPv6) while IPV6CP is.
	// pkt is a view of the decoder's buffer, valid only during the call:
	// a handler that batches copies it. HandlePacket may deliver packets
	// itself (when its batch is full) and may block while its device is
	// full, which stops the reader: that is the link's backpressure. It
	// should not block for long otherwise, since control packets wait
	// behind it.
	HandlePacket(proto ppp.Protocol, pkt []byte)
	// Flush is called on the reader goroutine before every read from
	// the stream (which may block) and once more when the stream fails.
	// It delivers the packets HandlePacket kept. It is called also when
	// there are none.
	Flush()
}

// Config configures a Link. The zero value negotiates as pppd does with
// its defaults and "noauth", and drops received IP packets.
type Config struct {
	// LCP configures LCP. Its Up, Down, Started, Finished and
	// ProtocolReject callbacks belong to the link and are overwritten.
	// The zero value means lcp.DefaultConfig().
	LCP *lcp.Config
	// IPCP configures IPCP. Its Up, Down, Started and Finished callbacks
	// belong to the link and are overwritten.
	IPCP ipcp.Config
	// NoIPCP leaves IPCP out (pppd's noip): IPv4 is not carried, and the
	// peer's IPCP packets are Protocol-Rejected.
	NoIPCP bool
	// IPV6CP, if not nil, runs IPV6CP with this configuration (pppd's
	// +ipv6) and carries IPv6 while it is Opened; nil leaves it out
	// (noipv6), and the peer's IPV6CP packets are Protocol-Rejected. Its
	// Up, Down, Started and Finished callbacks belong to the link. When
	// its UseIPAddr is set and LocalIPv4 or RemoteIPv4 is unset, IPCP's
	// Local and Remote are used.
	//
	// The link stays up while either network protocol is running; when
	// the last one has finished, LCP is closed ("No network protocols
	// running"), as pppd does.
	IPV6CP *ipv6cp.Config

	// RestartInterval, MaxConfigure, MaxTerminate, MaxFailure, Passive
	// and Silent configure both automata (pppd's lcp-restart,
	// lcp-max-configure, lcp-max-terminate, lcp-max-failure, passive,
	// silent); zero values take RFC 1661's defaults.
	RestartInterval time.Duration
	MaxConfigure    int
	MaxTerminate    int
	MaxFailure      int
	Passive         bool
	Silent          bool

	// Packets receives IP packets; nil drops them.
	Packets PacketHandler
	// Events, if set, is called on the control goroutine for every Event.
	// It should return promptly: the control loop waits for it, and
	// control packets queue (and, past a few dozen, are dropped) while it
	// runs. It may call Close and CloseWithError, which only signal the
	// loop, but not Run. The last event is EventPhase with PhaseDead: the
	// link has ended, and Run is about to close the stream and wait for
	// its reader.
	Events func(Event)
	// Logger receives pppd-style packet traces at debug level and link
	// events at info level. Nil discards them.
	Logger *slog.Logger
}

// EventKind says what an Event reports.
type EventKind uint8

// Kinds of Event.
const (
	EventPhase      EventKind = iota + 1 // the link entered Event.Phase
	EventLCPUp                           // LCP reached Opened; Event.LCP holds the results
	EventLCPDown                         // LCP left Opened
	EventIPCPUp                          // IPCP reached Opened; Event.IPCP holds the addresses
	EventIPCPDown                        // IPCP left Opened
	EventIPV6CPUp                        // IPV6CP reached Opened; Event.IPV6CP holds the interface identifiers
	EventIPV6CPDown                      // IPV6CP left Opened
)

// Event is a change of the link's state, delivered to Config.Events.
type Event struct {
	Kind  EventKind
	Phase ppp.Phase       // the phase after the event
	LCP   lcp.Negotiated  // for EventLCPUp
	IPCP  ipcp.Negotiated // for EventIPCPUp
	// IPV6CP is for EventIPV6CPUp.
	IPV6CP ipv6cp.Negotiated
}

// Counters counts what crossed the link. All fields count since New.
type Counters struct {
	BytesIn, BytesOut     uint64 // octets read from and written to the stream
	PacketsIn, PacketsOut uint64 // IP packets received and sent
	ControlIn, ControlOut uint64 // control packets received and sent

	DropNotOpen      uint64 // packets of a protocol that is not Opened (received, or offered to WritePacket or WritePackets)
	DropBadHeader    uint64 // frames whose PPP header is malformed
	DropControlQueue uint64 // control packets dropped because the control loop was behind
	DropTooBig       uint64 // packets offered to WritePacket or WritePackets above the peer's MRU
	DropWrongFCS     uint64 // frames other than LCP that passed only the 16-bit FCS check where the 32-bit FCS was agreed
	ProtocolRejects  uint64 // Protocol-Rejects sent for protocols we do not run

	StreamWrites uint64 // writes to the stream; PacketsOut/StreamWrites is the mean batch
}

// Status is a snapshot of a link, safe to take from any goroutine.
type Status struct {
	Phase     ppp.Phase
	LCPState  ppp.State
	IPCPState ppp.State
	LCP       lcp.Negotiated  // valid while LCPState is Opened
	IPCP      ipcp.Negotiated // valid while IPCPState is Opened
	// IPV6CPState is Initial when IPV6CP is not configured.
	IPV6CPState ppp.State
	IPV6CP      ipv6cp.Negotiated // valid while IPV6CPState is Opened
	RTT         lcp.RTTStats      // Echo round-trip times since LCP last opened
	Framing     hdlc.Stats        // the decoder's counters
	Counters    Counters
}

type counters struct {
	bytesIn, bytesOut       atomic.Uint64
	packetsIn, packetsOut   atomic.Uint64
	controlIn, controlOut   atomic.Uint64
	dropNotOpen, dropHeader atomic.Uint64
	dropQueue, dropTooBig   atomic.Uint64
	dropFCS                 atomic.Uint64
	protocolRejects         atomic.Uint64
	writes                  atomic.Uint64
}

// ctlMsg is a received control (or unknown-protocol) packet on its way from
// the reader to the control loop. buf belongs to a slot of the reader's
// ring and stays untouched until the control loop has handled it.
type ctlMsg struct {
	proto ppp.Protocol
	info  []byte
}

// ctlQueue is the number of control packets that may wait for the control
// loop; more are dropped, as a busy line would lose them.
const ctlQueue = 32

// MaxBatchWrite bounds the octets WritePackets hands the stream in one
// write: a control packet sent meanwhile waits for at most one such write.
// A single frame larger than this (with a peer MRU above 32 KiB) goes in a
// write of its own.
const MaxBatchWrite = 64 << 10

// MaxHeaderLen is the longest PPP header (Address, Control and a two-octet
// Protocol): the least offset WritePackets takes.
const MaxHeaderLen = 4

// Link is one PPP link over a byte stream. Create it with New, run it with
// Run; Close ends it from any goroutine.
type Link struct {
	stream io.ReadWriteCloser
	cfg    Config
	log    *slog.Logger

	// Owned by the control loop (Run's goroutine).
	lcpH      *lcp.Handler
	ipcpH     *ipcp.Handler
	lcpA      *ppp.Automaton
	ipcpA     *ppp.Automaton
	lcpT      *time.Timer
	ipcpT     *time.Timer
	ipv6H     *ipv6cp.Handler // nil when IPV6CP is not configured
	ipv6A     *ppp.Automaton  // nil when IPV6CP is not configured
	ipv6T     *time.Timer
	echo      *time.Ticker
	phase     ppp.Phase
	later     []func() // automaton calls deferred until the current one returns
	endErr    error    // why the link ends; the first reason wins
	finished  bool     // LCP signalled tlf: the link is over
	looped    bool     // the loop-back close has been started
	protRejID uint8
	rejBuf    []byte

	// The decoder is read by the reader goroutine; the control loop only
	// calls its atomic setters, and Status its atomic counters.
	dec *hdlc.Decoder

	// Transmit side, shared by the control loop, WritePacket and
	// WritePackets.
	txMu    sync.Mutex
	ctlEnc  hdlc.Encoder // LCP Configure/Terminate/Code-Reject: RFC 1662 defaults
	dataEnc hdlc.Encoder // everything else: the negotiated ACCM and FCS
	acfc    bool
	pfc     bool
	peerMRU int
	frame   []byte
	wbuf    []byte
	hdr     [MaxHeaderLen]byte

	ipOpen  atomic.Bool // IPCP is Opened: IPv4 flows
	ip6Open atomic.Bool // IPV6CP is Opened: IPv6 flows
	// rxFCS32 is set while LCP is Opened with the 32-bit FCS agreed for
	// what the peer sends: the reader then drops frames other than LCP
	// that carry the 16-bit one.
	rxFCS32 atomic.Bool

	ctl      chan ctlMsg
	readErr  chan error
	closeCh  chan struct{}
	closeOne sync.Once
	closeErr error // why Close or CloseWithError ended the link; set before closeCh closes

	mu sync.Mutex // guards st
	st Status

	n counters
}

// New returns a Link that will speak PPP on stream. It starts nothing; call
// Run.
func New(stream io.ReadWriteCloser, cfg Config) *Link {
	l := &Link{
		stream:  stream,
		cfg:     cfg,
		log:     cfg.Logger,
		ctl:     make(chan ctlMsg, ctlQueue),
		readErr: make(chan error, 1),
		closeCh: make(chan struct{}),
		peerMRU: lcp.DefaultMRU,
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.dec = hdlc.NewDecoder(countingReader{l})
	return l
}

// Close asks the link to terminate: LCP sends Terminate-Request and Run
// returns ErrClosed once the peer acknowledged it or the restart timer gave
// up. Close may be called from any goroutine, any number of times; it does
// not wait.
func (l *Link) Close() {
	l.CloseWithError(ErrClosed)
}

// CloseWithError is Close with the error Run returns instead of ErrClosed,
// for an embedder that ends the link because something around it failed
// (the host could not be configured, the packet device broke). The
// Terminate-Request carries err's text as its reason. Only the first call
// of Close or CloseWithError counts, and an earlier reason for the end (the
// peer terminated, the stream failed) wins over err. A nil err means
// ErrClosed.
func (l *Link) CloseWithError(err error) {
	if err == nil {
		err = ErrClosed
	}
	l.closeOne.Do(func() {
		l.closeErr = err
		close(l.closeCh)
	})
}

// Status returns a snapshot of the link's state and counters.
func (l *Link) Status() Status {
	l.mu.Lock()
	s := l.st
	l.mu.Unlock()
	s.Framing = l.dec.Stats()
	s.Counters = Counters{
		BytesIn:          l.n.bytesIn.Load(),
		BytesOut:         l.n.bytesOut.Load(),
		PacketsIn:        l.n.packetsIn.Load(),
		PacketsOut:       l.n.packetsOut.Load(),
		ControlIn:        l.n.controlIn.Load(),
		ControlOut:       l.n.controlOut.Load(),
		DropNotOpen:      l.n.dropNotOpen.Load(),
		DropBadHeader:    l.n.dropHeader.Load(),
		DropControlQueue: l.n.dropQueue.Load(),
		DropTooBig:       l.n.dropTooBig.Load(),
		DropWrongFCS:     l.n.dropFCS.Load(),
		ProtocolRejects:  l.n.protocolRejects.Load(),
		StreamWrites:     l.n.writes.Load(),
	}
	return s
}

// WritePacket frames an IP packet of proto (ppp.ProtoIPv4 or ppp.ProtoIPv6)
// and writes it to the stream. It drops the packet and returns nil when
// proto's control protocol (IPCP, IPV6CP) is not Opened or the packet
// exceeds the peer's MRU (both counted), so a caller pumping packets need
// not care about the link's phase. It returns a *StreamError if the write
// fails. It may be called from any goroutine; it must not keep pkt.
func (l *Link) WritePacket(proto ppp.Protocol, pkt []byte) error {
	if !l.flowing(proto) {
		l.n.dropNotOpen.Add(1)
		return nil
	}
	l.txMu.Lock()
	defer l.txMu.Unlock()
	if len(pkt) > l.peerMRU {
		l.n.dropTooBig.Add(1)
		return nil
	}
	l.n.packetsOut.Add(1)
	return l.writeLocked(&l.dataEnc, proto, pkt)
}

// WritePackets frames a batch of IP packets, bufs[i][offset:offset+sizes[i]],
// and writes them to the stream in as few writes as MaxBatchWrite allows
// (one for a typical batch), the frames sharing their flags. Like
// WritePacket it drops, counts and skips packets when their control
// protocol is not Opened or a packet exceeds the peer's MRU, and returns a
// *StreamError if a write fails. It writes each packet's PPP header into the MaxHeaderLen
// octets before it, so offset must be at least MaxHeaderLen; it keeps no
// buffer. It may be called from any goroutine. The transmit lock is taken
// for each write and released between them, so control packets interleave
// at write boundaries. With the buffers of a steady flow it allocates
// nothing.
func (l *Link) WritePackets(proto ppp.Protocol, bufs [][]byte, sizes []int, offset int) error {
	if offset < MaxHeaderLen {
		return fmt.Errorf("link: WritePackets offset %d leaves no room for the PPP header; leave at least %d octets before each packet", offset, MaxHeaderLen)
	}
	for i := 0; i < len(bufs); {
		if !l.flowing(proto) {
			l.n.dropNotOpen.Add(uint64(len(bufs) - i))
			return nil
		}
		var err error
		i, err = l.writeBatch(proto, bufs, sizes, offset, i)
		if err != nil {
			return err
		}
	}
	return nil
}

// flowing reports whether packets of proto are carried: IPv4 while IPCP is
// Opened, IPv6 while IPV6CP is. The reader and writers may call it.
func (l *Link) flowing(proto ppp.Protocol) bool {
	switch proto {
	case ppp.ProtoIPv4:
		return l.ipOpen.Load()
	case ppp.ProtoIPv6:
		return l.ip6Open.Load()
	}
	return false
}

// writeBatch frames packets from bufs[i] on into one write of at most
// MaxBatchWrite octets (or one frame) and returns the index of the first
// packet it left for the next write.
func (l *Link) writeBatch(proto ppp.Protocol, bufs [][]byte, sizes []int, offset, i int) (int, error) {
	l.txMu.Lock()
	defer l.txMu.Unlock()
	hdr := ppp.AppendHeader(l.hdr[:0], proto, l.acfc, l.pfc)
	w := l.wbuf[:0]
	packets := 0
	for ; i < len(bufs); i++ {
		n := sizes[i]
		if n > l.peerMRU {
			l.n.dropTooBig.Add(1)
			continue
		}
		frame := bufs[i][offset-len(hdr) : offset+n]
		if len(w) > 0 && len(w)+hdlc.MaxEncodedLen(len(frame)) > MaxBatchWrite {
			break
		}
		copy(frame, hdr)
		w = l.dataEnc.AppendFrame(w, frame)
		packets++
	}
	l.wbuf = w
	if len(w) == 0 {
		return i, nil
	}
	l.n.packetsOut.Add(uint64(packets))
	return i, l.write(w)
}

// writeLocked frames one packet with enc and writes it. l.txMu is held.
func (l *Link) writeLocked(enc *hdlc.Encoder, proto ppp.Protocol, pkt []byte) error {
	l.frame = append(ppp.AppendHeader(l.frame[:0], proto, l.acfc, l.pfc), pkt...)
	l.wbuf = enc.AppendFrame(l.wbuf[:0], l.frame)
	return l.write(l.wbuf)
}

// write writes b to the stream and counts it. l.txMu is held.
func (l *Link) write(b []byte) error {
	n, err := l.stream.Write(b)
	l.n.bytesOut.Add(uint64(n))
	l.n.writes.Add(1)
	if err != nil {
		return &StreamError{Err: err, Write: true}
	}
	return nil
}

// sendControl writes one control packet of proto; the automata call it.
// Write errors are left to the reader, which sees the stream fail too.
func (l *Link) sendControl(proto ppp.Protocol, pkt []byte) {
	l.txMu.Lock()
	defer l.txMu.Unlock()
	enc := &l.dataEnc
	// RFC 1662 section 7.1 and RFC 1570 section 2.1: LCP Configure-*,
	// Terminate-* and Code-Reject packets go with the default ACCM and
	// FCS, so that a peer renegotiating from scratch can read them.
	if proto == ppp.ProtoLCP && len(pkt) > 0 && pkt[0] >= 1 && pkt[0] <= 7 {
		enc = &l.ctlEnc
	}
	l.n.controlOut.Add(1)
	_ = l.writeLocked(enc, proto, pkt)
}

// Run speaks PPP on the stream until the link ends, and returns why: a
// *ppp.NegotiationError (the peer terminated the link, refused our options
// or stopped answering), an *lcp.EchoTimeoutError, an *ipcp.AddressError or
// *ipv6cp.IdentifierError (from the last network protocol to finish), a
// *StreamError, ErrClosed after Close, or the context's error. It closes the
// stream before it returns, and returns only after every goroutine it started
// has ended. Run may be called once.
func (l *Link) Run(ctx context.Context) error {
	l.setup()
	l.dec.SetMaxFrame(maxFrame(lcp.DefaultMRU))
	l.setReceiveDefaults()

	var wg sync.WaitGroup
	loopDone := make(chan struct{})
	wg.Go(l.readLoop)
	wg.Go(func() { l.watchdog(ctx, loopDone) })
	defer func() {
		close(loopDone)
		l.stream.Close()
		wg.Wait()
		l.stopTimers()
	}()

	l.setPhase(ppp.PhaseEstablish)
	l.lcpA.Open()
	l.lcpA.Up()
	l.settle()

	closing := false
	startClose := func(err error, reason string) {
		if closing {
			return
		}
		closing = true
		l.fail(err)
		l.lcpA.Close(reason)
	}
	ctxDone := ctx.Done()
	closeCh := l.closeCh

	for !l.finished {
		var echoC <-chan time.Time
		if l.echo != nil {
			echoC = l.echo.C
		}
		select {
		case m := <-l.ctl:
			l.input(m)
		case <-l.lcpT.C:
			l.lcpA.Timeout()
		case <-l.ipcpT.C:
			l.ipcpA.Timeout()
		case <-l.ipv6T.C:
			l.ipv6A.Timeout()
		case <-echoC:
			if err := l.lcpH.EchoTimer(l.lcpA); err != nil {
				l.fail(err)
				var e *lcp.EchoTimeoutError
				reason := err.Error()
				if errors.As(err, &e) {
					reason = e.Reason()
				}
				l.lcpA.Close(reason)
			}
		case err := <-l.readErr:
			// The reader queued every control packet it read before
			// the stream ended; handle them first. A peer that
			// terminated the link usually closes the stream right
			// after: its Terminate-Request is the reason. So is a
			// request to end the link that came first (the watchdog
			// closes the stream after one).
			l.drainControl()
			l.fail(l.lcpA.Err())
			l.fail(l.closeReason(ctx))
			l.fail(&StreamError{Err: err, Output: l.garbageIfSilent()})
			l.lcpA.Down()
			l.lcpA.Close("stream closed")
			l.finished = true
		case <-ctxDone:
			ctxDone = nil
			// A peer that terminated the link first (its owner
			// often cancels the context when the peer hangs up
			// after our Terminate-Ack) remains the reason.
			l.fail(l.lcpA.Err())
			startClose(ctx.Err(), "User request")
		case <-closeCh:
			closeCh = nil
			reason := "User request"
			if l.closeErr != ErrClosed {
				reason = l.closeErr.Error()
			}
			startClose(l.closeErr, reason)
		}
		l.settle()
	}
	l.fail(l.lcpA.Err())
	if l.endErr == nil {
		l.endErr = errors.New("link: LCP finished")
	}
	l.setPhase(ppp.PhaseDead)
	return l.endErr
}

// closeReason returns why the link was asked to end, by the context or by
// Close, or nil if it was not.
func (l *Link) closeReason(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-l.closeCh:
		return l.closeErr
	default:
		return nil
	}
}

// watchdog closes the stream if the control loop has not ended some time
// after ctx ended or Close was called. The automaton gives up terminating
// after Max-Terminate restarts, but a stream whose writes block (the far
// end reads nothing) can hold the control loop in a write; closing the
// stream fails that write and the reader, and the loop ends.
func (l *Link) watchdog(ctx context.Context, loopDone <-chan struct{}) {
	select {
	case <-ctx.Done():
	case <-l.closeCh:
	case <-loopDone:
		return
	}
	t := time.NewTimer(l.restart()*time.Duration(l.maxTerminate()+1) + time.Second)
	defer t.Stop()
	select {
	case <-t.C:
		l.log.Warn("link: the stream is stuck; closing it")
		l.stream.Close()
	case <-loopDone:
	}
}

// drainControl handles the control packets the reader has queued, without
// waiting for more.
func (l *Link) drainControl() {
	for {
		select {
		case m := <-l.ctl:
			l.input(m)
			l.settle()
		default:
			return
		}
	}
}

// garbageIfSilent returns what the far end wrote outside frames, if it
// never sent a valid frame.
func (l *Link) garbageIfSilent() []byte {
	if l.dec.Stats().Frames > 0 {
		return nil
	}
	return l.dec.Garbage()
}

// fail records why the link ends, unless a reason is already known.
func (l *Link) fail(err error) {
	if l.endErr == nil && err != nil {
		l.endErr = err
	}
}

func (l *Link) restart() time.Duration {
	if l.cfg.RestartInterval > 0 {
		return l.cfg.RestartInterval
	}
	return ppp.DefaultRestartInterval
}

func (l *Link) maxTerminate() int {
	if l.cfg.MaxTerminate > 0 {
		return l.cfg.MaxTerminate
	}
	return ppp.DefaultMaxTerminate
}

// maxFrame is the decoder limit for an Information field of mru octets: the
// largest header and FCS on top.
func maxFrame(mru int) int { return 4 + mru + 4 }

// setup builds the automata and handlers and wires their callbacks.
func (l *Link) setup() {
	lcfg := lcp.DefaultConfig()
	if l.cfg.LCP != nil {
		lcfg = *l.cfg.LCP
	}
	if lcfg.Logger == nil {
		lcfg.Logger = l.cfg.Logger
	}
	lcfg.Up = l.lcpUp
	lcfg.Down = l.lcpDown
	lcfg.Started = nil
	lcfg.Finished = func() { l.finished = true }
	lcfg.ProtocolReject = l.protocolRejected
	l.lcpH = lcp.New(lcfg)

	icfg := l.cfg.IPCP
	icfg.Up = l.ipcpUp
	icfg.Down = l.ipcpDown
	icfg.Started = nil
	icfg.Finished = l.ncpFinished
	h, err := ipcp.New(icfg)
	if err != nil {
		// An invalid address in the configuration: refuse IPCP with the
		// reason rather than panic; Run reports it.
		l.fail(err)
		h, _ = ipcp.New(ipcp.Config{Up: icfg.Up, Down: icfg.Down, Finished: icfg.Finished})
	}
	l.ipcpH = h

	l.lcpT = newStoppedTimer()
	l.ipcpT = newStoppedTimer()
	l.ipv6T = newStoppedTimer()
	l.lcpA = ppp.NewAutomaton(l.automatonConfig(ppp.ProtoLCP, l.lcpH, l.lcpT))
	l.ipcpA = ppp.NewAutomaton(l.automatonConfig(ppp.ProtoIPCP, l.ipcpH, l.ipcpT))

	if l.cfg.IPV6CP != nil {
		vcfg := *l.cfg.IPV6CP
		vcfg.Up = l.ipv6cpUp
		vcfg.Down = l.ipv6cpDown
		vcfg.Started = nil
		vcfg.Finished = l.ncpFinished
		if vcfg.UseIPAddr {
			if !vcfg.LocalIPv4.IsValid() {
				vcfg.LocalIPv4 = l.cfg.IPCP.Local
			}
			if !vcfg.RemoteIPv4.IsValid() {
				vcfg.RemoteIPv4 = l.cfg.IPCP.Remote
			}
		}
		h, err := ipv6cp.New(vcfg)
		if err != nil {
			// No identifier could be drawn or derived: IPV6CP does
			// not run (the peer's is Protocol-Rejected), and Run
			// reports why.
			l.fail(err)
			l.log.Error(err.Error())
			return
		}
		l.ipv6H = h
		l.ipv6A = ppp.NewAutomaton(l.automatonConfig(ppp.ProtoIPV6CP, l.ipv6H, l.ipv6T))
	}
}

// ncps returns the automata of the network protocols the link runs.
func (l *Link) ncps() []*ppp.Automaton {
	var a []*ppp.Automaton
	if !l.cfg.NoIPCP {
		a = append(a, l.ipcpA)
	}
	if l.ipv6A != nil {
		a = append(a, l.ipv6A)
	}
	return a
}

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

func (l *Link) automatonConfig(proto ppp.Protocol, h ppp.Handler, t *time.Timer) ppp.Config {
	return ppp.Config{
		Protocol: proto,
		Handler:  h,
		Send:     func(pkt []byte) { l.sendControl(proto, pkt) },
		Timer: func(d time.Duration) {
			if d <= 0 {
				t.Stop()
			} else {
				t.Reset(d)
			}
		},
		// RFC 1661 section 5: no packet may exceed the peer's MRU; an
		// Echo-Reply or Code-Reject carrying a long packet is cut to it.
		MaxSend:         l.sendLimit,
		RestartInterval: l.cfg.RestartInterval,
		MaxTerminate:    l.cfg.MaxTerminate,
		MaxConfigure:    l.cfg.MaxConfigure,
		MaxFailure:      l.cfg.MaxFailure,
		Passive:         l.cfg.Passive,
		Silent:          l.cfg.Silent,
		Logger:          l.cfg.Logger,
	}
}

// sendLimit returns the longest control packet we may send: the peer's
// MRU (the default 1500 until LCP has agreed on one).
func (l *Link) sendLimit() int {
	l.txMu.Lock()
	defer l.txMu.Unlock()
	return l.peerMRU
}

func (l *Link) stopTimers() {
	l.lcpT.Stop()
	l.ipcpT.Stop()
	l.ipv6T.Stop()
	if l.echo != nil {
		l.echo.Stop()
		l.echo = nil
	}
}

// settle runs the automaton calls deferred by callbacks, then brings the
// phase and the status snapshot up to date. The control loop calls it after
// every event.
func (l *Link) settle() {
	for len(l.later) > 0 {
		f := l.later[0]
		l.later = l.later[1:]
		f()
	}
	l.later = l.later[:0]
	if l.lcpH.Looped() && !l.looped {
		// RFC 1661 section 6.4: our own magic keeps coming back.
		l.looped = true
		l.fail(lcp.ErrLoopedBack)
		l.lcpA.Close(lcp.LoopedBackReason)
	}
	switch l.lcpA.State() {
	case ppp.StateOpened:
		l.setPhase(ppp.PhaseNetwork)
	case ppp.StateClosing, ppp.StateStopping:
		l.setPhase(ppp.PhaseTerminate)
	case ppp.StateReqSent, ppp.StateAckRcvd, ppp.StateAckSent:
		l.setPhase(ppp.PhaseEstablish)
	}
	l.mu.Lock()
	l.st.Phase = l.phase
	l.st.LCPState = l.lcpA.State()
	l.st.IPCPState = l.ipcpA.State()
	if l.ipv6A != nil {
		l.st.IPV6CPState = l.ipv6A.State()
	}
	l.st.RTT = l.lcpH.RTT()
	l.mu.Unlock()
}

func (l *Link) setPhase(p ppp.Phase) {
	if l.phase == p {
		return
	}
	l.log.Debug("phase " + l.phase.String() + " -> " + p.String())
	l.phase = p
	l.mu.Lock()
	l.st.Phase = p
	l.mu.Unlock()
	l.emit(Event{Kind: EventPhase})
}

func (l *Link) emit(e Event) {
	if l.cfg.Events != nil {
		e.Phase = l.phase
		l.cfg.Events(e)
	}
}

// input dispatches one received packet that is not IPv4 data (RFC 1661
// section 3 and pppd's get_input).
func (l *Link) input(m ctlMsg) {
	l.n.controlIn.Add(1)
	switch {
	case m.proto == ppp.ProtoLCP:
		l.lcpA.Input(m.info)
	case l.lcpA.State() != ppp.StateOpened:
		// Non-LCP packets are silently discarded outside the Network
		// phase (RFC 1661 section 3.4).
		l.n.dropNotOpen.Add(1)
	case m.proto == ppp.ProtoIPCP && !l.cfg.NoIPCP:
		l.ipcpA.Input(m.info)
	case m.proto == ppp.ProtoIPV6CP && l.ipv6A != nil:
		l.ipv6A.Input(m.info)
	case m.proto == ppp.ProtoIPv4 && !l.cfg.NoIPCP, m.proto == ppp.ProtoIPv6 && l.ipv6A != nil:
		// Its protocol is not Opened (the reader passes the packets
		// on when it is).
		l.n.dropNotOpen.Add(1)
	default:
		l.protocolReject(m.proto, m.info)
	}
}

// protocolReject answers a packet of a protocol the link does not run with
// an LCP Protocol-Reject (RFC 1661 section 5.7), the rejected information
// truncated so the packet fits the peer's MRU.
func (l *Link) protocolReject(proto ppp.Protocol, info []byte) {
	l.txMu.Lock()
	room := l.peerMRU - ppp.HeaderLen - 2
	l.txMu.Unlock()
	if len(info) > room {
		info = info[:room]
	}
	l.rejBuf = append(append(l.rejBuf[:0], byte(proto>>8), byte(proto)), info...)
	l.protRejID++
	l.n.protocolRejects.Add(1)
	l.lcpA.Send(ppp.CodeProtocolReject, l.protRejID, l.rejBuf)
}

// protocolRejected handles the peer's Protocol-Reject of proto (RXJ- for
// that protocol's automaton).
func (l *Link) protocolRejected(proto ppp.Protocol, _ []byte) {
	switch proto {
	case ppp.ProtoLCP:
		// Catastrophic: the peer does not speak LCP at all.
		l.fail(errors.New("link: the peer rejected LCP itself (Protocol-Reject of 0xc021)"))
		l.later = append(l.later, func() { l.lcpA.Close("LCP protocol-rejected") })
	case ppp.ProtoIPCP, ppp.ProtoIPv4:
		l.later = append(l.later, l.ipcpA.ProtocolRejected)
	case ppp.ProtoIPV6CP, ppp.ProtoIPv6:
		if l.ipv6A != nil {
			l.later = append(l.later, l.ipv6A.ProtocolRejected)
		}
	default:
		l.log.Debug("peer rejected protocol " + proto.String() + ", which we do not send")
	}
}

func (l *Link) lcpUp(n lcp.Negotiated) {
	l.txMu.Lock()
	l.dataEnc.SetACCM(hdlc.ACCM(n.SendACCM))
	l.dataEnc.SetFCS(fcsSize(n.SendFCS))
	l.acfc, l.pfc = n.SendACFC, n.SendPFC
	l.peerMRU = n.PeerMRU
	l.txMu.Unlock()
	l.dec.SetMaxFrame(maxFrame(n.ReceiveLimit()))
	l.rxFCS32.Store(n.RecvFCS == lcp.FCS32)

	l.mu.Lock()
	l.st.LCP = n
	l.mu.Unlock()
	if iv := l.lcpH.EchoInterval(); iv > 0 {
		l.echo = time.NewTicker(iv)
	}
	l.emit(Event{Kind: EventLCPUp, LCP: n})
	// tlu: the link enters the Network phase and the NCPs start.
	l.setPhase(ppp.PhaseNetwork)
	ncps := l.ncps()
	if len(ncps) == 0 {
		l.fail(errors.New("link: no network protocol to run: both IPv4 (noip) and IPv6 (noipv6) are off"))
		l.later = append(l.later, func() { l.lcpA.Close("No network protocols running") })
	}
	for _, a := range ncps {
		a.Open()
		a.Up()
	}
}

func (l *Link) lcpDown() {
	for _, a := range l.ncps() {
		a.Down()
	}
	if l.echo != nil {
		l.echo.Stop()
		l.echo = nil
	}
	l.txMu.Lock()
	l.dataEnc.SetACCM(hdlc.DefaultACCM)
	l.dataEnc.SetFCS(hdlc.FCS16)
	l.acfc, l.pfc = false, false
	l.peerMRU = lcp.DefaultMRU
	l.txMu.Unlock()
	l.rxFCS32.Store(false)
	l.emit(Event{Kind: EventLCPDown})
}

// setReceiveDefaults sets the decoder's receive settings for the whole life
// of the link, so that no frame is lost while the two ends switch settings
// (the reader decodes ahead of the control loop). The receive ACCM is the
// map we ask the peer for: escaped octets decode the same under any map,
// and it only decides which unescaped control characters are line noise,
// which a peer honouring our request never sends. With FCS-32 offered
// (RFC 1570), frames of either FCS size are accepted.
func (l *Link) setReceiveDefaults() {
	want := l.lcpWant()
	accm := hdlc.DefaultACCM
	if want.NegACCM {
		accm = hdlc.ACCM(want.ACCM)
	}
	l.dec.SetACCM(accm)
	if want.NegFCS && want.FCS&lcp.FCS32 != 0 {
		l.dec.SetFCS(hdlc.FCSEither)
	} else {
		l.dec.SetFCS(hdlc.FCS16)
	}
}

// lcpWant returns the LCP options we request.
func (l *Link) lcpWant() lcp.Options {
	if l.cfg.LCP != nil {
		return l.cfg.LCP.Want
	}
	return lcp.DefaultConfig().Want
}

func fcsSize(f lcp.FCS) hdlc.FCSSize {
	if f == lcp.FCS32 {
		return hdlc.FCS32
	}
	return hdlc.FCS16
}

func (l *Link) ipcpUp(n ipcp.Negotiated) {
	if n.Err != nil {
		l.fail(n.Err)
		reason := n.Err.Error()
		l.later = append(l.later, func() { l.ipcpA.Close(reason) })
		return
	}
	l.mu.Lock()
	l.st.IPCP = n
	l.mu.Unlock()
	l.log.Info("local  IP address " + n.Local.String())
	l.log.Info("remote IP address " + n.Peer.String())
	l.ipOpen.Store(true)
	l.emit(Event{Kind: EventIPCPUp, IPCP: n})
}

func (l *Link) ipcpDown() {
	// An Up with unusable addresses reported no EventIPCPUp (the layer
	// is being closed): its Down reports nothing either, so that the
	// events stay paired.
	if l.ipOpen.Swap(false) {
		l.emit(Event{Kind: EventIPCPDown})
	}
}

// ncpFinished is the tlf of a network protocol. Once the automaton call has
// returned, LCP is closed if no network protocol is running any more while
// the link is up, as pppd does ("No network protocols running"); the
// protocols' reasons are then the link's.
func (l *Link) ncpFinished() {
	l.later = append(l.later, func() {
		if l.lcpA.State() != ppp.StateOpened {
			return
		}
		for _, a := range l.ncps() {
			switch a.State() {
			case ppp.StateInitial, ppp.StateStarting, ppp.StateClosed, ppp.StateStopped:
			default:
				return // still running
			}
		}
		if !l.cfg.NoIPCP {
			l.fail(l.ipcpH.Err())
			l.fail(l.ipcpA.Err())
		}
		if l.ipv6A != nil {
			l.fail(l.ipv6H.Err())
			l.fail(l.ipv6A.Err())
		}
		l.lcpA.Close("No network protocols running")
	})
}

func (l *Link) ipv6cpUp(n ipv6cp.Negotiated) {
	if n.Err != nil {
		l.log.Warn("IPV6CP: " + n.Err.Error())
		reason := n.Err.Error()
		l.later = append(l.later, func() { l.ipv6A.Close(reason) })
		return
	}
	l.mu.Lock()
	l.st.IPV6CP = n
	l.mu.Unlock()
	l.log.Info("local  LL address " + n.LocalAddr().String())
	l.log.Info("remote LL address " + n.PeerAddr().String())
	l.ip6Open.Store(true)
	l.emit(Event{Kind: EventIPV6CPUp, IPV6CP: n})
}

func (l *Link) ipv6cpDown() {
	// As for IPCP: no Down event without an Up event.
	if l.ip6Open.Swap(false) {
		l.emit(Event{Kind: EventIPV6CPDown})
	}
}
