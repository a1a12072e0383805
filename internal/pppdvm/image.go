package pppdvm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The host programs and files an image is built from, and the Debian
// packages that provide them.
const (
	pppdPath    = "/usr/sbin/pppd"
	optionsPath = "/etc/ppp/options"
	busyboxPath = "/bin/busybox"
	qemuProgram = "qemu-system-x86_64"

	// kernelMeta is the package whose dependency names the kernel image.
	kernelMeta = "linux-image-amd64"
)

// imageFormat changes whenever the way an image is put together changes,
// so that cached images built the old way are not used.
const imageFormat = "pppdvm-image-2"

//go:embed init.sh
var initScript []byte

//go:embed guest/main.go
var guestSource []byte

// requirement is a program or file the harness needs and the Debian
// package that provides it.
type requirement struct {
	path, pkg string
	static    bool // must be a statically linked program
}

var requirements = []requirement{
	{qemuProgram, "qemu-system-x86", false},
	{pppdPath, "ppp", false},
	{optionsPath, "ppp", false},
	{busyboxPath, "busybox-static", true},
	{"dpkg", "dpkg", false},
	{"xz", "xz-utils", false},
	{"apt-get", "apt", false},
	{"apt-cache", "apt", false},
}

// Check returns an error naming every program the harness needs that is
// missing, with the apt-get command that installs them. The Go toolchain
// (go on PATH, which "go test" provides) is needed too, to build the guest
// helper.
func Check() error {
	var missing, pkgs []string
	for _, r := range requirements {
		p := r.path
		if !strings.HasPrefix(p, "/") {
			if lp, err := exec.LookPath(p); err == nil {
				p = lp
			} else {
				p = ""
			}
		}
		ok := p != ""
		if ok {
			_, err := os.Stat(p)
			ok = err == nil
		}
		if ok && r.static {
			ok = isStatic(p)
		}
		if !ok {
			what := r.path + " not found"
			if r.static {
				what = r.path + " not found or not statically linked"
			}
			missing = append(missing, what)
			if !contains(pkgs, r.pkg) {
				pkgs = append(pkgs, r.pkg)
			}
		}
	}
	if _, err := exec.LookPath("go"); err != nil {
		missing = append(missing, "go not found in PATH (install Go 1.26 at /usr/local/go)")
	}
	if len(missing) == 0 {
		return nil
	}
	msg := "pppdvm: " + strings.Join(missing, "; ")
	if len(pkgs) > 0 {
		msg += ": apt-get install -y " + strings.Join(pkgs, " ")
	}
	return errors.New(msg)
}

// Require fails the test (it never skips it) when Check finds a program
// missing.
func Require(t testing.TB) {
	t.Helper()
	if err := Check(); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// isStatic reports whether the ELF program at p has no interpreter.
func isStatic(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// CacheDir returns the directory where built images are kept:
// $PPPSSH_CACHE/pppd-vm, by default /var/cache/pppssh/pppd-vm.
func CacheDir() string {
	root := os.Getenv("PPPSSH_CACHE")
	if root == "" {
		root = "/var/cache/pppssh"
	}
	return filepath.Join(root, "pppd-vm")
}

// An image is a built guest: a kernel and an initramfs, in dir.
type image struct {
	dir    string
	kernel string // Debian package of the kernel, name_version
}

// kernelFile returns the kernel to boot: the uncompressed vmlinux when the
// image has one (booted through its PVH entry point, which spares the
// emulated CPU the firmware and the decompression: about 3 s of a 6 s boot
// without KVM), else Debian's bzImage.
func (im *image) kernelFile() string {
	if p := filepath.Join(im.dir, "vmlinux"); fileExists(p) {
		return p
	}
	return filepath.Join(im.dir, "vmlinuz")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
func (im *image) initramfs() string { return filepath.Join(im.dir, "initramfs.gz") }

// cachedImage builds the image once per process.
var cachedImage = sync.OnceValues(buildImage)

// hostInput is a host file that goes into the image under the same path.
type hostInput struct {
	path string
	data []byte
	mode os.FileMode
}

// kernelPackage returns the versioned kernel image package that the
// candidate linux-image-amd64 depends on, with the exact version it names:
// "Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)".
func kernelPackage() (name, version string, err error) {
	out, err := exec.Command("apt-cache", "show", "--no-all-versions", kernelMeta).Output()
	if err != nil {
		return "", "", fmt.Errorf("pppdvm: apt-cache show %s: %v (run apt-get update)", kernelMeta, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		deps, ok := strings.CutPrefix(line, "Depends: ")
		if !ok {
			continue
		}
		for _, dep := range strings.Split(deps, ",") {
			f := strings.Fields(dep)
			if len(f) == 3 && strings.HasPrefix(f[0], "linux-image-") && f[1] == "(=" {
				return f[0], strings.TrimSuffix(f[2], ")"), nil
			}
		}
	}
	return "", "", fmt.Errorf("pppdvm: apt-cache show %s names no linux-image package of an exact version (run apt-get update)", kernelMeta)
}

// sharedLibraries returns the libraries ldd lists for prog, the dynamic
// loader included.
func sharedLibraries(prog string) ([]string, error) {
	out, err := exec.Command("ldd", prog).Output()
	if err != nil {
		return nil, fmt.Errorf("pppdvm: ldd %s: %v", prog, err)
	}
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[1] == "=>" && f[2] == "not":
			return nil, fmt.Errorf("pppdvm: ldd %s: %s not found", prog, f[0])
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0])
		}
	}
	return libs, nil
}

