package ratelimittest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/ratelimit"
	"github.com/cortexlayer/cortexctl/internal/testenv"
)

const (
	// EnvURL names the environment variable that points the tests at a
	// running Redis, e.g. redis://127.0.0.1:6380/2. It is not REDIS_URL, so
	// that a shell holding the production URL never runs the tests on it.
	EnvURL = "CORTEXCTL_TEST_REDIS_URL"
	// DefaultURL is where URL looks when EnvURL is unset: where `make test`
	// starts redis-server.
	DefaultURL = "redis://127.0.0.1:6379"
	// Service is Redis's name in testenv.EnvSkip (CORTEXCTL_TEST_SKIP=redis).
	Service = "redis"
)

// URL returns the URL of the Redis the tests use: $EnvURL if set, else
// DefaultURL. It checks that something accepts TCP connections there; if
// not, the test fails with how to start Redis (`make test` does), or is
// skipped if CORTEXCTL_TEST_SKIP lists redis (see testenv.Need). A malformed
// $EnvURL always fails.
func URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		t.Fatalf("%s=%q: want a URL such as %s", EnvURL, ratelimit.RedactURL(raw), DefaultURL)
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	host := u.Hostname()
	if host == "" {
		host = "localhost"
	}
	addr := &url.URL{Scheme: "tcp", Host: net.JoinHostPort(host, port)}
	if err := testenv.Dial(t.Context(), addr); err != nil {
		testenv.Need(t, Service, fmt.Errorf("nothing accepts connections at %s=%s: %w (set %s to where a Redis runs, "+
			`or start one yourself: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; `+
			"apt-get install redis-server installs it)", EnvURL, ratelimit.RedactURL(raw), err, EnvURL))
	}
	return raw
}

// Redis returns a limiter with TestOptions on the Redis at URL, checked with
// a PING and closed when t ends.
func Redis(t testing.TB) *ratelimit.Redis {
	t.Helper()
	return NewRedis(t, URL(t))
}

// TestOptions are the options of the limiters Redis and NewRedis return:
// looser than the defaults, which are for a production API with a 250 ms
// budget, not for a test run with -race on a busy two-core machine, where a
// goroutine may wait longer than 200 ms for a CPU. Tests of the timeouts
// themselves call ratelimit.NewRedis.
var TestOptions = ratelimit.RedisOptions{ReadTimeout: 2 * time.Second, PoolSize: 16}

// NewRedis returns a limiter with TestOptions on the Redis at rawURL,
// checked with a PING and closed when t ends.
func NewRedis(t testing.TB, rawURL string) *ratelimit.Redis {
	t.Helper()
	r, err := ratelimit.NewRedis(rawURL, TestOptions)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	require.NoError(t, r.Ping(t.Context()), "is a Redis answering at %s?", ratelimit.RedactURL(rawURL))
	return r
}
