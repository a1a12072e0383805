package ppp_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/ppp"
)

// Short names for the table below.
const (
	s0 = ppp.StateInitial
	s1 = ppp.StateStarting
	s2 = ppp.StateClosed
	s3 = ppp.StateStopped
	s4 = ppp.StateClosing
	s5 = ppp.StateStopping
	s6 = ppp.StateReqSent
	s7 = ppp.StateAckRcvd
	s8 = ppp.StateAckSent
	s9 = ppp.StateOpened
)

// impossible marks a cell the RFC writes "-": the event cannot happen in
// that state, and the automaton must count it and change nothing.
const impossible = "-"

// rfc1661Table is the state transition table of RFC 1661 section 4.1, one
// row per cell: in state, event gives wantState after wantActions (in the
// RFC's order; the RFC lets them run in any order). The notes [p], [r] and
// [x] are tested separately.
var rfc1661Table = []struct {
	state       ppp.State
	event       string
	wantState   ppp.State
	wantActions string
}{
	// 0 Initial
	{s0, "Up", s2, ""},
	{s0, "Down", s0, impossible},
	{s0, "Open", s1, "tls"},
	{s0, "Close", s0, ""},
	{s0, "TO+", s0, impossible},
	{s0, "TO-", s0, impossible},
	{s0, "RCR+", s0, impossible},
	{s0, "RCR-", s0, impossible},
	{s0, "RCA", s0, impossible},
	{s0, "RCN", s0, impossible},
	{s0, "RTR", s0, impossible},
	{s0, "RTA", s0, impossible},
	{s0, "RUC", s0, impossible},
	{s0, "RXJ+", s0, impossible},
	{s0, "RXJ-", s0, impossible},
	{s0, "RXR", s0, impossible},

	// 1 Starting
	{s1, "Up", s6, "irc,scr"},
	{s1, "Down", s1, impossible},
	{s1, "Open", s1, ""},
	{s1, "Close", s0, "tlf"},
	{s1, "TO+", s1, impossible},
	{s1, "TO-", s1, impossible},
	{s1, "RCR+", s1, impossible},
	{s1, "RCR-", s1, impossible},
	{s1, "RCA", s1, impossible},
	{s1, "RCN", s1, impossible},
	{s1, "RTR", s1, impossible},
	{s1, "RTA", s1, impossible},
	{s1, "RUC", s1, impossible},
	{s1, "RXJ+", s1, impossible},
	{s1, "RXJ-", s1, impossible},
	{s1, "RXR", s1, impossible},

	// 2 Closed
	{s2, "Up", s2, impossible},
	{s2, "Down", s0, ""},
	{s2, "Open", s6, "irc,scr"},
	{s2, "Close", s2, ""},
	{s2, "TO+", s2, impossible},
	{s2, "TO-", s2, impossible},
	{s2, "RCR+", s2, "sta"},
	{s2, "RCR-", s2, "sta"},
	{s2, "RCA", s2, "sta"},
	{s2, "RCN", s2, "sta"},
	{s2, "RTR", s2, "sta"},
	{s2, "RTA", s2, ""},
	{s2, "RUC", s2, "scj"},
	{s2, "RXJ+", s2, ""},
	{s2, "RXJ-", s2, "tlf"},
	{s2, "RXR", s2, ""},

	// 3 Stopped
	{s3, "Up", s3, impossible},
	{s3, "Down", s1, "tls"},
	{s3, "Open", s3, ""}, // 3r
	{s3, "Close", s2, ""},
	{s3, "TO+", s3, impossible},
	{s3, "TO-", s3, impossible},
	{s3, "RCR+", s8, "irc,scr,sca"},
	{s3, "RCR-", s6, "irc,scr,scn"},
	{s3, "RCA", s3, "sta"},
	{s3, "RCN", s3, "sta"},
	{s3, "RTR", s3, "sta"},
	{s3, "RTA", s3, ""},
	{s3, "RUC", s3, "scj"},
	{s3, "RXJ+", s3, ""},
	{s3, "RXJ-", s3, "tlf"},
	{s3, "RXR", s3, ""},

	// 4 Closing
	{s4, "Up", s4, impossible},
	{s4, "Down", s0, ""},
	{s4, "Open", s5, ""}, // 5r
	{s4, "Close", s4, ""},
	{s4, "TO+", s4, "str"},
	{s4, "TO-", s2, "tlf"},
	{s4, "RCR+", s4, ""},
	{s4, "RCR-", s4, ""},
	{s4, "RCA", s4, ""},
	{s4, "RCN", s4, ""},
	{s4, "RTR", s4, "sta"},
	{s4, "RTA", s2, "tlf"},
	{s4, "RUC", s4, "scj"},
	{s4, "RXJ+", s4, ""},
	{s4, "RXJ-", s2, "tlf"},
	{s4, "RXR", s4, ""},

	// 5 Stopping
	{s5, "Up", s5, impossible},
	{s5, "Down", s1, ""},
	{s5, "Open", s5, ""}, // 5r
	{s5, "Close", s4, ""},
	{s5, "TO+", s5, "str"},
	{s5, "TO-", s3, "tlf"},
	{s5, "RCR+", s5, ""},
	{s5, "RCR-", s5, ""},
	{s5, "RCA", s5, ""},
	{s5, "RCN", s5, ""},
	{s5, "RTR", s5, "sta"},
	{s5, "RTA", s3, "tlf"},
	{s5, "RUC", s5, "scj"},
	{s5, "RXJ+", s5, ""},
	{s5, "RXJ-", s3, "tlf"},
	{s5, "RXR", s5, ""},

	// 6 Req-Sent
	{s6, "Up", s6, impossible},
	{s6, "Down", s1, ""},
	{s6, "Open", s6, ""},
	{s6, "Close", s4, "irc,str"},
	{s6, "TO+", s6, "scr"},
	{s6, "TO-", s3, "tlf"}, // 3p
	{s6, "RCR+", s8, "sca"},
	{s6, "RCR-", s6, "scn"},
	{s6, "RCA", s7, "irc"},
	{s6, "RCN", s6, "irc,scr"},
	{s6, "RTR", s6, "sta"},
	{s6, "RTA", s6, ""},
	{s6, "RUC", s6, "scj"},
	{s6, "RXJ+", s6, ""},
	{s6, "RXJ-", s3, "tlf"},
	{s6, "RXR", s6, ""},

	// 7 Ack-Rcvd
	{s7, "Up", s7, impossible},
	{s7, "Down", s1, ""},
	{s7, "Open", s7, ""},
	{s7, "Close", s4, "irc,str"},
	{s7, "TO+", s6, "scr"},
	{s7, "TO-", s3, "tlf"}, // 3p
	{s7, "RCR+", s9, "sca,tlu"},
	{s7, "RCR-", s7, "scn"},
	{s7, "RCA", s6, "scr"}, // 6x
	{s7, "RCN", s6, "scr"}, // 6x
	{s7, "RTR", s6, "sta"},
	{s7, "RTA", s6, ""},
	{s7, "RUC", s7, "scj"},
	{s7, "RXJ+", s6, ""},
	{s7, "RXJ-", s3, "tlf"},
	{s7, "RXR", s7, ""},

	// 8 Ack-Sent
	{s8, "Up", s8, impossible},
	{s8, "Down", s1, ""},
	{s8, "Open", s8, ""},
	{s8, "Close", s4, "irc,str"},
	{s8, "TO+", s8, "scr"},
	{s8, "TO-", s3, "tlf"}, // 3p
	{s8, "RCR+", s8, "sca"},
	{s8, "RCR-", s6, "scn"},
	{s8, "RCA", s9, "irc,tlu"},
	{s8, "RCN", s8, "irc,scr"},
	{s8, "RTR", s6, "sta"},
	{s8, "RTA", s8, ""},
	{s8, "RUC", s8, "scj"},
	{s8, "RXJ+", s8, ""},
	{s8, "RXJ-", s3, "tlf"},
	{s8, "RXR", s8, ""},

	// 9 Opened
	{s9, "Up", s9, impossible},
	{s9, "Down", s1, "tld"},
	{s9, "Open", s9, ""}, // 9r
	{s9, "Close", s4, "tld,irc,str"},
	{s9, "TO+", s9, impossible},
	{s9, "TO-", s9, impossible},
	{s9, "RCR+", s8, "tld,scr,sca"},
	{s9, "RCR-", s6, "tld,scr,scn"},
	{s9, "RCA", s6, "tld,scr"}, // 6x
	{s9, "RCN", s6, "tld,scr"}, // 6x
	{s9, "RTR", s5, "tld,zrc,sta"},
	{s9, "RTA", s6, "tld,scr"},
	{s9, "RUC", s9, "scj"},
	{s9, "RXJ+", s9, ""},
	{s9, "RXJ-", s5, "tld,irc,str"},
	{s9, "RXR", s9, "ser"},
}

