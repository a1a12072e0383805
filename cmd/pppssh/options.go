package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// options is everything a pppssh command can be told, from its command
// line, from options files (pppd's "file PATH") and, under the name pppd,
// from pppd's own command line. Every option has one spelling as a pppd word
// ("mtu 1400", "noauth", "192.0.2.1:192.0.2.2") and the same name as a
// GNU-style flag ("--mtu 1400", "--mtu=1400", "--noauth").
type options struct {
	// Addresses (pppd's LOCAL:REMOTE, either side optional).
	local, remote netip.Addr

	// Link options.
	mtu, mru        int
	asyncmap        uint32
	hasAsyncmap     bool
	echoInterval    int // seconds; 0 off
	echoFailure     int
	lcpRestart      int // seconds
	lcpMaxConfigure int
	lcpMaxTerminate int
	lcpMaxFailure   int
	passive, silent bool
	noFCS32         bool

	// IPCP.
	acceptLocal, acceptRemote bool
	noIPDefault               bool
	usePeerDNS                bool
	msDNS                     []netip.Addr

	// Host around the link.
	ifname       string
	routes       []netip.Prefix
	defaultRoute bool
	metric       int
	proxyARP     bool
	mssClamp     bool
	ipUp, ipDown string
	ipparam      string
	linkname     string

	// The far end.
	remoteRoutes   []netip.Prefix // routes the remote end adds back through us (the old sshroute)
	remoteProxyARP bool
	allowRoutes    []netip.Prefix // serve: what a forced command lets clients ask for
	remoteCommand  string         // connect: what to run on the server
	identities     []string       // connect: -i files
	acceptNew      bool           // connect: StrictHostKeyChecking=accept-new
	pty            string         // run COMMAND and speak PPP on its stdin/stdout
	notty          bool           // PPP on our own stdin/stdout
	device         string         // a tty device given by path (pppd's first argument)

	// Supervision.
	persist  bool
	holdoff  time.Duration
	maxfail  int
	nodetach bool
	updetach bool

	// Logging.
	debug   bool
	logfile string

	// Accepted for compatibility and documented as having no effect: the
	// thing they turn off is never done by pppssh.
	ignored []string
}

func defaultOptions() options {
	return options{
		mtu:         1500,
		echoFailure: 4,
		holdoff:     30 * time.Second,
		maxfail:     10,
	}
}

// optDef describes one option: its name, whether it takes an argument, how
// it applies, and its help line.
type optDef struct {
	name  string
	arg   string // the argument's name in help, "" for none
	set   func(o *options, arg string) error
	help  string
	group string
}

const (
	groupPPP     = "PPP"
	groupHost    = "Host"
	groupRemote  = "Far end"
	groupSupervi = "Supervision"
	groupLog     = "Logging"
	groupCompat  = "pppd compatibility"
)

func intArg(dst *int, min, max int) func(*options, string) error {
	return func(_ *options, s string) error {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil || v < int64(min) || v > int64(max) {
			return fmt.Errorf("want a number from %d to %d, not %q", min, max, s)
		}
		*dst = int(v)
		return nil
	}
}

