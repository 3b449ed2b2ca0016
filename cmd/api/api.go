// Package api holds `cortexctl api`: it serves the HTTP API (internal/api)
// until SIGTERM or SIGINT, then stops accepting connections, finishes the
// requests in flight within --shutdown-timeout and closes the pool.
package api

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/api"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/ratelimit"
)

// Defaults of `cortexctl api`.
const (
	DefaultAddr            = ":8000"
	DefaultTrustedProxies  = "127.0.0.1/32,::1/128"
	DefaultShutdownTimeout = 25 * time.Second // under Docker's and Kubernetes' 30 s grace period
	// DefaultPoolSize is the API's pool unless the URL sets pool_max_conns:
	// enough for a replica on a small managed database.
	DefaultPoolSize = 16
	// MinAdminKeyLen is the shortest ADMIN_API_KEY accepted.
	MinAdminKeyLen = 32
)

// Options are `cortexctl api`'s inputs once validated.
type Options struct {
	Factory         *cmdutil.Factory
	Addr            string
	TrustedProxies  []netip.Prefix
	ShutdownTimeout time.Duration
	RedisURL        string // from the environment only
	AdminKey        string // from the environment only
	WebhookSecret   string // from the environment only
}

// NewCmdAPI is `cortexctl api`.
func NewCmdAPI(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	var proxies string
	cmd := &cobra.Command{
		Use:   "api [--addr HOST:PORT]",
		Short: "Serve the HTTP API: usage, client status, Stripe webhooks, admin",
		Long: `Serves CortexLayer's HTTP API until SIGTERM or SIGINT: clients record usage
(POST /v1/usage) and read their period (GET /v1/usage); Stripe's webhooks move
clients between states (POST /webhooks/stripe); operators manage clients under
/admin/. /healthz, /readyz and /metrics are for probes and Prometheus.
docs/api.md describes every route; docs/openapi.yaml is the contract.

On SIGTERM it stops accepting connections, finishes the requests in flight
(at most --shutdown-timeout) and exits 0.

Settings (a flag wins over its variable):
  --addr             API_ADDR               where to listen (default :8000)
  --trusted-proxies  API_TRUSTED_PROXIES    peers whose CF-Connecting-IP / X-Forwarded-For
                                            are believed (default loopback)
  DATABASE_URL                              PostgreSQL; the pool has 16 connections
                                            unless the URL sets pool_max_conns
  REDIS_URL                                 redis:// or rediss:// (Upstash): rate limits shared
                                            by every replica; unset: per process
  ADMIN_API_KEY                             bearer key of /admin/ (at least 32 characters);
                                            unset: the admin routes are off
  STRIPE_WEBHOOK_SECRET                     whsec_… of the Stripe endpoint; unset: webhooks
                                            are answered 503 (Stripe retries them)

The database must be migrated to this binary's schema (exit 78 otherwise).`,
		Example: `  DATABASE_URL=postgres://cortexctl@db:5432/cortexlayer cortexctl api
  cortexctl api --addr 127.0.0.1:8000 --trusted-proxies 10.0.0.0/8,172.16.0.0/12`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			opts.Addr = cmdutil.EnvOr(opts.Addr, fl.Changed("addr"), f.Env, cmdutil.EnvAPIAddr, DefaultAddr)
			if err := checkAddr(opts.Addr, fl.Changed("addr")); err != nil {
				return err
			}
			proxies = cmdutil.EnvOr(proxies, fl.Changed("trusted-proxies"), f.Env, cmdutil.EnvTrustedProxies, DefaultTrustedProxies)
			p, err := api.ParseProxies(proxies)
			if err != nil {
				return exitcode.Errorf(exitcode.Usage, "invalid %s: %v", source(fl.Changed("trusted-proxies"), "--trusted-proxies", cmdutil.EnvTrustedProxies), err)
			}
			opts.TrustedProxies = p
			if opts.ShutdownTimeout <= 0 || opts.ShutdownTimeout > 10*time.Minute {
				return exitcode.Errorf(exitcode.Usage, "invalid --shutdown-timeout %s: use a duration from 1s to 10m, e.g. 25s", opts.ShutdownTimeout)
			}
			opts.RedisURL = strings.TrimSpace(f.Env(cmdutil.EnvRedisURL))
			opts.AdminKey = f.Env(cmdutil.EnvAdminAPIKey)
			if opts.AdminKey != "" && len(opts.AdminKey) < MinAdminKeyLen {
				return exitcode.Errorf(exitcode.Config, "%s is %d characters: use at least %d random ones (e.g. `openssl rand -hex 32`), or unset it to turn the admin routes off",
					cmdutil.EnvAdminAPIKey, len(opts.AdminKey), MinAdminKeyLen)
			}
			opts.WebhookSecret = f.Env(cmdutil.EnvStripeWebhookSecret)
			if opts.WebhookSecret != "" && !strings.HasPrefix(opts.WebhookSecret, "whsec_") {
				return exitcode.Errorf(exitcode.Config, "%s does not start with whsec_: copy the endpoint's signing secret from Stripe's dashboard (Developers → Webhooks)",
					cmdutil.EnvStripeWebhookSecret)
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", DefaultAddr, "where to listen, HOST:PORT or :PORT ($"+cmdutil.EnvAPIAddr+")")
	cmd.Flags().StringVar(&proxies, "trusted-proxies", DefaultTrustedProxies, "comma-separated addresses and CIDR ranges of the proxies in front ($"+cmdutil.EnvTrustedProxies+")")
	cmd.Flags().DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "on SIGTERM, how long requests in flight may take to finish")
	return cmd
}

func source(flag bool, flagName, env string) string {
	if flag {
		return flagName
	}
	return env
}

// checkAddr refuses an address net.Listen would not take, before dialling
// anything: HOST:PORT or :PORT with a numeric port.
func checkAddr(addr string, fromFlag bool) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
			err = errors.New("bad port")
		}
	}
	if err != nil {
		return exitcode.Errorf(exitcode.Usage, "invalid %s %q: use HOST:PORT or :PORT, e.g. :8000 or 127.0.0.1:8000", source(fromFlag, "--addr", cmdutil.EnvAPIAddr), addr)
	}
	return nil
}

