package lcp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/ppp"
)

// The Configure-Request options of the capture: pppd's own and its peer's.
var (
	pppdRequest = cat(accm(0), magic(0x03d1981f), pfc(), acfc())
	peerRequest = cat(mru(1500), magic(0x1305b050), pfc(), acfc())
)

func withAllow(f func(*Options)) func(*Config) { return func(c *Config) { f(&c.Allow) } }
func withWant(f func(*Options)) func(*Config)  { return func(c *Config) { f(&c.Want) } }

var credentials = withAllow(func(a *Options) { a.NegAuth, a.Auth = true, AuthPAP|AuthCHAPMD5 })

func TestDefaultRequest(t *testing.T) {
	h := newTest()
	want := cat(accm(0), magic(magic1), pfc(), acfc())
	if got := request(h); !bytes.Equal(got, want) {
		t.Errorf("AppendRequest = % x, want % x", got, want)
	}
	// The same bytes until something changes them.
	if got := request(h); !bytes.Equal(got, want) {
		t.Errorf("second AppendRequest = % x, want % x", got, want)
	}
	h.Reset()
	want = cat(accm(0), magic(magic2), pfc(), acfc())
	if got := request(h); !bytes.Equal(got, want) {
		t.Errorf("AppendRequest after Reset = % x, want % x (a new magic)", got, want)
	}
}

func TestRequestOptions(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []byte
	}{
		{"MRU 576", withWant(func(w *Options) { w.MRU = 576 }), cat(mru(576), accm(0), magic(magic1), pfc(), acfc())},
		{"MRU 4000", withWant(func(w *Options) { w.MRU = 4000 }), cat(mru(4000), accm(0), magic(magic1), pfc(), acfc())},
		{"MRU below minimum raised", withWant(func(w *Options) { w.MRU = 64 }), cat(mru(MinMRU), accm(0), magic(magic1), pfc(), acfc())},
		{"asyncmap", withWant(func(w *Options) { w.ACCM = 0x000a0000 }), cat(accm(0x000a0000), magic(magic1), pfc(), acfc())},
		{"default-asyncmap", withWant(func(w *Options) { w.NegACCM = false }), cat(magic(magic1), pfc(), acfc())},
		{"require CHAP or PAP", withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthPAP|AuthCHAPMD5 }), cat(accm(0), chap(5), magic(magic1), pfc(), acfc())},
		{"require PAP", withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthPAP }), cat(accm(0), pap(), magic(magic1), pfc(), acfc())},
		{"nomagic", withWant(func(w *Options) { w.NegMagic = false }), cat(accm(0), pfc(), acfc())},
		{"nopcomp noaccomp", withWant(func(w *Options) { w.NegPFC, w.NegACFC = false, false }), cat(accm(0), magic(magic1))},
		{"FCS-32", withWant(func(w *Options) { w.NegFCS = true }), cat(accm(0), magic(magic1), pfc(), acfc(), fcs(0x04))},
		{"FCS set reduced to its strongest", withWant(func(w *Options) { w.NegFCS, w.FCS = true, FCS16|FCS32 }), cat(accm(0), magic(magic1), pfc(), acfc(), fcs(0x04))},
		{"zero config asks nothing", func(c *Config) { c.Want = Options{} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := request(newTest(tt.mod)); !bytes.Equal(got, tt.want) {
				t.Errorf("AppendRequest = % x, want % x", got, tt.want)
			}
		})
	}
}

