package auth

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// chapPair returns a CHAP pair: the authenticator "gw" with testSecrets and
// a deterministic random source starting at 0x40, and the authenticatee
// "alice" with the password pw. mod, if set, changes the authenticator's
// configuration.
func chapPair(t *testing.T, pw string, mod func(*Config)) *pair {
	s := mustSecrets(t, "chap-secrets", testSecrets)
	a := Config{Name: "gw", Secrets: s, Rand: &seqRand{next: 0x40}}
	if mod != nil {
		mod(&a)
	}
	return newPair(t, ppp.ProtoCHAP, a, Config{Name: "alice", Password: secretPtr(pw)})
}

// md5Hex computes the expected response independently: MD5 over the
// message written out octet by octet.
func md5Hex(id byte, secret string, challenge []byte) string {
	msg := append(append([]byte{id}, secret...), challenge...)
	sum := md5.Sum(msg)
	return hex.EncodeToString(sum[:])
}

// seq returns n octets counting up from first.
func seq(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

func TestMD5Response(t *testing.T) {
	// RFC 1994 gives no test vector. These were computed outside Go:
	//   printf '\x2as3cr3t\x00\x01…\x0f' | md5sum
	//   printf '\x01\x10Too Many Secrets' | md5sum
	for _, c := range []struct {
		id        uint8
		secret    string
		challenge []byte
		want      string
	}{
		{0x2a, "s3cr3t", seq(0, 16), "c26509fed6bab294085336fe900671f5"},
		{0x01, "\x10Too Many", []byte(" Secrets"), "05f6fb8209728f0c790c8d1fb7839124"},
	} {
		got := MD5Response(c.id, NewSecret([]byte(c.secret)), c.challenge)
		if hex.EncodeToString(got[:]) != c.want {
			t.Errorf("MD5Response(%#x, %q, % x) = %x, want %s", c.id, c.secret, c.challenge, got, c.want)
		}
		if m := md5Hex(c.id, c.secret, c.challenge); m != c.want {
			t.Errorf("crypto/md5 gives %s, want %s", m, c.want)
		}
	}
}

func TestCHAPSuccess(t *testing.T) {
	p := chapPair(t, "s3cr3t", nil)
	p.start()
	p.runAll(time.Hour)
	// Identifier 0x40 then 0x41 drawn; length 16 + 0x41%8 = 17; the
	// value 0x42 to 0x52.
	value := seq(0x42, 17)
	diffLines(t, "trace", p.Trace, []string{
		`A>B [CHAP Challenge id=0x41 <` + hex.EncodeToString(value) + `>, name = "gw"]`,
		`B>A [CHAP Response id=0x41 <` + md5Hex(0x41, "s3cr3t", value) + `>, name = "alice"]`,
		`A>B [CHAP Success id=0x41 "Access granted"]`,
	})
	ra, rb := p.a.lastResult(t), p.b.lastResult(t)
	if ra.Status != Succeeded || ra.PeerName != "alice" || ra.Message != "Access granted" || ra.Entry == nil || ra.Entry.Line != 2 {
		t.Errorf("authenticator result %+v", ra)
	}
	if rb.Status != Succeeded || rb.PeerName != "gw" || rb.Message != "Access granted" {
		t.Errorf("authenticatee result %+v", rb)
	}
	if p.a.timer.Armed() || p.b.timer.Armed() {
		t.Errorf("a timer is armed")
	}
	if len(p.a.results) != 1 || len(p.b.results) != 1 {
		t.Errorf("Done called %d and %d times", len(p.a.results), len(p.b.results))
	}
}

func TestCHAPChallengeLengths(t *testing.T) {
	// pppd's range: 16 up to, not including, 24.
	seen := map[int]bool{}
	for i := range 256 {
		p := chapPair(t, "s3cr3t", func(c *Config) { c.Rand = &seqRand{next: byte(i)} })
		p.a.ex.Start()
		v, _, err := ParseCHAPValue(p.a.sent[0])
		if err != nil || len(v) < 16 || len(v) > 23 {
			t.Fatalf("challenge % x", p.a.sent[0])
		}
		seen[len(v)] = true
	}
	if len(seen) != 8 {
		t.Errorf("lengths %v, want all of 16-23", seen)
	}
}

func TestCHAPSecretsBothWays(t *testing.T) {
	// The authenticatee looks its secret up for the name in the
	// Challenge; the authenticator for the name in the Response.
	s := mustSecrets(t, "chap-secrets", testSecrets+"gw alice gwpass\n")
	p := newPair(t, ppp.ProtoCHAP,
		Config{Name: "gw", Secrets: s, Rand: &seqRand{}},
		Config{Name: "alice", Secrets: s})
	p.start()
	p.runAll(time.Hour)
	if p.a.ex.Status() != Succeeded || p.b.ex.Status() != Succeeded {
		t.Fatalf("statuses %v, %v: %q", p.a.ex.Status(), p.b.ex.Status(), p.Trace)
	}
	if e := p.b.lastResult(t).Entry; e == nil || e.Line != 2 {
		t.Errorf("authenticatee entry %+v", e)
	}
}

func TestCHAPWrongSecret(t *testing.T) {
	p := chapPair(t, "guessed", nil)
	p.start()
	p.runAll(time.Hour)
	ea, eb := p.a.authError(t), p.b.authError(t)
	if ea.Cause != WrongSecret || ea.Client != "alice" || ea.Server != "gw" || ea.Source != "chap-secrets:2" {
		t.Errorf("authenticator error %+v", ea)
	}
	if eb.Cause != PeerRefused || eb.Message != "Access denied" || eb.Server != "gw" {
		t.Errorf("authenticatee error %+v", eb)
	}
	const want = `auth: CHAP: peer "alice" sent a wrong response (check its secret for server "gw" in chap-secrets:2 against the peer's)`
	if ea.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", ea, want)
	}
	checkNoSecret(t, ea.Error()+eb.Error(), "s3cr3t", "guessed")
	if got := p.Trace[len(p.Trace)-1]; got != `A>B [CHAP Failure id=0x41 "Access denied"]` {
		t.Errorf("last packet %s", got)
	}
}

