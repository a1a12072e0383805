package pppdvm

import (
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ppp"
)

// TestBoot boots a VM, reads pppd's first LCP Configure-Request off the
// line, runs a command in the guest and reaches the guest's echo service
// over its loopback interface.
func TestBoot(t *testing.T) {
	// pppd gives up terminating after one unanswered Terminate-Request.
	vm := Start(t, Options{
		PPPDArgs: []string{"noauth", "lcp-restart", "1", "lcp-max-terminate", "1"},
		Files:    map[string]File{"/etc/pppdvm-test": {Data: []byte("extra file\n")}},
	})
	// The deadline starts after Start, which may have built the image.
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	dec := hdlc.NewDecoder(vm.Line())
	frame, err := dec.ReadFrame()
	if err != nil {
		t.Fatalf("reading the line: %v", err)
	}
	t.Logf("first frame from pppd %.1fs after qemu started", vm.Since().Seconds())
	proto, info, err := ppp.ParseHeader(frame)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := ppp.ParsePacket(info)
	if proto != ppp.ProtoLCP || err != nil || pkt.Code() != ppp.CodeConfigureRequest {
		t.Fatalf("first frame % x: want an LCP Configure-Request", frame)
	}
	if _, err := vm.WaitLog(ctx, "sent [LCP ConfReq id=0x1"); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []string{"pppdvm: insmod", "did not appear", "Kernel panic"} {
		if strings.Contains(vm.Log(), bad) {
			t.Errorf("the guest's log shows %q", bad)
		}
	}
	if out, err := vm.Exec(ctx, "cat", "/etc/pppdvm-test"); err != nil || out != "extra file\n" {
		t.Errorf("extra file: %q, %v", out, err)
	}
	out, err := vm.Exec(ctx, "sh", "-c", "echo hello | nc -w 1 127.0.0.1 7")
	if err != nil || out != "hello\n" {
		t.Errorf("echo service on the guest's loopback: %q, %v", out, err)
	}
	if _, err := vm.Exec(ctx, "false"); err == nil || !strings.Contains(err.Error(), "status 1") {
		t.Errorf("Exec(false) = %v, want exit status 1", err)
	}

	// pppd ends on SIGTERM; /init powers the VM off.
	if err := vm.SignalPPPD(ctx, 15); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.WaitLog(ctx, "pppdvm: pppd exited with status"); err != nil {
		t.Fatal(err)
	}
	if err := vm.Wait(); err != nil {
		t.Errorf("qemu: %v", err)
	}
	if _, err := io.ReadAll(vm.Line()); err != nil {
		t.Errorf("line after power-off: %v", err)
	}
}

// TestPPPDOptionError starts pppd with an option it does not know: pppd
// exits at once, the guest powers off, and WaitLog reports the exit
// instead of waiting for its context.
func TestPPPDOptionError(t *testing.T) {
	vm := Start(t, Options{PPPDArgs: []string{"noauth", "no-such-option"}})
	_, err := vm.WaitLog(t.Context(), "sent [LCP ConfReq")
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitLog = %v, want the VM's exit", err)
	}
	if err := vm.Wait(); err != nil {
		t.Errorf("qemu: %v", err)
	}
	for _, want := range []string{"unrecognized option 'no-such-option'", "pppdvm: pppd exited with status 2"} {
		if !strings.Contains(vm.Log(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// TestRestartPPPD restarts pppd on one VM three times: the first while it
// is still starting up, the second while it retransmits its
// Configure-Request, the last after it has exited by itself. Each new line
// starts with the new pppd's first Configure-Request (Identifier 0x1), and
// nothing the killed one sent, not even a piece of a frame, arrives on it.
func TestRestartPPPD(t *testing.T) {
	vm := Start(t, Options{PPPDArgs: []string{"noauth", "lcp-restart", "1"}, Respawn: true})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	for i := range 3 {
		if i == 2 {
			if err := vm.SignalPPPD(ctx, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if _, err := vm.WaitLogCount(ctx, "pppdvm: pppd exited with status", 3); err != nil {
				t.Fatal(err)
			}
		}
		begin := time.Now()
		line, err := vm.RestartPPPD(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("restart %d took %v", i+1, time.Since(begin).Round(time.Millisecond))
		if err := line.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		dec := hdlc.NewDecoder(line)
		for j := range 2 {
			frame, err := dec.ReadFrame()
			if err != nil {
				t.Fatalf("restart %d: reading the new line: %v", i+1, err)
			}
			_, info, err := ppp.ParseHeader(frame)
			if err != nil {
				t.Fatal(err)
			}
			pkt, err := ppp.ParsePacket(info)
			if err != nil || pkt.Code() != ppp.CodeConfigureRequest || pkt.ID() != 1 {
				t.Fatalf("restart %d, frame %d: % x, want the new pppd's Configure-Request id=0x1", i+1, j+1, frame)
			}
		}
		if s := dec.Stats(); s.BadFCS+s.Aborted+s.Short+s.Outside > 0 || len(dec.Garbage()) > 0 {
			t.Errorf("restart %d: octets outside the new pppd's frames arrived: %+v, %q", i+1, s, dec.Garbage())
		}
	}
	if n := strings.Count(vm.Log(), "pppdvm: pppd running as pid"); n != 4 {
		t.Errorf("pppd ran %d times, want 4", n)
	}
}
