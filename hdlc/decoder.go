package hdlc

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// Reasons a Decoder drops a frame. ReadFrame does not return them: it counts
// each dropped frame in Stats and reports the reason for the latest one
// through LastDrop, so that a caller can tell noise from a misconfiguration
// (a run of ErrBadFCS right after LCP opened suggests the two ends disagree
// on the FCS size).
var (
	// ErrBadFCS means the frame's Frame Check Sequence did not match its
	// contents: it was damaged, or the ends disagree on the FCS size or ACCM.
	ErrBadFCS = errors.New("hdlc: bad frame check sequence")

	// ErrOversized means the frame was longer than the maximum set with
	// SetMaxFrame; raise the maximum to the MRU that LCP agreed on.
	ErrOversized = errors.New("hdlc: frame longer than the maximum")

	// ErrShort means the frame had no octet besides its FCS. RFC 1662
	// section 4.3 drops frames under 4 octets with FCS-16, but a frame with
	// both header fields compressed carries a 1-octet Protocol, so only
	// frames without any octet for it are dropped here.
	ErrShort = errors.New("hdlc: frame too short")

	// ErrAborted means the sender aborted the frame by sending a Control
	// Escape immediately before the closing Flag Sequence (RFC 1662 section
	// 4.3).
	ErrAborted = errors.New("hdlc: frame aborted")
)

// errBadCount is returned when the io.Reader breaks its contract by
// reporting more octets than it was given room for, or fewer than none.
var errBadCount = errors.New("hdlc: reader returned an invalid count")

// What a Flag Sequence closed.
const (
	dropNone      = iota // nothing dropped: a good frame, or an empty one
	dropBadFCS           // ErrBadFCS
	dropOversized        // ErrOversized
	dropShort            // ErrShort
	dropAborted          // ErrAborted
)

var dropErrors = [...]error{
	dropNone:      nil,
	dropBadFCS:    ErrBadFCS,
	dropOversized: ErrOversized,
	dropShort:     ErrShort,
	dropAborted:   ErrAborted,
}

const (
	// DefaultMaxFrame is the maximum frame length a Decoder starts with:
	// an Information field of 1500 octets, the MRU every PPP implementation
	// must accept (RFC 1661 section 6.1), behind an uncompressed Address,
	// Control and Protocol (4 octets). For an MRU of m, set m+4.
	DefaultMaxFrame = 1500 + 4

	// maxMaxFrame is the largest maximum frame length: the largest MRU
	// LCP can express, 65535, plus the header.
	maxMaxFrame = 65535 + 4

	// readSize is the size of the read buffer while frames are small.
	readSize = 64 << 10

	// minRead is the least room a read gets behind the unfinished frame.
	minRead = 16 << 10

	// garbageSize is how many of the latest octets outside good frames a
	// Decoder keeps until the first good frame (see Garbage).
	garbageSize = 4 << 10
)

// Stats counts what a Decoder has received. Each field is read atomically,
// but the fields are not read at one instant.
type Stats struct {
	Frames    uint64 // good frames, returned by ReadFrame
	BadFCS    uint64 // frames dropped with ErrBadFCS
	Oversized uint64 // frames dropped with ErrOversized
	Short     uint64 // frames dropped with ErrShort
	Aborted   uint64 // frames dropped with ErrAborted

	// Outside counts the octets that were in no frame: those before the
	// first Flag Sequence, and those of an unfinished frame at the end of
	// the stream. Text the far end printed instead of speaking PPP ends up
	// here.
	Outside uint64
}

