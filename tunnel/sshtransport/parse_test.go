package sshtransport

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  string
	}{
		{in: "host", want: Target{Host: "host"}},
		{in: "user@host", want: Target{User: "user", Host: "host"}},
		{in: "user@host:2222", want: Target{User: "user", Host: "host", Port: 2222}},
		{in: "host:22", want: Target{Host: "host", Port: 22}},
		{in: "192.0.2.1:2200", want: Target{Host: "192.0.2.1", Port: 2200}},
		{in: "[2001:db8::1]:2222", want: Target{Host: "2001:db8::1", Port: 2222}},
		{in: "root@[2001:db8::1]", want: Target{User: "root", Host: "2001:db8::1"}},
		{in: "2001:db8::1", want: Target{Host: "2001:db8::1"}},
		{in: "me@corp@gw", want: Target{User: "me@corp", Host: "gw"}},
		{in: "", err: "no host"},
		{in: "user@", err: "no host"},
		{in: "@host", err: "empty user"},
		{in: "host:", err: "empty port"},
		{in: "host:0", err: "invalid port"},
		{in: "host:65536", err: "invalid port"},
		{in: "host:ssh", err: "invalid port"},
		{in: "[::1", err: "missing ']'"},
		{in: "[::1]x", err: "unexpected"},
		{in: "[]:22", err: "no host"},
		{in: "a b", err: "invalid host"},
	} {
		got, err := ParseTarget(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseTarget(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		case tc.err == "":
			// String gives back something that parses the same.
			if again, err := ParseTarget(got.String()); err != nil || again != got {
				t.Errorf("ParseTarget(%q.String() = %q) = %+v, %v", tc.in, got.String(), again, err)
			}
		}
	}
}

func TestQuoteCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pppssh", "serve"}, "pppssh serve"},
		{defaultRemoteArgs, "pppssh serve"},
		{[]string{"sudo", "/usr/sbin/pppd", "noauth", "192.0.2.1:192.0.2.2"}, "sudo /usr/sbin/pppd noauth 192.0.2.1:192.0.2.2"},
		{[]string{"pppssh", "serve", "--remote-route=203.0.113.0/24"}, "pppssh serve --remote-route=203.0.113.0/24"},
		{[]string{"A=1", "cmd"}, "'A=1' cmd"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{"a b", ""}, "'a b' ''"},
		{[]string{"$HOME", "~", "#x", "*"}, `'$HOME' '~' '#x' '*'`},
	} {
		if got := QuoteCommand(tc.args); got != tc.want {
			t.Errorf("QuoteCommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: "  pppssh   serve\t--x \n", want: []string{"pppssh", "serve", "--x"}},
		{in: `a 'b c' "d e" f\ g`, want: []string{"a", "b c", "d e", "f g"}},
		{in: `'it'\''s' "say \"hi\"" "back\\slash" "keep\n"`, want: []string{"it's", `say "hi"`, `back\slash`, `keep\n`}},
		{in: `'' ""`, want: []string{"", ""}},
		{in: "a\\\nb", want: []string{"ab"}},
		{in: "x#y", want: []string{"x#y"}},
		{in: "a; b", err: "unquoted ';'"},
		{in: "a | b", err: "unquoted '|'"},
		{in: "a > b", err: "unquoted '>'"},
		{in: "echo $HOME", err: "unquoted '$'"},
		{in: "echo `id`", err: "unquoted '`'"},
		{in: `echo "$HOME"`, err: "inside double quotes"},
		{in: "a #comment", err: "comment"},
		{in: "'open", err: "unterminated single quote"},
		{in: `"open`, err: "unterminated double quote"},
		{in: `a\`, err: "backslash at the end"},
	} {
		got, err := SplitCommand(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("SplitCommand(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzSplitCommand checks that SplitCommand never panics, that it reverses
// QuoteCommand for any arguments, and that the words it splits a line into
// split the same once quoted again.
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"pppssh\x00serve", "it's\x00a b\x00", "$HOME\x00`id`\x00\"q\"", "\\\x00\n\x00#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if words, err := SplitCommand(s); err == nil {
			line := QuoteCommand(words)
			again, err := SplitCommand(line)
			if err != nil || !slices.Equal(again, words) {
				t.Fatalf("SplitCommand(QuoteCommand(SplitCommand(%q) = %q) = %q) = %q, %v", s, words, line, again, err)
			}
		}
		args := strings.Split(s, "\x00")
		line := QuoteCommand(args)
		got, err := SplitCommand(line)
		if err != nil || !slices.Equal(got, args) {
			t.Fatalf("SplitCommand(QuoteCommand(%q) = %q) = %q, %v", args, line, got, err)
		}
	})
}

func TestParseAuthorizedKeys(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHy4gRWi0Q7tE7PPpHXj1sJ2P8r4ZQ8tZ1Y4y7x0q3Hc"
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key)); err != nil {
		t.Fatalf("test key: %v", err)
	}
	for _, tc := range []struct {
		name    string
		line    string
		want    KeySettings
		comment string
		err     string
	}{
		{name: "plain", line: key + " alice@laptop", comment: "alice@laptop"},
		{name: "address", line: `pppssh-address="192.0.2.10" ` + key, want: KeySettings{Address: netip.MustParseAddr("192.0.2.10")}},
		{name: "pool and routes", line: `pppssh-pool="192.0.2.16/28",pppssh-allow-route="203.0.113.0/24",pppssh-allow-route="2001:db8::/32" ` + key + " branch office",
			want: KeySettings{Pool: netip.MustParsePrefix("192.0.2.16/28"),
				AllowRoutes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}},
			comment: "branch office"},
		{name: "restrict", line: "restrict " + key, want: KeySettings{NoPTY: true}},
		{name: "restrict then pty", line: "restrict,pty " + key, want: KeySettings{}},
		{name: "no-pty and harmless options", line: "no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc " + key, want: KeySettings{NoPTY: true}},
		{name: "from", line: `from="10.0.0.0/8,!10.0.0.1,*.example.org" ` + key},
		{name: "quote in value", line: `from="a\"b" ` + key},
		{name: "not a key", line: "ssh-ed25519 AAAA", err: "not a valid key line"},
		{name: "unknown option", line: `frobnicate ` + key, err: "unknown option frobnicate"},
		{name: "unknown pppssh option", line: `pppssh-adress="192.0.2.1" ` + key, err: "unknown option pppssh-adress (pppssh's are"},
		{name: "command", line: `command="/bin/true" ` + key, err: "option command is not supported"},
		{name: "cert-authority", line: `cert-authority ` + key, err: "not supported"},
		{name: "bad address", line: `pppssh-address="192.0.2.300" ` + key, err: "want an IPv4 address"},
		{name: "IPv6 address", line: `pppssh-address="2001:db8::1" ` + key, err: "want an IPv4 address"},
		{name: "unquoted value", line: `pppssh-address=192.0.2.1 ` + key, err: "double quotes"},
		{name: "no value", line: `pppssh-pool ` + key, err: "needs a value"},
		{name: "host bits", line: `pppssh-allow-route="203.0.113.1/24" ` + key, err: "did you mean 203.0.113.0/24"},
		{name: "twice", line: `pppssh-address="192.0.2.1",pppssh-address="192.0.2.2" ` + key, err: "given twice"},
		{name: "address and pool", line: `pppssh-address="192.0.2.1",pppssh-pool="192.0.2.0/28" ` + key, err: "exclude each other"},
		{name: "bad from", line: `from="10.0.0.0/33" ` + key, err: "option from="},
	} {
		keys, err := ParseAuthorizedKeys([]byte("# header\n\n"+tc.line+"\n"), "ak")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), "ak:3: ") || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one at ak:3 containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || len(keys) != 1 {
			t.Errorf("%s: %d keys, %v", tc.name, len(keys), err)
			continue
		}
		k := keys[0]
		if got := k.Settings; got.Address != tc.want.Address || got.Pool != tc.want.Pool || got.NoPTY != tc.want.NoPTY || !slices.Equal(got.AllowRoutes, tc.want.AllowRoutes) {
			t.Errorf("%s: settings %+v, want %+v", tc.name, got, tc.want)
		}
		if k.Line != 3 || k.File != "ak" || k.Comment != tc.comment {
			t.Errorf("%s: %s:%d comment %q, want ak:3 comment %q", tc.name, k.File, k.Line, k.Comment, tc.comment)
		}
	}
}

func TestAuthorizedKeyFrom(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHy4gRWi0Q7tE7PPpHXj1sJ2P8r4ZQ8tZ1Y4y7x0q3Hc"
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	for _, tc := range []struct {
		from string
		addr string
		ok   bool
	}{
		{"", "198.51.100.7:5000", true},
		{"198.51.100.0/24", "198.51.100.7:5000", true},
		{"198.51.100.0/24", "198.51.101.7:5000", false},
		{"198.51.100.*", "198.51.100.7:5000", true},
		{"198.51.100.?", "198.51.100.17:5000", false},
		{"!198.51.100.7,198.51.100.0/24", "198.51.100.7:5000", false},
		{"!198.51.100.7,198.51.100.0/24", "198.51.100.8:5000", true},
		{"gw.example.org", "198.51.100.7:5000", false}, // no DNS lookups
		{"2001:db8::/32", "[2001:db8::5]:22", true},
		{"198.51.100.7", "[::ffff:198.51.100.7]:22", true},
	} {
		line := key
		if tc.from != "" {
			line = `from="` + tc.from + `" ` + key
		}
		keys, err := ParseAuthorizedKeys([]byte(line), "ak")
		if err != nil {
			t.Fatal(err)
		}
		if got := keys[0].allowsFrom(tcp(tc.addr)); got != tc.ok {
			t.Errorf("from=%q, client %s: allowed %v, want %v", tc.from, tc.addr, got, tc.ok)
		}
	}
}

func TestKeySettingsAllowsRoute(t *testing.T) {
	s := KeySettings{AllowRoutes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("10.0.0.0/8")}}
	for _, tc := range []struct {
		route string
		ok    bool
	}{
		{"203.0.113.0/24", true},
		{"203.0.113.128/25", true},
		{"203.0.113.5/32", true},
		{"203.0.112.0/23", false},
		{"10.1.0.0/16", true},
		{"0.0.0.0/0", false},
		{"192.0.2.0/24", false},
	} {
		if got := s.AllowsRoute(netip.MustParsePrefix(tc.route)); got != tc.ok {
			t.Errorf("AllowsRoute(%s) = %v, want %v", tc.route, got, tc.ok)
		}
	}
}

func TestResolve(t *testing.T) {
	home := t.TempDir()
	cfgFile := filepath.Join(home, ".ssh", "config")
	writeFile(t, cfgFile, `
Host gw
  HostName gw.%h.example
  User alice
  Port 2222
  IdentityFile ~/.ssh/id_%r_%n
  IdentityFile /keys/%h-%p
  UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2
  HostKeyAlias gateway
  StrictHostKeyChecking accept-new
  HashKnownHosts no
  ServerAliveInterval 1m
  ConnectTimeout 5

Host jump
  ProxyJump bastion

Host bad-port
  Port ssh

Host *
  User fallback
`)
	system := filepath.Join(home, "system_config")
	writeFile(t, system, "Host *\n  GlobalKnownHostsFile /etc/x_known_hosts\n  HashKnownHosts yes\n  ServerAliveCountMax 9\n")
	base := ClientConfig{Home: home, SystemConfigFile: system, AgentSocket: "none"}

	e, err := resolve(Target{Host: "gw"}, &base)
	if err != nil {
		t.Fatal(err)
	}
	if e.hostName != "gw.gw.example" || e.user != "alice" || e.port != 2222 {
		t.Errorf("gw resolved to %s@%s:%d", e.user, e.hostName, e.port)
	}
	wantIDs := []string{filepath.Join(home, ".ssh", "id_alice_gw"), "/keys/gw.gw.example-2222"}
	if !slices.Equal(e.identityFiles, wantIDs) {
		t.Errorf("identity files %q, want %q", e.identityFiles, wantIDs)
	}
	wantKH := []string{filepath.Join(home, ".ssh", "kh1"), filepath.Join(home, ".ssh", "kh2"), "/etc/x_known_hosts"}
	if !slices.Equal(e.knownHostsFiles, wantKH) {
		t.Errorf("known_hosts files %q, want %q", e.knownHostsFiles, wantKH)
	}
	if e.knownHostsName() != "gateway:2222" || !e.acceptNew || e.hashKnownHosts {
		t.Errorf("known hosts name %q, acceptNew %v, hash %v; want gateway:2222, true, false (user config wins)", e.knownHostsName(), e.acceptNew, e.hashKnownHosts)
	}
	if e.keepaliveInterval != time.Minute || e.keepaliveCountMax != 9 || e.connectTimeout != 5*time.Second {
		t.Errorf("keepalive %v×%d, timeout %v", e.keepaliveInterval, e.keepaliveCountMax, e.connectTimeout)
	}

	// The target's own user and port, and ClientConfig's fields, win.
	cfg := base
	cfg.IdentityFiles = []string{"~/explicit"}
	cfg.KnownHostsFiles = []string{"/tmp/kh"}
	cfg.KeepaliveInterval = -1
	cfg.ConnectTimeout = time.Second
	e, err = resolve(Target{User: "bob", Host: "gw", Port: 22}, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if e.user != "bob" || e.port != 22 || e.keepaliveInterval != 0 || e.connectTimeout != time.Second {
		t.Errorf("with overrides: %s@%s:%d keepalive %v timeout %v", e.user, e.hostName, e.port, e.keepaliveInterval, e.connectTimeout)
	}
	if e.identityFiles[0] != filepath.Join(home, "explicit") || !e.identityExplicit[0] || e.identityExplicit[1] || len(e.identityFiles) != 3 {
		t.Errorf("identity files %q (explicit %v), want ~/explicit first, then the config's", e.identityFiles, e.identityExplicit)
	}
	if !slices.Equal(e.knownHostsFiles, []string{"/tmp/kh"}) {
		t.Errorf("known_hosts files %q", e.knownHostsFiles)
	}

	// Defaults.
	e, err = resolve(Target{Host: "plain.example"}, &ClientConfig{Home: home, ConfigFile: "none", SystemConfigFile: "none", AgentSocket: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if e.port != 22 || e.user != localUser() || !e.hashKnownHosts || e.acceptNew ||
		e.keepaliveInterval != DefaultKeepaliveInterval || e.keepaliveCountMax != DefaultKeepaliveCountMax ||
		e.connectTimeout != DefaultConnectTimeout {
		t.Errorf("defaults: %+v", e)
	}
	wantIDs = []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_ecdsa"), filepath.Join(home, ".ssh", "id_rsa")}
	if !slices.Equal(e.identityFiles, wantIDs) {
		t.Errorf("default identity files %q, want %q", e.identityFiles, wantIDs)
	}
	if e.knownHostsFiles[0] != filepath.Join(home, ".ssh", "known_hosts") {
		t.Errorf("default known_hosts files %q", e.knownHostsFiles)
	}

	for _, tc := range []struct{ host, err string }{
		{"jump", "sets ProxyJump for jump, which pppssh does not support"},
		{"bad-port", "Port for bad-port"},
	} {
		if _, err := resolve(Target{Host: tc.host}, &base); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("resolve(%s): %v, want an error containing %q", tc.host, err, tc.err)
		}
	}
	missing := base
	missing.ConfigFile = filepath.Join(home, "nope")
	if _, err := resolve(Target{Host: "x"}, &missing); err == nil || !os.IsNotExist(errorsUnwrapAll(err)) {
		t.Errorf("missing explicit config file: %v", err)
	}
	broken := filepath.Join(home, "broken")
	writeFile(t, broken, "Host x\n  Match exec true\n")
	bad := base
	bad.ConfigFile = broken
	if _, err := resolve(Target{Host: "x"}, &bad); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("broken config file: %v, want an error naming %s", err, broken)
	}
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestParseSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "30": 30 * time.Second, "1m30s": 90 * time.Second, "2h": 2 * time.Hour, "1w": 7 * 24 * time.Hour, "1M": time.Minute} {
		if got, err := parseSeconds(in); err != nil || got != want {
			t.Errorf("parseSeconds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "10x", "-1"} {
		if _, err := parseSeconds(in); err == nil {
			t.Errorf("parseSeconds(%q) succeeded", in)
		}
	}
}

func TestFingerprint(t *testing.T) {
	for typ, want := range map[string]string{
		"ssh-ed25519":                              "ED25519",
		"ecdsa-sha2-nistp384":                      "ECDSA",
		"ssh-rsa":                                  "RSA",
		"sk-ssh-ed25519@openssh.com":               "ED25519-SK",
		"ssh-ed25519-cert-v01@openssh.com":         "ED25519-CERT",
		"ecdsa-sha2-nistp256-cert-v01@openssh.com": "ECDSA-CERT",
	} {
		if got := keyTypeName(typ); got != want {
			t.Errorf("keyTypeName(%q) = %q, want %q", typ, got, want)
		}
	}
}
