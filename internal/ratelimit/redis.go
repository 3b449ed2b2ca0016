package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// KeyPrefix namespaces the keys Redis stores: a client's state is at
// KeyPrefix+key, and expires when the client's bucket is full again.
const KeyPrefix = "cortexctl:ratelimit:"

// URLForms says which Redis URLs NewRedis accepts, for messages that say how
// to fix one.
const URLForms = "redis://[user:password@]host:port[/db] or, with TLS (Upstash), rediss://default:password@host:port"

// Defaults of RedisOptions: short, so that a dead or slow Redis costs a
// request little more than an error (the API then serves it without a
// limit).
const (
	DefaultDialTimeout  = time.Second
	DefaultReadTimeout  = 200 * time.Millisecond
	DefaultWriteTimeout = 200 * time.Millisecond
	DefaultPoolSize     = 8
)

// RedisOptions tune NewRedis. A zero field takes the URL's query parameter
// of the same meaning (go-redis's, e.g. ?read_timeout=500ms&pool_size=16)
// if it has one, else its default. The context of each call bounds it
// further.
type RedisOptions struct {
	DialTimeout  time.Duration // connecting, TLS included (DefaultDialTimeout)
	ReadTimeout  time.Duration // waiting for an answer (DefaultReadTimeout); also how long a call waits for a free connection
	WriteTimeout time.Duration // sending a command (DefaultWriteTimeout)
	PoolSize     int           // connections kept (DefaultPoolSize)
}

