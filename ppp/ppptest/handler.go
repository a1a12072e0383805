package ppptest

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/pppssh/pppssh/ppp"
)

// OptValue is the type of Handler's single option, whose Data is a 32-bit
// value in network byte order.
const OptValue = 1

// errBadReply is returned by Handler for a Configure-Nak or Configure-Reject
// that does not fit the request sent.
var errBadReply = errors.New("ppptest: Nak or Reject does not fit the request")

// Handler is a ppp.Handler with one option, OptValue. It requests Want when
// Request is set, accepts only Accept from the peer (or anything, with
// AcceptAny) and Naks other values with Accept, rejects every other option,
// and answers Echo-Requests in Opened. It also implements ppp.LayerHandler,
// ppp.CodeHandler, ppp.OptionFormatter and ppp.CodeFormatter, and records
// what happened in its exported fields. The zero value is ready to use; it
// requests nothing and accepts only the value 0.
type Handler struct {
	Request   bool      // ask for OptValue in our Configure-Requests
	Want      uint32    // the value asked for, until a Nak suggests another
	Accept    uint32    // the value accepted from the peer
	AcceptAny bool      // accept any value from the peer
	Rec       *Recorder // if set, receives "tlu", "tld", "tls" and "tlf"

	Resets   int    // calls to Reset
	Got      uint32 // our value, once the peer acknowledged it (GotOK)
	GotOK    bool
	His      uint32 // the peer's value, once we acknowledged it (HisOK)
	HisOK    bool
	Ups      int // calls to Up (tlu)
	Downs    int // calls to Down (tld)
	Starts   int // calls to Started (tls)
	Finishes int // calls to Finished (tlf)

	NakTreatedAsReject bool // the last Naked call had rejectIfDisagree set
	RejectIfDisagree   bool // the last CheckRequest call had it set

	requesting bool
	value      uint32
	reply      ppp.Reply
	suggest    [4]byte
}

// Reset starts a fresh negotiation from Request and Want.
func (h *Handler) Reset() {
	h.Resets++
	h.requesting, h.value = h.Request, h.Want
	h.GotOK, h.HisOK = false, false
}

// Requesting reports whether our next Configure-Request carries OptValue,
// and with which value.
func (h *Handler) Requesting() (uint32, bool) { return h.value, h.requesting }

// AppendRequest appends OptValue while we request it.
func (h *Handler) AppendRequest(b []byte) []byte {
	if !h.requesting {
		return b
	}
	return ppp.AppendOptionUint32(b, OptValue, h.value)
}

// Acked commits the value requested.
func (h *Handler) Acked(opts []byte) {
	if h.requesting {
		h.Got, h.GotOK = h.value, true
	}
}

// Naked adopts the value the peer suggests for OptValue, or stops asking
// for it when rejectIfDisagree is set. Hints for other options are ignored.
func (h *Handler) Naked(opts []byte, rejectIfDisagree bool) error {
	h.NakTreatedAsReject = rejectIfDisagree
	var v uint32
	var seen bool
	r := ppp.OptionReader(opts)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		if o.Type != OptValue {
			continue
		}
		if len(o.Data) != 4 || seen {
			return errBadReply
		}
		v, seen = binary.BigEndian.Uint32(o.Data), true
	}
	if r.Err() != nil {
		return errBadReply
	}
	if !seen || !h.requesting {
		return nil
	}
	if rejectIfDisagree {
		h.requesting = false
	} else {
		h.value = v
	}
	return nil
}

// Rejected stops asking for OptValue. Every rejected option must be the
// OptValue we sent.
func (h *Handler) Rejected(opts []byte) error {
	var drop bool
	r := ppp.OptionReader(opts)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		if o.Type != OptValue || len(o.Data) != 4 || !h.requesting ||
			binary.BigEndian.Uint32(o.Data) != h.value || drop {
			return errBadReply
		}
		drop = true
	}
	if r.Err() != nil {
		return errBadReply
	}
	if drop {
		h.requesting = false
	}
	return nil
}

// CheckRequest accepts OptValue with the value Accept (or any, with
// AcceptAny), Naks it otherwise, and rejects every other option and every
// repeated one.
func (h *Handler) CheckRequest(reply, opts []byte, rejectIfDisagree bool) (ppp.Code, []byte) {
	h.RejectIfDisagree = rejectIfDisagree
	h.reply.Reset()
	var his uint32
	r := ppp.OptionReader(opts)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		switch {
		case h.reply.Duplicate(o.Type), o.Type != OptValue, len(o.Data) != 4:
			h.reply.Reject(o)
		case h.AcceptAny || binary.BigEndian.Uint32(o.Data) == h.Accept:
			his = binary.BigEndian.Uint32(o.Data)
		default:
			binary.BigEndian.PutUint32(h.suggest[:], h.Accept)
			h.reply.Nak(o, h.suggest[:], rejectIfDisagree)
		}
	}
	code, reply := h.reply.Finish(reply, opts)
	if code == ppp.CodeConfigureAck {
		h.His, h.HisOK = his, true
	}
	return code, reply
}

// Up records tlu.
func (h *Handler) Up() { h.Ups++; h.Rec.Layer("tlu") }

// Down records tld.
func (h *Handler) Down() { h.Downs++; h.Rec.Layer("tld") }

// Started records tls.
func (h *Handler) Started() { h.Starts++; h.Rec.Layer("tls") }

// Finished records tlf.
func (h *Handler) Finished() { h.Finishes++; h.Rec.Layer("tlf") }

// HandleCode implements the RXR event: it answers an Echo-Request with an
// Echo-Reply carrying the same Identifier and Data in Opened (ser), and
// silently takes Echo-Replies, Discard-Requests and Echo-Requests in other
// states. It returns false for every other code.
func (h *Handler) HandleCode(a *ppp.Automaton, pkt ppp.Packet) bool {
	switch pkt.Code() {
	case ppp.CodeEchoRequest:
		if a.State() == ppp.StateOpened {
			a.Send(ppp.CodeEchoReply, pkt.ID(), pkt.Data())
		}
		return true
	case ppp.CodeEchoReply, ppp.CodeDiscardRequest:
		return true
	}
	return false
}

// AppendOptionText prints OptValue as "value 0x2a".
func (h *Handler) AppendOptionText(b []byte, o ppp.Option) []byte {
	if o.Type != OptValue || len(o.Data) != 4 {
		return b
	}
	b = append(b, "value 0x"...)
	return strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(o.Data)), 16)
}

// AppendCodeText prints Echo and Discard packets as pppd prints LCP's:
// "magic=0x3d1981f" and any further octets.
func (h *Handler) AppendCodeText(b []byte, pkt ppp.Packet) []byte {
	switch pkt.Code() {
	case ppp.CodeEchoRequest, ppp.CodeEchoReply, ppp.CodeDiscardRequest:
	default:
		return b
	}
	d := pkt.Data()
	if len(d) < 4 {
		return b
	}
	b = append(b, "magic=0x"...)
	b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(d)), 16)
	return ppp.AppendHex(b, d[4:])
}