func TestCheckRequest(t *testing.T) {
	ack, nak, rej := ppp.CodeConfigureAck, ppp.CodeConfigureNak, ppp.CodeConfigureReject
	tests := []struct {
		name    string
		mod     func(*Config)
		opts    []byte
		rid     bool // rejectIfDisagree
		code    ppp.Code
		reply   []byte  // nil: the request itself (Ack)
		his     Options // checked on Ack
		loops   int     // reqLoops afterwards
		noCheck bool    // do not check his
	}{
		{name: "pppd peer request", opts: peerRequest, code: ack,
			his: Options{NegMRU: true, MRU: 1500, NegMagic: true, Magic: 0x1305b050, NegPFC: true, NegACFC: true}},
		{name: "pppd own request", opts: pppdRequest, code: ack,
			his: Options{NegACCM: true, ACCM: 0, NegMagic: true, Magic: 0x03d1981f, NegPFC: true, NegACFC: true}},
		{name: "empty request", opts: nil, code: ack},

		// MRU
		{name: "MRU 576", opts: mru(576), code: ack, his: Options{NegMRU: true, MRU: 576}},
		{name: "MRU minimum", opts: mru(128), code: ack, his: Options{NegMRU: true, MRU: 128}},
		{name: "MRU maximum", opts: mru(65535), code: ack, his: Options{NegMRU: true, MRU: 65535}},
		{name: "MRU below minimum", opts: mru(127), code: nak, reply: mru(128)},
		{name: "MRU zero", opts: mru(0), code: nak, reply: mru(128)},
		{name: "MRU above allowed", mod: withAllow(func(a *Options) { a.MRU = 4000 }), opts: mru(4001), code: nak, reply: mru(4000)},
		{name: "MRU at allowed", mod: withAllow(func(a *Options) { a.MRU = 4000 }), opts: mru(4000), code: ack, his: Options{NegMRU: true, MRU: 4000}},
		{name: "MRU below minimum, rejectIfDisagree", opts: mru(100), rid: true, code: rej, reply: mru(100)},
		{name: "MRU not allowed", mod: withAllow(func(a *Options) { a.NegMRU = false }), opts: mru(1500), code: rej, reply: mru(1500)},
		{name: "MRU short", opts: o(OptMRU, 5), code: rej, reply: o(OptMRU, 5)},
		{name: "MRU long", opts: o(OptMRU, 5, 0xdc, 0), code: rej, reply: o(OptMRU, 5, 0xdc, 0)},

		// ACCM
		{name: "ACCM", opts: accm(0x000a0000), code: ack, his: Options{NegACCM: true, ACCM: 0x000a0000}},
		{name: "ACCM missing our characters", mod: withAllow(func(a *Options) { a.ACCM = 0x00020000 }), opts: accm(0x1), code: nak, reply: accm(0x00020001)},
		{name: "ACCM including our characters", mod: withAllow(func(a *Options) { a.ACCM = 0x00020000 }), opts: accm(0xffffffff), code: ack, his: Options{NegACCM: true, ACCM: 0xffffffff}},
		{name: "ACCM not allowed", mod: withAllow(func(a *Options) { a.NegACCM = false }), opts: accm(0), code: rej, reply: accm(0)},
		{name: "ACCM short", opts: o(OptACCM, 0, 0), code: rej, reply: o(OptACCM, 0, 0)},

		// Authentication-Protocol
		{name: "auth without credentials", opts: pap(), code: rej, reply: pap()},
		{name: "CHAP without credentials", opts: cat(mru(1500), chap(5)), code: rej, reply: chap(5)},
		{name: "PAP with credentials", mod: credentials, opts: pap(), code: ack, his: Options{NegAuth: true, Auth: AuthPAP}},
		{name: "CHAP MD5 with credentials", mod: credentials, opts: chap(5), code: ack, his: Options{NegAuth: true, Auth: AuthCHAPMD5}},
		{name: "CHAP but only PAP possible", mod: withAllow(func(a *Options) { a.NegAuth, a.Auth = true, AuthPAP }), opts: chap(5), code: nak, reply: pap()},
		{name: "PAP but only CHAP possible", mod: withAllow(func(a *Options) { a.NegAuth, a.Auth = true, AuthCHAPMD5 }), opts: pap(), code: nak, reply: chap(5)},
		{name: "MS-CHAP", mod: credentials, opts: chap(0x81), code: nak, reply: chap(5)},
		{name: "EAP", mod: credentials, opts: o(OptAuthProtocol, 0xc2, 0x27), code: nak, reply: chap(5)},
		{name: "EAP, rejectIfDisagree", mod: credentials, opts: o(OptAuthProtocol, 0xc2, 0x27), rid: true, code: rej, reply: o(OptAuthProtocol, 0xc2, 0x27)},
		{name: "PAP with data", mod: credentials, opts: o(OptAuthProtocol, 0xc0, 0x23, 1), code: rej, reply: o(OptAuthProtocol, 0xc0, 0x23, 1)},
		{name: "CHAP without algorithm", mod: credentials, opts: o(OptAuthProtocol, 0xc2, 0x23), code: rej, reply: o(OptAuthProtocol, 0xc2, 0x23)},
		{name: "auth short", mod: credentials, opts: o(OptAuthProtocol, 0xc0), code: rej, reply: o(OptAuthProtocol, 0xc0)},

		// Quality-Protocol and unknown options
		{name: "LQR", opts: cat(mru(1500), lqr(3000), pfc()), code: rej, reply: lqr(3000)},
		{name: "callback", opts: o(13, 6), code: rej, reply: o(13, 6)},
		{name: "vendor option", opts: o(0, 0xcf, 0, 0x12, 1), code: rej, reply: o(0, 0xcf, 0, 0x12, 1)},
		{name: "multilink", opts: cat(o(17, 0x05, 0xdc), o(19, 1)), code: rej, reply: cat(o(17, 0x05, 0xdc), o(19, 1))},

		// Magic-Number
		{name: "magic zero", opts: magic(0), code: nak, reply: magic(magic2)},
		{name: "magic zero, rejectIfDisagree", opts: magic(0), rid: true, code: nak, reply: magic(magic2)},
		{name: "magic equal to ours", opts: magic(magic1), code: nak, reply: magic(magic2), loops: 1},
		{name: "magic equal to ours, rejectIfDisagree", opts: magic(magic1), rid: true, code: nak, reply: magic(magic2), loops: 1},
		{name: "magic when we ask none", mod: withWant(func(w *Options) { w.NegMagic = false }), opts: magic(magic1), code: ack, his: Options{NegMagic: true, Magic: magic1}},
		{name: "magic neither asked nor allowed", mod: func(c *Config) { c.Want.NegMagic, c.Allow.NegMagic = false, false }, opts: magic(5), code: rej, reply: magic(5)},
		{name: "magic not allowed but asked", mod: withAllow(func(a *Options) { a.NegMagic = false }), opts: magic(5), code: ack, his: Options{NegMagic: true, Magic: 5}},
		{name: "magic short", opts: o(OptMagicNumber, 1, 2, 3), code: rej, reply: o(OptMagicNumber, 1, 2, 3)},

		// PFC and ACFC
		{name: "PFC not allowed", mod: withAllow(func(a *Options) { a.NegPFC = false }), opts: cat(pfc(), acfc()), code: rej, reply: pfc()},
		{name: "ACFC not allowed", mod: withAllow(func(a *Options) { a.NegACFC = false }), opts: cat(pfc(), acfc()), code: rej, reply: acfc()},
		{name: "PFC with data", opts: o(OptPFC, 0), code: rej, reply: o(OptPFC, 0)},
		{name: "ACFC with data", opts: cat(pfc(), o(OptACFC, 1, 2)), code: rej, reply: o(OptACFC, 1, 2)},

		// FCS-Alternatives
		{name: "FCS not allowed", opts: fcs(0x04), code: rej, reply: fcs(0x04)},
		{name: "FCS-32", mod: withAllow(func(a *Options) { a.NegFCS = true }), opts: fcs(0x04), code: ack, his: Options{NegFCS: true, FCS: FCS32}},
		{name: "FCS-16 or 32", mod: withAllow(func(a *Options) { a.NegFCS = true }), opts: fcs(0x06), code: ack, his: Options{NegFCS: true, FCS: FCS32}},
		{name: "FCS-16", mod: withAllow(func(a *Options) { a.NegFCS = true }), opts: fcs(0x02), code: ack, his: Options{NegFCS: true, FCS: FCS16}},
		{name: "FCS null or 16", mod: withAllow(func(a *Options) { a.NegFCS = true }), opts: fcs(0x03), code: ack, his: Options{NegFCS: true, FCS: FCS16}},
		{name: "FCS-32 but only 16 allowed", mod: withAllow(func(a *Options) { a.NegFCS, a.FCS = true, FCS16 }), opts: fcs(0x04), code: nak, reply: fcs(0x02)},
		{name: "null FCS", mod: withAllow(func(a *Options) { a.NegFCS = true }), opts: fcs(0x01), code: nak, reply: fcs(0x06)},
		{name: "null FCS, rejectIfDisagree", mod: withAllow(func(a *Options) { a.NegFCS = true }), opts: fcs(0x01), rid: true, code: rej, reply: fcs(0x01)},
		{name: "FCS long", mod: withAllow(func(a *Options) { a.NegFCS = true }), opts: o(OptFCSAlternatives, 4, 0), code: rej, reply: o(OptFCSAlternatives, 4, 0)},

		// Verdicts combined
		{name: "duplicate MRU", opts: cat(mru(1500), mru(1400)), code: rej, reply: mru(1400)},
		{name: "duplicate identical magic", opts: cat(magic(7), pfc(), magic(7)), code: rej, reply: magic(7)},
		{name: "duplicate boolean", opts: cat(pfc(), acfc(), pfc()), code: rej, reply: pfc()},
		{name: "Reject wins over Nak", opts: cat(mru(100), lqr(0), magic(0)), code: rej, reply: lqr(0)},
		{name: "Nak lists only the Nak'd", opts: cat(mru(100), accm(0), magic(0), pfc()), code: nak, reply: cat(mru(128), magic(magic2))},

		// Malformed input (the automaton drops it before; no panic, a
		// well-formed reply).
		{name: "zero-length option", opts: cat(mru(1500), []byte{7, 0}), code: rej, reply: o(7), noCheck: true},
		{name: "overrunning option", opts: cat(pfc(), []byte{1, 6, 5, 0xdc}), code: rej, reply: o(1, 5, 0xdc), noCheck: true},
		{name: "lone type octet", opts: cat(pfc(), []byte{8}), code: rej, reply: o(8), noCheck: true},
		{name: "length one", opts: []byte{5, 1, 0, 0, 0, 0}, code: rej, reply: o(5, 0, 0, 0, 0), noCheck: true},
		{name: "long tail", opts: append([]byte{1, 0}, make([]byte, 400)...), code: rej, reply: o(1, make([]byte, 253)...), noCheck: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Config)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			h := newTest(mods...)
			prefix := []byte{0xaa, 0xbb}
			code, out := h.CheckRequest(bytes.Clone(prefix), tt.opts, tt.rid)
			if !bytes.HasPrefix(out, prefix) {
				t.Fatalf("CheckRequest did not append to reply: % x", out)
			}
			out = out[len(prefix):]
			if code != tt.code {
				t.Errorf("code = %v, want %v (reply % x)", code, tt.code, out)
			}
			want := tt.reply
			if tt.code == ack {
				want = tt.opts
			}
			if !bytes.Equal(out, want) {
				t.Errorf("reply = % x, want % x", out, want)
			}
			if err := ppp.CheckOptions(out); err != nil {
				t.Errorf("reply % x is malformed: %v", out, err)
			}
			if !tt.noCheck {
				wantHis := tt.his
				if code != ack {
					wantHis = Options{}
				}
				if d := cmp.Diff(wantHis, h.his); d != "" {
					t.Errorf("his (-want +got):\n%s", d)
				}
			}
			if h.reqLoops != tt.loops {
				t.Errorf("loop count = %d, want %d", h.reqLoops, tt.loops)
			}
		})
	}
}

