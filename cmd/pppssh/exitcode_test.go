package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/tunnel"
	"golang.org/x/sys/unix"
)

// TestExitCode maps each way a link ends to pppd's exit status.
func TestExitCode(t *testing.T) {
	peerTerminated := &ppp.NegotiationError{Protocol: ppp.ProtoLCP, State: ppp.StateOpened, Reason: `peer sent Terminate-Request: "User request"`}
	noAnswer := &ppp.NegotiationError{Protocol: ppp.ProtoLCP, State: ppp.StateReqSent, Reason: "no answer to 10 Configure-Requests"}
	streamEOF := &link.StreamError{Err: io.EOF, Output: []byte("sudo: a password is required\n")}
	for _, tc := range []struct {
		name string
		err  error
		up   bool
		want int
	}{
		{"signal (context cancelled)", context.Canceled, true, 0},
		{"signal before the link came up", context.Canceled, false, 0},
		{"closed locally", link.ErrClosed, false, 0},
		{"peer terminated after up", peerTerminated, true, 0},
		{"peer terminated before up", peerTerminated, false, 10},
		{"no answer", noAnswer, false, 10},
		{"address conflict", &ipcp.AddressError{Problem: ipcp.PeerAddressConflict, Ours: addr2, Theirs: netip.MustParseAddr("192.0.2.9")}, false, 10},
		{"echo timeout", &lcp.EchoTimeoutError{Unanswered: 4}, true, 15},
		{"stream closed", streamEOF, true, 16},
		{"stream closed before up", streamEOF, false, 16},
		{"stream wrapped", fmt.Errorf("x: %w", streamEOF), false, 16},
		{"looped back", lcp.ErrLoopedBack, false, 17},
		{"SIGHUP", errHangupSignal, true, 16},
		{"pty command could not run", withExitCode(exitPtyCommandFailed, fmt.Errorf("pty: %w", streamEOF)), false, 9},
		{"device", withExitCode(exitOpenFailed, errors.New("open /dev/ttyS9: no such file")), false, 7},
		{"connect", withExitCode(exitConnectFailed, errors.New("ssh: dial gw: connection refused")), false, 8},
		{"TUN permission", &tunOpenError{fmt.Errorf("tunnel: open /dev/net/tun: permission denied: %w", unix.EACCES)}, false, 3},
		{"TUN not permitted", &tunOpenError{fmt.Errorf("tunnel: create TUN ppp%%d: %w", unix.EPERM)}, false, 3},
		{"no TUN support", &tunOpenError{fmt.Errorf("tunnel: open /dev/net/tun: %w", unix.ENOENT)}, false, 4},
		{"TUN busy", &tunOpenError{fmt.Errorf("tunnel: attach to TUN ppp0: %w", unix.EBUSY)}, false, 1},
		{"check-only host", &tunnel.CheckError{Interface: "ppp0", Missing: []string{"ppp0 is down"}, Commands: []string{"ip link set dev ppp0 up"}}, false, 1},
		{"anything else", errors.New("tunnel: configure ppp0: boom"), false, 1},
	} {
		if got := exitCode(tc.err, tc.up); got != tc.want {
			t.Errorf("%s: exitCode(%v, up=%v) = %d, want %d", tc.name, tc.err, tc.up, got, tc.want)
		}
	}
}

// TestRetryable: persist retries everything but a TUN device it cannot
// have.
func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&link.StreamError{Err: io.EOF}, true},
		{&lcp.EchoTimeoutError{Unanswered: 4}, true},
		{withExitCode(exitOpenFailed, errors.New("open")), true},
		{withExitCode(exitPtyCommandFailed, errors.New("pty")), true},
		{&tunOpenError{unix.EACCES}, false},
		{&tunOpenError{unix.EBUSY}, false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestHoldoffDelay: holdoff, doubling with each further quick failure, up
// to five minutes (or holdoff if larger).
func TestHoldoffDelay(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		holdoff time.Duration
		quick   int
		want    time.Duration
	}{
		{30 * s, 0, 30 * s}, {30 * s, 1, 30 * s}, {30 * s, 2, 60 * s}, {30 * s, 3, 120 * s},
		{30 * s, 4, 240 * s}, {30 * s, 5, 300 * s}, {30 * s, 50, 300 * s},
		{0, 7, 0},
		{600 * s, 3, 600 * s},
		{1 * s, 4, 8 * s},
	} {
		if got := holdoffDelay(tc.holdoff, tc.quick); got != tc.want {
			t.Errorf("holdoffDelay(%v, %d) = %v, want %v", tc.holdoff, tc.quick, got, tc.want)
		}
	}
}

// TestExitCodesDocumented: every code the program uses is in the help
// table.
func TestExitCodesDocumented(t *testing.T) {
	help := exitCodesHelp()
	for _, c := range []int{exitOK, exitFatal, exitOptionErr, exitNotPermitted, exitNoKernelSupport, exitOpenFailed,
		exitConnectFailed, exitPtyCommandFailed, exitNegotiationFailed, exitPeerDead, exitHangup, exitLoopback} {
		if !strings.Contains(help, fmt.Sprintf("%2d  ", c)) {
			t.Errorf("exit code %d missing from the help", c)
		}
	}
}
