// Package ratelimit limits requests per key (a client) to a rate per minute,
// in process or in Redis so that several API replicas share one limit.
//
// Both backends run the same rule, GCRA (the generic cell rate algorithm, a
// token bucket kept as one timestamp per key): a key may spend its whole
// minute at once (burst = perMinute), and after that gets one request every
// 60s/perMinute. A refused request costs nothing. Memory keeps the state in
// process (one API replica, tests, the demo); Redis keeps it in Redis with
// Redis's own clock, so that every replica on one Redis shares one limit.
//
// Time is counted in whole microseconds, the resolution of Redis's TIME: a
// request costs Interval(perMinute), 60s/perMinute rounded up to a
// microsecond, so neither backend ever admits more than perMinute a minute.
package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Decision is the answer to one request.
type Decision struct {
	Allowed    bool
	Limit      int           // the rate per minute the request was judged against
	Remaining  int           // requests still allowed at once
	RetryAfter time.Duration // when refused: how long until one more is allowed
}

// Limiter decides whether one more request of key fits perMinute.
type Limiter interface {
	Allow(ctx context.Context, key string, perMinute int) (Decision, error)
	// Ping checks the limiter's backing service (nil in process).
	Ping(ctx context.Context) error
	Close() error
}

// MaxPerMinute is the highest rate Allow accepts: one request per
// microsecond, the resolution the limiters count time in.
const MaxPerMinute = 60_000_000

// Interval is the time one request costs at perMinute: 60s/perMinute
// rounded up to a whole microsecond. perMinute must be valid (see
// CheckRate).
func Interval(perMinute int) time.Duration {
	return time.Duration(intervalMicros(perMinute)) * time.Microsecond
}

func intervalMicros(perMinute int) int64 {
	const minute = int64(time.Minute / time.Microsecond)
	return (minute + int64(perMinute) - 1) / int64(perMinute)
}

// CheckRate rejects a rate Allow cannot judge by: below 1 (a plan's rate is
// at least 1; anything else is a bug in the caller) or above MaxPerMinute.
func CheckRate(perMinute int) error {
	if perMinute < 1 || perMinute > MaxPerMinute {
		return fmt.Errorf("rate limit of %d requests per minute: want 1 to %d", perMinute, MaxPerMinute)
	}
	return nil
}

// gcra judges one request at now, given the key's theoretical arrival time
// tat (0 for a key without state), both in microseconds. It returns the tat
// to store (when allowed) and the decision. The Lua script in redis.go is a
// line-by-line copy of it.
//
// tat is when the key's bucket is full again; a request moves it one
// interval later. A request is allowed when the new tat is at most
// perMinute intervals ahead of now.
func gcra(now, tat int64, perMinute int) (int64, Decision) {
	interval := intervalMicros(perMinute)
	tat = max(tat, now)
	newTAT := tat + interval
	allowAt := newTAT - interval*int64(perMinute)
	if allowAt > now {
		return tat, Decision{Limit: perMinute, RetryAfter: time.Duration(allowAt-now) * time.Microsecond}
	}
	return newTAT, Decision{Allowed: true, Limit: perMinute, Remaining: int((now - allowAt) / interval)}
}