// actionOrder puts observed and expected actions in one order, since the
// RFC lets the actions of a cell run in any order and irc/zrc are inferred
// rather than seen.
var actionOrder = []string{"tlu", "tld", "tls", "tlf", "irc", "zrc", "scr", "sca", "scn", "str", "sta", "scj", "ser"}

func canonical(actions []string) []string {
	out := slices.Clone(actions)
	slices.SortStableFunc(out, func(x, y string) int {
		return slices.Index(actionOrder, x) - slices.Index(actionOrder, y)
	})
	if out == nil {
		out = []string{}
	}
	return out
}

// counterStart is the restart counter each cell starts from: distinct from
// Max-Configure and Max-Terminate so that irc can be told apart, and above
// zero so that a Timeout is TO+.
const counterStart = 7

// fire delivers the named event to f's automaton.
func (f *fixture) fire(t *testing.T, event string) {
	a := f.a
	switch event {
	case "Up":
		a.Up()
	case "Down":
		a.Down()
	case "Open":
		a.Open()
	case "Close":
		a.Close("User request")
	case "TO+", "TO-":
		a.Timeout()
	case "RCR+":
		a.Input(peerRequest(0x51, peerGood))
	case "RCR-":
		a.Input(peerRequest(0x51, peerBad))
	case "RCA":
		ppp.AwaitReply(a) // only matters for [x]: Ack-Rcvd and Opened
		a.Input(f.ack())
	case "RCN":
		ppp.AwaitReply(a)
		a.Input(f.nak(nakValue))
	case "RTR":
		a.Input(pkt(ppp.CodeTerminateRequest, 0x52, []byte("bye")...))
	case "RTA":
		a.Input(pkt(ppp.CodeTerminateAck, 0x53))
	case "RUC":
		a.Input(pkt(0x0e, 0x54, 1, 2, 3))
	case "RXJ+":
		a.Input(codeReject(0x55, ppp.CodeEchoRequest))
	case "RXJ-":
		a.Input(codeReject(0x55, ppp.CodeConfigureRequest))
	case "RXR":
		a.Input(pkt(ppp.CodeEchoRequest, 0x56, 0, 0, 0, 0))
	default:
		t.Fatalf("unknown event %q", event)
	}
}

