// Command pppssh is a PPP-over-SSH VPN in one binary: the same program runs
// on both peers, negotiates PPP (LCP, then IPCP) over an SSH channel and
// moves IP packets between the link and a kernel TUN device.
//
// Usage:
//
//	pppssh <command> [options]
//
// Run "pppssh help" for the list of commands.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"demo", "build a throwaway two-site VPN in network namespaces and show it working (as root)", runDemo},
		{"connect", "connect to a server over SSH and run the tunnel: the local end", runConnect},
		{"server", "the built-in SSH server: one link, TUN and address per client key", runServer},
		{"stdio", "run a link on standard input and output, a serial line, or a pty command", runStdio},
		{"serve", "the remote end, for sshd to run (also as a forced command in authorized_keys)", runServe},
		{"pppd", "take pppd's command line (what runs when pppssh is installed as pppd)", runPppd},
		{"test-peer", "run the PPP conformance suite against another implementation", runTestPeer},
		{"fuzz-peer", "send mutated and malformed frames to another PPP implementation until it breaks", runFuzzPeer},
		{"decode", "decode a captured PPP line (async HDLC bytes) and print it as pppd logs it", runDecode},
		{"version", "print the version", func(_ []string, stdout, _ io.Writer) int {
			fmt.Fprintln(stdout, "pppssh", version)
			return exitOK
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `pppssh: a PPP-over-SSH VPN in one binary, no pppd needed.

Usage:
  pppssh <command> [options]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Installed under the name pppd (a symbolic link), pppssh takes pppd's
command line, so that scripts written for pppd run unchanged.

Run "pppssh <command> --help" for a command's usage and
"pppssh help options" for the options every command takes.

Exit codes (pppd's numbers):
`)
	fmt.Fprint(w, exitCodesHelp())
}

func main() {
	if filepath.Base(os.Args[0]) == "pppd" {
		os.Exit(runPppd(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitOptionErr
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[1] == "options" {
			fmt.Fprint(stdout, "pppssh options, shared by every command and by options files (file PATH):\n")
			fmt.Fprint(stdout, optionsHelp())
			return exitOK
		}
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "pppssh: unknown command %q (run \"pppssh help\" for the list)\n", args[0])
	return exitOptionErr
}
