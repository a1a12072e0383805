package peer

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func sampleReport() Report {
	log := []string{"  0.001 sent [LCP ConfReq id=0x11 <magic 0x1>]", "  0.002 rcvd [LCP ConfAck id=0x11 <magic 0x1>]"}
	return Report{
		Target:   "exec: pppd notty",
		Start:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Duration: 1500 * time.Millisecond,
		Results: []Result{
			{Case: "lcp/echo-reply", RFC: "RFC 1661 §5.8", Level: Must, Verdict: Pass, Reason: "Echo-Reply id=0x22", Duration: time.Second, Log: log},
			{Case: "lcp/code-reject-fatal", RFC: "RFC 1661 §5.6", Level: Should, Verdict: Fail, Reason: "stayed Opened", Log: log},
			{Case: "lcp/unknown-code", RFC: "RFC 1661 §5.6", Level: Must, Verdict: Fail, Reason: "no Code-Reject", Log: log},
			{Case: "hdlc/accm", RFC: "RFC 1662 §7.1", Level: Must, Verdict: NotApplicable, Reason: "rejected the option"},
			{Case: "ipcp/open", RFC: "RFC 1332 §3.3", Level: Must, Verdict: Error, Reason: "the peer sent no frame", Log: log},
		},
	}
}

// TestReportTable: one line per case with its RFC reference, level,
// verdict and reason, then the summary.
func TestReportTable(t *testing.T) {
	rep := sampleReport()
	var b bytes.Buffer
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want a header, 5 cases and a summary:\n%s", len(lines), b.String())
	}
	for i, want := range [][]string{
		{"CASE", "RFC", "LEVEL", "VERDICT", "REASON"},
		{"lcp/echo-reply", "RFC 1661 §5.8", "MUST", "pass", "Echo-Reply id=0x22"},
		{"lcp/code-reject-fatal", "SHOULD", "FAIL", "stayed Opened"},
		{"lcp/unknown-code", "MUST", "FAIL"},
		{"hdlc/accm", "n/a"},
		{"ipcp/open", "error", "the peer sent no frame"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
	if want := "5 cases: 1 passed, 2 failed (1 MUST, 1 SHOULD), 1 not applicable, 1 errors; 1.5 s against exec: pppd notty"; lines[6] != want {
		t.Errorf("summary %q, want %q", lines[6], want)
	}
	if !rep.Failed() {
		t.Error("Failed() = false with a MUST failure")
	}
	rep.Results[2].Level = Should
	if rep.Failed() {
		t.Error("Failed() = true with SHOULD failures only")
	}

	b.Reset()
	if err := sampleReport().WriteLogs(&b, false); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Count(s, "\n=== ") != 3 || !strings.Contains(s, "=== ipcp/open (RFC 1332 §3.3, MUST): error: the peer sent no frame\n  0.001 sent") ||
		strings.Contains(s, "lcp/echo-reply") {
		t.Errorf("WriteLogs(all=false) shows other than the failures and errors:\n%s", s)
	}
}

// TestReportJUnit: the JUnit XML parses back with one testcase per case,
// failures typed by level, errors, skipped cases and the frame logs.
func TestReportJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	type problem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name      string `xml:"name,attr"`
			Timestamp string `xml:"timestamp,attr"`
			Cases     []struct {
				Name      string   `xml:"name,attr"`
				Classname string   `xml:"classname,attr"`
				Time      string   `xml:"time,attr"`
				Failure   *problem `xml:"failure"`
				Error     *problem `xml:"error"`
				Skipped   *problem `xml:"skipped"`
				SystemOut string   `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, b.String())
	}
	if doc.Tests != 5 || doc.Failures != 2 || doc.Errors != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 {
		t.Fatalf("totals %+v, want 5 tests, 2 failures, 1 error, 1 skipped in one suite:\n%s", doc, b.String())
	}
	s := doc.Suites[0]
	if s.Name != "pppssh test-peer: exec: pppd notty" || s.Timestamp != "2026-01-02T03:04:05" || len(s.Cases) != 5 {
		t.Errorf("suite %q at %q with %d cases", s.Name, s.Timestamp, len(s.Cases))
	}
	c := s.Cases
	if c[0].Name != "lcp/echo-reply" || c[0].Classname != "test-peer.lcp" || c[0].Time != "1.000" || c[0].Failure != nil || !strings.Contains(c[0].SystemOut, "rcvd [LCP ConfAck") {
		t.Errorf("passed case: %+v", c[0])
	}
	if f := c[1].Failure; f == nil || f.Type != "SHOULD" || f.Message != "RFC 1661 §5.6 (SHOULD): stayed Opened" || !strings.Contains(f.Text, "sent [LCP ConfReq") {
		t.Errorf("SHOULD failure: %+v", f)
	}
	if f := c[2].Failure; f == nil || f.Type != "MUST" {
		t.Errorf("MUST failure: %+v", f)
	}
	if c[3].Skipped == nil || c[3].Classname != "test-peer.hdlc" || !strings.Contains(c[3].Skipped.Message, "rejected the option") {
		t.Errorf("not applicable: %+v", c[3])
	}
	if c[4].Error == nil || !strings.Contains(c[4].Error.Message, "the peer sent no frame") {
		t.Errorf("error: %+v", c[4])
	}
}
