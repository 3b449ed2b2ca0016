package ratelimit

// Len returns the number of keys Memory holds state for.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tats)
}
