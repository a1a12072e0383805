package tunnel

// Device is the packet side of a tunnel: a kernel TUN, a userspace network
// stack, or a test double. Its methods are those of
// golang.zx2c4.com/wireguard/tun.Device that the engine uses, so a kernel TUN
// from that package satisfies it as is. Each call moves a batch of packets.
//
// The engine calls Read from one goroutine and Write from another, never
// concurrently with themselves; Close may be called from any goroutine and
// makes a blocked Read return.
type Device interface {
	// Read reads up to len(bufs) packets, each into bufs[i][offset:], and
	// sets sizes[i] to its length. It returns the number of packets read.
	// offset is at least Headroom.
	Read(bufs [][]byte, sizes []int, offset int) (n int, err error)
	// Write writes the packets bufs[i][offset:] and returns how many were
	// written. It may modify the buffers and extend them within their
	// capacity (a kernel TUN with offloads coalesces TCP segments in
	// place); when BatchSize is above 1 the engine leaves 32 KiB of room
	// in each. offset is at least Headroom.
	Write(bufs [][]byte, offset int) (int, error)
	// BatchSize returns how many packets one Read or Write should carry.
	BatchSize() int
	// Close releases the device.
	Close() error
}

// Headroom is the space the engine leaves before each packet in the buffers
// it hands a Device, for the device's own headers (a kernel TUN with offloads
// puts a virtio-net header there).
const Headroom = 16
