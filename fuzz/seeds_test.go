package fuzz

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppssh/pppssh/internal/linecap"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
)

var update = flag.Bool("update", false, "write the seed corpora under testdata/fuzz again from real traffic")

// Captures of real traffic in the repository.
const (
	interopCapture = "../interop/testdata/pppd-2.4.9-link.txt" // our link and pppd 2.4.9, both directions
	serialCapture  = "../hdlc/testdata/pppd-2.4.9-tx.raw"      // what pppd 2.4.9 wrote on a serial line
)

// corpusFile returns a file of Go's fuzz corpus format holding values.
func corpusFile(values ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		default:
			panic(fmt.Sprintf("corpusFile: %T", v))
		}
	}
	return b.Bytes()
}

// scriptWriter builds a FuzzLinkStream script.
type scriptWriter struct{ b []byte }

// raw appends operations that write p as it is.
func (w *scriptWriter) raw(p []byte) {
	for len(p) > 0 {
		n := min(len(p), 256)
		w.b = append(w.b, 0, byte(n-1))
		w.b = append(w.b, p[:n]...)
		p = p[n:]
	}
}

// pause appends operations that let d pass, in steps of 100 ms.
func (w *scriptWriter) pause(d time.Duration) {
	for n := int(d / (100 * time.Millisecond)); n > 0; n -= 255 {
		w.b = append(w.b, 7, byte(min(n, 255)))
	}
}

// write is one write to a stream, and when it happened.
type write struct {
	at time.Time
	b  []byte
}

// tap records the writes of one end of a stream.
type tap struct {
	net.Conn
	mu     sync.Mutex
	writes []write
}

func (t *tap) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.writes = append(t.writes, write{at: time.Now(), b: bytes.Clone(b)})
	t.mu.Unlock()
	return t.Conn.Write(b)
}

// peerTraffic is one recorded conversation of two links, A the link
// configured as FuzzLinkStream configures it, B a pppssh peer.
type peerTraffic struct {
	start  time.Time
	fromA  []write
	fromB  []write
	ipcpUp bool // both ends reached IPCP Opened
}

// recordLinks runs a link configured by FuzzLinkStream's two setup octets
// against a peer link with peerCfg, lets B send an IP packet of n octets
// once IPCP is up, keeps the link up for hold, closes B, and returns what
// each end wrote.
func recordLinks(t *testing.T, flags, counters byte, peerCfg link.Config, n int, hold time.Duration) peerTraffic {
	var tr peerTraffic
	synctest.Test(t, func(t *testing.T) {
		ca, cb := net.Pipe()
		ta, tb := &tap{Conn: ca}, &tap{Conn: cb}
		a := link.New(ta, newLinkSetup(flags, counters).cfg)
		up := make(chan struct{})
		var once sync.Once
		peerCfg.Events = func(ev link.Event) {
			if ev.Kind == link.EventIPCPUp {
				once.Do(func() { close(up) })
			}
		}
		b := link.New(tb, peerCfg)
		tr.start = time.Now()
		doneA, doneB := make(chan error, 1), make(chan error, 1)
		go func() { doneA <- a.Run(context.Background()) }()
		go func() { doneB <- b.Run(context.Background()) }()
		select {
		case <-up:
		case <-time.After(time.Minute):
			t.Fatal("the links did not come up")
		}
		synctest.Wait()
		tr.ipcpUp = a.Status().IPCPState == ppp.StateOpened
		pkt := make([]byte, n)
		for i := range pkt {
			pkt[i] = byte(i)
		}
		pkt[0] = 0x45
		if err := b.WritePacket(ppp.ProtoIPv4, pkt); err != nil {
			t.Fatal(err)
		}
		time.Sleep(hold)
		b.Close()
		<-doneB
		<-doneA
		tr.fromA, tr.fromB = ta.writes, tb.writes
	})
	return tr
}

