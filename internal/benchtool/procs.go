package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture.
const clockTicks = 100

// runProcs prints "cpu=S rss=KB" for the tree of processes under (and
// including) a PID: S is the CPU seconds, user and system, that the tree
// has used, reaped children included; KB is the largest peak resident set
// size (VmHWM) of a live process of the tree, without the root itself when
// -skip-root is given (an sshd listener, which is not part of any session).
//
// The CPU sum counts each live process's own time (utime, stime) and its
// reaped children's (cutime, cstime), so the difference between two calls
// is what the tree used in between, even if processes came and went, as
// long as each was reaped by a process of the tree.
func runProcs(args []string) error {
	fs := flag.NewFlagSet("procs", flag.ContinueOnError)
	skipRoot := fs.Bool("skip-root", false, "leave the root process out of the RSS maximum")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: procs [-skip-root] PID")
	}
	root, err := strconv.Atoi(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("PID %q: %w", fs.Arg(0), err)
	}
	procs, err := readProcs()
	if err != nil {
		return err
	}
	if _, ok := procs[root]; !ok {
		return fmt.Errorf("no process %d", root)
	}
	ticks, rss := treeUsage(procs, root, *skipRoot)
	fmt.Printf("cpu=%.2f rss=%d\n", float64(ticks)/clockTicks, rss)
	return nil
}

// proc is what runProcs needs of one process.
type proc struct {
	ppid  int
	ticks int64 // utime + stime + cutime + cstime
	hwm   int64 // VmHWM, KiB
}

// readProcs reads every process's stat and status.
func readProcs() (map[int]proc, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	procs := make(map[int]proc, len(dirs))
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		p, err := parseStat(stat)
		if err != nil {
			return nil, fmt.Errorf("%s/stat: %w", d, err)
		}
		if status, err := os.ReadFile(d + "/status"); err == nil {
			p.hwm = statusKiB(status, "VmHWM:")
		}
		procs[pid] = p
	}
	return procs, nil
}

// parseStat reads the parent and the four CPU times from /proc/PID/stat
// (proc(5)): "pid (comm) state ppid … utime stime cutime cstime …", fields
// 4 and 14–17, where comm may hold spaces and parentheses.
func parseStat(b []byte) (proc, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return proc{}, errors.New("no command name")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, the state
	if len(f) < 15 {
		return proc{}, errors.New("too few fields")
	}
	var p proc
	var err error
	if p.ppid, err = strconv.Atoi(f[1]); err != nil {
		return proc{}, err
	}
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return proc{}, err
		}
		p.ticks += v
	}
	return p, nil
}

// statusKiB returns the value in KiB of a "Key:   123 kB" line of
// /proc/PID/status, or 0.
func statusKiB(status []byte, key string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// treeUsage sums the ticks of root and its descendants and returns the
// largest VmHWM among them (without root's if skipRoot).
func treeUsage(procs map[int]proc, root int, skipRoot bool) (ticks, hwm int64) {
	children := make(map[int][]int)
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	todo := []int{root}
	for len(todo) > 0 {
		pid := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		p := procs[pid]
		ticks += p.ticks
		if pid != root || !skipRoot {
			hwm = max(hwm, p.hwm)
		}
		todo = append(todo, children[pid]...)
	}
	return ticks, hwm
}