func TestCHAPNoSecret(t *testing.T) {
	s := mustSecrets(t, "chap-secrets", testSecrets)
	p := newPair(t, ppp.ProtoCHAP,
		Config{Name: "gw", Secrets: s, Rand: &seqRand{}},
		Config{Name: "carol", Password: secretPtr("pw")})
	p.start()
	p.runAll(time.Hour)
	if ea := p.a.authError(t); ea.Cause != NoSecret || ea.Client != "carol" {
		t.Errorf("authenticator error %+v", ea)
	}
	if eb := p.b.authError(t); eb.Cause != PeerRefused {
		t.Errorf("authenticatee error %+v", eb)
	}

	// The authenticatee has no secret for the server's name: it fails
	// without responding.
	p = newPair(t, ppp.ProtoCHAP,
		Config{Name: "elsewhere", Secrets: s, Rand: &seqRand{}},
		Config{Name: "alice", Secrets: s})
	p.start()
	p.run()
	eb := p.b.authError(t)
	if eb.Cause != NoSecret || eb.Client != "alice" || eb.Server != "elsewhere" || len(p.b.sent) != 0 {
		t.Errorf("authenticatee error %+v, %d sent", eb, len(p.b.sent))
	}
	if want := `auth: CHAP: no secret to authenticate us as "alice" on server "elsewhere" in chap-secrets (add a line: "alice" "elsewhere" SECRET, or give a password)`; eb.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", eb, want)
	}
}

func TestCHAPPeerName(t *testing.T) {
	// With remotename, the authenticator looks up that name, whatever
	// the Response says; the authenticatee that server.
	s := mustSecrets(t, "chap-secrets", testSecrets)
	p := newPair(t, ppp.ProtoCHAP,
		Config{Name: "gw", PeerName: "alice", Secrets: s, Rand: &seqRand{}},
		Config{Name: "someone", PeerName: "gw", Secrets: mustSecrets(t, "x", "someone gw s3cr3t\n")})
	p.start()
	p.runAll(time.Hour)
	if r := p.a.lastResult(t); r.Status != Succeeded || r.PeerName != "alice" {
		t.Errorf("result %+v", r)
	}
}

func TestCHAPRetransmission(t *testing.T) {
	p := chapPair(t, "s3cr3t", nil)
	lost := 0
	p.Drop = func(from *end, pkt ppp.Packet) bool {
		// Lose the first challenge and the first response.
		if lost < 2 && (from == p.a) == (lost == 0) {
			lost++
			return true
		}
		return false
	}
	p.start()
	p.runAll(time.Hour)
	if p.a.ex.Status() != Succeeded || p.b.ex.Status() != Succeeded {
		t.Fatalf("statuses %v %v: %q", p.a.ex.Status(), p.b.ex.Status(), p.Trace)
	}
	// The same challenge each time (pppd), every 3 s.
	if len(p.a.sent) != 4 || !bytes.Equal(p.a.sent[0], p.a.sent[1]) || !bytes.Equal(p.a.sent[1], p.a.sent[2]) {
		t.Errorf("trace %q", p.Trace)
	}
	if p.clock.Now != 6*time.Second {
		t.Errorf("done at %v", p.clock.Now)
	}
}

