package tunnel

import (
	"testing"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/tunnel/tuntest"
)

// TestReceiverBorrowsBatches checks that a receiver holds a batch only
// while it has packets to write: engines that are idle hold no receive
// buffers, and batches go round through the pool instead of being made
// again.
func TestReceiverBorrowsBatches(t *testing.T) {
	dev := tuntest.New(5, 16)
	e := New(nil, dev, Config{})
	e.prepare()
	if e.rx.b != nil {
		t.Fatal("a new engine holds a receive batch before any packet")
	}
	pkt := tcpSegment(t, 1, 100, false)
	e.rx.HandlePacket(ppp.ProtoIPv4, pkt)
	first := e.rx.b
	if first == nil {
		t.Fatal("no batch after a packet")
	}
	e.rx.Flush()
	if e.rx.b != nil {
		t.Fatal("the receiver keeps its batch after Flush")
	}
	dev.Recycle(<-dev.Inbound)

	// A second engine, idle, then receiving: it gets the batch the first
	// gave back.
	e2 := New(nil, dev, Config{})
	e2.prepare()
	e2.rx.HandlePacket(ppp.ProtoIPv4, pkt)
	if e2.rx.b != first {
		t.Error("the second engine made a new batch while the pool held one that fits")
	}
	e2.rx.Flush()
	if got := <-dev.Inbound; string(got) != string(pkt) {
		t.Errorf("the device got % x, want % x", got, pkt)
	}

	// A full batch is written without waiting for Flush.
	for range 5 {
		e.rx.HandlePacket(ppp.ProtoIPv4, pkt)
	}
	if e.rx.b != nil {
		t.Error("the receiver holds its batch after filling it")
	}
	for range 5 {
		<-dev.Inbound
	}
	if c := e.n.snapshot(); c.PacketsWritten != 6 || c.Writes != 2 {
		t.Errorf("device counters %+v, want 6 packets in 2 writes", c)
	}
}