// optionTable returns the definitions bound to o.
func optionTable(o *options) []optDef {
	flag := func(dst *bool, v bool) func(*options, string) error {
		return func(*options, string) error { *dst = v; return nil }
	}
	prefix := func(dst *[]netip.Prefix) func(*options, string) error {
		return func(_ *options, s string) error {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				if a, aerr := netip.ParseAddr(s); aerr == nil {
					p = netip.PrefixFrom(a, a.BitLen())
				} else {
					return fmt.Errorf("want a network like 203.0.113.0/24, not %q", s)
				}
			}
			if p.Masked() != p {
				return fmt.Errorf("%v has host bits set (did you mean %v?)", p, p.Masked())
			}
			*dst = append(*dst, p)
			return nil
		}
	}
	str := func(dst *string) func(*options, string) error {
		return func(_ *options, s string) error { *dst = s; return nil }
	}
	seconds := func(dst *time.Duration) func(*options, string) error {
		return func(_ *options, s string) error {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return fmt.Errorf("want a number of seconds, not %q", s)
			}
			*dst = time.Duration(v) * time.Second
			return nil
		}
	}
	ignore := func(name string) func(*options, string) error {
		return func(o *options, _ string) error { o.ignored = append(o.ignored, name); return nil }
	}
	return []optDef{
		// PPP
		{"mtu", "N", intArg(&o.mtu, 128, 65535), "largest packet we send; the interface MTU is the peer's MRU capped by this (default 1500)", groupPPP},
		{"mru", "N", intArg(&o.mru, 128, 65535), "largest packet we ask the peer to send (LCP MRU; default 1500)", groupPPP},
		{"asyncmap", "MAP", func(o *options, s string) error {
			v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
			if err != nil {
				return fmt.Errorf("want a 32-bit hexadecimal map like 0xa0000, not %q", s)
			}
			o.asyncmap, o.hasAsyncmap = uint32(v), true
			return nil
		}, "control characters the peer must escape when sending to us (default 0: none, the SSH stream is 8-bit clean)", groupPPP},
		{"default-asyncmap", "", func(o *options, _ string) error {
			o.asyncmap, o.hasAsyncmap = 0xffffffff, true
			return nil
		}, "ask the peer to escape every control character", groupPPP},
		{"lcp-echo-interval", "SECONDS", intArg(&o.echoInterval, 0, 86400), "send an LCP Echo-Request every SECONDS (0: never)", groupPPP},
		{"lcp-echo-failure", "N", intArg(&o.echoFailure, 0, 1000), "declare the peer dead after N unanswered Echo-Requests (default 4)", groupPPP},
		{"lcp-restart", "SECONDS", intArg(&o.lcpRestart, 1, 3600), "restart timer of LCP and IPCP (default 3)", groupPPP},
		{"lcp-max-configure", "N", intArg(&o.lcpMaxConfigure, 1, 1000), "Configure-Requests sent without answer before giving up (default 10)", groupPPP},
		{"lcp-max-terminate", "N", intArg(&o.lcpMaxTerminate, 1, 1000), "Terminate-Requests sent before giving up (default 2)", groupPPP},
		{"lcp-max-failure", "N", intArg(&o.lcpMaxFailure, 1, 1000), "Configure-Naks sent before Naks turn into Rejects (default 5)", groupPPP},
		{"passive", "", flag(&o.passive, true), "wait for the peer instead of giving up when it does not answer", groupPPP},
		{"silent", "", flag(&o.silent, true), "send nothing until the peer's first LCP packet", groupPPP},
		{"nofcs32", "", flag(&o.noFCS32, true), "do not offer the 32-bit FCS (RFC 1570) to the peer", groupPPP},
		{"ipcp-accept-local", "", flag(&o.acceptLocal, true), "let the peer choose our address", groupPPP},
		{"ipcp-accept-remote", "", flag(&o.acceptRemote, true), "let the peer use another address than REMOTE", groupPPP},
		{"noipdefault", "", flag(&o.noIPDefault, true), "take our address from the peer", groupPPP},
		{"usepeerdns", "", flag(&o.usePeerDNS, true), "ask the peer for DNS servers", groupPPP},
		{"ms-dns", "ADDR", func(o *options, s string) error {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				return fmt.Errorf("want an IPv4 address, not %q", s)
			}
			if len(o.msDNS) == 2 {
				return errors.New("at most two DNS servers")
			}
			o.msDNS = append(o.msDNS, a)
			return nil
		}, "offer this DNS server to the peer (twice for primary and secondary)", groupPPP},

		// Host
		{"ifname", "NAME", str(&o.ifname), "interface name (default ppp0, ppp1, … the first free); an existing persistent TUN of that name is attached to", groupHost},
		{"route", "CIDR", prefix(&o.routes), "route this network through the peer (repeatable): the old `route add -net … gw PEER`", groupHost},
		{"defaultroute", "", flag(&o.defaultRoute, true), "make the link the default route (the SSH server stays reachable the old way)", groupHost},
		{"metric", "N", intArg(&o.metric, 0, 1<<30), "metric of the routes we add", groupHost},
		{"proxyarp", "", flag(&o.proxyARP, true), "answer ARP for the peer on the LAN its address belongs to", groupHost},
		{"mss-clamp", "", flag(&o.mssClamp, true), "rewrite the MSS of TCP SYNs crossing the link to fit its MTU", groupHost},
		{"ip-up", "SCRIPT", str(&o.ipUp), "run SCRIPT when the link is up (pppd's /etc/ppp/ip-up arguments and environment)", groupHost},
		{"ip-down", "SCRIPT", str(&o.ipDown), "run SCRIPT when the link goes down", groupHost},
		{"ipparam", "WORD", str(&o.ipparam), "passed to the ip-up and ip-down scripts", groupHost},
		{"linkname", "NAME", str(&o.linkname), "name of this link, for scripts and status", groupHost},

		// Far end
		{"remote-route", "CIDR", prefix(&o.remoteRoutes), "ask the far end to route this network back through us (repeatable): the old sshroute", groupRemote},
		{"remote-proxyarp", "", flag(&o.remoteProxyARP, true), "ask the far end to answer ARP for our address on its LAN", groupRemote},
		{"allow-remote-route", "CIDR", prefix(&o.allowRoutes), "serve: let the client ask for routes within CIDR (repeatable)", groupRemote},
		{"command", "COMMAND", str(&o.remoteCommand), "connect: the command that runs the far end (default `pppssh serve`)", groupRemote},
		{"i", "FILE", func(o *options, s string) error { o.identities = append(o.identities, s); return nil }, "connect: identity file (repeatable; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa)", groupRemote},
		{"accept-new", "", flag(&o.acceptNew, true), "connect: trust an unknown host key and record it (StrictHostKeyChecking=accept-new)", groupRemote},
		{"pty", "COMMAND", str(&o.pty), "run COMMAND and speak PPP on its standard input and output", groupRemote},
		{"notty", "", flag(&o.notty, true), "speak PPP on our own standard input and output", groupRemote},

		// Supervision
		{"persist", "", flag(&o.persist, true), "reconnect after the link fails", groupSupervi},
		{"holdoff", "SECONDS", seconds(&o.holdoff), "wait before reconnecting (default 30; doubles after repeated failures)", groupSupervi},
		{"maxfail", "N", intArg(&o.maxfail, 0, 1<<30), "give up after N consecutive failed attempts (0: never; default 10)", groupSupervi},
		{"nodetach", "", flag(&o.nodetach, true), "stay in the foreground (pppssh always does; accepted for pppd scripts)", groupSupervi},
		{"updetach", "", flag(&o.updetach, true), "go to the background once the link is up", groupSupervi},

		// Logging
		{"debug", "", flag(&o.debug, true), "log every control packet as pppd's debug option does", groupLog},
		{"logfile", "PATH", str(&o.logfile), "append the log to PATH as well as standard error", groupLog},

		// Accepted for compatibility: pppssh never does what they turn off.
		{"noauth", "", ignore("noauth"), "the peer need not authenticate itself (the SSH layer already does)", groupCompat},
		{"local", "", ignore("local"), "no modem control lines (there are none on a byte stream)", groupCompat},
		{"nocrtscts", "", ignore("nocrtscts"), "no hardware flow control", groupCompat},
		{"novj", "", ignore("novj"), "no Van Jacobson compression (never used)", groupCompat},
		{"noccp", "", ignore("noccp"), "no compression control (never used)", groupCompat},
		{"nodeflate", "", ignore("nodeflate"), "no Deflate compression (never used)", groupCompat},
		{"nobsdcomp", "", ignore("nobsdcomp"), "no BSD compression (never used)", groupCompat},
		{"noipv6", "", ignore("noipv6"), "no IPv6 (IPV6CP is not offered)", groupCompat},
		{"lock", "", ignore("lock"), "UUCP lock (not needed)", groupCompat},
	}
}

