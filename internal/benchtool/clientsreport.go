package main

import (
	"fmt"
	"math"
	"strconv"
)

// The performance issue's targets for pppssh server with many clients.
const (
	targetClientsRatio   = 0.8  // UDP from every link ÷ from one link
	targetKiBPerLink     = 64.0 // the server's memory per idle link, KiB
	targetNewLinkUpMilli = 1000 // a new client's link up, with the others up
)

// clientsRow is the summary of the "clients" records (benchtool clients
// runs, one per repetition) of one link count and cipher.
type clientsRow struct {
	Links      int
	Cipher     string
	UpAllS     stat    // all links up, seconds
	UpNewMs    stat    // one more client's link up, the runs' medians
	UpNewMaxMs float64 // the longest of any run; NaN if none
	EchoMs     stat    // the runs' median round trips
	EchoMaxMs  float64 // the longest of any run; NaN if none
	UDPOneMbps stat
	UDPAllMbps stat
	Ratio      stat    // UDP all ÷ one, per run
	KiBPerLink stat    // the server's VmRSS growth per idle link
	PeakRSSKiB float64 // the server's VmHWM, the largest of any run; NaN if unknown
	Runs       int     // how many runs
}

// summarizeClients summarizes the "clients" records, in the order of
// their first appearance:
//
//	clients rep=N links=… cipher=… up_all_s=… up_new_ms_med=… up_new_ms_max=… echo_ms_med=… echo_ms_max=… udp_one_mbps=… udp_all_mbps=… ratio=… server_kib_per_link=… server_hwm_kib=… …
func summarizeClients(recs []record) []*clientsRow {
	var rows []*clientsRow
	byKey := map[[2]string]*clientsRow{}
	fields := []string{"up_all_s", "up_new_ms_med", "echo_ms_med", "udp_one_mbps", "udp_all_mbps", "ratio", "server_kib_per_link"}
	acc := map[*clientsRow][][]float64{} // per row, the values of each of fields
	for _, r := range recs {
		if r.kind != "clients" {
			continue
		}
		k := [2]string{r.fields["links"], r.fields["cipher"]}
		row := byKey[k]
		if row == nil {
			n, _ := strconv.Atoi(k[0])
			row = &clientsRow{Links: n, Cipher: k[1], UpNewMaxMs: math.NaN(), EchoMaxMs: math.NaN(), PeakRSSKiB: math.NaN()}
			byKey[k] = row
			rows = append(rows, row)
			acc[row] = make([][]float64, len(fields))
		}
		row.Runs++
		for i, f := range fields {
			if v, ok := r.num(f); ok {
				acc[row][i] = append(acc[row][i], v)
			}
		}
		for _, m := range []struct {
			field string
			into  *float64
		}{{"up_new_ms_max", &row.UpNewMaxMs}, {"echo_ms_max", &row.EchoMaxMs}, {"server_hwm_kib", &row.PeakRSSKiB}} {
			if v, ok := r.num(m.field); ok && (math.IsNaN(*m.into) || v > *m.into) {
				*m.into = v
			}
		}
	}
	for _, row := range rows {
		for i, into := range []*stat{&row.UpAllS, &row.UpNewMs, &row.EchoMs, &row.UDPOneMbps, &row.UDPAllMbps, &row.Ratio, &row.KiBPerLink} {
			*into = summarize(acc[row][i])
		}
	}
	return rows
}

var clientsHeader = []string{"load", "cipher", "links", "all up s", "new link up ms", "echo ms", "UDP Mbit/s 1 link", "UDP Mbit/s all", "all ÷ 1", "RSS KiB / idle link", "peak RSS MB"}

// clientsCells returns the cells of the clients table.
func clientsCells(rows []*clientsRow) [][]string {
	var out [][]string
	for _, r := range rows {
		out = append(out, []string{
			"benchtool clients → pppssh server", shortCipher(r.Cipher), strconv.Itoa(r.Links),
			fmtStat(r.UpAllS, "%.2f"),
			fmtWithMax(r.UpNewMs, r.UpNewMaxMs, "%.1f"),
			fmtWithMax(r.EchoMs, r.EchoMaxMs, "%.2f"),
			fmtMbps(r.UDPOneMbps), fmtMbps(r.UDPAllMbps),
			fmtPercent(r.Ratio),
			fmtStat(r.KiBPerLink, "%.0f"),
			fmtMB(r.PeakRSSKiB),
		})
	}
	return out
}

// clientsTargets checks the targets for each clients row.
func clientsTargets(rows []*clientsRow) [][]string {
	mark := func(ok bool) string {
		if ok {
			return " ✓"
		}
		return " ✗"
	}
	var out [][]string
	for _, r := range rows {
		who := fmt.Sprintf("server, %d links, %s", r.Links, shortCipher(r.Cipher))
		if r.Ratio.N > 0 {
			out = append(out, []string{fmt.Sprintf("%s: UDP from all ≥ %.0f%% of one link", who, targetClientsRatio*100),
				fmt.Sprintf("%.0f%%", r.Ratio.Median*100) + mark(r.Ratio.Median >= targetClientsRatio)})
		}
		if r.KiBPerLink.N > 0 {
			out = append(out, []string{fmt.Sprintf("%s: RSS per idle link ≤ %.0f KiB", who, targetKiBPerLink),
				fmt.Sprintf("%.0f KiB", r.KiBPerLink.Median) + mark(r.KiBPerLink.Median <= targetKiBPerLink)})
		}
		if !math.IsNaN(r.UpNewMaxMs) {
			out = append(out, []string{fmt.Sprintf("%s: a new link up in < 1 s (longest)", who),
				fmt.Sprintf("%.0f ms", r.UpNewMaxMs) + mark(r.UpNewMaxMs < targetNewLinkUpMilli)})
		}
	}
	return out
}

var clientsTargetHeader = []string{"target (benchtool clients), medians", "value"}

// fmtStat formats a median, with the range when there are several values.
func fmtStat(s stat, format string) string {
	switch s.N {
	case 0:
		return "–"
	case 1:
		return fmt.Sprintf(format, s.Median)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", s.Median, s.Min, s.Max)
}

// fmtWithMax formats a median of medians and the largest single value.
func fmtWithMax(s stat, maxVal float64, format string) string {
	if s.N == 0 {
		return "–"
	}
	out := fmt.Sprintf(format, s.Median)
	if !math.IsNaN(maxVal) {
		out += " (max " + fmt.Sprintf(format, maxVal) + ")"
	}
	return out
}

func fmtPercent(s stat) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", s.Median*100)
}

const clientsLegend = `
benchtool clients: one process in the client namespace holds that many
links to one pppssh server at once, each over an SSH connection of its own,
on userspace packet devices. all up: from the first dial until every link
had IPCP up (16 dialing at a time); new link up: one more client's dial to
IPCP up, with the others up (three per run; median, max); echo: an ICMP
echo from every link, one at a time, to the server's link address; UDP:
goodput of 1472-octet datagrams into a socket in the server's namespace,
from one link, then from every link at once; RSS: the server's VmRSS with
every link up and idle, less before the links, per link, and its peak
(VmHWM) at the end of the run.
`
