package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRemoteArgs: what connect asks the far end to run is serve's request
// protocol (serveRequest): "pppssh serve", then route and proxyarp words.
func TestRemoteArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"default", []string{"gw"}, []string{"pppssh", "serve"}},
		{"remote routes and proxyarp", []string{"gw", "--remote-route", "198.51.100.0/24", "--remote-route=203.0.113.128/25", "--remote-proxyarp"},
			[]string{"pppssh", "serve", "route", "198.51.100.0/24", "route", "203.0.113.128/25", "proxyarp"}},
		{"sudo", []string{"gw", "command", "sudo /usr/local/bin/pppssh serve", "--remote-route", "198.51.100.0/24"},
			[]string{"sudo", "/usr/local/bin/pppssh", "serve", "route", "198.51.100.0/24"}},
		{"shell syntax", []string{"gw", "--command", "echo sudo: a password is required >&2; sleep 60"},
			[]string{"sh", "-c", "echo sudo: a password is required >&2; sleep 60"}},
		{"shell syntax and a request", []string{"gw", "command", "cd /opt && ./pppssh serve", "--remote-proxyarp"},
			[]string{"sh", "-c", "cd /opt && ./pppssh serve proxyarp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, target, err := parseConnect(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if target != "gw" {
				t.Errorf("target %q", target)
			}
			got, err := remoteArgs(&o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("remote command (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConnectDefaults: connect probes the peer with LCP echoes every 10 s,
// 3 unanswered being fatal, unless told otherwise.
func TestConnectDefaults(t *testing.T) {
	o, _, err := parseConnect([]string{"slave@gw"})
	if err != nil {
		t.Fatal(err)
	}
	if o.echoInterval != 10 || o.echoFailure != 3 {
		t.Errorf("echo %d s × %d, want 10 s × 3", o.echoInterval, o.echoFailure)
	}
	o, _, err = parseConnect([]string{"slave@gw", "lcp-echo-interval", "0"})
	if err != nil || o.echoInterval != 0 {
		t.Errorf("lcp-echo-interval 0: %d, %v", o.echoInterval, err)
	}
}

// TestCommandLineErrors: wrong options of connect, server and demo give a
// one-line error and exit code 2; --help gives the usage with examples and
// exit code 0.
func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"connect"}, "connect needs the server"},
		{[]string{"connect", "gw", "other"}, `connect takes one [user@]host[:port], not "gw" and "other"`},
		{[]string{"connect", "gw", "--frobnicate"}, `unknown option "--frobnicate"`},
		{[]string{"connect", "gw", "--route", "203.0.113.1/24"}, "has host bits set"},
		{[]string{"connect", "gw", "pty", "ssh gw"}, "pty, notty and devices are for pppssh stdio"},
		{[]string{"connect", "gw", "--allow-remote-route", "198.51.100.0/24"}, "are for the far end"},
		{[]string{"connect", "gw", "command", "'unterminated"}, "unterminated"},
		{[]string{"connect", "@gw"}, "empty user name"},
		{[]string{"server"}, "needs its own link address"},
		{[]string{"server", "--pool", "192.0.2.0/31"}, "at least 4 addresses"},
		{[]string{"server", "--local", "192.0.2.1", "--listen", "2222"}, "want ADDR:PORT"},
		{[]string{"server", "--local", "192.0.2.1", "route", "203.0.113.0/24"}, "route and defaultroute are for connect"},
		{[]string{"server", "--local", "192.0.2.1", "ifname", "vpn0"}, "pattern with %d"},
		{[]string{"server", "--local", "192.0.2.1", "192.0.2.1:192.0.2.2"}, "gives each client the address of its key"},
		{[]string{"server", "--local", "192.0.2.1", "--allow-remote-route", "198.51.100.0/24"}, "pppssh-allow-route"},
		{[]string{"server", "--local", "192.0.2.1", "--listen"}, "needs an argument"},
		{[]string{"demo", "--fast"}, `unknown option "--fast"`},
		{[]string{"demo", "--size", "0"}, "from 1 to 100000"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		msg := errOut.String()
		if code != exitOptionErr || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, msg, tc.want)
		}
	}
	for _, cmd := range []string{"connect", "server", "demo"} {
		var out, errOut bytes.Buffer
		if code := run([]string{cmd, "--help"}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "Usage: pppssh "+cmd) ||
			!strings.Contains(out.String(), "xit codes") {
			t.Errorf("%s --help: exit %d, output:\n%s", cmd, code, out.String())
		}
	}
}
