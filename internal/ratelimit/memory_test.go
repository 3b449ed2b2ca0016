package ratelimit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/ratelimit"
	"github.com/cortexlayer/cortexctl/internal/ratelimit/ratelimittest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	ratelimittest.Run(t, func(*testing.T) ratelimit.Limiter { return ratelimit.NewMemory(nil) })
}

// clock is a fake time source a test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func allowed(t *testing.T, l ratelimit.Limiter, key string, rate, remaining int) {
	t.Helper()
	require.Equal(t, ratelimit.Decision{Allowed: true, Limit: rate, Remaining: remaining}, ratelimittest.Allow(t, l, key, rate))
}

func refused(t *testing.T, l ratelimit.Limiter, key string, rate int, retryAfter time.Duration) {
	t.Helper()
	require.Equal(t, ratelimit.Decision{Limit: rate, RetryAfter: retryAfter}, ratelimittest.Allow(t, l, key, rate))
}

func TestMemoryRefillArithmetic(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := ratelimit.NewMemory(c.Now)
	const rate = 60 // one a second
	ratelimittest.Burst(t, m, "k", rate, rate)
	refused(t, m, "k", rate, time.Second)

	c.Add(999 * time.Millisecond)
	refused(t, m, "k", rate, time.Millisecond)
	c.Add(time.Millisecond)
	allowed(t, m, "k", rate, 0)
	refused(t, m, "k", rate, time.Second)

	// Ten seconds buy ten requests, counted down, and no more.
	c.Add(10 * time.Second)
	for i := range 10 {
		allowed(t, m, "k", rate, 9-i)
	}
	refused(t, m, "k", rate, time.Second)

	// Half an interval later: still refused, half the wait left.
	c.Add(500 * time.Millisecond)
	refused(t, m, "k", rate, 500*time.Millisecond)

	// Two idle minutes fill the bucket to the burst, not beyond.
	c.Add(2 * time.Minute)
	ratelimittest.Burst(t, m, "k", rate, rate)
	refused(t, m, "k", rate, time.Second)
}

// 60s/7 is not a whole number of microseconds: it is rounded up, so that
// seven a minute is never exceeded.
func TestMemoryIntervalRoundsUp(t *testing.T) {
	t.Parallel()
	require.Equal(t, 8571429*time.Microsecond, ratelimit.Interval(7))
	require.Equal(t, 50*time.Millisecond, ratelimit.Interval(1200))
	require.Equal(t, time.Minute, ratelimit.Interval(1))
	require.Equal(t, time.Microsecond, ratelimit.Interval(ratelimit.MaxPerMinute))

	c := newClock()
	m := ratelimit.NewMemory(c.Now)
	ratelimittest.Burst(t, m, "k", 7, 7)
	refused(t, m, "k", 7, 8571429*time.Microsecond)
	c.Add(8571428 * time.Microsecond)
	refused(t, m, "k", 7, time.Microsecond)
	c.Add(time.Microsecond)
	allowed(t, m, "k", 7, 0)
}

// A clock that steps back (NTP) grants nothing: the wait grows by the step.
func TestMemoryClockBack(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := ratelimit.NewMemory(c.Now)
	ratelimittest.Burst(t, m, "k", 2, 2)
	c.Add(-10 * time.Second)
	refused(t, m, "k", 2, 40*time.Second)
}

// Keys whose bucket is full again are dropped: the map holds about the keys
// of the last minute, however many keys came and went.
func TestMemoryEvictionBoundsMap(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := ratelimit.NewMemory(c.Now)
	const rounds, perRound = 200, 500 // 100,000 keys, 500 a second
	peak := 0
	for r := range rounds {
		for i := range perRound {
			d, err := m.Allow(t.Context(), fmt.Sprintf("client-%d-%d", r, i), 60)
			if err != nil || !d.Allowed { // not require: 100,000 calls
				t.Fatalf("a new key refused: %+v, %v", d, err)
			}
		}
		peak = max(peak, m.Len())
		c.Add(time.Second) // each key's one request is paid for after 1s
	}
	require.LessOrEqual(t, peak, 1024+2*perRound, "keys held at most, of %d", rounds*perRound)
	require.Greater(t, peak, perRound-1, "the keys of the current second are held")

	// Idle for a while: the next sweep empties the map but for the key in use.
	c.Add(time.Minute)
	for range 2048 {
		_, err := m.Allow(t.Context(), "hot", 1_000_000)
		require.NoError(t, err)
	}
	require.Equal(t, 1, m.Len())
}

// A sweep never drops a key whose bucket is still short: dropping it would
// hand the client a fresh burst.
func TestMemorySweepKeepsShortBuckets(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := ratelimit.NewMemory(c.Now)
	ratelimittest.Burst(t, m, "spent", 2, 2) // full again in 60s
	ratelimittest.Allow(t, m, "one", 2)      // full again in 30s
	c.Add(31 * time.Second)
	for range 2048 { // a sweep or two
		ratelimittest.Allow(t, m, "hot", 1_000_000)
	}
	require.Equal(t, 2, m.Len(), "kept: spent and hot; dropped: one")
	allowed(t, m, "spent", 2, 0) // one interval (30s) refilled, not the burst
	refused(t, m, "spent", 2, 29*time.Second)
	allowed(t, m, "one", 2, 1)
}

func TestMemoryClose(t *testing.T) {
	t.Parallel()
	m := ratelimit.NewMemory(nil)
	ratelimittest.Burst(t, m, "k", 1, 1)
	require.NoError(t, m.Ping(t.Context()))
	require.NoError(t, m.Close())
	require.Zero(t, m.Len())
}