// parseError is an error in the options, reported as "pppssh: ..." with
// exit code 2.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

func badOption(format string, args ...any) error {
	return &parseError{fmt.Sprintf(format, args...)}
}

// parseOptions applies args to o: options as pppd words or GNU-style flags,
// "file PATH" to read more from an options file, "LOCAL:REMOTE" addresses,
// and, when positional is not nil, other words handed to it in order (a
// command's own arguments, such as connect's [user@]host). where names the
// source for error messages ("command line", "/etc/ppp/options.vpn:3").
func parseOptions(o *options, args []string, where string, positional func(string) error) error {
	table := optionTable(o)
	find := func(name string) *optDef {
		for i := range table {
			if table[i].name == name {
				return &table[i]
			}
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		word := args[i]
		name, value, hasValue := word, "", false
		dashed := strings.HasPrefix(word, "-") && len(word) > 1
		if dashed {
			name = strings.TrimLeft(word, "-")
			name, value, hasValue = strings.Cut(name, "=")
		}
		def := find(name)
		switch {
		case def != nil:
			arg := ""
			if def.arg != "" {
				switch {
				case hasValue:
					arg = value
				case i+1 < len(args):
					i++
					arg = args[i]
				default:
					return badOption("pppssh: option %s needs an argument %s (%s)", name, def.arg, where)
				}
			} else if hasValue {
				return badOption("pppssh: option %s takes no argument (%s)", name, where)
			}
			if err := def.set(o, arg); err != nil {
				return badOption("pppssh: option %s: %v (%s)", name, err, where)
			}
		case name == "file":
			path := value
			if !hasValue {
				if i+1 >= len(args) {
					return badOption("pppssh: option file needs a PATH (%s)", where)
				}
				i++
				path = args[i]
			}
			if err := parseOptionsFile(o, path); err != nil {
				return err
			}
		case !dashed && strings.HasPrefix(word, "/dev/"):
			// pppd's tty device, given by path.
			o.device = word
		case !dashed && strings.Contains(word, ":") && looksLikeAddrPair(word):
			if err := parseAddrPair(o, word); err != nil {
				return badOption("pppssh: %v (%s)", err, where)
			}
		case dashed:
			return badOption("pppssh: unknown option %q (%s); run with --help for the list", word, where)
		case positional != nil:
			if err := positional(word); err != nil {
				return err
			}
		default:
			return badOption("pppssh: unknown option %q (%s); run with --help for the list", word, where)
		}
	}
	return nil
}

// looksLikeAddrPair reports whether word is pppd's LOCAL:REMOTE, with
// either side possibly empty, rather than a host:port or an IPv6 address.
func looksLikeAddrPair(word string) bool {
	l, r, _ := strings.Cut(word, ":")
	ok := func(s string) bool {
		if s == "" {
			return true
		}
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is4()
	}
	return strings.Count(word, ":") == 1 && (l != "" || r != "") && ok(l) && ok(r)
}

func parseAddrPair(o *options, word string) error {
	l, r, _ := strings.Cut(word, ":")
	if l != "" {
		o.local = netip.MustParseAddr(l)
	}
	if r != "" {
		o.remote = netip.MustParseAddr(r)
	}
	if o.local.IsValid() && o.local == o.remote {
		return fmt.Errorf("local and remote address are both %v", o.local)
	}
	return nil
}

// parseOptionsFile reads pppd's options file format: words separated by
// white space, "#" to the end of the line a comment, double or single
// quotes around a word with spaces, backslash escapes.
func parseOptionsFile(o *options, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return badOption("pppssh: options file: %v", err)
	}
	words, err := splitWords(string(data))
	if err != nil {
		return badOption("pppssh: options file %s: %v", path, err)
	}
	return parseOptions(o, words, path, nil)
}

