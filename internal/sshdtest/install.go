package sshdtest

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// InstallCopy copies the executable src (usually os.Executable(), a test
// binary that behaves as the command when called by name) into a new
// directory that every account may read, as name, mode 0755, and returns
// its path and a function that removes the directory. The go command keeps
// test binaries where only root can read them; sessions of the test account
// need a copy they may run.
//
// With netAdmin, the copy gets the file capability CAP_NET_ADMIN, permitted
// and effective (what "setcap cap_net_admin+ep" does), so that it may
// configure interfaces and routes when the test account runs it: a narrow
// stand-in for the HOWTO's sudo.
func InstallCopy(src, name string, netAdmin bool) (path string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "pppssh-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("sshdtest: %w", err)
	}
	remove = func() { os.RemoveAll(dir) }
	fail := func(err error) (string, func(), error) {
		remove()
		return "", nil, fmt.Errorf("sshdtest: install %s: %w", src, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fail(err)
	}
	defer in.Close()
	path = filepath.Join(dir, name)
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return fail(err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if netAdmin {
		if err := setFileCaps(path, 1<<unix.CAP_NET_ADMIN); err != nil {
			return fail(err)
		}
	}
	return path, remove, nil
}

// setFileCaps gives the file the capabilities in mask (bits below 32),
// permitted and effective, through the security.capability extended
// attribute: struct vfs_cap_data, revision 2 (linux/capability.h).
func setFileCaps(path string, mask uint32) error {
	const (
		vfsCapRevision2     = 0x02000000
		vfsCapFlagEffective = 0x000001
	)
	var b [20]byte
	binary.LittleEndian.PutUint32(b[0:], vfsCapRevision2|vfsCapFlagEffective)
	binary.LittleEndian.PutUint32(b[4:], mask) // permitted, low word
	// inheritable low word, permitted and inheritable high words: 0
	if err := unix.Setxattr(path, "security.capability", b[:], 0); err != nil {
		return fmt.Errorf("set file capabilities on %s: %w (the file system must support security extended attributes)", path, err)
	}
	return nil
}
