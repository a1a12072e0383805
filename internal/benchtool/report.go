package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The cases scripts/bench measures, in the order the table lists them.
var cases = []struct{ key, label string }{
	{"veth", "veth alone, no SSH"},
	{"raw-ssh", "raw channel, ssh"},
	{"raw-go", "raw channel, x/crypto/ssh"},
	{"ssh-w", "ssh -w"},
	{"serve", "pppssh → sshd → serve"},
	{"server", "pppssh → pppssh server"},
}

// pppssh's performance targets: the ratios it must reach against ssh -w and the raw channel.
const (
	targetServe   = 3.0  // TCP through serve ÷ ssh -w
	targetServer  = 4.0  // TCP through server ÷ ssh -w
	targetRaw     = 0.5  // TCP through pppssh ÷ raw x/crypto/ssh channel
	targetRSSKiB  = 30e3 // peak RSS of each end, KiB (30 MB)
	defaultMTUKey = "1500"
)

// A record is one line of the results file: its kind ("meta", "run",
// "ping") and its key=value fields.
type record struct {
	kind   string
	fields map[string]string
}

func (r record) num(key string) (float64, bool) {
	v, err := strconv.ParseFloat(r.fields[key], 64)
	return v, err == nil && !math.IsNaN(v)
}

// readRecords reads the results file scripts/bench writes:
//
//	meta KEY VALUE…
//	run case=… cipher=… mtu=… dir=up|down rep=N bytes=… secs=… [cpu_a=… cpu_b=… rss_a=… rss_b=…] [rtt_med=… rtt_max=…] …
//	ping case=… cipher=… mtu=… rep=N rtt_med=… …
//	clients rep=N links=… cipher=… …  (benchtool clients' line; see summarizeClients)
//
// (mtu is "-" for the raw channel and the veth).
//
// Blank lines and lines starting with # are skipped. Meta values keep their
// spaces.
func readRecords(r io.Reader) (meta [][2]string, recs []record, err error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		if kind == "meta" {
			k, v, _ := strings.Cut(strings.TrimSpace(rest), " ")
			meta = append(meta, [2]string{k, strings.TrimSpace(v)})
			continue
		}
		if kind != "run" && kind != "ping" && kind != "clients" {
			return nil, nil, fmt.Errorf("line %d: unknown record %q", n, kind)
		}
		rec := record{kind: kind, fields: map[string]string{}}
		for _, f := range strings.Fields(rest) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, nil, fmt.Errorf("line %d: %q is not key=value", n, f)
			}
			rec.fields[k] = v
		}
		recs = append(recs, rec)
	}
	return meta, recs, sc.Err()
}

// stat is the median, minimum and maximum of some values; N is how many
// (0: no values, and the others are 0).
type stat struct {
	Median, Min, Max float64
	N                int
}

// median returns s's median, or NaN if it has no values.
func median(s stat) float64 {
	if s.N == 0 {
		return math.NaN()
	}
	return s.Median
}

