package link

import (
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/pppssh/pppssh/ppp"
)

// A peer that Protocol-Rejects IPCP stops it (RXJ-, RFC 1661 section 5.7);
// with no network protocol left, the link closes LCP as pppd does. A
// Protocol-Reject of LCP itself is catastrophic.
func TestPeerRejectsProtocol(t *testing.T) {
	for _, tc := range []struct {
		proto      ppp.Protocol
		wantReason string
	}{
		{ppp.ProtoIPCP, "No network protocols running"},
		{ppp.ProtoLCP, "LCP protocol-rejected"},
	} {
		t.Run(tc.proto.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ours, theirs := net.Pipe()
				l, done := runLink(t.Context(), ours, Config{})
				p := newRawPeer(theirs)
				p.openLCP(t, nil)
				p.send(ppp.ProtoLCP, ppp.CodeProtocolReject, 7, []byte{byte(tc.proto >> 8), byte(tc.proto), 1, 1, 0, 4})
				// Our Terminate-Request carries the reason.
				for {
					proto, pkt, err := p.next()
					if err != nil {
						t.Fatalf("no Terminate-Request: %v", err)
					}
					if proto == ppp.ProtoLCP && pkt.Code() == ppp.CodeTerminateRequest {
						if got := string(pkt.Data()); got != tc.wantReason {
							t.Errorf("Terminate-Request reason %q, want %q", got, tc.wantReason)
						}
						p.send(ppp.ProtoLCP, ppp.CodeTerminateAck, pkt.ID(), nil)
						break
					}
				}
				err := <-done
				if tc.proto == ppp.ProtoLCP && (err == nil || !strings.Contains(err.Error(), "rejected LCP")) {
					t.Errorf("Run = %v, want the catastrophic rejection of LCP", err)
				}
				var ne *ppp.NegotiationError
				if tc.proto == ppp.ProtoIPCP && (!errors.As(err, &ne) || ne.Protocol != ppp.ProtoIPCP) {
					t.Errorf("Run = %v, want IPCP's NegotiationError", err)
				}
				if s := l.Status(); s.Phase != ppp.PhaseDead || s.IPCPState == ppp.StateOpened {
					t.Errorf("after Run: phase %v, IPCP %v", s.Phase, s.IPCPState)
				}
				if err == nil || errors.Is(err, ErrClosed) {
					t.Errorf("Run = %v, want a reason", err)
				}
				theirs.Close()
			})
		})
	}
}
