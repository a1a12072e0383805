package tunnel

import (
	"testing"

	"github.com/pppssh/pppssh/internal/nstest"
)

// TestMain lets the package's tests re-execute the test binary as helper
// processes inside network namespaces. Test files of this package register
// their helpers with nstest.Register; this is the package's only TestMain.
func TestMain(m *testing.M) { nstest.Main(m) }
