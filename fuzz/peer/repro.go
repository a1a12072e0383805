package peer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ppp"
)

// A Repro reproduces a finding: steps replayed in order on a fresh line
// to the peer. Fuzzer.Replay replays one; WriteFiles and ReadRepro keep
// one on disk.
type Repro struct {
	Steps []ReproStep
}

// A ReproStep is one step of a Repro: either a negotiation of LCP to the
// Opened state, which a replay carries out afresh (the peer's options and
// Magic-Number differ from run to run), or octets written to the line.
type ReproStep struct {
	// Negotiate, when set, makes the step a negotiation: our
	// Configure-Request with Options, the peer's Configure-Request
	// acknowledged, and an Echo-Request answered.
	Negotiate bool
	Options   []byte
	// Raw is written to the line as it is when Negotiate is not set:
	// flags, escapes and FCS included.
	Raw []byte
	// Frame is the frame inside Raw (address, control, protocol and
	// information fields) when Raw is that frame in plain framing (every
	// control character escaped, FCS-16); nil when Raw's framing is
	// itself malformed.
	Frame []byte
	// What says how the fuzzer made the octets.
	What string
}

// reproMaxRecord caps the octets a line's record of what was sent keeps, and
// so the largest reproducer; the fuzzer moves to a fresh line once a
// quarter of it is used.
const reproMaxRecord = 4 << 20

// Bytes returns the octets the Repro writes to the line, in order: the
// content of its .raw file.
func (r Repro) Bytes() []byte {
	var b []byte
	for _, s := range r.Steps {
		b = append(b, s.Raw...)
	}
	return b
}

// Frames returns how many frames and negotiations the Repro has.
func (r Repro) Frames() (frames, negotiations int) {
	for _, s := range r.Steps {
		if s.Negotiate {
			negotiations++
		} else {
			frames++
		}
	}
	return frames, negotiations
}

// Summary describes the Repro's size: "1 frame, 14 octets, with an LCP
// negotiation".
func (r Repro) Summary() string {
	frames, negs := r.Frames()
	s := fmt.Sprintf("%d frame%s, %d octets", frames, reproPlural(frames), len(r.Bytes()))
	switch negs {
	case 0:
	case 1:
		s += ", with an LCP negotiation"
	default:
		s += fmt.Sprintf(", with %d LCP negotiations", negs)
	}
	return s
}

func reproPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// text describes the step as pppd's debug log would show its frame.
func (s ReproStep) text() string {
	if s.Negotiate {
		return "LCP negotiation to Opened, our Configure-Request " + fuzzText(mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 1, s.Options))
	}
	if s.Frame != nil {
		return fuzzText(s.Frame)
	}
	var frames []string
	d := hdlc.NewDecoder(bytes.NewReader(s.Raw))
	d.SetFCS(hdlc.FCSEither)
	d.SetMaxFrame(len(s.Raw) + 8)
	for {
		frame, err := d.ReadFrame()
		if err != nil {
			break
		}
		frames = append(frames, fuzzText(frame))
	}
	what := s.What
	if what == "" {
		what = "raw octets"
	}
	t := fmt.Sprintf("%d octets (%s)", len(s.Raw), what)
	if len(frames) > 0 {
		t += " holding " + strings.Join(frames, " ")
	}
	return t
}