func TestCHAPMaxChallenges(t *testing.T) {
	p := chapPair(t, "s3cr3t", nil)
	p.Drop = func(*end, ppp.Packet) bool { return true }
	p.a.ex.Start()
	p.runAll(time.Hour)
	ea := p.a.authError(t)
	if ea.Cause != TimedOut || ea.Count != 10 || len(p.a.sent) != 10 || p.clock.Now != 30*time.Second {
		t.Errorf("error %+v, %d sent, at %v", ea, len(p.a.sent), p.clock.Now)
	}
	if want := "auth: CHAP: no response to 10 Challenges (is the peer answering CHAP?)"; ea.Error() != want {
		t.Errorf("error %q", ea)
	}
	// A response after giving up is not judged.
	v, _, _ := ParseCHAPValue(p.a.sent[0])
	sum := MD5Response(0x41, NewSecret([]byte("s3cr3t")), v)
	p.a.ex.Input(AppendCHAPValue(nil, CHAPResponse, 0x41, sum[:], []byte("alice")))
	if len(p.a.sent) != 10 || len(p.a.results) != 1 {
		t.Errorf("a late response was judged")
	}
}

func TestCHAPAuthenticateeTimeout(t *testing.T) {
	p := chapPair(t, "s3cr3t", nil)
	p.b.ex.Start()
	p.runAll(time.Hour)
	eb := p.b.authError(t)
	if eb.Cause != TimedOut || eb.Wait != time.Minute || p.clock.Now != time.Minute {
		t.Errorf("error %+v at %v", eb, p.clock.Now)
	}
	if want := "auth: CHAP: the peer did not finish authenticating us in 1m0s"; eb.Error() != want {
		t.Errorf("error %q", eb)
	}
}

func TestCHAPRechallenge(t *testing.T) {
	p := chapPair(t, "s3cr3t", func(c *Config) { c.RechallengeInterval = time.Minute })
	p.start()
	p.run()
	if p.a.ex.Status() != Succeeded || !p.a.timer.Armed() {
		t.Fatalf("status %v, timer armed %v", p.a.ex.Status(), p.a.timer.Armed())
	}
	for range 3 {
		p.clock.Step()
		p.run()
	}
	if p.clock.Now != 3*time.Minute {
		t.Errorf("clock at %v", p.clock.Now)
	}
	// Four challenges, each with the next identifier and a new value,
	// each answered and granted.
	var ids []string
	for _, pkt := range p.a.sent {
		ids = append(ids, fmt.Sprintf("%d:%#x", pkt.Code(), pkt.ID()))
	}
	if got := strings.Join(ids, " "); got != "1:0x41 3:0x41 1:0x42 3:0x42 1:0x43 3:0x43 1:0x44 3:0x44" {
		t.Errorf("sent %s", got)
	}
	if bytes.Equal(p.a.sent[0].Data(), p.a.sent[2].Data()) {
		t.Errorf("a re-challenge repeats the challenge")
	}
	if len(p.a.results) != 1 || len(p.b.results) != 1 || p.a.ex.Status() != Succeeded || p.b.ex.Status() != Succeeded {
		t.Errorf("results %+v, %+v", p.a.results, p.b.results)
	}
}

