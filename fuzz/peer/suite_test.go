package peer

import (
	"bytes"
	"testing"
	"time"

	"github.com/pppssh/pppssh/link"
)

// ourLinkConfig is the configuration of the link the suite runs against
// in process: short timers, so that the whole suite takes seconds.
var ourLinkConfig = link.Config{RestartInterval: 300 * time.Millisecond, MaxConfigure: 5}

// TestSuiteOurLink runs the whole suite against our own link, eight cases
// at a time: every case must pass, and every link the suite started must
// have ended once its line was closed.
func TestSuiteOurLink(t *testing.T) {
	lt := newLinkTarget(t, ourLinkConfig)
	cfg := SuiteConfig{Restart: ourLinkConfig.RestartInterval, MaxConfigure: ourLinkConfig.MaxConfigure, Start: 5 * time.Second}
	cases := Suite(cfg)
	rep := Run(t.Context(), lt, cases, RunOptions{Parallel: 8})
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("against our link:\n%s", table.String())
	for _, r := range rep.Results {
		if r.Verdict != Pass {
			var log bytes.Buffer
			if err := (Report{Results: []Result{r}}).WriteLogs(&log, true); err != nil {
				t.Fatal(err)
			}
			t.Errorf("%s: %v (%v): %s%s", r.Case, r.Verdict, r.Level, r.Reason, log.String())
		}
	}
	if rep.Failed() {
		t.Errorf("Report.Failed() = true for our own link")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(lt.endings()) < len(cases) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(lt.endings()); n != len(cases) {
		t.Errorf("%d of the %d links the suite started have ended", n, len(cases))
	}
}
