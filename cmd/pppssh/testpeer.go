package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pppssh/pppssh/fuzz/peer"
)

const testPeerUsage = `Usage: pppssh test-peer TARGET [options]

Run pppssh's conformance suite against another PPP implementation: some
fifty cases of RFC 1661 (the automaton, its restart timer and counters,
identifiers, Ack, Nak and Reject rules, unknown options, codes and
protocols, Protocol-Reject contents, Echo and magic numbers, termination,
unsolicited and duplicate packets, packet lengths), RFC 1662 (ACCM, bad FCS,
aborted and cut frames, header compression) and RFC 1332 with RFC 1877
(IPCP addresses and name servers), each tagged with its RFC section and
level (MUST, SHOULD). Every case runs on a fresh line: a new process for
--exec, a new connection for the others (with --reset to restart a daemon
in between). Run the peer without authentication (pppd's noauth), with an
address for this end to take (pppd's LOCAL:REMOTE), so that every case can
reach the Network phase.

Prints a table (case, RFC reference, level, verdict, reason); verdicts are
pass, FAIL, n/a (the peer does not use what the case checks) and error (the
case could not run: the peer never spoke, the line could not be opened).

Target (exactly one):
  --exec 'CMD'        run CMD with /bin/sh -c for every case; its standard
                      input and output are the line
  --unix PATH         connect to a unix socket for every case
  --tcp HOST:PORT     connect over TCP for every case
  --tty PATH          open a tty device, in raw mode, for every case

How the peer is configured (the suite's timing and counters follow it):
  --restart D         its restart timer, pppd's lcp-restart (default 3s;
                      a plain number is seconds)
  --max-configure N   its Max-Configure, pppd's lcp-max-configure (default 10)
  --max-terminate N   its Max-Terminate, pppd's lcp-max-terminate (default 2)
  --max-failure N     its Max-Failure, pppd's lcp-max-failure (default 5)
  --start D           how long it may take to speak on a new line (default 10s)

Options:
  --reset 'CMD'       run CMD with /bin/sh -c before every case, to put the
                      peer back in its initial state
  --run REGEXP        run only the cases whose name matches REGEXP
  --list              list the cases, what each checks, and exit
  --parallel N        run N cases at once (default 1); only for a target
                      that serves several lines at once, as --exec does
  --junit FILE        also write the results as JUnit XML to FILE
  --mru N             the small MRU the MRU cases ask for (default 296)
  --accm MAP          the ACCM the ACCM case asks for (default 0x000a0000)
  --address IP        the IPCP address this end asks for (default: 0.0.0.0,
                      taking the one the peer offers)
  --peer-address IP   the address given to a peer that asks for one
                      (default 192.0.2.1)
  -v                  print the frame log of every case that failed or could
                      not run, as pppd's debug log, and each result as it
                      comes; -v -v: the logs of every case

Examples:
  pppssh test-peer --exec 'pppd notty noauth lcp-restart 1 192.0.2.1:192.0.2.2' --restart 1 --parallel 4
  pppssh test-peer --exec 'pppssh stdio notty 192.0.2.1:192.0.2.2' --junit peer.xml
  pppssh test-peer --unix /run/peer.sock --reset 'systemctl restart peerd' --run '^lcp/'

Exit status: 0 when the peer passed every MUST (SHOULD findings do not
count), 1 when it failed a MUST or a case could not run, 2 on a bad command
line, 8 when no case could reach the peer (the target cannot be opened or
never speaks PPP).
`

// testPeerConfig is what "pppssh test-peer" was told.
type testPeerConfig struct {
	target   peer.Target
	suite    peer.SuiteConfig
	run      *regexp.Regexp
	list     bool
	parallel int
	junit    string
	verbose  int
}

// secondsOrDuration is a flag value that takes "3s", "500ms" or a plain
// number of seconds, as pppd's lcp-restart.
type secondsOrDuration struct{ d *time.Duration }

func (v secondsOrDuration) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v secondsOrDuration) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		*v.d = time.Duration(n * float64(time.Second))
	} else if *v.d, err = time.ParseDuration(s); err != nil {
		return fmt.Errorf("%q is neither a duration (3s, 500ms) nor a number of seconds", s)
	}
	if *v.d <= 0 {
		return fmt.Errorf("%q: give a positive duration", s)
	}
	return nil
}

// verbosity is the -v flag, counting its repetitions.
type verbosity struct{ n *int }

func (v verbosity) String() string   { return "" }
func (v verbosity) IsBoolFlag() bool { return true }
func (v verbosity) Set(s string) error {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if on {
		*v.n++
	}
	return nil
}

