package tunnel

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/tun"
)

// DefaultTUNName is the name pattern OpenTUN uses when none is given: like
// pppd, the first free of ppp0, ppp1, ….
const DefaultTUNName = "ppp%d"

// DefaultCloneDevice is the TUN clone device OpenTUN opens by default.
const DefaultCloneDevice = "/dev/net/tun"

// virtioNetHdrLen is the size of the virtio-net header a TUN with offloads
// puts before each packet (struct virtio_net_hdr).
const virtioNetHdrLen = 10

// errShortOffset is returned by (*TUN).Write when the engine leaves less room
// before a packet than the virtio-net header needs.
var errShortOffset = errors.New("tunnel: TUN write offset smaller than the virtio-net header (leave at least Headroom bytes)")

// TUNConfig says which kernel TUN device OpenTUN creates or attaches to.
type TUNConfig struct {
	// Name is the device's name. Empty means DefaultTUNName. A name holding
	// "%d" is a pattern: the kernel replaces it with the lowest number that
	// gives a free name. A name without "%d" is created if no device has it,
	// or, if it is a TUN device already (a persistent one, made with
	// "ip tuntap add dev NAME mode tun user USER"), attached to.
	Name string
	// NoOffload opens the device without the virtio-net header, and so
	// without TCP and UDP segmentation offloads: one packet per Read and
	// Write. By default the offloads are on where the kernel allows them.
	NoOffload bool
	// CloneDevice is the path of the TUN clone device; empty means
	// DefaultCloneDevice.
	CloneDevice string
	// Logger receives what OpenTUN did; nil discards it.
	Logger *slog.Logger
}

// TUN is a kernel TUN device opened by OpenTUN. It satisfies Device: the
// engine reads and writes IP packets through it, with at least Headroom
// bytes before each packet. It also tells whether OpenTUN created the device
// or attached to a persistent one.
type TUN struct {
	dev     tun.Device
	name    string
	created bool
	offload bool
}

var _ Device = (*TUN)(nil)

// OpenTUN creates the TUN device cfg names, or attaches to it if it exists
// as a TUN already, and returns it open. A device that OpenTUN creates is not
// persistent: the kernel deletes it, with its addresses and routes, when it
// is closed; it has IPv6 turned off (net.ipv6.conf.NAME.disable_ipv6), as a
// pppd interface without IPV6CP, since the link carries IPv4 only. A
// persistent device that OpenTUN attaches to is left as it is, and stays when
// closed.
//
// The device is made in the network namespace of the calling thread. Its
// link is left as it is (a created one is down, with the kernel's default
// MTU); a Host configures it. Errors say what failed and what to do: missing
// privileges (CAP_NET_ADMIN, or access to /dev/net/tun), a device in use by
// another process, a name taken by something else.
func OpenTUN(cfg TUNConfig) (*TUN, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := cfg.Name
	if name == "" {
		name = DefaultTUNName
	}
	if err := checkIfName(name); err != nil {
		return nil, err
	}
	clone := cfg.CloneDevice
	if clone == "" {
		clone = DefaultCloneDevice
	}

	flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI)
	create := true
	var owner string // of an existing device, for error messages
	if !strings.Contains(name, "%d") {
		l, err := netlink.LinkByName(name)
		switch {
		case err == nil:
			tt, ok := l.(*netlink.Tuntap)
			if !ok || tt.Mode != netlink.TUNTAP_MODE_TUN {
				kind := l.Type()
				if ok {
					kind = "TAP"
				}
				return nil, fmt.Errorf("tunnel: %s exists and is not a TUN device (it is a %s device); choose another name, or remove it: ip link del %s", name, kind, name)
			}
			create = false
			owner = ownerText(tt)
			if tt.Flags&netlink.TUNTAP_MULTI_QUEUE != 0 {
				flags |= unix.IFF_MULTI_QUEUE
			}
		case errors.As(err, new(netlink.LinkNotFoundError)):
			flags |= unix.IFF_TUN_EXCL
		default:
			return nil, fmt.Errorf("tunnel: look up interface %s: %w", name, err)
		}
	}

	offload := !cfg.NoOffload
	fd, err := openTUNFile(clone, name, flags, offload, create, owner)
	if err != nil && offload && errors.Is(err, errNoOffload) {
		log.Info("TUN offloads unavailable; one packet per read and write", "device", name, "err", err)
		fd, err = openTUNFile(clone, name, flags, false, create, owner)
	}
	if err != nil {
		return nil, err
	}
	dev, devName, err := tun.CreateUnmonitoredTUNFromFD(fd)
	if err != nil {
		// The descriptor now belongs to an os.File inside the tun package,
		// which closes it when collected; closing it here could close a
		// reused descriptor.
		return nil, fmt.Errorf("tunnel: set up TUN %s: %w", name, err)
	}
	t := &TUN{dev: dev, name: devName, created: create, offload: dev.BatchSize() > 1}
	if create {
		// Without IPV6CP the link carries IPv4 only; a pppd interface has no
		// IPv6 then either. Left on, the kernel would give the TUN a
		// link-local address and send router solicitations into the link.
		if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+t.name+"/disable_ipv6", []byte("1\n"), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Debug("could not turn IPv6 off on the TUN", "device", t.name, "err", err)
		}
		log.Info("created TUN device", "device", t.name, "offload", t.offload)
	} else {
		log.Info("attached to persistent TUN device", "device", t.name, "offload", t.offload)
	}
	return t, nil
}

