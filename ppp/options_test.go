package ppp_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/ppp"
)

func TestOptionReader(t *testing.T) {
	// pppd's LCP Configure-Request options: asyncmap, magic, pcomp, accomp.
	data := []byte{0x02, 0x06, 0, 0, 0, 0, 0x05, 0x06, 0x03, 0xd1, 0x98, 0x1f, 0x07, 0x02, 0x08, 0x02}
	var got []ppp.Option
	r := ppp.OptionReader(data)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		got = append(got, o)
	}
	want := []ppp.Option{
		{Type: 2, Data: []byte{0, 0, 0, 0}},
		{Type: 5, Data: []byte{0x03, 0xd1, 0x98, 0x1f}},
		{Type: 7, Data: []byte{}},
		{Type: 8, Data: []byte{}},
	}
	if diff := cmp.Diff(want, got); diff != "" || r.Err() != nil || ppp.CheckOptions(data) != nil {
		t.Errorf("options (-want +got):\n%s\nErr %v, CheckOptions %v", diff, r.Err(), ppp.CheckOptions(data))
	}
	if got[2].Len() != 2 || got[1].Len() != 6 {
		t.Errorf("Len = %d, %d; want 2, 6", got[2].Len(), got[1].Len())
	}
}

func TestMalformedOptions(t *testing.T) {
	for name, b := range map[string][]byte{
		"lone type":       {1},
		"length 0":        {1, 0},
		"length 1":        {1, 1, 0},
		"overrun":         {1, 4, 0},
		"overrun later":   {7, 2, 1, 5, 0, 0},
		"trailing octet":  {7, 2, 8},
		"length 255 of 3": {1, 255, 0},
	} {
		if err := ppp.CheckOptions(b); !errors.Is(err, ppp.ErrMalformed) {
			t.Errorf("%s: CheckOptions(% x) = %v, want ErrMalformed", name, b, err)
		}
		r := ppp.OptionReader(b)
		for _, ok := r.Next(); ok; _, ok = r.Next() {
		}
		if !errors.Is(r.Err(), ppp.ErrMalformed) {
			t.Errorf("%s: OptionReader.Err = %v, want ErrMalformed", name, r.Err())
		}
	}
	if err := ppp.CheckOptions(nil); err != nil {
		t.Errorf("CheckOptions(nil) = %v, want nil", err)
	}
}

func TestAppendOptions(t *testing.T) {
	var b []byte
	b = ppp.AppendOptionUint16(b, 1, 1500)
	b = ppp.AppendOptionUint32(b, 5, 0x1305b050)
	b = ppp.AppendOption(b, 7)
	b = ppp.AppendOption(b, 2, 0x00, 0x2d, 0x0f, 0x01)
	want := []byte{0x01, 0x04, 0x05, 0xdc, 0x05, 0x06, 0x13, 0x05, 0xb0, 0x50, 0x07, 0x02, 0x02, 0x06, 0x00, 0x2d, 0x0f, 0x01}
	if !bytes.Equal(b, want) {
		t.Errorf("got % x, want % x", b, want)
	}
}