// hostInputs reads the host files the image contains.
func hostInputs() ([]hostInput, error) {
	libs, err := sharedLibraries(pppdPath)
	if err != nil {
		return nil, err
	}
	var in []hostInput
	for _, p := range append([]string{pppdPath, busyboxPath, optionsPath}, libs...) {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("pppdvm: %w", err)
		}
		mode := os.FileMode(0o755)
		if p == optionsPath {
			mode = 0o644
		}
		in = append(in, hostInput{path: p, data: data, mode: mode})
	}
	return in, nil
}

// buildImage returns the image for the host's pppd, busybox and the
// current kernel package, building it into the cache if it is not there.
func buildImage() (*image, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	kname, kversion, err := kernelPackage()
	if err != nil {
		return nil, err
	}
	inputs, err := hostInputs()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s %s\n%s\n%q\n", imageFormat, kname, kversion, runtime.Version(), guestModules)
	for _, b := range [][]byte{initScript, guestSource} {
		fmt.Fprintf(h, "%x\n", sha256.Sum256(b))
	}
	for _, in := range inputs {
		fmt.Fprintf(h, "%s %x\n", in.path, sha256.Sum256(in.data))
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	im := &image{dir: filepath.Join(CacheDir(), "images", key), kernel: kname + "_" + kversion}
	if ready(im.dir) {
		return im, nil
	}

	if err := os.MkdirAll(CacheDir(), 0o755); err != nil {
		return nil, fmt.Errorf("pppdvm: cache: %w", err)
	}
	unlock, err := lockCache()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if ready(im.dir) { // another process built it while we waited
		return im, nil
	}
	deb, err := kernelDeb(kname, kversion)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(CacheDir(), "build-")
	if err != nil {
		return nil, fmt.Errorf("pppdvm: cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "image")
	if err := assemble(out, tmp, deb, inputs); err != nil {
		return nil, err
	}
	info := fmt.Sprintf("kernel %s %s\n%s\n", kname, kversion, runtime.Version())
	for _, in := range inputs {
		info += fmt.Sprintf("%s %x\n", in.path, sha256.Sum256(in.data))
	}
	if err := os.WriteFile(filepath.Join(out, "ready"), []byte(info), 0o644); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(im.dir), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(out, im.dir); err != nil {
		return nil, fmt.Errorf("pppdvm: cache: %w", err)
	}
	pruneCache(im.dir, deb)
	return im, nil
}

// pruneCache removes what a build left behind: images and kernel packages
// other than keep and keepDeb, which were built from inputs since replaced
// (an upgraded pppd or kernel), and the work directories of builds that
// died. The cache lock is held, so no build is under way; a VM already
// running from a removed image keeps its open files.
func pruneCache(keep, keepDeb string) {
	old, _ := filepath.Glob(filepath.Join(CacheDir(), "images", "*"))
	debs, _ := filepath.Glob(filepath.Join(CacheDir(), "debs", "*"))
	work, _ := filepath.Glob(filepath.Join(CacheDir(), "build-*"))
	for _, p := range append(append(old, debs...), work...) {
		if p != keep && p != keepDeb {
			os.RemoveAll(p)
		}
	}
}

func ready(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "ready"))
	return err == nil
}

// lockCache takes the cache's lock file, which serializes builds between
// processes, and returns its release.
func lockCache() (func(), error) {
	f, err := os.OpenFile(filepath.Join(CacheDir(), "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pppdvm: cache lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("pppdvm: cache lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// kernelDeb returns the cached kernel package file, downloading it with
// apt-get first if needed. The cache lock is held.
func kernelDeb(name, version string) (string, error) {
	dir := filepath.Join(CacheDir(), "debs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Debian package file names escape ':' in versions as %3a.
	file := filepath.Join(dir, name+"_"+strings.ReplaceAll(version, ":", "%3a")+"_amd64.deb")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}
	tmp, err := os.MkdirTemp(dir, "download-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", name+"="+version)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pppdvm: apt-get download %s=%s (run apt-get update if the package lists are old): %v\n%s", name, version, err, out)
	}
	got, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(got) != 1 {
		return "", fmt.Errorf("pppdvm: apt-get download %s=%s left %v", name, version, got)
	}
	if err := os.Rename(got[0], file); err != nil {
		return "", err
	}
	return file, nil
}

// assemble unpacks the kernel package under tmp and writes vmlinuz and
// initramfs.gz into out.
func assemble(out, tmp, deb string, inputs []hostInput) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	root := filepath.Join(tmp, "kernel")
	if b, err := exec.Command("dpkg", "-x", deb, root).CombinedOutput(); err != nil {
		return fmt.Errorf("pppdvm: dpkg -x %s: %v\n%s", deb, err, b)
	}
	kernels, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(kernels) != 1 {
		return fmt.Errorf("pppdvm: want one boot/vmlinuz-* in %s, found %v", deb, kernels)
	}
	if err := copyFile(filepath.Join(out, "vmlinuz"), kernels[0]); err != nil {
		return err
	}
	if vmlinux, err := extractVmlinux(kernels[0]); err == nil {
		if err := os.WriteFile(filepath.Join(out, "vmlinux"), vmlinux, 0o644); err != nil {
			return err
		}
	}
	km, err := readKernelModules(root)
	if err != nil {
		return err
	}
	order, objs, err := km.loadOrder(guestModules)
	if err != nil {
		return err
	}
	guest, err := buildGuest(tmp)
	if err != nil {
		return err
	}

	a := newArchive()
	a.file("init", initScript, 0o755)
	for _, in := range inputs {
		a.file(in.path, in.data, in.mode)
	}
	list, err := exec.Command(busyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("pppdvm: busybox --list: %v", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" && !strings.Contains(applet, "/") {
			a.symlink("bin/"+applet, "busybox")
		}
	}
	a.symlink("sbin", "bin")
	a.file("bin/pppdvm-guest", guest, 0o755)
	for _, m := range order {
		a.file("lib/modules/"+m+".ko", objs[m], 0o644)
	}
	a.file("etc/pppdvm/modules", []byte(strings.Join(order, "\n")+"\n"), 0o644)
	a.file("etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	a.file("etc/group", []byte("root:x:0:\n"), 0o644)
	a.charDev("dev/console", 0o600, 5, 1)
	for _, d := range []string{"proc", "sys", "run", "tmp", "root", "var/lock"} {
		a.dir(d)
	}
	a.symlink("var/run", "../run")

	f, err := os.Create(filepath.Join(out, "initramfs.gz"))
	if err != nil {
		return err
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err := a.writeTo(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// extractVmlinux returns the ELF kernel inside a bzImage compressed with xz
// (Debian's), if it has a PVH entry point qemu can boot it by. The payload's
// place is in the setup header (Documentation/arch/x86/boot.rst).
func extractVmlinux(bzImage string) ([]byte, error) {
	b, err := os.ReadFile(bzImage)
	if err != nil {
		return nil, err
	}
	if len(b) < 0x250 || string(b[0x202:0x206]) != "HdrS" {
		return nil, errors.New("pppdvm: not a bzImage")
	}
	setupSects := int(b[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	le32 := binary.LittleEndian.Uint32
	start := (setupSects+1)*512 + int(le32(b[0x248:]))
	end := start + int(le32(b[0x24c:]))
	if end > len(b) || !bytes.HasPrefix(b[start:], []byte("\xfd7zXZ\x00")) {
		return nil, errors.New("pppdvm: the bzImage's payload is not xz")
	}
	cmd := exec.Command("xz", "--decompress", "--stdout", "--single-stream")
	cmd.Stdin = bytes.NewReader(b[start:end])
	vmlinux, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("pppdvm: xz: %w", err)
	}
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return nil, err
	}
	if !hasPVHNote(f) {
		return nil, errors.New("pppdvm: the kernel has no PVH entry point")
	}
	return vmlinux, nil
}

// hasPVHNote reports whether an ELF kernel has the Xen note
// XEN_ELFNOTE_PHYS32_ENTRY (18), which qemu boots it by.
func hasPVHNote(f *elf.File) bool {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		d, err := io.ReadAll(p.Open())
		if err != nil {
			return false
		}
		for len(d) >= 12 {
			le32 := binary.LittleEndian.Uint32
			nameSz, descSz, typ := int(le32(d)), int(le32(d[4:])), le32(d[8:])
			name := (nameSz + 3) &^ 3
			desc := (descSz + 3) &^ 3
			if 12+name+desc > len(d) {
				break
			}
			if typ == 18 && nameSz >= 3 && string(d[12:15]) == "Xen" {
				return true
			}
			d = d[12+name+desc:]
		}
	}
	return false
}

// buildGuest compiles the guest helper (guest/main.go, embedded) as a static
// Linux program with the local Go toolchain.
func buildGuest(tmp string) ([]byte, error) {
	src := filepath.Join(tmp, "guest")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), guestSource, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module pppdvm-guest\n\ngo 1.26\n"), 0o644); err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "pppdvm-guest")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pppdvm: building the guest helper: %v\n%s", err, out)
	}
	return os.ReadFile(bin)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
