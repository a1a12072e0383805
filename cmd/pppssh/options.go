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

	"github.com/pppssh/pppssh/lcp"
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
	noACComp        bool // noaccomp: neither ask for nor allow Address-and-Control-Field-Compression
	noPComp         bool // nopcomp: likewise Protocol-Field-Compression
	noMagic         bool // nomagic: no Magic-Number (and so no loop-back detection)
	defaultMRU      bool // default-mru: do not negotiate the MRU

	// IPCP.
	acceptLocal, acceptRemote bool
	usePeerDNS                bool
	msDNS                     []netip.Addr
	msWINS                    []netip.Addr

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
	allowProxyARP  bool           // serve: clients may ask for proxyarp
	remoteCommand  string         // connect: what to run on the server
	identities     []string       // connect: -i files
	acceptNew      bool           // connect: StrictHostKeyChecking=accept-new
	pty            string         // run COMMAND and speak PPP on its stdin/stdout
	notty          bool           // PPP on our own stdin/stdout
	device         string         // a tty device given by path (pppd's first argument)
	speed          int            // the device's speed (pppd's speed argument); 0 leaves it
	crtscts        int            // hardware flow control on a terminal: 1 on (crtscts), -1 off (nocrtscts), 0 left alone
	localLine      bool           // local: ignore the modem control lines of a terminal (CLOCAL)

	// Supervision.
	persist  bool
	holdoff  time.Duration
	maxfail  int
	nodetach bool
	updetach bool

	// Logging.
	debug     bool
	logfile   string
	logFormat string // "text" (the default) or "json"

	// Accepted for compatibility and documented as having no effect: the
	// thing they turn off is never done by pppssh.
	ignored []string

	// fileDepth counts the options files being read, one inside another
	// (parseOptionsFile); 0 once parsing is done.
	fileDepth int
}

// defaultOptions returns the defaults of pppssh's own commands: pppd's,
// except for LCP keep-alives, which are on (an Echo-Request every 30
// seconds, the peer dead after 4 unanswered), as Debian's /etc/ppp/options
// sets them, since an SSH connection can die silently.
func defaultOptions() options {
	o := pppdDefaults()
	o.echoInterval = int(lcp.DefaultEchoInterval / time.Second)
	return o
}

