package interop

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/pppssh/pppssh/fuzz/peer"
	"github.com/pppssh/pppssh/internal/pppdvm"
)

// pppdTarget is the conformance suite's Target for a pppd in a VM: every
// line is a fresh pppd, restarted from its initial state.
type pppdTarget struct{ vm *pppdvm.VM }

func (p pppdTarget) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	return p.vm.RestartPPPD(ctx)
}

func (p pppdTarget) String() string { return "pppd 2.4.9 (Debian) in a VM" }

// TestSuitePPPD runs the conformance suite of "pppssh test-peer" against a
// real pppd 2.4.9, one case after the other on one VM, pppd restarted for
// each, and checks the verdicts case by case: pppd passes everything but
// its known departures from RFC 1661, which the suite must report as
// findings, not as harness errors.
func TestSuitePPPD(t *testing.T) {
	pppdArgs := []string{"192.0.2.1:192.0.2.2", "lcp-restart", "1", "ipcp-restart", "1", "lcp-max-configure", "4"}
	vm := pppdvm.Start(t, pppdvm.Options{PPPDArgs: append([]string{"noauth"}, pppdArgs...), Respawn: true})
	cfg := peer.SuiteConfig{Restart: time.Second, MaxConfigure: 4, Start: 20 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	rep := peer.Run(ctx, pppdTarget{vm}, peer.Suite(cfg), peer.RunOptions{})
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("pppd %v:\n%s", pppdArgs, table.String())

	// A case not listed must pass.
	want := map[string]struct {
		verdict peer.Verdict
		level   peer.Level
	}{
		// Linux's ppp_async sends LCP codes above 7 (Echo, Discard,
		// Protocol-Reject) like data, without the Address and Control
		// fields once ACFC is agreed; pppd hands it every frame.
		"lcp/acfc-pfc-lcp": {peer.Fail, peer.Must},
		// pppd's fsm_rcoderej takes every Code-Reject as harmless.
		"lcp/code-reject-fatal": {peer.Fail, peer.Should},
	}
	for _, r := range rep.Results {
		w, listed := want[r.Case]
		if !listed {
			w.verdict, w.level = peer.Pass, r.Level
		}
		if r.Verdict != w.verdict || r.Level != w.level {
			var log bytes.Buffer
			peer.Report{Results: []peer.Result{r}}.WriteLogs(&log, true)
			t.Errorf("%s: %v (%v), want %v (%v): %s%s", r.Case, r.Verdict, r.Level, w.verdict, w.level, r.Reason, log.String())
		}
	}

	// pppd's manual gives 3 and 10 as the defaults of lcp-max-terminate
	// and lcp-max-failure, where its code has the RFC's 2 and 5 (the
	// cases above pass). A pppd set to the manual's values departs from
	// the RFC's defaults: the suite, told nothing, reports SHOULD findings
	// with the counts, not errors. pppd reads its options file again at
	// every restart.
	if _, err := vm.Exec(ctx, "sh", "-c", "echo lcp-max-terminate 3 >>/etc/pppdvm/options; echo lcp-max-failure 10 >>/etc/pppdvm/options"); err != nil {
		t.Fatal(err)
	}
	var counters []peer.Case
	for _, c := range peer.Suite(cfg) {
		if c.Name == "lcp/max-terminate" || c.Name == "lcp/max-failure" {
			counters = append(counters, c)
		}
	}
	rep = peer.Run(ctx, pppdTarget{vm}, counters, peer.RunOptions{})
	table.Reset()
	rep.WriteTable(&table)
	t.Logf("pppd with lcp-max-terminate 3 lcp-max-failure 10:\n%s", table.String())
	for _, r := range rep.Results {
		if r.Verdict != peer.Fail || r.Level != peer.Should {
			t.Errorf("%s against pppd with the manual's defaults: %v (%v), want a SHOULD finding: %s", r.Case, r.Verdict, r.Level, r.Reason)
		}
	}
	if !bytes.Contains(table.Bytes(), []byte("sent 3 Terminate-Requests")) || !bytes.Contains(table.Bytes(), []byte("sent 10 Configure-Naks")) {
		t.Errorf("the findings do not give pppd's counts:\n%s", table.String())
	}
}
