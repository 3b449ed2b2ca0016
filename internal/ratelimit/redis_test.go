package ratelimit_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/ratelimit"
	"github.com/cortexlayer/cortexctl/internal/ratelimit/ratelimittest"
)

// apiTimeout is the deadline internal/api gives one decision
// (api.LimiterTimeout; internal/api is not imported here).
const apiTimeout = 250 * time.Millisecond

func TestRedisContract(t *testing.T) {
	t.Parallel()
	u := ratelimittest.URL(t) // once: one message, not one per subtest, when Redis is missing
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Limiter { return ratelimittest.NewRedis(t, u) })
}

// Two limiters on one Redis, as two API replicas: one limit between them.
func TestRedisSharedBetweenInstances(t *testing.T) {
	t.Parallel()
	u := ratelimittest.URL(t)
	a, b := ratelimittest.NewRedis(t, u), ratelimittest.NewRedis(t, u)
	key := ratelimittest.Key(t)
	const rate = 10
	for i := range rate {
		l := []ratelimit.Limiter{a, b}[i%2]
		d := ratelimittest.Allow(t, l, key, rate)
		require.Equal(t, ratelimit.Decision{Allowed: true, Limit: rate, Remaining: rate - 1 - i}, d, "request %d", i+1)
	}
	ratelimittest.RequireRefused(t, ratelimittest.Allow(t, a, key, rate), rate, 5*time.Second, 6*time.Second)
	ratelimittest.RequireRefused(t, ratelimittest.Allow(t, b, key, rate), rate, 5*time.Second, 6*time.Second)
}

// The state is at cortexctl:ratelimit:<key> and expires when the bucket is
// full again; a refusal writes nothing.
func TestRedisKeyNamespacedAndExpiring(t *testing.T) {
	t.Parallel()
	u := ratelimittest.URL(t)
	l := ratelimittest.NewRedis(t, u)
	opt, err := redis.ParseURL(u)
	require.NoError(t, err)
	raw := redis.NewClient(opt)
	t.Cleanup(func() { _ = raw.Close() })

	key := ratelimittest.Key(t)
	ratelimittest.Burst(t, l, key, 2, 1)
	ttl, err := raw.PTTL(t.Context(), ratelimit.KeyPrefix+key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 29*time.Second, "full again 30s after one request at 2/min")
	require.LessOrEqual(t, ttl, 30*time.Second)
	require.Equal(t, int64(0), raw.Exists(t.Context(), key).Val(), "nothing outside the prefix")

	ratelimittest.Allow(t, l, key, 2)
	tat, err := raw.Get(t.Context(), ratelimit.KeyPrefix+key).Result()
	require.NoError(t, err)
	ratelimittest.RequireRefused(t, ratelimittest.Allow(t, l, key, 2), 2, 29*time.Second, 30*time.Second)
	after, err := raw.Get(t.Context(), ratelimit.KeyPrefix+key).Result()
	require.NoError(t, err)
	require.Equal(t, tat, after, "a refusal leaves the state as it was")
	require.Regexp(t, `^[0-9]{16}$`, after, "the state is a whole number of microseconds")
}

// closedPort returns a loopback address where nothing listens: a port bound
// and never listened on, held until t ends so that no other listener (the
// silent server beside it, another test) can take it meanwhile. A connection
// to it is refused at once.
func closedPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// silentServer returns the address of a server that accepts connections and
// never answers: a Redis that hangs.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; _ = c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// A Redis that is down or hangs, with the production defaults: NewRedis
// succeeds (the API starts), and each call fails with exitcode.Unavailable
// within the API's deadline, the first and the later ones alike: at once
// when the port is closed (no dial retries), after the 200 ms read timeout
// when Redis hangs, also for a caller that set no deadline.
//
// A call's wall time includes waiting for a CPU, which a busy machine
// (tests beside this one under -race) stretches: each call must end within
// a second (no long timeout, no retries), and the fastest within the bound.
// Not parallel with the other tests of the package, for the same reason.
func TestRedisUnavailable(t *testing.T) {
	for _, c := range []struct {
		name   string
		addr   string
		within time.Duration
	}{
		{"Down", closedPort(t), 100 * time.Millisecond},
		{"Hangs", silentServer(t), apiTimeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := "redis://default:s3cretpw@" + c.addr
			// The defaults: a pool of 8, more than the calls, so that each
			// call dials (go-redis stops dialing after PoolSize failures).
			l, err := ratelimit.NewRedis(u, ratelimit.RedisOptions{})
			require.NoError(t, err, "NewRedis does not connect")
			t.Cleanup(func() { _ = l.Close() })
			fastest := time.Hour
			for i := range 5 {
				ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
				if i == 4 {
					ctx = context.Background() // no deadline: the timeouts alone
				}
				start := time.Now()
				_, err := l.Allow(ctx, ratelimittest.Key(t), 60)
				took := time.Since(start)
				cancel()
				require.Error(t, err, "call %d", i+1)
				require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "call %d: %v", i+1, err)
				require.Less(t, took, time.Second, "call %d: %v", i+1, err)
				require.Contains(t, err.Error(), c.addr)
				require.NotContains(t, err.Error(), "s3cretpw")
				fastest = min(fastest, took)
			}
			require.Less(t, fastest, c.within, "the fastest of five calls")
			ctx, cancel := context.WithTimeout(t.Context(), apiTimeout)
			defer cancel()
			err = l.Ping(ctx)
			require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "Ping: %v", err)
		})
	}
}

