package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func parse(t *testing.T, args ...string) (options, []string, error) {
	t.Helper()
	o := defaultOptions()
	var pos []string
	err := parseOptions(&o, args, "command line", func(w string) error { pos = append(pos, w); return nil })
	return o, pos, err
}

// The HOWTO's pppd command lines parse as pppd words and as flags alike.
func TestOptionsWordsAndFlags(t *testing.T) {
	words, pos, err := parse(t, "updetach", "noauth", "silent", "nodeflate", "pty", "ssh root@gw pppd nodetach notty noauth",
		"ipparam", "vpn", "192.0.2.1:192.0.2.2", "mtu", "1400", "route", "203.0.113.0/24", "lcp-echo-interval", "5", "asyncmap", "0xa0000", "gw")
	if err != nil {
		t.Fatal(err)
	}
	flags, pos2, err := parse(t, "--updetach", "--noauth", "--silent", "--nodeflate", "--pty=ssh root@gw pppd nodetach notty noauth",
		"--ipparam", "vpn", "192.0.2.1:192.0.2.2", "--mtu=1400", "--route", "203.0.113.0/24", "--lcp-echo-interval=5", "--asyncmap", "a0000", "gw")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(words, flags, cmp.AllowUnexported(options{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("words and flags differ (-words +flags):\n%s", diff)
	}
	if !words.updetach || !words.silent || words.ipparam != "vpn" || words.mtu != 1400 || words.echoInterval != 5 ||
		words.asyncmap != 0xa0000 || !words.hasAsyncmap || words.pty != "ssh root@gw pppd nodetach notty noauth" {
		t.Errorf("options not applied: %+v", words)
	}
	if words.local != netip.MustParseAddr("192.0.2.1") || words.remote != netip.MustParseAddr("192.0.2.2") {
		t.Errorf("LOCAL:REMOTE = %v:%v", words.local, words.remote)
	}
	if len(words.routes) != 1 || words.routes[0] != netip.MustParsePrefix("203.0.113.0/24") {
		t.Errorf("routes %v", words.routes)
	}
	if !cmp.Equal(pos, []string{"gw"}) || !cmp.Equal(pos2, []string{"gw"}) {
		t.Errorf("positional %v %v, want [gw]", pos, pos2)
	}
}

func TestOptionsAddressPairs(t *testing.T) {
	for _, tc := range []struct{ word, local, remote string }{
		{"192.0.2.1:192.0.2.2", "192.0.2.1", "192.0.2.2"},
		{":192.0.2.2", "invalid IP", "192.0.2.2"},
		{"192.0.2.1:", "192.0.2.1", "invalid IP"},
	} {
		o, _, err := parse(t, tc.word)
		if err != nil {
			t.Fatalf("%s: %v", tc.word, err)
		}
		if o.local.String() != tc.local || o.remote.String() != tc.remote {
			t.Errorf("%s: %v:%v", tc.word, o.local, o.remote)
		}
	}
	// host:port is not an address pair.
	_, pos, err := parse(t, "gw.example:2222")
	if err != nil || !cmp.Equal(pos, []string{"gw.example:2222"}) {
		t.Errorf("host:port: %v %v", pos, err)
	}
	if _, _, err := parse(t, "192.0.2.1:192.0.2.1"); err == nil {
		t.Error("equal addresses accepted")
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--frobnicate"}, `unknown option "--frobnicate" (command line)`},
		{[]string{"mtu"}, "option mtu needs an argument N"},
		{[]string{"mtu", "12"}, "option mtu: want a number from 128 to 65535"},
		{[]string{"--noauth=yes"}, "option noauth takes no argument"},
		{[]string{"route", "203.0.113.7/24"}, "has host bits set (did you mean 203.0.113.0/24?)"},
		{[]string{"asyncmap", "zz"}, "want a 32-bit hexadecimal map"},
		{[]string{"ms-dns", "::1"}, "want an IPv4 address"},
		{[]string{"file", "/nonexistent/options"}, "no such file or directory"},
	} {
		_, _, err := parse(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.want)
		}
	}
	// Without a positional handler, a stray word is an unknown option.
	o := defaultOptions()
	if err := parseOptions(&o, []string{"frobnicate"}, "here", nil); err == nil || !strings.Contains(err.Error(), `unknown option "frobnicate" (here)`) {
		t.Errorf("stray word: %v", err)
	}
}

func TestOptionsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "options.vpn")
	text := "# the HOWTO's options\nnoauth   # no peer auth\n192.0.2.1:192.0.2.2\npty \"ssh -t slave@gw sudo pppd\"\n holdoff 5 persist\nlcp-echo-failure 3\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	o, _, err := parse(t, "file", path, "debug")
	if err != nil {
		t.Fatal(err)
	}
	if o.pty != "ssh -t slave@gw sudo pppd" || !o.persist || o.holdoff != 5*time.Second || o.echoFailure != 3 || !o.debug ||
		o.local != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("options from file: %+v", o)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("mtu 1400\nfrobnicate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := parse(t, "file", bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v, want the file named", err)
	}
}

func TestSplitWordsAndShellQuote(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`pppd nodetach notty noauth`, []string{"pppd", "nodetach", "notty", "noauth"}},
		{`ssh "root@gw" 'pppd  notty' # comment`, []string{"ssh", "root@gw", "pppd  notty"}},
		{`a\ b "c \"d\"" ''`, []string{"a b", `c "d"`, ""}},
	} {
		got, err := splitWords(tc.in)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitWords(`"open`); err == nil {
		t.Error("unterminated quote accepted")
	}
	words := []string{"pppssh", "serve", "--remote-route", "203.0.113.0/24", "it's", "a b", "$HOME", ""}
	back, err := splitWords(shellQuote(words))
	if err != nil || !cmp.Equal(back, words) {
		t.Errorf("shellQuote round trip: %q -> %q (%v)", words, back, err)
	}
}
