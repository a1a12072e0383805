package peer

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/pppdvm"
)

// fuzzPPPDTarget is a Target whose every line is a fresh pppd in a VM
// (pppdvm's RestartPPPD). Its lines report how pppd exited, from the VM's
// console, so that a crash is told from silence.
type fuzzPPPDTarget struct{ vm *pppdvm.VM }

func (p fuzzPPPDTarget) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	c, err := p.vm.RestartPPPD(ctx)
	if err != nil {
		return nil, err
	}
	// The previous pppd's exit is logged before RestartPPPD returns.
	return &fuzzPPPDLine{Conn: c, vm: p.vm, start: len(p.vm.Log())}, nil
}

func (p fuzzPPPDTarget) String() string { return "pppd 2.4.9 (Debian) in a VM" }

// fuzzPPPDLine is a line to the VM's pppd; it implements ExitReporter.
type fuzzPPPDLine struct {
	net.Conn
	vm    *pppdvm.VM
	start int // the console log's length when this line's pppd started
}

var fuzzPPPDExit = regexp.MustCompile(`pppdvm: pppd exited with status (\d+)`)

// PeerExit reads the console: pppd catches SIGSEGV and the like, logs
// "Fatal signal N" and exits with status 127.
func (l *fuzzPPPDLine) PeerExit() (how string, crashed, ended bool) {
	log := l.vm.Log()[l.start:]
	m := fuzzPPPDExit.FindStringSubmatchIndex(log)
	if m == nil {
		return "", false, false
	}
	status, _ := strconv.Atoi(log[m[2]:m[3]])
	how = fmt.Sprintf("pppd exited with status %d", status)
	if i := strings.LastIndex(log[:m[0]], "Fatal signal "); i >= 0 {
		fatal, _, _ := strings.Cut(log[i:], "\n")
		return how + fmt.Sprintf(" after logging %q", fatal), true, true
	}
	if status > 128 {
		return how + fmt.Sprintf(" (killed by signal %d)", status-128), true, true
	}
	return how, false, true
}

// TestFuzzPPPD fuzzes a real pppd 2.4.9 for a short budget: every line a
// fresh pppd with addresses, a name server to hand out (so that IPCP Naks
// are built), IPv6CP and the default CCP, without authentication, and with
// the harness's "debug", which logs every packet.
//
// That logging is where the fuzzer found pppd 2.4.9 crash: its EAP packet
// printer passes the name of EAP types 7, 8 and 20, NULL in its table, to
// "%s", so one EAP Request or Response of such a type, received in any
// phase, makes pppd dereference NULL ("Fatal signal 11", exit 127). A run
// may find it; any other finding fails the test and its reproducer is
// kept. The test then replays that crash's one-frame reproducer, kept in
// testdata.
func TestFuzzPPPD(t *testing.T) {
	t.Parallel()
	pppdArgs := []string{"noauth", "192.0.2.1:192.0.2.2", "ms-dns", "192.0.2.53", "+ipv6", "lcp-echo-interval", "0"}
	vm := pppdvm.Start(t, pppdvm.Options{PPPDArgs: pppdArgs, Respawn: true})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if _, err := vm.WaitLog(ctx, "sent [LCP ConfReq id=0x1"); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pppssh-fuzz-pppd-")
	if err != nil {
		t.Fatal(err)
	}
	f := &Fuzzer{
		Target: fuzzPPPDTarget{vm}, Seed: 2026, Duration: 20 * time.Second, Timeout: 5 * time.Second,
		MaxFindings: 3, MinimizeRuns: 8, MinimizeTime: 10 * time.Second, ReproDir: dir, Log: fuzzTestLog(t),
	}
	res, err := f.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pppd %v: %d execs in %d batches over %d lines (%d ended by pppd), %d findings in %v",
		pppdArgs, res.Execs, res.Batches, res.Lines, res.Ended, len(res.Findings), res.Elapsed.Round(time.Millisecond))
	unknown := 0
	for _, fd := range res.Findings {
		if fd.Kind == PeerCrashed && strings.Contains(fd.Message, `"Fatal signal 11"`) {
			t.Logf("pppd crashed after batch %d (and %d times more), as it does on an EAP packet of type 7, 8 or 20: %s; reproducer of %s", fd.Batch, fd.Repeats, fd.Message, fd.Repro.Summary())
			continue
		}
		unknown++
		t.Errorf("finding against pppd: it %v after batch %d: %s; reproducer %s (%s)", fd.Kind, fd.Batch, fd.Message, fd.Path, fd.Repro.Summary())
	}
	if unknown > 0 {
		t.Logf("reproducers kept in %s", dir)
	} else {
		os.RemoveAll(dir)
	}
	if res.Batches < 5 || res.Lines < 2 {
		t.Errorf("only %d batches over %d lines in %v", res.Batches, res.Lines, res.Elapsed)
	}

	// The crash, as a longer campaign found and minimised it: one EAP
	// Request of type 8, before any LCP negotiation.
	r, err := ReadRepro("testdata/pppd-2.4.9-eap-type8.raw")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Replay(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != PeerCrashed || !strings.Contains(got.Message, `"Fatal signal 11"`) {
		t.Errorf("replaying %s: pppd %v (%s), want it crashed with SIGSEGV", r.Steps[0].text(), got.Kind, got.Message)
	}
}