// A Decoder reads asynchronous HDLC-like frames (RFC 1662 section 4) from a
// byte stream. It removes the octet stuffing, checks and strips the FCS, and
// returns good frames; it drops and counts bad ones. See ReadFrame for the
// rules.
//
// Only one goroutine may call ReadFrame at a time. The setters, Stats,
// LastDrop and Garbage may be called from any goroutine at any time, also
// while ReadFrame runs. A new setting applies to every frame that ReadFrame
// has not begun to decode: one made between two calls applies to every frame
// the second call returns, even if its octets were read earlier, so that a
// caller that acts on an LCP packet before it reads on switches exactly at
// the frame after that packet.
type Decoder struct {
	r   io.Reader
	buf []byte
	err error // error from r held back until the octets read with it are used

	// Parse state, owned by the goroutine in ReadFrame. Raw octets not yet
	// examined are buf[p:end]. The current frame's octets, unescaped in
	// place, are buf[start:w], and w <= p.
	start, w, p, end int
	raw              int  // raw octets of the current frame, flags excluded
	hunting          bool // looking for a Flag Sequence; no frame open
	fresh            bool // the current frame's settings are not loaded yet
	escaped          bool // the last octet was a Control Escape
	tossing          bool // the current frame is oversized: skip to a flag
	synced           bool // a good frame has been seen
	moved            int  // octets moved to the front of buf, for tests

	// The FCS the frame returned last was checked with (FrameFCS), owned
	// by the goroutine in ReadFrame.
	frameFCS FCSSize

	// Settings of the current frame, loaded when ReadFrame first looks at
	// its octets.
	accm   uint32
	fcsLen int  // octets of FCS; the larger one in FCSEither mode
	either bool // FCSEither: try FCS-32, then FCS-16
	limit  int  // maximum frame length, FCS included

	// Settings for the frames ahead.
	rxACCM   atomic.Uint32
	rxFCS    atomic.Uint32 // an FCSSize
	maxFrame atomic.Int32

	frames, badFCS, oversized, short, aborted, outside atomic.Uint64
	lastDrop                                           atomic.Uint32

	// Until the first good frame, the raw octets of the current frame, from
	// its opening flag; owned by the goroutine in ReadFrame.
	pending ring

	gmu     sync.Mutex
	garbage ring // guarded by gmu
}

// NewDecoder returns a Decoder that reads from r in large chunks. It starts
// with the receive ACCM DefaultACCM, FCS16 and DefaultMaxFrame.
func NewDecoder(r io.Reader) *Decoder {
	d := &Decoder{buf: make([]byte, readSize)}
	d.reset(r)
	return d
}

// reset makes d as NewDecoder(r) returns it, keeping its buffer. The tests
// use it to spare the garbage collector.
func (d *Decoder) reset(r io.Reader) {
	d.r, d.err = r, nil
	d.start, d.w, d.p, d.end, d.raw, d.moved = 0, 0, 0, 0, 0, 0
	d.hunting, d.fresh, d.escaped, d.tossing, d.synced = true, false, false, false, false
	d.rxACCM.Store(uint32(DefaultACCM))
	d.rxFCS.Store(uint32(FCS16))
	d.maxFrame.Store(DefaultMaxFrame)
	for _, c := range []*atomic.Uint64{&d.frames, &d.badFCS, &d.oversized, &d.short, &d.aborted, &d.outside} {
		c.Store(0)
	}
	d.lastDrop.Store(dropNone)
	d.pending.reset()
	d.gmu.Lock()
	d.garbage.reset()
	d.gmu.Unlock()
}

// SetACCM sets the receive ACCM: control characters flagged in it are
// removed where they arrive unescaped, as noise inserted by the line (RFC
// 1662 sections 4.2 and 7.1). Set the map that we asked the peer to use once
// LCP has opened, and DefaultACCM when it closes. ACCM 0 keeps every octet
// and is the fastest.
func (d *Decoder) SetACCM(a ACCM) {
	d.rxACCM.Store(uint32(a))
}

// SetFCS sets the receive Frame Check Sequence: FCS16, FCS32, or FCSEither
// to accept both while a link may switch between them.
func (d *Decoder) SetFCS(s FCSSize) {
	d.rxFCS.Store(uint32(s))
}

