package fuzz

import (
	"bytes"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"testing"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ppp"
)

var trace = flag.Bool("fuzzlog", false, "log what a fuzz target does with each input (run one corpus entry, with -v)")

// tracef logs when -fuzzlog is set.
func tracef(t *testing.T, format string, args ...any) {
	if *trace {
		t.Helper()
		t.Logf(format, args...)
	}
}

// script reads a fuzz input as a sequence of octets; past its end every
// read yields zeros, so any input is a complete script.
type script struct {
	b   []byte
	ops int // operations started, for the cap on a script's length
}

func (s *script) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *script) uint16() uint16 { return uint16(s.byte())<<8 | uint16(s.byte()) }

func (s *script) uint32() uint32 { return uint32(s.uint16())<<16 | uint32(s.uint16()) }

// bytes returns the next n octets, fewer at the end of the input.
func (s *script) bytes(n int) []byte {
	n = min(n, len(s.b))
	p := s.b[:n]
	s.b = s.b[n:]
	return p
}

// next reports whether another operation may start: the input has octets
// left and the script is below maxOps operations.
func (s *script) next(maxOps int) bool {
	if len(s.b) == 0 || s.ops >= maxOps {
		return false
	}
	s.ops++
	return true
}

// Octets of RFC 1662 asynchronous framing.
const (
	flagSeq = 0x7e
	ctlEsc  = 0x7d
)

// rawFrame is one frame as it was on the line, between its flags, and what
// it stands for once the escapes are removed.
type rawFrame struct {
	raw  []byte // escapes included, flags excluded
	body []byte // escapes removed; the header, information and FCS
}

// frameSplitter cuts a stream of octets into frames at its flags. Octets
// after the last flag wait for the next call.
type frameSplitter struct {
	pending []byte
	started bool // a flag has been seen: pending is inside a frame
}

// write adds b and returns the frames it completed; empty frames (two
// flags in a row) are skipped.
func (f *frameSplitter) write(b []byte) []rawFrame {
	var out []rawFrame
	for len(b) > 0 {
		i := bytes.IndexByte(b, flagSeq)
		if i < 0 {
			if f.started {
				f.pending = append(f.pending, b...)
			}
			return out
		}
		if f.started && len(f.pending)+i > 0 {
			raw := append(f.pending, b[:i]...)
			out = append(out, rawFrame{raw: raw, body: unescape(raw)})
		}
		f.pending = nil
		f.started = true
		b = b[i+1:]
	}
	return out
}

// unescape removes the Control Escapes of a raw frame (RFC 1662 section
// 4.2); it removes no control characters, as a receiver with ACCM 0 would.
func unescape(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	esc := false
	for _, c := range raw {
		switch {
		case esc:
			out = append(out, c^0x20)
			esc = false
		case c == ctlEsc:
			esc = true
		default:
			out = append(out, c)
		}
	}
	return out
}

// fcs16 computes the 16-bit FCS of RFC 1662 appendix C.2 bit by bit, as a
// reference independent of package hdlc's tables.
func fcs16(p []byte) uint16 {
	fcs := uint16(0xffff)
	for _, c := range p {
		fcs ^= uint16(c)
		for range 8 {
			if fcs&1 != 0 {
				fcs = fcs>>1 ^ 0x8408
			} else {
				fcs >>= 1
			}
		}
	}
	return ^fcs
}

// goodFCS reports whether body ends with a good FCS of size bits (16 or
// 32), sent least significant octet first, after at least one octet.
func goodFCS(body []byte, size int) bool {
	n := size / 8
	if len(body) <= n {
		return false
	}
	data, fcs := body[:len(body)-n], body[len(body)-n:]
	if size == 32 {
		return crc32.ChecksumIEEE(data) == binary.LittleEndian.Uint32(fcs)
	}
	return fcs16(data) == binary.LittleEndian.Uint16(fcs)
}

// framing says how the fuzzed peer frames a packet.
type framing struct {
	fcs32      bool
	acfc, pfc  bool // compress the header (the Protocol field only if it can be)
	accm       hdlc.ACCM
	badFCS     bool // damage the FCS
	unfinished bool // leave the frame without its closing flag
}

// appendFrame appends the frame of a packet of proto with information info,
// framed as fr says, to dst.
func appendFrame(dst []byte, proto ppp.Protocol, info []byte, fr framing) []byte {
	var hdr []byte
	if !fr.acfc {
		hdr = append(hdr, ppp.AllStations, ppp.UI)
	}
	if fr.pfc && proto.Compressible() {
		hdr = append(hdr, byte(proto))
	} else {
		hdr = append(hdr, byte(proto>>8), byte(proto))
	}
	var enc hdlc.Encoder
	enc.SetACCM(fr.accm)
	if fr.fcs32 {
		enc.SetFCS(hdlc.FCS32)
	}
	frame := enc.AppendFrame(nil, append(hdr, info...))
	if fr.badFCS {
		// The octet before the closing flag is the FCS's last, or the
		// escaped form of it; flipping a low bit keeps it from being a
		// flag or an escape.
		frame[len(frame)-2] ^= 0x01
		if frame[len(frame)-2] == flagSeq || frame[len(frame)-2] == ctlEsc {
			frame[len(frame)-2] ^= 0x02
		}
	}
	if fr.unfinished {
		frame = frame[:len(frame)-1]
	}
	return append(dst, frame...)
}

// wireFraming returns the framing a well-behaved peer uses, with the FCS
// of fcs32, every control character escaped and the full header.
func wireFraming(fcs32 bool) framing {
	return framing{fcs32: fcs32, accm: hdlc.DefaultACCM}
}

// options splits well-formed options into their encodings; it stops at the
// first malformed one.
func options(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 && int(b[1]) >= 2 && int(b[1]) <= len(b) {
		out = append(out, b[:b[1]])
		b = b[b[1]:]
	}
	return out
}

// findOption returns the data of the first option of type typ in opts.
func findOption(opts []byte, typ uint8) ([]byte, bool) {
	for _, o := range options(opts) {
		if o[0] == typ {
			return o[2:], true
		}
	}
	return nil, false
}
