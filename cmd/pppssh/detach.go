package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// detachEnv tells a process that updetach started that it runs in the
// background, and which descriptor reports to the foreground process. It
// is internal: the process removes it from its environment at once.
const detachEnv = "PPPSSH_UPDETACH_FD"

// detachParent implements updetach in the foreground process. Go cannot
// fork, so the program runs itself again (same arguments, same name, so
// that the name pppd still counts) in a session of its own, with a pipe
// on descriptor 3. The background process writes "up" to the pipe once
// the link is up and the host configured, then stops using the terminal;
// detachParent then returns 0 and the foreground process exits, as pppd's
// updetach does. If the background process exits first, detachParent
// returns its exit code. Until then SIGINT, SIGTERM and SIGHUP are passed
// on to it (in its own session, the terminal does not reach it).
func detachParent(stderr io.Writer) int {
	pr, pw, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "pppssh: updetach: %v\n", err)
		return exitFatal
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        os.Args,
		Env:         append(os.Environ(), detachEnv+"=3"),
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		ExtraFiles:  []*os.File{pw},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		fmt.Fprintf(stderr, "pppssh: updetach: start the background process: %v\n", err)
		return exitFatal
	}
	said := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		said <- strings.TrimSpace(line)
	}()
	for {
		select {
		case sig := <-sigs:
			cmd.Process.Signal(sig)
		case line := <-said:
			if line == "up" {
				return exitOK
			}
			// The pipe closed without "up": the process ended.
			err := cmd.Wait()
			var ee *exec.ExitError
			switch {
			case err == nil:
				return exitOK
			case errors.As(err, &ee) && ee.ExitCode() >= 0:
				return ee.ExitCode()
			}
			fmt.Fprintf(stderr, "pppssh: updetach: the background process ended: %v\n", err)
			return exitFatal
		}
	}
}

// detachedChild is the background process's end of updetach.
type detachedChild struct {
	pipe *os.File
	done bool
}

// takeDetachedChild returns the pipe to the foreground process if this
// process was started by detachParent, and removes detachEnv from the
// environment so that the programs it runs do not see it.
func takeDetachedChild() *detachedChild {
	v, ok := os.LookupEnv(detachEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(detachEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	unix.CloseOnExec(fd)
	return &detachedChild{pipe: os.NewFile(uintptr(fd), "updetach")}
}

// up is called once the link is up: it logs the process ID, moves the
// log from standard error to syslog (and the logfile), points standard
// input, output and error at /dev/null (so that the foreground's terminal,
// or a pipe a caller reads to its end, is let go), and tells the
// foreground process, which exits 0. Later calls do nothing.
func (d *detachedChild) up(log *slog.Logger, logs *logging) {
	if d.done {
		return
	}
	d.done = true
	log.Info("updetach: the link is up; going on in the background as process " + strconv.Itoa(os.Getpid()))
	logs.detach()
	if null, err := unix.Open(os.DevNull, unix.O_RDWR, 0); err == nil {
		for fd := range 3 {
			unix.Dup3(null, fd, 0)
		}
		unix.Close(null)
	}
	d.pipe.WriteString("up\n")
	d.pipe.Close()
}
