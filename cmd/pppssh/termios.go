package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// baudRates maps the line speeds Linux supports to their termios values.
var baudRates = map[int]uint32{
	50: unix.B50, 75: unix.B75, 110: unix.B110, 134: unix.B134, 150: unix.B150,
	200: unix.B200, 300: unix.B300, 600: unix.B600, 1200: unix.B1200,
	1800: unix.B1800, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600,
	19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600,
	115200: unix.B115200, 230400: unix.B230400, 460800: unix.B460800,
	500000: unix.B500000, 576000: unix.B576000, 921600: unix.B921600,
	1000000: unix.B1000000, 1152000: unix.B1152000, 1500000: unix.B1500000,
	2000000: unix.B2000000, 2500000: unix.B2500000, 3000000: unix.B3000000,
	3500000: unix.B3500000, 4000000: unix.B4000000,
}

// lineMode is how a terminal carrying PPP is set up: raw, 8 bits, and the
// line options of pppd that apply to a serial line.
type lineMode struct {
	speed   int  // 0 leaves the speed
	crtscts int  // 1 RTS/CTS flow control on, -1 off, 0 left alone
	local   bool // ignore the modem control lines (CLOCAL)
}

func modeOf(o *options) lineMode {
	return lineMode{speed: o.speed, crtscts: o.crtscts, local: o.localLine}
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// sameTerminal reports whether descriptors a and b are the same terminal.
func sameTerminal(a, b int) bool {
	if !isTerminal(a) || !isTerminal(b) {
		return false
	}
	var sa, sb unix.Stat_t
	return unix.Fstat(a, &sa) == nil && unix.Fstat(b, &sb) == nil && sa.Rdev == sb.Rdev
}

// makeRaw puts the terminal fd into the mode PPP needs, as pppd does
// (cfmakeraw: no echo, no line editing, no signals, no flow control
// characters, no output processing, 8 data bits, no parity) with m's speed
// and line options, and returns the settings to restore. The change is
// immediate (TCSANOW): octets already waiting are kept, since the peer's
// first Configure-Request may be among them.
func makeRaw(fd int, m lineMode) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR |
		unix.ICRNL | unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK | unix.IUCLC | unix.IMAXBEL
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8 | unix.CREAD
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	switch m.crtscts {
	case 1:
		t.Cflag |= unix.CRTSCTS
	case -1:
		t.Cflag &^= unix.CRTSCTS
	}
	if m.local {
		t.Cflag |= unix.CLOCAL
	}
	if m.speed != 0 {
		b, ok := baudRates[m.speed]
		if !ok {
			return nil, fmt.Errorf("line speed %d is not supported", m.speed)
		}
		t.Cflag = t.Cflag&^unix.CBAUD | b
		t.Ispeed, t.Ospeed = b, b
	}
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
