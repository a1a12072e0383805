package interop

import (
	"testing"

	"github.com/pppssh/pppssh/internal/nstest"
)

// TestMain lets the test binary run as the helper processes of the engine
// tests (see nstest.Register).
func TestMain(m *testing.M) { nstest.Main(m) }
