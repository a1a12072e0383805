package peer

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// A Report holds the results of one Run, in the order of its cases.
type Report struct {
	Target   string // the target's String
	Start    time.Time
	Duration time.Duration
	Results  []Result
}

// Failed reports whether a case failed a MUST: the peer does not conform.
// Failures of SHOULDs are findings that do not count here.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if res.Verdict == Fail && res.Level == Must {
			return true
		}
	}
	return false
}

// Counts returns how many cases got each verdict.
func (r Report) Counts() map[Verdict]int {
	n := map[Verdict]int{}
	for _, res := range r.Results {
		n[res.Verdict]++
	}
	return n
}

// Summary returns one line: the number of cases of each verdict, the
// failures by level, and the time taken.
func (r Report) Summary() string {
	n := r.Counts()
	var must, should int
	for _, res := range r.Results {
		if res.Verdict == Fail {
			if res.Level == Must {
				must++
			} else {
				should++
			}
		}
	}
	s := fmt.Sprintf("%d cases: %d passed, %d failed", len(r.Results), n[Pass], n[Fail])
	if n[Fail] > 0 {
		s += fmt.Sprintf(" (%d MUST, %d SHOULD)", must, should)
	}
	s += fmt.Sprintf(", %d not applicable, %d errors; %.1f s", n[NotApplicable], n[Error], r.Duration.Seconds())
	return s
}

// WriteTable writes the results as a table, one case a line: name, RFC
// reference, level, verdict and reason, then the summary line.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tRFC\tLEVEL\tVERDICT\tREASON")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.Case, res.RFC, res.Level, res.Verdict, res.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s against %s\n", r.Summary(), r.Target)
	return err
}

// WriteLogs writes the frame log of every case that failed or could not
// run, or of every case when all is set, each behind a heading with the
// case's name, verdict and reason.
func (r Report) WriteLogs(w io.Writer, all bool) error {
	for _, res := range r.Results {
		if !all && (res.Verdict == Pass || res.Verdict == NotApplicable) {
			continue
		}
		if _, err := fmt.Fprintf(w, "\n=== %s (%s, %s): %s: %s\n", res.Case, res.RFC, res.Level, res.Verdict, res.Reason); err != nil {
			return err
		}
		for _, l := range res.Log {
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// The JUnit XML schema, as CI systems read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
		Skipped   *junitProblem `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the results as JUnit XML, one testsuite for the
// target and one testcase per case: a failure (its type the level, MUST or
// SHOULD) for Fail, an error for Error, skipped for NotApplicable. The
// classname is "test-peer." and the case's group ("test-peer.lcp"); the
// message starts with the RFC reference. Failures and errors carry the
// frame log as their text, every case as its system-out.
func (r Report) WriteJUnit(w io.Writer) error {
	n := r.Counts()
	secs := func(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
	s := junitSuite{
		Name:       "pppssh test-peer: " + r.Target,
		Tests:      len(r.Results),
		Failures:   n[Fail],
		Errors:     n[Error],
		Skipped:    n[NotApplicable],
		Time:       secs(r.Duration),
		Timestamp:  r.Start.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{Name: "target", Value: r.Target}},
	}
	for _, res := range r.Results {
		group, _, _ := strings.Cut(res.Case, "/")
		log := strings.Join(res.Log, "\n")
		c := junitCase{
			Name:      res.Case,
			Classname: "test-peer." + group,
			Time:      secs(res.Duration),
			SystemOut: log,
		}
		msg := fmt.Sprintf("%s (%s): %s", res.RFC, res.Level, res.Reason)
		switch res.Verdict {
		case Fail:
			c.Failure = &junitProblem{Message: msg, Type: res.Level.String(), Text: log}
		case Error:
			c.Error = &junitProblem{Message: msg, Type: "harness", Text: log}
		case NotApplicable:
			c.Skipped = &junitProblem{Message: msg}
		}
		s.Cases = append(s.Cases, c)
	}
	doc := junitSuites{
		Name: "pppssh test-peer", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors,
		Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("peer: writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
