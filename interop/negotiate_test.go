package interop

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/linecap"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
)

var (
	pppdAddr = netip.MustParseAddr("192.0.2.1") // pppd's end of the link
	ourAddr  = netip.MustParseAddr("192.0.2.2") // ours
)

// pppdAssigns is pppd's argument that gives both ends their addresses.
const pppdAssigns = "192.0.2.1:192.0.2.2"

// TestDebianDefaults brings our link up with pppd configured as Debian
// ships it (/etc/ppp/options) plus noauth, in both ways of assigning the
// addresses: pppd assigns ours (we ask for 0.0.0.0), or we assign pppd's
// (pppd with noipdefault asks for 0.0.0.0). It checks what LCP agreed on
// our side against pppd's log, that pppd's CCP and IPV6CP get
// Protocol-Rejects and its Van Jacobson compression a Configure-Reject,
// that our Echo-Requests are answered, that an IP datagram crosses pppd
// both ways, and that closing our link makes pppd end the connection.
func TestDebianDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		ipcp ipcp.Config
	}{
		{"pppd assigns", []string{pppdAssigns}, ipcp.Config{}},
		{"we assign", []string{"noipdefault"}, ipcp.Config{Local: ourAddr, Remote: pppdAddr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vm := startPPPD(t, tc.args...)
			ctx := testContext(t)
			lc := lcp.DefaultConfig()
			lc.EchoInterval, lc.EchoFailure = 200*time.Millisecond, 10
			o := runLink(t, ctx, vm, link.Config{LCP: &lc, IPCP: tc.ipcp})
			n := o.waitIPCP(t, ctx)
			if n.Local != ourAddr || n.Peer != pppdAddr {
				t.Errorf("IPCP: we are %v, pppd %v; want %v and %v", n.Local, n.Peer, ourAddr, pppdAddr)
			}
			waitLog(t, ctx, vm, "local  IP address "+pppdAddr.String())
			waitLog(t, ctx, vm, "remote IP address "+ourAddr.String())

			s := o.l.Status()
			if s.Phase != ppp.PhaseNetwork || s.LCPState != ppp.StateOpened {
				t.Errorf("status: phase %v, LCP %v; want Network, Opened", s.Phase, s.LCPState)
			}
			want := lcp.Negotiated{
				MRU: 1500, PeerMRU: 1500, // pppd asks for no MRU: the default
				RecvACCM: 0, SendACCM: 0, // asyncmap 0 both ways
				RecvPFC: true, RecvACFC: true, SendPFC: true, SendACFC: true,
				RecvFCS: lcp.FCS16, SendFCS: lcp.FCS16,
				Magic: s.LCP.Magic, PeerMagic: s.LCP.PeerMagic,
			}
			if s.LCP != want {
				t.Errorf("LCP agreed\n%+v\nwant\n%+v", s.LCP, want)
			}
			if s.LCP.Magic == 0 || s.LCP.PeerMagic == 0 || s.LCP.Magic == s.LCP.PeerMagic {
				t.Errorf("magic numbers ours %#x, pppd's %#x", s.LCP.Magic, s.LCP.PeerMagic)
			}
			waitLog(t, ctx, vm, fmt.Sprintf("sent [LCP ConfReq id=0x1 <asyncmap 0x0> <magic %#x> <pcomp> <accomp>]", s.LCP.PeerMagic))
			waitLog(t, ctx, vm, fmt.Sprintf("rcvd [LCP ConfReq id=0x1 <asyncmap 0x0> <magic %#x> <pcomp> <accomp>]", s.LCP.Magic))

			// pppd's CCP and IPV6CP: we run neither, so we reject the
			// protocols; pppd's Van Jacobson compression: rejected.
			waitLog(t, ctx, vm, "Protocol-Reject for 'Compression Control Protocol' (0x80fd) received")
			waitLog(t, ctx, vm, "Protocol-Reject for 'IPv6 Control Protocol' (0x8057) received")
			if n := o.l.Status().Counters.ProtocolRejects; n < 2 {
				t.Errorf("we sent %d Protocol-Rejects, want at least 2 (CCP, IPV6CP)", n)
			}
			waitLog(t, ctx, vm, "rcvd [IPCP ConfRej id=0x1 <compress VJ 0f 01>]")

			// Our keep-alives: pppd answers each Echo-Request.
			waitLogCount(t, ctx, vm, "sent [LCP EchoRep", 4)
			eventually(t, ctx, "our link matched 4 Echo-Replies", func() bool { return o.l.Status().RTT.Count >= 4 })
			if rtt := o.l.Status().RTT; rtt.Min <= 0 || rtt.Max < rtt.Min || rtt.Avg < rtt.Min || rtt.Avg > rtt.Max {
				t.Errorf("round-trip times %+v", rtt)
			}

			if err := udpEcho(ctx, o, ourAddr, pppdAddr, 1500); err != nil {
				t.Error(err)
			}

			o.l.Close()
			if err := o.wait(t, ctx); !errors.Is(err, link.ErrClosed) {
				t.Errorf("Run = %v, want ErrClosed", err)
			}
			waitLog(t, ctx, vm, `rcvd [LCP TermReq id=0x`)
			waitLog(t, ctx, vm, "LCP terminated by peer (User request)")
			waitLog(t, ctx, vm, "Connection terminated.")
		})
	}
}