// A later request that is not acknowledged forgets the earlier one's values.
func TestCheckRequestForgetsHis(t *testing.T) {
	h := newTest()
	if code, _ := h.CheckRequest(nil, peerRequest, false); code != ppp.CodeConfigureAck {
		t.Fatalf("code = %v", code)
	}
	if !h.his.NegMRU {
		t.Fatal("his not recorded on Ack")
	}
	if code, _ := h.CheckRequest(nil, mru(1), false); code != ppp.CodeConfigureNak {
		t.Fatalf("code = %v", code)
	}
	if h.his != (Options{}) {
		t.Errorf("his = %+v after a Nak, want zero", h.his)
	}
}

func TestLoopbackByConfigureRequest(t *testing.T) {
	h := newTest()
	for i := 1; i <= DefaultLoopbackFail; i++ {
		if h.Looped() {
			t.Fatalf("Looped after %d collisions", i-1)
		}
		// A looped line returns our own request.
		code, reply := h.CheckRequest(nil, request(h), false)
		if code != ppp.CodeConfigureNak {
			t.Fatalf("round %d: code %v", i, code)
		}
		// The Nak comes back too, and we choose a new magic.
		if err := h.Naked(reply, i >= 5); err != nil {
			t.Fatalf("round %d: Naked: %v", i, err)
		}
	}
	if !h.Looped() {
		t.Fatalf("not Looped after %d rounds", DefaultLoopbackFail)
	}
	if h.reqLoops != DefaultLoopbackFail || h.nakLoops != DefaultLoopbackFail {
		t.Errorf("counts = %d, %d; want %d each", h.reqLoops, h.nakLoops, DefaultLoopbackFail)
	}
	h.Reset()
	if h.Looped() {
		t.Error("Looped after Reset")
	}
}

