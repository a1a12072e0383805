package hdlc

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
)

// Octets with a meaning of their own in the framing (RFC 1662 section 4).
const (
	flagSequence  = 0x7e // Flag Sequence: begins and ends every frame
	controlEscape = 0x7d // Control Escape: the next octet is XORed with 0x20
	escapeXOR     = 0x20 // what an escaped octet is XORed with
)

// ACCM is an Async-Control-Character-Map (RFC 1662 section 7.1): bit c, with
// value 1<<c, stands for the control character c in 0x00-0x1f. On transmit a
// flagged character is sent escaped; on receive a flagged character that
// arrives unescaped is removed as line noise. LCP negotiates one map per
// direction; each is DefaultACCM until LCP has reached the Opened state.
type ACCM uint32

// DefaultACCM is the map in force before LCP negotiates another one: all 32
// control characters flagged (RFC 1662 section 7.1).
const DefaultACCM ACCM = 0xffffffff

// FCSSize selects the Frame Check Sequence of a direction: the 16-bit FCS of
// RFC 1662 appendix C.2, which every PPP implementation speaks, or the 32-bit
// FCS of appendix C.3, used only when the peer agreed to it with the LCP
// FCS-Alternatives option of RFC 1570.
type FCSSize uint8

// The two Frame Check Sequences. A value other than FCS32 (or, for a
// Decoder, FCSEither) selects FCS16.
const (
	FCS16 FCSSize = 16 // 16-bit FCS, two octets (the default)
	FCS32 FCSSize = 32 // 32-bit FCS, four octets

	// FCSEither, for a Decoder only, accepts a frame whose 32-bit FCS is
	// good, or failing that whose 16-bit FCS is good. A link that offers
	// FCS-32 (RFC 1570) receives with it so that no frame is lost while
	// the two ends switch: a reader decoding ahead of the goroutine that
	// processes LCP, or a peer renegotiating from scratch with the default
	// FCS, both send frames of the other size for a moment. A frame with
	// a good FCS-16 passes the FCS-32 check by chance once in 2^32, but a
	// damaged FCS-32 frame passes the 16-bit check once in 65536:
	// Decoder.FrameFCS tells which check a frame passed, so that a
	// receiver can refuse FCS-16 frames where FCS-32 was agreed.
	FCSEither FCSSize = 48
)

// EscapeMap is a set of octets to escape on transmit in addition to those
// the transmit ACCM selects, like pppd's escape option: octet c is bit c%32
// of word c/32, so word 0 has the layout of an ACCM. Octets 0x20-0x3f,
// 0x5d and 0x5e cannot be escaped (see Encoder.SetEscape).
type EscapeMap [8]uint32

// Set adds the octet c to m.
func (m *EscapeMap) Set(c byte) {
	m[c>>5] |= 1 << (c & 31)
}

// Has reports whether the octet c is in m.
func (m *EscapeMap) Has(c byte) bool {
	return m[c>>5]&(1<<(c&31)) != 0
}

// unescapable holds the octets whose escaped form a receiver would misread:
// escaping 0x5e sends Control Escape, Flag, which aborts the frame; escaping
// 0x5d sends two Control Escapes, which Linux reads as one; and escaping
// 0x20-0x3f sends a control character that a receiver removes when its ACCM
// flags it, before it undoes the escape (RFC 1662 section 4.2).
var unescapable = EscapeMap{1: 0xffffffff, 2: 1<<(0x5d-64) | 1<<(0x5e-64)}

// ErrUnescapable is returned by Encoder.SetEscape for a map that names an
// octet whose escaped form a receiver would misread. Remove the octet from
// the map; a receiver cannot be helped by escaping it.
var ErrUnescapable = errors.New("hdlc: octet cannot be escaped")

// always holds the octets every frame escapes, Flag Sequence and Control
// Escape, in the layout of EscapeMap.
const always = 1<<(flagSequence-96) | 1<<(controlEscape-96)

// An Encoder puts PPP frames on an asynchronous link (RFC 1662 section 4):
// a Flag Sequence, the frame and its FCS, octet-stuffed, and a closing Flag
// Sequence.
//
// The zero value is ready to use and sends what RFC 1662 prescribes before
// LCP has negotiated anything: DefaultACCM, FCS16, no extra escapes. The
// setters may be called from any goroutine, also while another goroutine is
// in AppendFrame; a new setting takes effect from the next frame. AppendFrame
// may be called from several goroutines at once. An Encoder must not be
// copied after first use.
type Encoder struct {
	notACCM atomic.Uint32 // ^ACCM, so that the zero value holds DefaultACCM
	fcs32   atomic.Bool
	escape  atomic.Pointer[EscapeMap]
}

