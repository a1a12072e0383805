package tunnel

import (
	"sync/atomic"

	"github.com/pppssh/pppssh/link"
)

// Status is a snapshot of an Engine, safe to take from any goroutine: the
// link's phase, negotiated options, echo round-trip times and counters
// (link.Status), and the device side's counters.
type Status struct {
	link.Status

	// MTU is the interface MTU while IPCP is Opened (the peer's MRU,
	// capped by Config.MTU), 0 otherwise.
	MTU int
	// HostUp says Host.Up succeeded and Host.Down has not been called
	// since.
	HostUp bool
	// Device counts what the engine moved to and from the Device.
	Device DeviceCounters
}

// DeviceCounters counts the device side of an Engine since New. Each field
// is read atomically, but the fields are not read at one instant.
type DeviceCounters struct {
	// Packets and octets read from the device (all of them, dropped ones
	// included) and written to it (those the device took).
	PacketsRead, PacketsWritten uint64
	BytesRead, BytesWritten     uint64
	// Reads and Writes count the device calls that moved packets:
	// PacketsRead/Reads and PacketsWritten/Writes are the mean batches.
	Reads, Writes uint64

	// DropNotIP counts packets read from the device that are neither
	// IPv4 nor IPv6. (IPv6 packets while IPV6CP is not Opened are dropped
	// by the link: link.Counters.DropNotOpen.)
	DropNotIP uint64
	// DropMalformed counts IP packets shorter than their header or than
	// the length it gives: read from the device (truncated by a buffer
	// too small for the interface MTU) or received from the peer (also
	// an IPv4 frame not carrying IPv4, or an IPv6 frame not IPv6).
	DropMalformed uint64
	// DropWrite counts packets the device failed to take.
	DropWrite uint64
	// ReadErrors counts failed device reads the engine carried on after.
	ReadErrors uint64
	// MSSClamped counts TCP SYNs whose MSS option was lowered (ClampMSS),
	// both directions.
	MSSClamped uint64
}

// deviceCounters is DeviceCounters with atomic fields. The pump and the
// receiver each add their counts once per batch.
type deviceCounters struct {
	packetsRead, packetsWritten atomic.Uint64
	bytesRead, bytesWritten     atomic.Uint64
	reads, writes               atomic.Uint64
	dropNotIP, dropMalformed    atomic.Uint64
	dropWrite, readErrors       atomic.Uint64
	mssClamped                  atomic.Uint64
}

func (c *deviceCounters) snapshot() DeviceCounters {
	return DeviceCounters{
		PacketsRead:    c.packetsRead.Load(),
		PacketsWritten: c.packetsWritten.Load(),
		BytesRead:      c.bytesRead.Load(),
		BytesWritten:   c.bytesWritten.Load(),
		Reads:          c.reads.Load(),
		Writes:         c.writes.Load(),
		DropNotIP:      c.dropNotIP.Load(),
		DropMalformed:  c.dropMalformed.Load(),
		DropWrite:      c.dropWrite.Load(),
		ReadErrors:     c.readErrors.Load(),
		MSSClamped:     c.mssClamped.Load(),
	}
}

// addCount adds a non-zero count to c; a zero one costs no atomic operation.
func addCount(c *atomic.Uint64, n int) {
	if n != 0 {
		c.Add(uint64(n))
	}
}
