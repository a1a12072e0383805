// Package pppdvm runs a real pppd, the one the host's Debian ships, at the
// far end of a line, for interoperability tests. The host kernel needs no
// PPP support: pppd runs in a small qemu VM (software emulation, no KVM
// needed) whose only device besides its console is the line, a virtio
// console (/dev/hvc0 in the guest) whose host end is a unix socket. The VM
// has no network card; addresses inside the PPP link come from the
// documentation ranges, and nothing leaves it.
//
//	vm := pppdvm.Start(t, pppdvm.Options{PPPDArgs: []string{"noauth", "192.0.2.1:192.0.2.2"}})
//	vm.WaitLog(ctx, "sent [LCP ConfReq")  // pppd is up and waiting on the line
//	l := link.New(vm.Line(), link.Config{})
//	err := l.Run(ctx)
//
// # The image
//
// Start first makes sure the image exists: the kernel of the Debian package
// linux-image-amd64 depends on (downloaded with apt-get download and
// unpacked with dpkg -x), booted through its PVH entry point, and an
// initramfs holding the host's static busybox, the host's pppd with its
// shared libraries and Debian's /etc/ppp/options, the kernel modules for
// PPP and the virtio console (in dependency order, read from each module's
// .modinfo), a shell /init, and pppdvm-guest, a static Go program built
// from guest/main.go with the local toolchain. The image is kept under
// CacheDir, in a directory named by a hash of every input, and rebuilt only
// when one changes; builds take a lock file and rename a finished directory
// into place, so concurrent test processes share one image. A cold build
// takes seconds plus the kernel's download (70 MB).
//
// # The guest
//
// /init mounts the kernel file systems, loads the modules, starts
// pppdvm-guest and runs pppd with "nodetach debug debug logfd 2" and the
// test's options on /dev/hvc0. pppd's debug log and everything else the
// guest prints go to the serial console, which the host reads as the VM's
// log (Log, WaitLog). When pppd exits, /init logs its exit status ("pppdvm:
// pppd exited with status 5") and powers the VM off; with Options.Respawn
// it starts pppd again instead, when VM.RestartPPPD lets it, so that one VM
// serves many runs of pppd, each from its initial state on a new line (the
// conformance suite and the fuzzer of package fuzz/peer). Each VM's own files
// (the options, Options.Files) go into a second small archive appended to
// the cached initramfs, so a new option set needs no rebuild.
//
// pppdvm-guest serves echo (TCP and UDP port 7), discard (port 9) and an
// endless source (TCP port 19) on every guest address, pppd's end of the
// link included, and runs programs the host asks for over a second virtio
// port (Exec, SignalPPPD).
//
// # Tunnels through pppd
//
// Line is a unix socket connection on the host's file system. A test that
// runs pppssh's tunnel engine with a TUN device in a network namespace can
// hand it the line as its stream and reach the guest's echo service at
// pppd's address through the link; nothing but the line joins the two.
//
// # Requirements
//
// The host needs qemu-system-x86, ppp, busybox-static and xz-utils, apt
// lists that name the kernel (apt-get update), and Go. Check reports what is
// missing, and Require and Start fail the test with the apt-get command
// that installs it; they never skip.
package pppdvm
