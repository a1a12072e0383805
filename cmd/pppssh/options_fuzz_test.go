package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fileArgs returns the paths words give to "file" (file PATH, --file PATH,
// --file=PATH), as nextToken reads them.
func fileArgs(words []string) []string {
	var paths []string
	for i, w := range words {
		name, value, hasValue := w, "", false
		if strings.HasPrefix(w, "-") && len(w) > 1 {
			name, value, hasValue = strings.Cut(strings.TrimLeft(w, "-"), "=")
		}
		switch {
		case name != "file":
		case hasValue:
			paths = append(paths, value)
		case i+1 < len(words):
			paths = append(paths, words[i+1])
		}
	}
	return paths
}

// checkParsed fails unless o holds values in the ranges the options
// allow, and maps to the engine's and the host's configuration.
func checkParsed(t *testing.T, o *options) {
	t.Helper()
	switch {
	case o.mtu < 128 || o.mtu > 65535, o.mru != 0 && (o.mru < 128 || o.mru > 65535):
		t.Fatalf("mtu %d, mru %d", o.mtu, o.mru)
	case len(o.msDNS) > 2 || len(o.msWINS) > 2:
		t.Fatalf("%d DNS and %d WINS servers", len(o.msDNS), len(o.msWINS))
	case o.local.IsValid() && (!o.local.Is4() || o.local == o.remote), o.remote.IsValid() && !o.remote.Is4():
		t.Fatalf("addresses %v:%v", o.local, o.remote)
	case o.logFormat != "text" && o.logFormat != "json":
		t.Fatalf("log format %q", o.logFormat)
	}
	for _, set := range [][]netip.Prefix{o.routes, o.remoteRoutes, o.allowRoutes} {
		for _, p := range set {
			if !p.IsValid() || p.Masked() != p {
				t.Fatalf("route %v", p)
			}
		}
	}
	engineConfig(o, nil)
	netConfig(o, netip.MustParseAddr("198.51.100.7"), false, nil)
	tunConfig(o, nil)
}

// FuzzOptionsFile reads pppd options files, the second one named by the
// first ("file b"), as "file a" on a command line does. It must not panic
// or loop, and must either fail with a *parseError or leave options within
// their ranges; the words of a file, quoted again for a shell, must split
// back into the same words.
func FuzzOptionsFile(f *testing.F) {
	f.Add("noauth\n192.0.2.1:192.0.2.2\n# the HOWTO's\nmtu 1400 route 203.0.113.0/24\nfile b\n", "lcp-echo-interval 5 'ipparam' \"v p\\\"n\" \\\n debug")
	f.Add("file b", "file a")
	f.Add("pty 'ssh -e none gw pppssh serve' --mru=1400 ms-dns 192.0.2.53 ms-dns 192.0.2.54", "asyncmap 0xa0000 logfile /tmp/x --log-format json")
	f.Add("# comment only", "")
	f.Add(`"unterminated`, "'")
	if stock, err := os.ReadFile("testdata/debian-etc-ppp-options"); err == nil {
		f.Add(string(stock), "")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		// Only the two files of the test may be read: "file a" and
		// "file b" are relative to its directory.
		for _, text := range []string{a, b} {
			words, err := splitWords(text)
			if err != nil {
				continue
			}
			for _, p := range fileArgs(words) {
				if p != "a" && p != "b" {
					return
				}
			}
			line := shellQuote(words)
			again, err := splitWords(line)
			if err != nil || !slices.Equal(again, words) {
				t.Fatalf("splitWords(shellQuote(%q) = %q) = %q, %v", words, line, again, err)
			}
		}
		dir := t.TempDir()
		for name, text := range map[string]string{"a": a, "b": b} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Chdir(dir)
		o := defaultOptions()
		if err := parseOptions(&o, []string{"file", "a"}, "command line", nil); err != nil {
			if _, ok := err.(*parseError); !ok {
				t.Fatalf("error %T %v, want a *parseError", err, err)
			}
			return
		}
		checkParsed(t, &o)
	})
}

// FuzzOptionWords parses a command line, its words separated by NUL. It
// must not panic, must fail with a *parseError or leave options within
// their ranges, and the same words read from an options file (quoted as
// a shell would) must give the same options.
func FuzzOptionWords(f *testing.F) {
	for _, s := range []string{
		"updetach\x00noauth\x00silent\x00nodeflate\x00pty\x00ssh root@gw pppd nodetach notty noauth\x00ipparam\x00vpn\x0010.0.8.1:10.0.8.2",
		"--mtu=1400\x00--route\x00203.0.113.0/24\x00--lcp-echo-interval=5\x00--asyncmap\x00a0000\x00gw",
		"/dev/ttyS0\x00115200\x00crtscts\x00local\x00192.0.2.1:\x00unit\x007",
		"--allow-remote-route\x00198.51.100.0/24\x00--allow-proxyarp\x00:192.0.2.2\x00ms-wins\x00192.0.2.9",
		"route\x00203.0.113.1/24\x00demand\x00--frobnicate",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := strings.Split(s, "\x00")
		if len(fileArgs(words)) > 0 {
			return // reads files; FuzzOptionsFile covers that
		}
		o := defaultOptions()
		var pos []string
		err := parseOptions(&o, words, "command line", func(w string) error { pos = append(pos, w); return nil })
		if err != nil {
			if _, ok := err.(*parseError); !ok {
				t.Fatalf("error %T %v, want a *parseError", err, err)
			}
			return
		}
		checkParsed(t, &o)

		// The same words from an options file.
		path := filepath.Join(t.TempDir(), "options")
		if err := os.WriteFile(path, []byte(shellQuote(words)), 0o644); err != nil {
			t.Fatal(err)
		}
		fromFile := defaultOptions()
		var pos2 []string
		err = parseOptions(&fromFile, []string{"file", path}, "command line", func(w string) error { pos2 = append(pos2, w); return nil })
		if len(pos) == 0 && (err != nil || !reflect.DeepEqual(fromFile, o)) {
			t.Fatalf("from a file: %+v, %v\nfrom the command line: %+v", fromFile, err, o)
		}
	})
}

