package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// words returns the words of each entry of s, the secret revealed (or
// "@" and the file), for comparison.
func entryWords(s *Secrets) []string {
	var out []string
	for _, e := range s.Entries() {
		w := []string{e.Client, e.Server}
		if e.SecretFile != "" {
			w = append(w, "@"+e.SecretFile)
		} else {
			w = append(w, string(e.Secret.bytes()))
		}
		w = append(w, e.Addresses...)
		if e.Options != nil {
			w = append(w, "--")
			w = append(w, e.Options...)
		}
		out = append(out, fmt.Sprintf("%d:%q", e.Line, w))
	}
	return out
}

func TestParseSecrets(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"comments only", "# nothing\n   # here\n\n", nil},
		{"plain", "alice gw s3cr3t\n", []string{`1:["alice" "gw" "s3cr3t"]`}},
		{"no final newline", "alice gw s3cr3t", []string{`1:["alice" "gw" "s3cr3t"]`}},
		{"tabs and blanks", "\t alice\t\tgw   s3cr3t  \r\n", []string{`1:["alice" "gw" "s3cr3t"]`}},
		{"comment after", "alice gw s3cr3t # alice's\n", []string{`1:["alice" "gw" "s3cr3t"]`}},
		{"hash ends a word", "alice gw s3cr3t#x\n", []string{`1:["alice" "gw" "s3cr3t"]`}},
		{"double quotes", `"alice smith" gw "a b#c"` + "\n", []string{`1:["alice smith" "gw" "a b#c"]`}},
		{"single quotes", `'alice "x"' gw 'a\'b'` + "\n", []string{`1:["alice \"x\"" "gw" "a'b"]`}},
		{"partly quoted", `al"ice sm"ith gw x"y z"` + "\n", []string{`1:["alice smith" "gw" "xy z"]`}},
		{"empty secret", `alice gw ""` + "\n", []string{`1:["alice" "gw" ""]`}},
		{"empty secret at the end", `alice gw ""`, []string{`1:["alice" "gw" ""]`}},
		{"empty client", `"" * ""` + "\n", []string{`1:["" "*" ""]`}},
		{"escapes", `a\ b gw \a\b\f\n\r\s\t\\\"\q` + "\n", []string{`1:["a b" "gw" "\a\b\f\n\r \t\\\"q"]`}},
		{"octal and hex", `c s \101\1012\x41\x4a4\q` + "\n", []string{`1:["c" "s" "AA2AJ4q"]`}},
		{"octal past 255", `c s \777` + "\n", []string{`1:["c" "s" "\xff"]`}},
		{"hex digits", `c s \x4A\x4a\xfF\x9` + "\n", []string{`1:["c" "s" "JJ\xff\t"]`}},
		{"escapes in quotes", `c s "\x41 \"q\" \n"` + "\n", []string{`1:["c" "s" "A \"q\" \n"]`}},
		{"newline in quotes", "c s \"a\nb\" 10.0.0.1\nd s t\n", []string{`1:["c" "s" "a\nb" "10.0.0.1"]`, `3:["d" "s" "t"]`}},
		{"continuation", "alice gw \\\n s3cr3t \\\n 10.0.0.2\nbob * x\n", []string{`1:["alice" "gw" "s3cr3t" "10.0.0.2"]`, `4:["bob" "*" "x"]`}},
		{"continuation inside a word", "alice gw s3\\\ncr3t\n", []string{`1:["alice" "gw" "s3cr3t"]`}},
		{"escaped first character", `\#alice gw x` + "\n", []string{`1:["#alice" "gw" "x"]`}},
		{"comment ends at newline", "alice gw x # a \\\nbob gw y\n", []string{`1:["alice" "gw" "x"]`, `2:["bob" "gw" "y"]`}},
		{"addresses", "alice gw x 10.0.0.2 10.1.0.0/16 !10.1.0.1\n", []string{`1:["alice" "gw" "x" "10.0.0.2" "10.1.0.0/16" "!10.1.0.1"]`}},
		{"no addresses", "alice gw x -\n", []string{`1:["alice" "gw" "x" "-"]`}},
		{"options", "alice gw x 10.0.0.2 -- ms-dns 10.0.0.1\n", []string{`1:["alice" "gw" "x" "10.0.0.2" "--" "ms-dns" "10.0.0.1"]`}},
		{"options without addresses", "alice gw x -- idle 60\n", []string{`1:["alice" "gw" "x" "--" "idle" "60"]`}},
		{"secret file", "alice gw @/etc/ppp/alice\n", []string{`1:["alice" "gw" "@/etc/ppp/alice"]`}},
		{"at without a slash is a secret", "alice gw @login\nbob gw @\n", []string{`1:["alice" "gw" "@login"]`, `2:["bob" "gw" "@"]`}},
		{"several", "# pap-secrets\nalice gw a\n\n* gw b 10.0.0.3\nbob * c\n", []string{
			`2:["alice" "gw" "a"]`, `4:["*" "gw" "b" "10.0.0.3"]`, `5:["bob" "*" "c"]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSecrets(strings.NewReader(c.in), "f")
			if err != nil {
				t.Fatalf("ParseSecrets(%q): %v", c.in, err)
			}
			diffLines(t, "entries of "+fmt.Sprintf("%q", c.in), entryWords(s), c.want)
		})
	}
}

func TestParseSecretsErrors(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"two words", "alice gw\n", "pap-secrets:1: an entry needs three words, client, server and secret, and this one has 2"},
		{"one word", "alice gw x\n\nbob\ncarol * y\n", "pap-secrets:3: an entry needs three words"},
		{"secret on the next line", "alice gw\ns3cr3t\n", "pap-secrets:1: an entry needs three words"},
		{"open quote", "alice gw \"s3cr3t\nbob gw x\n", "pap-secrets:1: a quoted word runs to the end of the file"},
		{"open single quote", "alice gw x\nbob gw 's3cr3t\n", "pap-secrets:2: a quoted word runs to the end of the file"},
		{"long word", "alice gw " + strings.Repeat("s", 1024) + "\n", "pap-secrets:1: a word is 1024 octets or longer"},
		{"NUL escape", "alice gw s3\\0cr3t\n", "pap-secrets:1: a word contains a NUL octet"},
		{"NUL hex escape", "alice gw s3\\x00cr3t\n", "pap-secrets:1: a word contains a NUL octet"},
		{"empty hex escape", "alice gw s3cr3t\\x", "pap-secrets:1: a word contains a NUL octet"},
		{"NUL octet", "alice gw s3\x00cr3t\n", "pap-secrets:1: a word contains a NUL octet"},
		{"too large", strings.Repeat("# comment\n", 110000), "pap-secrets is larger than 1 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSecrets(strings.NewReader(c.in), "pap-secrets")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one with %q", err, c.want)
			}
			checkNoSecret(t, err.Error(), "s3cr3t", "alice", "cr3t")
		})
	}
	// A word of 1023 octets is fine.
	if _, err := ParseSecrets(strings.NewReader("a b "+strings.Repeat("s", 1023)), "f"); err != nil {
		t.Errorf("1023 octets: %v", err)
	}
	// NUL octets in comments are fine.
	if _, err := ParseSecrets(strings.NewReader("# \x00\na b c\n"), "f"); err != nil {
		t.Errorf("NUL in a comment: %v", err)
	}
}

func TestLookupPrecedence(t *testing.T) {
	const text = `
*      *      any
*      gw     anyone-to-gw
alice  *      alice-anywhere
alice  gw     alice-to-gw
alice  gw     alice-to-gw-again
bob    gw     bob-to-gw
*      *      any-again
carol  other  carol-to-other
carol  *      carol-anywhere
`
	s := mustSecrets(t, "chap-secrets", text)
	for _, c := range []struct {
		client, server, want string
		line                 int
	}{
		{"alice", "gw", "alice-to-gw", 5}, // both exact, first of two
		{"alice", "hq", "alice-anywhere", 4},
		{"dave", "gw", "anyone-to-gw", 3}, // exact client beats exact server, but dave has none
		{"dave", "hq", "any", 2},
		{"bob", "hq", "any", 2},
		{"bob", "gw", "bob-to-gw", 7},
		{"carol", "other", "carol-to-other", 9},
		{"carol", "gw", "carol-anywhere", 10}, // exact client beats exact server
		{"Alice", "gw", "anyone-to-gw", 3},    // case matters
		{"", "", "any", 2},
	} {
		sec, e, err := s.Lookup(c.client, c.server)
		if err != nil || string(sec.bytes()) != c.want || e.Line != c.line {
			t.Errorf("Lookup(%q, %q) = %q line %v, %v; want %q line %d", c.client, c.server, sec.bytes(), e, err, c.want, c.line)
		}
	}
	for _, c := range []struct {
		client, want string
	}{
		{"alice", "alice-to-gw"}, // a named server beats the wildcard
		{"carol", "carol-to-other"},
		{"dave", "anyone-to-gw"},
	} {
		sec, _, err := s.LookupClient(c.client)
		if err != nil || string(sec.bytes()) != c.want {
			t.Errorf("LookupClient(%q) = %q, %v; want %q", c.client, sec.bytes(), err, c.want)
		}
	}

	// Nothing matches.
	s = mustSecrets(t, "chap-secrets", "alice gw x\n* hq y\n")
	_, e, err := s.Lookup("bob", "gw")
	if !errors.Is(err, ErrNoSecret) || e != nil {
		t.Errorf("Lookup(bob, gw) = %v, %v", e, err)
	}
	if want := `auth: chap-secrets: no entry for client "bob" and server "gw": auth: no secret`; err.Error() != want {
		t.Errorf("error %q", err)
	}
	if _, _, err := mustSecrets(t, "chap-secrets", "alice gw x\n").LookupClient("bob"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("LookupClient(bob): %v", err)
	}
}

func TestLookupSecretFile(t *testing.T) {
	s := mustSecrets(t, "chap-secrets", `
alice gw @/etc/ppp/alice
bob   gw @/etc/ppp/bob
carol gw @/etc/ppp/carol
dave  gw @/etc/ppp/dave
*     gw fallback
`)
	files := map[string]string{
		"/etc/ppp/alice": "# alice's secret\n  \"s3cr3t pass\" ignored\nmore\n",
		"/etc/ppp/carol": "\n# nothing\n",
		"/etc/ppp/dave":  "'s3cr3t",
	}
	s.readFile = func(path string) ([]byte, error) {
		if f, ok := files[path]; ok {
			return []byte(f), nil
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	sec, e, err := s.Lookup("alice", "gw")
	if err != nil || string(sec.bytes()) != "s3cr3t pass" || e.Line != 2 || e.SecretFile != "/etc/ppp/alice" || e.Secret.Len() != 0 {
		t.Errorf("alice: %q, %+v, %v", sec.bytes(), e, err)
	}
	for _, c := range []struct{ client, want string }{
		{"bob", `auth: chap-secrets:3: reading the secret of the entry for client "bob" and server "gw": open /etc/ppp/bob: file does not exist`},
		{"carol", `auth: chap-secrets:4: reading the secret of the entry for client "carol" and server "gw": /etc/ppp/carol holds no secret (write it as the file's first word, quoted if it has spaces)`},
		{"dave", `auth: chap-secrets:5: reading the secret of the entry for client "dave" and server "gw": /etc/ppp/dave:1: a quoted word runs to the end of the file (close the quote)`},
	} {
		_, e, err := s.Lookup(c.client, "gw")
		if err == nil || err.Error() != c.want || e == nil || e.Client != c.client {
			t.Errorf("%s: error\n%v\nwant\n%s", c.client, err, c.want)
		}
		if errors.Is(err, ErrNoSecret) {
			t.Errorf("%s: an unreadable file is not a missing secret", c.client)
		}
	}

	// An exchange reports the entry and what failed.
	p := newPair(t, ppp.ProtoCHAP, Config{Name: "gw", Secrets: s, Rand: &seqRand{}}, Config{Name: "bob", Password: secretPtr("x")})
	p.start()
	p.run()
	ea := p.a.authError(t)
	const want = `auth: CHAP: the secret for client "bob" on server "gw" in chap-secrets:3 cannot be used: open /etc/ppp/bob: file does not exist`
	if ea.Cause != SecretUnusable || ea.Error() != want || !errors.Is(ea, fs.ErrNotExist) {
		t.Errorf("error\n%v\nwant\n%s", ea, want)
	}

	// The real file system.
	dir := t.TempDir()
	s = mustSecrets(t, "chap-secrets", "alice gw @"+dir+"/secret\nbob gw @"+dir+"/none\n")
	if err := os.WriteFile(dir+"/secret", []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if sec, _, err := s.Lookup("alice", "gw"); err != nil || string(sec.bytes()) != "s3cr3t" {
		t.Errorf("file: %q, %v", sec.bytes(), err)
	}
	if _, _, err := s.Lookup("bob", "gw"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSecretsName(t *testing.T) {
	s := mustSecrets(t, "/etc/ppp/pap-secrets", "alice gw x\nbob gw y\n")
	if s.Name() != "/etc/ppp/pap-secrets" || s.String() != "auth.Secrets(/etc/ppp/pap-secrets, 2 entries)" {
		t.Errorf("Name %q, String %q", s.Name(), s)
	}
	if e := s.Entries(); len(e) != 2 || e[1].File != "/etc/ppp/pap-secrets" || e[1].Line != 2 {
		t.Errorf("entries %+v", e)
	}
}

func TestDebianPAPSecrets(t *testing.T) {
	// Excerpt of Debian's stock /etc/ppp/pap-secrets (ppp 2.4.9).
	s := mustSecrets(t, "/etc/ppp/pap-secrets", `# INBOUND connections

# Every regular user can use PPP and has to use passwords from /etc/passwd
*	hostname	""	*

# UserIDs that cannot use PPP at all. Check your /etc/passwd and add any
# other accounts that should not be able to use pppd!
guest	hostname	"*"	-
root	hostname	"*"	-

# OUTBOUND connections
#	*	password
`)
	diffLines(t, "entries", entryWords(s), []string{
		`4:["*" "hostname" "" "*"]`,
		`8:["guest" "hostname" "*" "-"]`,
		`9:["root" "hostname" "*" "-"]`,
	})
	if sec, e, err := s.Lookup("root", "hostname"); err != nil || string(sec.bytes()) != "*" || e.Line != 9 {
		t.Errorf("root: %q, %+v, %v", sec.bytes(), e, err)
	}
	if sec, e, err := s.Lookup("alice", "hostname"); err != nil || sec.Len() != 0 || e.Line != 4 {
		t.Errorf("alice: %+v, %v", e, err)
	}
}