// pppdDefaults returns pppd's own defaults, those of pppssh invoked as pppd:
// no keep-alives.
func pppdDefaults() options {
	return options{
		mtu:         1500,
		echoFailure: lcp.DefaultEchoFailure,
		holdoff:     30 * time.Second,
		maxfail:     10,
		logFormat:   "text",
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
	groupLine    = "Line"
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
	servers := func(dst *[]netip.Addr, what string) func(*options, string) error {
		return func(_ *options, s string) error {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				return fmt.Errorf("want an IPv4 address, not %q", s)
			}
			if len(*dst) == 2 {
				return fmt.Errorf("at most two %s servers", what)
			}
			*dst = append(*dst, a)
			return nil
		}
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
		{"lcp-echo-interval", "SECONDS", intArg(&o.echoInterval, 0, 86400), "send an LCP Echo-Request every SECONDS (0: never; default 30, or 0 under the name pppd as with pppd)", groupPPP},
		{"lcp-echo-failure", "N", intArg(&o.echoFailure, 0, 1000), "declare the peer dead after N unanswered Echo-Requests (default 4)", groupPPP},
		{"lcp-restart", "SECONDS", intArg(&o.lcpRestart, 1, 3600), "restart timer of LCP and IPCP (default 3)", groupPPP},
		{"lcp-max-configure", "N", intArg(&o.lcpMaxConfigure, 1, 1000), "Configure-Requests sent without answer before giving up (default 10)", groupPPP},
		{"lcp-max-terminate", "N", intArg(&o.lcpMaxTerminate, 1, 1000), "Terminate-Requests sent before giving up (default 2)", groupPPP},
		{"lcp-max-failure", "N", intArg(&o.lcpMaxFailure, 1, 1000), "Configure-Naks sent before Naks turn into Rejects (default 5)", groupPPP},
		{"passive", "", flag(&o.passive, true), "wait for the peer instead of giving up when it does not answer", groupPPP},
		{"silent", "", flag(&o.silent, true), "send nothing until the peer's first LCP packet", groupPPP},
		{"nofcs32", "", flag(&o.noFCS32, true), "neither offer nor accept the 32-bit FCS (RFC 1570); by default two pppssh ends use it, and pppd refuses it harmlessly", groupPPP},
		{"ipcp-accept-local", "", flag(&o.acceptLocal, true), "let the peer choose our address", groupPPP},
		{"ipcp-accept-remote", "", flag(&o.acceptRemote, true), "let the peer use another address than REMOTE", groupPPP},
		{"usepeerdns", "", flag(&o.usePeerDNS, true), "ask the peer for DNS servers", groupPPP},
		{"ms-dns", "ADDR", servers(&o.msDNS, "DNS"), "offer this DNS server to the peer (twice for primary and secondary)", groupPPP},
		{"ms-wins", "ADDR", servers(&o.msWINS, "WINS"), "offer this NetBIOS name server to the peer (twice for primary and secondary)", groupPPP},
		{"noaccomp", "", flag(&o.noACComp, true), "neither ask for nor allow Address/Control compression", groupPPP},
		{"nopcomp", "", flag(&o.noPComp, true), "neither ask for nor allow Protocol field compression", groupPPP},
		{"nomagic", "", flag(&o.noMagic, true), "no Magic-Number (turns off loop-back detection)", groupPPP},
		{"default-mru", "", flag(&o.defaultMRU, true), "do not negotiate the MRU (1500 both ways)", groupPPP},

		// Host
		{"ifname", "NAME", str(&o.ifname), "interface name (default ppp0, ppp1, … the first free); an existing persistent TUN of that name is attached to", groupHost},
		{"unit", "N", func(o *options, s string) error {
			v, err := strconv.ParseUint(s, 10, 16)
			if err != nil {
				return fmt.Errorf("want an interface number, not %q", s)
			}
			o.ifname = "ppp" + strconv.FormatUint(v, 10)
			return nil
		}, "interface pppN (the same as ifname pppN)", groupHost},
		{"route", "CIDR", prefix(&o.routes), "route this network through the peer (repeatable): the old `route add -net … gw PEER`", groupHost},
		{"defaultroute", "", flag(&o.defaultRoute, true), "make the link the default route, replacing the current one while the link is up (the SSH server stays reachable the old way)", groupHost},
		{"nodefaultroute", "", flag(&o.defaultRoute, false), "do not touch the default route (the default)", groupHost},
		{"metric", "N", intArg(&o.metric, 0, 1<<30), "metric of the routes we add", groupHost},
		{"proxyarp", "", flag(&o.proxyARP, true), "answer ARP for the peer on the LAN its address belongs to", groupHost},
		{"noproxyarp", "", flag(&o.proxyARP, false), "no proxy ARP (the default)", groupHost},
		{"mss-clamp", "", flag(&o.mssClamp, true), "rewrite the MSS of TCP SYNs crossing the link to fit its MTU", groupHost},
		{"ip-up", "SCRIPT", str(&o.ipUp), "run SCRIPT when the link is up (pppd's /etc/ppp/ip-up arguments and environment)", groupHost},
		{"ip-down", "SCRIPT", str(&o.ipDown), "run SCRIPT when the link goes down", groupHost},
		{"ipparam", "WORD", str(&o.ipparam), "passed to the ip-up and ip-down scripts", groupHost},
		{"linkname", "NAME", str(&o.linkname), "name of this link, for scripts and status", groupHost},

		// Far end
		{"remote-route", "CIDR", prefix(&o.remoteRoutes), "ask the far end to route this network back through us (repeatable): the old sshroute", groupRemote},
		{"remote-proxyarp", "", flag(&o.remoteProxyARP, true), "ask the far end to answer ARP for our address on its LAN", groupRemote},
		{"allow-remote-route", "CIDR", prefix(&o.allowRoutes), "serve: let the client ask for routes within CIDR, back through it (repeatable; connect's --remote-route)", groupRemote},
		{"allow-proxyarp", "", flag(&o.allowProxyARP, true), "serve: let the client ask for proxy ARP of its address (connect's --remote-proxyarp)", groupRemote},
		{"command", "COMMAND", str(&o.remoteCommand), "connect: the command that runs the far end (default `pppssh serve`)", groupRemote},
		{"i", "FILE", func(o *options, s string) error { o.identities = append(o.identities, s); return nil }, "connect: identity file (repeatable; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa)", groupRemote},
		{"accept-new", "", flag(&o.acceptNew, true), "connect: trust an unknown host key and record it (StrictHostKeyChecking=accept-new)", groupRemote},
		{"pty", "COMMAND", str(&o.pty), "run COMMAND with /bin/sh on a new pseudo-terminal and speak PPP on its standard input and output, as pppd does; its standard error goes to the log", groupLine},
		{"notty", "", flag(&o.notty, true), "speak PPP on our own standard input and output (the default without a device or pty; a terminal is put in raw mode)", groupLine},
		{"crtscts", "", func(o *options, _ string) error { o.crtscts = 1; return nil }, "hardware flow control (RTS/CTS) on a serial line; no effect on a pty or pipe", groupLine},
		{"nocrtscts", "", func(o *options, _ string) error { o.crtscts = -1; return nil }, "no hardware flow control on a serial line", groupLine},
		{"local", "", flag(&o.localLine, true), "ignore the modem control lines of a serial line (CLOCAL)", groupLine},

		// Supervision
		{"persist", "", flag(&o.persist, true), "open the transport again after the link ends (not on SIGINT or SIGTERM)", groupSupervi},
		{"holdoff", "SECONDS", seconds(&o.holdoff), "wait before reconnecting (default 30; doubles after each further quick failure in a row, up to 5 minutes)", groupSupervi},
		{"maxfail", "N", intArg(&o.maxfail, 0, 1<<30), "give up after N consecutive failed attempts (0: never; default 10)", groupSupervi},
		{"nodetach", "", flag(&o.nodetach, true), "stay in the foreground (pppssh always does unless updetach; nodetach wins over updetach, as with pppd)", groupSupervi},
		{"updetach", "", flag(&o.updetach, true), "return once the link is up (exit 0), the link going on in the background; the exit code of the failure if it never comes up", groupSupervi},

		// Logging
		{"debug", "", flag(&o.debug, true), "log every control packet as pppd's debug option does", groupLog},
		{"logfile", "PATH", str(&o.logfile), "append the log to PATH (created mode 0600) as well as standard error, with timestamps", groupLog},
		{"log-format", "FORMAT", func(o *options, s string) error {
			if s != "text" && s != "json" {
				return fmt.Errorf("want text or json, not %q", s)
			}
			o.logFormat = s
			return nil
		}, "text (pppd's lines, the default) or json (one object per line, for log collectors)", groupLog},
		{"kdebug", "N", func(o *options, _ string) error { o.ignored = append(o.ignored, "kdebug"); return nil }, "pppd's kernel debugging: no kernel PPP driver, no effect", groupCompat},

		// Accepted for compatibility: pppssh never does what they turn off.
		{"noauth", "", ignore("noauth"), "the peer need not authenticate itself (the SSH layer already does)", groupCompat},
		{"novj", "", ignore("novj"), "no Van Jacobson compression (never used)", groupCompat},
		{"noccp", "", ignore("noccp"), "no compression control (never used)", groupCompat},
		{"nodeflate", "", ignore("nodeflate"), "no Deflate compression (never used)", groupCompat},
		{"nobsdcomp", "", ignore("nobsdcomp"), "no BSD compression (never used)", groupCompat},
		{"noipv6", "", ignore("noipv6"), "no IPv6 (IPV6CP is not offered)", groupCompat},
		{"lock", "", ignore("lock"), "UUCP lock (not needed)", groupCompat},
		{"refuse-pap", "", ignore("refuse-pap"), "never authenticate ourselves with PAP (pppssh never does)", groupCompat},
		{"refuse-chap", "", ignore("refuse-chap"), "never authenticate ourselves with CHAP (pppssh never does)", groupCompat},
		{"refuse-mschap", "", ignore("refuse-mschap"), "never authenticate ourselves with MS-CHAP (pppssh never does)", groupCompat},
		{"refuse-mschap-v2", "", ignore("refuse-mschap-v2"), "never authenticate ourselves with MS-CHAP-v2 (pppssh never does)", groupCompat},
		{"refuse-eap", "", ignore("refuse-eap"), "never authenticate ourselves with EAP (pppssh never does)", groupCompat},
		{"ktune", "", ignore("ktune"), "let pppd tune kernel settings (pppssh changes none)", groupCompat},
		{"novjccomp", "", ignore("novjccomp"), "no VJ connection-ID compression (never used)", groupCompat},
		{"noipx", "", ignore("noipx"), "no IPX (never offered)", groupCompat},
		{"noendpoint", "", ignore("noendpoint"), "no multilink endpoint discriminator (never sent)", groupCompat},
		{"nomp", "", ignore("nomp"), "no multilink (never offered)", groupCompat},
		{"hide-password", "", ignore("hide-password"), "keep passwords out of the log (pppssh has none)", groupCompat},
		{"replacedefaultroute", "", ignore("replacedefaultroute"), "defaultroute always replaces the current default route while the link is up", groupCompat},
		{"noipdefault", "", ignore("noipdefault"), "without LOCAL, take our address from the peer (pppssh never guesses it from the host name)", groupCompat},
	}
}

