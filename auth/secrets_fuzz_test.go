package auth

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// quoteWord writes w as one word of a secrets file: in double quotes, with
// every octet but printable ASCII other than '"' and '\' as a three-digit
// octal escape. It is the encoder the round trip of FuzzParseSecrets needs;
// the package itself never writes secrets files.
func quoteWord(b *strings.Builder, w string) {
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= ' ' && c <= '~' && c != '"' && c != '\\' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('\\')
		b.WriteByte('0' + c>>6)
		b.WriteByte('0' + c>>3&7)
		b.WriteByte('0' + c&7)
	}
	b.WriteByte('"')
}

// writeSecrets writes the entries of s back in the file syntax, one line
// each.
func writeSecrets(s *Secrets) string {
	var b strings.Builder
	for _, e := range s.Entries() {
		sec := string(e.Secret.bytes())
		if e.SecretFile != "" {
			sec = "@" + e.SecretFile
		}
		words := append([]string{e.Client, e.Server, sec}, e.Addresses...)
		if e.Options != nil {
			words = append(append(words, "--"), e.Options...)
		}
		for i, w := range words {
			if i > 0 {
				b.WriteByte(' ')
			}
			quoteWord(&b, w)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// errorForm is what every error of ParseSecrets looks like: the file, a
// line, and one of the fixed messages, which quote nothing of the file.
var errorForm = regexp.MustCompile(`^auth: (f:[0-9]+: (an entry needs three words, client, server and secret, and this one has [12] \(write an empty secret as ""\)|` +
	regexp.QuoteMeta(errOpenQuote.Error()) + `|` + regexp.QuoteMeta(errLongWord.Error()) + `|` + regexp.QuoteMeta(errNULInWord.Error()) +
	`)|f is larger than 1 MiB; .*)$`)

// FuzzParseSecrets parses arbitrary secrets files: no panic; errors of the
// fixed form, naming the file and a line; entries of three words or more
// that, written back and parsed again, come out the same; and lookups of
// every entry's names that find an entry at least as specific.
func FuzzParseSecrets(f *testing.F) {
	f.Add([]byte(testSecrets))
	f.Add([]byte("# pap-secrets\n\"alice smith\" * 'pass word' 10.0.0.2 -- ms-dns 10.0.0.1\n* gw @/etc/ppp/secret\n"))
	f.Add([]byte("a\\ b gw \\x41\\101\\s\\\n more\nc d \"open\n"))
	f.Add([]byte("a b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSecrets(bytes.NewReader(data), "f")
		if err != nil {
			if !errorForm.MatchString(err.Error()) {
				t.Fatalf("error %q", err)
			}
			return
		}
		for _, e := range s.Entries() {
			if e.Line < 1 || e.File != "f" || e.Options != nil && len(e.Options) == 0 ||
				e.Addresses != nil && len(e.Addresses) == 0 || slices.Contains(e.Addresses, "--") {
				t.Fatalf("entry %+v", e)
			}
		}
		text := writeSecrets(s)
		again, err := ParseSecrets(strings.NewReader(text), "f")
		if err != nil {
			t.Fatalf("written back as %q: %v", text, err)
		}
		if a, b := entryWords(s), entryWords(again); len(a) != len(b) {
			t.Fatalf("%d entries, %d written back: %q", len(a), len(b), text)
		} else {
			for i := range a {
				// Lines differ: compare from the words on.
				if a[i][strings.IndexByte(a[i], ':'):] != b[i][strings.IndexByte(b[i], ':'):] {
					t.Fatalf("entry %s written back as %s", a[i], b[i])
				}
			}
		}
		// A secret's file is the fuzzed data itself.
		s.readFile = func(string) ([]byte, error) { return data, nil }
		for _, e := range s.Entries() {
			_, got, err := s.Lookup(e.Client, e.Server)
			if err != nil && (errors.Is(err, ErrNoSecret) || e.SecretFile == "") {
				t.Fatalf("Lookup(%q, %q) of an entry: %v", e.Client, e.Server, err)
			}
			if got == nil || rank(got) < rank(&e) {
				t.Fatalf("Lookup(%q, %q) found %+v", e.Client, e.Server, got)
			}
		}
	})
}

// rank is pppd's precedence of an entry: 2 for a named client, 1 for a
// named server.
func rank(e *Entry) int {
	r := 0
	if e.Client != Wildcard {
		r += 2
	}
	if e.Server != Wildcard {
		r++
	}
	return r
}