// errNoOffload marks a kernel that refused the TUN offloads.
var errNoOffload = errors.New("TUN offloads refused")

// openTUNFile opens the clone device and binds it to the named TUN, with
// the virtio-net header and TCP offloads if offload is set. It returns the
// raw file descriptor, in non-blocking mode for the runtime's poller.
func openTUNFile(clone, name string, flags uint16, offload, create bool, owner string) (int, error) {
	fd, err := unix.Open(clone, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, openError(clone, err)
	}
	if offload {
		flags |= unix.IFF_VNET_HDR
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("tunnel: TUN name %q: %w", name, err)
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return -1, setIffError(name, err, create, owner)
	}
	if offload {
		// The same offloads wireguard's tun package asks for; probing them
		// here lets us fall back cleanly before it owns the descriptor.
		const tcpOffloads = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tcpOffloads); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("%w: %v", errNoOffload, err)
		}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("tunnel: TUN %s: set non-blocking: %w", name, err)
	}
	return fd, nil
}

// openError explains a failure to open the clone device.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Errorf("tunnel: open %s: %w (run as root or with CAP_NET_ADMIN; "+
			"an unprivileged user needs read and write access to %s, which Debian gives everyone (mode 0666), "+
			"and a persistent TUN made for them: ip tuntap add dev ppp0 mode tun user USER)", path, err, path)
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return fmt.Errorf("tunnel: open %s: no TUN support (load the tun module: modprobe tun; in a container, pass the device in, e.g. --device /dev/net/tun): %w", path, err)
	}
	return fmt.Errorf("tunnel: open %s: %w", path, err)
}

