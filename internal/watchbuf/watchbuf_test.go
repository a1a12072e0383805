package watchbuf

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	var b Buffer
	go func() {
		for i := range 5 {
			fmt.Fprintf(&b, "line %d\n", i)
		}
	}()
	if err := b.Wait(context.Background(), "line 4\n", nil); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "line 0\nline 1\nline 2\nline 3\nline 4\n" {
		t.Errorf("String() = %q", got)
	}

	done := make(chan struct{})
	close(done)
	if err := b.Wait(context.Background(), "never", done); !errors.Is(err, ErrDone) {
		t.Errorf("Wait after done = %v, want ErrDone", err)
	}
	if err := b.Wait(context.Background(), "line 2", done); err != nil {
		t.Errorf("Wait for present text after done = %v, want nil", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx, "never", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past the deadline = %v, want DeadlineExceeded", err)
	}
}
