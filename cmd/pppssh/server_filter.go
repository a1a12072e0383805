package main

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pppssh/pppssh/tunnel"
)

// sourceFilter is the anti-spoofing filter of "pppssh server", in the
// manner of WireGuard's allowed IPs: a tunnel.Device around a session's TUN
// that drops, and counts, every packet from the client whose IPv4 source
// address the client was not given. Allowed are the client's link address
// (from its key's pppssh-address or pppssh-pool, which IPCP made it use)
// and the networks its key lets it route (pppssh-allow-route): the
// networks behind it. So a client can neither pose as another client nor
// as any host of the server's side.
//
// Packets from the client come off the link and are written to the TUN:
// Write filters them, on the link's reader goroutine. Packets the host
// sends to the client (Read) pass unchanged. The filter allocates nothing
// per packet: it reads the source address out of the packet in place,
// compares it as a number with the allowed ranges, and passes the kept
// packets on in a scratch slice it reuses.
type sourceFilter struct {
	tunnel.Device

	client  uint32    // the client's link address
	allowed []ipv4Net // the networks behind it
	desc    string    // what is allowed, for the log
	log     *slog.Logger
	kept    [][]byte // Write's scratch batch; Write is called from one goroutine
	lastLog time.Time

	dropped atomic.Uint64 // packets dropped so far
	lastSrc atomic.Uint32 // the source address of the last dropped packet
}

// ipv4Net is an IPv4 prefix as a network number and a mask.
type ipv4Net struct{ net, mask uint32 }

// spoofLogInterval is how often at most a session logs dropped packets.
const spoofLogInterval = 10 * time.Second

// newSourceFilter wraps dev so that only packets from client or from the
// allowed networks reach it.
func newSourceFilter(dev tunnel.Device, client netip.Addr, allowed []netip.Prefix, log *slog.Logger) *sourceFilter {
	f := &sourceFilter{
		Device: dev,
		client: addrUint32(client),
		kept:   make([][]byte, 0, max(dev.BatchSize(), 1)),
		log:    log,
	}
	desc := []string{client.String()}
	for _, p := range allowed {
		if !p.Addr().Is4() {
			continue
		}
		p = p.Masked()
		mask := uint32(0)
		if p.Bits() > 0 {
			mask = ^uint32(0) << (32 - p.Bits())
		}
		f.allowed = append(f.allowed, ipv4Net{net: addrUint32(p.Addr()), mask: mask})
		desc = append(desc, p.String())
	}
	f.desc = strings.Join(desc, ", ")
	return f
}

func addrUint32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// allows reports whether the IPv4 packet pkt (a whole header, as the
// engine checked) comes from an allowed source.
func (f *sourceFilter) allows(pkt []byte) bool {
	if len(pkt) < 20 {
		return false
	}
	src := binary.BigEndian.Uint32(pkt[12:16])
	if src == f.client {
		return true
	}
	for _, n := range f.allowed {
		if src&n.mask == n.net {
			return true
		}
	}
	f.lastSrc.Store(src)
	return false
}

// Write passes the packets from allowed sources on to the TUN and drops
// the others. It reports every packet as taken when the TUN took the kept
// ones, since a dropped packet is handled, not failed.
func (f *sourceFilter) Write(bufs [][]byte, offset int) (int, error) {
	kept := f.kept[:0]
	for _, b := range bufs {
		if f.allows(b[offset:]) {
			kept = append(kept, b) // within capacity after the first batch
		}
	}
	f.kept = kept[:0]
	dropped := len(bufs) - len(kept)
	if dropped == 0 {
		return f.Device.Write(bufs, offset)
	}
	total := f.dropped.Add(uint64(dropped))
	if now := time.Now(); now.Sub(f.lastLog) >= spoofLogInterval {
		f.lastLog = now
		f.log.Warn(fmt.Sprintf("dropped packets from the client with a forged source address (last from %s); only %s may send through this session",
			uint32Addr(f.lastSrc.Load()), f.desc), "dropped", total)
	}
	if len(kept) == 0 {
		return len(bufs), nil
	}
	n, err := f.Device.Write(kept, offset)
	if err != nil {
		return n, err
	}
	return len(bufs), nil
}