func TestLoopbackFailConfigured(t *testing.T) {
	h := newTest(func(c *Config) { c.LoopbackFail = 2 })
	for range 2 {
		h.CheckRequest(nil, magic(h.req.Magic), false)
	}
	if !h.Looped() {
		t.Error("not Looped after LoopbackFail collisions")
	}
}

func TestAckedAndUp(t *testing.T) {
	var got []Negotiated
	h := newTest(func(c *Config) {
		c.Want.MRU = 4000
		c.Want.NegFCS, c.Allow.NegFCS = true, true
		c.Want.NegAuth, c.Want.Auth = true, AuthPAP|AuthCHAPMD5
		c.Allow.NegAuth, c.Allow.Auth = true, AuthPAP
		c.Up = func(n Negotiated) { got = append(got, n) }
	})
	h.Acked(request(h))
	if code, _ := h.CheckRequest(nil, cat(mru(576), accm(0x000a0000), pap(), magic(0x1305b050), pfc(), fcs(0x06)), false); code != ppp.CodeConfigureAck {
		t.Fatalf("code = %v", code)
	}
	h.Up()
	want := Negotiated{
		MRU: 4000, PeerMRU: 576,
		RecvACCM: 0, SendACCM: 0x000a0000,
		RecvPFC: true, RecvACFC: true, SendPFC: true, SendACFC: false,
		RecvFCS: FCS32, SendFCS: FCS32,
		Magic: magic1, PeerMagic: 0x1305b050,
		AuthPeer: AuthCHAPMD5, AuthSelf: AuthPAP,
	}
	if len(got) != 1 {
		t.Fatalf("Config.Up called %d times", len(got))
	}
	if d := cmp.Diff(want, got[0]); d != "" {
		t.Errorf("Negotiated (-want +got):\n%s", d)
	}
	if n, up := h.Negotiated(); !up || n != want {
		t.Errorf("Negotiated() = %+v, %v", n, up)
	}
	if got[0].ReceiveLimit() != 4000 {
		t.Errorf("ReceiveLimit = %d", got[0].ReceiveLimit())
	}
}

