package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// copyBuffer is the size of each write to, and read from, the channel.
const copyBuffer = 256 << 10

// runSSHCopy moves zeros through one SSH session channel for -duration,
// with golang.org/x/crypto/ssh as the client: "up" writes them to the
// remote command "benchtool sink", which reports how many arrived; "down"
// reads what "benchtool source" writes (-remote is benchtool's path on the
// server, -pipe their pipe size). The remote command first reports
// "ready" on its standard error, and the clock and the CPU accounting
// start when that arrives: neither the handshake nor the start of the
// remote shell is counted, and no data waits in sshd for a command that has
// not started yet. They stop when the remote command has exited, so every
// byte has been consumed.
//
// It prints bytes=N secs=S cpu=C rss=KB: the bytes moved, the wall time,
// this process's CPU seconds (user+system) over that time and its peak
// resident set size in KiB.
func runSSHCopy(args []string) error {
	fs := flag.NewFlagSet("sshcopy", flag.ContinueOnError)
	addr := fs.String("addr", "", "host:port of the SSH server")
	user := fs.String("user", "root", "user name")
	keyFile := fs.String("i", "", "private key file (unencrypted)")
	knownHosts := fs.String("known-hosts", "", "known_hosts file with the server's host key")
	cipher := fs.String("cipher", ssh.CipherAES128GCM, "the only cipher offered")
	dir := fs.String("dir", "up", `"up" (client to server) or "down"`)
	duration := fs.Duration("duration", 5*time.Second, "how long to send")
	remote := fs.String("remote", "", "benchtool's path on the server")
	pipe := fs.Int("pipe", 0, "pipe size for the remote sink or source (0: the system's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || *keyFile == "" || *knownHosts == "" || *remote == "" {
		return errors.New("-addr, -i, -known-hosts and -remote are required")
	}
	if *dir != "up" && *dir != "down" {
		return fmt.Errorf("-dir %q: want up or down", *dir)
	}
	pem, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	hostKeys, err := knownhosts.New(*knownHosts)
	if err != nil {
		return err
	}
	config := &ssh.ClientConfig{
		Config:          ssh.Config{Ciphers: []string{*cipher}},
		User:            *user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         10 * time.Second,
	}
	client, err := ssh.Dial("tcp", *addr, config)
	if err != nil {
		return err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()

	in, err := session.StdinPipe()
	if err != nil {
		return err
	}
	out, err := session.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := session.StderrPipe()
	if err != nil {
		return err
	}
	cmd := fmt.Sprintf("exec %s sink -pipe %d", *remote, *pipe)
	if *dir == "down" {
		cmd = fmt.Sprintf("exec %s source -pipe %d -duration %s", *remote, *pipe, duration)
	}
	if err := session.Start(cmd); err != nil {
		return err
	}
	ready := make(chan error, 1)
	go func() { ready <- waitReady(stderr) }()
	if err := <-ready; err != nil {
		return fmt.Errorf("remote %q: %w", cmd, err)
	}
	start, cpu0 := time.Now(), cpuSeconds()
	buf := make([]byte, copyBuffer)
	var moved int64
	if *dir == "up" {
		for time.Since(start) < *duration {
			n, err := in.Write(buf)
			moved += int64(n)
			if err != nil {
				return fmt.Errorf("write after %d bytes: %w", moved, err)
			}
		}
		if err := in.Close(); err != nil {
			return err
		}
		count, err := io.ReadAll(out)
		if err != nil {
			return err
		}
		if err := session.Wait(); err != nil {
			return fmt.Errorf("remote sink: %w", err)
		}
		got, err := strconv.ParseInt(strings.TrimSpace(string(count)), 10, 64)
		if err != nil || got != moved {
			return fmt.Errorf("sent %d bytes, the server counted %q", moved, count)
		}
	} else {
		for {
			n, err := out.Read(buf)
			moved += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("read after %d bytes: %w", moved, err)
			}
		}
		if err := session.Wait(); err != nil {
			return fmt.Errorf("remote source: %w", err)
		}
	}
	secs := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpu0
	if moved == 0 {
		return errors.New("moved nothing")
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("bytes=%d secs=%.3f cpu=%.3f rss=%d\n", moved, secs, cpu, ru.Maxrss)
	return nil
}

// waitReady reads r until a line starting with "ready" (what sink and
// source write first on standard error), then discards the rest.
func waitReady(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ready") {
			go io.Copy(io.Discard, r)
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("ended before it was ready")
}

// cpuSeconds returns the user and system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
