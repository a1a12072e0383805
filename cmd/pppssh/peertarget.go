package main

import (
	"context"
	"flag"
	"fmt"
	"os/exec"
	"strings"

	"github.com/pppssh/pppssh/fuzz/peer"
)

// peerTargetFlags are the flags test-peer and fuzz-peer share to name the
// peer under test: one of --exec, --unix, --tcp and --tty, and --reset.
type peerTargetFlags struct {
	exec, unix, tcp, tty, reset string
}

// add defines the flags on fs.
func (p *peerTargetFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&p.exec, "exec", "", "")
	fs.StringVar(&p.unix, "unix", "", "")
	fs.StringVar(&p.tcp, "tcp", "", "")
	fs.StringVar(&p.tty, "tty", "", "")
	fs.StringVar(&p.reset, "reset", "", "")
}

// target returns the target the flags name and the flags that name it
// again (for a replay command). cmd names the command in errors.
func (p *peerTargetFlags) target(cmd string) (t peer.Target, args []string, err error) {
	var given []string
	if p.exec != "" {
		t, args, given = peer.Shell(p.exec), []string{"--exec", p.exec}, append(given, "--exec")
	}
	if p.unix != "" {
		t, args, given = peer.Dial("unix", p.unix), []string{"--unix", p.unix}, append(given, "--unix")
	}
	if p.tcp != "" {
		t, args, given = peer.Dial("tcp", p.tcp), []string{"--tcp", p.tcp}, append(given, "--tcp")
	}
	if p.tty != "" {
		t, args, given = peer.TTY(p.tty), []string{"--tty", p.tty}, append(given, "--tty")
	}
	switch len(given) {
	case 0:
		return nil, nil, badOption("pppssh %s: no target: give the peer with --exec 'CMD', --unix PATH, --tcp HOST:PORT or --tty PATH", cmd)
	case 1:
	default:
		return nil, nil, badOption("pppssh %s: %s: give one target only", cmd, strings.Join(given, " and "))
	}
	if p.reset != "" {
		cmdline := p.reset
		t = peer.WithReset(t, func(ctx context.Context) error {
			out, err := exec.CommandContext(ctx, "/bin/sh", "-c", cmdline).CombinedOutput()
			if err != nil {
				return fmt.Errorf("--reset %q: %v: %s", cmdline, err, strings.TrimSpace(string(out)))
			}
			return nil
		})
		args = append(args, "--reset", cmdline)
	}
	return t, args, nil
}