func TestNegotiatedDefaults(t *testing.T) {
	n := negotiated(Options{}, Options{})
	want := Negotiated{MRU: 1500, PeerMRU: 1500, RecvACCM: 0xffffffff, SendACCM: 0xffffffff, RecvFCS: FCS16, SendFCS: FCS16}
	if d := cmp.Diff(want, n); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	small := negotiated(Options{NegMRU: true, MRU: 576}, Options{})
	if small.MRU != 576 || small.ReceiveLimit() != DefaultMRU {
		t.Errorf("MRU %d ReceiveLimit %d; want 576 and %d (RFC 1661 section 6.1)", small.MRU, small.ReceiveLimit(), DefaultMRU)
	}
}

func TestLayerCallbacks(t *testing.T) {
	var calls []string
	h := newTest(func(c *Config) {
		c.Up = func(Negotiated) { calls = append(calls, "up") }
		c.Down = func() { calls = append(calls, "down") }
		c.Started = func() { calls = append(calls, "started") }
		c.Finished = func() { calls = append(calls, "finished") }
	})
	h.Started()
	h.Up()
	h.Down()
	h.Finished()
	if d := cmp.Diff([]string{"started", "up", "down", "finished"}, calls); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, up := h.Negotiated(); up {
		t.Error("still up after Down")
	}
	// Nil callbacks are skipped.
	h = New(Config{})
	h.Started()
	h.Up()
	h.Down()
	h.Finished()
}

