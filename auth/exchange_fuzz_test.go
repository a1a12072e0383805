package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// The secrets of the fuzzed exchanges: alice's for gw, and a guest whose
// empty secret admits no PAP password.
const fuzzSecrets = "alice gw s3cr3t\nguest * \"\"\n"

// fuzzEnd is one exchange driven by a fuzz script.
type fuzzEnd struct {
	ex      Exchange
	sent    []ppp.Packet
	results []Result
	armed   bool
}

// fuzzPair makes an authenticator "gw" and an authenticatee "alice" of
// proto, not connected: the script moves packets between them.
func fuzzPair(t *testing.T, proto ppp.Protocol) [2]*fuzzEnd {
	s := mustSecrets(t, "secrets", fuzzSecrets)
	var ends [2]*fuzzEnd
	for i, cfg := range []Config{
		{Name: "gw", Secrets: s, Rand: &seqRand{}, RechallengeInterval: time.Minute},
		{Name: "alice", Password: secretPtr("s3cr3t")},
	} {
		e := &fuzzEnd{}
		cfg.Send = func(p ppp.Protocol, pkt []byte) {
			if p != proto {
				t.Fatalf("sent a packet of %v", p)
			}
			if _, err := ppp.ParsePacket(pkt); err != nil {
				t.Fatalf("sent a malformed packet % x", pkt)
			}
			e.sent = append(e.sent, bytes.Clone(pkt))
		}
		cfg.Timer = func(d time.Duration) { e.armed = d > 0 }
		cfg.Done = func(r Result) { e.results = append(e.results, r) }
		ex, err := New(proto, Role(i+1), cfg)
		if err != nil {
			t.Fatal(err)
		}
		e.ex = ex
		ends[i] = e
	}
	return ends
}

// runScript drives ends with script, calling check after every step with
// the end acted on, the packet it was given (if any) and how many packets
// it had sent before. Each step is one octet, op: bit 0 picks the end (0
// the authenticator, 1 the authenticatee), bits 1-3 the action:
//
//	0 Start                 4 the other end's last packet, identifier from the next octet
//	1 Timeout, if armed     5 Stop (only for op >= 0xf0; else Timeout)
//	2 a packet: the next    6 ProtocolRejected (only for op >= 0xf0; else Timeout)
//	  octet is its length   7 a packet crafted to succeed (craft)
//	3 the other end's last packet
func runScript(t *testing.T, script []byte, ends [2]*fuzzEnd, craft func(to int, other *fuzzEnd) []byte,
	check func(to int, pkt []byte, before int)) {
	for len(script) > 0 {
		op := script[0]
		script = script[1:]
		to := int(op & 1)
		e, other := ends[to], ends[1-to]
		before := len(e.sent)
		var pkt []byte
		action := op >> 1 & 7
		if (action == 5 || action == 6) && op < 0xf0 {
			action = 1
		}
		switch action {
		case 0:
			e.ex.Start()
		case 1:
			if e.armed {
				e.armed = false
				e.ex.Timeout()
			}
		case 2:
			if len(script) == 0 {
				return
			}
			n := min(int(script[0]), len(script)-1)
			pkt, script = bytes.Clone(script[1:1+n]), script[1+n:]
		case 3, 4:
			if len(other.sent) == 0 {
				continue
			}
			pkt = bytes.Clone(other.sent[len(other.sent)-1])
			if action == 4 && len(script) > 0 {
				pkt[1], script = script[0], script[1:]
			}
		case 5:
			e.ex.Stop()
		case 6:
			e.ex.ProtocolRejected()
		case 7:
			pkt = craft(to, other)
		}
		if pkt != nil {
			in := bytes.Clone(pkt)
			e.ex.Input(pkt)
			if !bytes.Equal(in, pkt) {
				t.Fatalf("Input changed its packet % x to % x", in, pkt)
			}
		}
		check(to, pkt, before)
	}
}