// parseError is an error in the options, reported as "pppssh: ..." with
// exit code 2.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

func badOption(format string, args ...any) error {
	return &parseError{fmt.Sprintf(format, args...)}
}

// tokenKind says what a word of an options list is.
type tokenKind uint8

const (
	tokOption tokenKind = iota + 1 // an option of the table, with its argument
	tokFile                        // file PATH
	tokDevice                      // a tty device given by path (/dev/…)
	tokSpeed                       // a line speed (a number), pppd's speed argument
	tokAddrs                       // LOCAL:REMOTE
	tokWord                        // anything else, for a command's own arguments
)

// token is one option, or other word, of an options list.
type token struct {
	kind tokenKind
	word string  // the word as given ("--mtu=1400", "mtu", "192.0.2.1:192.0.2.2")
	name string  // the option's name ("mtu"); "file" for tokFile
	arg  string  // its argument, if it takes one
	def  *optDef // for tokOption
}

// nextToken reads the token that starts at args[i] and returns it with the
// index of the word after it. It applies nothing, so it can also vet words
// before they are applied (see checkRequest). Unknown dashed words, known
// pppd options that pppssh does not support, and missing or unexpected
// arguments are errors naming the option and where.
func nextToken(table []optDef, args []string, i int, where string) (token, int, error) {
	word := args[i]
	name, value, hasValue := word, "", false
	dashed := strings.HasPrefix(word, "-") && len(word) > 1
	if dashed {
		name = strings.TrimLeft(word, "-")
		name, value, hasValue = strings.Cut(name, "=")
	}
	t := token{word: word, name: name}
	argument := func(what string) (string, int, error) {
		switch {
		case hasValue:
			return value, i + 1, nil
		case i+1 < len(args):
			return args[i+1], i + 2, nil
		}
		return "", i + 1, badOption("pppssh: option %s needs an argument %s (%s)", name, what, where)
	}
	for j := range table {
		if table[j].name != name {
			continue
		}
		t.kind, t.def = tokOption, &table[j]
		if t.def.arg == "" {
			if hasValue {
				return t, i + 1, badOption("pppssh: option %s takes no argument (%s)", name, where)
			}
			return t, i + 1, nil
		}
		var err error
		t.arg, i, err = argument(t.def.arg)
		return t, i, err
	}
	if reason, ok := unsupportedOptions[name]; ok {
		return t, i + 1, badOption("pppssh: option %s is not supported: %s (%s)", name, reason, where)
	}
	switch {
	case name == "file":
		t.kind = tokFile
		var err error
		t.arg, i, err = argument("PATH")
		return t, i, err
	case dashed:
		return t, i + 1, badOption("pppssh: unknown option %q (%s); run with --help for the list", word, where)
	case strings.HasPrefix(word, "/dev/"):
		t.kind = tokDevice
	case isSpeed(word):
		t.kind = tokSpeed
	case strings.Contains(word, ":") && looksLikeAddrPair(word):
		t.kind = tokAddrs
	default:
		t.kind = tokWord
	}
	return t, i + 1, nil
}