// splitWords splits text into words as pppd reads options files and as a
// POSIX shell splits a simple command (for pty 'COMMAND' and
// SSH_ORIGINAL_COMMAND): quotes group, backslash escapes, "#" at the start
// of a word begins a comment.
func splitWords(text string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '#' && !inWord:
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 < len(text) {
				i++
				if text[i] != '\n' {
					cur.WriteByte(text[i])
				}
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(text[i+1:], c)
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			cur.WriteString(text[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(text); i++ {
				if text[i] == '"' {
					closed = true
					break
				}
				if text[i] == '\\' && i+1 < len(text) && strings.IndexByte(`"\\$`+"`", text[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(text[i])
			}
			if !closed {
				return nil, errors.New(`unterminated " quote`)
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// shellQuote quotes words for a POSIX shell, for the remote command line.
func shellQuote(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w != "" && strings.IndexFunc(w, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
		}) < 0 {
			out[i] = w
			continue
		}
		out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// optionsHelp writes the option reference, grouped.
func optionsHelp(groups ...string) string {
	var o options
	var b strings.Builder
	table := optionTable(&o)
	for _, g := range []string{groupPPP, groupHost, groupRemote, groupSupervi, groupLog, groupCompat} {
		if len(groups) > 0 && !slices.Contains(groups, g) {
			continue
		}
		fmt.Fprintf(&b, "\n%s options (pppd words or --flags):\n", g)
		for _, d := range table {
			if d.group != g {
				continue
			}
			left := d.name
			if d.arg != "" {
				left += " " + d.arg
			}
			fmt.Fprintf(&b, "  %-26s %s\n", left, d.help)
		}
	}
	return b.String()
}
