package pppdvm

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// An archive is a file tree to be written as a cpio archive in the "newc"
// format the Linux kernel unpacks into its initial root file system
// (Documentation/driver-api/early-userspace/buffer-format.rst). Parent
// directories are added implicitly; entries are written in path order with
// fixed owners and times, so equal trees give equal octets.
type archive struct {
	entries map[string]entry
}

type entry struct {
	mode   uint32 // file type and permission bits, as in struct stat
	data   []byte // file contents, or a symlink's target
	rmajor uint32 // device numbers of a device node
	rminor uint32
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFLNK = 0o120000
	sIFCHR = 0o020000
)

func newArchive() *archive { return &archive{entries: map[string]entry{}} }

// clean turns p into the slash-free-prefix path cpio uses: "etc/ppp/options".
func clean(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

func (a *archive) dir(p string) {
	p = clean(p)
	if p == "" {
		return
	}
	a.dir(path.Dir(p))
	if _, ok := a.entries[p]; !ok {
		a.entries[p] = entry{mode: sIFDIR | 0o755}
	}
}

// file adds a regular file with the permission bits perm.
func (a *archive) file(p string, data []byte, perm fs.FileMode) {
	p = clean(p)
	a.dir(path.Dir(p))
	a.entries[p] = entry{mode: sIFREG | uint32(perm.Perm()), data: data}
}

// symlink adds p pointing to target.
func (a *archive) symlink(p, target string) {
	p = clean(p)
	a.dir(path.Dir(p))
	a.entries[p] = entry{mode: sIFLNK | 0o777, data: []byte(target)}
}

// charDev adds a character device node.
func (a *archive) charDev(p string, perm fs.FileMode, major, minor uint32) {
	p = clean(p)
	a.dir(path.Dir(p))
	a.entries[p] = entry{mode: sIFCHR | uint32(perm.Perm()), rmajor: major, rminor: minor}
}

// writeTo writes the archive, its trailer included.
func (a *archive) writeTo(w io.Writer) error {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	cw := &cpioWriter{w: w}
	for i, n := range names {
		e := a.entries[n]
		cw.header(uint32(i+1), e.mode, e.rmajor, e.rminor, n, e.data)
	}
	cw.header(0, 0, 0, 0, "TRAILER!!!", nil)
	return cw.err
}

type cpioWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// header writes one newc entry: a 110-octet header of hexadecimal fields,
// the name with its NUL, padding to four octets, the data, padding.
func (c *cpioWriter) header(ino, mode, rmajor, rminor uint32, name string, data []byte) {
	nlink := uint32(1)
	if mode&0o170000 == sIFDIR {
		nlink = 2
	}
	h := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	c.write([]byte(h))
	c.write(append([]byte(name), 0))
	c.pad()
	c.write(data)
	c.pad()
}
