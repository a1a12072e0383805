package ppp_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// FuzzParsePacket checks that ParsePacket never panics, and that a packet it
// accepts encodes back to itself and parses again the same.
func FuzzParsePacket(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ppp.ParsePacket(b)
		ppp.AppendPacketText(nil, ppp.ProtoLCP, b, lcpText{})
		ppp.AppendPacketText(nil, ppp.ProtoIPCP, b, ipcpText{})
		if err != nil {
			if !errors.Is(err, ppp.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(p) > len(b) || !bytes.Equal(p, b[:len(p)]) {
			t.Fatalf("ParsePacket(% x) = % x, not a prefix", b, p)
		}
		enc := ppp.AppendPacket(nil, p.Code(), p.ID(), p.Data())
		if !bytes.Equal(enc, p) {
			t.Fatalf("AppendPacket = % x, want % x", enc, p)
		}
		q, err := ppp.ParsePacket(enc)
		if err != nil || !bytes.Equal(q, p) {
			t.Fatalf("ParsePacket(AppendPacket) = % x, %v; want % x", q, err, p)
		}
	})
}

// FuzzOptions checks that CheckOptions and OptionReader agree, and that
// well-formed options encode back to themselves.
func FuzzOptions(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		checkErr := ppp.CheckOptions(b)
		var opts []ppp.Option
		r := ppp.OptionReader(b)
		for o, ok := r.Next(); ok; o, ok = r.Next() {
			opts = append(opts, o)
		}
		if (checkErr == nil) != (r.Err() == nil) {
			t.Fatalf("CheckOptions = %v, OptionReader.Err = %v", checkErr, r.Err())
		}
		if checkErr != nil {
			return
		}
		var enc []byte
		for _, o := range opts {
			enc = ppp.AppendOption(enc, o.Type, o.Data...)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded % x, want % x", enc, b)
		}
	})
}

// FuzzParseHeader checks that a header ParseHeader accepts has a valid
// protocol, and that re-encoding it with AppendHeader, compressed or not,
// parses back to the same protocol and information field.
func FuzzParseHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, frame []byte) {
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil {
			return
		}
		if !proto.Valid() {
			t.Fatalf("ParseHeader(% x) returned invalid protocol %#x", frame, uint16(proto))
		}
		for _, acfc := range []bool{false, true} {
			for _, pfc := range []bool{false, true} {
				enc := append(ppp.AppendHeader(nil, proto, acfc, pfc), info...)
				p2, info2, err := ppp.ParseHeader(enc)
				if err != nil || p2 != proto || !bytes.Equal(info2, info) {
					t.Fatalf("acfc=%v pfc=%v: % x parsed as %#x % x, %v; want %#x % x",
						acfc, pfc, enc, uint16(p2), info2, err, uint16(proto), info)
				}
			}
		}
	})
}

// FuzzAutomaton drives an automaton with a simple handler through events
// and packets decoded from the input. The automaton must never panic, must
// stay in one of the ten states with its restart timer running exactly in
// Closing, Stopping, Req-Sent, Ack-Rcvd and Ack-Sent, and must send only
// well-formed packets no longer than Config.MaxSend.
//
// Input: flags (Request, Passive, Silent, Restart, AcceptAny), MaxSend,
// counters, then operations, each an opcode and its operands.
func FuzzAutomaton(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		next := func() byte {
			if len(in) == 0 {
				return 0
			}
			c := in[0]
			in = in[1:]
			return c
		}
		flags, size, counters := next(), next(), next()
		maxSend := ppp.DefaultMRU
		if size != 0 {
			maxSend = ppp.HeaderLen + int(size)
		}
		h := &ppptest.Handler{Request: flags&1 != 0, Want: 7, Accept: 8, AcceptAny: flags&16 != 0}
		var timer time.Duration
		var lastReq ppp.Packet
		a := ppp.NewAutomaton(ppp.Config{
			Protocol: ppp.ProtoLCP,
			Handler:  h,
			Send: func(pkt []byte) {
				p, err := ppp.ParsePacket(pkt)
				if err != nil || len(p) != len(pkt) {
					t.Fatalf("sent malformed packet % x", pkt)
				}
				if len(pkt) > maxSend {
					t.Fatalf("sent %d octets, MaxSend is %d", len(pkt), maxSend)
				}
				if p.Code() == ppp.CodeConfigureRequest {
					lastReq = ppp.Packet(bytes.Clone(pkt))
				}
			},
			Timer:        func(d time.Duration) { timer = d },
			MaxSend:      func() int { return maxSend },
			MaxConfigure: 1 + int(counters&3),
			MaxTerminate: 1 + int(counters>>2&3),
			MaxFailure:   1 + int(counters>>4&3),
			Passive:      flags&2 != 0,
			Silent:       flags&4 != 0,
			Restart:      flags&8 != 0,
		})
		for steps := 0; len(in) > 0 && steps < 500; steps++ {
			switch op := next(); op % 10 {
			case 0:
				a.Up()
			case 1:
				a.Down()
			case 2:
				a.Open()
			case 3:
				a.Close("fuzz")
			case 4:
				timer = 0 // the owner's timer fired
				a.Timeout()
			case 5:
				a.ProtocolRejected()
			case 6: // raw packet
				n := min(int(next()%64), len(in))
				a.Input(bytes.Clone(in[:n]))
				in = in[n:]
			case 7: // a reply to our last request
				if lastReq == nil {
					break
				}
				switch k := next(); k % 3 {
				case 0:
					a.Input(pkt(ppp.CodeConfigureAck, lastReq.ID(), lastReq.Data()...))
				case 1:
					a.Input(pkt(ppp.CodeConfigureNak, lastReq.ID(), valueOpt(uint32(next()))...))
				case 2:
					a.Input(pkt(ppp.CodeConfigureReject, lastReq.ID(), lastReq.Data()...))
				}
			case 8: // a request from the peer
				a.Input(peerRequest(next(), uint32(next())))
			case 9: // any code
				a.Input(pkt(ppp.Code(next()%16), next(), next(), next(), next(), next()))
			}
			s := a.State()
			if s > ppp.StateOpened {
				t.Fatalf("state %v", s)
			}
			running := s >= ppp.StateClosing && s <= ppp.StateAckSent
			if ppp.TimerArmed(a) != running || (timer > 0) != running {
				t.Fatalf("state %v: timer armed %v, owner's timer %v", s, ppp.TimerArmed(a), timer)
			}
		}
	})
}
