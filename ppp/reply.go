package ppp

// Reply collects a handler's verdicts on the options of one
// Configure-Request and builds the reply RFC 1661 section 5 asks for: a
// Configure-Reject listing every unacceptable option if there is one, else a
// Configure-Nak listing every option with an acceptable value, else a
// Configure-Ack repeating the request. Handlers keep one Reply and Reset it
// for each request; its buffers are reused, so steady state allocates
// nothing.
type Reply struct {
	nak  []byte
	rej  []byte
	seen [8]uint32
}

// Reset forgets the verdicts of the previous request.
func (r *Reply) Reset() {
	r.nak = r.nak[:0]
	r.rej = r.rej[:0]
	r.seen = [8]uint32{}
}

// Duplicate records that an option of type typ was seen and reports whether
// one had been seen before in this request. Duplicate options are never
// acknowledged: handlers reject the repeat.
func (r *Reply) Duplicate(typ uint8) bool {
	w, bit := typ>>5, uint32(1)<<(typ&31)
	dup := r.seen[w]&bit != 0
	r.seen[w] |= bit
	return dup
}

// Reject records that opt is unacceptable.
func (r *Reply) Reject(opt Option) {
	r.rej = AppendOption(r.rej, opt.Type, opt.Data...)
}

// Nak records that opt (possibly absent from the request, then with nil
// Data) is acceptable only with the value suggested. When rejectIfDisagree is
// set, as it is once Max-Failure is reached, the option is rejected instead
// (an option absent from the request is then dropped).
func (r *Reply) Nak(opt Option, suggested []byte, rejectIfDisagree bool) {
	if rejectIfDisagree {
		if opt.Data != nil {
			r.Reject(opt)
		}
		return
	}
	r.nak = AppendOption(r.nak, opt.Type, suggested...)
}

// Finish appends the reply's Data to dst and returns its code: Reject, Nak,
// or Ack with request (the whole options field of the Configure-Request)
// repeated unchanged.
func (r *Reply) Finish(dst, request []byte) (Code, []byte) {
	switch {
	case len(r.rej) > 0:
		return CodeConfigureReject, append(dst, r.rej...)
	case len(r.nak) > 0:
		return CodeConfigureNak, append(dst, r.nak...)
	default:
		return CodeConfigureAck, append(dst, request...)
	}
}
