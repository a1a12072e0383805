package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var forced = []string{"192.0.2.2:192.0.2.1", "--allow-remote-route", "203.0.113.0/24", "--allow-remote-route", "198.51.100.128/25", "mtu", "1400"}

func forcedOptions(t *testing.T, args ...string) options {
	t.Helper()
	o := defaultOptions()
	if err := parseOptions(&o, args, "command line", nil); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestRequestWords: which commands a client may ask for under a forced
// command, and what of them is the request.
func TestRequestWords(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    []string
		err     string
	}{
		{"pppssh serve", nil, ""},
		{"pppssh serve --route 203.0.113.0/24", []string{"--route", "203.0.113.0/24"}, ""},
		{"/usr/local/bin/pppssh serve route '203.0.113.0/24' mtu 1400", []string{"route", "203.0.113.0/24", "mtu", "1400"}, ""},
		{"exec pppssh serve proxyarp", []string{"proxyarp"}, ""},
		{"sudo /usr/sbin/pppd nodetach notty noauth", []string{"nodetach", "notty", "noauth"}, ""},
		{"pppssh stdio", nil, `this key runs only pppssh serve, and the client asked to run "pppssh stdio"`},
		{"bash -i", nil, "this key runs only pppssh serve"},
		{"scp -t /etc/passwd", nil, "this key runs only pppssh serve"},
		{"sudo -u root pppd", nil, "this key runs only pppssh serve"},
		{"pppssh serve 'unterminated", nil, "cannot read the command the client asked for"},
	} {
		got, err := requestWords(tc.cmdline)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.cmdline, err, tc.err)
			}
		case err != nil || !slices.Equal(got, tc.want):
			t.Errorf("%q: %q, %v; want %q", tc.cmdline, got, err, tc.want)
		}
	}
}

// TestCheckRequest: the allow-list. Routes within --allow-remote-route,
// link tuning and pppd's no-op words pass; routes elsewhere, other
// addresses than the forced command's, and everything that reaches beyond
// the link are refused, each with its reason.
func TestCheckRequest(t *testing.T) {
	p := policyOf(new(forcedOptions(t, forced...)))
	for _, tc := range []struct {
		name    string
		request []string
		refused []string
	}{
		{"nothing", nil, nil},
		{"allowed route", []string{"--route", "203.0.113.0/24"}, nil},
		{"allowed subnet", []string{"route", "203.0.113.64/26", "--route=198.51.100.130/32", "route", "198.51.100.200"}, nil},
		{"link tuning", []string{"mtu", "1300", "mru", "1300", "lcp-echo-interval", "10", "nofcs32", "debug", "mss-clamp", "silent", "passive", "usepeerdns"}, nil},
		{"pppd no-op words", []string{"nodetach", "notty", "noauth", "novj", "nodeflate", "noccp", "lock"}, nil},
		{"same addresses", []string{"192.0.2.2:192.0.2.1"}, nil},
		{"same client address", []string{":192.0.2.1"}, nil},
		{"route elsewhere", []string{"route", "198.51.100.0/24"},
			[]string{"route 198.51.100.0/24: not within the networks the forced command allows (--allow-remote-route 203.0.113.0/24, 198.51.100.128/25)"}},
		{"wider route", []string{"route", "203.0.112.0/23"}, []string{"route 203.0.112.0/23: not within the networks the forced command allows (--allow-remote-route 203.0.113.0/24, 198.51.100.128/25)"}},
		{"default route as a route", []string{"route", "0.0.0.0/0"}, []string{"route 0.0.0.0/0: not within the networks the forced command allows (--allow-remote-route 203.0.113.0/24, 198.51.100.128/25)"}},
		{"bad route", []string{"route", "nonsense"}, []string{`route "nonsense" is not an IPv4 network`}},
		{"proxyarp", []string{"proxyarp"}, []string{"proxyarp: the forced command does not allow it (--allow-proxyarp)"}},
		{"grab another client address", []string{"192.0.2.2:192.0.2.77"}, []string{"192.0.2.77 as the client's address: the forced command gives 192.0.2.1"}},
		{"grab the server's address", []string{"192.0.2.9:"}, []string{"192.0.2.9 as the server's address: the forced command gives 192.0.2.2"}},
		{"accept-remote", []string{"ipcp-accept-remote"}, []string{"ipcp-accept-remote: clients may not set it"}},
		{"defaultroute", []string{"defaultroute"}, []string{"defaultroute: clients may not set it"}},
		{"scripts and files", []string{"ip-up", "/tmp/x", "logfile", "/etc/passwd", "file", "/etc/shadow", "pty", "sh"},
			[]string{"ip-up: clients may not set it", "logfile: clients may not set it", "file: clients may not read files on the server", "pty: clients may not set it"}},
		{"interface", []string{"ifname", "eth0", "unit", "0"}, []string{"ifname: clients may not set it", "unit: clients may not set it"}},
		{"grants", []string{"allow-remote-route", "0.0.0.0/0", "allow-proxyarp"},
			[]string{"allow-remote-route: clients may not set it", "allow-proxyarp: clients may not set it"}},
		{"connect-side option", []string{"--remote-route", "203.0.113.0/24"},
			[]string{"remote-route: an option of the connecting side, not of serve (the request says route or proxyarp)"}},
		{"device", []string{"/dev/ttyS0"}, []string{"/dev/ttyS0: clients may not choose a device"}},
		{"unknown", []string{"--frobnicate", "frobnicate"}, []string{`unknown option "--frobnicate"`, `"frobnicate": not a serve option`}},
		{"unsupported", []string{"demand"}, []string{"option demand is not supported: dial on demand is not supported; use persist"}},
		{"missing argument", []string{"route"}, []string{"option route needs an argument CIDR"}},
		{"mixed", []string{"route", "203.0.113.0/24", "route", "192.0.2.0/24", "mtu", "1400"},
			[]string{"route 192.0.2.0/24: not within the networks the forced command allows (--allow-remote-route 203.0.113.0/24, 198.51.100.128/25)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkRequest(tc.request, p)
			if diff := cmp.Diff(tc.refused, got); diff != "" {
				t.Errorf("%q (-want +got):\n%s", tc.request, diff)
			}
		})
	}
}