// script returns B's side of the conversation as a FuzzLinkStream script
// for the link A was: its writes, with the time between them.
func (tr peerTraffic) script(flags, counters byte) []byte {
	w := scriptWriter{b: []byte{flags, counters}}
	last := tr.start
	for _, wr := range tr.fromB {
		w.pause(wr.at.Sub(last))
		last = wr.at
		w.raw(wr.b)
	}
	return w.b
}

// peerConfig is the configuration of the pppssh peer of the recordings:
// pppssh's defaults, FCS-32 offered if fcs32, the addresses theirAddr and
// ourAddr, keep-alives if echo.
func peerConfig(fcs32, echo bool, mru uint16) link.Config {
	lc := lcp.DefaultConfig()
	lc.Magic = magicSource(0x1305b050)
	if fcs32 {
		lc.Want.NegFCS, lc.Want.FCS = true, lcp.FCS32
		lc.Allow.NegFCS, lc.Allow.FCS = true, lcp.FCS16|lcp.FCS32
	}
	if echo {
		lc.EchoInterval, lc.EchoFailure = 3*time.Second, 4
	}
	if mru != 0 {
		lc.Want.MRU = mru
	}
	return link.Config{LCP: &lc, IPCP: ipcp.Config{Local: theirAddr, Remote: ourAddr}}
}

