package sshtransport

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Target is an SSH destination as a user types it: [user@]host[:port].
// Empty User and zero Port mean "not given": ~/.ssh/config or the defaults
// decide.
type Target struct {
	User string // login name, or "" for ssh_config's User or the local user
	Host string // host name, address or ssh_config alias; IPv6 without brackets
	Port int    // TCP port, or 0 for ssh_config's Port or 22
}

// ParseTarget parses a destination of the form [user@]host[:port]. An IPv6
// address with a port is written in brackets, [2001:db8::1]:2222; without a
// port the brackets are optional. The user is everything before the last
// "@", as in ssh.
func ParseTarget(s string) (Target, error) {
	var t Target
	rest := s
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		t.User, rest = rest[:i], rest[i+1:]
		if t.User == "" {
			return Target{}, fmt.Errorf("sshtransport: target %q: empty user name before '@'", s)
		}
	}
	if rest == "" {
		return Target{}, fmt.Errorf("sshtransport: target %q: no host (want [user@]host[:port])", s)
	}
	host, port := rest, ""
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Target{}, fmt.Errorf("sshtransport: target %q: missing ']' after IPv6 address", s)
		}
		host = rest[1:end]
		switch after := rest[end+1:]; {
		case after == "":
		case after[0] == ':':
			port = after[1:]
			if port == "" {
				return Target{}, fmt.Errorf("sshtransport: target %q: empty port after ':'", s)
			}
		default:
			return Target{}, fmt.Errorf("sshtransport: target %q: unexpected %q after ']' (want [address]:port)", s, after)
		}
	case strings.Count(rest, ":") == 1:
		i := strings.IndexByte(rest, ':')
		host, port = rest[:i], rest[i+1:]
		if port == "" {
			return Target{}, fmt.Errorf("sshtransport: target %q: empty port after ':'", s)
		}
	}
	// More than one colon and no brackets: a bare IPv6 address, no port.
	if host == "" {
		return Target{}, fmt.Errorf("sshtransport: target %q: no host (want [user@]host[:port])", s)
	}
	if strings.ContainsAny(host, " \t\r\n/@[]") {
		return Target{}, fmt.Errorf("sshtransport: target %q: invalid host %q", s, host)
	}
	if port != "" {
		p, err := parsePort(port)
		if err != nil {
			return Target{}, fmt.Errorf("sshtransport: target %q: %w", s, err)
		}
		t.Port = p
	}
	t.Host = host
	return t, nil
}

// String returns t in the form ParseTarget accepts.
func (t Target) String() string {
	var b strings.Builder
	if t.User != "" {
		b.WriteString(t.User)
		b.WriteByte('@')
	}
	if t.Port != 0 {
		b.WriteString(net.JoinHostPort(t.Host, strconv.Itoa(t.Port)))
	} else if strings.Contains(t.Host, ":") {
		b.WriteString("[" + t.Host + "]")
	} else {
		b.WriteString(t.Host)
	}
	return b.String()
}

var errPortRange = errors.New("port must be a number from 1 to 65535")

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("invalid port %q: %w", s, errPortRange)
	}
	return p, nil
}
