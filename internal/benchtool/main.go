// Command benchtool holds the small measuring helpers of scripts/bench, the
// benchmark of pppssh against OpenSSH's own tunnel (ssh -w) and the raw SSH
// channel. The script does the orchestration (namespaces, sshd, tunnels,
// iperf3, ping); benchtool does what is awkward in a shell:
//
//	benchtool sshcopy [flags]      raw channel throughput with golang.org/x/crypto/ssh as the client
//	benchtool source [flags]       zeros to standard output for a while (the raw channel's data)
//	benchtool sink [flags]         count standard input's bytes
//	benchtool procs [-skip-root] PID
//	                               CPU seconds and peak RSS of a process tree, from /proc
//	benchtool iperf FILE           throughput from iperf3's JSON output
//	benchtool ping FILE            round-trip times from ping's summary
//	benchtool report [flags] FILE  the table, ratios and JSON from the results file
//	benchtool clients [flags]      the load generator for pppssh server: many
//	                               links at once, each over its own SSH
//	                               connection, on userspace packet devices
//	                               (benchtool clients -h)
//
// Each prints one line of key=value fields (report prints the table;
// source and sink move data; clients also reports its progress on standard
// error) and exits 1 with a message on standard error when something is
// wrong. It is a test tool: nothing imports it and it
// is not installed.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool sshcopy|source|sink|procs|iperf|ping|report|clients ARGS… (see the package comment)")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "sshcopy":
		err = runSSHCopy(args)
	case "source":
		err = runSource(args)
	case "sink":
		err = runSink(args)
	case "procs":
		err = runProcs(args)
	case "iperf":
		err = runIperf(args)
	case "ping":
		err = runPing(args)
	case "report":
		err = runReport(args)
	case "clients":
		err = runClients(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