func readInterop(t *testing.T) []linecap.Record {
	t.Helper()
	recs, err := linecap.Read(interopCapture)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// linkStreamSeed is a FuzzLinkStream seed and whether it brings IPCP up.
type linkStreamSeed struct {
	script []byte
	opens  bool
}

// linkStreamSeeds returns the FuzzLinkStream seeds, recorded now, and the
// recordings, for the per-package seeds.
func linkStreamSeeds(t *testing.T) (map[string]linkStreamSeed, []peerTraffic) {
	seeds := map[string]linkStreamSeed{}
	var traffic []peerTraffic
	for _, tc := range []struct {
		name            string
		flags, counters byte
		peer            link.Config
		n               int
		hold            time.Duration
	}{
		{"pppssh-fcs32", lsFCS32 | lsAddresses, 0, peerConfig(true, false, 0), 1500, time.Second},
		{"pppssh-fcs16-echo", lsEcho | lsAddresses, 0, peerConfig(false, true, 0), 300, 20 * time.Second},
		{"pppssh-small-mru", lsFCS32 | lsSmallMRU | lsACCM, 0, peerConfig(true, false, 296), 296, time.Second},
		{"pppssh-fast-restart", lsFCS32 | lsAddresses, 0x80 | 3, peerConfig(true, true, 0), 40, 10 * time.Second},
	} {
		tr := recordLinks(t, tc.flags, tc.counters, tc.peer, tc.n, tc.hold)
		if !tr.ipcpUp {
			t.Fatalf("%s: the recording did not bring IPCP up", tc.name)
		}
		traffic = append(traffic, tr)
		seeds[tc.name] = linkStreamSeed{script: tr.script(tc.flags, tc.counters), opens: true}
	}

	// pppd 2.4.9 and our link (zero configuration, no FCS-32): pppd's side,
	// write by write. Our link then drew captureMagic, as ours do here, so
	// pppd's Configure-Ack matches.
	w := scriptWriter{b: []byte{0, 0}}
	for _, r := range readInterop(t) {
		if !r.TX {
			w.raw(r.Data)
		}
	}
	seeds["pppd-2.4.9-link"] = linkStreamSeed{script: w.b, opens: true}

	// pppd 2.4.9 on a serial line: another link's negotiation, which ours
	// cannot complete, but real octets.
	raw, err := os.ReadFile(serialCapture)
	if err != nil {
		t.Fatal(err)
	}
	w = scriptWriter{b: []byte{0, 0}}
	w.raw(raw)
	seeds["pppd-2.4.9-serial"] = linkStreamSeed{script: w.b}
	return seeds, traffic
}

// Opcodes of FuzzEnginePair scripts (op>>1, the low bit the direction).
const (
	epPass = iota
	epFlip
	epDrop
	epDup
	epHold
	epRelease
	epTruncate
	epPause
	epInject
	epPassAll
	epNoise
	epSplit
)

// pairWriter builds a FuzzEnginePair script.
type pairWriter struct{ b []byte }

// op appends an operation on direction dir (0 A to B, 1 B to A).
func (w *pairWriter) op(code, dir int, operands ...byte) {
	w.b = append(w.b, byte(code<<1|dir))
	w.b = append(w.b, operands...)
}

// recordOrder runs two engines configured as FuzzEnginePair configures
// them with flags, joined by a plain wire, and returns the direction of
// each frame in the order they were written, until both are up and have
// carried a packet each way.
func recordOrder(t *testing.T, flags byte) []int {
	var order []int
	synctest.Test(t, func(t *testing.T) {
		// Pass every frame as soon as it is written, recording its
		// direction.
		r := startPair(t, flags)
		for range 40 {
			synctest.Wait()
			moved := false
			for dir, d := range []*direction{r.ab, r.ba} {
				if f := d.next(); f != nil {
					order = append(order, dir)
					d.deliver(f)
					moved = true
				}
			}
			if !moved {
				break
			}
		}
		r.heal()
		r.converge()
		r.close()
		r.wg.Wait()
	})
	return order
}

// enginePairSeeds returns the FuzzEnginePair seeds: the frame order of two
// engines talking, replayed with the middle passing, losing, duplicating,
// reordering, damaging and cutting frames, and packets both ways.
func enginePairSeeds(t *testing.T) map[string][]byte {
	seeds := map[string][]byte{}
	for _, tc := range []struct {
		name  string
		flags byte
	}{
		{"pppssh-pair", 0},
		{"pppssh-pair-echo-fast", epEcho | epFast},
		{"pppssh-pair-b-open-small-mru", epBOpen | epSmallMRU},
	} {
		order := recordOrder(t, tc.flags)
		var w pairWriter
		w.b = []byte{tc.flags}
		for _, dir := range order {
			w.op(epPass, dir)
		}
		up := bytes.Clone(w.b)
		w.op(epInject, 0, 100)
		w.op(epInject, 1, 255)
		w.op(epPassAll, 0)
		w.op(epPassAll, 1)
		w.op(epPause, 0, 40)
		seeds[tc.name] = w.b

		if tc.flags != 0 {
			continue
		}
		// The same conversation, damaged.
		mutate := func(name string, ops func(w *pairWriter)) {
			w := pairWriter{b: bytes.Clone(up)}
			ops(&w)
			seeds[name] = w.b
		}
		mutate("pppssh-pair-damaged-data", func(w *pairWriter) {
			w.op(epInject, 0, 200)
			w.op(epInject, 0, 201)
			w.op(epInject, 1, 202)
			w.op(epInject, 1, 203)
			w.op(epFlip, 0, 0x01, 0x23)
			w.op(epTruncate, 0, 77)
			w.op(epDup, 1)
			w.op(epHold, 1)
			w.op(epPause, 0, 10)
			w.op(epRelease, 1)
			w.op(epPassAll, 0)
			w.op(epPassAll, 1)
		})
		mutate("pppssh-pair-renegotiate", func(w *pairWriter) {
			w.op(epInject, 1, 30)
			w.op(epPassAll, 1)
			w.op(epNoise, 0, 3, 0x7e, 0xc0, 0x21, 0x7e)
			w.op(epPause, 0, 200)
			w.op(epPassAll, 0)
			w.op(epDrop, 1)
			w.op(epPause, 1, 100)
			w.op(epSplit, 1, 5)
			w.op(epPassAll, 1)
		})
	}
	// The first request lost, duplicated and reordered on the way.
	var w pairWriter
	w.b = []byte{epFast}
	w.op(epDrop, 0)
	w.op(epDup, 1)
	w.op(epPause, 0, 30)
	w.op(epHold, 0)
	w.op(epPassAll, 1)
	w.op(epRelease, 0)
	for range 6 {
		w.op(epPassAll, 0)
		w.op(epPassAll, 1)
	}
	w.op(epInject, 0, 64)
	w.op(epPassAll, 0)
	seeds["pppssh-pair-lossy-start"] = w.b
	return seeds
}

// seedDir is where the corpus of a fuzz target of a package lives.
func seedDir(pkg, target string) string {
	return filepath.Join(pkg, "testdata", "fuzz", target)
}

// writeSeeds writes files (name to contents) under dir, removing the
// seeds of earlier runs whose names start with one of prefixes, and no
// other file (crashers stay).
func writeSeeds(t *testing.T, dir string, files map[string][]byte, prefixes ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadDir(dir)
	for _, e := range old {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Name(), p) {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSeeds checks the seed corpora: the FuzzLinkStream seeds recorded from
// real traffic still bring the link up when replayed, and the
// FuzzEnginePair seeds still carry packets during their script, so that the
// fuzzer starts from open links. With -update it records the traffic again and
// writes the seeds of the targets of this package and the real-traffic
// seeds of the per-package targets.
func TestSeeds(t *testing.T) {
	seeds, traffic := linkStreamSeeds(t)
	pair := enginePairSeeds(t)
	if *update {
		files := map[string][]byte{}
		for name, s := range seeds {
			files[name] = corpusFile(s.script)
		}
		writeSeeds(t, seedDir(".", "FuzzLinkStream"), files, "pppssh-", "pppd-")
		files = map[string][]byte{}
		for name, s := range pair {
			files[name] = corpusFile(s)
		}
		writeSeeds(t, seedDir(".", "FuzzEnginePair"), files, "pppssh-")
		writePackageSeeds(t, traffic)
		return
	}
	for name, s := range seeds {
		t.Run("FuzzLinkStream/"+name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(seedDir(".", "FuzzLinkStream"), name))
			if err != nil {
				t.Fatalf("%v (go test ./fuzz -run TestSeeds -update writes the seeds)", err)
			}
			if !bytes.Equal(b, corpusFile(s.script)) {
				t.Log("the seed differs from a new recording (the link's traffic changed; go test ./fuzz -run TestSeeds -update records it again)")
			}
			var opened bool
			synctest.Test(t, func(t *testing.T) { opened = runLinkStream(t, s.script).c.opened })
			if s.opens && !opened {
				t.Error("the seed no longer brings IPCP up")
			}
		})
	}
	for name, s := range pair {
		t.Run("FuzzEnginePair/"+name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(seedDir(".", "FuzzEnginePair"), name))
			if err != nil {
				t.Fatalf("%v (go test ./fuzz -run TestSeeds -update writes the seeds)", err)
			}
			if !bytes.Equal(b, corpusFile(s)) {
				t.Log("the seed differs from a new recording (the engines' traffic changed; go test ./fuzz -run TestSeeds -update records it again)")
			}
			var delivered int
			synctest.Test(t, func(t *testing.T) { delivered = runPair(t, s).scripted })
			if delivered == 0 {
				t.Error("the seed no longer carries packets before the middle stops interfering")
			}
		})
	}
}

