package auth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Wildcard is the client or server name of an entry that matches any name.
const Wildcard = "*"

// ErrNoSecret is wrapped by the error Lookup and LookupClient return when no
// entry matches the names.
var ErrNoSecret = errors.New("auth: no secret")

// Limits of the secrets file syntax.
const (
	// maxWord is pppd's MAXWORDLEN: a word must be shorter.
	maxWord = 1024
	// maxSecretsFile bounds what ParseSecrets reads, and what a lookup
	// reads of a secret's own file ("@/path").
	maxSecretsFile = 1 << 20
)

// Entry is one line of a secrets file: a secret for one client to
// authenticate itself to one server, as pppd's pap-secrets and chap-secrets
// hold them ("client server secret [address...] [-- option...]").
type Entry struct {
	// Client and Server are the names the entry applies to; Wildcard ("*")
	// matches any name.
	Client, Server string
	// Secret is the secret written on the line. It is empty when the line
	// names a file instead (SecretFile).
	Secret Secret
	// SecretFile is set when the secret word was "@/path": the secret is
	// the first word of that file, read at each lookup as pppd does. Only
	// an absolute path after the "@" names a file; any other word starting
	// with "@" (pppd's "@login", say) is a secret like any other.
	SecretFile string
	// Addresses are the words after the secret up to "--", pppd's
	// acceptable IP addresses for the client ("10.0.0.2", "10.0.0.0/24",
	// "!10.0.0.1", "*"), kept as written. No words, or "-" as the first,
	// means that no address is acceptable.
	Addresses []string
	// Options are the words after "--": pppd options for this peer, kept
	// as written.
	Options []string
	// File and Line say where the entry was read: the name given to
	// ParseSecrets and the line of the entry's first word.
	File string
	Line int
}

// where returns "file:line" for error messages.
func (e *Entry) where() string {
	return e.File + ":" + strconv.Itoa(e.Line)
}

// Secrets is a parsed secrets file. It is not modified after ParseSecrets
// returns, so any number of goroutines may look secrets up at once.
type Secrets struct {
	name    string
	entries []Entry
	// readFile reads a secret's own file; tests replace it.
	readFile func(path string) ([]byte, error)
}

// Name returns the name ParseSecrets was given, used in every error.
func (s *Secrets) Name() string { return s.name }

// Entries returns the entries in file order. The caller must not modify
// them.
func (s *Secrets) Entries() []Entry { return s.entries }

// String describes s without any secret: "auth.Secrets(NAME, N entries)".
func (s *Secrets) String() string {
	return "auth.Secrets(" + s.name + ", " + strconv.Itoa(len(s.entries)) + " entries)"
}

// GoString is String, so that %#v prints no entry.
func (s *Secrets) GoString() string { return s.String() }

// Format writes String for every verb, so that no verb of package fmt
// prints the entries.
func (s *Secrets) Format(f fmt.State, verb rune) { io.WriteString(f, s.String()) }

// ParseSecrets reads a secrets file in pppd's format (pppd(8), section
// AUTHENTICATION; pppd's getword and scan_authfile) from r; name is the
// file's name, for errors and Entry.File. It reads at most 1 MiB.
//
// The file is a sequence of words separated by white space. A word may be
// quoted, in whole or in part, with double or single quotes, which keep
// white space and "#" in it; a backslash escapes the next character
// anywhere, and \a \b \f \n \r \s (space) \t, \ooo (octal) and \xhh stand
// for one octet each; a backslash before a newline joins two lines; "#"
// starts a comment up to the end of the line. An entry starts with a word
// that is the first on its line and takes every word up to the next such
// word: client, server, secret, then any addresses and options (see Entry).
//
// Where pppd warns and goes on, ParseSecrets fails, naming the file and
// line: an entry of fewer than three words, a quote left open at the end of
// the file, a word of 1024 octets or more, and a NUL octet in a word. No
// error quotes any word of the file, since any of them may be a secret.
// Secrets named by "@/path" are read at lookup, not here.
func ParseSecrets(r io.Reader, name string) (*Secrets, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSecretsFile+1))
	if err != nil {
		return nil, fmt.Errorf("auth: reading %s: %w", name, err)
	}
	if len(data) > maxSecretsFile {
		return nil, fmt.Errorf("auth: %s is larger than 1 MiB; a secrets file holds a few lines per peer", name)
	}
	s := &Secrets{name: name}
	sc := scanner{data: data, line: 1}
	var words []string // the words of the entry being read; nil before the first
	line := 0
	flush := func() error {
		if words == nil {
			return nil
		}
		if len(words) < 3 {
			return fmt.Errorf("auth: %s:%d: an entry needs three words, client, server and secret, and this one has %d (write an empty secret as \"\")",
				name, line, len(words))
		}
		s.entries = append(s.entries, newEntry(words, name, line))
		return nil
	}
	for {
		w, newline, wline, ok, err := sc.word()
		if err != nil {
			return nil, fmt.Errorf("auth: %s:%d: %w", name, wline, err)
		}
		if !ok {
			break
		}
		if newline || words == nil {
			if err := flush(); err != nil {
				return nil, err
			}
			words, line = make([]string, 0, 4), wline
		}
		words = append(words, string(w))
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return s, nil
}

