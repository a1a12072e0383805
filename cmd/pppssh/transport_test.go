package main

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGrowPipe checks that both ends of a pipe, what sshd gives "pppssh
// serve" as standard input and output, grow to pipeSize.
func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, f := range []*os.File{r, w} {
		growPipe(int(f.Fd()))
		if size, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || size != pipeSize {
			t.Errorf("%s: pipe size %d (%v) after growPipe, want %d", f.Name(), size, err, pipeSize)
		}
	}

}