// fuzzText returns a frame (address, control, protocol and information
// fields) as pppd's debug log shows it, with the authentication
// protocols' codes named.
func fuzzText(frame []byte) string {
	proto, info, err := ppp.ParseHeader(frame)
	switch {
	case err != nil:
		return fmt.Sprintf("[bad header: % x]", frame[:min(len(frame), 8)])
	case !proto.IsControl():
		return fmt.Sprintf("[%v data, %d octets]", proto, len(info))
	}
	pkt, err := ppp.ParsePacket(info)
	var names []string
	switch proto {
	case ppp.ProtoPAP:
		names = []string{1: "AuthReq", 2: "AuthAck", 3: "AuthNak"}
	case ppp.ProtoCHAP:
		names = []string{1: "Challenge", 2: "Response", 3: "Success", 4: "Failure"}
	case ppp.ProtoEAP:
		names = []string{1: "Request", 2: "Response", 3: "Success", 4: "Failure"}
	}
	if names == nil || err != nil {
		t := string(ppp.AppendPacketText(nil, proto, info, Formatter(proto)))
		if err != nil && len(info) >= 4 {
			t += fmt.Sprintf(" (Length %d, %d octets)", binary.BigEndian.Uint16(info[2:]), len(info))
		}
		return t
	}
	code := fmt.Sprintf("code=0x%x", byte(pkt.Code()))
	if c := int(pkt.Code()); c < len(names) && names[c] != "" {
		code = names[c]
	}
	b := fmt.Appendf(nil, "[%v %s id=0x%x", proto, code, pkt.ID())
	data := pkt.Data()
	b = ppp.AppendHex(b, data[:min(len(data), 32)])
	if len(data) > 32 {
		b = fmt.Appendf(b, " … (%d octets)", len(data))
	}
	return string(append(b, ']'))
}

// replay runs steps on a fresh line and judges the peer after them.
func (f *Fuzzer) replay(ctx context.Context, steps []ReproStep) (fuzzVerdict, error) {
	s, err := f.openSession(ctx, fuzzRand(f.Seed, 2<<32), nil, false)
	if err != nil {
		return fuzzVerdict{}, err
	}
	defer s.close()
	for _, st := range steps {
		if st.Negotiate {
			s.opts = mutClone(st.Options)
			answered, err := s.negotiate(ctx)
			switch {
			case err == errFuzzLineEnded:
				v := s.death(ctx)
				v.stderr = s.stderrTail()
				return v, nil
			case ctx.Err() != nil:
				return fuzzVerdict{ended: "interrupted"}, ctx.Err()
			case !answered:
				v := s.silence(ctx, fmt.Sprintf("stopped answering: no reply to a Configure-Request within %v, the line still open", f.timeout()))
				v.stderr = s.stderrTail()
				return v, nil
			}
			continue
		}
		if err := s.send(ctx, st); err != nil {
			if ctx.Err() != nil {
				return fuzzVerdict{ended: "interrupted"}, ctx.Err()
			}
			break
		}
		s.drain(ctx)
	}
	v := s.verdict(ctx)
	v.stderr = s.stderrTail()
	if ctx.Err() != nil {
		return v, ctx.Err()
	}
	return v, nil
}

// reproMinimizer shrinks a reproducer by replaying candidates on fresh lines
// within a budget of replays and time.
type reproMinimizer struct {
	f        *Fuzzer
	kind     FindingKind
	runs     int // replays left
	deadline time.Time
	replays  int // replays done
	err      error
	// replay replaces Fuzzer.replay, for tests.
	replay func(context.Context, []ReproStep) (fuzzVerdict, error)
}

// test replays steps and reports whether they bring the same kind of
// finding.
func (m *reproMinimizer) test(ctx context.Context, steps []ReproStep) bool {
	if m.exhausted() || len(steps) == 0 {
		return false
	}
	m.runs--
	m.replays++
	rctx, cancel := context.WithDeadline(ctx, m.deadline.Add(2*m.f.timeout()+10*time.Second))
	defer cancel()
	replay := m.f.replay
	if m.replay != nil {
		replay = m.replay
	}
	v, err := replay(rctx, steps)
	if err != nil {
		if ctx.Err() == nil && rctx.Err() == nil {
			m.err = err
		}
		return false
	}
	m.f.logger().Debug("replay", "steps", len(steps), "verdict", v.kind.String(), "message", v.message)
	if v.kind != m.kind {
		return false
	}
	if m.kind == PeerSilent {
		// Silence is judged by a timeout, which a busy host can miss
		// once: a smaller candidate counts only if a second replay is
		// silent too.
		m.replays++
		v, err = replay(rctx, steps)
		if err != nil {
			if ctx.Err() == nil && rctx.Err() == nil {
				m.err = err
			}
			return false
		}
		m.f.logger().Debug("replay (confirming silence)", "steps", len(steps), "verdict", v.kind.String(), "message", v.message)
	}
	return v.kind == m.kind
}

