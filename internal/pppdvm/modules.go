package pppdvm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// guestModules are the kernel modules the guest needs, beside those they
// depend on: PPP over an asynchronous tty with the compressors a Debian
// system would load on demand, and the virtio console that carries the
// line. Debian's kernel builds the 8250 serial console and devtmpfs in.
var guestModules = []string{
	"virtio_pci", "virtio_console",
	"ppp_generic", "ppp_async", "ppp_deflate", "bsd_comp",
}

// kernelModules indexes the modules of an unpacked kernel package.
type kernelModules struct {
	path    map[string]string // module name -> file of the .ko or .ko.xz
	builtin map[string]bool   // modules compiled into the kernel
}

// modName returns the module name of a file name: "ppp_async.ko.xz" ->
// "ppp_async". The kernel treats '-' and '_' alike in names.
func modName(file string) string {
	file = filepath.Base(file)
	if i := strings.Index(file, ".ko"); i >= 0 {
		file = file[:i]
	}
	return strings.ReplaceAll(file, "-", "_")
}

// readKernelModules indexes lib/modules/<version>/ under root.
func readKernelModules(root string) (*kernelModules, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "lib/modules/*"))
	if err != nil || len(dirs) != 1 {
		return nil, fmt.Errorf("pppdvm: want one lib/modules/<version> in the kernel package, found %v", dirs)
	}
	km := &kernelModules{path: map[string]string{}, builtin: map[string]bool{}}
	err = filepath.WalkDir(dirs[0], func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".ko") || strings.HasSuffix(p, ".ko.xz")) {
			km.path[modName(p)] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dirs[0], "modules.builtin")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			km.builtin[modName(sc.Text())] = true
		}
	}
	return km, nil
}

// moduleDepends returns the "depends=" list of a module's .modinfo section,
// which is what depmod reads to write modules.dep.
func moduleDepends(ko []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, err
	}
	s := f.Section(".modinfo")
	if s == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := s.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			var deps []string
			for _, d := range strings.Split(string(v), ",") {
				if d != "" {
					deps = append(deps, strings.ReplaceAll(d, "-", "_"))
				}
			}
			return deps, nil
		}
	}
	return nil, nil
}

// loadModule returns a module's ELF object, decompressing .ko.xz files
// (busybox's insmod cannot) with the host's busybox.
func loadModule(p string) ([]byte, error) {
	if !strings.HasSuffix(p, ".xz") {
		return os.ReadFile(p)
	}
	out, err := exec.Command("busybox", "unxz", "-c", p).Output()
	if err != nil {
		return nil, fmt.Errorf("pppdvm: unxz %s: %w", p, err)
	}
	return out, nil
}

// loadOrder returns want and everything it depends on, dependencies first
// (the order insmod needs without modules.dep), with each module's object.
// Built-in modules are left out.
func (km *kernelModules) loadOrder(want []string) (names []string, objs map[string][]byte, err error) {
	deps := map[string][]string{}
	objs = map[string][]byte{}
	var visit func(name string, stack []string) error
	done := map[string]bool{}
	visit = func(name string, stack []string) error {
		if done[name] || km.builtin[name] {
			return nil
		}
		for _, s := range stack {
			if s == name {
				return fmt.Errorf("pppdvm: module dependency loop %v", append(stack, name))
			}
		}
		p, ok := km.path[name]
		if !ok {
			return fmt.Errorf("pppdvm: kernel module %s not found in the kernel package", name)
		}
		if _, ok := objs[name]; !ok {
			ko, err := loadModule(p)
			if err != nil {
				return err
			}
			d, err := moduleDepends(ko)
			if err != nil {
				return fmt.Errorf("pppdvm: %s: %w", p, err)
			}
			objs[name], deps[name] = ko, d
		}
		for _, d := range deps[name] {
			if err := visit(d, append(stack, name)); err != nil {
				return err
			}
		}
		done[name] = true
		names = append(names, name)
		return nil
	}
	for _, w := range want {
		if err := visit(w, nil); err != nil {
			return nil, nil, err
		}
	}
	return names, objs, nil
}
