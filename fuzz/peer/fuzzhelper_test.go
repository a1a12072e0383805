package peer

import (
	"encoding/binary"
	"flag"
	"io"
	"os"
	"runtime/debug"
	"testing"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// The fragile peer is a deliberately broken PPP implementation for the
// fuzzer's tests: it speaks just enough LCP to open a link (its own
// Configure-Request, Acks of the peer's, Echo-Replies, Terminate-Ack) and
// walks the options of a Configure-Request trusting each option's Length,
// as the C code of CVE-2020-8597 trusted a length. In mode "crash" an
// option whose Length is below 2 or runs past the packet makes it index
// out of its slice: the Go runtime panics and, with the traceback level
// "crash", dies of SIGABRT as a C program's abort would. In mode "silent"
// such an option makes it stop answering, reading on until the line
// closes.
//
// It is this test binary run again with the arguments fragile-peer MODE
// (see fragileTarget); TestFuzzFragilePeer does nothing in a normal run.

// fragileTarget is a Target whose peer is the fragile peer in mode.
func fragileTarget(t testing.TB, mode string) Target {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A race-enabled binary sleeps a second before it exits unless told
	// not to: every line's close would wait for it.
	return Shell("GORACE=atexit_sleep_ms=0 exec " + reproShellQuote(exe) + " -test.run='^TestFuzzFragilePeer$' fragile-peer " + mode)
}

func TestFuzzFragilePeer(t *testing.T) {
	args := flag.Args()
	if len(args) != 2 || args[0] != "fragile-peer" {
		return // a normal run: this test is the helper only
	}
	done := make(chan int)
	// A goroutine of its own, so that the testing package does not
	// recover its panic.
	go func() { done <- fragilePeer(args[1], os.Stdin, os.Stdout) }()
	os.Exit(<-done)
}

// fragileMagic is the fragile peer's Magic-Number, fixed so that what the
// fuzzer captures from it, and so its frames, are the same on every run.
const fragileMagic = 0x0badcafe

func fragilePeer(mode string, in io.Reader, out io.Writer) int {
	debug.SetTraceback("crash")
	dec := hdlc.NewDecoder(in)
	dec.SetACCM(0)
	var enc hdlc.Encoder
	var buf []byte
	send := func(code ppp.Code, id uint8, data []byte) {
		frame := ppp.AppendPacket(ppp.AppendHeader(nil, ppp.ProtoLCP, false, false), code, id, data)
		buf = enc.AppendFrame(buf[:0], frame)
		out.Write(buf)
	}
	myReq := ppp.AppendOptionUint32(nil, lcp.OptMagicNumber, fragileMagic)
	myID := uint8(1)
	acked, ackedPeer, silent := false, false, false
	send(ppp.CodeConfigureRequest, myID, myReq)
	for {
		frame, err := dec.ReadFrame()
		if err != nil {
			return 0
		}
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil || proto != ppp.ProtoLCP || len(info) < 4 || silent {
			continue
		}
		code, id := ppp.Code(info[0]), info[1]
		length := int(binary.BigEndian.Uint16(info[2:]))
		if length < 4 || length > len(info) {
			continue // the packet's own Length is checked
		}
		data := info[4:length]
		switch code {
		case ppp.CodeConfigureRequest:
			for rest := data; len(rest) > 0; {
				if mode == "silent" && (len(rest) < 2 || rest[1] < 2 || int(rest[1]) > len(rest)) {
					silent = true
					break
				}
				l := int(rest[1]) // the bug: no check of l against 2 and len(rest)
				_ = rest[2:l]
				rest = rest[l:]
			}
			if silent {
				continue
			}
			send(ppp.CodeConfigureAck, id, data)
			ackedPeer = true
			if !acked {
				send(ppp.CodeConfigureRequest, myID, myReq)
			}
		case ppp.CodeConfigureAck:
			acked = acked || id == myID
		case ppp.CodeConfigureNak, ppp.CodeConfigureReject:
			myID++
			send(ppp.CodeConfigureRequest, myID, myReq)
		case ppp.CodeTerminateRequest:
			send(ppp.CodeTerminateAck, id, nil)
			return 0
		case ppp.CodeEchoRequest:
			if acked && ackedPeer && len(data) >= 4 {
				send(ppp.CodeEchoReply, id, append(binary.BigEndian.AppendUint32(nil, fragileMagic), data[4:]...))
			}
		}
	}
}
