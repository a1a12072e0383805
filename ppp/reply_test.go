package ppp_test

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

func TestReply(t *testing.T) {
	req := []byte{0x01, 0x04, 0x05, 0xdc, 0x03, 0x06, 0, 0, 0, 0, 0x07, 0x02}
	var r ppp.Reply

	// No verdicts: the request is acknowledged unchanged.
	if code, b := r.Finish(nil, req); code != ppp.CodeConfigureAck || !bytes.Equal(b, req) {
		t.Errorf("Finish = %v % x, want ConfAck with the request", code, b)
	}

	// A Nak suggests a value; a Reject wins over it.
	r.Reset()
	r.Nak(ppp.Option{Type: 3, Data: []byte{0, 0, 0, 0}}, []byte{10, 0, 2, 15}, false)
	if code, b := r.Finish(nil, req); code != ppp.CodeConfigureNak || !bytes.Equal(b, []byte{0x03, 0x06, 10, 0, 2, 15}) {
		t.Errorf("Finish = %v % x, want ConfNak 03 06 0a 00 02 0f", code, b)
	}
	r.Reject(ppp.Option{Type: 7, Data: []byte{}})
	if code, b := r.Finish(nil, req); code != ppp.CodeConfigureReject || !bytes.Equal(b, []byte{0x07, 0x02}) {
		t.Errorf("Finish = %v % x, want ConfRej 07 02", code, b)
	}

	// rejectIfDisagree turns a Nak into a Reject of the option as sent,
	// and drops a Nak for an option the peer did not send.
	r.Reset()
	r.Nak(ppp.Option{Type: 3, Data: []byte{0, 0, 0, 0}}, []byte{10, 0, 2, 15}, true)
	r.Nak(ppp.Option{Type: 129}, []byte{10, 0, 0, 1}, true)
	if code, b := r.Finish(nil, req); code != ppp.CodeConfigureReject || !bytes.Equal(b, []byte{0x03, 0x06, 0, 0, 0, 0}) {
		t.Errorf("Finish = %v % x, want ConfRej 03 06 00 00 00 00", code, b)
	}

	r.Reset()
	if r.Duplicate(255) || !r.Duplicate(255) || r.Duplicate(0) || !r.Duplicate(0) {
		t.Error("Duplicate does not remember types 0 and 255")
	}
	r.Reset()
	if r.Duplicate(255) {
		t.Error("Reset did not forget the types seen")
	}
}
