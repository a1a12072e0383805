// Package watchbuf is a buffer that collects what a process prints and lets
// other goroutines wait for a piece of text to appear in it.
package watchbuf

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
)

// ErrDone is returned by Wait when the done channel closed before the text
// appeared.
var ErrDone = errors.New("watchbuf: ended before the text appeared")

// Buffer is an io.Writer that keeps everything written to it. The zero value
// is ready to use; it is safe for concurrent use.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on each write
}

// Write appends p and wakes every Wait.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return n, err
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *Buffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.buf.String(), b.changed
}

// Wait waits until the buffer contains s. It returns nil when it does,
// ErrDone when done closes first (after a last look at the buffer), and
// ctx's error when ctx ends first.
func (b *Buffer) Wait(ctx context.Context, s string, done <-chan struct{}) error {
	for {
		text, changed := b.snapshot()
		if strings.Contains(text, s) {
			return nil
		}
		select {
		case <-changed:
		case <-done:
			if strings.Contains(b.String(), s) {
				return nil
			}
			return ErrDone
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
