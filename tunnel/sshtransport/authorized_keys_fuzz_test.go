package sshtransport

import (
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzAuthorizedKeys parses an authorized_keys line with arbitrary options
// (pppssh-address, pppssh-pool, pppssh-allow-route, from, and OpenSSH's).
// It must not panic; a line it accepts must give settings that make sense
// (IPv4 address, IPv4 pool without host bits, not both, networks without
// host bits), and its options, written out again, must parse to the same
// settings. A from="…" pattern must be matched against a client address
// quickly, whatever it holds.
func FuzzAuthorizedKeys(f *testing.F) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHy4gRWi0Q7tE7PPpHXj1sJ2P8r4ZQ8tZ1Y4y7x0q3Hc"
	for _, opts := range []string{
		`pppssh-address="192.0.2.10"`,
		`pppssh-pool="192.0.2.16/28",pppssh-allow-route="203.0.113.0/24",pppssh-allow-route="2001:db8::/32"`,
		"restrict,pty",
		"no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc",
		`from="10.0.0.0/8,!10.0.0.1,*.example.org,198.51.100.?"`,
		`from="a\"b"`,
		`command="/bin/true"`,
		`pppssh-address="192.0.2.1",pppssh-pool="192.0.2.0/28"`,
	} {
		f.Add(opts, []byte{198, 51, 100, 7})
	}
	f.Fuzz(func(t *testing.T, opts string, client []byte) {
		line := key + " office"
		if opts != "" {
			line = opts + " " + line
		}
		keys, err := ParseAuthorizedKeys([]byte(line), "ak")
		if err != nil {
			if !strings.Contains(err.Error(), "sshtransport: ak:") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		var addr net.Addr = &net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 22}
		if ip, ok := netip.AddrFromSlice(client); ok {
			addr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 2222))
		}
		for _, k := range keys {
			s := k.Settings
			switch {
			case s.Address.IsValid() && !s.Address.Is4(),
				s.Pool.IsValid() && (!s.Pool.Addr().Is4() || s.Pool.Masked() != s.Pool),
				s.Address.IsValid() && s.Pool.IsValid():
				t.Fatalf("settings %+v", s)
			}
			for _, r := range s.AllowRoutes {
				if r.Masked() != r {
					t.Fatalf("allowed route %v has host bits", r)
				}
			}
			start := time.Now()
			allowed := k.allowsFrom(addr)
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Fatalf("matching %v against the options %q took %v", addr, k.Options, d)
			}

			again, err := ParseAuthorizedKeys([]byte(strings.Join(k.Options, ",")+" "+key), "ak")
			if len(k.Options) == 0 {
				again, err = ParseAuthorizedKeys([]byte(key), "ak")
			}
			if err != nil || len(again) != 1 {
				t.Fatalf("options %q written out again: %d keys, %v", k.Options, len(again), err)
			}
			s2 := again[0].Settings
			if s2.Address != s.Address || s2.Pool != s.Pool || s2.NoPTY != s.NoPTY || !slices.Equal(s2.AllowRoutes, s.AllowRoutes) ||
				!slices.Equal(again[0].Options, k.Options) || again[0].allowsFrom(addr) != allowed {
				t.Fatalf("options %q: settings %+v, written out again %+v", k.Options, s, s2)
			}
		}
	})
}

// FuzzWildcardMatch compares the matcher of from="…" patterns with a
// regular expression that means the same (* any run, ? any one octet), and
// requires an answer within a bound whatever the pattern: the pattern is
// matched at every login with the key.
func FuzzWildcardMatch(f *testing.F) {
	for _, p := range []string{"198.51.100.*", "198.51.100.?", "*", "", "*.example.org", "2001:db8::*", "1*2*3?4*"} {
		f.Add(p, "198.51.100.7")
	}
	f.Add("*2*0*0*1*:*d*b*8*", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		var re strings.Builder
		re.WriteString(`\A(?s:`)
		for _, c := range []byte(pattern) {
			switch c {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string([]byte{c})))
			}
		}
		re.WriteString(`)\z`)
		// The matcher works on octets, the expression on characters:
		// they agree on ASCII, which addresses are written in.
		for _, c := range []byte(pattern + s) {
			if c >= utf8.RuneSelf {
				return
			}
		}
		want := regexp.MustCompile(re.String()).MatchString(s)
		start := time.Now()
		got := wildcardMatch(pattern, s)
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("wildcardMatch(%q, %q) took %v", pattern, s, d)
		}
		if got != want {
			t.Fatalf("wildcardMatch(%q, %q) = %v, want %v", pattern, s, got, want)
		}
	})
}

// A from="…" pattern of many stars is matched in time proportional to its
// length times the address's, not exponential in the stars: with 64 of
// them the old matcher would not have returned. FuzzWildcardMatch found it.
func TestWildcardMatchManyStars(t *testing.T) {
	stars := strings.Repeat("*", 64)
	addr := "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1"
	if wildcardMatch(stars+"0", addr) || !wildcardMatch(stars+"1", addr) || !wildcardMatch(stars+"?"+stars, addr) {
		t.Error("wrong answer")
	}
}
