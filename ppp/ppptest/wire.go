package ppptest

import (
	"bytes"

	"github.com/pppssh/pppssh/ppp"
)

// Wire joins two automata, A and B, back to back in memory. Give A's
// Config.Send SendA and B's SendB, then set A and B; Run delivers what they
// send to each other. Packets are queued rather than delivered from inside
// Send, so that no automaton is entered while it is sending.
type Wire struct {
	A, B *ppp.Automaton

	// Drop, if set, is asked about every packet before delivery; returning
	// true loses it. toB tells the direction.
	Drop func(toB bool, pkt ppp.Packet) bool

	// Trace lists every packet sent, as "A>B [LCP ConfReq id=0x1 …]" or
	// "B>A …", with " (lost)" after those Drop lost.
	Trace []string

	// Formatter, if set, formats options and codes in Trace (see
	// ppp.AppendPacketText).
	Formatter any

	queue []frame
}

type frame struct {
	toB bool
	pkt ppp.Packet
}

// SendA queues a packet from A to B.
func (w *Wire) SendA(pkt []byte) { w.queue = append(w.queue, frame{true, bytes.Clone(pkt)}) }

// SendB queues a packet from B to A.
func (w *Wire) SendB(pkt []byte) { w.queue = append(w.queue, frame{false, bytes.Clone(pkt)}) }

// Pending returns the number of packets queued.
func (w *Wire) Pending() int { return len(w.queue) }

// Run delivers queued packets, and those they cause, in order until none
// is left or limit packets have been delivered or lost. It returns how many
// it took from the queue.
func (w *Wire) Run(limit int) int {
	n := 0
	for len(w.queue) > 0 && n < limit {
		f := w.queue[0]
		w.queue = w.queue[1:]
		n++
		to, tag := w.B, "A>B "
		if !f.toB {
			to, tag = w.A, "B>A "
		}
		lost := w.Drop != nil && w.Drop(f.toB, f.pkt)
		proto := ppp.Protocol(0)
		if to != nil {
			proto = to.Protocol()
		}
		line := ppp.AppendPacketText([]byte(tag), proto, f.pkt, w.Formatter)
		if lost {
			line = append(line, " (lost)"...)
		}
		w.Trace = append(w.Trace, string(line))
		if !lost && to != nil {
			to.Input(f.pkt)
		}
	}
	return n
}