// checkCommon checks what every exchange must keep to: a decided status
// never goes back, a failure stops the timer and is an *Error without a
// secret, Done reports at most a success and a failure.
func checkCommon(t *testing.T, ends [2]*fuzzEnd, maxResults int) {
	for _, e := range ends {
		if len(e.results) > maxResults {
			t.Fatalf("%v: %d results", e.ex.Role(), len(e.results))
		}
		for i, r := range e.results {
			if r.Status == Pending || (r.Status == Failed) != (r.Err != nil) ||
				i > 0 && (e.results[i-1].Status != Succeeded || r.Status != Failed) {
				t.Fatalf("%v: results %+v", e.ex.Role(), e.results)
			}
			var ae *Error
			if r.Err != nil && (!errors.As(r.Err, &ae) || strings.Contains(r.Err.Error(), "s3cr3t")) {
				t.Fatalf("%v: error %v", e.ex.Role(), r.Err)
			}
		}
		if n := len(e.results); n > 0 && e.results[n-1].Status != e.ex.Status() {
			t.Fatalf("%v: status %v, last result %+v", e.ex.Role(), e.ex.Status(), e.results[n-1])
		}
		if e.ex.Status() == Failed && e.armed {
			t.Fatalf("%v: failed with the timer armed", e.ex.Role())
		}
	}
}

// FuzzPAP drives a PAP authenticator and authenticatee with a script (see
// runScript): no panic; the authenticator sends only replies, each to a
// request just received and with its identifier, and acknowledges only
// alice's password or the guest; the authenticatee sends only requests
// with its name and password, at most MaxTransmits of them, identifiers
// counting from 1.
func FuzzPAP(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x06, 0x07})             // request, Ack
	f.Add([]byte{0x00, 0x01, 0x03, 0x03, 0x06, 0x07}) // two retransmissions
	f.Add([]byte{0x01, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03})
	f.Add([]byte{0x00, 0x04, 0x0c, 0x01, 0x07, 0x00, 0x0c, 0x05, 'g', 'u', 'e', 's', 't', 0x00, 0x06, 0x07, 0x08, 0x09})
	f.Fuzz(func(t *testing.T, script []byte) {
		ends := fuzzPair(t, ppp.ProtoPAP)
		good := AppendPAPRequest(nil, 0, []byte("alice"), NewSecret([]byte("s3cr3t")))
		craft := func(to int, other *fuzzEnd) []byte {
			if to == 0 {
				return good
			}
			id := uint8(1)
			if len(other.sent) > 0 {
				id = other.sent[len(other.sent)-1].ID()
			}
			return AppendPAPReply(nil, PAPAuthenticateAck, id, []byte("ok"))
		}
		var code uint8 // the authenticator's decision
		runScript(t, script, ends, craft, func(to int, pkt []byte, before int) {
			e := ends[to]
			sent := e.sent[before:]
			if to == 0 {
				if len(sent) > 1 {
					t.Fatalf("%d replies to one packet", len(sent))
				}
				for _, r := range sent {
					p, err := ppp.ParsePacket(pkt)
					if err != nil || p.Code() != PAPAuthenticateRequest || r.ID() != p.ID() {
						t.Fatalf("reply % x to % x", r, pkt)
					}
					if code == 0 {
						code = uint8(r.Code())
						user, pw, err := ParsePAPRequest(p)
						ok := err == nil && string(user) == "alice" && pw.Equal(NewSecret([]byte("s3cr3t")))
						// A request after the timeout is refused.
						var ae *Error
						if len(e.results) > 0 && errors.As(e.results[0].Err, &ae) && ae.Cause == TimedOut {
							ok = false
						}
						if ok != (code == PAPAuthenticateAck) {
							t.Fatalf("reply % x to % x", r, pkt)
						}
					}
					if uint8(r.Code()) != code {
						t.Fatalf("reply % x after code %d", r, code)
					}
				}
			} else {
				for i, r := range sent {
					user, pw, err := ParsePAPRequest(r)
					if err != nil || r.Code() != PAPAuthenticateRequest || string(user) != "alice" ||
						!pw.Equal(NewSecret([]byte("s3cr3t"))) || int(r.ID()) != before+i+1 {
						t.Fatalf("authenticatee sent % x", r)
					}
				}
				if len(e.sent) > DefaultMaxTransmits {
					t.Fatalf("%d requests", len(e.sent))
				}
			}
			checkCommon(t, ends, 1)
		})
	})
}

