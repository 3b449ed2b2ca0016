package ratelimit

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rediss:// (Upstash) negotiates TLS with the host's name; redis:// does not.
func TestNewRedisTLS(t *testing.T) {
	t.Parallel()
	r, err := NewRedis("rediss://default:pw@eu1-fine-cat-12345.upstash.io:6379", RedisOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	opt := r.client.Options()
	require.NotNil(t, opt.TLSConfig)
	require.Equal(t, "eu1-fine-cat-12345.upstash.io", opt.TLSConfig.ServerName)
	require.GreaterOrEqual(t, opt.TLSConfig.MinVersion, uint16(tls.VersionTLS12))
	require.False(t, opt.TLSConfig.InsecureSkipVerify)
	require.Equal(t, "eu1-fine-cat-12345.upstash.io:6379", opt.Addr)
	require.Equal(t, "default", opt.Username)
	require.Equal(t, "pw", opt.Password)
	require.Equal(t, "rediss://default:xxxxx@eu1-fine-cat-12345.upstash.io:6379", r.shown)

	plain, err := NewRedis("redis://127.0.0.1:6379/3", RedisOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = plain.Close() })
	require.Nil(t, plain.client.Options().TLSConfig)
	require.Equal(t, 3, plain.client.Options().DB)
}

// Short timeouts, no retries, the caller's deadline honoured; RedisOptions
// win over the URL's parameters, which win over the defaults.
func TestNewRedisOptions(t *testing.T) {
	t.Parallel()
	r, err := NewRedis("redis://127.0.0.1:6379", RedisOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	opt := r.client.Options()
	require.Equal(t, DefaultDialTimeout, opt.DialTimeout)
	require.Equal(t, DefaultReadTimeout, opt.ReadTimeout)
	require.Equal(t, DefaultWriteTimeout, opt.WriteTimeout)
	require.Equal(t, DefaultPoolSize, opt.PoolSize)
	require.Equal(t, DefaultReadTimeout, opt.PoolTimeout)
	require.Equal(t, 0, opt.MaxRetries, "no retries (go-redis turns our -1 into 0)")
	require.Equal(t, 1, opt.DialerRetries)
	require.True(t, opt.ContextTimeoutEnabled)

	r, err = NewRedis("redis://127.0.0.1:6379?read_timeout=500ms&pool_size=3&max_retries=1", RedisOptions{DialTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	opt = r.client.Options()
	require.Equal(t, 2*time.Second, opt.DialTimeout)
	require.Equal(t, 500*time.Millisecond, opt.ReadTimeout)
	require.Equal(t, 3, opt.PoolSize)
	require.Equal(t, 1, opt.MaxRetries)

	r, err = NewRedis("redis://127.0.0.1:6379?read_timeout=500ms", RedisOptions{ReadTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	require.Equal(t, 100*time.Millisecond, r.client.Options().ReadTimeout)
}