func TestNaked(t *testing.T) {
	want4000 := withWant(func(w *Options) { w.MRU = 4000 })
	tests := []struct {
		name  string
		mod   func(*Config)
		nak   []byte
		rid   bool
		want  []byte // next request
		err   bool
		loops int
	}{
		{name: "MRU lowered to default", mod: want4000, nak: mru(1500), want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "MRU lowered", mod: want4000, nak: mru(2000), want: cat(mru(2000), accm(0), magic(magic1), pfc(), acfc())},
		{name: "MRU raised beyond want", mod: want4000, nak: mru(8000), want: cat(mru(4000), accm(0), magic(magic1), pfc(), acfc())},
		{name: "MRU tiny", mod: want4000, nak: mru(64), want: cat(mru(128), accm(0), magic(magic1), pfc(), acfc())},
		{name: "MRU, rejectIfDisagree", mod: want4000, nak: mru(2000), rid: true, want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "MRU hint", nak: mru(1000), want: cat(mru(1000), accm(0), magic(magic1), pfc(), acfc())},
		{name: "MRU hint above default", nak: mru(2000), want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "MRU hint, MRU not wanted", mod: withWant(func(w *Options) { w.NegMRU = false }), nak: mru(1000), want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "ACCM", nak: accm(0x000a0000), want: cat(accm(0x000a0000), magic(magic1), pfc(), acfc())},
		{name: "ACCM ORed", mod: withWant(func(w *Options) { w.ACCM = 1 }), nak: accm(0x000a0000), want: cat(accm(0x000a0001), magic(magic1), pfc(), acfc())},
		{name: "ACCM, rejectIfDisagree", nak: accm(0x000a0000), rid: true, want: cat(magic(magic1), pfc(), acfc())},
		{name: "magic", nak: magic(magic1), want: cat(accm(0), magic(magic2), pfc(), acfc()), loops: 1},
		{name: "magic, suggestion skipped", nak: magic(magic2), want: cat(accm(0), magic(magic3), pfc(), acfc()), loops: 1},
		{name: "magic, rejectIfDisagree", nak: magic(magic1), rid: true, want: cat(accm(0), magic(magic2), pfc(), acfc()), loops: 1},
		{name: "several in order", mod: want4000, nak: cat(mru(3000), accm(1), magic(9)), want: cat(mru(3000), accm(1), magic(magic2), pfc(), acfc()), loops: 1},
		{name: "FCS", mod: withWant(func(w *Options) { w.NegFCS = true }), nak: fcs(0x02), want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "auth switches to PAP", mod: withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthPAP|AuthCHAPMD5 }), nak: pap(),
			want: cat(accm(0), pap(), magic(magic1), pfc(), acfc())},
		{name: "auth PAP not acceptable", mod: withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthCHAPMD5 }), nak: pap(),
			want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "auth unknown suggestion drops CHAP for PAP", mod: withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthPAP|AuthCHAPMD5 }), nak: chap(0x81),
			want: cat(accm(0), pap(), magic(magic1), pfc(), acfc())},
		{name: "auth, rejectIfDisagree", mod: withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthPAP|AuthCHAPMD5 }), nak: pap(), rid: true,
			want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "unknown hint ignored", nak: cat(o(13, 6), o(0x7f, 1, 2, 3)), want: cat(accm(0), magic(magic1), pfc(), acfc())},
		{name: "boolean hint ignored", mod: withWant(func(w *Options) { w.NegPFC = false }), nak: pfc(), want: cat(accm(0), magic(magic1), acfc())},
		{name: "empty Nak", nak: nil, want: cat(accm(0), magic(magic1), pfc(), acfc())},

		{name: "Nak of PFC", nak: pfc(), err: true},
		{name: "Nak of ACFC", nak: cat(magic(1), acfc()), err: true},
		{name: "auth suggesting our own", mod: withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthCHAPMD5 }), nak: chap(5), err: true},
		{name: "out of order", nak: cat(magic(1), accm(1)), err: true},
		{name: "repeated", nak: cat(accm(1), accm(1)), err: true},
		{name: "repeated hint", nak: cat(o(13, 6), o(13, 6)), err: true},
		{name: "MRU wrong length", mod: want4000, nak: o(OptMRU, 1), err: true},
		{name: "ACCM wrong length", nak: o(OptACCM, 1), err: true},
		{name: "magic wrong length", nak: o(OptMagicNumber, 1, 2), err: true},
		{name: "auth too short", mod: withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthPAP }), nak: o(OptAuthProtocol, 1), err: true},
		{name: "FCS wrong length", mod: withWant(func(w *Options) { w.NegFCS = true }), nak: o(OptFCSAlternatives), err: true},
		{name: "hint MRU wrong length", nak: o(OptMRU, 1, 2, 3), err: true},
		{name: "hint auth short", nak: o(OptAuthProtocol), err: true},
		{name: "hint FCS wrong length", nak: o(OptFCSAlternatives, 1, 2), err: true},
		{name: "hint boolean with data", mod: withWant(func(w *Options) { w.NegACFC = false }), nak: o(OptACFC, 0), err: true},
		{name: "malformed", nak: cat(accm(1), []byte{5, 9, 0}), err: true},
		{name: "change then error", nak: cat(accm(1), magic(3), pfc()), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Config)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			h := newTest(mods...)
			before, beforeReq := request(h), h.req
			err := h.Naked(tt.nak, tt.rid)
			if tt.err {
				if err == nil {
					t.Fatal("Naked accepted an invalid Nak")
				}
				if h.req != beforeReq || !bytes.Equal(request(h), before) || h.nakLoops != 0 {
					t.Errorf("invalid Nak changed the request: % x -> % x", before, request(h))
				}
				return
			}
			if err != nil {
				t.Fatalf("Naked: %v", err)
			}
			if got := request(h); !bytes.Equal(got, tt.want) {
				t.Errorf("next request = % x, want % x", got, tt.want)
			}
			if h.nakLoops != tt.loops {
				t.Errorf("loops = %d, want %d", h.nakLoops, tt.loops)
			}
		})
	}
}