// newEntry builds an Entry from the words of one entry (at least three).
func newEntry(words []string, file string, line int) Entry {
	e := Entry{Client: words[0], Server: words[1], File: file, Line: line}
	if sec := words[2]; len(sec) >= 2 && sec[0] == '@' && sec[1] == '/' {
		e.SecretFile = sec[1:]
	} else {
		e.Secret = NewSecret([]byte(sec))
	}
	rest := words[3:]
	for i, w := range rest {
		if w == "--" {
			e.Options = rest[i+1:]
			rest = rest[:i]
			break
		}
	}
	if len(rest) > 0 {
		e.Addresses = rest
	}
	if len(e.Options) == 0 {
		e.Options = nil
	}
	return e
}

// Lookup returns the secret for client to authenticate itself to server,
// and the entry it comes from, choosing among the matching entries as pppd
// does: an entry naming both exactly beats one naming the client only,
// which beats one naming the server only, which beats one of two
// wildcards; among equals the first in the file wins. Names are compared
// octet for octet, case included.
//
// When the entry names a file ("@/path"), Lookup reads the secret from it:
// its first word, in the syntax of the secrets file. If that fails, Lookup
// fails, naming the file; pppd would warn and try a worse match instead,
// which could quietly authenticate with a secret meant for others.
//
// When nothing matches, the error wraps ErrNoSecret. No error includes a
// secret.
func (s *Secrets) Lookup(client, server string) (Secret, *Entry, error) {
	return s.lookup(client, server, true)
}

// LookupClient is Lookup for any server name: of the entries for client,
// one naming a server beats one with the wildcard, and otherwise the first
// wins. pppd looks up its PAP password this way when it does not know the
// peer's name (no remotename option).
func (s *Secrets) LookupClient(client string) (Secret, *Entry, error) {
	return s.lookup(client, "", false)
}

func (s *Secrets) lookup(client, server string, matchServer bool) (Secret, *Entry, error) {
	// The ranks of pppd's scan_authfile: NONWILD_CLIENT (2) and
	// NONWILD_SERVER (1) added up; a strictly better rank replaces the
	// best so far.
	best, rank := -1, -1
	for i := range s.entries {
		e := &s.entries[i]
		r := 0
		if e.Client != Wildcard {
			if e.Client != client {
				continue
			}
			r += 2
		}
		if e.Server != Wildcard {
			if matchServer && e.Server != server {
				continue
			}
			r++
		}
		if r > rank {
			best, rank = i, r
		}
	}
	if best < 0 {
		if !matchServer {
			return Secret{}, nil, fmt.Errorf("auth: %s: no entry for client %s: %w", s.name, strconv.Quote(client), ErrNoSecret)
		}
		return Secret{}, nil, fmt.Errorf("auth: %s: no entry for client %s and server %s: %w",
			s.name, strconv.Quote(client), strconv.Quote(server), ErrNoSecret)
	}
	e := &s.entries[best]
	if e.SecretFile == "" {
		return e.Secret, e, nil
	}
	sec, err := s.readSecretFile(e.SecretFile)
	if err != nil {
		return Secret{}, e, fmt.Errorf("auth: %s: reading the secret of the entry for client %s and server %s: %w",
			e.where(), strconv.Quote(e.Client), strconv.Quote(e.Server), err)
	}
	return sec, e, nil
}

