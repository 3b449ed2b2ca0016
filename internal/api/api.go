// Package api is the HTTP API of cortexctl: it records clients' usage,
// enforces their billing status and rate limits, takes Stripe's webhooks and
// serves the admin routes. It routes with the standard library's ServeMux;
// its stores are the packages under db/ (the admin routes call db/admin, as
// `cortexctl clients` does). The contract is docs/openapi.yaml, which the
// tests hold every response to.
package api

import (
	"context"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/ratelimit"
)

// Config is how the server behaves.
type Config struct {
	Log     zerolog.Logger
	Now     func() time.Time // the clock usage timestamps are checked against
	Version string
	// TrustedProxies are the peers (Nginx) whose CF-Connecting-IP and
	// X-Forwarded-For headers are believed.
	TrustedProxies []netip.Prefix
	// AdminKey is the bearer token of the /admin/ routes; empty turns them off.
	AdminKey string
	// WebhookSecret verifies Stripe's signatures; empty answers webhooks 503
	// (Stripe retries them for days).
	WebhookSecret string
	// MaxBody bounds a request body (DefaultMaxBody if zero).
	MaxBody int64
}

// DefaultMaxBody bounds request bodies: a batch of 1,000 events is well
// under it, and so is any Stripe event.
const DefaultMaxBody = 1 << 20

// Store is the database as the API uses it.
type Store interface {
	db.DB
	Ping(ctx context.Context) error
}

// Deps are the services the server talks to.
type Deps struct {
	DB Store
	// Limiter rate-limits clients per plan; nil: no rate limit (tests only).
	Limiter ratelimit.Limiter
	// LimiterName names the limiter's service in /readyz ("redis"); empty
	// for an in-process one, which readiness does not check.
	LimiterName string
}

// Server is the API's handler.
type Server struct {
	cfg     Config
	deps    Deps
	metrics *metrics
	handler http.Handler

	limiterWarn atomic.Int64 // when the failing limiter was last logged (unix ns)
	keys        keyCache     // POST /v1/usage's callers, by key hash
}

// New builds the server and its routes.
func New(cfg Config, deps Deps) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	s := &Server{cfg: cfg, deps: deps}
	s.metrics = newMetrics(s)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.handler(cfg.Log))
	mux.HandleFunc("POST /v1/usage", s.postUsage)
	mux.Handle("GET /v1/usage", s.client(s.getUsage))
	s.routeWebhooks(mux)
	s.routeAdmin(mux)
	s.handler = s.observe(s.methods(mux))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// methods answers what no route matches (404) or matches for another
// method only (405, with Allow) in the one error shape, where the mux would
// answer plain text. The request is routed once.
func (s *Server) methods(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &catcher{ResponseWriter: w, r: r}
		mux.ServeHTTP(c, r)
		switch c.caught {
		case http.StatusNotFound:
			s.writeError(w, r, problem(http.StatusNotFound, CodeNotFound, "no route "+r.URL.Path+": see docs/api.md for the routes"))
		case http.StatusMethodNotAllowed:
			s.writeError(w, r, problem(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+w.Header().Get("Allow")))
		}
	})
}

// catcher swallows the mux's own plain-text 404 or 405: a 404 or 405
// written while the request matched no pattern (the mux sets r.Pattern
// before it calls a handler, so a route's own 404 passes through).
type catcher struct {
	http.ResponseWriter
	r      *http.Request
	caught int
}

func (c *catcher) WriteHeader(code int) {
	if c.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		c.caught = code
		c.Header().Del("Content-Type")
		c.Header().Del("X-Content-Type-Options")
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *catcher) Write(b []byte) (int, error) {
	if c.caught != 0 {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

func (c *catcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// healthz says the process is alive; it touches nothing.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

// ReadyTimeout bounds each readiness check.
const ReadyTimeout = 2 * time.Second

type check struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// readyz says whether the API can serve: the database answers and its
// schema is this binary's, and Redis answers when it holds the rate limits.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	run := func(name string, fn func(context.Context) error) check {
		if err := fn(ctx); err != nil {
			return check{Name: name, Error: err.Error()}
		}
		return check{Name: name, OK: true}
	}
	checks := []check{
		run("database", s.deps.DB.Ping),
		run("schema", func(ctx context.Context) error { return db.CheckSchema(ctx, s.deps.DB) }),
	}
	if s.deps.Limiter != nil && s.deps.LimiterName != "" {
		checks = append(checks, run(s.deps.LimiterName, s.deps.Limiter.Ping))
	}
	status, code := "ready", http.StatusOK
	for _, c := range checks {
		if !c.OK {
			status, code = "not_ready", http.StatusServiceUnavailable
			s.cfg.Log.Warn().Str("check", c.Name).Str("error", c.Error).Msg("not ready")
		}
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}