// TestCheckRequestNoGrants: a forced command that grants nothing and fixes
// no address refuses routes, proxyarp and any address.
func TestCheckRequestNoGrants(t *testing.T) {
	p := policyOf(new(forcedOptions(t)))
	got := checkRequest([]string{"route", "203.0.113.0/24", "proxyarp", "192.0.2.1:192.0.2.2"}, p)
	want := []string{
		"route 203.0.113.0/24: the forced command allows no routes (--allow-remote-route CIDR)",
		"proxyarp: the forced command does not allow it (--allow-proxyarp)",
		"192.0.2.1 as the server's address: the forced command fixes no such address (give it LOCAL:REMOTE)",
		"192.0.2.2 as the client's address: the forced command fixes no such address (give it LOCAL:REMOTE)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := checkRequest([]string{"proxyarp"}, policyOf(new(forcedOptions(t, "allow-proxyarp")))); got != nil {
		t.Errorf("proxyarp refused under --allow-proxyarp: %q", got)
	}
}

// TestApplyRequest: what serve runs with. The request's route is added to
// the forced command's options; where both set an option, the forced
// command's value stands; a refusal is one message naming every refused
// word.
func TestApplyRequest(t *testing.T) {
	admin := forcedOptions(t, forced...)
	o, notes, err := applyRequest(admin, forced, "pppssh serve route 203.0.113.0/24 mtu 1500 lcp-echo-interval 10")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.routes, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}) {
		t.Errorf("routes %v", o.routes)
	}
	if o.mtu != 1400 || o.echoInterval != 10 || o.local != addr2 || o.remote != addr1 {
		t.Errorf("mtu %d (want the forced command's 1400), echo %d, addresses %v:%v", o.mtu, o.echoInterval, o.local, o.remote)
	}
	wantNotes := []string{
		"client's request granted: route 203.0.113.0/24 mtu 1500 lcp-echo-interval 10",
		"the forced command overrides the client's request for mtu",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}

	_, _, err = applyRequest(admin, forced, "pppssh serve route 198.51.100.0/24 ifname eth0")
	want := `pppssh serve: refused the client's request "pppssh serve route 198.51.100.0/24 ifname eth0": ` +
		`route 198.51.100.0/24: not within the networks the forced command allows (--allow-remote-route 203.0.113.0/24, 198.51.100.128/25); ` +
		`ifname: clients may not set it. Leave it out, or have the administrator grant it in the forced command (authorized_keys command="pppssh serve …")`
	if err == nil || err.Error() != want {
		t.Errorf("refusal:\n got %v\nwant %s", err, want)
	}
	_, _, err = applyRequest(admin, forced, "pppssh serve mtu 12")
	if err == nil || !strings.Contains(err.Error(), "option mtu: want a number from 128 to 65535") {
		t.Errorf("bad value: %v", err)
	}
	if _, notes, err := applyRequest(forcedOptions(t), nil, "pppssh serve"); err != nil || !slices.ContainsFunc(notes, func(n string) bool {
		return strings.Contains(n, "does not fix the client's address")
	}) {
		t.Errorf("no warning about an unfixed client address: %q, %v", notes, err)
	}
}

// TestServeRequest: what connect sends for its --remote-route and
// --remote-proxyarp passes a forced command that grants them, and is
// refused by one that does not.
func TestServeRequest(t *testing.T) {
	o := defaultOptions()
	if err := parseOptions(&o, []string{"--remote-route", "203.0.113.0/24", "--remote-proxyarp", "192.0.2.1:192.0.2.2"}, "test", nil); err != nil {
		t.Fatal(err)
	}
	cmdline := shellQuote(serveRequest(&o))
	if cmdline != "pppssh serve route 203.0.113.0/24 proxyarp" {
		t.Errorf("request %q", cmdline)
	}
	words, err := requestWords(cmdline)
	if err != nil {
		t.Fatal(err)
	}
	if got := checkRequest(words, policyOf(new(forcedOptions(t, "allow-remote-route", "203.0.113.0/24", "allow-proxyarp")))); got != nil {
		t.Errorf("refused by a forced command that grants it: %q", got)
	}
	if got := checkRequest(words, policyOf(new(forcedOptions(t)))); len(got) != 2 {
		t.Errorf("not refused by a forced command that grants nothing: %q", got)
	}
}