// SetMaxFrame sets the maximum length of a frame ReadFrame returns, from the
// Address field to the end of the Information field (the FCS not included).
// Longer frames are dropped with ErrOversized, and the Decoder never buffers
// more than n octets of one. n is clamped to 1 through 65539, the largest
// MRU plus 4. With a maximum above 24 KiB, the first frame longer than that
// makes the Decoder enlarge its read buffer, once, to twice the maximum plus
// 16 KiB.
func (d *Decoder) SetMaxFrame(n int) {
	d.maxFrame.Store(int32(min(max(n, 1), maxMaxFrame)))
}

// FrameFCS returns the Frame Check Sequence that the frame ReadFrame
// returned last was checked with: FCS16 or FCS32, in FCSEither mode the one
// its sender used. A receiver that agreed on FCS-32 for some frames (RFC
// 1570) uses it to drop those of them that pass only the 16-bit check,
// which a damaged frame does once in 65536. Like ReadFrame, it may be
// called only from the goroutine that reads the frames.
func (d *Decoder) FrameFCS() FCSSize {
	return d.frameFCS
}

// Stats returns the counters.
func (d *Decoder) Stats() Stats {
	return Stats{
		Frames:    d.frames.Load(),
		BadFCS:    d.badFCS.Load(),
		Oversized: d.oversized.Load(),
		Short:     d.short.Load(),
		Aborted:   d.aborted.Load(),
		Outside:   d.outside.Load(),
	}
}

// LastDrop returns why the latest dropped frame was dropped (ErrBadFCS,
// ErrOversized, ErrShort or ErrAborted), or nil if none was.
func (d *Decoder) LastDrop() error {
	return dropErrors[d.lastDrop.Load()]
}

// Garbage returns a copy of the last 4096 raw octets that arrived before
// the first good frame and were not part of it: text outside frames, and
// frames that were dropped, as they arrived, each with its opening Flag
// Sequence.
// When a link fails to come up, this is usually what the far end printed
// instead of speaking PPP, such as a shell's "command not found" or a
// password prompt. After the first good frame it no longer changes. It
// returns nil if there was none.
func (d *Decoder) Garbage() []byte {
	d.gmu.Lock()
	defer d.gmu.Unlock()
	return d.garbage.appendTo(nil)
}

// ReadFrame returns the next good frame, its FCS removed: from the Address
// field (or the Protocol field, when the sender compresses the header) to the
// end of the Information field. ppp.ParseHeader splits it. The frame is a
// view of the Decoder's buffer, valid only until the next call to ReadFrame;
// copy it to keep it.
//
// ReadFrame removes control characters flagged in the receive ACCM and undoes
// the octet stuffing. It drops and counts, without returning, every frame
// that is aborted, longer than the maximum, no longer than its FCS, or has a
// bad FCS; empty frames between consecutive flags are skipped silently (RFC
// 1662 sections 3.1, 4.2 and 4.3). It returns an error only when reading
// fails: the error from the io.Reader, after the frames read before it. At
// io.EOF an unfinished frame is discarded and its octets counted in Outside.
// ReadFrame does not allocate, except once to enlarge its buffer for the
// first frame above 24 KiB (see SetMaxFrame).
func (d *Decoder) ReadFrame() ([]byte, error) {
	for {
		if frame := d.scan(); frame != nil {
			return frame, nil
		}
		if err := d.fill(); err != nil {
			return nil, err
		}
	}
}

