package sshtransport

import (
	"fmt"
	"strings"
)

// QuoteCommand joins args into one command line for a POSIX shell, the form
// an SSH exec request carries (RFC 4254, section 6.5): the remote sshd hands
// the line to the user's login shell. Words made only of letters, digits and
// _-+/:.,@% are left bare, as are later words with '='; every other word is
// put in single quotes, an embedded single quote becoming the four
// characters quote, backslash, quote, quote. SplitCommand reverses it.
func QuoteCommand(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && isBareWord(a, i == 0) {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// isBareWord reports whether a needs no quoting. '=' is kept out of the first
// word, where a shell would read NAME=value as an assignment.
func isBareWord(a string, first bool) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_-+/:.,@%", c) >= 0:
		case c == '=' && !first:
		default:
			return false
		}
	}
	return true
}

// SplitCommand splits an exec request's command line into words the way a
// POSIX shell splits a simple command: blanks separate words, single quotes
// keep everything literal, double quotes keep everything but \" \\ \$ \`,
// and a backslash outside quotes escapes the next character. It performs no
// expansion and runs nothing, so anything that would need a shell (an
// unquoted | & ; < > ( ) $ or `, $ or ` inside double quotes, a word
// starting with #) is an error rather than silently taken literally.
// SplitCommand(QuoteCommand(args)) returns args.
func SplitCommand(s string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool
	)
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n':
			endWord()
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("sshtransport: command %q: unterminated single quote at offset %d", s, i)
			}
			word.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case '"':
			inWord = true
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				switch s[j] {
				case '\\':
					if j+1 < len(s) && strings.IndexByte("\"\\$`\n", s[j+1]) >= 0 {
						j++
						if s[j] != '\n' {
							word.WriteByte(s[j])
						}
						continue
					}
					word.WriteByte('\\')
				case '$', '`':
					return nil, fmt.Errorf("sshtransport: command %q: %q inside double quotes at offset %d would be expanded by a shell, and this server runs none; use single quotes", s, s[j], j)
				default:
					word.WriteByte(s[j])
				}
			}
			if j == len(s) {
				return nil, fmt.Errorf("sshtransport: command %q: unterminated double quote at offset %d", s, i)
			}
			i = j
		case '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("sshtransport: command %q: backslash at the end", s)
			}
			i++
			if s[i] != '\n' { // backslash-newline is a line continuation
				word.WriteByte(s[i])
				inWord = true
			}
		case '|', '&', ';', '<', '>', '(', ')', '$', '`':
			return nil, fmt.Errorf("sshtransport: command %q: unquoted %q at offset %d needs a shell, and this server runs none; quote it", s, c, i)
		case '#':
			if !inWord {
				return nil, fmt.Errorf("sshtransport: command %q: '#' at offset %d starts a shell comment; quote it", s, i)
			}
			word.WriteByte(c)
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endWord()
	return words, nil
}