// parseOptions applies args to o: options as pppd words or GNU-style flags,
// "file PATH" to read more from an options file, "LOCAL:REMOTE" addresses,
// a tty device by path and a line speed, and, when positional is not nil,
// other words handed to it in order (a command's own arguments, such as
// connect's [user@]host). where names the source for error messages
// ("command line", "/etc/ppp/options.vpn").
func parseOptions(o *options, args []string, where string, positional func(string) error) error {
	table := optionTable(o)
	for i := 0; i < len(args); {
		t, next, err := nextToken(table, args, i, where)
		if err != nil {
			return err
		}
		i = next
		switch t.kind {
		case tokOption:
			if err := t.def.set(o, t.arg); err != nil {
				return badOption("pppssh: option %s: %v (%s)", t.name, err, where)
			}
		case tokFile:
			if err := parseOptionsFile(o, t.arg); err != nil {
				return err
			}
		case tokDevice:
			o.device = t.word
		case tokSpeed:
			n, _ := strconv.Atoi(t.word)
			if _, ok := baudRates[n]; !ok {
				return badOption("pppssh: %d is not a line speed this system supports (%s)", n, where)
			}
			o.speed = n
		case tokAddrs:
			if err := parseAddrPair(o, t.word); err != nil {
				return badOption("pppssh: %v (%s)", err, where)
			}
		case tokWord:
			if positional == nil {
				return badOption("pppssh: unknown option %q (%s); run with --help for the list", t.word, where)
			}
			if err := positional(t.word); err != nil {
				return err
			}
		}
	}
	return nil
}

