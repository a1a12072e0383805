package main

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/hdlc"
)

// TestDecodeCapture decodes the octets a real pppd 2.4.9 wrote on its line
// and checks that every LCP and IPCP packet prints exactly as pppd's own
// debug log printed it when sending.
func TestDecodeCapture(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"decode", "../../hdlc/testdata/pppd-2.4.9-tx.raw"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	log, err := os.ReadFile("../../hdlc/testdata/pppd-2.4.9-debug.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "16 frames; dropped: 0 bad FCS") {
		t.Errorf("summary line missing or wrong:\n%s", out.String())
	}
	keep := func(s string) bool { return strings.HasPrefix(s, "[LCP ") || strings.HasPrefix(s, "[IPCP ") }
	var want, got []string
	for sc := bufio.NewScanner(bytes.NewReader(log)); sc.Scan(); {
		if l, ok := strings.CutPrefix(sc.Text(), "sent "); ok && keep(l) {
			want = append(want, l)
		}
	}
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		if keep(sc.Text()) {
			got = append(got, sc.Text())
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded packets differ from pppd's log (-want +got):\n%s", diff)
	}
}

// TestDecodeShowsText shows what a far end printed instead of PPP.
func TestDecodeShowsText(t *testing.T) {
	f := t.TempDir() + "/line.raw"
	if err := os.WriteFile(f, []byte("sudo: a terminal is required to read the password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"decode", f}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `not PPP (50 octets before the first frame): "sudo: a terminal is required to read the password\n"`) {
		t.Errorf("output does not show the text:\n%s", out.String())
	}
}

// TestDecodeHidesPAPPassword decodes a line carrying a PAP
// Authenticate-Request: the user shows, the password never does.
func TestDecodeHidesPAPPassword(t *testing.T) {
	req := []byte{0xc0, 0x23, 1, 2, 0, 17, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', '3', 't'}
	f := t.TempDir() + "/line.raw"
	if err := os.WriteFile(f, new(hdlc.Encoder).AppendFrame(nil, req), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"decode", f}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `[PAP AuthReq id=0x2 user="alice" password=<hidden>]`) || strings.Contains(out.String(), "s3cr3t") ||
		strings.Contains(out.String(), "73 33 63") {
		t.Errorf("decode of a PAP request:\n%s", out.String())
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "decode") {
		t.Errorf("--help: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"help", "options"}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "lcp-echo-interval SECONDS") {
		t.Errorf("help options: exit %d, output %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errOut); code != exitOptionErr || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut.String())
	}
	if code := run(nil, &out, &errOut); code != exitOptionErr {
		t.Errorf("no command: exit %d, want %d", code, exitOptionErr)
	}
}

// TestCommandHelp: every command of this file has --help with examples,
// and "pppssh help" lists the commands and pppd's exit codes.
func TestCommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"stdio", "--help"}, []string{"Usage: pppssh stdio", "Examples:", "pty 'ssh"}},
		{[]string{"serve", "-h"}, []string{"Usage: pppssh serve", "SSH_ORIGINAL_COMMAND", `command="pppssh serve 192.0.2.2:192.0.2.1 --allow-remote-route 203.0.113.0/24",restrict`}},
		{[]string{"pppd", "--help"}, []string{"Usage: pppd [tty_name] [speed] [options]", `pty "ssh root@gw pppd nodetach notty noauth"`}},
		{[]string{"help"}, []string{"stdio", "serve", "pppd", "Exit codes (pppd's numbers):", "10  PPP negotiation failed", "16  the stream closed"}},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &out, &errOut); code != exitOK {
			t.Errorf("%q: exit %d: %s", tc.args, code, errOut.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%q: output lacks %q", tc.args, w)
			}
		}
	}
	var out, errOut bytes.Buffer
	if code := runPppd([]string{"--version"}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "pppd version 2.4.9 compatible") {
		t.Errorf("pppd --version: %d %q", code, out.String())
	}
}
