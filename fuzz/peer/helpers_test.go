package peer

import (
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/link"
)

// linkTarget is a Target whose peer is our own link, run in this process
// on the far end of a net.Pipe: the suite and the fuzzer must find nothing
// wrong with it. cfg is the peer's configuration (IPCP addresses from
// 192.0.2.0/24 by default). Every link started is waited for in t.Cleanup.
type linkTarget struct {
	t   testing.TB
	cfg link.Config

	mu    sync.Mutex
	wg    sync.WaitGroup
	ended []error // why each link ended, in the order they ended
}

func newLinkTarget(t testing.TB, cfg link.Config) *linkTarget {
	if !cfg.IPCP.Local.IsValid() && !cfg.IPCP.Remote.IsValid() {
		cfg.IPCP = ipcp.Config{Local: netip.MustParseAddr("192.0.2.1"), Remote: netip.MustParseAddr("192.0.2.2")}
	}
	lt := &linkTarget{t: t, cfg: cfg}
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { lt.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("linkTarget: a link did not end 30 s after its line closed")
		}
	})
	return lt
}

func (lt *linkTarget) String() string { return "our link (in process)" }

func (lt *linkTarget) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	ours, theirs := net.Pipe()
	l := link.New(ours, lt.cfg)
	lt.wg.Add(1)
	go func() {
		defer lt.wg.Done()
		err := l.Run(context.Background())
		lt.mu.Lock()
		lt.ended = append(lt.ended, err)
		lt.mu.Unlock()
	}()
	return theirs, nil
}

// endings returns why the links started so far ended.
func (lt *linkTarget) endings() []error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return append([]error(nil), lt.ended...)
}
