// Package ratelimit limits requests per key (a client) to a rate per minute,
// in process or in Redis so that several API replicas share one limit.
package ratelimit

import (
	"context"
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
