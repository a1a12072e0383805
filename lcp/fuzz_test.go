package lcp

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// Flags of FuzzCheckRequest, each changing the configuration.
const (
	fzRejectIfDisagree = 1 << iota
	fzNoMRU
	fzNoACCM
	fzCredentials
	fzNoAllowMagic
	fzNoWantMagic
	fzNoPFC
	fzNoACFC
	fzFCS
	fzSmallMRU
	fzEscape
	fzPAPOnly
)

func fuzzConfig(flags uint16) Config {
	c := testConfig()
	a := &c.Allow
	a.NegMRU = flags&fzNoMRU == 0
	a.NegACCM = flags&fzNoACCM == 0
	if flags&fzCredentials != 0 {
		a.NegAuth, a.Auth = true, AuthPAP|AuthCHAPMD5
		if flags&fzPAPOnly != 0 {
			a.Auth = AuthPAP
		}
	}
	a.NegMagic = flags&fzNoAllowMagic == 0
	c.Want.NegMagic = flags&fzNoWantMagic == 0
	a.NegPFC = flags&fzNoPFC == 0
	a.NegACFC = flags&fzNoACFC == 0
	a.NegFCS = flags&fzFCS != 0
	if flags&fzSmallMRU != 0 {
		a.MRU = 576
	}
	if flags&fzEscape != 0 {
		a.ACCM = 0x000a0000
	}
	return c
}

// options splits well-formed options into their encodings.
func options(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 && int(b[1]) >= 2 && int(b[1]) <= len(b) {
		out = append(out, b[:b[1]])
		b = b[b[1]:]
	}
	return out
}

// subsequence reports whether every option of sub appears in full, verbatim
// and in the same order.
func subsequence(sub, full [][]byte) bool {
	i := 0
	for _, s := range sub {
		for i < len(full) && !bytes.Equal(full[i], s) {
			i++
		}
		if i == len(full) {
			return false
		}
		i++
	}
	return true
}

// FuzzCheckRequest checks that any request gets a well-formed reply that
// follows RFC 1661 section 5: an Ack repeats the request; a Reject lists
// options of the request verbatim and in order; a Nak names only options
// the request carried (pppssh never adds unsolicited ones) and, once
// Max-Failure is reached, only the magic number; a malformed request is
// never acknowledged; the values acknowledged, written out again with
// Options.Append, are acknowledged again as the same.
func FuzzCheckRequest(f *testing.F) {
	f.Add(pppdRequest, uint16(0))
	f.Add(peerRequest, uint16(fzRejectIfDisagree))
	f.Add(cat(mru(100), accm(1), chap(0x81), lqr(0), magic(0), pfc(), acfc(), fcs(1)), uint16(fzCredentials|fzFCS|fzEscape))
	f.Add(cat(mru(1500), mru(1500), magic(magic1)), uint16(fzPAPOnly|fzCredentials))
	f.Add([]byte{1, 0, 1}, uint16(0))
	f.Fuzz(func(t *testing.T, opts []byte, flags uint16) {
		h := New(fuzzConfig(flags))
		ourMagic := h.req.Magic
		rid := flags&fzRejectIfDisagree != 0
		prefix := []byte{0xfe}
		code, out := h.CheckRequest(bytes.Clone(prefix), opts, rid)
		if !bytes.HasPrefix(out, prefix) {
			t.Fatalf("reply lost its prefix: % x", out)
		}
		body := out[len(prefix):]
		if err := ppp.CheckOptions(body); err != nil {
			t.Fatalf("%v reply % x is malformed", code, body)
		}
		if h.req.Magic != ourMagic {
			t.Fatal("CheckRequest changed our magic number")
		}
		wellFormed := ppp.CheckOptions(opts) == nil
		got, req := options(body), options(opts)
		switch code {
		case ppp.CodeConfigureAck:
			if !wellFormed || !bytes.Equal(body, opts) {
				t.Fatalf("Ack % x of request % x", body, opts)
			}
			seen := map[byte]bool{}
			for _, o := range req {
				if seen[o[0]] {
					t.Fatalf("acknowledged a repeated option %d", o[0])
				}
				seen[o[0]] = true
			}
			// Decode, encode, decode: the values acknowledged, written
			// out as a request, are acknowledged again as the same.
			his := h.his
			enc := his.Append(nil)
			h2 := New(fuzzConfig(flags))
			if code2, out2 := h2.CheckRequest(nil, enc, rid); code2 != ppp.CodeConfigureAck || normalized(h2.his) != normalized(his) {
				t.Fatalf("acknowledged % x as %+v; written out again % x, it gets %v % x and %+v", opts, his, enc, code2, out2, h2.his)
			}
		case ppp.CodeConfigureReject:
			if len(body) == 0 {
				t.Fatal("empty Reject")
			}
			if wellFormed && !subsequence(got, req) {
				t.Fatalf("Reject % x is not a subsequence of % x", body, opts)
			}
		case ppp.CodeConfigureNak:
			if !wellFormed || len(body) == 0 {
				t.Fatalf("Nak % x of request % x", body, opts)
			}
			types := map[byte]bool{}
			for _, o := range req {
				types[o[0]] = true
			}
			for _, o := range got {
				if !types[o[0]] {
					t.Fatalf("Nak adds option %d absent from % x", o[0], opts)
				}
				if rid && o[0] != OptMagicNumber {
					t.Fatalf("Nak of option %d despite rejectIfDisagree", o[0])
				}
				switch o[0] {
				case OptMagicNumber:
					if v := be32(o[2:]); v == 0 || v == ourMagic {
						t.Fatalf("Nak suggests magic %#x", v)
					}
				case OptMRU:
					if v := be16(o[2:]); v < MinMRU {
						t.Fatalf("Nak suggests MRU %d", v)
					}
				}
			}
		default:
			t.Fatalf("code %v", code)
		}
	})
}