// parseTestPeer parses test-peer's command line.
func parseTestPeer(args []string) (testPeerConfig, error) {
	var c testPeerConfig
	fs := flag.NewFlagSet("test-peer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var tf peerTargetFlags
	tf.add(fs)
	fs.Var(secondsOrDuration{&c.suite.Restart}, "restart", "")
	fs.Var(secondsOrDuration{&c.suite.Start}, "start", "")
	fs.IntVar(&c.suite.MaxConfigure, "max-configure", 0, "")
	fs.IntVar(&c.suite.MaxTerminate, "max-terminate", 0, "")
	fs.IntVar(&c.suite.MaxFailure, "max-failure", 0, "")
	fs.IntVar(&c.suite.MRU, "mru", 0, "")
	accm := fs.String("accm", "", "")
	address := fs.String("address", "", "")
	peerAddress := fs.String("peer-address", "", "")
	runRE := fs.String("run", "", "")
	fs.BoolVar(&c.list, "list", false, "")
	fs.IntVar(&c.parallel, "parallel", 1, "")
	fs.StringVar(&c.junit, "junit", "", "")
	fs.Var(verbosity{&c.verbose}, "v", "")
	if err := fs.Parse(args); err != nil {
		return c, badOption("pppssh test-peer: %v (run \"pppssh test-peer --help\" for the usage)", err)
	}
	if fs.NArg() > 0 {
		return c, badOption("pppssh test-peer: unexpected argument %q: the target is given with --exec, --unix, --tcp or --tty", fs.Arg(0))
	}
	if *runRE != "" {
		re, err := regexp.Compile(*runRE)
		if err != nil {
			return c, badOption("pppssh test-peer: --run %q: %v", *runRE, err)
		}
		c.run = re
	}
	switch {
	case c.suite.MaxConfigure < 0 || c.suite.MaxTerminate < 0 || c.suite.MaxFailure < 0:
		return c, badOption("pppssh test-peer: --max-configure, --max-terminate and --max-failure take a positive number")
	case c.suite.MRU != 0 && (c.suite.MRU < 128 || c.suite.MRU > 1000):
		return c, badOption("pppssh test-peer: --mru %d: give 128 to 1000, small enough for the MRU cases to overflow", c.suite.MRU)
	case c.parallel < 1:
		return c, badOption("pppssh test-peer: --parallel %d: give at least 1", c.parallel)
	}
	if *accm != "" {
		v, err := strconv.ParseUint(*accm, 0, 32)
		if err != nil || v == 0 {
			return c, badOption("pppssh test-peer: --accm %q: give a non-zero 32-bit map, such as 0x000a0000", *accm)
		}
		c.suite.ACCM = uint32(v)
	}
	for _, a := range []struct {
		flag, value string
		dst         *netip.Addr
	}{{"address", *address, &c.suite.Address}, {"peer-address", *peerAddress, &c.suite.PeerAddress}} {
		if a.value == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.value)
		if err != nil || !ip.Is4() {
			return c, badOption("pppssh test-peer: --%s %q: give an IPv4 address", a.flag, a.value)
		}
		*a.dst = ip
	}
	if c.list {
		return c, nil
	}
	if tf.tty != "" && c.parallel > 1 {
		return c, badOption("pppssh test-peer: --tty with --parallel %d: a tty is one line; run the cases one after the other", c.parallel)
	}
	var err error
	if c.target, _, err = tf.target("test-peer"); err != nil {
		return c, err
	}
	return c, nil
}

// runTestPeer implements "pppssh test-peer".
func runTestPeer(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, testPeerUsage)
		return exitOK
	}
	c, err := parseTestPeer(args)
	if err != nil {
		return optionError(stderr, err)
	}
	var cases []peer.Case
	for _, tc := range peer.Suite(c.suite) {
		if c.run == nil || c.run.MatchString(tc.Name) {
			cases = append(cases, tc)
		}
	}
	if len(cases) == 0 {
		fmt.Fprintf(stderr, "pppssh test-peer: no case matches --run %q (see --list)\n", c.run)
		return exitOptionErr
	}
	if c.list {
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		for _, tc := range cases {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", tc.Name, tc.RFC, tc.Level, tc.Doc)
		}
		tw.Flush()
		return exitOK
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := peer.RunOptions{Parallel: c.parallel}
	if c.verbose > 0 {
		fmt.Fprintf(stderr, "pppssh test-peer: %d cases against %v\n", len(cases), c.target)
		opts.Done = func(r peer.Result) {
			fmt.Fprintf(stderr, "%-36s %-5s %5.1fs  %s\n", r.Case, r.Verdict, r.Duration.Seconds(), r.Reason)
		}
	}
	rep := peer.Run(ctx, c.target, cases, opts)
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "pppssh test-peer: %v\n", err)
		return exitFatal
	}
	if c.verbose > 0 {
		if err := rep.WriteLogs(stdout, c.verbose > 1); err != nil {
			fmt.Fprintf(stderr, "pppssh test-peer: %v\n", err)
			return exitFatal
		}
	}
	if c.junit != "" {
		if err := writeJUnitFile(c.junit, rep); err != nil {
			fmt.Fprintf(stderr, "pppssh test-peer: %v\n", err)
			return exitFatal
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "pppssh test-peer: interrupted")
		return exitFatal
	}
	return testPeerExitCode(rep)
}

// testPeerExitCode returns 8 when no case reached the peer, 1 when a MUST
// failed or a case could not run, 0 otherwise.
func testPeerExitCode(rep peer.Report) int {
	n := rep.Counts()
	switch {
	case n[peer.Error] == len(rep.Results):
		return exitConnectFailed
	case rep.Failed(), n[peer.Error] > 0:
		return exitFatal
	}
	return exitOK
}

// writeJUnitFile writes the report as JUnit XML to path.
func writeJUnitFile(path string, rep peer.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	if err := rep.WriteJUnit(f); err != nil {
		f.Close()
		return fmt.Errorf("--junit %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	return nil
}
