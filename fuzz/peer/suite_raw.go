package peer

import (
	"bytes"
	"io"
	"sync"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ppp"
)

// The octets of asynchronous HDLC-like framing (RFC 1662 section 4).
const (
	flagSeq     = 0x7e // Flag Sequence
	ctrlEscape  = 0x7d // Control Escape
	escapeXOR   = 0x20 // what an escaped octet was XORed with
	maxRawBytes = 1 << 20
)

// rawTap records what the peer sends on a line, octet for octet, so that
// the framing cases can see escapes the decoder removes. It keeps the
// first maxRawBytes.
type rawTap struct {
	io.ReadWriteCloser
	mu sync.Mutex
	rx []byte
}

func newRawTap(rw io.ReadWriteCloser) *rawTap { return &rawTap{ReadWriteCloser: rw} }

func (r *rawTap) Read(p []byte) (int, error) {
	n, err := r.ReadWriteCloser.Read(p)
	if n > 0 {
		r.mu.Lock()
		if room := maxRawBytes - len(r.rx); room > 0 {
			r.rx = append(r.rx, p[:min(n, room)]...)
		}
		r.mu.Unlock()
	}
	return n, err
}

func (r *rawTap) received() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.rx)
}

// wireFrames splits raw line octets at Flag Sequences into the frames as
// they crossed the line, escapes included, FCS included. Empty frames
// between two flags are left out.
func wireFrames(raw []byte) [][]byte {
	var fs [][]byte
	for _, f := range bytes.Split(raw, []byte{flagSeq}) {
		if len(f) > 0 {
			fs = append(fs, f)
		}
	}
	return fs
}

// unstuff removes the octet stuffing of a frame as it crossed the line.
// Unescaped control characters are kept.
func unstuff(w []byte) []byte {
	out := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		if w[i] == ctrlEscape && i+1 < len(w) {
			i++
			out = append(out, w[i]^escapeXOR)
			continue
		}
		out = append(out, w[i])
	}
	return out
}

// wireFrameOf returns the frame among the wire frames of raw that carries
// f (its Raw octets followed by a 2- or 4-octet FCS), or nil.
func wireFrameOf(raw []byte, f Frame) []byte {
	for _, w := range wireFrames(raw) {
		u := unstuff(w)
		for _, n := range []int{2, 4} {
			if len(u) == len(f.Raw)+n && bytes.Equal(u[:len(f.Raw)], f.Raw) {
				return w
			}
		}
	}
	return nil
}

// unescapedControls returns the control characters (0x00-0x1f) of a wire
// frame that arrived without a Control Escape before them and whose bit is
// set in accm.
func unescapedControls(w []byte, accm uint32) []byte {
	var bad []byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == ctrlEscape {
			i++
			continue
		}
		if c < 0x20 && accm&(1<<c) != 0 {
			bad = append(bad, c)
		}
	}
	return bad
}

// controlCounts counts the control characters a wire frame carries with a
// Control Escape, and those it carries as they are.
func controlCounts(w []byte) (escaped, plain int) {
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c == ctrlEscape && i+1 < len(w):
			i++
			if w[i]^escapeXOR < 0x20 {
				escaped++
			}
		case c < 0x20:
			plain++
		}
	}
	return escaped, plain
}

// stuff appends b to dst with every control character, Flag Sequence and
// Control Escape escaped (the default ACCM of RFC 1662 section 7.1).
func stuff(dst, b []byte) []byte {
	for _, c := range b {
		if c < 0x20 || c == flagSeq || c == ctrlEscape {
			dst = append(dst, ctrlEscape, c^escapeXOR)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// withFCS returns frame followed by its FCS-16.
func withFCS(frame []byte) []byte {
	s := hdlc.Checksum16(frame)
	return append(bytes.Clone(frame), byte(s), byte(s>>8))
}

// wireFrame returns frame as a sender using the default ACCM and FCS-16
// puts it on the line, between flags: the plain framing every PPP receiver
// takes whatever it negotiated.
func wireFrame(frame []byte) []byte {
	w := append([]byte{flagSeq}, stuff(nil, withFCS(frame))...)
	return append(w, flagSeq)
}

// controlFrame returns the frame, with the full header, of a control
// packet of proto.
func controlFrame(proto ppp.Protocol, pkt []byte) []byte {
	return append(ppp.AppendHeader(nil, proto, false, false), pkt...)
}