// Credentials Redis refuses are a configuration error, and the password is
// not shown. (The test Redis has no password, and its default user takes any:
// an unknown user is refused.)
func TestRedisWrongPassword(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(ratelimittest.URL(t))
	require.NoError(t, err)
	u.User = url.UserPassword("cortexctl-no-such-user", "wrong-s3cret")
	l, err := ratelimit.NewRedis(u.String(), ratelimit.RedisOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	_, err = l.Allow(t.Context(), ratelimittest.Key(t), 60)
	require.Error(t, err)
	require.Equal(t, exitcode.Config, exitcode.Of(err), "%v", err)
	require.NotContains(t, err.Error(), "wrong-s3cret")
	require.Contains(t, err.Error(), "cortexctl-no-such-user:xxxxx@")
}

func TestNewRedisMalformedURL(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"",
		"http://default:s3cretpw@example.upstash.io:6379",
		"redis://default:s3cretpw@example.upstash.io:port",
		"redis://default:s3cretpw@example.upstash.io:6379/notadb",
		"redis://default:s3cretpw@example.upstash.io:6379/0/1",
		"redis://default:s3cretpw@example.upstash.io:6379?read_timeout=soon",
		"redis://default:s3cretpw@example.upstash.io:6379?password=s3cretpw",
		"rediss://default:s3c%zzretpw@example.upstash.io:6379",
		"default:s3cretpw@example.upstash.io:6379",
		"s3cretpw@example.upstash.io:6379",
	} {
		_, err := ratelimit.NewRedis(raw, ratelimit.RedisOptions{})
		require.Error(t, err, raw)
		require.Equal(t, exitcode.Config, exitcode.Of(err), "%s: %v", raw, err)
		require.NotContains(t, err.Error(), "s3cret", raw)
		require.Contains(t, err.Error(), "redis://", "says which URLs are wanted")
		if raw != "" {
			require.Contains(t, err.Error(), "example.upstash.io", "names the URL")
		}
	}
	_, err := ratelimit.NewRedis("redis://127.0.0.1:6379", ratelimit.RedisOptions{ReadTimeout: -time.Second})
	require.Equal(t, exitcode.Config, exitcode.Of(err))
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"rediss://default:pw@x.upstash.io:6379": "rediss://default:xxxxx@x.upstash.io:6379",
		"redis://:pw@127.0.0.1:6379/2":          "redis://:xxxxx@127.0.0.1:6379/2",
		"redis://127.0.0.1:6379":                "redis://127.0.0.1:6379",
		"redis://default:pw@host:port":          "redis://xxxxx@host:port",
		"default:pw@host:6379":                  "xxxxx@host:6379",
		"http://user:pw@host":                   "http://xxxxx@host",
	} {
		require.Equal(t, want, ratelimit.RedactURL(raw), raw)
	}
}

// A closed limiter's error is the caller's bug, not an outage.
func TestRedisClosed(t *testing.T) {
	t.Parallel()
	l, err := ratelimit.NewRedis("redis://"+closedPort(t), ratelimit.RedisOptions{})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	_, err = l.Allow(t.Context(), "k", 60)
	require.True(t, errors.Is(err, redis.ErrClosed), "%v", err)
	require.Equal(t, exitcode.Failed, exitcode.Of(err))
}
