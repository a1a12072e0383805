package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// TestPacketLinesArePppds drives an LCP automaton through our logger at
// debug level with the options and magic numbers of a real pppd 2.4.9
// session, and compares what it logs with what that pppd logged
// (hdlc/testdata/pppd-2.4.9-debug.txt): the same lines, character for
// character.
func TestPacketLinesArePppds(t *testing.T) {
	var stderr bytes.Buffer
	o := defaultOptions()
	o.debug = true
	logs, err := newLogging(&o, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lcp.DefaultConfig()
	cfg.Magic = func() uint32 { return 0x3d1981f }
	a := ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoLCP, Handler: lcp.New(cfg), Logger: logs.Logger})
	a.Open()
	a.Up()
	// The peer's Configure-Request, then its Configure-Ack of ours.
	a.Input(ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, []byte{1, 4, 0x05, 0xdc, 5, 6, 0x13, 0x05, 0xb0, 0x50, 7, 2, 8, 2}))
	a.Input(ppp.AppendPacket(nil, ppp.CodeConfigureAck, 1, []byte{2, 6, 0, 0, 0, 0, 5, 6, 0x03, 0xd1, 0x98, 0x1f, 7, 2, 8, 2}))

	pppdLog, err := os.ReadFile("../../hdlc/testdata/pppd-2.4.9-debug.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(string(pppdLog), "\n")[:4]
	var got []string
	for sc := bufio.NewScanner(&stderr); sc.Scan(); {
		if l := sc.Text(); strings.HasPrefix(l, "sent [") || strings.HasPrefix(l, "rcvd [") {
			got = append(got, l)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packet lines differ from pppd's (-pppd +ours):\n%s", diff)
	}
	if a.State() != ppp.StateOpened {
		t.Errorf("LCP in %v, want Opened", a.State())
	}
}

// TestLineHandler checks the text format: the message as is, then the
// attributes as key=value, quoted where needed; "warning: " and "error: "
// prefixes; groups as dotted keys.
func TestLineHandler(t *testing.T) {
	var b bytes.Buffer
	level := new(slog.LevelVar)
	log := slog.New(&lineHandler{sink: &fileSink{w: &b}, level: level})
	log.Info("local  IP address 192.0.2.1")
	log.Info("created TUN device", "device", "ppp0", "offload", true, "n", 3, "took", 1500*time.Millisecond)
	log.Warn("ip-up script failed", "script", "/etc/ppp/ip-up", "err", errors.New("exit status 1"))
	log.Error("tunnel: open /dev/net/tun: permission denied")
	log.Info("quoting", "empty", "", "eq", "a=b", "quote", `say "hi"`, "ctl", "a\x01", "args", []string{"ppp0", "vpn"})
	log.With("pid", 7).WithGroup("g").Info("grouped", "k", "v", slog.Group("sub", "x", 1))
	log.Debug("not shown")
	level.Set(slog.LevelDebug)
	log.Debug("sent [LCP EchoReq id=0x0 magic=0x3d1981f]")
	want := `local  IP address 192.0.2.1
created TUN device device=ppp0 offload=true n=3 took=1.5s
warning: ip-up script failed script=/etc/ppp/ip-up err="exit status 1"
error: tunnel: open /dev/net/tun: permission denied
quoting empty="" eq="a=b" quote="say \"hi\"" ctl="a\x01" args="[ppp0 vpn]"
grouped pid=7 g.k=v g.sub.x=1
sent [LCP EchoReq id=0x0 magic=0x3d1981f]
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestLogfileAndJSON: the logfile gets the lines behind a timestamp;
// --log-format json gives one JSON object per record everywhere.
func TestLogfileAndJSON(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	o := defaultOptions()
	o.logfile = filepath.Join(dir, "ppp.log")
	logs, err := newLogging(&o, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	logs.Logger.Info("Connection terminated.")
	logs.close()
	file, _ := os.ReadFile(o.logfile)
	if stderr.String() != "Connection terminated.\n" {
		t.Errorf("stderr %q", stderr.String())
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} Connection terminated\.\n$`).Match(file) {
		t.Errorf("logfile %q", file)
	}
	if fi, err := os.Stat(o.logfile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("logfile mode %v, %v; want 0600", fi.Mode(), err)
	}

	stderr.Reset()
	o = defaultOptions()
	o.logFormat = "json"
	logs, err = newLogging(&o, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	logs.Logger.Warn("ip-up script failed", "script", "/etc/ppp/ip-up")
	var rec map[string]any
	if err := json.Unmarshal(stderr.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %q: %v", stderr.String(), err)
	}
	if rec["level"] != "WARN" || rec["msg"] != "ip-up script failed" || rec["script"] != "/etc/ppp/ip-up" {
		t.Errorf("record %v", rec)
	}
	o = defaultOptions()
	o.logfile = filepath.Join(dir, "missing", "x.log")
	if _, err := newLogging(&o, &stderr); err == nil {
		t.Error("a logfile that cannot be created is not an error")
	}
}

// TestDetachLogging: once in the background, nothing more goes to
// standard error; the logfile goes on; SIGUSR1's toggle switches debug.
func TestDetachLogging(t *testing.T) {
	var stderr, file bytes.Buffer
	o := defaultOptions()
	logs, err := newLogging(&o, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	logs.Logger = slog.New(slog.NewMultiHandler(logs.Logger.Handler(), logs.handler("text", &fileSink{w: &file}, false)))
	logs.Logger.Info("before")
	logs.detach()
	logs.Logger.Info("after")
	logs.close()
	if stderr.String() != "before\n" || file.String() != "before\nafter\n" {
		t.Errorf("stderr %q, logfile %q", stderr.String(), file.String())
	}
	logs.toggleDebug()
	if !logs.Logger.Enabled(t.Context(), slog.LevelDebug) {
		t.Error("toggleDebug did not turn debug on")
	}
	logs.toggleDebug()
	if logs.Logger.Enabled(t.Context(), slog.LevelDebug) {
		t.Error("toggleDebug did not turn debug off")
	}
}