// Dropped returns how many packets the filter has dropped.
func (f *sourceFilter) Dropped() uint64 { return f.dropped.Load() }

func uint32Addr(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// addressPool hands out the clients' link addresses: a key's fixed
// pppssh-address, or a free address of its pppssh-pool (or of the server's
// default pool). An address is held by one session at a time, so no two
// clients share one. A new session for a fixed address that another
// session holds replaces that session: the key's client is reconnecting,
// most likely after its network failed, and the server has not noticed
// yet that the old session is dead. Its methods may be called from any
// goroutine.
type addressPool struct {
	mu     sync.Mutex
	inUse  map[netip.Addr]*holder
	server netip.Addr // the server's own link address, never handed out
}

// holder is the session holding an address.
type holder struct {
	who      string        // the session, for messages
	evict    func()        // ends the session
	released chan struct{} // closed when it has let go of the address
}

// evictTimeout bounds the wait for a replaced session to let go of its
// address.
const evictTimeout = 15 * time.Second

func newAddressPool(server netip.Addr) *addressPool {
	return &addressPool{inUse: make(map[netip.Addr]*holder), server: server}
}

// take reserves an address for the session who, which evict ends: fixed if
// it is valid (ending the session that holds it, and waiting until that
// one has let go), else the lowest free host address of pool (neither the
// network nor the broadcast address, nor the server's own). It fails when
// the pool is exhausted or a replaced session does not end.
func (p *addressPool) take(fixed netip.Addr, pool netip.Prefix, who string, evict func(), log *slog.Logger) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fixed.IsValid() {
		if fixed == p.server {
			return netip.Addr{}, fmt.Errorf("address %s is the server's own link address; give the key another pppssh-address", fixed)
		}
		if h, ok := p.inUse[fixed]; ok {
			log.Info(fmt.Sprintf("address %s is held by %s; ending that session: this key's client has connected again", fixed, h.who))
			p.mu.Unlock()
			h.evict()
			select {
			case <-h.released:
			case <-time.After(evictTimeout):
			}
			p.mu.Lock()
			if h, ok := p.inUse[fixed]; ok {
				return netip.Addr{}, fmt.Errorf("address %s is still held by %s, which did not end within %v", fixed, h.who, evictTimeout)
			}
		}
		p.inUse[fixed] = &holder{who: who, evict: evict, released: make(chan struct{})}
		return fixed, nil
	}
	if !pool.IsValid() {
		return netip.Addr{}, fmt.Errorf("the key has neither pppssh-address nor pppssh-pool, and the server has no --pool")
	}
	pool = pool.Masked()
	first := pool.Addr()
	if pool.Bits() < 31 {
		first = first.Next() // not the network address
	}
	for a := first; a.IsValid() && pool.Contains(a); a = a.Next() {
		if pool.Bits() < 31 && !pool.Contains(a.Next()) {
			break // the broadcast address
		}
		if a == p.server {
			continue
		}
		if _, ok := p.inUse[a]; !ok {
			p.inUse[a] = &holder{who: who, evict: evict, released: make(chan struct{})}
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in pool %s (%d sessions hold its addresses); enlarge the pool", pool, p.countIn(pool))
}

// countIn counts the held addresses within pool; p.mu is held.
func (p *addressPool) countIn(pool netip.Prefix) int {
	n := 0
	for a := range p.inUse {
		if pool.Contains(a) {
			n++
		}
	}
	return n
}

// release gives a back.
func (p *addressPool) release(a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h, ok := p.inUse[a]; ok {
		delete(p.inUse, a)
		close(h.released)
	}
}