// The forced command FuzzServeRequest vets requests against, by the bits
// of its grants argument.
var fuzzForced = [][]string{
	{"192.0.2.2:192.0.2.1"},
	{"--allow-remote-route", "203.0.113.0/24", "--allow-remote-route", "198.51.100.128/25"},
	{"--allow-proxyarp"},
	{"mtu", "1400", "lcp-echo-interval", "10"},
	{"ifname", "ppp-alice", "ipparam", "office", "route", "198.51.100.0/25"},
}

// adminOnly returns o without what a client's request may change: the
// link tuning of requestAdmitted, routes and proxy ARP (checked against the
// grants), and the no-op words, which are only recorded. A new option is
// the forced command's alone until it is added here.
func adminOnly(o options) options {
	o.mtu, o.mru, o.asyncmap, o.hasAsyncmap = 0, 0, 0, false
	o.echoInterval, o.echoFailure, o.lcpRestart = 0, 0, 0
	o.lcpMaxConfigure, o.lcpMaxTerminate, o.lcpMaxFailure = 0, 0, 0
	o.passive, o.silent, o.noFCS32, o.noACComp, o.noPComp, o.defaultMRU = false, false, false, false, false, false
	o.mssClamp, o.usePeerDNS, o.debug, o.nodetach, o.notty = false, false, false, false, false
	o.routes, o.proxyARP, o.ignored = nil, false, nil
	return o
}

// FuzzServeRequest vets the command a client asks sshd to run
// (SSH_ORIGINAL_COMMAND) against a forced command, as serve does. Whatever
// the client sends, a request that is granted must change nothing but the
// link tuning, and routes and proxy ARP as far as the forced command grants
// them: no file is read, no script, interface, address or logfile is set.
func FuzzServeRequest(f *testing.F) {
	for _, s := range []string{
		"pppssh serve",
		"pppssh serve route 203.0.113.0/24 mtu 1300 nofcs32 debug",
		"/usr/local/bin/pppssh serve --route=198.51.100.130/32 route 203.0.113.64/26 proxyarp",
		"sudo /usr/sbin/pppd nodetach notty noauth 192.0.2.2:192.0.2.1",
		"exec pppssh serve 'route' \"203.0.113.0/24\" ip-up /tmp/x file /etc/shadow",
		"pppssh serve kdebug 7 lcp-max-configure 3 usepeerdns mss-clamp",
	} {
		f.Add(s, byte(0xff))
	}
	f.Fuzz(func(t *testing.T, cmdline string, grants byte) {
		var adminArgs []string
		for i, words := range fuzzForced {
			if grants>>i&1 != 0 {
				adminArgs = append(adminArgs, words...)
			}
		}
		admin := defaultOptions()
		if err := parseOptions(&admin, adminArgs, "command line", nil); err != nil {
			t.Fatal(err)
		}
		words, err := requestWords(cmdline)
		if err != nil {
			return
		}
		p := policyOf(&admin)
		if refused := checkRequest(words, p); len(refused) > 0 {
			return
		}
		table := optionTable(new(defaultOptions()))
		for i := 0; i < len(words); {
			tok, next, err := nextToken(table, words, i, "request")
			if err == nil && tok.kind == tokFile {
				t.Fatalf("granted a request that reads a file: %q", words)
			}
			i = next
		}
		o, _, err := applyRequest(admin, adminArgs, cmdline)
		if err != nil {
			return // granted words with bad values: refused at parsing
		}

		// Routes: the forced command's, or within a granted network.
		for _, r := range o.routes {
			if !slices.Contains(admin.routes, r) && !p.allowsRoute(r) {
				t.Fatalf("request %q added route %v; the forced command allows %v", cmdline, r, admin.allowRoutes)
			}
		}
		if o.proxyARP && !admin.proxyARP && !admin.allowProxyARP {
			t.Fatalf("request %q turned proxy ARP on", cmdline)
		}
		// Everything else is the forced command's.
		if got, want := adminOnly(o), adminOnly(admin); !reflect.DeepEqual(got, want) {
			t.Fatalf("request %q changed what only the forced command sets:\n got %+v\nwant %+v", cmdline, got, want)
		}
	})
}

// An options file that names itself, directly or through another, is an
// error rather than a stack overflow. FuzzOptionsFile found it.
func TestOptionsFileNamesItself(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for path, text := range map[string]string{a: "noauth\nfile " + b + "\n", b: "mtu 1400 file " + a} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := defaultOptions()
	err := parseOptions(&o, []string{"file", a}, "command line", nil)
	if _, ok := err.(*parseError); !ok || !strings.Contains(err.Error(), "nested more than 16 deep") {
		t.Fatalf("parseOptions = %v, want a *parseError about nesting", err)
	}
	if o.fileDepth != 0 {
		t.Errorf("fileDepth %d after parsing", o.fileDepth)
	}
}
