package auth_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/pppssh/pppssh/auth"
	"github.com/pppssh/pppssh/ppp"
)

// A gateway authenticates alice with CHAP, in memory: what each sends is
// delivered to the other after the sender returns, as a link's control
// loop would deliver it.
func Example() {
	secrets, err := auth.ParseSecrets(strings.NewReader(`
# client  server  secret    addresses
alice     gw      "s3cr3t"  10.0.0.2
`), "chap-secrets")
	if err != nil {
		fmt.Println(err)
		return
	}
	var queue []func()
	var gw, alice auth.Exchange
	send := func(from string, to *auth.Exchange) func(ppp.Protocol, []byte) {
		return func(proto ppp.Protocol, pkt []byte) {
			fmt.Printf("%s sent %s\n", from, auth.AppendPacketText(nil, proto, pkt))
			pkt = append([]byte(nil), pkt...) // Send must not keep pkt
			queue = append(queue, func() { (*to).Input(pkt) })
		}
	}
	gw, err = auth.New(ppp.ProtoCHAP, auth.Authenticator, auth.Config{
		Name:    "gw",
		Secrets: secrets,
		Rand:    strings.NewReader(strings.Repeat("\x00", 64)), // not random: for the example's output
		Send:    send("gw", &alice),
		Timer:   func(time.Duration) {}, // the owner's timer
		Done: func(r auth.Result) {
			fmt.Printf("gw: %v, peer %q, addresses %v\n", r.Status, r.PeerName, r.Entry.Addresses)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	password := auth.NewSecret([]byte("s3cr3t"))
	alice, err = auth.New(ppp.ProtoCHAP, auth.Authenticatee, auth.Config{
		Name:     "alice",
		Password: &password,
		Send:     send("alice", &gw),
		Timer:    func(time.Duration) {},
		Done: func(r auth.Result) {
			fmt.Printf("alice: %v, %q (password %v)\n", r.Status, r.Message, password)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	gw.Start()
	alice.Start()
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		next()
	}
	// Output:
	// gw sent [CHAP Challenge id=0x1 <00000000000000000000000000000000>, name = "gw"]
	// alice sent [CHAP Response id=0x1 <ccf5aec78528f294f267ef4b7273ee20>, name = "alice"]
	// gw sent [CHAP Success id=0x1 "Access granted"]
	// gw: succeeded, peer "alice", addresses [10.0.0.2]
	// alice: succeeded, "Access granted" (password <hidden>)
}
