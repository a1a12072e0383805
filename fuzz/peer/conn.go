package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pppssh/pppssh/auth"
	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/ipv6cp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// A Frame is one good frame the peer sent (its FCS checked and removed).
type Frame struct {
	At    time.Time    // when it was decoded
	Raw   []byte       // address, control, protocol and information fields
	Proto ppp.Protocol // zero when HeaderErr is set
	Info  []byte       // the information field, within Raw
	ACFC  bool         // the address and control fields were left out
	PFC   bool         // the protocol field was one octet
	// HeaderErr is set when the address, control or protocol field is
	// malformed; Proto and Info are then unset.
	HeaderErr error
}

// Packet returns the frame's control packet: ok is false when the frame is
// not of a control protocol or its packet is malformed (RFC 1661 section 5).
func (f Frame) Packet() (p ppp.Packet, ok bool) {
	if f.HeaderErr != nil || !f.Proto.IsControl() {
		return nil, false
	}
	p, err := ppp.ParsePacket(f.Info)
	return p, err == nil
}

// Is reports whether f is a well-formed control packet of proto with code.
func (f Frame) Is(proto ppp.Protocol, code ppp.Code) bool {
	if f.Proto != proto {
		return false
	}
	p, ok := f.Packet()
	return ok && p.Code() == code
}

// String returns the frame as pppd's debug log shows it:
// "[LCP ConfReq id=0x1 <mru 1500>]", "[IPv4 data, 84 octets]".
func (f Frame) String() string {
	switch {
	case f.HeaderErr != nil:
		return fmt.Sprintf("[bad header: % x]", f.Raw[:min(len(f.Raw), 8)])
	case f.Proto.IsControl():
		return string(ppp.AppendPacketText(nil, f.Proto, f.Info, Formatter(f.Proto)))
	default:
		return fmt.Sprintf("[%v data, %d octets]", f.Proto, len(f.Info))
	}
}

var (
	lcpFormatter  = lcp.New(lcp.DefaultConfig())
	ipcpFormatter = func() any {
		h, err := ipcp.New(ipcp.Config{})
		if err != nil {
			panic(err) // the zero Config is valid
		}
		return h
	}()
	ipv6cpFormatter = func() any {
		// A fixed identifier: the handler is used only to print options,
		// and must not draw random numbers for that.
		h, err := ipv6cp.New(ipv6cp.Config{Local: ipv6cp.InterfaceID{7: 1}})
		if err != nil {
			panic(err)
		}
		return h
	}()
)

// Formatter returns the value ppp.AppendPacketText takes to print packets
// of proto as pppd does: the options and codes of LCP, IPCP and IPV6CP,
// whole PAP and CHAP packets (never a PAP password); nil for protocols
// without one.
func Formatter(proto ppp.Protocol) any {
	switch proto {
	case ppp.ProtoLCP:
		return lcpFormatter
	case ppp.ProtoIPCP:
		return ipcpFormatter
	case ppp.ProtoIPV6CP:
		return ipv6cpFormatter
	case ppp.ProtoPAP, ppp.ProtoCHAP:
		return auth.Formatter{}
	}
	return nil
}

// ConnConfig configures a Conn.
type ConnConfig struct {
	// Log receives every frame sent and received at debug level, in pppd's
	// words ("sent [LCP ConfReq id=0x1 <mru 1500>]"). Nil logs nothing.
	Log *slog.Logger
	// Queue is how many received frames are kept until Next takes them;
	// frames beyond it are dropped and counted (Stats.Dropped). Zero means
	// 4096.
	Queue int
	// MaxFrame is the longest frame accepted from the peer, in octets
	// after unstuffing; zero means 65535 + 8.
	MaxFrame int
}

// A Conn speaks asynchronous HDLC-like framing (RFC 1662) to the peer on
// one line. Its encoder sends what RFC 1662 prescribes before negotiation
// (all control characters escaped, FCS-16) until the caller changes it; its
// decoder takes frames with either FCS and whatever the peer escapes. A
// goroutine reads the line from NewConn until Close.
//
// Methods may be called from any goroutine; Next and Expect from one at a
// time.
type Conn struct {
	line   io.ReadWriteCloser
	log    *slog.Logger
	dec    *hdlc.Decoder
	enc    hdlc.Encoder
	frames chan Frame
	done   chan struct{} // closed when the reader has ended
	err    error         // why the reader ended; set before done is closed

	wmu  sync.Mutex
	wbuf []byte

	hmu     sync.Mutex
	history []Frame
	dropped uint64

	closeOnce sync.Once
}

// maxHistory bounds History.
const maxHistory = 4096

