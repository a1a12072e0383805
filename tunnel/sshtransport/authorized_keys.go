package sshtransport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// AuthorizedKey is one key line of an authorized_keys file: the key, its
// comment, and the tunnel settings and restrictions its options give it.
type AuthorizedKey struct {
	Key      ssh.PublicKey
	Comment  string
	File     string   // the file it came from
	Line     int      // its line number there, from 1
	Options  []string // the options as written, e.g. `pppssh-address="192.0.2.10"`
	Settings KeySettings
	from     []fromPattern // from="…"; nil allows any address
}

// Fingerprint returns the key's SHA-256 fingerprint, "SHA256:…".
func (k *AuthorizedKey) Fingerprint() string { return ssh.FingerprintSHA256(k.Key) }

// KeySettings are the tunnel settings an authorized_keys line gives the
// clients that log in with its key. The server's handler applies them; this
// package only parses them. The zero value means "no per-key settings": the
// server's own defaults apply.
type KeySettings struct {
	// Address is the IPv4 address the client's end of the link is given
	// (IPCP), from pppssh-address="192.0.2.10". Invalid if unset.
	Address netip.Addr
	// Pool is a prefix to pick the client's address from, from
	// pppssh-pool="192.0.2.16/28", for a key shared by several clients.
	// Invalid if unset; never set together with Address.
	Pool netip.Prefix
	// AllowRoutes are the networks the client may route through the
	// tunnel to its side (its --remote-route requests must lie within
	// them), from pppssh-allow-route="203.0.113.0/24", one option per
	// network. Empty allows none.
	AllowRoutes []netip.Prefix
	// NoPTY forbids a pty, from no-pty or restrict (pty re-allows it). A
	// pty is granted only if ServerConfig.AllowPTY is set as well.
	NoPTY bool
}

// AllowsRoute reports whether p lies within one of the AllowRoutes.
func (s KeySettings) AllowsRoute(p netip.Prefix) bool {
	p = p.Masked()
	for _, a := range s.AllowRoutes {
		if a.Bits() <= p.Bits() && a.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// unsupportedOptions are OpenSSH options that would change what a key may
// do in ways pppssh's server cannot honour; a line using one is refused
// rather than half-obeyed.
var unsupportedOptions = map[string]string{
	"command":           "pppssh's server runs no commands; the handler decides what runs",
	"environment":       "pppssh's server sets no environment",
	"permitopen":        "pppssh's server does no port forwarding",
	"permitlisten":      "pppssh's server does no port forwarding",
	"tunnel":            "pppssh's server does no tun forwarding",
	"principals":        "pppssh's server does not accept certificates",
	"cert-authority":    "pppssh's server does not accept certificates",
	"expiry-time":       "pppssh's server does not implement key expiry; remove the line when the key expires",
	"no-touch-required": "pppssh's server does not take FIDO options",
	"verify-required":   "pppssh's server does not take FIDO options",
}

// ignoredOptions are OpenSSH options that pppssh's server obeys by doing
// nothing: it never forwards ports, agents or X11 and runs no rc files.
var ignoredOptions = map[string]bool{
	"no-port-forwarding": true, "port-forwarding": true,
	"no-agent-forwarding": true, "agent-forwarding": true,
	"no-x11-forwarding": true, "x11-forwarding": true,
	"no-user-rc": true, "user-rc": true,
}

// ParseAuthorizedKeys parses an OpenSSH authorized_keys file (sshd(8),
// AUTHORIZED_KEYS FILE FORMAT): one key per line, optionally preceded by
// comma-separated options, followed by a comment. name is the file's name,
// for error messages and AuthorizedKey.File.
//
// The options pppssh's server understands are its own:
//
//	pppssh-address="192.0.2.10"          the client's address (KeySettings.Address)
//	pppssh-pool="192.0.2.16/28"          pick the client's address from here (KeySettings.Pool)
//	pppssh-allow-route="203.0.113.0/24"  a network the client may route to (repeatable)
//
// and these of OpenSSH's:
//
//	from="pattern-list"  the client's IP address must match: *, ? wildcards,
//	                     CIDR prefixes, ! to exclude; host names never match
//	                     (no DNS lookups, like sshd's UseDNS no)
//	restrict, no-pty     no pty (pty re-allows it)
//	no-port-forwarding, no-agent-forwarding, no-X11-forwarding, no-user-rc
//	                     and their positive forms: accepted, nothing to do
//
// Any other option, such as command= (which pppssh cannot honour), is an
// error, as is a malformed line: ParseAuthorizedKeys returns every bad
// line's error, each naming name:line.
func ParseAuthorizedKeys(data []byte, name string) ([]AuthorizedKey, error) {
	var (
		keys []AuthorizedKey
		errs []error
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, err := parseAuthorizedKeyLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("sshtransport: %s:%d: %v", name, n, err))
			continue
		}
		k.File, k.Line = name, n
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("sshtransport: read %s: %w", name, err))
	}
	return keys, errors.Join(errs...)
}

