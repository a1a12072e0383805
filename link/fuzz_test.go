package link

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// FuzzLink drives a whole link with an arbitrary byte stream from the far
// end, in chunks, and checks what a link owes any peer: no panic; every
// frame it sends decodes, carries a well-formed control packet (or a
// well-formed PPP header) and fits the MRU the far end could have asked for;
// and Run ends, with a reason, within its timers once the stream ends.
func FuzzLink(f *testing.F) {
	if raw, err := os.ReadFile("../hdlc/testdata/pppd-2.4.9-tx.raw"); err == nil {
		f.Add(raw, uint8(7))
	}
	var enc hdlc.Encoder
	frame := func(proto ppp.Protocol, code ppp.Code, id uint8, data []byte) []byte {
		return enc.AppendFrame(nil, append(ppp.AppendHeader(nil, proto, false, false), ppp.AppendPacket(nil, code, id, data)...))
	}
	f.Add(frame(ppp.ProtoLCP, ppp.CodeConfigureRequest, 1, ppp.AppendOptionUint16(nil, lcp.OptMRU, 128)), uint8(1))
	f.Add(append(frame(ppp.ProtoLCP, ppp.CodeConfigureRequest, 1, nil), frame(ppp.ProtoLCP, ppp.CodeTerminateRequest, 2, []byte("bye"))...), uint8(3))
	f.Add([]byte("sudo: a password is required\n"), uint8(0))

	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		synctest.Test(t, func(t *testing.T) {
			ours, theirs := net.Pipe()
			l := New(ours, Config{})
			done := make(chan error, 1)
			go func() { done <- l.Run(context.Background()) }()

			var sent bytes.Buffer
			readDone := make(chan struct{})
			go func() {
				_, _ = io.Copy(&sent, theirs)
				close(readDone)
			}()
			n := int(chunk)%64 + 1
			for b := in; len(b) > 0; {
				k := min(n, len(b))
				if _, err := theirs.Write(b[:k]); err != nil {
					break
				}
				b = b[k:]
			}
			theirs.Close()
			start := time.Now()
			err := <-done
			<-readDone
			if err == nil {
				t.Fatal("Run returned nil")
			}
			var se *StreamError
			if !errors.As(err, &se) && time.Since(start) > time.Minute {
				t.Errorf("Run took %v after the stream ended", time.Since(start))
			}

			d := hdlc.NewDecoder(&sent)
			d.SetACCM(0)
			d.SetFCS(hdlc.FCSEither)
			d.SetMaxFrame(70000)
			for {
				fr, err := d.ReadFrame()
				if err != nil {
					break
				}
				proto, info, err := ppp.ParseHeader(fr)
				if err != nil {
					t.Fatalf("we sent a frame with a bad header: % x", fr)
				}
				if len(info) > lcp.MaxMRU {
					t.Fatalf("we sent %d octets", len(info))
				}
				if proto.IsControl() {
					if _, err := ppp.ParsePacket(info); err != nil {
						t.Fatalf("we sent a malformed %v packet: % x", proto, info)
					}
				}
			}
			if s := d.Stats(); s.BadFCS+s.Short+s.Aborted+s.Oversized != 0 {
				t.Fatalf("our own frames failed to decode: %+v", s)
			}
		})
	})
}
