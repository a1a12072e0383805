package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pppssh/pppssh/fuzz/peer"
	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// runDecode implements "pppssh decode": it reads the raw octets of a PPP
// line (RFC 1662 asynchronous HDLC-like framing, as a serial line, a pty or
// an SSH channel carries them), decodes every frame and prints its packet the
// way pppd's debug log does. Octets outside frames (a login banner, an error
// message the far end printed instead of speaking PPP) are shown too, and the
// decoder's counters close the listing.
func runDecode(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fcs32 := fs.Bool("fcs32", false, "the frames carry a 32-bit FCS (RFC 1570) instead of the default 16-bit one")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: pppssh decode [--fcs32] [FILE]

Decode the raw octets of a PPP line (async HDLC-like framing, RFC 1662) from
FILE, or standard input when FILE is absent or "-", and print each packet as
pppd's debug log does:

  [LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x3d1981f> <pcomp> <accomp>]

Example, recording what a remote pppd (or anything else) says on an SSH
channel, then reading it:

  ssh gw 'pppd notty noauth' </dev/null >line.raw; pppssh decode line.raw
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitOptionErr
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "pppssh decode: at most one FILE")
		return exitOptionErr
	}
	in := io.Reader(os.Stdin)
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "pppssh decode: %v\n", err)
			return exitFatal
		}
		defer f.Close()
		in = f
	}

	d := hdlc.NewDecoder(in)
	d.SetACCM(0) // show every octet, escaped or not
	d.SetMaxFrame(4 + lcp.MaxMRU + 4)
	if *fcs32 {
		d.SetFCS(hdlc.FCS32)
	}
	var line []byte
	shownGarbage := false
	for {
		frame, err := d.ReadFrame()
		if !shownGarbage && (err != nil || d.Stats().Frames > 0) {
			shownGarbage = true
			if g := d.Garbage(); len(g) > 0 {
				fmt.Fprintf(stdout, "not PPP (%d octets before the first frame): %q\n", len(g), g)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(stderr, "pppssh decode: %v\n", err)
			return exitFatal
		}
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil {
			fmt.Fprintf(stdout, "bad PPP header: % x\n", frame[:min(len(frame), 8)])
			continue
		}
		line = line[:0]
		if proto.IsControl() {
			line = ppp.AppendPacketText(line, proto, info, peer.Formatter(proto))
		} else {
			line = fmt.Appendf(line, "[%v data, %d octets]", proto, len(info))
		}
		line = append(line, '\n')
		stdout.Write(line)
	}
	s := d.Stats()
	fmt.Fprintf(stdout, "%d frames; dropped: %d bad FCS, %d too long, %d too short, %d aborted; %d octets outside frames\n",
		s.Frames, s.BadFCS, s.Oversized, s.Short, s.Aborted, s.Outside)
	return exitOK
}
