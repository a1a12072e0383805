package linecap

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// roundTrip writes recs and reads them back.
func roundTrip(t *testing.T, recs []Record) []Record {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, "# a capture\n", recs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "capture.txt")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	recs := []Record{{TX: true, Data: []byte{0x7e, 0xff, 0x03}}, {Data: []byte{0x7e}}, {TX: true, Data: []byte{1, 2, 3}}}
	if diff := cmp.Diff(recs, roundTrip(t, recs)); diff != "" {
		t.Errorf("read back (-wrote +read):\n%s", diff)
	}
	if got := Stream(recs, true); !bytes.Equal(got, []byte{0x7e, 0xff, 0x03, 1, 2, 3}) {
		t.Errorf("Stream(tx) = % x", got)
	}
}

func TestReadErrors(t *testing.T) {
	for _, bad := range []string{"tx 7e\nxx 01\n", "tx 7g\n", "rx\n"} {
		path := filepath.Join(t.TempDir(), "capture.txt")
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "capture.txt:") {
			t.Errorf("Read(%q) = %v, want an error naming the file and line", bad, err)
		}
	}
}

// FuzzRead checks that Read takes any file without panicking, and that
// what it reads writes out and reads back the same.
func FuzzRead(f *testing.F) {
	f.Add([]byte("# x\ntx 7eff037e\n\nrx 7e\n"))
	f.Add([]byte("tx zz\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		path := filepath.Join(t.TempDir(), "capture.txt")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := Read(path)
		if err != nil {
			return
		}
		again := roundTrip(t, recs)
		if len(again) != len(recs) {
			t.Fatalf("%d records, %d after a round trip", len(recs), len(again))
		}
		for i := range recs {
			if recs[i].TX != again[i].TX || !bytes.Equal(recs[i].Data, again[i].Data) {
				t.Fatalf("record %d changed in a round trip", i)
			}
		}
	})
}