// NewConn starts speaking on line. Close closes line.
func NewConn(line io.ReadWriteCloser, cfg ConnConfig) *Conn {
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = 65535 + 8
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		line:   line,
		log:    cfg.Log,
		dec:    hdlc.NewDecoder(line),
		frames: make(chan Frame, cfg.Queue),
		done:   make(chan struct{}),
	}
	c.dec.SetACCM(0)
	c.dec.SetFCS(hdlc.FCSEither)
	c.dec.SetMaxFrame(cfg.MaxFrame)
	go c.read()
	return c
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		raw, err := c.dec.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.EOF
			}
			c.err = err
			return
		}
		f := Frame{At: time.Now(), Raw: append([]byte(nil), raw...)}
		f.Proto, f.Info, f.HeaderErr = ppp.ParseHeader(f.Raw)
		if f.HeaderErr == nil {
			f.ACFC = f.Raw[0] != 0xff
			hdr := len(f.Raw) - len(f.Info)
			if !f.ACFC {
				hdr -= 2
			}
			f.PFC = hdr == 1
		}
		if c.log.Enabled(context.Background(), slog.LevelDebug) {
			c.log.Debug("rcvd " + f.String())
		}
		c.hmu.Lock()
		if len(c.history) < maxHistory {
			c.history = append(c.history, f)
		}
		c.hmu.Unlock()
		select {
		case c.frames <- f:
		default:
			c.hmu.Lock()
			c.dropped++
			c.hmu.Unlock()
		}
	}
}

// Encoder returns the encoder Send and SendFrame use, to change the ACCM,
// FCS or escapes we send with.
func (c *Conn) Encoder() *hdlc.Encoder { return &c.enc }

// Decoder returns the decoder of the peer's frames, for its statistics and
// settings (SetFCS, SetACCM).
func (c *Conn) Decoder() *hdlc.Decoder { return c.dec }

// Send frames a control or data packet of proto with the full address,
// control and protocol fields and writes it.
func (c *Conn) Send(proto ppp.Protocol, pkt []byte) error {
	frame := append(ppp.AppendHeader(make([]byte, 0, 4+len(pkt)), proto, false, false), pkt...)
	return c.SendFrame(frame)
}

// SendFrame encodes frame (address, control, protocol and information
// fields, as the caller built them) with the FCS and escapes of Encoder and
// writes it.
func (c *Conn) SendFrame(frame []byte) error {
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		proto, info, err := ppp.ParseHeader(frame)
		switch {
		case err != nil:
			c.log.Debug(fmt.Sprintf("sent [bad header: % x]", frame[:min(len(frame), 8)]))
		case proto.IsControl():
			c.log.Debug("sent " + string(ppp.AppendPacketText(nil, proto, info, Formatter(proto))))
		default:
			c.log.Debug(fmt.Sprintf("sent [%v data, %d octets]", proto, len(info)))
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = c.enc.AppendFrame(c.wbuf[:0], frame)
	return c.write(c.wbuf)
}

// SendRaw writes b to the line as it is: flags, escapes and FCS are the
// caller's.
func (c *Conn) SendRaw(b []byte) error {
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug(fmt.Sprintf("sent %d raw octets: % x", len(b), b[:min(len(b), 64)]))
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.write(b)
}

func (c *Conn) write(b []byte) error {
	if _, err := c.line.Write(b); err != nil {
		return fmt.Errorf("peer: writing to the line: %w", err)
	}
	return nil
}

// Next returns the next frame from the peer. It returns ctx's error when
// ctx ends first, and the line's error (io.EOF when it closed) when the
// line has ended and every frame before that has been taken.
func (c *Conn) Next(ctx context.Context) (Frame, error) {
	select {
	case f := <-c.frames:
		return f, nil
	default:
	}
	select {
	case f := <-c.frames:
		return f, nil
	case <-ctx.Done():
		return Frame{}, ctx.Err()
	case <-c.done:
		select {
		case f := <-c.frames:
			return f, nil
		default:
			return Frame{}, c.err
		}
	}
}

// Expect returns the first frame from the peer for which match is true,
// passing over the others (History keeps them). It fails like Next.
func (c *Conn) Expect(ctx context.Context, match func(Frame) bool) (Frame, error) {
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return Frame{}, err
		}
		if match(f) {
			return f, nil
		}
	}
}

// Collect returns every frame the peer sends within d (or until the line
// ends).
func (c *Conn) Collect(d time.Duration) []Frame {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var fs []Frame
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return fs
		}
		fs = append(fs, f)
	}
}

// History returns every frame received so far (up to the first 4096), the
// ones Next has not returned yet included.
func (c *Conn) History() []Frame {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	return append([]Frame(nil), c.history...)
}

// Dropped returns how many frames were dropped because Next did not take
// them in time.
func (c *Conn) Dropped() uint64 {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	return c.dropped
}

// Done is closed when the line has ended (the peer closed it, or Close).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the line ended once Done is closed: io.EOF when the peer
// closed it.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close closes the line and waits for the reader to end.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.line.Close() })
	<-c.done
	return err
}
