package ipv6cp

import (
	"strings"
	"testing"
)

// FuzzParseIdentifiers parses arbitrary arguments of the ipv6 option: no
// panic; an error names the option and ends with the hint; a result prints
// back as an argument that parses to the same identifiers.
func FuzzParseIdentifiers(f *testing.F) {
	for _, s := range []string{"::1,::2", ",::2", "::dead:beef,", "::dead:beef", "", ",",
		"fe80::1,::2", "::1,::2,::3", "::ffff:192.0.2.1,::0", "::1%ppp0,", "192.0.2.1,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		local, remote, err := ParseIdentifiers(arg)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "ipv6cp: ipv6 ") || !strings.HasSuffix(msg, identifierHint) || !local.IsZero() || !remote.IsZero() {
				t.Fatalf("ParseIdentifiers(%q) = %v, %v, %q", arg, local, remote, msg)
			}
			return
		}
		var b strings.Builder
		if !local.IsZero() {
			b.WriteString(local.String())
		}
		b.WriteByte(',')
		if !remote.IsZero() {
			b.WriteString(remote.String())
		}
		l2, r2, err := ParseIdentifiers(b.String())
		if err != nil || l2 != local || r2 != remote {
			t.Fatalf("ParseIdentifiers(%q) = %v, %v; printed as %q, which parses to %v, %v, %v",
				arg, local, remote, b.String(), l2, r2, err)
		}
	})
}
