package main

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// wantsHelp reports whether args ask for a command's help.
func wantsHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "-h" || a == "-help" || a == "--help"
	})
}

// optionError prints an option error on one line and returns exit code 2.
func optionError(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, err.Error())
	return exitOptionErr
}

// deviceWord takes a word that is not an option as pppd does: the name of
// a tty device under /dev ("ttyS0" for /dev/ttyS0).
func deviceWord(o *options) func(string) error {
	return func(w string) error {
		if o.device == "" {
			if fi, err := os.Stat("/dev/" + w); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				o.device = "/dev/" + w
				return nil
			}
		}
		return badOption("pppssh: unknown option %q (command line); run with --help for the list", w)
	}
}

const stdioUsage = `Usage: pppssh stdio [options] [DEVICE [SPEED]]

Run a PPP link on standard input and output, on a serial line (DEVICE, a
tty device given by path, set to raw mode while the link runs and put back
after), or on the standard input and output of a command (pty COMMAND).
The link's IPv4 packets go to and from a TUN device (ppp0, ppp1, …, or
ifname NAME), which gets the negotiated addresses and the routes asked for
while the link is up.

This is the classic pppd's job for a serial line and for pppd's pty
option, without pppd: either end of a "VPN PPP-SSH" setup can run it.

Examples:
  # The HOWTO's client: run ssh, speak PPP on its standard input and output
  # with a pppd (or pppssh stdio, or pppssh serve) on the far end.
  pppssh stdio pty 'ssh -e none root@gw pppssh stdio' 192.0.2.1:192.0.2.2 route 203.0.113.0/24

  # The remote end of that ssh command: PPP on standard input and output.
  pppssh stdio notty

  # From a classic pppd: let pppssh be the far end.
  pppd noauth pty "ssh root@gw pppssh stdio" 192.0.2.1:192.0.2.2

  # A serial line at 115200 bit/s with hardware flow control.
  pppssh stdio /dev/ttyS0 115200 crtscts local 192.0.2.1:192.0.2.2 persist

Run "pppssh help options" for every option; the options of pppd that
pppssh understands are written the same way (words, or --flags).
`

// runStdio implements "pppssh stdio".
func runStdio(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, stdioUsage)
		return exitOK
	}
	o := defaultOptions()
	if err := parseOptions(&o, args, "command line", deviceWord(&o)); err != nil {
		return optionError(stderr, err)
	}
	tr, err := pickTransport(&o)
	if err != nil {
		return optionError(stderr, err)
	}
	return runLink(&o, tr, stderr)
}

const pppdUsage = `Usage: pppd [tty_name] [speed] [options]

pppssh installed under the name pppd (a symbolic link named pppd), or run
as "pppssh pppd …", takes pppd's command line: an optional tty device and
speed, then pppd options. It runs the link itself, in one process, over the
tty, over standard input and output (notty, or no device), or over a pty
command (pty 'COMMAND'), so that scripts written for pppd run unchanged:

  pppd updetach noauth silent nodeflate pty "ssh root@gw pppd nodetach notty noauth" \
      ipparam vpn 10.0.8.1:10.0.8.2

Differences from pppd, all deliberate:
  - without updetach, pppssh stays in the foreground (pppd forks at once
    unless nodetach); nodetach is accepted;
  - /etc/ppp/options and ~/.ppprc are not read (use file PATH);
  - /etc/ppp/ip-up and /etc/ppp/ip-down run when they exist, as pppd's;
  - SIGINT and SIGTERM end the link and exit 0 (pppd exits 5);
  - options pppssh does not implement (auth, connect, demand, …) are errors
    that say so, never silently ignored.

Run "pppssh help options" for every option.
`

// runPppd implements pppssh under the name pppd.
func runPppd(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, pppdUsage)
		return exitOK
	}
	if len(args) == 1 && args[0] == "--version" {
		fmt.Fprintln(stdout, "pppd version 2.4.9 compatible (pppssh "+version+")")
		return exitOK
	}
	o := pppdDefaults()
	for path, dst := range map[string]*string{"/etc/ppp/ip-up": &o.ipUp, "/etc/ppp/ip-down": &o.ipDown} {
		if _, err := os.Stat(path); err == nil {
			*dst = path
		}
	}
	if err := parseOptions(&o, args, "command line", deviceWord(&o)); err != nil {
		return optionError(stderr, err)
	}
	tr, err := pickTransport(&o)
	if err != nil {
		return optionError(stderr, err)
	}
	return runLink(&o, tr, stderr)
}
