package tuntest_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/pppssh/pppssh/tunnel"
	"github.com/pppssh/pppssh/tunnel/tuntest"
)

var _ tunnel.Device = (*tuntest.Device)(nil)

func bufs(n int) ([][]byte, []int) {
	b := make([][]byte, n)
	for i := range b {
		b[i] = make([]byte, tunnel.Headroom+100)
	}
	return b, make([]int, n)
}

// Read takes what is queued, up to the buffers given; Write copies out.
func TestReadWrite(t *testing.T) {
	d := tuntest.New(4, 8)
	if d.BatchSize() != 4 {
		t.Errorf("BatchSize = %d, want 4", d.BatchSize())
	}
	for i := range 6 {
		d.Outbound <- bytes.Repeat([]byte{byte(i)}, 10+i)
	}
	b, sizes := bufs(4)
	n, err := d.Read(b, sizes, tunnel.Headroom)
	if err != nil || n != 4 {
		t.Fatalf("Read = %d, %v; want 4 packets", n, err)
	}
	for i := range n {
		if want := bytes.Repeat([]byte{byte(i)}, 10+i); !bytes.Equal(b[i][tunnel.Headroom:tunnel.Headroom+sizes[i]], want) {
			t.Errorf("packet %d = % x, want % x", i, b[i][tunnel.Headroom:tunnel.Headroom+sizes[i]], want)
		}
	}
	if n, _ := d.Read(b, sizes, tunnel.Headroom); n != 2 {
		t.Errorf("second Read = %d packets, want the 2 left", n)
	}

	out := [][]byte{append(make([]byte, tunnel.Headroom), 1, 2, 3), append(make([]byte, tunnel.Headroom), 4)}
	if n, err := d.Write(out, tunnel.Headroom); n != 2 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	first := <-d.Inbound
	out[0][tunnel.Headroom] = 9 // the device copied the packet
	if !bytes.Equal(first, []byte{1, 2, 3}) || !bytes.Equal(<-d.Inbound, []byte{4}) {
		t.Errorf("Inbound does not hold copies of the packets written")
	}
	d.Recycle(first)
	if _, err := d.Write(out[1:], tunnel.Headroom); err != nil {
		t.Fatal(err)
	}
	if p := <-d.Inbound; &p[0] != &first[0] || !bytes.Equal(p, []byte{4}) {
		t.Errorf("Write did not reuse the recycled buffer")
	}
	if s := d.Stats(); s.Reads != 2 || s.PacketsRead != 6 || s.Writes != 2 || s.PacketsWritten != 3 {
		t.Errorf("Stats = %+v", s)
	}
}

// Close makes a blocked Read and a blocked Write return os.ErrClosed.
func TestClose(t *testing.T) {
	d := tuntest.New(1, 1)
	errs := make(chan error, 2)
	go func() {
		b, sizes := bufs(1)
		_, err := d.Read(b, sizes, tunnel.Headroom)
		errs <- err
	}()
	go func() {
		p := [][]byte{make([]byte, tunnel.Headroom+1)}
		_, _ = d.Write(p, tunnel.Headroom) // fills Inbound
		_, err := d.Write(p, tunnel.Headroom)
		errs <- err
	}()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, os.ErrClosed) {
			t.Errorf("got %v, want os.ErrClosed", err)
		}
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	select {
	case <-d.Closed():
	default:
		t.Error("Closed() not closed")
	}
}
