package ppp

// Configuration options are Type-Length-Data triples (RFC 1661 section 6):
// one octet Type, one octet Length counting Type, Length and Data, then
// Length-2 octets of Data. An option whose Length is below 2 or runs past
// the end of the packet makes the whole packet invalid.

// Option is one configuration option of a Configure-* packet. Data aliases
// the packet it was read from.
type Option struct {
	Type uint8
	Data []byte
}

// Len returns the option's encoded length, including Type and Length.
func (o Option) Len() int { return 2 + len(o.Data) }

// CheckOptions reports ErrMalformed unless b is a sequence of well-formed
// options that ends exactly at the end of b. Call it once on a packet's data
// before walking it with OptionReader, so a packet is judged whole.
func CheckOptions(b []byte) error {
	for len(b) > 0 {
		if len(b) < 2 {
			return ErrMalformed
		}
		n := int(b[1])
		if n < 2 || n > len(b) {
			return ErrMalformed
		}
		b = b[n:]
	}
	return nil
}

// OptionReader walks the options of a Configure-* packet without allocating:
//
//	r := ppp.OptionReader(data)
//	for opt, ok := r.Next(); ok; opt, ok = r.Next() { … }
//	if r.Err() != nil { … the packet is malformed … }
//
// A malformed option stops the walk and sets Err.
type OptionReader []byte

// Next returns the next option and true, or false at the end of the options
// or at the first malformed one (see Err).
func (r *OptionReader) Next() (Option, bool) {
	b := *r
	if len(b) < 2 {
		return Option{}, false
	}
	n := int(b[1])
	if n < 2 || n > len(b) {
		return Option{}, false
	}
	*r = b[n:]
	return Option{Type: b[0], Data: b[2:n:n]}, true
}

// Err returns ErrMalformed if the walk stopped at a malformed option, and nil
// if every option was read.
func (r OptionReader) Err() error {
	if len(r) != 0 {
		return ErrMalformed
	}
	return nil
}

// AppendOption appends an option with the given type and data to dst.
// The caller keeps len(data) within 253.
func AppendOption(dst []byte, typ uint8, data ...byte) []byte {
	dst = append(dst, typ, byte(2+len(data)))
	return append(dst, data...)
}

// AppendOptionUint16 appends an option carrying a 16-bit value in network
// byte order (MRU, Authentication-Protocol, IP-Compression-Protocol).
func AppendOptionUint16(dst []byte, typ uint8, v uint16) []byte {
	return append(dst, typ, 4, byte(v>>8), byte(v))
}

// AppendOptionUint32 appends an option carrying a 32-bit value in network
// byte order (ACCM, Magic-Number, IP-Address).
func AppendOptionUint32(dst []byte, typ uint8, v uint32) []byte {
	return append(dst, typ, 6, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