// TestStateTransitionTable checks every cell of the RFC 1661 section 4.1
// table against the automaton: the state reached, and the actions seen
// through the handler (tlu, tld, tls, tlf), the packets sent (scr, sca, scn,
// str, sta, scj, ser) and the restart counter and timer (irc, zrc).
func TestStateTransitionTable(t *testing.T) {
	if len(rfc1661Table) != 160 {
		t.Fatalf("table has %d cells, want 10 states × 16 events = 160", len(rfc1661Table))
	}
	seen := map[string]bool{}
	for _, c := range rfc1661Table {
		name := strings.ReplaceAll(c.state.String(), "-", "") + "/" + c.event
		if seen[name] {
			t.Fatalf("cell %s listed twice", name)
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.driveTo(t, c.state)
			start := counterStart
			if c.event == "TO-" {
				start = 0
			}
			ppp.SetRestartCounter(f.a, start)
			before := f.a.Stats()

			f.fire(t, c.event)

			got := f.a.Stats()
			if c.wantActions == impossible {
				if f.a.State() != c.state || len(f.rec.Actions) != 0 {
					t.Errorf("impossible event: state %v, actions %v; want %v and none", f.a.State(), f.rec.Actions, c.state)
				}
				if got.Unexpected != before.Unexpected+1 {
					t.Errorf("Stats.Unexpected = %d, want %d", got.Unexpected, before.Unexpected+1)
				}
				return
			}
			if got.Unexpected != before.Unexpected {
				t.Errorf("Stats.Unexpected went from %d to %d", before.Unexpected, got.Unexpected)
			}
			if f.a.State() != c.wantState {
				t.Errorf("state = %v, want %v", f.a.State(), c.wantState)
			}
			actions := slices.Clone(f.rec.Actions)
			sends := countOf(actions, "scr") + countOf(actions, "str")
			switch n := ppp.RestartCounter(f.a); {
			case n == start-sends:
			case n == testMaxConfigure-sends && countOf(actions, "str") == 0:
				actions = append(actions, "irc")
			case n == testMaxTerminate-sends && countOf(actions, "scr") == 0:
				actions = append(actions, "irc")
			case n == 0 && start != 0 && sends == 0 && f.rec.Timer > 0 && ppp.TimerArmed(f.a):
				actions = append(actions, "zrc")
			default:
				t.Errorf("restart counter %d fits no action (started at %d, %d requests sent)", n, start, sends)
			}
			var want []string
			if c.wantActions != "" {
				want = strings.Split(c.wantActions, ",")
			}
			if diff := cmp.Diff(canonical(want), canonical(actions)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			// The restart timer runs exactly in Closing, Stopping, Req-Sent,
			// Ack-Rcvd and Ack-Sent (RFC 1661 section 4.2).
			running := c.wantState >= ppp.StateClosing && c.wantState <= ppp.StateAckSent
			if ppp.TimerArmed(f.a) != running {
				t.Errorf("timer armed = %v in %v", ppp.TimerArmed(f.a), c.wantState)
			}
		})
	}
}