func run(ctx context.Context, opts *Options) error {
	f := opts.Factory
	log := f.Log()
	f.AppName, f.PoolMaxConns = "cortexctl-api", DefaultPoolSize
	f.SetStopping("stopping: no new connections, finishing the requests in flight (at most --shutdown-timeout); send SIGINT again to abort at once")
	pool, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	limiter, limiterName, err := openLimiter(opts, f)
	if err != nil {
		return err
	}
	defer func() { _ = limiter.Close() }()
	srv := api.New(api.Config{
		Log: log, Now: f.Now, Version: f.Build.Version,
		TrustedProxies: opts.TrustedProxies, AdminKey: opts.AdminKey, WebhookSecret: opts.WebhookSecret,
	}, api.Deps{DB: pool, Limiter: limiter, LimiterName: limiterName})
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second, // above Nginx's upstream keepalive_timeout
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(logWriter{f}, "", 0),
		// Requests in flight are not cancelled by the signal: Shutdown waits for them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return exitcode.Errorf(exitcode.Config, "cannot listen on %s: %v", opts.Addr, err)
	}
	rates := "in-process (per replica)"
	if limiterName != "" {
		rates = limiterName
	}
	log.Info().Str("addr", ln.Addr().String()).Str("version", f.Build.Version).Str("database", pool.Name()).
		Str("rate_limits", rates).Bool("admin_routes", opts.AdminKey != "").Bool("webhooks", opts.WebhookSecret != "").
		Msg("listening")
	if opts.WebhookSecret == "" {
		log.Warn().Msg(cmdutil.EnvStripeWebhookSecret + " is not set: Stripe webhooks are answered 503 until it is")
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	log.Info().Str("cause", context.Cause(ctx).Error()).Str("deadline", opts.ShutdownTimeout.String()).
		Msg("shutting down: no new connections; finishing the requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), opts.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("requests still in flight after --shutdown-timeout %s were cut off", opts.ShutdownTimeout)
	}
	log.Info().Msg("stopped: every request in flight was answered")
	return nil
}

// openLimiter is Redis when REDIS_URL is set, else in process.
func openLimiter(opts *Options, f *cmdutil.Factory) (ratelimit.Limiter, string, error) {
	if opts.RedisURL == "" {
		return ratelimit.NewMemory(f.Now), "", nil
	}
	r, err := ratelimit.NewRedis(opts.RedisURL, ratelimit.RedisOptions{})
	if err != nil {
		return nil, "", err
	}
	return r, "redis", nil
}

// logWriter sends net/http's own complaints (TLS handshakes, bad requests
// it answers itself) to the log at debug level.
type logWriter struct{ f *cmdutil.Factory }

func (w logWriter) Write(p []byte) (int, error) {
	log := w.f.Log()
	log.Debug().Str("component", "http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
