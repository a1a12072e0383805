// Package linecap reads and writes line captures: the octets one end of a
// PPP link wrote to its byte stream and read from it, in the order they
// went, as text. The interop tests record them against a real pppd and
// keep them in testdata; the fuzz seeds are made from them.
//
// The format is one read or write per line: "tx" for what our end wrote,
// "rx" for what it read, a space, and the octets in hexadecimal. Blank
// lines and lines starting with # are comments.
package linecap

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Record is one write (TX) or read of the byte stream.
type Record struct {
	TX   bool
	Data []byte
}

// Read reads the capture file at path.
func Read(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		dir, h, ok := strings.Cut(line, " ")
		data, err := hex.DecodeString(h)
		if !ok || (dir != "tx" && dir != "rx") || err != nil {
			return nil, fmt.Errorf("%s:%d: not a capture line (want \"tx HEX\" or \"rx HEX\"): %.40q", path, n, line)
		}
		recs = append(recs, Record{TX: dir == "tx", Data: data})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// Write writes header (comment lines, each starting with #) and recs to w.
func Write(w io.Writer, header string, recs []Record) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(header)
	for _, r := range recs {
		dir := "rx"
		if r.TX {
			dir = "tx"
		}
		fmt.Fprintf(bw, "%s %x\n", dir, r.Data)
	}
	return bw.Flush()
}

// Stream returns the octets of every record of one direction, in order.
func Stream(recs []Record, tx bool) []byte {
	var b []byte
	for _, r := range recs {
		if r.TX == tx {
			b = append(b, r.Data...)
		}
	}
	return b
}
