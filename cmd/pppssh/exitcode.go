package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/tunnel"
	"golang.org/x/sys/unix"
)

// Exit codes. They are pppd's (pppd(8), EXIT STATUS; the EXIT_ constants
// of pppd.h) wherever pppd has one for the same event, so that scripts
// written for pppd read pppssh's status unchanged. pppd's codes that cannot
// happen here (6 lock failed, 11 and 19 authentication, 12 idle, 13 connect
// time, 14 callback, 18 init script) are never used.
const (
	exitOK                = 0  // the link ran and ended: by a signal, or at the peer's request (pppd: EXIT_OK)
	exitFatal             = 1  // a fatal error, such as the host configuration failing (EXIT_FATAL_ERROR)
	exitOptionErr         = 2  // bad command line, options file or client request (EXIT_OPTION_ERROR)
	exitNotPermitted      = 3  // not allowed to use the TUN device (pppd's EXIT_NOT_ROOT)
	exitNoKernelSupport   = 4  // no TUN support in the kernel (EXIT_NO_KERNEL_SUPPORT)
	exitOpenFailed        = 7  // the serial device could not be opened (EXIT_OPEN_FAILED)
	exitConnectFailed     = 8  // the connection could not be made: for the SSH commands (EXIT_CONNECT_FAILED)
	exitPtyCommandFailed  = 9  // the pty command could not be run (EXIT_PTYCMD_FAILED)
	exitNegotiationFailed = 10 // PPP negotiation failed: the link never came up (EXIT_NEGOTIATION_FAILED)
	exitPeerDead          = 15 // the peer stopped answering LCP Echo-Requests (EXIT_PEER_DEAD)
	exitHangup            = 16 // the stream closed under the link, or SIGHUP (EXIT_HANGUP)
	exitLoopback          = 17 // the line is looped back (EXIT_LOOPBACK)
)

// exitCodes is the table "pppssh help" and README.md give.
var exitCodes = []struct {
	code int
	text string
}{
	{exitOK, "the link ended on SIGINT or SIGTERM, or was terminated by the peer after it came up (pppd exits 5 on a signal)"},
	{exitFatal, "fatal error, e.g. the host could not be configured (a check-only TUN lacks an address)"},
	{exitOptionErr, "bad command line, options file or, for serve, a client request the forced command refuses"},
	{exitNotPermitted, "not allowed to open or create the TUN device (no root, CAP_NET_ADMIN or access to /dev/net/tun)"},
	{exitNoKernelSupport, "no TUN support (/dev/net/tun missing)"},
	{exitOpenFailed, "the serial device could not be opened"},
	{exitConnectFailed, "the SSH connection could not be made"},
	{exitPtyCommandFailed, "the pty command could not be run (not found, not executable)"},
	{exitNegotiationFailed, "PPP negotiation failed: LCP or IPCP never came up (no answer, refused options, address conflict)"},
	{exitPeerDead, "the peer stopped answering LCP Echo-Requests (lcp-echo-interval, lcp-echo-failure)"},
	{exitHangup, "the stream closed under the link (the far end or the pty command went away), or SIGHUP without persist"},
	{exitLoopback, "the line is looped back (our own LCP packets come back)"},
}

// exitCodesHelp formats exitCodes for help texts.
func exitCodesHelp() string {
	var b strings.Builder
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %2d  %s\n", e.code, e.text)
	}
	return b.String()
}

// codedError is an error that carries its exit code: transports and the
// supervisor wrap their failures in it when the error's type alone does not
// say which code applies (a tty that cannot be opened, a pty command that
// cannot run, an SSH connection that fails).
type codedError struct {
	code int
	err  error
}

// withExitCode wraps err so that exitCode returns code for it.
func withExitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// errHangupSignal ends an attempt when SIGHUP arrives.
var errHangupSignal = withExitCode(exitHangup, errors.New("hangup (SIGHUP)"))

// exitCode returns the exit status for the error that ended a link (or
// kept it from starting). up says whether the link came up during that
// attempt (IPCP reached Opened and the host was configured): as with pppd,
// a link that was up and then terminated by the peer ends with 0, one that
// never came up with 10.
func exitCode(err error, up bool) int {
	var coded *codedError
	var tunErr *tunOpenError
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, link.ErrClosed):
		return exitOK
	case errors.As(err, &coded):
		return coded.code
	case errors.As(err, &tunErr):
		return tunErr.exitCode()
	case errors.As(err, new(*lcp.EchoTimeoutError)):
		return exitPeerDead
	case errors.Is(err, lcp.ErrLoopedBack):
		return exitLoopback
	case errors.As(err, new(*link.StreamError)):
		return exitHangup
	case errors.As(err, new(*ipcp.AddressError)):
		return exitNegotiationFailed
	case errors.As(err, new(*ppp.NegotiationError)):
		if up {
			return exitOK
		}
		return exitNegotiationFailed
	case errors.As(err, new(*tunnel.CheckError)):
		return exitFatal
	}
	return exitFatal
}

// retryable reports whether persist should try again after err: not when
// the TUN device cannot be had (privileges, kernel support), which no
// retry fixes.
func retryable(err error) bool {
	var tunErr *tunOpenError
	if errors.As(err, &tunErr) {
		return false
	}
	switch exitCode(err, false) {
	case exitNotPermitted, exitNoKernelSupport, exitOptionErr:
		return false
	}
	return true
}

// tunOpenError is a failure to open, create or attach to the TUN device,
// as tunnel.OpenTUN explains it.
type tunOpenError struct{ err error }

func (e *tunOpenError) Error() string { return e.err.Error() }
func (e *tunOpenError) Unwrap() error { return e.err }

// exitCode returns 3 when the device may not be used (permissions,
// CAP_NET_ADMIN), 4 when the kernel has no TUN support, 1 otherwise.
func (e *tunOpenError) exitCode() int {
	switch {
	case errors.Is(e.err, unix.EACCES), errors.Is(e.err, unix.EPERM):
		return exitNotPermitted
	case errors.Is(e.err, unix.ENOENT), errors.Is(e.err, unix.ENODEV), errors.Is(e.err, unix.ENXIO):
		return exitNoKernelSupport
	}
	return exitFatal
}