// FuzzCHAP drives a CHAP authenticator (re-challenging every minute) and
// authenticatee with a script (see runScript): no panic; the authenticator
// sends only Challenges, and a Success only to a Response with the right
// digest for its Identifier; the authenticatee sends only Responses, each
// to a Challenge just received, with its Identifier, our name and the
// digest of our secret.
func FuzzCHAP(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x07, 0x06, 0x07})                         // challenge, response, success
	f.Add([]byte{0x00, 0x01, 0x02, 0x07, 0x06, 0x06, 0x07, 0x02, 0x07}) // retransmission, repeat, re-challenge
	f.Add([]byte{0x00, 0x0e, 0x02, 0x0e, 0x02, 0x06})
	f.Add([]byte{0x00, 0x01, 0x07, 0x08, 0x41, 0x06, 0x09, 0x02, 0x07, 0x0f})
	f.Fuzz(func(t *testing.T, script []byte) {
		ends := fuzzPair(t, ppp.ProtoCHAP)
		secret := NewSecret([]byte("s3cr3t"))
		challenges := map[uint8][]byte{} // the authenticator's, by identifier
		correct := map[uint8]bool{}      // identifiers that got a right Response
		craft := func(to int, other *fuzzEnd) []byte {
			if len(other.sent) == 0 {
				return nil
			}
			last := other.sent[len(other.sent)-1]
			if to == 1 {
				return AppendCHAPStatus(nil, CHAPSuccess, last.ID(), nil)
			}
			v, _, err := ParseCHAPValue(last)
			if err != nil {
				return nil
			}
			sum := MD5Response(last.ID(), secret, v)
			return AppendCHAPValue(nil, CHAPResponse, last.ID(), sum[:], []byte("alice"))
		}
		runScript(t, script, ends, craft, func(to int, pkt []byte, before int) {
			e := ends[to]
			sent := e.sent[before:]
			p, perr := ppp.ParsePacket(pkt)
			if to == 0 {
				if perr == nil && p.Code() == CHAPResponse {
					if v, name, err := ParseCHAPValue(p); err == nil && string(name) == "alice" {
						if c, ok := challenges[p.ID()]; ok {
							want := MD5Response(p.ID(), secret, c)
							correct[p.ID()] = correct[p.ID()] || bytes.Equal(v, want[:])
						}
					}
				}
				for _, r := range sent {
					switch r.Code() {
					case CHAPChallenge:
						v, name, err := ParseCHAPValue(r)
						if err != nil || string(name) != "gw" || len(v) < 16 || len(v) > 23 {
							t.Fatalf("challenge % x", r)
						}
						challenges[r.ID()] = bytes.Clone(v)
					case CHAPSuccess:
						if !correct[r.ID()] {
							t.Fatalf("Success % x without a right Response", r)
						}
					case CHAPFailure:
					default:
						t.Fatalf("authenticator sent % x", r)
					}
				}
			} else {
				if len(sent) > 1 {
					t.Fatalf("%d responses to one packet", len(sent))
				}
				for _, r := range sent {
					c, _, err := ParseCHAPValue(p)
					v, name, rerr := ParseCHAPValue(r)
					want := MD5Response(r.ID(), secret, c)
					if perr != nil || err != nil || rerr != nil || p.Code() != CHAPChallenge || r.Code() != CHAPResponse ||
						r.ID() != p.ID() || string(name) != "alice" || !bytes.Equal(v, want[:]) {
						t.Fatalf("response % x to % x", r, pkt)
					}
				}
			}
			checkCommon(t, ends, 2)
		})
	})
}