// isSpeed reports whether word is a number, which pppd takes as the line
// speed.
func isSpeed(word string) bool {
	if word == "" || len(word) > 8 {
		return false
	}
	for i := 0; i < len(word); i++ {
		if word[i] < '0' || word[i] > '9' {
			return false
		}
	}
	return true
}

// unsupportedOptions are pppd options that pppssh does not implement, with
// the reason and what to do instead. They are errors rather than unknown
// words, so that a pppd command line fails with an explanation instead of
// half working.
var unsupportedOptions = map[string]string{
	"auth":               "pppssh does no PAP or CHAP; SSH authenticates the far end (use noauth)",
	"require-pap":        "pppssh does no PAP or CHAP; SSH authenticates the far end (use noauth)",
	"require-chap":       "pppssh does no PAP or CHAP; SSH authenticates the far end (use noauth)",
	"require-mschap":     "pppssh does no MS-CHAP; SSH authenticates the far end (use noauth)",
	"require-mschap-v2":  "pppssh does no MS-CHAP; SSH authenticates the far end (use noauth)",
	"require-eap":        "pppssh does no EAP; SSH authenticates the far end (use noauth)",
	"user":               "pppssh does not authenticate itself with PAP or CHAP; SSH does",
	"password":           "pppssh does not authenticate itself with PAP or CHAP; SSH does",
	"name":               "pppssh does not authenticate itself with PAP or CHAP; SSH does",
	"remotename":         "pppssh does no PAP or CHAP; SSH authenticates the far end",
	"login":              "pppssh does no PAP; SSH authenticates the far end",
	"connect":            "there are no chat scripts; run the command with pty COMMAND",
	"disconnect":         "there are no chat scripts",
	"init":               "there are no chat scripts",
	"welcome":            "there are no chat scripts",
	"demand":             "dial on demand is not supported; use persist",
	"idle":               "idle disconnection is not supported",
	"maxconnect":         "a connect time limit is not supported",
	"modem":              "modem control lines are not used; pppssh never waits for carrier (use local, or leave it out)",
	"xonxoff":            "software flow control would eat ^Q and ^S; use crtscts on a serial line",
	"deflate":            "compression is not supported (no CCP)",
	"bsdcomp":            "compression is not supported (no CCP)",
	"predictor1":         "compression is not supported (no CCP)",
	"mppe":               "MPPE is not supported (SSH encrypts the link)",
	"require-mppe":       "MPPE is not supported (SSH encrypts the link)",
	"vj-max-slots":       "Van Jacobson compression is not supported",
	"ipv6":               "IPv6 (IPV6CP) is not supported yet; the link carries IPv4",
	"+ipv6":              "IPv6 (IPV6CP) is not supported yet; the link carries IPv4",
	"plugin":             "plugins are not supported",
	"multilink":          "multilink is not supported",
	"mrru":               "multilink is not supported",
	"endpoint":           "multilink is not supported",
	"callback":           "callback is not supported",
	"netmask":            "the interface is point-to-point; use route CIDR for networks behind the peer",
	"ipcp-restart":       "pppssh has one set of timers for LCP and IPCP: use lcp-restart",
	"ipcp-max-configure": "pppssh has one set of counters for LCP and IPCP: use lcp-max-configure",
	"ipcp-max-terminate": "pppssh has one set of counters for LCP and IPCP: use lcp-max-terminate",
	"ipcp-max-failure":   "pppssh has one set of counters for LCP and IPCP: use lcp-max-failure",
	"escape":             "escaping other octets than control characters is not supported; use asyncmap",
	"sync":               "synchronous HDLC is not supported; pppssh frames asynchronously (RFC 1662)",
	"dryrun":             "not supported",
	"dump":               "not supported",
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

// maxFileDepth bounds how deeply options files may name further options
// files: one that names itself, directly or through others, would
// otherwise be read until the stack overflows.
const maxFileDepth = 16

// parseOptionsFile reads pppd's options file format: words separated by
// white space, "#" to the end of the line a comment, double or single
// quotes around a word with spaces, backslash escapes.
func parseOptionsFile(o *options, path string) error {
	if o.fileDepth >= maxFileDepth {
		return badOption("pppssh: options file %s: options files nested more than %d deep; does one name itself with file?", path, maxFileDepth)
	}
	o.fileDepth++
	defer func() { o.fileDepth-- }()
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
	for _, g := range []string{groupPPP, groupHost, groupRemote, groupLine, groupSupervi, groupLog, groupCompat} {
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
	if len(groups) == 0 {
		b.WriteString(`
Other words:
  LOCAL:REMOTE               our address and the peer's (either may be left out: 192.0.2.1: or :192.0.2.2)
  /dev/ttyS0, ttyS0          a serial line to run the link on (stdio and pppd)
  SPEED                      the serial line's speed in bit/s, e.g. 115200
  file PATH                  read more options from PATH (pppd's options file format)
`)
	}
	return b.String()
}
