package sshtransport

import (
	"context"
	"io"
	"strconv"
	"testing"
)

// BenchmarkStream measures one-way throughput of a Stream from Dial's
// client to the built-in server over loopback, with the ciphers both
// prefer (see Ciphers). It reports the negotiated cipher in its name.
func BenchmarkStream(b *testing.B) {
	for _, size := range []int{1500, 32 << 10} {
		key := newUserKey(b, b.TempDir(), "id_bench", "")
		ts := startServer(b, ServerConfig{}, key.pubLine, func(_ context.Context, sess *Session) error {
			_, err := io.Copy(io.Discard, sess)
			return err
		})
		cfg := testClientConfig(b, ts.knownHosts, key.file)
		c, err := Dial(context.Background(), "u@"+ts.addr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		st, err := c.Exec(context.Background(), ExecOptions{Args: []string{"sink"}})
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, size)
		b.Run(Ciphers()[0]+"/"+sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		st.CloseWrite()
		st.Wait()
		c.Close()
	}
}

func sizeName(n int) string {
	if n%(1<<10) == 0 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
