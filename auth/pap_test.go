package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// papPair returns a PAP pair: the authenticator "gw" with testSecrets, and
// the authenticatee "alice" with the password pw.
func papPair(t *testing.T, pw string) *pair {
	s := mustSecrets(t, "pap-secrets", testSecrets)
	return newPair(t, ppp.ProtoPAP,
		Config{Name: "gw", Secrets: s},
		Config{Name: "alice", Password: secretPtr(pw)})
}

func TestPAPSuccess(t *testing.T) {
	p := papPair(t, "s3cr3t")
	p.start()
	p.runAll(time.Minute)
	diffLines(t, "trace", p.Trace, []string{
		`B>A [PAP AuthReq id=0x1 user="alice" password=<hidden>]`,
		`A>B [PAP AuthAck id=0x1 "Login ok"]`,
	})
	ra, rb := p.a.lastResult(t), p.b.lastResult(t)
	if ra.Status != Succeeded || ra.Err != nil || ra.PeerName != "alice" || ra.Message != "Login ok" ||
		ra.Entry == nil || ra.Entry.Line != 2 || strings.Join(ra.Entry.Addresses, " ") != "10.0.0.2" {
		t.Errorf("authenticator result %+v", ra)
	}
	if rb.Status != Succeeded || rb.Err != nil || rb.Message != "Login ok" {
		t.Errorf("authenticatee result %+v", rb)
	}
	if len(p.a.results) != 1 || len(p.b.results) != 1 {
		t.Errorf("Done called %d and %d times", len(p.a.results), len(p.b.results))
	}
	if p.a.timer.Armed() || p.b.timer.Armed() {
		t.Errorf("a timer is still armed")
	}
}

func TestPAPSecretFromFile(t *testing.T) {
	// The authenticatee looks its password up: alice for gw.
	s := mustSecrets(t, "pap-secrets", testSecrets)
	p := newPair(t, ppp.ProtoPAP,
		Config{Name: "gw", Secrets: s},
		Config{Name: "alice", PeerName: "gw", Secrets: s})
	p.start()
	p.runAll(time.Minute)
	if p.a.ex.Status() != Succeeded || p.b.ex.Status() != Succeeded {
		t.Fatalf("statuses %v, %v; trace %q", p.a.ex.Status(), p.b.ex.Status(), p.Trace)
	}
	if e := p.b.lastResult(t).Entry; e == nil || e.Client != "alice" {
		t.Errorf("authenticatee entry %+v", e)
	}
	// Without the peer's name, any server's entry for bob will do.
	p = newPair(t, ppp.ProtoPAP,
		Config{Name: "gw", Secrets: s},
		Config{Name: "bob", Secrets: s})
	p.start()
	p.runAll(time.Minute)
	if p.a.ex.Status() != Succeeded || p.b.ex.Status() != Succeeded {
		t.Fatalf("bob: statuses %v, %v; trace %q", p.a.ex.Status(), p.b.ex.Status(), p.Trace)
	}
}

