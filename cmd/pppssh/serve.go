package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path"
	"slices"
	"strings"
)

const serveUsage = `Usage: pppssh serve [options]

The remote end of a pppssh link, for sshd to run: PPP on standard input and
output (put in raw mode if it is a terminal, as with ssh -t, and put back at
the end), the link's packets to and from a TUN device on this host. It
replaces the HOWTO's "sudo pppd" on the server and its sshroute script.

Run as root, or with CAP_NET_ADMIN (setcap cap_net_admin+ep), or as an
ordinary user on a persistent TUN device the administrator made for that
user and addressed in advance; serve then only checks it (and names what
is missing):

  ip tuntap add dev ppp-alice mode tun user alice
  ip addr add 192.0.2.2 peer 192.0.2.1 dev ppp-alice
  ip link set ppp-alice up

As a forced command in ~/.ssh/authorized_keys, the options on the command
line are the administrator's, and a client gets only what they grant:

  command="pppssh serve 192.0.2.2:192.0.2.1 --allow-remote-route 203.0.113.0/24",restrict ssh-ed25519 AAAA… alice

The command the client asked for (sshd passes it in SSH_ORIGINAL_COMMAND)
must be "pppssh serve [REQUEST…]", optionally with the program's path, as
pppssh connect sends it (a classic client's "sudo pppd [OPTIONS…]" is read
the same way). REQUEST words are serve options, as if the client ran serve
itself, vetted against the forced command:

  route CIDR         allowed if CIDR lies within an --allow-remote-route network
  proxyarp           allowed with --allow-proxyarp
  LOCAL:REMOTE       allowed only if it repeats the forced command's addresses
  mtu, mru, asyncmap, lcp-echo-*, lcp-restart, lcp-max-*, passive, silent,
  nofcs32, noaccomp, nopcomp, default-mru, mss-clamp, usepeerdns, debug,
  nodetach, notty and pppd's no-op words
                     allowed: they concern only this link
  anything else      refused (ifname, ip-up, logfile, pty, file, defaultroute, …)

One refused word refuses the whole session: serve prints why on standard
error (the client shows it), exits 2 and never starts PPP. Where both set a
link option, the forced command's value stands. A forced command should fix
the client's address (LOCAL:REMOTE); without one, IPCP lets the client
choose its own.

Examples:
  ssh root@gw pppssh serve 192.0.2.2:192.0.2.1 route 198.51.100.0/24
  pppssh stdio pty 'ssh -e none gw pppssh serve route 203.0.113.0/24' 192.0.2.1:192.0.2.2

Run "pppssh help options" for every option.
`

// runServe implements "pppssh serve".
func runServe(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, serveUsage)
		return exitOK
	}
	o := defaultOptions()
	if err := parseOptions(&o, args, "command line", nil); err != nil {
		return optionError(stderr, err)
	}
	var prelude []func(*slog.Logger)
	if cmdline, ok := os.LookupEnv("SSH_ORIGINAL_COMMAND"); ok && strings.TrimSpace(cmdline) != "" {
		merged, notes, err := applyRequest(o, args, cmdline)
		if err != nil {
			fmt.Fprintln(stderr, err.Error())
			return exitOptionErr
		}
		o = merged
		prelude = append(prelude, func(log *slog.Logger) {
			for _, n := range notes {
				log.Info(n)
			}
		})
	}
	switch {
	case o.persist:
		return optionError(stderr, badOption("pppssh: serve runs one link per SSH session; persist belongs on the connecting side"))
	case o.updetach:
		return optionError(stderr, badOption("pppssh: serve runs in the foreground of its SSH session; updetach belongs on the connecting side"))
	}
	tr, err := pickTransport(&o)
	if err != nil {
		return optionError(stderr, err)
	}
	return runLink(&o, tr, stderr, prelude...)
}

// requestPolicy is what a forced command grants the clients of its key.
// pppssh's own SSH server can build one from an authorized_keys line's
// settings and vet requests with checkRequest the same way.
type requestPolicy struct {
	// routes are the networks a client may ask to have routed back
	// through it (--allow-remote-route): a requested route must lie
	// within one of them.
	routes []netip.Prefix
	// proxyARP lets a client ask for proxy ARP of its address
	// (--allow-proxyarp).
	proxyARP bool
	// local and remote are the addresses the forced command fixes for
	// this end and for the client; a requested address must equal them.
	local, remote netip.Addr
}