// scan examines the raw octets in buf[p:end] until a good frame ends, which
// it returns, or until none is left.
func (d *Decoder) scan() []byte {
	for d.p < d.end {
		seg := d.buf[d.p:d.end]
		i := bytes.IndexByte(seg, flagSequence)
		if i >= 0 {
			seg = seg[:i]
		}
		if d.hunting {
			d.outside.Add(uint64(len(seg)))
			if !d.synced {
				d.gmu.Lock()
				d.garbage.write(seg)
				d.gmu.Unlock()
			}
			if i < 0 {
				d.p = d.end
				return nil
			}
			d.p += i + 1
			d.hunting = false
			d.begin()
			continue
		}

		if d.fresh {
			d.load()
		}
		if !d.synced {
			d.pending.write(seg)
		}
		d.raw += len(seg)
		segEnd := d.p + len(seg)
		if !d.tossing {
			d.unstuff(segEnd)
			if d.w-d.start > d.limit {
				d.tossing = true
				d.w = d.start
			}
		}
		d.p = segEnd
		if i < 0 {
			return nil
		}
		d.p++ // the closing flag, which opens the next frame
		if frame := d.finish(); frame != nil {
			return frame
		}
	}
	return nil
}

// begin opens a frame at buf[p], after a Flag Sequence.
func (d *Decoder) begin() {
	d.start, d.w = d.p, d.p
	d.raw = 0
	d.escaped, d.tossing = false, false
	d.fresh = true
	if !d.synced {
		d.pending.reset()
		d.pending.write([]byte{flagSequence})
	}
}

// load takes the settings in force now for the current frame.
func (d *Decoder) load() {
	d.fresh = false
	d.accm = d.rxACCM.Load()
	fcs := FCSSize(d.rxFCS.Load())
	d.fcsLen, d.either = 2, fcs == FCSEither
	if fcs == FCS32 || d.either {
		d.fcsLen = 4
	}
	d.limit = int(d.maxFrame.Load()) + d.fcsLen
}

// unstuff examines the raw octets buf[p:segEnd], which hold no Flag
// Sequence, and appends the octets they stand for to the frame at buf[w:].
// It removes octets flagged in the ACCM, then Control Escapes, XORing the
// octet after each with 0x20 (RFC 1662 section 4.2). Octets are written no
// further than they are read from, so the raw octets ahead stay intact.
func (d *Decoder) unstuff(segEnd int) {
	buf, p, w, escaped := d.buf[:segEnd], d.p, d.w, d.escaped
	if accm := d.accm; accm != 0 {
		for ; p < len(buf); p++ {
			c := buf[p]
			switch {
			case c < 0x20 && accm&(1<<c) != 0:
				continue
			case escaped:
				c ^= escapeXOR
				escaped = false
			case c == controlEscape:
				escaped = true
				continue
			}
			buf[w] = c
			w++
		}
		d.p, d.w, d.escaped = p, w, escaped
		return
	}
	// ACCM 0: only Control Escapes to undo. Find them with
	// bytes.IndexByte and move the runs between them; until the first one,
	// nothing moves.
	for {
		if escaped {
			if p == len(buf) {
				break
			}
			buf[w] = buf[p] ^ escapeXOR
			w++
			p++
			escaped = false
		}
		i := bytes.IndexByte(buf[p:], controlEscape)
		if i < 0 {
			if w != p {
				copy(buf[w:], buf[p:])
			}
			w += len(buf) - p
			p = len(buf)
			break
		}
		if w != p {
			copy(buf[w:], buf[p:p+i])
		}
		w += i
		p += i + 1
		escaped = true
	}
	d.p, d.w, d.escaped = p, w, escaped
}

