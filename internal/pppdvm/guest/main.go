// Command pppdvm-guest runs inside the pppd test VM of package pppdvm. It
// offers small services on every address of the guest, for tests that send
// data through pppd:
//
//	TCP and UDP port 7 (echo, RFC 862): every octet comes back.
//	TCP and UDP port 9 (discard, RFC 863): everything is dropped.
//	TCP port 19 (source): an endless stream of octets, for throughput.
//
// It also serves the VM's control port, a virtio-serial port named
// pppdvm.ctl: the host writes one JSON request a line,
// {"id":1,"argv":["kill","-TERM","42"]}, and the guest runs the program and
// answers {"id":1,"exit":0,"output":"..."} with its combined output.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("pppdvm-guest: ")
	serveTCP(":7", func(c net.Conn) { _, _ = io.Copy(c, c) })
	serveTCP(":9", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	serveTCP(":19", source)
	serveUDP(":7", true)
	serveUDP(":9", false)
	log.Print("echo on 7, discard on 9, source on 19 (TCP and UDP)")
	if err := control("pppdvm.ctl"); err != nil {
		log.Print(err)
	}
	select {}
}

func serveTCP(addr string, h func(net.Conn)) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Print(err)
		return
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				log.Print(err)
				return
			}
			go func() {
				defer c.Close()
				h(c)
			}()
		}
	}()
}

func source(c net.Conn) {
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for {
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

func serveUDP(addr string, echo bool) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		log.Print(err)
		return
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				log.Print(err)
				return
			}
			if echo {
				_, _ = pc.WriteTo(buf[:n], from)
			}
		}
	}()
}

type request struct {
	ID   int      `json:"id"`
	Argv []string `json:"argv"`
}

type response struct {
	ID     int    `json:"id"`
	Exit   int    `json:"exit"`
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
}

// control serves requests on the virtio-serial port called name.
func control(name string) error {
	dev, err := findPort(name)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	enc := json.NewEncoder(f)
	go func() {
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var req request
			if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
				log.Printf("bad request %q: %v", sc.Text(), err)
				continue
			}
			go func() {
				resp := run(req)
				mu.Lock()
				defer mu.Unlock()
				if err := enc.Encode(resp); err != nil {
					log.Print(err)
				}
			}()
		}
		log.Printf("control port: %v", sc.Err())
	}()
	return nil
}

// findPort waits for the virtio-serial port called name and returns its
// device node.
func findPort(name string) (string, error) {
	for range 200 {
		names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err == nil && strings.TrimSpace(string(b)) == name {
				return "/dev/" + filepath.Base(filepath.Dir(n)), nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("no virtio-serial port named %s", name)
}

func run(req request) response {
	resp := response{ID: req.ID}
	if len(req.Argv) == 0 {
		resp.Exit, resp.Error = -1, "empty argv"
		return resp
	}
	log.Printf("run %q", req.Argv)
	var out bytes.Buffer
	cmd := exec.Command(req.Argv[0], req.Argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	resp.Output = out.String()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		resp.Exit = ee.ExitCode()
	case err != nil:
		resp.Exit, resp.Error = -1, err.Error()
	}
	return resp
}
