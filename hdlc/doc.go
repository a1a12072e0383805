// Package hdlc implements the asynchronous HDLC-like framing that carries PPP
// over a byte stream, as RFC 1662 section 4 specifies it for serial lines
// and as pppd speaks it on a pseudo-terminal or an SSH channel.
//
// # Frames
//
// On the wire every frame sits between Flag Sequences (0x7e). Inside it the
// octet 0x7d is a Control Escape: the octet after it was XORed with 0x20, so
// that neither 0x7e nor 0x7d appears in a frame's body. The frame ends with a
// Frame Check Sequence, sent least significant octet first (RFC 1662
// sections 3.1, 4.1 and 4.2).
//
// This package frames whatever octets it is given. The PPP header inside a
// frame, the Address and Control fields 0xff 0x03 (left out under
// Address-and-Control-Field-Compression) and the Protocol field (one octet
// under Protocol-Field-Compression), belongs to package ppp: build it with
// ppp.AppendHeader and take it apart with ppp.ParseHeader. LCP packets always
// carry the full header (RFC 1661 section 6.6), which ppp.AppendHeader
// enforces; a receiver must accept any header, since Linux drops 0xff 0x03
// from every frame but LCP Configure packets once ACFC is agreed.
//
// # ACCM
//
// The Async-Control-Character-Map (ACCM, RFC 1662 section 7.1) names which of
// the 32 control characters 0x00-0x1f are escaped on transmit, for lines or
// modems that swallow or act on some of them (XON/XOFF flow control, for
// one). A receiver removes a flagged character that arrives unescaped, as
// noise inserted on the way. Until LCP reaches the Opened state both
// directions use DefaultACCM, all ones, so that the first frames get through
// any line; each end then asks for the map it needs with the LCP
// Async-Control-Character-Map option. An SSH channel carries all 256 octet
// values unchanged, so pppssh asks for ACCM 0 and its frames escape only
// 0x7d and 0x7e, roughly one octet in 128 of random data instead of one in 8.
// An EscapeMap adds octets above 0x1f to escape, like pppd's escape option.
//
// # FCS
//
// Every PPP implementation speaks the 16-bit FCS of RFC 1662 appendix C.2,
// and it is the only one pppd uses: it rejects the LCP FCS-Alternatives
// option (RFC 1570 section 2.1), with which the 32-bit FCS of appendix C.3
// is negotiated. Here FCS-32 is also the cheaper one: it is the IEEE CRC-32,
// which hash/crc32 computes with the processor's carry-less multiply, several
// times faster than the table-driven FCS-16. So two pppssh ends ask for
// FCS-32, and fall back to FCS-16 when the peer rejects the option. Each
// direction has its own FCS setting.
//
// # Encoding
//
// The zero Encoder frames as RFC 1662 prescribes before LCP has negotiated
// anything: DefaultACCM and FCS-16. Encoder.AppendFrame appends a framed frame to a buffer and allocates
// nothing when the buffer has room (MaxEncodedLen gives the worst case). When
// the buffer already ends with a Flag Sequence, AppendFrame lets that closing
// flag open the new frame too (RFC 1662 section 4.4.2), so a batch of frames
// appended into one buffer shares flags, while a frame appended to an empty
// buffer, as after the line was idle, starts with a flag of its own.
//
// # Decoding
//
// A Decoder reads the stream in 64 KiB chunks and returns frames one at a
// time, without their FCS. A returned frame is a view of the Decoder's buffer
// and is valid only until the next call to ReadFrame: the caller copies what
// it keeps. Frames that are aborted, too short, too long or have a bad FCS
// are dropped and counted (Stats, LastDrop), and reading goes on; only read
// errors are returned. A frame longer than the maximum is discarded as it
// arrives, so a stream without flags cannot make the Decoder buffer more than
// one maximum-size frame.
//
// Until the first good frame a Decoder also keeps the last 4 KiB of what it
// received outside good frames (Garbage): when the far end prints
// "pppd: command not found" or a password prompt instead of speaking PPP, the
// caller can show the user that text.
//
// The settings of an Encoder or a Decoder (ACCM, FCS size, escape map,
// maximum frame length) can be changed from the goroutine that runs LCP
// while another goroutine encodes or decodes. An Encoder applies a change
// from the next frame it appends; a Decoder from the next frame ReadFrame
// begins to decode, even if its octets were read before the change.
//
// # References
//
//   - RFC 1662, PPP in HDLC-like Framing: sections 3.1 (frame format), 4
//     (octet-stuffed framing), 7.1 (ACCM) and appendix C (FCS computation).
//   - RFC 1661, The Point-to-Point Protocol: sections 6.5 and 6.6 (header
//     compression) and 6.1 (MRU).
//   - RFC 1570, PPP LCP Extensions: section 2.1 (FCS-Alternatives).
package hdlc