func TestNakedLoopback(t *testing.T) {
	h := newTest()
	for i := range DefaultLoopbackFail {
		if h.Looped() {
			t.Fatalf("Looped after %d Naks", i)
		}
		if err := h.Naked(magic(h.req.Magic), false); err != nil {
			t.Fatal(err)
		}
	}
	if !h.Looped() {
		t.Error("not Looped")
	}
}

func TestRejected(t *testing.T) {
	all := func(c *Config) {
		c.Want.MRU = 4000
		c.Want.NegAuth, c.Want.Auth = true, AuthCHAPMD5
		c.Want.NegFCS = true
	}
	full := cat(mru(4000), accm(0), chap(5), magic(magic1), pfc(), acfc(), fcs(4))
	if got := request(newTest(all)); !bytes.Equal(got, full) {
		t.Fatalf("request = % x, want % x", got, full)
	}
	tests := []struct {
		name string
		rej  []byte
		want []byte
		err  bool
	}{
		{name: "pcomp accomp", rej: cat(pfc(), acfc()), want: cat(mru(4000), accm(0), chap(5), magic(magic1), fcs(4))},
		{name: "FCS-Alternatives (pppd)", rej: fcs(4), want: cat(mru(4000), accm(0), chap(5), magic(magic1), pfc(), acfc())},
		{name: "magic", rej: magic(magic1), want: cat(mru(4000), accm(0), chap(5), pfc(), acfc(), fcs(4))},
		{name: "MRU and auth", rej: cat(mru(4000), chap(5)), want: cat(accm(0), magic(magic1), pfc(), acfc(), fcs(4))},
		{name: "everything", rej: full, want: nil},
		{name: "nothing", rej: nil, want: full},

		{name: "out of order", rej: cat(acfc(), pfc()), err: true},
		{name: "different value", rej: magic(magic2), err: true},
		{name: "different MRU", rej: mru(1500), err: true},
		{name: "not requested", rej: lqr(0), err: true},
		{name: "twice", rej: cat(pfc(), pfc()), err: true},
		{name: "malformed", rej: []byte{7}, err: true},
		{name: "valid then malformed", rej: cat(pfc(), []byte{8, 3}), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTest(all)
			err := h.Rejected(tt.rej)
			if tt.err {
				if err == nil {
					t.Fatal("Rejected accepted an invalid Reject")
				}
				if got := request(h); !bytes.Equal(got, full) {
					t.Errorf("invalid Reject changed the request to % x", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rejected: %v", err)
			}
			if got := request(h); !bytes.Equal(got, tt.want) {
				t.Errorf("next request = % x, want % x", got, tt.want)
			}
		})
	}
}

func TestAllocsCheckRequest(t *testing.T) {
	h := newTest(credentials, withAllow(func(a *Options) { a.NegFCS = true }))
	reqs := [][]byte{
		peerRequest,
		pppdRequest,
		cat(mru(100), accm(0), magic(0), pfc()),     // Nak
		cat(mru(1500), lqr(3000), pfc(), pfc()),     // Reject
		cat(chap(0x81), fcs(1), magic(h.req.Magic)), // Nak with suggestions
		cat(pap(), fcs(6)),
	}
	buf := make([]byte, 0, 256)
	for _, r := range reqs {
		h.CheckRequest(buf[:0], r, false) // warm the reply buffers
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, r := range reqs {
			h.CheckRequest(buf[:0], r, false)
			h.CheckRequest(buf[:0], r, true)
		}
	})
	if allocs != 0 {
		t.Errorf("CheckRequest allocates %v times per run, want 0", allocs)
	}
}