// SetACCM sets the transmit ACCM, the map the peer asked for in its LCP
// Async-Control-Character-Map option. Call it with DefaultACCM when LCP
// leaves the Opened state.
func (e *Encoder) SetACCM(a ACCM) {
	e.notACCM.Store(^uint32(a))
}

// SetFCS sets the transmit Frame Check Sequence.
func (e *Encoder) SetFCS(s FCSSize) {
	e.fcs32.Store(s == FCS32)
}

// SetEscape sets the octets escaped in addition to those of the ACCM; the
// zero EscapeMap escapes none. It returns an error wrapping ErrUnescapable,
// and leaves the encoder as it was, if m contains 0x20-0x3f, 0x5d or 0x5e:
// their escaped forms are the Flag Sequence, the Control Escape, or a control
// character a receiver may remove as line noise (RFC 1662 section 4.2).
func (e *Encoder) SetEscape(m EscapeMap) error {
	for c := range 256 {
		if m.Has(byte(c)) && unescapable.Has(byte(c)) {
			return fmt.Errorf("%w: 0x%02x", ErrUnescapable, c)
		}
	}
	if m == (EscapeMap{}) {
		e.escape.Store(nil)
		return nil
	}
	e.escape.Store(&m)
	return nil
}

// MaxEncodedLen returns the largest number of octets AppendFrame can append
// for a frame of n octets, whatever the settings: two Flag Sequences and
// every octet of the frame and of a 32-bit FCS escaped. A dst with that much
// spare capacity is never reallocated.
func MaxEncodedLen(n int) int {
	return 2*(n+4) + 2
}

// AppendFrame appends frame, octet-stuffed and followed by its FCS, between
// Flag Sequences to dst and returns the extended slice. frame is the PPP
// frame from the Address field (or the Protocol field, when the header is
// compressed) to the end of the Information field; ppp.AppendHeader writes
// its start; frame must not overlap the spare capacity of dst. AppendFrame
// does not allocate when dst has room for the result (see MaxEncodedLen).
//
// When dst already ends with a Flag Sequence, which is then the closing flag
// of the frame appended before, that flag also opens this frame (RFC 1662
// section 4.4.2): frames appended one after another into a buffer share their
// flags, while a frame appended to an empty buffer, as after an idle spell,
// starts with a flag of its own that ends any line noise received meanwhile.
func (e *Encoder) AppendFrame(dst, frame []byte) []byte {
	var m EscapeMap
	if p := e.escape.Load(); p != nil {
		m = *p
	}
	m[0] |= ^e.notACCM.Load()
	m[3] |= always

	var fcs [4]byte
	n := 2
	if e.fcs32.Load() {
		v := fcs32(frame)
		fcs = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
		n = 4
	} else {
		v := fcs16(frame)
		fcs[0], fcs[1] = byte(v), byte(v>>8)
	}

	if len(dst) == 0 || dst[len(dst)-1] != flagSequence {
		dst = append(dst, flagSequence)
	}
	if m == (EscapeMap{3: always}) {
		dst = appendStuffedFast(dst, frame)
	} else {
		dst = appendStuffed(dst, frame, &m)
	}
	dst = appendStuffed(dst, fcs[:n], &m)
	return append(dst, flagSequence)
}

// appendStuffed appends p to dst with every octet in m escaped, copying the
// runs between escaped octets whole.
func appendStuffed(dst, p []byte, m *EscapeMap) []byte {
	run := 0
	for i, c := range p {
		if m[c>>5]&(1<<(c&31)) != 0 {
			dst = append(dst, p[run:i]...)
			dst = append(dst, controlEscape, c^escapeXOR)
			run = i + 1
		}
	}
	return append(dst, p[run:]...)
}

// appendStuffedFast is appendStuffed for the common map that holds only the
// Flag Sequence and Control Escape (ACCM 0, as over an SSH channel): it finds
// each with bytes.IndexByte, which scans many octets per instruction.
func appendStuffedFast(dst, p []byte) []byte {
	nextFlag := indexFrom(p, 0, flagSequence)
	nextEsc := indexFrom(p, 0, controlEscape)
	run := 0
	for {
		i := min(nextFlag, nextEsc)
		if i == len(p) {
			return append(dst, p[run:]...)
		}
		dst = append(dst, p[run:i]...)
		dst = append(dst, controlEscape, p[i]^escapeXOR)
		run = i + 1
		if i == nextFlag {
			nextFlag = indexFrom(p, run, flagSequence)
		} else {
			nextEsc = indexFrom(p, run, controlEscape)
		}
	}
}

// indexFrom returns the index of the first c in p at or after from, or
// len(p) if there is none.
func indexFrom(p []byte, from int, c byte) int {
	if i := bytes.IndexByte(p[from:], c); i >= 0 {
		return from + i
	}
	return len(p)
}