func TestCHAPRechallengeFails(t *testing.T) {
	t.Run("wrong response", func(t *testing.T) {
		p := chapPair(t, "s3cr3t", func(c *Config) { c.RechallengeInterval = time.Minute })
		p.start()
		p.run()
		// The peer's answer to the re-challenge is wrong.
		p.b.peer = nil
		p.clock.Step()
		p.run()
		ch := p.a.sent[len(p.a.sent)-1]
		p.a.ex.Input(AppendCHAPValue(nil, CHAPResponse, ch.ID(), make([]byte, 16), []byte("alice")))
		ea := p.a.authError(t)
		if len(p.a.results) != 2 || ea.Cause != WrongSecret || !ea.Again || p.a.timer.Armed() {
			t.Errorf("results %+v, timer armed %v", p.a.results, p.a.timer.Armed())
		}
		if !strings.HasPrefix(ea.Error(), "auth: CHAP: re-authentication: peer \"alice\" sent a wrong response") {
			t.Errorf("error %q", ea)
		}
		// The same Response again gets the same Failure; nothing else
		// happens.
		n := len(p.a.sent)
		p.a.ex.Input(AppendCHAPValue(nil, CHAPResponse, ch.ID(), make([]byte, 16), []byte("alice")))
		if len(p.a.sent) != n+1 || p.a.sent[n].Code() != CHAPFailure || len(p.a.results) != 2 {
			t.Errorf("repeat: sent % x", p.a.sent[n:])
		}
		p.clock.Step()
		if len(p.a.sent) != n+1 {
			t.Errorf("a failed exchange challenged again")
		}
	})
	t.Run("no response", func(t *testing.T) {
		p := chapPair(t, "s3cr3t", func(c *Config) { c.RechallengeInterval = time.Minute })
		p.start()
		p.run()
		p.Drop = func(*end, ppp.Packet) bool { return true }
		p.runAll(time.Hour)
		ea := p.a.authError(t)
		if ea.Cause != TimedOut || !ea.Again || ea.Count != 10 || p.clock.Now != time.Minute+30*time.Second {
			t.Errorf("error %+v at %v", ea, p.clock.Now)
		}
	})
	t.Run("name changed", func(t *testing.T) {
		s := mustSecrets(t, "chap-secrets", testSecrets)
		p := chapPair(t, "s3cr3t", func(c *Config) { c.RechallengeInterval = time.Minute; c.Secrets = s })
		p.start()
		p.run()
		p.b.peer = nil
		p.clock.Step()
		p.run()
		ch := p.a.sent[len(p.a.sent)-1]
		v, _, _ := ParseCHAPValue(ch)
		sum := MD5Response(ch.ID(), NewSecret([]byte("hunter2")), v)
		p.a.ex.Input(AppendCHAPValue(nil, CHAPResponse, ch.ID(), sum[:], []byte("bob")))
		if ea := p.a.authError(t); ea.Cause != NameChanged || ea.Client != "bob" || !ea.Again {
			t.Errorf("error %+v", ea)
		}
	})
	t.Run("authenticatee refused", func(t *testing.T) {
		p := chapPair(t, "s3cr3t", func(c *Config) { c.RechallengeInterval = time.Minute })
		p.start()
		p.run()
		// A re-challenge, answered, then refused.
		p.b.ex.Input(AppendCHAPValue(nil, CHAPChallenge, 0x99, seq(0, 16), []byte("gw")))
		p.b.ex.Input(AppendCHAPStatus(nil, CHAPSuccess, 0x99, nil)) // ignored: already succeeded
		p.b.ex.Input(AppendCHAPStatus(nil, CHAPFailure, 0x98, nil)) // ignored: not our last response
		if len(p.b.results) != 1 {
			t.Fatalf("results %+v", p.b.results)
		}
		p.b.ex.Input(AppendCHAPStatus(nil, CHAPFailure, 0x99, []byte("E=691")))
		eb := p.b.authError(t)
		if len(p.b.results) != 2 || eb.Cause != PeerRefused || !eb.Again || eb.Message != "E=691" {
			t.Errorf("results %+v", p.b.results)
		}
		// Failed: no more responses.
		n := len(p.b.sent)
		p.b.ex.Input(AppendCHAPValue(nil, CHAPChallenge, 0x9a, seq(0, 16), []byte("gw")))
		if len(p.b.sent) != n {
			t.Errorf("a failed authenticatee responded")
		}
	})
}

func TestCHAPRepeatedResponse(t *testing.T) {
	p := chapPair(t, "s3cr3t", nil)
	p.start()
	p.run()
	resp := p.b.sent[0]
	n := len(p.a.sent)
	p.a.ex.Input(resp)
	if len(p.a.sent) != n+1 || !bytes.Equal(p.a.sent[n], p.a.sent[n-1]) {
		t.Errorf("repeat answered with % x", p.a.sent[n:])
	}
	// A response with another identifier is ignored.
	wrong := bytes.Clone(resp)
	wrong[1]++
	p.a.ex.Input(wrong)
	if len(p.a.sent) != n+1 || len(p.a.results) != 1 {
		t.Errorf("a response with a wrong identifier was answered")
	}
}