// Redis is a Limiter that keeps its state in Redis, so that every process
// on one Redis shares one limit per key. Each decision is one atomic Lua
// script (EVALSHA, EVAL the first time) that reads Redis's clock (TIME), so
// processes whose clocks disagree still agree on the limit. It needs Redis 5
// or later (scripts replicated by effect), which Upstash is.
type Redis struct {
	client *redis.Client
	shown  string // the URL without its password, for messages
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter on the Redis at rawURL (see URLForms). It does
// not connect: the first call does, so a process can start while Redis is
// down. A malformed URL is an exitcode.Config error that names the URL
// without its password.
func NewRedis(rawURL string, o RedisOptions) (*Redis, error) {
	routeLogs.Do(func() { redis.SetLogger(stdLogger{}) })
	opt, shown, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	if o.DialTimeout < 0 || o.ReadTimeout < 0 || o.WriteTimeout < 0 || o.PoolSize < 0 {
		return nil, exitcode.Errorf(exitcode.Config, "redis options for %s: timeouts and pool size must not be negative", shown)
	}
	opt.DialTimeout = first(o.DialTimeout, opt.DialTimeout, DefaultDialTimeout)
	opt.ReadTimeout = first(o.ReadTimeout, opt.ReadTimeout, DefaultReadTimeout)
	opt.WriteTimeout = first(o.WriteTimeout, opt.WriteTimeout, DefaultWriteTimeout)
	opt.PoolSize = first(o.PoolSize, opt.PoolSize, DefaultPoolSize)
	opt.PoolTimeout = first(opt.PoolTimeout, opt.ReadTimeout)
	// The caller's deadline (the API's 250 ms) bounds reads and writes too,
	// not only the read and write timeouts.
	opt.ContextTimeoutEnabled = true
	// No retries: a decision is worth one try (the API serves the request
	// anyway), and a retried script could count a request twice. One dial
	// per call; after PoolSize failed dials go-redis fails at once and
	// probes Redis in the background until it answers.
	opt.MaxRetries = first(opt.MaxRetries, -1)
	opt.DialerRetries = 1
	// No extra commands on each new connection: Upstash bills per command,
	// and maintenance notifications are a Redis Enterprise feature.
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return &Redis{client: redis.NewClient(opt), shown: shown}, nil
}

// first returns the first of vs that is not zero.
func first[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// allowScript is gcra in Lua, on Redis's clock. KEYS[1] is the key;
// ARGV[1] the rate per minute; ARGV[2] the interval in microseconds. It
// returns {allowed (0 or 1), remaining, retry after in µs}. All numbers are
// whole microseconds below 2^53, exact in Lua's doubles; the stored tat is
// formatted with %.0f so that no exponent or rounding creeps in.
//
// It writes after TIME without calling redis.replicate_commands(): Redis 5
// and later replicate scripts by their effects anyway, and Upstash rejects
// that call ("not supported"), which is why go-redis/redis_rate, whose
// script makes it, is not used here.
var allowScript = redis.NewScript(`
local per_minute = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0) or 0
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * per_minute
if allow_at > now then
  return {0, 0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0}
`)

// routeLogs sends go-redis's own log lines (a failed dial, printed by its
// pool) through the standard library's logger instead of straight to
// stderr: cmdutil routes that logger into the process's zerolog, so that
// with JSON logs every line on stderr stays JSON. go-redis's logger is
// global; the first NewRedis sets it.
var routeLogs sync.Once

type stdLogger struct{}

func (stdLogger) Printf(_ context.Context, format string, v ...any) {
	log.Printf(format, v...) // go-redis starts its lines with "redis: "
}

// Allow judges one request of key against perMinute on Redis's clock. A
// Redis that cannot be reached in time is an exitcode.Unavailable error.
func (r *Redis) Allow(ctx context.Context, key string, perMinute int) (Decision, error) {
	if err := CheckRate(perMinute); err != nil {
		return Decision{}, err
	}
	res, err := allowScript.Run(ctx, r.client, []string{KeyPrefix + key}, perMinute, intervalMicros(perMinute)).Int64Slice()
	if err != nil {
		return Decision{}, r.classify("rate limit", err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("redis at %s: rate limit script answered %v, want 3 numbers", r.shown, res)
	}
	return Decision{
		Allowed:    res[0] == 1,
		Limit:      perMinute,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
	}, nil
}

// Ping checks that Redis answers (PING).
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return r.classify("ping", err)
	}
	return nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// classify says what a failed call means: exitcode.Unavailable when Redis
// could not be reached or answered too late, or says it cannot serve now
// (loading, a read-only replica, ...); exitcode.Config when it refuses the
// credentials; otherwise (a script error, a closed limiter) no code.
func (r *Redis) classify(op string, err error) error {
	var answered redis.Error
	switch {
	case errors.Is(err, redis.ErrClosed):
		return fmt.Errorf("redis at %s: %s: the limiter is closed: %w", r.shown, op, err)
	case redis.IsAuthError(err) || redis.IsPermissionError(err):
		return exitcode.New(exitcode.Config, fmt.Errorf("redis at %s refused the credentials (%s): %w", r.shown, op, err))
	case redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsClusterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.HasErrorPrefix(err, "BUSY"):
		return exitcode.New(exitcode.Unavailable, fmt.Errorf("redis at %s cannot serve (%s): %w", r.shown, op, err))
	case errors.As(err, &answered):
		return fmt.Errorf("redis at %s: %s: %w", r.shown, op, err)
	default: // network errors, timeouts, a full pool, the caller's deadline
		return exitcode.New(exitcode.Unavailable, fmt.Errorf("redis unreachable at %s (%s): %w", r.shown, op, err))
	}
}

// parseRedisURL parses a redis:// or rediss:// URL with go-redis's rules and
// returns it as shown in messages (RedactURL). Every error is
// exitcode.Config and never quotes the password.
func parseRedisURL(raw string) (*redis.Options, string, error) {
	shown := RedactURL(raw)
	bad := func(why string) error {
		return exitcode.Errorf(exitcode.Config, "invalid Redis URL %q: %s; want %s", shown, why, URLForms)
	}
	if strings.TrimSpace(raw) == "" {
		return nil, shown, exitcode.Errorf(exitcode.Config, "no Redis URL: want %s", URLForms)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's errors quote the URL, and some (a bad %-escape)
		// part of the password: give its reason only without credentials.
		var uerr *url.Error
		if strings.Contains(raw, "@") || !errors.As(err, &uerr) {
			return nil, shown, bad("it does not parse as a URL (are the host and port right, and special characters in the password %-encoded?)")
		}
		return nil, shown, bad("it does not parse as a URL: " + uerr.Err.Error())
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, shown, bad("the scheme must be redis or rediss")
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		why := err.Error()
		if pw, ok := u.User.Password(); ok && pw != "" {
			why = strings.ReplaceAll(why, pw, "xxxxx")
		}
		return nil, shown, bad(why)
	}
	return opt, shown, nil
}

var secretParam = regexp.MustCompile(`(?i)pass|secret|token|auth|key`)

// RedactURL returns a Redis URL as it may appear in logs and messages: with
// its password, if any, and the value of any query parameter whose name
// suggests a secret (password=, token=, ...) replaced by xxxxx. Of a URL that
// does not parse as redis:// or rediss://, everything before the last "@"
// after the scheme (user name included) is hidden.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "redis" || u.Scheme == "rediss") && u.Opaque == "" {
		if q := u.Query(); len(q) > 0 {
			for k := range q {
				if secretParam.MatchString(k) {
					q.Set(k, "xxxxx")
					u.RawQuery = q.Encode()
				}
			}
		}
		return u.Redacted()
	}
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	scheme, _, ok := strings.Cut(raw[:at], "://")
	if !ok {
		return "xxxxx" + raw[at:]
	}
	return scheme + "://xxxxx" + raw[at:]
}
