// Package ratelimittest holds test helpers for code that limits rates
// through ratelimit: Run, the one contract suite every ratelimit.Limiter
// passes (Memory in process, Redis on a real server); Key, a key no other
// test or earlier run uses; and URL and Redis, which find the Redis the
// tests use (started by `make test`).
package ratelimittest

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/ratelimit"
)

// Key returns a key of its own for t, with a random part, so that parallel
// tests and reruns on one Redis never share state.
func Key(t testing.TB) string {
	t.Helper()
	return "test-" + strings.ToLower(rand.Text()[:12]) + "-" + t.Name()
}

// Allow calls l.Allow with t's context and requires no error.
func Allow(t testing.TB, l ratelimit.Limiter, key string, perMinute int) ratelimit.Decision {
	t.Helper()
	d, err := l.Allow(t.Context(), key, perMinute)
	require.NoError(t, err, "Allow(%q, %d)", key, perMinute)
	return d
}

// Burst calls Allow n times, requires each to be allowed with the
// remaining count going down to what is left, and returns the last decision.
func Burst(t testing.TB, l ratelimit.Limiter, key string, perMinute, n int) ratelimit.Decision {
	t.Helper()
	var d ratelimit.Decision
	for i := range n {
		d = Allow(t, l, key, perMinute)
		require.Equal(t, ratelimit.Decision{Allowed: true, Limit: perMinute, Remaining: perMinute - 1 - i}, d,
			"request %d of a burst of %d at %d a minute", i+1, n, perMinute)
	}
	return d
}

// RequireRefused requires d to be a refusal at perMinute whose RetryAfter
// lies in [min, max].
func RequireRefused(t testing.TB, d ratelimit.Decision, perMinute int, minWait, maxWait time.Duration) {
	t.Helper()
	require.False(t, d.Allowed, "refused")
	require.Equal(t, perMinute, d.Limit, "Limit")
	require.Zero(t, d.Remaining, "Remaining of a refusal")
	require.GreaterOrEqual(t, d.RetryAfter, minWait, "RetryAfter")
	require.LessOrEqual(t, d.RetryAfter, maxWait, "RetryAfter")
}