// decodedFrame is a frame of recorded traffic: its protocol and
// information field, and the raw octets of the write it came in.
type decodedFrame struct {
	proto ppp.Protocol
	info  []byte
}

// decodeWrites decodes the frames of a direction's writes, with whichever
// FCS checks.
func decodeWrites(writes []write) []decodedFrame {
	var sp frameSplitter
	var out []decodedFrame
	for _, w := range writes {
		for _, f := range sp.write(w.b) {
			body := f.body
			switch {
			case goodFCS(body, 32):
				body = body[:len(body)-4]
			case goodFCS(body, 16):
				body = body[:len(body)-2]
			default:
				continue
			}
			proto, info, err := ppp.ParseHeader(body)
			if err == nil {
				out = append(out, decodedFrame{proto: proto, info: info})
			}
		}
	}
	return out
}

// writePackageSeeds writes real-traffic seeds for the fuzz targets beside
// the decoders: the octets two pppssh links exchanged, their frames, control
// packets and options.
func writePackageSeeds(t *testing.T, traffic []peerTraffic) {
	tr := traffic[0] // FCS-32, addresses on both ends
	var stream []byte
	for _, w := range tr.fromB {
		stream = append(stream, w.b...)
	}
	writeSeeds(t, seedDir("../link", "FuzzLink"), map[string][]byte{
		"pppssh-peer":        corpusFile(stream, uint8(0)),
		"pppssh-peer-chunks": corpusFile(stream, uint8(13)),
	}, "pppssh-")
	writeSeeds(t, seedDir("../hdlc", "FuzzDecoder"), map[string][]byte{
		"pppssh-peer-fcs32": corpusFile(stream, uint32(0), true, uint16(1504), uint8(0)),
		"pppssh-peer-fcs16": corpusFile(stream, uint32(0xffffffff), false, uint16(1504), uint8(61)),
	}, "pppssh-")

	// One seed per kind of frame (protocol and code, or the protocol of a
	// data frame), the first of its kind, and every distinct request.
	packets, headers, opts := map[string][]byte{}, map[string][]byte{}, map[string][]byte{}
	lcpReqs, ipcpReqs, ipcpNaks := map[string][]byte{}, map[string][]byte{}, map[string][]byte{}
	seen := map[string]bool{}
	for i, tr := range traffic {
		for _, writes := range [][]write{tr.fromA, tr.fromB} {
			for _, f := range decodeWrites(writes) {
				kind := strings.ToLower(f.proto.String())
				var pkt ppp.Packet
				if f.proto.IsControl() {
					var err error
					if pkt, err = ppp.ParsePacket(f.info); err != nil {
						continue
					}
					kind += "-" + strings.ToLower(pkt.Code().String())
				}
				name := "pppssh-" + kind
				if pkt != nil && pkt.Code() == ppp.CodeConfigureRequest {
					name = fmt.Sprintf("pppssh-%d-%s", i, kind)
				}
				if seen[name] {
					continue
				}
				seen[name] = true
				hdr := ppp.AppendHeader(nil, f.proto, true, true)
				headers[name] = corpusFile(append(hdr, f.info[:min(len(f.info), 8)]...))
				if pkt == nil {
					continue
				}
				packets[name] = corpusFile([]byte(pkt))
				if pkt.Code() > ppp.CodeConfigureReject {
					continue
				}
				opts[name] = corpusFile(pkt.Data())
				switch {
				case f.proto == ppp.ProtoLCP && pkt.Code() == ppp.CodeConfigureRequest:
					lcpReqs[name] = corpusFile(pkt.Data(), uint16(1<<8)) // fzFCS: FCS-32 allowed
				case f.proto == ppp.ProtoIPCP && pkt.Code() == ppp.CodeConfigureRequest:
					ipcpReqs[name] = corpusFile(pkt.Data(), byte(2)) // the HOWTO's configuration
				case f.proto == ppp.ProtoIPCP && pkt.Code() == ppp.CodeConfigureNak:
					ipcpNaks[name] = corpusFile(pkt.Data(), byte(0))
				}
			}
		}
	}
	writeSeeds(t, seedDir("../ppp", "FuzzParsePacket"), dedup(packets), "pppssh-")
	writeSeeds(t, seedDir("../ppp", "FuzzParseHeader"), dedup(headers), "pppssh-")
	writeSeeds(t, seedDir("../ppp", "FuzzOptions"), dedup(opts), "pppssh-")
	writeSeeds(t, seedDir("../lcp", "FuzzCheckRequest"), dedup(lcpReqs), "pppssh-")
	writeSeeds(t, seedDir("../ipcp", "FuzzCheckRequest"), dedup(ipcpReqs), "pppssh-")
	writeSeeds(t, seedDir("../ipcp", "FuzzNaked"), dedup(ipcpNaks), "pppssh-")
}

// dedup keeps one file of each content, the one with the first name.
func dedup(files map[string][]byte) map[string][]byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	out := map[string][]byte{}
	for _, n := range names {
		if !seen[string(files[n])] {
			seen[string(files[n])] = true
			out[n] = files[n]
		}
	}
	return out
}