func TestCHAPIgnored(t *testing.T) {
	p := chapPair(t, "s3cr3t", nil)
	// Before Start.
	p.b.ex.Input(AppendCHAPValue(nil, CHAPChallenge, 1, seq(0, 16), []byte("gw")))
	if len(p.b.sent) != 0 {
		t.Fatalf("answered before Start")
	}
	p.start()
	p.queue = nil
	ch := p.a.sent[0]
	for _, pkt := range [][]byte{
		AppendCHAPStatus(nil, CHAPSuccess, ch.ID(), nil),               // no response sent yet
		packetOf(CHAPChallenge, 1),                                     // no Value-Size
		packetOf(CHAPChallenge, 1, 0, 'g', 'w'),                        // Value-Size 0
		packetOf(CHAPChallenge, 1, 17, 1, 2, 3),                        // Value past the end
		AppendCHAPValue(nil, CHAPResponse, 1, seq(0, 16), []byte("x")), // the authenticator's
		packetOf(5, 1, 1, 2, 3),                                        // unknown code
		{CHAPChallenge, 1, 0, 40, 16},                                  // Length past the end
	} {
		p.b.ex.Input(pkt)
	}
	for _, pkt := range [][]byte{
		AppendCHAPValue(nil, CHAPChallenge, ch.ID(), seq(0, 16), []byte("gw")), // the authenticatee's
		packetOf(CHAPResponse, ch.ID()),                                        // no Value-Size
		packetOf(CHAPResponse, ch.ID(), 16, 1),                                 // Value past the end
		AppendCHAPStatus(nil, CHAPSuccess, ch.ID(), nil),                       // the authenticatee's
	} {
		p.a.ex.Input(pkt)
	}
	if len(p.a.sent) != 1 || len(p.b.sent) != 0 || len(p.a.results)+len(p.b.results) != 0 {
		t.Errorf("an ignored packet was handled: %d, %d sent", len(p.a.sent), len(p.b.sent))
	}
}

func TestCHAPOtherAlgorithms(t *testing.T) {
	// An MS-CHAPv2 Response (49 octets) to our challenge is a wrong
	// response, not a crash.
	p := chapPair(t, "s3cr3t", nil)
	p.a.ex.Start()
	ch := p.a.sent[0]
	p.a.ex.Input(AppendCHAPValue(nil, CHAPResponse, ch.ID(), seq(1, 49), []byte("alice")))
	if ea := p.a.authError(t); ea.Cause != WrongSecret {
		t.Errorf("error %+v", ea)
	}
	// An MS-CHAP Challenge (8 octets) gets an MD5 response.
	p.b.ex.Start()
	p.b.ex.Input(AppendCHAPValue(nil, CHAPChallenge, 9, seq(1, 8), []byte("gw")))
	v, name, err := ParseCHAPValue(p.b.sent[0])
	if err != nil || len(v) != 16 || string(name) != "alice" || hex.EncodeToString(v) != md5Hex(9, "s3cr3t", seq(1, 8)) {
		t.Errorf("response % x", p.b.sent[0])
	}
}

func TestCHAPLocalFailure(t *testing.T) {
	p := chapPair(t, "s3cr3t", func(c *Config) { c.Rand = failingRand{} })
	p.a.ex.Start()
	if ea := p.a.authError(t); ea.Cause != LocalFailure || ea.Err == nil || len(p.a.sent) != 0 {
		t.Errorf("error %+v", ea)
	}
}

func TestCHAPStop(t *testing.T) {
	p := chapPair(t, "s3cr3t", func(c *Config) { c.RechallengeInterval = time.Minute })
	p.start()
	p.run()
	p.a.ex.Stop()
	p.b.ex.Stop()
	if p.a.timer.Armed() || p.b.timer.Armed() {
		t.Errorf("a timer is armed after Stop")
	}
	n := len(p.a.sent) + len(p.b.sent)
	p.a.ex.Timeout()
	p.b.ex.Input(AppendCHAPValue(nil, CHAPChallenge, 9, seq(0, 16), []byte("gw")))
	p.a.ex.Input(p.b.sent[0])
	if len(p.a.sent)+len(p.b.sent) != n || p.a.ex.Role() != Authenticator || p.b.ex.Result().Status != Succeeded {
		t.Errorf("a stopped exchange acted")
	}
}

func TestCHAPProtocolRejected(t *testing.T) {
	p := chapPair(t, "s3cr3t", nil)
	p.start()
	p.a.ex.ProtocolRejected()
	if ea := p.a.authError(t); ea.Cause != ProtocolRejected || p.a.timer.Armed() {
		t.Errorf("error %+v", ea)
	}
	// After a success, a Protocol-Reject stops the exchange but reports
	// nothing.
	p = chapPair(t, "s3cr3t", func(c *Config) { c.RechallengeInterval = time.Minute })
	p.start()
	p.run()
	p.a.ex.ProtocolRejected()
	if len(p.a.results) != 1 || p.a.timer.Armed() || p.a.ex.Status() != Succeeded {
		t.Errorf("results %+v", p.a.results)
	}
}