// policyOf returns the policy a forced command's options grant.
func policyOf(o *options) requestPolicy {
	return requestPolicy{routes: o.allowRoutes, proxyARP: o.allowProxyARP, local: o.local, remote: o.remote}
}

// allowsRoute reports whether p lies within one of the allowed networks.
func (p requestPolicy) allowsRoute(r netip.Prefix) bool {
	for _, a := range p.routes {
		if a.Bits() <= r.Bits() && a.Contains(r.Addr()) {
			return true
		}
	}
	return false
}

// requestAdmitted are the options a client's request may carry freely:
// they concern only its own link. Routes, proxyarp and addresses are
// checked against the policy; the pppd compatibility words, which do
// nothing, are admitted too.
var requestAdmitted = map[string]bool{
	"mtu": true, "mru": true, "asyncmap": true, "default-asyncmap": true,
	"lcp-echo-interval": true, "lcp-echo-failure": true, "lcp-restart": true,
	"lcp-max-configure": true, "lcp-max-terminate": true, "lcp-max-failure": true,
	"passive": true, "silent": true, "nofcs32": true, "noaccomp": true, "nopcomp": true,
	"default-mru": true, "mss-clamp": true, "usepeerdns": true, "debug": true,
	"nodetach": true, "notty": true,
}

// requestWords returns the options of a client's request: the words after
// "pppssh serve" in the command the client asked sshd to run (allowing a
// path to pppssh and a leading "exec"), or after "pppd" (allowing a
// leading "sudo"), the command a classic pppd client sends.
func requestWords(cmdline string) ([]string, error) {
	words, err := splitWords(cmdline)
	if err != nil {
		return nil, fmt.Errorf("cannot read the command the client asked for (%v): %q", err, cmdline)
	}
	rest := words
	if len(rest) > 0 && rest[0] == "exec" {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] == "sudo" {
		rest = rest[1:]
	}
	switch {
	case len(rest) >= 2 && path.Base(rest[0]) == "pppssh" && rest[1] == "serve":
		return rest[2:], nil
	case len(rest) >= 1 && path.Base(rest[0]) == "pppd":
		return rest[1:], nil
	}
	return nil, fmt.Errorf("this key runs only pppssh serve, and the client asked to run %q", cmdline)
}

// checkRequest vets the words of a client's request against p and returns
// one reason per refused word; none means the request may be applied. It
// applies nothing and reads no file.
func checkRequest(words []string, p requestPolicy) []string {
	scratch := defaultOptions()
	table := optionTable(&scratch)
	var refused []string
	for i := 0; i < len(words); {
		t, next, err := nextToken(table, words, i, "request")
		i = next
		if err != nil {
			refused = append(refused, requestError(t, err))
			continue
		}
		switch t.kind {
		case tokOption:
			switch {
			case t.name == "route":
				r, err := netip.ParsePrefix(t.arg)
				if err != nil {
					if a, aerr := netip.ParseAddr(t.arg); aerr == nil {
						r, err = netip.PrefixFrom(a, a.BitLen()), nil
					}
				}
				switch {
				case err != nil || !r.Addr().Is4():
					refused = append(refused, fmt.Sprintf("route %q is not an IPv4 network", t.arg))
				case !p.allowsRoute(r.Masked()):
					refused = append(refused, fmt.Sprintf("route %v: %s", r, allowedRoutesText(p.routes)))
				}
			case t.name == "proxyarp":
				if !p.proxyARP {
					refused = append(refused, "proxyarp: the forced command does not allow it (--allow-proxyarp)")
				}
			case requestAdmitted[t.name] || t.def.group == groupCompat:
			case t.name == "remote-route" || t.name == "remote-proxyarp":
				refused = append(refused, t.name+": an option of the connecting side, not of serve (the request says route or proxyarp)")
			default:
				refused = append(refused, t.name+": clients may not set it")
			}
		case tokAddrs:
			refused = append(refused, checkRequestAddrs(t.word, p)...)
		case tokFile:
			refused = append(refused, "file: clients may not read files on the server")
		case tokDevice:
			refused = append(refused, t.word+": clients may not choose a device")
		default:
			refused = append(refused, fmt.Sprintf("%q: not a serve option", t.word))
		}
	}
	return refused
}

// requestError turns a parse error into a refusal reason.
func requestError(t token, err error) string {
	var pe *parseError
	if errors.As(err, &pe) {
		msg := strings.TrimPrefix(pe.msg, "pppssh: ")
		msg = strings.TrimSuffix(msg, "; run with --help for the list")
		return strings.TrimSuffix(msg, " (request)")
	}
	return t.word + ": " + err.Error()
}