// finish classifies the frame closed by the flag just examined, opens the
// next one, and returns the frame without its FCS if it is good.
func (d *Decoder) finish() []byte {
	frame := d.buf[d.start:d.w]
	fcsLen := d.fcsLen
	drop := dropNone
	switch {
	case d.tossing:
		drop = dropOversized
	case d.escaped:
		drop = dropAborted
	case len(frame) == 0:
		// An empty frame: a flag shared by nothing, or only removed
		// control characters.
	case d.either:
		switch {
		case len(frame) > 4 && goodFCS(frame, 4):
		case len(frame) <= 2:
			drop = dropShort
		case goodFCS(frame, 2):
			fcsLen = 2
		default:
			drop = dropBadFCS
		}
	case len(frame) <= fcsLen:
		drop = dropShort
	case !goodFCS(frame, fcsLen):
		drop = dropBadFCS
	}
	good := drop == dropNone && len(frame) > 0
	if !d.synced {
		if good {
			d.synced = true
			d.pending.reset()
		} else if drop != dropNone || d.raw > 0 {
			d.commitPending()
		}
	}
	d.begin()
	switch drop {
	case dropNone:
		if !good {
			return nil
		}
		d.frames.Add(1)
		d.frameFCS = FCS16
		if fcsLen == 4 {
			d.frameFCS = FCS32
		}
		return frame[:len(frame)-fcsLen]
	case dropBadFCS:
		d.badFCS.Add(1)
	case dropOversized:
		d.oversized.Add(1)
	case dropShort:
		d.short.Add(1)
	case dropAborted:
		d.aborted.Add(1)
	}
	d.lastDrop.Store(uint32(drop))
	return nil
}

// commitPending adds the raw octets of the current frame to the garbage.
func (d *Decoder) commitPending() {
	d.gmu.Lock()
	d.pending.writeTo(&d.garbage)
	d.gmu.Unlock()
	d.pending.reset()
}

// fill reads more octets behind those in the buffer. When room runs short,
// it first moves the unfinished frame to the front, and enlarges the buffer
// if that would leave less room than the frame takes, so that the octets
// moved are paid for by at least as many octets read.
func (d *Decoder) fill() error {
	if err := d.err; err != nil {
		d.err = nil
		d.stop(err)
		return err
	}
	if d.hunting || d.tossing {
		d.start, d.w, d.p, d.end = 0, 0, 0, 0
	} else if len(d.buf)-d.end < minRead {
		keep := d.w - d.start
		if len(d.buf) < 2*keep+minRead {
			buf := make([]byte, 2*max(keep, int(d.maxFrame.Load())+4)+minRead)
			copy(buf, d.buf[d.start:d.w])
			d.buf = buf
		} else {
			copy(d.buf, d.buf[d.start:d.w])
		}
		d.start, d.w, d.p, d.end = 0, keep, keep, keep
		d.moved += keep
	}
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		if n < 0 || n > len(d.buf)-d.end {
			return errBadCount
		}
		d.end += n
		if err != nil {
			if n > 0 {
				d.err = err
				return nil
			}
			d.stop(err)
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// stop handles a read error: at the end of the stream an unfinished frame is
// discarded and the decoder hunts for a flag again.
func (d *Decoder) stop(err error) {
	if !errors.Is(err, io.EOF) || d.hunting {
		return
	}
	d.outside.Add(uint64(d.raw))
	if !d.synced && d.raw > 0 {
		d.commitPending()
	}
	d.pending.reset()
	d.hunting = true
	d.start, d.w, d.p, d.end = 0, 0, 0, 0
}

// ring keeps the last garbageSize octets written to it.
type ring struct {
	b [garbageSize]byte
	n int // octets written since the last reset
}

func (r *ring) reset() { r.n = 0 }

func (r *ring) write(p []byte) {
	if len(p) > len(r.b) {
		r.n += len(p) - len(r.b)
		p = p[len(p)-len(r.b):]
	}
	for len(p) > 0 {
		c := copy(r.b[r.n%len(r.b):], p)
		r.n += c
		p = p[c:]
	}
}

// appendTo appends the octets kept, oldest first, to dst.
func (r *ring) appendTo(dst []byte) []byte {
	if r.n <= len(r.b) {
		return append(dst, r.b[:r.n]...)
	}
	i := r.n % len(r.b)
	dst = append(dst, r.b[i:]...)
	return append(dst, r.b[:i]...)
}

// writeTo writes the octets kept, oldest first, to w.
func (r *ring) writeTo(w *ring) {
	if r.n <= len(r.b) {
		w.write(r.b[:r.n])
		return
	}
	i := r.n % len(r.b)
	w.write(r.b[i:])
	w.write(r.b[:i])
}