// readSecretFile reads the first word of the file at path, as pppd reads
// the file a secret "@/path" names.
func (s *Secrets) readSecretFile(path string) (Secret, error) {
	read := s.readFile
	if read == nil {
		read = readLimited
	}
	data, err := read(path)
	if err != nil {
		return Secret{}, err
	}
	sc := scanner{data: data, line: 1}
	w, _, line, ok, err := sc.word()
	if err != nil {
		return Secret{}, fmt.Errorf("%s:%d: %w", path, line, err)
	}
	if !ok {
		return Secret{}, fmt.Errorf("%s holds no secret (write it as the file's first word, quoted if it has spaces)", path)
	}
	return NewSecret(w), nil
}

// readLimited reads at most maxSecretsFile octets of the file at path.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretsFile))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// scanner splits a secrets file into words as pppd's getword does.
type scanner struct {
	data []byte
	pos  int
	line int // line of data[pos], from 1
}

// Errors of the word syntax; ParseSecrets adds the file and line.
var (
	errOpenQuote = errors.New("a quoted word runs to the end of the file (close the quote)")
	errLongWord  = errors.New("a word is 1024 octets or longer (pppd keeps only 1023)")
	errNULInWord = errors.New("a word contains a NUL octet (\\0 or \\x00), where pppd would cut it short; remove it")
)

// next returns the next octet, or false at the end of the data. It counts
// lines.
func (s *scanner) next() (byte, bool) {
	if s.pos >= len(s.data) {
		return 0, false
	}
	c := s.data[s.pos]
	s.pos++
	if c == '\n' {
		s.line++
	}
	return c, true
}

// unread puts back the octet next returned last.
func (s *scanner) unread() {
	s.pos--
	if s.data[s.pos] == '\n' {
		s.line--
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// word returns the next word, whether a newline came before it since the
// previous word (it starts a line), and the line it starts on; ok is false
// at the end of the data. It follows pppd's getword: see ParseSecrets.
func (s *scanner) word() (w []byte, newline bool, line int, ok bool, err error) {
	escape, comment := false, false
	var c byte
	// Skip white space and comments.
	for {
		var more bool
		c, more = s.next()
		if !more {
			return nil, newline, s.line, false, nil
		}
		if c == '\n' {
			// A newline ends a comment; an escaped one is ignored.
			if escape {
				escape = false
			} else {
				newline, comment = true, false
			}
			continue
		}
		if comment {
			continue
		}
		if escape {
			break // an escaped character starts the word
		}
		if c == '\\' {
			escape = true
			continue
		}
		if c == '#' {
			comment = true
			continue
		}
		if !isSpace(c) {
			break
		}
	}
	line = s.line
	w = []byte{}
	var quote byte
	for have := true; have; {
		if escape {
			escape = false
			if c == '\n' {
				// Backslash-newline joins the lines.
				c, have = s.next()
				continue
			}
			var v byte
			got := false // c already holds the octet after the sequence
			switch c {
			case 'a':
				v = '\a'
			case 'b':
				v = '\b'
			case 'f':
				v = '\f'
			case 'n':
				v = '\n'
			case 'r':
				v = '\r'
			case 's':
				v = ' '
			case 't':
				v = '\t'
			case 'x':
				c, have = s.next()
				for n := 0; n < 2 && have; n++ {
					d, isHex := hexDigit(c)
					if !isHex {
						break
					}
					v = v<<4 | d
					c, have = s.next()
				}
				got = true
			default:
				if isOctal(c) {
					for n := 0; n < 3 && have && isOctal(c); n++ {
						v = v<<3 | c&7
						c, have = s.next()
					}
					got = true
				} else {
					v = c
				}
			}
			if v == 0 {
				return nil, false, line, false, errNULInWord
			}
			w = append(w, v)
			if !got {
				c, have = s.next()
			}
			continue
		}
		if c == '\\' {
			escape = true
			c, have = s.next()
			continue
		}
		if quote != 0 {
			if c == quote {
				quote = 0
				c, have = s.next()
				continue
			}
		} else if c == '"' || c == '\'' {
			quote = c
			c, have = s.next()
			continue
		} else if isSpace(c) || c == '#' {
			s.unread()
			break
		}
		if c == 0 {
			return nil, false, line, false, errNULInWord
		}
		w = append(w, c)
		c, have = s.next()
	}
	if quote != 0 { // only the end of the data ends a quoted word
		return nil, false, line, false, errOpenQuote
	}
	if len(w) >= maxWord {
		return nil, false, line, false, errLongWord
	}
	return w, newline, line, true, nil
}