// Run runs the contract every ratelimit.Limiter keeps. open returns the
// limiter for one subtest (it may share state with other subtests' limiters:
// each subtest uses its own keys) on the real clock. The subtests run in
// parallel.
func Run(t *testing.T, open func(t *testing.T) ratelimit.Limiter) {
	// A burst of exactly perMinute, counted down; the next is refused until
	// one interval (60s/perMinute) has passed since the bucket emptied.
	t.Run("BurstThenRefused", func(t *testing.T) {
		t.Parallel()
		l, key := open(t), Key(t)
		const rate = 10 // one every 6s
		Burst(t, l, key, rate, rate)
		d := Allow(t, l, key, rate)
		RequireRefused(t, d, rate, 5*time.Second, 6*time.Second)
		// A refused request costs nothing: asking again neither waits
		// longer nor gets in.
		for range 5 {
			again := Allow(t, l, key, rate)
			RequireRefused(t, again, rate, 5*time.Second, d.RetryAfter)
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		l, a, b := open(t), Key(t), Key(t)
		Burst(t, l, a, 3, 3)
		RequireRefused(t, Allow(t, l, a, 3), 3, 19*time.Second, 20*time.Second)
		Burst(t, l, b, 3, 3) // b starts full although a is empty
		RequireRefused(t, Allow(t, l, b, 3), 3, 19*time.Second, 20*time.Second)
		RequireRefused(t, Allow(t, l, a, 3), 3, 19*time.Second, 20*time.Second)
	})

	t.Run("Rates", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		for _, rate := range []int{1, 2, 7, 30} {
			key := Key(t)
			start := time.Now()
			Burst(t, l, key, rate, rate)
			interval := ratelimit.Interval(rate) // 60s, 30s, 8.571429s, 2s
			// The wait is counted from the burst's first request.
			RequireRefused(t, Allow(t, l, key, rate), rate, interval-time.Since(start), interval)
		}
	})

	// After waiting RetryAfter, one more is allowed, and only as many more
	// as the time since then pays for.
	t.Run("RefillAfterRetryAfter", func(t *testing.T) {
		t.Parallel()
		l, key := open(t), Key(t)
		const rate = 1200
		interval := ratelimit.Interval(rate) // 50ms
		start := time.Now()
		n, refused, refusedAt := drain(t, l, key, rate)
		// The burst, and what refilled while it ran.
		require.GreaterOrEqual(t, n, rate)
		require.LessOrEqual(t, n, rate+1+int(time.Since(start)/interval), "allowed before the first refusal")
		RequireRefused(t, refused, rate, time.Microsecond, interval)

		time.Sleep(refused.RetryAfter)
		d := Allow(t, l, key, rate)
		require.True(t, d.Allowed, "allowed after waiting RetryAfter (%s)", refused.RetryAfter)
		more, _, _ := drain(t, l, key, rate)
		require.LessOrEqual(t, 1+more, 1+int(time.Since(refusedAt)/interval),
			"allowed after the wait: one, and one per interval waited beyond RetryAfter")
	})

	// Many goroutines on one key: exactly perMinute get in, each seeing a
	// different Remaining (no request is judged on a stale state).
	t.Run("ConcurrentOneKey", func(t *testing.T) {
		t.Parallel()
		l, key := open(t), Key(t)
		const rate, workers, each = 60, 16, 10 // 160 tries at one a second
		var (
			mu        sync.Mutex
			remaining []int
			refused   int
			errs      []error
			wg        sync.WaitGroup
		)
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for range each {
					d, err := l.Allow(context.Background(), key, rate)
					mu.Lock()
					switch {
					case err != nil:
						errs = append(errs, err)
					case d.Allowed:
						remaining = append(remaining, d.Remaining)
					default:
						refused++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		require.Empty(t, errs)
		require.Equal(t, workers*each, len(remaining)+refused)
		if elapsed < ratelimit.Interval(rate) {
			slices.Sort(remaining)
			want := make([]int, rate)
			for i := range want {
				want[i] = i
			}
			require.Equal(t, want, remaining, "the Remaining of the allowed requests, sorted")
		} else { // a slow machine: the bucket refilled meanwhile
			require.GreaterOrEqual(t, len(remaining), rate)
			require.LessOrEqual(t, len(remaining), rate+1+int(elapsed/ratelimit.Interval(rate)))
		}
		RequireRefused(t, Allow(t, l, key, rate), rate, time.Microsecond, time.Second)
	})

	// A rate below 1 is a bug in the caller: an error, and no state spent.
	t.Run("InvalidRate", func(t *testing.T) {
		t.Parallel()
		l, key := open(t), Key(t)
		for _, rate := range []int{0, -1, ratelimit.MaxPerMinute + 1} {
			_, err := l.Allow(t.Context(), key, rate)
			require.Error(t, err, "rate %d", rate)
			require.Contains(t, err.Error(), "per minute")
		}
		Burst(t, l, key, 2, 2)
		RequireRefused(t, Allow(t, l, key, 2), 2, 29*time.Second, 30*time.Second)
	})

	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, open(t).Ping(t.Context()))
	})
}

// drain calls Allow until it refuses, and returns how many were allowed,
// the refusal, and the time just before the call that was refused.
func drain(t *testing.T, l ratelimit.Limiter, key string, perMinute int) (int, ratelimit.Decision, time.Time) {
	t.Helper()
	for n := 0; ; n++ {
		at := time.Now()
		d := Allow(t, l, key, perMinute)
		if !d.Allowed {
			return n, d, at
		}
		require.Less(t, n, 10*perMinute, "never refused")
	}
}
