package lcp_test

import (
	"fmt"
	"time"

	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// Two pppssh ends negotiate LCP back to back in memory, both enabling the
// 32-bit FCS, one announcing an MRU of 4000.
func Example() {
	var wire ppptest.Wire
	newEnd := func(name string, send func([]byte), mru uint16) (*lcp.Handler, *ppp.Automaton) {
		cfg := lcp.DefaultConfig()
		cfg.Want.MRU = mru
		cfg.Want.NegFCS, cfg.Allow.NegFCS = true, true
		cfg.Up = func(n lcp.Negotiated) {
			fmt.Printf("%s up: receive MRU %d (decoder %d), send MRU %d, send ACCM %#x, PFC %v, ACFC %v, FCS %v/%v\n",
				name, n.MRU, n.ReceiveLimit(), n.PeerMRU, n.SendACCM, n.SendPFC, n.SendACFC, n.RecvFCS, n.SendFCS)
		}
		h := lcp.New(cfg)
		return h, ppp.NewAutomaton(ppp.Config{
			Protocol: ppp.ProtoLCP,
			Handler:  h,
			Send:     send,
			Timer:    func(time.Duration) {}, // the owner's restart timer
		})
	}
	ha, a := newEnd("A", wire.SendA, 4000)
	_, b := newEnd("B", wire.SendB, 1500)
	wire.A, wire.B = a, b

	a.Up()
	a.Open()
	b.Up()
	b.Open()
	wire.Run(100)

	// The owner checks for a looped-back line after each packet.
	if ha.Looped() {
		a.Close(lcp.LoopedBackReason)
	}
	fmt.Println(a.State(), b.State())
	// Output:
	// A up: receive MRU 4000 (decoder 4000), send MRU 1500, send ACCM 0x0, PFC true, ACFC true, FCS crc32/crc32
	// B up: receive MRU 1500 (decoder 1500), send MRU 4000, send ACCM 0x0, PFC true, ACFC true, FCS crc32/crc32
	// Opened Opened
}
