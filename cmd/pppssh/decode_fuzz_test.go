package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"unicode/utf8"
)

// FuzzDecode runs "pppssh decode" on arbitrary octets, as a capture file:
// it must not fail or panic, must print only printable lines (text the far
// end printed is quoted, UTF-8 kept), and
// print no more than a few lines' worth per octet.
func FuzzDecode(f *testing.F) {
	if raw, err := os.ReadFile("../../hdlc/testdata/pppd-2.4.9-tx.raw"); err == nil {
		f.Add(raw, false)
	}
	f.Add([]byte("sudo: a password is required\n~\xff\x03\xc0\x21\x01\x01\x00\x04~"), false)
	f.Add([]byte{0x7e, 0x21, 0x45, 0x00, 0x7e}, true)
	f.Fuzz(func(t *testing.T, raw []byte, fcs32 bool) {
		path := filepath.Join(t.TempDir(), "line.raw")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{path}
		if fcs32 {
			args = []string{"--fcs32", path}
		}
		var out, errOut bytes.Buffer
		if code := runDecode(args, &out, &errOut); code != exitOK || errOut.Len() > 0 {
			t.Fatalf("exit %d, standard error %q", code, errOut.String())
		}
		for i, r := range out.String() {
			if r != '\n' && (r == utf8.RuneError || !strconv.IsPrint(r)) {
				t.Fatalf("%q at %d of the output: %q", r, i, out.String())
			}
		}
		if limit := 16*len(raw) + 512; out.Len() > limit {
			t.Fatalf("%d octets of output for %d of input", out.Len(), len(raw))
		}
	})
}