func TestAllocsRequest(t *testing.T) {
	h := newTest(withWant(func(w *Options) { w.NegFCS, w.MRU = true, 4000 }))
	buf := make([]byte, 0, 64)
	nak := magic(5)
	allocs := testing.AllocsPerRun(100, func() {
		h.AppendRequest(buf[:0])
		_ = h.Naked(nak, false)
		_ = h.Rejected(nil)
	})
	if allocs != 0 {
		t.Errorf("AppendRequest/Naked/Rejected allocate %v times per run", allocs)
	}
}

// A random source that only yields zero or one value still gives usable,
// distinct magic numbers.
func TestBrokenMagicSource(t *testing.T) {
	for _, src := range []func() uint32{
		func() uint32 { return 0 },
		func() uint32 { return 42 },
	} {
		h := New(func() Config { c := DefaultConfig(); c.Magic = src; return c }())
		first := h.req.Magic
		if first == 0 {
			t.Fatal("zero magic")
		}
		code, reply := h.CheckRequest(nil, magic(first), false)
		if code != ppp.CodeConfigureNak {
			t.Fatalf("code %v", code)
		}
		if v := be32(reply[2:]); v == 0 || v == first {
			t.Errorf("Nak suggests %#x (ours %#x)", v, first)
		}
		if err := h.Naked(magic(first), false); err != nil {
			t.Fatal(err)
		}
		if h.req.Magic == 0 || h.req.Magic == first {
			t.Errorf("new magic %#x after a Nak of %#x", h.req.Magic, first)
		}
	}
}

func TestDebugLogging(t *testing.T) {
	var logged bytes.Buffer
	h, a := openedHandler(t, func(c *Config) { c.Logger = newTextLogger(&logged); c.LoopbackFail = 2 })
	h.handleCode(a, packet(ppp.CodeEchoReply, 1, nil))
	h.handleCode(a, packet(ppp.CodeEchoRequest, 1, u32(magic1)))
	h.handleCode(a, packet(ppp.CodeEchoRequest, 1, u32(magic1)))
	h.handleCode(a, packet(ppp.CodeIdentification, 2, cat(u32(0), []byte("a\tb\r"))))
	for _, want := range []string{
		`level=DEBUG msg="lcp: dropped packet" code=EchoRep id=1 reason="Echo-Reply outside Opened or short"`,
		`level=DEBUG msg="lcp: possible loop-back"`,
		`level=WARN msg="lcp: serial line is looped back"`,
		`message="\"a\\tb\\r\""`,
	} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logged.String())
		}
	}
}
