package ppp_test

import (
	"fmt"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

func ExampleAppendPacketText() {
	pkt := ppp.AppendPacket(nil, ppp.CodeTerminateRequest, 2, []byte("User request"))
	fmt.Printf("sent %s\n", ppp.AppendPacketText(nil, ppp.ProtoLCP, pkt, nil))
	// Output: sent [LCP TermReq id=0x2 "User request"]
}

// The owner of an automaton feeds it events and carries out what it asks:
// packets to send and a restart timer to arm.
func ExampleAutomaton() {
	a := ppp.NewAutomaton(ppp.Config{
		Protocol: ppp.ProtoIPCP, // no Handler: request nothing, reject everything
		Send: func(pkt []byte) {
			fmt.Printf("sent %s\n", ppp.AppendPacketText(nil, ppp.ProtoIPCP, pkt, nil))
		},
		Timer: func(d time.Duration) { fmt.Println("timer", d) },
	})
	a.Up()
	a.Open()
	a.Input([]byte{0x02, 0x01, 0x00, 0x04}) // the peer's Configure-Ack
	a.Input([]byte{0x01, 0x07, 0x00, 0x04}) // the peer's Configure-Request
	fmt.Println(a.State())
	// Output:
	// sent [IPCP ConfReq id=0x1]
	// timer 3s
	// timer 0s
	// sent [IPCP ConfAck id=0x7]
	// Opened
}
