package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// runSource writes zeros to standard output for -duration and exits 0.
// It first sets its output pipe's size to -pipe (if not 0 and standard
// output is a pipe), waits for -wait FILE to hold a line starting with
// "ready" (if given) and prints "ready UNIXTIME" on standard error, the
// moment it starts.
func runSource(args []string) error {
	fs := flag.NewFlagSet("source", flag.ContinueOnError)
	duration := fs.Duration("duration", 5*time.Second, "how long to write")
	pipe := fs.Int("pipe", 0, "pipe size to set on standard output (0: leave it)")
	wait := fs.String("wait", "", "wait until this file has a line starting with ready")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := setPipeSize(os.Stdout, *pipe); err != nil {
		return err
	}
	if *wait != "" {
		if err := waitFile(*wait, 30*time.Second); err != nil {
			return err
		}
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "ready %.6f\n", float64(start.UnixNano())/1e9)
	buf := make([]byte, copyBuffer)
	for time.Since(start) < *duration {
		if _, err := os.Stdout.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// runSink reads standard input to its end and prints how many bytes it
// read. It first sets its input pipe's size to -pipe (if not 0 and
// standard input is a pipe) and prints "ready UNIXTIME" on standard error.
func runSink(args []string) error {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	pipe := fs.Int("pipe", 0, "pipe size to set on standard input (0: leave it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := setPipeSize(os.Stdin, *pipe); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ready %.6f\n", float64(time.Now().UnixNano())/1e9)
	buf := make([]byte, copyBuffer)
	var n int64
	for {
		m, err := os.Stdin.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	fmt.Println(n)
	return nil
}

// setPipeSize sets the capacity of f, if it is a pipe, to size bytes
// (F_SETPIPE_SZ); 0 leaves it.
func setPipeSize(f *os.File, size int) error {
	if size == 0 {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return nil
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, size); err != nil {
		return fmt.Errorf("F_SETPIPE_SZ %d on %s: %w", size, f.Name(), err)
	}
	return nil
}

// waitFile waits until path has a line starting with "ready".
func waitFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "ready") {
					f.Close()
					return nil
				}
			}
			f.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("no ready line in " + path + " after " + timeout.String())
}