func parseAuthorizedKeyLine(line []byte) (AuthorizedKey, error) {
	key, comment, opts, rest, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		return AuthorizedKey{}, fmt.Errorf("not a valid key line (want [options] type base64-key [comment]): %v", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return AuthorizedKey{}, errors.New("unexpected text after the key")
	}
	k := AuthorizedKey{Key: key, Comment: comment, Options: opts}
	seen := make(map[string]bool)
	for _, o := range opts {
		name, value, hasValue := strings.Cut(o, "=")
		name = strings.ToLower(name)
		if hasValue {
			v, ok := unquoteOption(value)
			if !ok {
				return AuthorizedKey{}, fmt.Errorf("option %s: value must be in double quotes, as in %s=\"…\"", name, name)
			}
			value = v
		}
		needValue := func() error {
			if !hasValue {
				return fmt.Errorf("option %s needs a value, as in %s=\"…\"", name, name)
			}
			return nil
		}
		once := func() error {
			if seen[name] {
				return fmt.Errorf("option %s given twice", name)
			}
			seen[name] = true
			return needValue()
		}
		switch {
		case name == "pppssh-address":
			if err := once(); err != nil {
				return AuthorizedKey{}, err
			}
			a, err := netip.ParseAddr(value)
			if err != nil || !a.Is4() {
				return AuthorizedKey{}, fmt.Errorf("option pppssh-address=%q: want an IPv4 address such as 192.0.2.10", value)
			}
			k.Settings.Address = a
		case name == "pppssh-pool":
			if err := once(); err != nil {
				return AuthorizedKey{}, err
			}
			p, err := parseNetwork(value)
			if err != nil || !p.Addr().Is4() {
				return AuthorizedKey{}, fmt.Errorf("option pppssh-pool=%q: want an IPv4 prefix such as 192.0.2.16/28%s", value, errSuffix(err))
			}
			k.Settings.Pool = p
		case name == "pppssh-allow-route":
			if err := needValue(); err != nil {
				return AuthorizedKey{}, err
			}
			p, err := parseNetwork(value)
			if err != nil {
				return AuthorizedKey{}, fmt.Errorf("option pppssh-allow-route=%q: want a prefix such as 203.0.113.0/24 (one per option)%s", value, errSuffix(err))
			}
			k.Settings.AllowRoutes = append(k.Settings.AllowRoutes, p)
		case name == "from":
			if err := once(); err != nil {
				return AuthorizedKey{}, err
			}
			if k.from, err = parseFromPatterns(value); err != nil {
				return AuthorizedKey{}, fmt.Errorf("option from=%q: %v", value, err)
			}
		case name == "restrict" || name == "no-pty":
			k.Settings.NoPTY = true
		case name == "pty":
			k.Settings.NoPTY = false
		case ignoredOptions[name]:
		case unsupportedOptions[name] != "":
			return AuthorizedKey{}, fmt.Errorf("option %s is not supported: %s", name, unsupportedOptions[name])
		case strings.HasPrefix(name, "pppssh-"):
			return AuthorizedKey{}, fmt.Errorf("unknown option %s (pppssh's are pppssh-address, pppssh-pool and pppssh-allow-route)", name)
		default:
			return AuthorizedKey{}, fmt.Errorf("unknown option %s", name)
		}
	}
	if k.Settings.Address.IsValid() && k.Settings.Pool.IsValid() {
		return AuthorizedKey{}, errors.New("options pppssh-address and pppssh-pool exclude each other; give one")
	}
	return k, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// unquoteOption removes the double quotes around an option value and the
// backslashes before quotes inside it.
func unquoteOption(v string) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), true
}

