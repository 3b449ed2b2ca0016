package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/cortexlayer/cortexctl/internal/ratelimit"
	"github.com/cortexlayer/cortexctl/internal/ratelimit/ratelimittest"
)

// The benchmarks judge requests of 10,000 clients in turn, at a rate high
// enough that each is allowed: an allowed request writes the state, a
// refused one only reads it.
//
//	go test -run '^$' -bench . -benchmem ./internal/ratelimit/
const (
	benchKeys = 10_000
	benchRate = 10_000_000
)

func benchKeyNames(prefix string) []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	return keys
}

func benchAllow(b *testing.B, l ratelimit.Limiter, prefix string) {
	keys := benchKeyNames(prefix)
	ctx := context.Background()
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if _, err := l.Allow(ctx, keys[i%benchKeys], benchRate); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMemoryAllow: -cpu 1 is one caller; more CPUs contend for the lock.
func BenchmarkMemoryAllow(b *testing.B) {
	benchAllow(b, ratelimit.NewMemory(nil), "client-")
}

// BenchmarkRedisAllow: one round trip (EVALSHA) per call to the Redis the
// tests use; -cpu N is N concurrent callers sharing the pool.
func BenchmarkRedisAllow(b *testing.B) {
	benchAllow(b, ratelimittest.Redis(b), ratelimittest.Key(b)+"-")
}