// setIffError explains a failed TUNSETIFF: creating the device if create,
// attaching to an existing one (owned by owner) otherwise.
func setIffError(name string, err error, create bool, owner string) error {
	if create {
		example := strings.ReplaceAll(name, "%d", "0")
		switch {
		case errors.Is(err, unix.EPERM):
			return fmt.Errorf("tunnel: create TUN %s: operation not permitted (run as root or with CAP_NET_ADMIN, "+
				"or have the administrator create a persistent TUN for you and name it: ip tuntap add dev %s mode tun user USER): %w", name, example, err)
		case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EEXIST):
			return fmt.Errorf("tunnel: create TUN %s: another device took the name meanwhile (try again, or choose another name): %w", name, err)
		case errors.Is(err, unix.EINVAL):
			return fmt.Errorf("tunnel: create TUN %s: invalid name or flags (names are at most 15 characters, without '/' or spaces): %w", name, err)
		}
		return fmt.Errorf("tunnel: create TUN %s: %w", name, err)
	}
	switch {
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("tunnel: attach to TUN %s: operation not permitted (it belongs to %s: run as that user, or as root): %w", name, owner, err)
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("tunnel: attach to TUN %s: device busy (another process has it open: stop that process, or choose another name): %w", name, err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("tunnel: attach to TUN %s: the kernel refused its flags (recreate it: ip tuntap del dev %s mode tun; ip tuntap add dev %s mode tun user USER): %w", name, name, name, err)
	}
	return fmt.Errorf("tunnel: attach to TUN %s: %w", name, err)
}

// ownerText describes who may attach to a persistent TUN. The kernel leaves
// out the owner and group attributes when they are unset, which the netlink
// package reports as 0, so 0 reads as unset here (root may attach anyway).
func ownerText(tt *netlink.Tuntap) string {
	switch {
	case tt.Owner != 0 && tt.Group != 0:
		return fmt.Sprintf("uid %d and gid %d", tt.Owner, tt.Group)
	case tt.Owner != 0:
		return fmt.Sprintf("uid %d", tt.Owner)
	case tt.Group != 0:
		return fmt.Sprintf("gid %d", tt.Group)
	}
	return "root only (no owner or group set)"
}

// checkIfName rejects names the kernel would refuse, with a clear message.
func checkIfName(name string) error {
	bad := len(name) >= unix.IFNAMSIZ || name == "." || name == ".." ||
		strings.ContainsAny(name, "/: \t\n") || strings.Count(name, "%") > 1 ||
		(strings.Contains(name, "%") && !strings.Contains(name, "%d"))
	if bad {
		return fmt.Errorf("tunnel: bad TUN name %q (at most %d characters, no '/', ':' or spaces, at most one %%d)", name, unix.IFNAMSIZ-1)
	}
	return nil
}

// Name returns the device's name, e.g. "ppp0".
func (t *TUN) Name() string { return t.name }

// Created reports whether OpenTUN created the device (the kernel deletes it
// on Close) rather than attached to a persistent one (it stays).
func (t *TUN) Created() bool { return t.created }

// Offload reports whether the device carries the virtio-net header, with
// TCP (and, on Linux 6.2 and later, UDP) segmentation offloads: a Read may
// then return a batch of segments cut from one large packet, and a Write may
// coalesce packets.
func (t *TUN) Offload() bool { return t.offload }

// Read reads up to len(bufs) packets into bufs[i][offset:] and sets sizes[i]
// to their lengths (see Device). Each buffer must hold offset plus the
// interface MTU; with offloads, a large packet comes back cut into segments,
// so pass BatchSize buffers. After Close it returns an error wrapping
// os.ErrClosed.
func (t *TUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	return t.dev.Read(bufs, sizes, offset)
}

// Write writes the packets bufs[i][offset:] (see Device). With offloads it
// writes a virtio-net header just before each packet, so offset must be at
// least Headroom, and it may coalesce TCP and UDP packets of one flow in
// place, growing bufs[i] within its capacity.
func (t *TUN) Write(bufs [][]byte, offset int) (int, error) {
	if t.offload && offset < virtioNetHdrLen {
		return 0, errShortOffset
	}
	return t.dev.Write(bufs, offset)
}

// BatchSize returns how many packets one Read or Write should carry: 128
// with offloads, 1 without.
func (t *TUN) BatchSize() int { return t.dev.BatchSize() }

// Close closes the device, making a blocked Read return. A device that
// OpenTUN created disappears; a persistent one stays, with its
// configuration. Close may be called more than once.
func (t *TUN) Close() error {
	err := t.dev.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}