// normalized returns o with the values of options that are not negotiated
// zeroed, and an MRU of DefaultMRU not negotiated, which Append leaves out.
func normalized(o Options) Options {
	if o.NegMRU && o.MRU == DefaultMRU {
		o.NegMRU = false
	}
	if !o.NegMRU {
		o.MRU = 0
	}
	if !o.NegACCM {
		o.ACCM = 0
	}
	if !o.NegAuth {
		o.Auth = 0
	}
	if !o.NegMagic {
		o.Magic = 0
	}
	if !o.NegFCS {
		o.FCS = 0
	}
	return o
}

// wantConfig builds a configuration for FuzzNaked and FuzzRejected.
func wantConfig(flags uint8) Config {
	c := testConfig()
	w := &c.Want
	if flags&1 != 0 {
		w.MRU = 4000
	}
	if flags&2 != 0 {
		w.NegAuth, w.Auth = true, AuthPAP|AuthCHAPMD5
	}
	if flags&4 != 0 {
		w.NegFCS = true
	}
	w.NegACCM = flags&8 == 0
	w.NegMagic = flags&16 == 0
	w.NegPFC = flags&32 == 0
	if flags&64 != 0 {
		w.NegMRU = false
	}
	return c
}

// checkRequestShape fails unless b is a request pppssh may send: well
// formed, types strictly increasing, sane values.
func checkRequestShape(t *testing.T, b []byte, want Options) {
	t.Helper()
	if err := ppp.CheckOptions(b); err != nil {
		t.Fatalf("request % x is malformed", b)
	}
	last := -1
	for _, o := range options(b) {
		if int(o[0]) <= last {
			t.Fatalf("request % x: option %d out of order or repeated", b, o[0])
		}
		last = int(o[0])
		switch o[0] {
		case OptMRU:
			if v := be16(o[2:]); v < MinMRU || !want.NegMRU {
				t.Fatalf("request % x: MRU %d", b, v)
			}
		case OptMagicNumber:
			if be32(o[2:]) == 0 {
				t.Fatalf("request % x: zero magic", b)
			}
		case OptAuthProtocol:
			if !want.NegAuth {
				t.Fatalf("request % x: unwanted authentication", b)
			}
		}
	}
}

// FuzzNaked checks that a Nak is either refused without any change, or
// yields a request pppssh may send.
func FuzzNaked(f *testing.F) {
	f.Add(pppdRequest, false, uint8(0))
	f.Add(magic(0x1305b050), true, uint8(0))
	f.Add(cat(mru(1500), accm(0x000a0000), pap(), magic(0x1305b050), fcs(2)), false, uint8(1|2|4))
	f.Fuzz(func(t *testing.T, opts []byte, rid bool, flags uint8) {
		cfg := wantConfig(flags)
		h := New(cfg)
		before, beforeReq, loops := request(h), h.req, h.nakLoops
		if err := h.Naked(opts, rid); err != nil {
			if h.req != beforeReq || h.nakLoops != loops || !bytes.Equal(request(h), before) {
				t.Fatalf("refused Nak % x changed the request % x -> % x", opts, before, request(h))
			}
			return
		}
		after := request(h)
		checkRequestShape(t, after, h.want)
		if h.req.NegMagic && h.nakLoops > loops && h.req.Magic == beforeReq.Magic {
			t.Fatal("magic Nak'd but not changed")
		}
	})
}

// FuzzRejected checks that a Reject is either refused without any change,
// or removes exactly the options rejected.
func FuzzRejected(f *testing.F) {
	f.Add(cat(pfc(), acfc()), uint8(0))
	f.Add(pppdRequest, uint8(0))
	f.Add(cat(accm(0), fcs(4)), uint8(4))
	f.Fuzz(func(t *testing.T, opts []byte, flags uint8) {
		h := New(wantConfig(flags))
		before, beforeReq := request(h), h.req
		if err := h.Rejected(opts); err != nil {
			if h.req != beforeReq || !bytes.Equal(request(h), before) {
				t.Fatalf("refused Reject % x changed the request", opts)
			}
			return
		}
		after := request(h)
		checkRequestShape(t, after, h.want)
		old, rej, now := options(before), options(opts), options(after)
		if !subsequence(rej, old) || !subsequence(now, old) || len(now)+len(rej) != len(old) {
			t.Fatalf("request % x, Reject % x, next request % x", before, opts, after)
		}
		for _, r := range rej {
			for _, n := range now {
				if r[0] == n[0] {
					t.Fatalf("option %d still requested after its Reject", r[0])
				}
			}
		}
	})
}