func TestPAPWrongPassword(t *testing.T) {
	var logs bytes.Buffer
	s := mustSecrets(t, "pap-secrets", testSecrets)
	p := newPair(t, ppp.ProtoPAP,
		Config{Name: "gw", Secrets: s, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		Config{Name: "alice", Password: secretPtr("guessed")})
	p.start()
	p.runAll(time.Minute)
	diffLines(t, "trace", p.Trace, []string{
		`B>A [PAP AuthReq id=0x1 user="alice" password=<hidden>]`,
		`A>B [PAP AuthNak id=0x1 "Login incorrect"]`,
	})
	ea, eb := p.a.authError(t), p.b.authError(t)
	if ea.Cause != WrongSecret || ea.Role != Authenticator || ea.Client != "alice" || ea.Server != "gw" || ea.Source != "pap-secrets:2" {
		t.Errorf("authenticator error %+v", ea)
	}
	if eb.Cause != PeerRefused || eb.Role != Authenticatee || eb.Message != "Login incorrect" {
		t.Errorf("authenticatee error %+v", eb)
	}
	const wantA = `auth: PAP: peer "alice" sent a wrong password (check its secret for server "gw" in pap-secrets:2 against the peer's)`
	if ea.Error() != wantA {
		t.Errorf("authenticator error:\n%s\nwant\n%s", ea, wantA)
	}
	const wantB = `auth: PAP: the peer refused us as "alice": "Login incorrect" (check our secret for "alice")`
	if eb.Error() != wantB {
		t.Errorf("authenticatee error:\n%s\nwant\n%s", eb, wantB)
	}
	if ea.Reason() != "Authentication failed" || eb.Reason() != "Failed to authenticate ourselves to peer" {
		t.Errorf("reasons %q, %q", ea.Reason(), eb.Reason())
	}
	checkNoSecret(t, ea.Error()+eb.Error()+logs.String()+strings.Join(p.Trace, "\n"), "s3cr3t", "guessed")
	if !strings.Contains(logs.String(), `rcvd [PAP AuthReq id=0x1 user=\"alice\" password=<hidden>]`) {
		t.Errorf("log lacks the received request:\n%s", logs.String())
	}
}

func TestPAPNoSecret(t *testing.T) {
	s := mustSecrets(t, "pap-secrets", testSecrets)
	// The authenticator has no entry for carol.
	p := newPair(t, ppp.ProtoPAP,
		Config{Name: "gw", Secrets: s},
		Config{Name: "carol", Password: secretPtr("pw")})
	p.start()
	p.runAll(time.Minute)
	ea := p.a.authError(t)
	if ea.Cause != NoSecret || ea.Client != "carol" || ea.Server != "gw" || !errors.Is(ea, ErrNoSecret) {
		t.Errorf("authenticator error %+v", ea)
	}
	const want = `auth: PAP: no secret for peer "carol" and server "gw" in pap-secrets (add a line: "carol" "gw" SECRET)`
	if ea.Error() != want {
		t.Errorf("error:\n%s\nwant\n%s", ea, want)
	}
	if got := p.b.lastResult(t).Message; got != "Login incorrect" {
		t.Errorf("authenticatee got %q", got)
	}

	// The authenticatee has no entry for its name: it fails at Start,
	// having sent nothing.
	p = newPair(t, ppp.ProtoPAP,
		Config{Name: "gw", Secrets: s},
		Config{Name: "carol", PeerName: "gw", Secrets: s})
	p.start()
	p.run()
	eb := p.b.authError(t)
	if eb.Cause != NoSecret || eb.Client != "carol" || eb.Server != "gw" || len(p.b.sent) != 0 {
		t.Errorf("authenticatee error %+v, sent %d", eb, len(p.b.sent))
	}
	if !strings.Contains(eb.Error(), `(add a line: "carol" "gw" SECRET, or give a password)`) {
		t.Errorf("error %q", eb)
	}
}

func TestPAPRetransmission(t *testing.T) {
	p := papPair(t, "s3cr3t")
	lost := 0
	p.Drop = func(from *end, pkt ppp.Packet) bool {
		if from == p.b && lost < 2 {
			lost++
			return true
		}
		return false
	}
	p.start()
	p.runAll(time.Minute)
	diffLines(t, "trace", p.Trace, []string{
		`B>A [PAP AuthReq id=0x1 user="alice" password=<hidden>] (lost)`,
		`@3s`,
		`B>A [PAP AuthReq id=0x2 user="alice" password=<hidden>] (lost)`,
		`@6s`,
		`B>A [PAP AuthReq id=0x3 user="alice" password=<hidden>]`,
		`A>B [PAP AuthAck id=0x3 "Login ok"]`,
	})
	if p.a.ex.Status() != Succeeded || p.b.ex.Status() != Succeeded {
		t.Errorf("statuses %v, %v", p.a.ex.Status(), p.b.ex.Status())
	}
}

func TestPAPMaxRequests(t *testing.T) {
	p := papPair(t, "s3cr3t")
	p.Drop = func(*end, ppp.Packet) bool { return true }
	p.b.ex.Start() // the authenticator never hears anything
	p.runAll(time.Hour)
	if n := len(p.b.sent); n != DefaultMaxTransmits {
		t.Errorf("%d requests, want %d", n, DefaultMaxTransmits)
	}
	eb := p.b.authError(t)
	if eb.Cause != TimedOut || eb.Count != 10 || p.clock.Now != 30*time.Second {
		t.Errorf("error %+v at %v", eb, p.clock.Now)
	}
	if want := "auth: PAP: no reply to 10 Authenticate-Requests (is the peer authenticating us with PAP?)"; eb.Error() != want {
		t.Errorf("error %q", eb)
	}
	for i, pkt := range p.b.sent {
		if pkt.ID() != uint8(i+1) {
			t.Errorf("request %d has id %d", i, pkt.ID())
		}
	}

	// pap-restart 1 and pap-max-authreq 3.
	p = newPair(t, ppp.ProtoPAP, Config{Name: "gw", Secrets: mustSecrets(t, "x", testSecrets)},
		Config{Name: "alice", Password: secretPtr("pw"), RestartInterval: time.Second, MaxTransmits: 3})
	p.Drop = func(*end, ppp.Packet) bool { return true }
	p.b.ex.Start()
	p.runAll(time.Hour)
	if eb := p.b.authError(t); len(p.b.sent) != 3 || eb.Count != 3 || p.clock.Now != 3*time.Second {
		t.Errorf("%d requests, error %+v at %v", len(p.b.sent), eb, p.clock.Now)
	}
}

func TestPAPAuthenticatorTimeout(t *testing.T) {
	p := papPair(t, "s3cr3t")
	p.a.ex.Start() // the peer never sends a request
	p.runAll(time.Hour)
	ea := p.a.authError(t)
	if ea.Cause != TimedOut || ea.Wait != DefaultPAPTimeout || p.clock.Now != DefaultPAPTimeout {
		t.Errorf("error %+v at %v", ea, p.clock.Now)
	}
	if want := "auth: PAP: the peer sent no Authenticate-Request in 30s"; ea.Error() != want {
		t.Errorf("error %q", ea)
	}
	// A request that comes after all is refused.
	p.b.ex.Start()
	p.run()
	if got := p.Trace[len(p.Trace)-1]; got != `A>B [PAP AuthNak id=0x1 "Login incorrect"]` || len(p.a.results) != 1 {
		t.Errorf("late request answered with %s; results %+v", got, p.a.results)
	}

	// pap-timeout 0: wait forever.
	p = newPair(t, ppp.ProtoPAP, Config{Name: "gw", Secrets: mustSecrets(t, "x", testSecrets), Timeout: -1},
		Config{Name: "alice", Password: secretPtr("s3cr3t")})
	p.a.ex.Start()
	if p.a.timer.Armed() {
		t.Errorf("timer armed without a timeout")
	}
	p.clock.Now = 24 * time.Hour
	p.b.ex.Start()
	p.run()
	if p.a.ex.Status() != Succeeded {
		t.Errorf("status %v", p.a.ex.Status())
	}
}

func TestPAPRepeatedRequests(t *testing.T) {
	for _, pw := range []string{"s3cr3t", "wrong"} {
		t.Run(pw, func(t *testing.T) {
			p := papPair(t, pw)
			p.a.ex.Start()
			req := AppendPAPRequest(nil, 7, []byte("alice"), NewSecret([]byte(pw)))
			p.a.ex.Input(req)
			first := p.a.sent[0]
			// The same request again, a new one, and another with a
			// different password: the same answer to each, with
			// its identifier (RFC 1334 section 2.2.1).
			p.a.ex.Input(req)
			p.a.ex.Input(AppendPAPRequest(nil, 8, []byte("alice"), NewSecret([]byte(pw))))
			p.a.ex.Input(AppendPAPRequest(nil, 9, []byte("mallory"), NewSecret([]byte("s3cr3t"))))
			if len(p.a.sent) != 4 {
				t.Fatalf("%d replies", len(p.a.sent))
			}
			for i, id := range []uint8{7, 7, 8, 9} {
				r := p.a.sent[i]
				if r.ID() != id || r.Code() != first.Code() || !bytes.Equal(r.Data(), first.Data()) {
					t.Errorf("reply %d: % x, want code %d id %d data % x", i, r, first.Code(), id, first.Data())
				}
			}
			if len(p.a.results) != 1 {
				t.Errorf("Done called %d times", len(p.a.results))
			}
		})
	}
}

func TestPAPIgnored(t *testing.T) {
	p := papPair(t, "s3cr3t")
	ack := AppendPAPReply(nil, PAPAuthenticateAck, 1, []byte("Login ok"))

	// Before Start, nothing counts.
	p.b.ex.Input(ack)
	p.a.ex.Input(AppendPAPRequest(nil, 1, []byte("alice"), NewSecret([]byte("s3cr3t"))))
	if len(p.a.sent)+len(p.b.sent)+len(p.a.results)+len(p.b.results) != 0 {
		t.Fatalf("a packet before Start was handled")
	}

	p.a.ex.Start()
	p.b.ex.Start()
	p.queue = nil
	for _, pkt := range [][]byte{
		AppendPAPReply(nil, PAPAuthenticateAck, 2, nil),   // an identifier not sent
		AppendPAPReply(nil, PAPAuthenticateAck, 0, nil),   // nor this one
		AppendPAPReply(nil, PAPAuthenticateNak, 200, nil), // nor this one
		{PAPAuthenticateAck, 1, 0, 7, 5, 'L', 'o', 'g'},   // Length past the end
		packetOf(PAPAuthenticateAck, 1, 9, 'L', 'o'),      // Msg-Length past the end
		packetOf(4, 1), // an unknown code
		AppendPAPRequest(nil, 1, []byte("alice"), NewSecret([]byte("pw"))), // the authenticator's
		{},
	} {
		p.b.ex.Input(pkt)
	}
	for _, pkt := range [][]byte{
		ack,                                 // the authenticatee's
		packetOf(PAPAuthenticateRequest, 3), // no Peer-ID length
		packetOf(PAPAuthenticateRequest, 4, 5, 'a', 'l', 'i', 'c', 'e'),                   // no Passwd-Length
		packetOf(PAPAuthenticateRequest, 5, 5, 'a', 'l', 'i', 'c', 'e', 7, 's', '3', 'c'), // password cut short
	} {
		p.a.ex.Input(pkt)
	}
	if len(p.a.sent) != 0 || len(p.b.sent) != 1 || len(p.a.results)+len(p.b.results) != 0 {
		t.Fatalf("an ignored packet was answered: %d, %d sent, %d, %d results",
			len(p.a.sent), len(p.b.sent), len(p.a.results), len(p.b.results))
	}

	// An Ack without a message, padded, to our request 1.
	p.b.ex.Input(append(packetOf(PAPAuthenticateAck, 1), 0, 0))
	if r := p.b.lastResult(t); r.Status != Succeeded || r.Message != "" {
		t.Errorf("result %+v", r)
	}
	// A late Nak changes nothing.
	p.b.ex.Input(AppendPAPReply(nil, PAPAuthenticateNak, 1, nil))
	if len(p.b.results) != 1 || p.b.ex.Status() != Succeeded {
		t.Errorf("a late Nak counted: %+v", p.b.results)
	}
}

func TestPAPReplyToEarlierRequest(t *testing.T) {
	p := papPair(t, "s3cr3t")
	p.b.ex.Start()
	p.clock.Step()
	p.clock.Step()
	if len(p.b.sent) != 3 {
		t.Fatalf("%d requests", len(p.b.sent))
	}
	// The Ack to the first request arrives after the third was sent.
	p.b.ex.Input(AppendPAPReply(nil, PAPAuthenticateAck, 1, []byte("late")))
	if r := p.b.lastResult(t); r.Status != Succeeded || r.Message != "late" {
		t.Errorf("result %+v", r)
	}
	if p.b.timer.Armed() {
		t.Errorf("timer still armed")
	}
}

func TestPAPEmptySecret(t *testing.T) {
	// pppd takes any password for an empty secret in pap-secrets; we
	// refuse, naming the line.
	s := mustSecrets(t, "pap-secrets", `guest * ""`+"\n")
	p := newPair(t, ppp.ProtoPAP, Config{Name: "gw", Secrets: s}, Config{Name: "guest", Password: secretPtr("anything")})
	p.start()
	p.run()
	ea := p.a.authError(t)
	if ea.Cause != SecretUnusable || p.b.ex.Status() != Failed {
		t.Errorf("error %+v, authenticatee %v", ea, p.b.ex.Status())
	}
	if !strings.Contains(ea.Error(), "pap-secrets:1 is empty") || strings.Contains(ea.Error(), "anything") {
		t.Errorf("error %q", ea)
	}
}

func TestPAPLoginSecret(t *testing.T) {
	s := mustSecrets(t, "pap-secrets", `alice * @login`+"\n")
	p := newPair(t, ppp.ProtoPAP, Config{Name: "gw", Secrets: s}, Config{Name: "alice", Password: secretPtr("@login")})
	p.start()
	p.run()
	ea := p.a.authError(t)
	if ea.Cause != SecretUnusable || p.b.ex.Status() != Failed {
		t.Errorf("error %+v, authenticatee %v", ea, p.b.ex.Status())
	}
	if !strings.Contains(ea.Error(), "system's password database") {
		t.Errorf("error %q", ea)
	}
}

func TestPAPLongPassword(t *testing.T) {
	p := papPair(t, strings.Repeat("x", 256))
	p.b.ex.Start()
	if eb := p.b.authError(t); eb.Cause != SecretUnusable || len(p.b.sent) != 0 {
		t.Errorf("error %+v, %d sent", eb, len(p.b.sent))
	}
}

func TestPAPStop(t *testing.T) {
	p := papPair(t, "s3cr3t")
	p.start()
	p.queue = nil
	p.a.ex.Stop()
	p.b.ex.Stop()
	if p.a.timer.Armed() || p.b.timer.Armed() {
		t.Errorf("a timer is armed after Stop")
	}
	p.b.ex.Input(AppendPAPReply(nil, PAPAuthenticateAck, 1, nil))
	p.a.ex.Input(AppendPAPRequest(nil, 1, []byte("alice"), NewSecret([]byte("s3cr3t"))))
	p.a.ex.Timeout()
	p.b.ex.Timeout()
	p.b.ex.Start()
	if len(p.a.sent) != 0 || len(p.b.sent) != 1 || len(p.a.results)+len(p.b.results) != 0 {
		t.Errorf("a stopped exchange acted")
	}
}

func TestPAPProtocolRejected(t *testing.T) {
	p := papPair(t, "s3cr3t")
	p.start()
	p.b.ex.ProtocolRejected()
	if eb := p.b.authError(t); eb.Cause != ProtocolRejected || p.b.timer.Armed() {
		t.Errorf("error %+v", eb)
	}
	p.b.ex.ProtocolRejected()
	if len(p.b.results) != 1 {
		t.Errorf("Done called %d times", len(p.b.results))
	}
}

func TestNewErrors(t *testing.T) {
	s := mustSecrets(t, "pap-secrets", testSecrets)
	for _, c := range []struct {
		name  string
		proto ppp.Protocol
		role  Role
		cfg   Config
		want  string
	}{
		{"protocol", ppp.ProtoEAP, Authenticator, Config{}, "neither PAP nor CHAP"},
		{"role", ppp.ProtoPAP, 0, Config{Secrets: s}, "unknown role"},
		{"long name", ppp.ProtoCHAP, Authenticatee, Config{Name: strings.Repeat("n", 256), Secrets: s}, "256 octets"},
		{"no secrets", ppp.ProtoCHAP, Authenticator, Config{Name: "gw"}, "chap-secrets"},
		{"no password", ppp.ProtoPAP, Authenticatee, Config{Name: "alice"}, "pap-secrets"},
	} {
		if _, err := New(c.proto, c.role, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
}