// allowedRoutesText explains a refused route.
func allowedRoutesText(allowed []netip.Prefix) string {
	if len(allowed) == 0 {
		return "the forced command allows no routes (--allow-remote-route CIDR)"
	}
	s := make([]string, len(allowed))
	for i, a := range allowed {
		s[i] = a.String()
	}
	return "not within the networks the forced command allows (--allow-remote-route " + strings.Join(s, ", ") + ")"
}

// checkRequestAddrs vets a requested LOCAL:REMOTE (this end's view): each
// address given must be the one the forced command fixes.
func checkRequestAddrs(word string, p requestPolicy) []string {
	var refused []string
	l, r, _ := strings.Cut(word, ":")
	check := func(s string, fixed netip.Addr, whose string) {
		if s == "" {
			return
		}
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			refused = append(refused, fmt.Sprintf("%q is not an address", s))
		case !fixed.IsValid():
			refused = append(refused, fmt.Sprintf("%v as %s: the forced command fixes no such address (give it LOCAL:REMOTE)", a, whose))
		case a != fixed:
			refused = append(refused, fmt.Sprintf("%v as %s: the forced command gives %v", a, whose, fixed))
		}
	}
	check(l, p.local, "the server's address")
	check(r, p.remote, "the client's address")
	return refused
}

// applyRequest vets the client's request in cmdline against the forced
// command's options (admin, from its words adminArgs) and returns the
// options to run with: the request's, then the forced command's on top,
// so that the forced command's values stand. notes are lines for the log.
// A refused request is an error that names every refused word and what the
// administrator could change.
func applyRequest(admin options, adminArgs []string, cmdline string) (options, []string, error) {
	words, err := requestWords(cmdline)
	if err != nil {
		return options{}, nil, fmt.Errorf("pppssh serve: refused: %v", err)
	}
	if refused := checkRequest(words, policyOf(&admin)); len(refused) > 0 {
		return options{}, nil, fmt.Errorf("pppssh serve: refused the client's request %q: %s. Leave it out, or have the administrator grant it in the forced command (authorized_keys command=\"pppssh serve …\")",
			cmdline, strings.Join(refused, "; "))
	}
	o := defaultOptions()
	if err := parseOptions(&o, words, "the client's request", nil); err != nil {
		return options{}, nil, fmt.Errorf("pppssh serve: refused the client's request %q: %s", cmdline, strings.TrimPrefix(err.Error(), "pppssh: "))
	}
	if err := parseOptions(&o, adminArgs, "command line", nil); err != nil {
		return options{}, nil, err
	}
	var notes []string
	if len(words) > 0 {
		notes = append(notes, "client's request granted: "+shellQuote(words))
	}
	if both := setByBoth(words, adminArgs); len(both) > 0 {
		notes = append(notes, "the forced command overrides the client's request for "+strings.Join(both, ", "))
	}
	if !admin.remote.IsValid() {
		notes = append(notes, "the forced command does not fix the client's address, so IPCP lets the client choose it (give serve LOCAL:REMOTE)")
	}
	return o, notes, nil
}

// setByBoth returns the names of single-valued options that both the
// request and the forced command set.
func setByBoth(request, admin []string) []string {
	names := func(words []string) map[string]bool {
		var scratch options
		table := optionTable(&scratch)
		m := map[string]bool{}
		for i := 0; i < len(words); {
			t, next, err := nextToken(table, words, i, "")
			i = next
			if err == nil && t.kind == tokOption && t.name != "route" && t.group() != groupCompat {
				m[t.name] = true
			}
		}
		return m
	}
	a := names(admin)
	var both []string
	for n := range names(request) {
		if a[n] {
			both = append(both, n)
		}
	}
	slices.Sort(both)
	return both
}

// group returns the option's help group, "" for other tokens.
func (t token) group() string {
	if t.def == nil {
		return ""
	}
	return t.def.group
}

// serveRequest returns the remote command pppssh connect runs on the
// server: "pppssh serve" and the request words that ask the far end for
// what o's --remote-route and --remote-proxyarp want, in serve's own terms
// (route, proxyarp). Addresses are left to IPCP, which holds both ends to
// their configuration. Quote it for the remote shell with shellQuote.
func serveRequest(o *options) []string {
	words := []string{"pppssh", "serve"}
	for _, r := range o.remoteRoutes {
		words = append(words, "route", r.String())
	}
	if o.remoteProxyARP {
		words = append(words, "proxyarp")
	}
	return words
}
