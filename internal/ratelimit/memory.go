package ratelimit

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is the fewest calls between two sweeps of Memory's map.
const sweepEvery = 1024

// Memory is a Limiter that keeps its state in process: the limit is this
// process's alone. Its memory is bounded by the keys seen within the last
// minute or so: a key whose bucket is full again holds no state, and is
// dropped at the next sweep. A sweep runs after max(1024, K) calls, where K
// is the number of keys the last sweep kept, so that sweeping costs O(1) a
// call and the map holds at most K + max(1024, K) keys.
type Memory struct {
	now func() time.Time

	mu    sync.Mutex
	tats  map[string]int64 // key → theoretical arrival time (unix µs), only while in the future
	calls int              // since the last sweep
	next  int              // calls until the next sweep: max(sweepEvery, keys the last one kept)
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an in-process limiter that reads the time from now
// (time.Now if nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, tats: map[string]int64{}, next: sweepEvery}
}

// Allow judges one request of key against perMinute. It fails only for a
// rate that CheckRate rejects.
func (m *Memory) Allow(_ context.Context, key string, perMinute int) (Decision, error) {
	if err := CheckRate(perMinute); err != nil {
		return Decision{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Read under the lock, so that the times the map sees never go back.
	now := m.now().UnixMicro()
	m.calls++
	if m.calls >= m.next {
		m.sweep(now)
	}
	tat, d := gcra(now, m.tats[key], perMinute)
	if d.Allowed {
		m.tats[key] = tat
	}
	return d, nil
}

// sweep drops the keys whose bucket is full again at now: gcra treats a
// tat at or before now as no state at all.
func (m *Memory) sweep(now int64) {
	for key, tat := range m.tats {
		if tat <= now {
			delete(m.tats, key)
		}
	}
	m.calls = 0
	m.next = max(sweepEvery, len(m.tats))
}

// Ping returns nil: there is no service behind Memory.
func (m *Memory) Ping(context.Context) error { return nil }

// Close drops the state. Memory stays usable, with every key's bucket full.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.tats)
	m.calls, m.next = 0, sweepEvery
	return nil
}