// waitLogCount waits for the nth occurrence of s in pppd's log.
func waitLogCount(t *testing.T, ctx context.Context, vm interface {
	WaitLogCount(context.Context, string, int) (string, error)
}, s string, n int) string {
	t.Helper()
	line, err := vm.WaitLogCount(ctx, s, n)
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// TestOptionVariants runs pppd with options that change the framing or
// leave protocols out, checks what our link agreed, and sends a datagram
// holding every octet value through pppd to the guest's echo service and
// back, so both framings are proven on real data.
func TestOptionVariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, s lcp.Negotiated, rx, tx []frame, rxRaw, txRaw []byte, log string)
		size  int // of the datagram echoed; 0 means 1500
	}{
		{
			name: "noccp novj noipv6",
			args: []string{"noccp", "novj", "noipv6"},
			check: func(t *testing.T, _ lcp.Negotiated, rx, _ []frame, _, _ []byte, log string) {
				for _, f := range rx {
					if f.proto == ppp.ProtoCCP || f.proto == ppp.ProtoIPV6CP {
						t.Errorf("pppd sent %v despite noccp/noipv6", f.proto)
					}
				}
				if strings.Contains(log, "Protocol-Reject") || strings.Contains(log, "compress VJ") {
					t.Errorf("pppd's log shows Protocol-Rejects or VJ compression:\n%s", log)
				}
			},
		},
		{
			name: "default-asyncmap",
			args: []string{"default-asyncmap"},
			check: func(t *testing.T, s lcp.Negotiated, _, _ []frame, rxRaw, txRaw []byte, _ string) {
				if s.SendACCM != 0xffffffff || s.RecvACCM != 0xffffffff {
					t.Errorf("ACCM send %#x recv %#x, want 0xffffffff both ways", s.SendACCM, s.RecvACCM)
				}
				checkEscaped(t, "pppd", rxRaw, 0xffffffff)
				checkEscaped(t, "we", txRaw, 0xffffffff)
			},
		},
		{
			name: "asyncmap 0xa0000",
			args: []string{"asyncmap", "0xa0000"},
			check: func(t *testing.T, s lcp.Negotiated, _, _ []frame, _, txRaw []byte, _ string) {
				if s.SendACCM != 0xa0000 || s.RecvACCM != 0 {
					t.Errorf("ACCM send %#x recv %#x, want 0xa0000 and 0", s.SendACCM, s.RecvACCM)
				}
				checkEscaped(t, "we", txRaw, 0xa0000)
			},
		},
		{
			name: "noaccomp nopcomp",
			args: []string{"noaccomp", "nopcomp"},
			check: func(t *testing.T, s lcp.Negotiated, rx, tx []frame, _, _ []byte, _ string) {
				if s.SendPFC || s.SendACFC || s.RecvPFC || s.RecvACFC {
					t.Errorf("PFC/ACFC send %v/%v recv %v/%v, want none", s.SendPFC, s.SendACFC, s.RecvPFC, s.RecvACFC)
				}
				for _, fs := range [][]frame{rx, tx} {
					for _, f := range fs {
						if f.compressed {
							t.Errorf("%v frame with a compressed header", f.proto)
						}
					}
				}
			},
		},
		{
			name: "mru 576",
			args: []string{"mru", "576"},
			size: 576,
			check: func(t *testing.T, s lcp.Negotiated, _, _ []frame, _, _ []byte, log string) {
				if s.PeerMRU != 576 {
					t.Errorf("peer MRU %d, want 576", s.PeerMRU)
				}
				if !strings.Contains(log, "sent [LCP ConfReq id=0x1 <mru 576>") {
					t.Errorf("pppd did not ask for MRU 576")
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vm := startPPPD(t, append([]string{pppdAssigns}, tc.args...)...)
			ctx := testContext(t)
			o := runLink(t, ctx, vm, link.Config{})
			o.waitIPCP(t, ctx)
			waitLog(t, ctx, vm, "remote IP address "+ourAddr.String())
			size := tc.size
			if size == 0 {
				size = 1500
			}
			if err := udpEcho(ctx, o, ourAddr, pppdAddr, size); err != nil {
				t.Fatal(err)
			}
			s := o.l.Status()
			recs, _ := o.tap.capture()
			rxRaw, txRaw := linecap.Stream(recs, false), linecap.Stream(recs, true)
			rx, _ := decodeStream(t, rxRaw)
			tx, _ := decodeStream(t, txRaw)
			tc.check(t, s.LCP, rx, tx, rxRaw, txRaw, vm.Log())
			if s.Framing.BadFCS != 0 {
				t.Errorf("%d frames from pppd with a bad FCS", s.Framing.BadFCS)
			}
			o.l.Close()
			if err := o.wait(t, ctx); !errors.Is(err, link.ErrClosed) {
				t.Errorf("Run = %v, want ErrClosed", err)
			}
		})
	}
}

// checkEscaped checks that no octet whose bit is set in accm appears
// unescaped in raw, a stream of frames.
func checkEscaped(t *testing.T, who string, raw []byte, accm uint32) {
	t.Helper()
	for i, c := range raw {
		if c < 0x20 && accm&(1<<c) != 0 {
			t.Errorf("%s sent %#02x unescaped at octet %d, though the ACCM %#x asks for it to be escaped", who, c, i, accm)
			return
		}
	}
}