// parseNetwork parses a prefix that must have no host bits set.
func parseNetwork(v string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("host bits are set; did you mean %s?", p.Masked())
	}
	return p, nil
}

// fromPattern is one entry of a from="…" pattern list.
type fromPattern struct {
	negate bool
	prefix netip.Prefix // a CIDR entry, or
	glob   string       // a wildcard pattern matched against the address text
}

func parseFromPatterns(v string) ([]fromPattern, error) {
	var ps []fromPattern
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		var p fromPattern
		if strings.HasPrefix(s, "!") {
			p.negate, s = true, s[1:]
		}
		if s == "" {
			return nil, errors.New("empty pattern")
		}
		if strings.Contains(s, "/") {
			pre, err := parseNetwork(s)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %v", s, err)
			}
			p.prefix = pre
		} else {
			p.glob = strings.ToLower(s)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// allowsFrom reports whether addr satisfies the key's from="…" option, as
// sshd's match_host_and_ip: a matching negated pattern refuses, otherwise
// any matching pattern admits.
func (k *AuthorizedKey) allowsFrom(addr net.Addr) bool {
	if k.from == nil {
		return true
	}
	ip, ok := addrIP(addr)
	if !ok {
		return false
	}
	text := ip.String()
	matched := false
	for _, p := range k.from {
		var m bool
		if p.prefix.IsValid() {
			m = p.prefix.Contains(ip)
		} else {
			m = wildcardMatch(p.glob, text)
		}
		if m && p.negate {
			return false
		}
		matched = matched || m
	}
	return matched
}

func addrIP(a net.Addr) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap(), true
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(ta.IP)
		return ip.Unmap(), ok
	}
	return netip.Addr{}, false
}

// wildcardMatch matches s against a pattern with * (any run) and ? (any
// one character), as OpenSSH's match_pattern. On a mismatch it goes back
// only to the latest *, letting it take one more character: a run the
// earlier stars took could be taken by the latest as well. So it takes
// time proportional to len(pattern)·len(s), not exponential in the number
// of stars as trying every split for every star would: the pattern comes
// from authorized_keys and is matched at every login with the key.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0 // the latest * and where in s its run ends
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// authorizedKeysFile is an authorized_keys file, re-read at each
// authentication and parsed again when its contents differ from the last
// read (the file is small; this catches every edit, whatever it does to the
// file's times). A file that fails to parse refuses every key until it is
// fixed.
type authorizedKeysFile struct {
	path string

	mu   sync.Mutex
	data []byte // the contents last parsed
	keys []AuthorizedKey
	err  error
}

// load returns the current keys, and whether the file had changed since
// the last call.
func (f *authorizedKeysFile) load() ([]AuthorizedKey, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.path)
	if err != nil {
		changed := f.err == nil || f.data != nil
		f.data, f.keys, f.err = nil, nil, fmt.Errorf("sshtransport: authorized keys: %w", err)
		return nil, changed, f.err
	}
	if f.data != nil && bytes.Equal(data, f.data) {
		return f.keys, false, f.err
	}
	keys, err := ParseAuthorizedKeys(data, f.path)
	if err != nil {
		keys = nil
	}
	f.data, f.keys, f.err = data, keys, err
	return keys, true, err
}

// find returns the entry for key, or nil.
func (f *authorizedKeysFile) find(key ssh.PublicKey) (*AuthorizedKey, bool, error) {
	keys, reloaded, err := f.load()
	if err != nil {
		return nil, reloaded, err
	}
	want := key.Marshal()
	for i := range keys {
		if bytes.Equal(keys[i].Key.Marshal(), want) {
			k := keys[i]
			return &k, reloaded, nil
		}
	}
	return nil, reloaded, nil
}
