//go:build pppsshprofile

// A profiling variant of the command, for scripts/bench: built with
// "-tags pppsshprofile", pppssh records CPU profiles on request. Ordinary
// builds do not contain this file.
//
// With PPPSSH_CPUPROFILE=FILE in the environment, each SIGUSR2 toggles a
// CPU profile: the first starts one, the next stops it and writes it to
// FILE (replacing what a previous one wrote there), the one after that
// starts a new one, and so on. So a benchmark can profile exactly the
// window of a bulk transfer in a long-running connect, serve or server
// process. Nothing else changes; main.go needs no hook.

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func init() {
	path := os.Getenv("PPPSSH_CPUPROFILE")
	if path == "" {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR2)
	go cpuProfileLoop(path, ch)
}

// cpuProfileLoop starts and stops a CPU profile on every signal from ch,
// writing each finished one to path.
func cpuProfileLoop(path string, ch <-chan os.Signal) {
	tmp := path + ".part"
	for range ch {
		f, err := os.Create(tmp)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pppssh: cpu profile: %v\n", err)
			continue
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "pppssh: cpu profile: %v\n", err)
			f.Close()
			continue
		}
		<-ch
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "pppssh: cpu profile: %v\n", err)
			continue
		}
		if err := os.Rename(tmp, path); err != nil {
			fmt.Fprintf(os.Stderr, "pppssh: cpu profile: %v\n", err)
		}
	}
}