func (m *reproMinimizer) exhausted() bool {
	return m.runs <= 0 || m.err != nil || !time.Now().Before(m.deadline)
}

// ddmin is Zeller's delta debugging over steps: it removes sets of
// steps, halving their size, as long as what remains still brings the
// finding. test(steps) must be true on entry.
func (m *reproMinimizer) ddmin(ctx context.Context, steps []ReproStep) []ReproStep {
	n := 2
	for len(steps) >= 2 && !m.exhausted() && ctx.Err() == nil {
		chunks := reproSplit(steps, n)
		reduced := false
		for _, c := range chunks {
			if m.test(ctx, c) {
				steps, n, reduced = c, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				rest := reproComplement(chunks, i)
				if m.test(ctx, rest) {
					steps, n, reduced = rest, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(steps) {
				break
			}
			n = min(2*n, len(steps))
		}
	}
	return steps
}

func reproSplit(steps []ReproStep, n int) [][]ReproStep {
	var out [][]ReproStep
	for i := range n {
		lo, hi := i*len(steps)/n, (i+1)*len(steps)/n
		if hi > lo {
			out = append(out, steps[lo:hi])
		}
	}
	return out
}

func reproComplement(chunks [][]ReproStep, skip int) []ReproStep {
	var out []ReproStep
	for i, c := range chunks {
		if i != skip {
			out = append(out, c...)
		}
	}
	return out
}

// shrinkFrames makes each frame smaller while the finding holds: whole
// options removed, the frame cut short, runs of octets removed. Frames
// in plain framing are framed again after each change (a good FCS);
// others are cut as raw octets.
func (m *reproMinimizer) shrinkFrames(ctx context.Context, steps []ReproStep) []ReproStep {
	steps = append([]ReproStep(nil), steps...)
	for i := range steps {
		if steps[i].Negotiate {
			continue
		}
		try := func(c ReproStep) bool {
			if m.exhausted() || ctx.Err() != nil {
				return false
			}
			cand := append(append(append([]ReproStep(nil), steps[:i]...), c), steps[i+1:]...)
			if m.test(ctx, cand) {
				steps[i] = c
				return true
			}
			return false
		}
		if steps[i].Frame != nil {
			m.shrinkFrame(steps[i], try)
		} else {
			m.shrinkRaw(steps[i], try)
		}
	}
	return steps
}

// shrinkFrame tries smaller versions of a plainly framed step, round
// after round while one helps: whole options removed or emptied, the end
// cut, runs of octets removed. A Length field that is right (the frame cut to it, or
// never wrong) is kept right.
func (m *reproMinimizer) shrinkFrame(st ReproStep, try func(ReproStep) bool) {
	with := func(frame []byte) ReproStep {
		return ReproStep{Raw: wireFrame(frame), Frame: frame, What: strings.TrimSuffix(st.What, ", minimised") + ", minimised"}
	}
	right := func(frame []byte) bool {
		return mutHeaderLen(frame) == 4 && len(frame) >= 8 && int(binary.BigEndian.Uint16(frame[6:])) == len(frame)-4
	}
	candidate := func(c []byte) []byte {
		if right(st.Frame) {
			mutFixLength(c)
		}
		return c
	}
	for progress := true; progress && !m.exhausted(); {
		progress = false
		accept := func(c []byte) bool {
			if try(with(c)) {
				st, progress = with(c), true
				return true
			}
			return false
		}
		// Whole options, from the last.
		for k := len(reproOptions(st.Frame)) - 1; k >= 0; k-- {
			opts, off := mutOptions(st.Frame)
			if k >= len(opts) {
				continue
			}
			for _, o := range opts[:k] {
				off += len(o)
			}
			if accept(candidate(append(mutClone(st.Frame[:off]), st.Frame[off+len(opts[k]):]...))) {
				continue
			}
			// Or its data, with the option's length made to fit.
			for _, keep := range []int{0, (len(opts[k]) - 2) / 2} {
				if keep >= len(opts[k])-2 {
					continue
				}
				c := append(mutClone(st.Frame[:off]), opts[k][0], byte(2+keep))
				c = append(append(c, opts[k][2:2+keep]...), st.Frame[off+len(opts[k]):]...)
				if accept(candidate(c)) {
					break
				}
			}
		}
		// The end: the shortest prefix that still does it, by halving.
		lo, hi := 1, len(st.Frame) // a prefix of hi octets does it
		for lo < hi && !m.exhausted() {
			mid := (lo + hi) / 2
			if accept(candidate(mutClone(st.Frame[:mid]))) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		// Runs of octets past the header, largest first.
		for size := len(st.Frame) / 2; size >= 1; size /= 2 {
			for at := len(st.Frame) - size; at >= 4 && at+size <= len(st.Frame); at -= size {
				accept(candidate(append(mutClone(st.Frame[:at]), st.Frame[at+size:]...)))
			}
		}
	}
}

func reproOptions(frame []byte) [][]byte {
	opts, _ := mutOptions(frame)
	return opts
}

// shrinkRaw cuts the end of a step whose framing is malformed.
func (m *reproMinimizer) shrinkRaw(st ReproStep, try func(ReproStep) bool) {
	lo, hi := 1, len(st.Raw)
	for lo < hi {
		mid := (lo + hi) / 2
		c := ReproStep{Raw: mutClone(st.Raw[:mid]), What: st.What + ", cut short"}
		if try(c) {
			st, hi = c, mid
		} else {
			lo = mid + 1
		}
	}
}

// WriteFiles writes the Finding's reproducer into dir as NAME.raw, the
// octets as sent on the line, and NAME.txt, which describes the finding,
// lists the steps (the frames as pppd's debug log shows them) and gives
// the command that replays it. It returns the path of the .raw file.
func (fd Finding) WriteFiles(dir, name, target, replayCommand string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("peer: writing the reproducer: %w", err)
	}
	raw := filepath.Join(dir, name+".raw")
	if err := os.WriteFile(raw, fd.Repro.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("peer: writing the reproducer: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pppssh fuzz-peer reproducer\n\n")
	fmt.Fprintf(&b, "Target:   %s\n", target)
	fmt.Fprintf(&b, "Finding:  the peer %s: %s\n", fd.Kind, fd.Message)
	fmt.Fprintf(&b, "Found:    seed %d, batch %d\n", fd.Seed, fd.Batch)
	fmt.Fprintf(&b, "Size:     %s", fd.Repro.Summary())
	if fd.OriginalOctets > 0 {
		fmt.Fprintf(&b, ", minimised from %d steps and %d octets in %d replays", fd.OriginalSteps, fd.OriginalOctets, fd.Replays)
	}
	b.WriteString("\n")
	if !fd.Reproduced {
		b.WriteString("Note:     replaying it on a fresh line did not bring the finding again; it may depend on timing or on the peer's state before the line opened\n")
	}
	if replayCommand != "" {
		fmt.Fprintf(&b, "\nReplay:\n  %s %s\n", replayCommand, reproShellQuote(raw))
	}
	fmt.Fprintf(&b, "\nDecode the octets:\n  pppssh decode %s\n", reproShellQuote(raw))
	b.WriteString("\nSteps (the .raw file holds the octets of the send steps, in order):\n")
	off := 0
	for i, s := range fd.Repro.Steps {
		if s.Negotiate {
			fmt.Fprintf(&b, "  %d. negotiate LCP to Opened; our Configure-Request options:%s\n", i+1, ppp.AppendHex(nil, s.Options))
			fmt.Fprintf(&b, "     %s\n", s.text())
			continue
		}
		fmt.Fprintf(&b, "  %d. send octets %d to %d of the .raw file: %s\n", i+1, off, off+len(s.Raw), s.text())
		if s.What != "" {
			fmt.Fprintf(&b, "     made as: %s\n", s.What)
		}
		fmt.Fprintf(&b, "     %x", s.Raw[:min(len(s.Raw), 96)])
		if len(s.Raw) > 96 {
			b.WriteString("…")
		}
		b.WriteString("\n")
		off += len(s.Raw)
	}
	if fd.Stderr != "" {
		b.WriteString("\nThe peer's standard error:\n")
		for line := range strings.SplitSeq(strings.TrimRight(fd.Stderr, "\n"), "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("peer: writing the reproducer: %w", err)
	}
	return raw, nil
}

// reproShellQuote quotes s for a POSIX shell when it needs it.
func reproShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var (
	reproNegotiate = regexp.MustCompile(`^\s*\d+\. negotiate LCP to Opened; our Configure-Request options:((?: [0-9a-f]{2})*)\s*$`)
	reproSend      = regexp.MustCompile(`^\s*\d+\. send octets (\d+) to (\d+) of the \.raw file`)
)

// ReadRepro reads a reproducer written by WriteFiles: path names the .raw
// file (or the .txt beside it). The steps come from the .txt file; without
// one, the whole .raw file is one step, sent on a fresh line as it is.
func ReadRepro(path string) (Repro, error) {
	rawPath, txtPath := path, strings.TrimSuffix(path, ".raw")+".txt"
	if strings.HasSuffix(path, ".txt") {
		rawPath, txtPath = strings.TrimSuffix(path, ".txt")+".raw", path
	}
	raw, err := os.ReadFile(rawPath)
	if err != nil {
		return Repro{}, fmt.Errorf("peer: reading the reproducer: %w", err)
	}
	if len(raw) > reproMaxRecord {
		return Repro{}, fmt.Errorf("peer: reading the reproducer: %s holds %d octets, more than the %d a reproducer may", rawPath, len(raw), reproMaxRecord)
	}
	txt, err := os.Open(txtPath)
	if errors.Is(err, os.ErrNotExist) {
		return Repro{Steps: []ReproStep{reproPlainStep(raw, "the file "+filepath.Base(rawPath))}}, nil
	}
	if err != nil {
		return Repro{}, fmt.Errorf("peer: reading the reproducer's description: %w", err)
	}
	defer txt.Close()
	return reproParse(txt, raw)
}

// reproParse reads the steps of a .txt description of raw.
func reproParse(txt io.Reader, raw []byte) (Repro, error) {
	var r Repro
	sc := bufio.NewScanner(txt)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := reproNegotiate.FindStringSubmatch(line); m != nil {
			opts, err := hex.DecodeString(strings.ReplaceAll(m[1], " ", ""))
			if err != nil {
				return Repro{}, fmt.Errorf("peer: the reproducer's description: %q: %w", line, err)
			}
			r.Steps = append(r.Steps, ReproStep{Negotiate: true, Options: opts})
			continue
		}
		if m := reproSend.FindStringSubmatch(line); m != nil {
			from, err1 := strconv.Atoi(m[1])
			to, err2 := strconv.Atoi(m[2])
			if err1 != nil || err2 != nil || from > to || to > len(raw) {
				return Repro{}, fmt.Errorf("peer: the reproducer's description: %q does not fit the %d octets of the .raw file", line, len(raw))
			}
			r.Steps = append(r.Steps, reproPlainStep(raw[from:to], "from the reproducer"))
		}
	}
	if err := sc.Err(); err != nil {
		return Repro{}, fmt.Errorf("peer: reading the reproducer's description: %w", err)
	}
	if len(r.Steps) == 0 {
		return Repro{Steps: []ReproStep{reproPlainStep(raw, "the whole .raw file")}}, nil
	}
	return r, nil
}

// reproPlainStep returns a send step of raw, with its Frame set when raw is
// one frame in plain framing.
func reproPlainStep(raw []byte, what string) ReproStep {
	st := ReproStep{Raw: mutClone(raw), What: what}
	d := hdlc.NewDecoder(bytes.NewReader(raw))
	d.SetACCM(0)
	d.SetMaxFrame(len(raw) + 8)
	frame, err := d.ReadFrame()
	if err == nil && bytes.Equal(wireFrame(frame), raw) {
		st.Frame = mutClone(frame)
	}
	return st
}