func summarize(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// row is the summary of one (case, cipher, MTU, direction).
type row struct {
	Case, Cipher, MTU, Dir string
	Mbps                   stat    // throughput
	CPUPerGB               stat    // both ends, CPU seconds per 10^9 bytes moved
	CPUPerGBA, CPUPerGBB   stat    // the client end's and the server end's
	RSSA, RSSB             float64 // peak RSS, KiB, the largest over the runs; NaN if unknown
	PingIdle               stat    // ms, the idle pings' medians, one per repetition (same on both directions)
	PingLoaded             stat    // ms, the medians of the pings during the transfers
	PingLoadedMax          float64 // ms, the largest round trip seen during the transfers
}

type rowKey struct{ cas, cipher, mtu, dir string }

func summarizeRuns(recs []record) map[rowKey]*row {
	type acc struct {
		mbps, cpu, cpuA, cpuB, loaded []float64
		rssA, rssB, loadedMax         float64
	}
	accs := map[rowKey]*acc{}
	idle := map[[3]string][]float64{}
	for _, r := range recs {
		f := r.fields
		switch r.kind {
		case "ping":
			if v, ok := r.num("rtt_med"); ok {
				k := [3]string{f["case"], f["cipher"], f["mtu"]}
				idle[k] = append(idle[k], v)
			}
		case "run":
			k := rowKey{f["case"], f["cipher"], f["mtu"], f["dir"]}
			a := accs[k]
			if a == nil {
				a = &acc{rssA: math.NaN(), rssB: math.NaN(), loadedMax: math.NaN()}
				accs[k] = a
			}
			bytes, okB := r.num("bytes")
			secs, okS := r.num("secs")
			if okB && okS && secs > 0 {
				a.mbps = append(a.mbps, bytes*8/secs/1e6)
			}
			ca, okA := r.num("cpu_a")
			cb, okCB := r.num("cpu_b")
			if okB && bytes > 0 && okA && okCB {
				gb := bytes / 1e9
				a.cpu = append(a.cpu, (ca+cb)/gb)
				a.cpuA = append(a.cpuA, ca/gb)
				a.cpuB = append(a.cpuB, cb/gb)
			}
			if v, ok := r.num("rss_a"); ok && (math.IsNaN(a.rssA) || v > a.rssA) {
				a.rssA = v
			}
			if v, ok := r.num("rss_b"); ok && (math.IsNaN(a.rssB) || v > a.rssB) {
				a.rssB = v
			}
			if v, ok := r.num("rtt_med"); ok {
				a.loaded = append(a.loaded, v)
			}
			if v, ok := r.num("rtt_max"); ok && (math.IsNaN(a.loadedMax) || v > a.loadedMax) {
				a.loadedMax = v
			}
		}
	}
	rows := map[rowKey]*row{}
	for k, a := range accs {
		rows[k] = &row{
			Case: k.cas, Cipher: k.cipher, MTU: k.mtu, Dir: k.dir,
			Mbps:     summarize(a.mbps),
			CPUPerGB: summarize(a.cpu), CPUPerGBA: summarize(a.cpuA), CPUPerGBB: summarize(a.cpuB),
			RSSA: a.rssA, RSSB: a.rssB,
			PingIdle:      summarize(idle[[3]string{k.cas, k.cipher, k.mtu}]),
			PingLoaded:    summarize(a.loaded),
			PingLoadedMax: a.loadedMax,
		}
	}
	return rows
}

// orderedRows lists the rows in table order: the veth first, then per
// cipher (in the order of first appearance) the cases in their order, MTU
// ascending, up before down.
func orderedRows(recs []record, rows map[rowKey]*row) []*row {
	var ciphers []string
	for _, r := range recs {
		if c := r.fields["cipher"]; r.kind == "run" && !slices.Contains(ciphers, c) {
			ciphers = append(ciphers, c)
		}
	}
	var mtus []string
	for k := range rows {
		if !slices.Contains(mtus, k.mtu) {
			mtus = append(mtus, k.mtu)
		}
	}
	slices.SortFunc(mtus, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	var out []*row
	for _, c := range ciphers {
		for _, cs := range cases {
			for _, m := range mtus {
				for _, d := range []string{"up", "down"} {
					if r := rows[rowKey{cs.key, c, m, d}]; r != nil {
						out = append(out, r)
					}
				}
			}
		}
	}
	// The veth has no cipher; list it first.
	slices.SortStableFunc(out, func(a, b *row) int {
		return boolInt(b.Case == "veth") - boolInt(a.Case == "veth")
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func caseLabel(r *row) string {
	for _, c := range cases {
		if c.key == r.Case {
			if r.MTU != defaultMTUKey && r.MTU != "-" && r.MTU != "" {
				return c.label + " MTU " + r.MTU
			}
			return c.label
		}
	}
	return r.Case
}

// shortCipher drops the @openssh.com and the -poly1305 of a cipher name.
func shortCipher(c string) string {
	c, _, _ = strings.Cut(c, "@")
	c = strings.TrimSuffix(c, "-poly1305")
	if c == "" {
		return "-"
	}
	return c
}

// ratio returns a's median throughput over b's, or NaN.
func ratio(a, b *row) float64 {
	if a == nil || b == nil || a.Mbps.N == 0 || b.Mbps.N == 0 || b.Mbps.Median == 0 {
		return math.NaN()
	}
	return a.Mbps.Median / b.Mbps.Median
}

func isPPPSSH(r *row) bool { return r.Case == "serve" || r.Case == "server" }

// cell formats are shared by the text and the markdown table.
func fmtMbps(s stat) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 {
		return fmt.Sprintf("%.0f", s.Median)
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", s.Median, s.Min, s.Max)
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

func fmtMs(s stat) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", s.Median)
}

func fmtMax(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.0f", ms)
}

func fmtCPU(r *row) string {
	if r.CPUPerGB.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f+%.1f", r.CPUPerGBA.Median, r.CPUPerGBB.Median)
}

func fmtMB(kib float64) string {
	if math.IsNaN(kib) || kib == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", kib/1000)
}

func fmtRSS(r *row) string { return fmtMB(r.RSSA) + " / " + fmtMB(r.RSSB) }

var tableHeader = []string{"tunnel", "cipher", "dir", "Mbit/s median (min–max)", "÷ ssh -w", "÷ raw x/c", "ping idle ms", "ping loaded ms", "CPU s/GB cl+srv", "RSS MB cl / srv"}

// tableCells returns the table's cells for each row.
func tableCells(ordered []*row, rows map[rowKey]*row) [][]string {
	var out [][]string
	for _, r := range ordered {
		sshw := rows[rowKey{"ssh-w", r.Cipher, defaultMTUKey, r.Dir}]
		raw := rows[rowKey{"raw-go", r.Cipher, "-", r.Dir}]
		vsW, vsRaw := "", ""
		if isPPPSSH(r) {
			vsW, vsRaw = fmtRatio(ratio(r, sshw)), fmtRatio(ratio(r, raw))
		}
		idle := ""
		if r.Dir == "up" {
			idle = fmtMs(r.PingIdle)
		}
		loaded := fmtMs(r.PingLoaded)
		if r.PingLoaded.N > 0 && !math.IsNaN(r.PingLoadedMax) {
			loaded += " (max " + fmtMax(r.PingLoadedMax) + ")"
		}
		out = append(out, []string{caseLabel(r), shortCipher(r.Cipher), r.Dir, fmtMbps(r.Mbps), vsW, vsRaw, idle, loaded, fmtCPU(r), fmtRSS(r)})
	}
	return out
}

// target is one line of the targets block: a cell per cipher and direction.
type target struct {
	name  string
	cells []string
}

// targets checks the targets for each cipher and direction.
func targets(rows map[rowKey]*row, ciphers []string) (cols []string, lines []target) {
	type col struct{ cipher, dir string }
	var cs []col
	for _, c := range ciphers {
		if c == "-" {
			continue
		}
		for _, d := range []string{"up", "down"} {
			cs = append(cs, col{c, d})
			cols = append(cols, shortCipher(c)+" "+d)
		}
	}
	mark := func(ok bool) string {
		if ok {
			return " ✓"
		}
		return " ✗"
	}
	add := func(name string, cell func(col) string) {
		t := target{name: name}
		for _, c := range cs {
			t.cells = append(t.cells, cell(c))
		}
		lines = append(lines, t)
	}
	get := func(cas string, c col) *row {
		mtu := defaultMTUKey
		if cas == "raw-go" {
			mtu = "-"
		}
		return rows[rowKey{cas, c.cipher, mtu, c.dir}]
	}
	for _, p := range []struct {
		cas  string
		goal float64
	}{{"serve", targetServe}, {"server", targetServer}} {
		add(fmt.Sprintf("%s: TCP ≥ %.0f× ssh -w", p.cas, p.goal), func(c col) string {
			v := ratio(get(p.cas, c), get("ssh-w", c))
			if math.IsNaN(v) {
				return "–"
			}
			return fmtRatio(v) + mark(v >= p.goal)
		})
	}
	for _, cas := range []string{"serve", "server"} {
		add(fmt.Sprintf("%s: TCP ≥ %.0f%% raw x/crypto/ssh", cas, targetRaw*100), func(c col) string {
			v := ratio(get(cas, c), get("raw-go", c))
			if math.IsNaN(v) {
				return "–"
			}
			return fmt.Sprintf("%.0f%%", v*100) + mark(v >= targetRaw)
		})
	}
	cmp := func(name string, val func(*row) float64, unit string) {
		for _, cas := range []string{"serve", "server"} {
			add(fmt.Sprintf("%s: %s ≤ ssh -w", cas, name), func(c col) string {
				a, b := get(cas, c), get("ssh-w", c)
				if a == nil || b == nil || math.IsNaN(val(a)) || math.IsNaN(val(b)) {
					return "–"
				}
				return fmt.Sprintf("%.2f vs %.2f%s", val(a), val(b), unit) + mark(val(a) <= val(b))
			})
		}
	}
	cmp("ping idle", func(r *row) float64 { return median(r.PingIdle) }, " ms")
	cmp("ping loaded", func(r *row) float64 { return median(r.PingLoaded) }, " ms")
	cmp("CPU/GB", func(r *row) float64 { return median(r.CPUPerGB) }, " s")
	for _, cas := range []string{"serve", "server"} {
		add(fmt.Sprintf("%s: peak RSS ≤ 30 MB each end", cas), func(c col) string {
			r := get(cas, c)
			if r == nil || math.IsNaN(r.RSSA) || math.IsNaN(r.RSSB) {
				return "–"
			}
			return fmtRSS(r) + mark(r.RSSA <= targetRSSKiB && r.RSSB <= targetRSSKiB)
		})
	}
	return cols, lines
}

// writeText writes cells as a table with aligned columns.
func writeText(w io.Writer, header []string, cells [][]string, indent string) {
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, cells...) {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i >= 3 { // numbers: right-aligned
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, row := range cells {
		line(row)
	}
}

// writeMarkdown writes cells as a Markdown table, the columns from
// firstNum on right-aligned.
func writeMarkdown(w io.Writer, header []string, cells [][]string, firstNum int) {
	fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
		if i >= firstNum {
			sep[i] = "---:"
		}
	}
	fmt.Fprintln(w, "|"+strings.Join(sep, "|")+"|")
	for _, row := range cells {
		fmt.Fprintln(w, "| "+strings.Join(row, " | ")+" |")
	}
}

// runReport reads the results file and prints the table and the targets;
// -json and -markdown also write them to files.
func runReport(args []string) error { return report(os.Stdout, args) }

func report(out io.Writer, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	jsonOut := fs.String("json", "", "write the runs and the summary as JSON to this file")
	mdOut := fs.String("markdown", "", "write the table and the targets as Markdown to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: report [-json FILE] [-markdown FILE] RESULTS")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	meta, recs, err := readRecords(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	rows := summarizeRuns(recs)
	ordered := orderedRows(recs, rows)
	cells := tableCells(ordered, rows)
	var ciphers []string
	for _, r := range ordered {
		if !slices.Contains(ciphers, r.Cipher) {
			ciphers = append(ciphers, r.Cipher)
		}
	}
	tcols, tlines := targets(rows, ciphers)
	theader := append([]string{"target, medians", "", ""}, tcols...)
	var tcells [][]string
	for _, t := range tlines {
		tcells = append(tcells, append([]string{t.name, "", ""}, t.cells...))
	}

	// The clients table follows the main one; either may be left out
	// when nothing was measured for it.
	clients := summarizeClients(recs)
	ccells, ctargets := clientsCells(clients), clientsTargets(clients)

	for _, m := range meta {
		fmt.Fprintf(out, "%-14s %s\n", m[0], m[1])
	}
	if len(ordered) > 0 {
		fmt.Fprintln(out)
		writeText(out, tableHeader, cells, "")
		fmt.Fprintln(out)
		writeText(out, dropEmpty(theader), dropEmptyCols(theader, tcells), "")
		fmt.Fprint(out, legend)
	}
	if len(clients) > 0 {
		fmt.Fprintln(out)
		writeText(out, clientsHeader, ccells, "")
		fmt.Fprintln(out)
		writeText(out, clientsTargetHeader, ctargets, "")
		fmt.Fprint(out, clientsLegend)
	}

	if *mdOut != "" {
		var b strings.Builder
		for _, m := range meta {
			fmt.Fprintf(&b, "- %s: %s\n", m[0], m[1])
		}
		if len(ordered) > 0 {
			b.WriteString("\n")
			writeMarkdown(&b, tableHeader, cells, 3)
			b.WriteString("\n")
			writeMarkdown(&b, dropEmpty(theader), dropEmptyCols(theader, tcells), len(theader))
			b.WriteString(legend)
		}
		if len(clients) > 0 {
			b.WriteString("\n")
			writeMarkdown(&b, clientsHeader, ccells, 2)
			b.WriteString("\n")
			writeMarkdown(&b, clientsTargetHeader, ctargets, len(clientsTargetHeader))
			b.WriteString(clientsLegend)
		}
		if err := os.WriteFile(*mdOut, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, meta, recs, ordered, clients); err != nil {
			return err
		}
	}
	return nil
}

const legend = `
Mbit/s: iperf3 TCP goodput through the tunnel (MTU 1500 unless given);
for the raw channel, the bytes through one session channel (zeros from
benchtool source to benchtool sink, 1 MiB pipes) over the time they ran. up:
client (ssh, pppssh connect) to server; down: the reverse. Ratios: of
medians, pppssh ÷ ssh -w (MTU 1500) and ÷ the raw x/crypto/ssh client
channel, same cipher and direction. ping: median round trip through the
tunnel, idle and during that direction's transfers (max: the largest
single one). CPU: user+system seconds of each end's processes (client: ssh
or pppssh connect; server: sshd's sessions and their children, pppssh
serve among them, or pppssh server) per 10^9 bytes moved. RSS: the largest
peak resident set (VmHWM) among each end's processes, the sshd listener
not counted.
`

// dropEmpty removes the empty header cells kept for alignment with the
// main table; dropEmptyCols removes the same columns from each row.
func dropEmpty(h []string) []string {
	var out []string
	for i, c := range h {
		if c != "" || i == 0 {
			out = append(out, c)
		}
	}
	return out
}

func dropEmptyCols(h []string, rows [][]string) [][]string {
	var out [][]string
	for _, r := range rows {
		var n []string
		for i, c := range r {
			if h[i] != "" || i == 0 {
				n = append(n, c)
			}
		}
		out = append(out, n)
	}
	return out
}

// writeJSON writes the meta lines, every record (numbers as numbers), the
// summary rows and the summary of the clients runs.
func writeJSON(path string, meta [][2]string, recs []record, ordered []*row, clients []*clientsRow) error {
	type jsonRow struct {
		Case, Label, Cipher, MTU, Dir                                            string
		Mbps, CPUPerGB, CPUPerGBClient, CPUPerGBServer, PingIdleMs, PingLoadedMs stat
		PingLoadedMaxMs, PeakRSSClientKiB, PeakRSSServerKiB                      *float64
	}
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	type jsonClients struct {
		Links                                         int
		Cipher                                        string
		Runs                                          int
		UpAllS, UpNewMs, EchoMs                       stat
		UDPOneMbps, UDPAllMbps, Ratio, KiBPerIdleLink stat
		UpNewMaxMs, EchoMaxMs, PeakRSSServerKiB       *float64
	}
	doc := struct {
		Meta    map[string]string
		Runs    []map[string]any
		Summary []jsonRow
		Clients []jsonClients `json:",omitempty"`
	}{Meta: map[string]string{}}
	for _, m := range meta {
		doc.Meta[m[0]] = m[1]
	}
	for _, r := range recs {
		m := map[string]any{"kind": r.kind}
		for k, v := range r.fields {
			if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && k != "mtu" {
				m[k] = f
			} else {
				m[k] = v
			}
		}
		doc.Runs = append(doc.Runs, m)
	}
	for _, r := range ordered {
		doc.Summary = append(doc.Summary, jsonRow{
			Case: r.Case, Label: caseLabel(r), Cipher: r.Cipher, MTU: r.MTU, Dir: r.Dir,
			Mbps: r.Mbps, CPUPerGB: r.CPUPerGB, CPUPerGBClient: r.CPUPerGBA, CPUPerGBServer: r.CPUPerGBB,
			PingIdleMs: r.PingIdle, PingLoadedMs: r.PingLoaded,
			PingLoadedMaxMs: num(r.PingLoadedMax), PeakRSSClientKiB: num(r.RSSA), PeakRSSServerKiB: num(r.RSSB),
		})
	}
	for _, c := range clients {
		doc.Clients = append(doc.Clients, jsonClients{
			Links: c.Links, Cipher: c.Cipher, Runs: c.Runs,
			UpAllS: c.UpAllS, UpNewMs: c.UpNewMs, EchoMs: c.EchoMs,
			UDPOneMbps: c.UDPOneMbps, UDPAllMbps: c.UDPAllMbps, Ratio: c.Ratio, KiBPerIdleLink: c.KiBPerLink,
			UpNewMaxMs: num(c.UpNewMaxMs), EchoMaxMs: num(c.EchoMaxMs), PeakRSSServerKiB: num(c.PeakRSSKiB),
		})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
