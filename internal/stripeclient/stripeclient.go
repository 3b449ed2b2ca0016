// Package stripeclient is the one seam between cortexctl and Stripe: it
// pushes overage charges as Stripe invoice items, finds one pushed before by
// its charge_id metadata, and verifies and reads the webhooks Stripe sends
// the API (ParseWebhook).
//
// It wraps stripe-go v85 (the stripe.Client API). Every create carries the
// caller's deterministic idempotency key, so a charge pushed twice (a retry
// after a lost answer, a re-run after a crash) exists once in Stripe, as
// long as Stripe still holds the key: it forgets keys after about 24 hours.
// A charge whose earlier push may have reached Stripe longer ago than that
// is looked up with FindInvoiceItem before it is pushed again.
// IsUnavailable tells a caller whether a failed push may simply be retried
// later with the same key, or was rejected by Stripe and needs a human; an
// unavailable error also carries exitcode.Unavailable (69) for main.
//
// Failed requests are retried here, with the same idempotency key, after a
// pause that ends when ctx does: transient failures a few times (see
// DefaultMaxNetworkRetries), rate limits (HTTP 429) more often and as long
// as Stripe asks (see DefaultMaxRateLimitRetries).
//
// stripe-go never logs to stdout or stderr through this package: its log
// lines go to the zerolog.Logger given with WithLogger, or nowhere.
//
// Tests use the helpers in the stripetest subpackage: a URL of Stripe's own
// stripe-mock, and a recording fake with failure injection.
package stripeclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/stripe/stripe-go/v85"
)

// DefaultMaxNetworkRetries is how many times a Client retries a request
// that failed transiently, unless WithMaxNetworkRetries says otherwise; so a
// call makes at most 3 attempts, plus any rate-limit retries (see
// DefaultMaxRateLimitRetries). Transient means: no answer (connection
// refused or reset, attempt timeout), an answer that is not a Stripe error
// object, HTTP 409 or HTTP 5xx; a Stripe-Should-Retry header overrides the
// status. Every retry of a create reuses the item's idempotency key, so it
// cannot create a duplicate; a list only reads. A list that takes several
// pages retries each page on its own.
//
// The retries are this package's, not stripe-go's: stripe-go v85 retries
// only network errors and undecodable answers, never a well-formed Stripe
// 409 or 5xx error, and its pause between retries ignores ctx. Here
// stripe-go's own retries are off, and the pause ends when ctx does.
const DefaultMaxNetworkRetries = 2

// DefaultMaxRateLimitRetries is how many times a Client retries a request
// that Stripe answered with HTTP 429, unless WithMaxRateLimitRetries says
// otherwise. This budget is separate from DefaultMaxNetworkRetries: under
// load (several pushes at once) Stripe's rate limiter answers 429 as a
// matter of course, and waiting is the cure. The pause is the answer's
// Retry-After header (seconds or an HTTP date, at most 60s) when present,
// else the backoff of DefaultRetryDelay. Stripe-Should-Retry: false
// still means no retry. Once the budget is spent the 429 is returned, and
// IsUnavailable reports it as unavailable. A 429 lock_timeout (a lock held
// by another request) is handled the same way.
const DefaultMaxRateLimitRetries = 6

// DefaultRetryDelay is the pause before the first retry. Each further retry
// of the same kind (transient, rate limit) waits twice as long as the one
// before, up to maxRetryDelay, less up to a quarter of random jitter. An
// answer with a Retry-After header (seconds or an HTTP date) sets the pause
// instead, up to maxRetryAfter (60s).
const DefaultRetryDelay = 500 * time.Millisecond

// maxRetryDelay caps the backoff between two attempts.
const maxRetryDelay = 5 * time.Second

// maxRetryAfter caps a pause asked for by a Retry-After header.
const maxRetryAfter = 60 * time.Second

// maxIdempotencyKeyLen is Stripe's limit on an Idempotency-Key header.
const maxIdempotencyKeyLen = 255

// ErrInvalidItem is wrapped by errors CreateInvoiceItem returns for an
// InvoiceItem it refuses to send (missing customer, currency or idempotency
// key), and by errors FindInvoiceItem returns for an empty customer or
// charge id. Such a call is a bug in the caller; nothing was sent to Stripe.
var ErrInvalidItem = errors.New("invalid invoice item")

// InvoiceItem is one overage charge to push.
type InvoiceItem struct {
	Customer       string            // Stripe customer id (cus_...)
	AmountCents    int64             // minor units
	Currency       string            // lowercase ISO code, e.g. "usd"
	Description    string            // shown on the invoice; optional
	Metadata       map[string]string // client_id, period, charge_id
	IdempotencyKey string            // deterministic per charge; sent as the Idempotency-Key header
}

// validate reports what is missing from it, in words that say how to fix it.
func (it InvoiceItem) validate() error {
	var problems []string
	if strings.TrimSpace(it.Customer) == "" {
		problems = append(problems, "customer is empty (set the Stripe customer id, cus_...)")
	}
	if strings.TrimSpace(it.Currency) == "" {
		problems = append(problems, `currency is empty (set a lowercase ISO code such as "usd")`)
	}
	key := strings.TrimSpace(it.IdempotencyKey)
	switch {
	case key == "":
		problems = append(problems, "idempotency key is empty (derive it from the charge, so a re-run reuses it)")
	case len(key) > maxIdempotencyKeyLen:
		problems = append(problems, fmt.Sprintf("idempotency key is %d bytes (Stripe allows at most %d)", len(key), maxIdempotencyKeyLen))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidItem, strings.Join(problems, "; "))
}

// Client pushes invoice items to Stripe. It is safe for concurrent use.
type Client struct {
	sc         *stripe.Client
	apiKey     string // kept only to scrub it out of error text
	configErr  error  // a bad base URL, reported by every call
	maxRetries int    // transient failures
	maxLimited int    // rate limits (HTTP 429)
	retryDelay time.Duration
	log        zerolog.Logger
}

type config struct {
	httpClient *http.Client
	maxRetries int
	maxLimited int
	retryDelay time.Duration
	logger     zerolog.Logger
}

// Option configures a Client built by New.
type Option func(*config)

// WithHTTPClient sets the HTTP client used to reach Stripe. Without it,
// stripe-go's default client is used (80s timeout per attempt).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient = hc }
}

// WithMaxNetworkRetries sets how many times a request that failed
// transiently is retried before the failure is returned (see
// DefaultMaxNetworkRetries). Zero disables retries; negative counts as zero.
func WithMaxNetworkRetries(n int) Option {
	return func(c *config) { c.maxRetries = max(n, 0) }
}

// WithMaxRateLimitRetries sets how many times a request answered with HTTP
// 429 is retried before the 429 is returned (see
// DefaultMaxRateLimitRetries). Zero disables these retries; negative counts
// as zero.
func WithMaxRateLimitRetries(n int) Option {
	return func(c *config) { c.maxLimited = max(n, 0) }
}

// WithRetryDelay sets the pause before the first retry (see
// DefaultRetryDelay) when the answer names none; tests use a tiny one.
// Non-positive values keep the default.
func WithRetryDelay(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.retryDelay = d
		}
	}
}

// WithLogger sets where the client logs. Retries are logged at warn
// (job-level fields such as run_id come from the logger's context).
// stripe-go's own log lines go there too, tagged component=stripe-go: its
// per-request chatter at debug, its failures at warn (the caller gets the
// failure as an error and decides how loud to be). Without this option
// nothing is logged.
func WithLogger(logger zerolog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// New builds a client that authenticates with apiKey. baseURL empty means
// Stripe's default API URL; otherwise it is e.g. "http://127.0.0.1:12111"
// (stripe-mock) or an httptest server URL. A malformed baseURL is reported
// by every CreateInvoiceItem and FindInvoiceItem call.
func New(apiKey, baseURL string, opts ...Option) *Client {
	cfg := config{
		maxRetries: DefaultMaxNetworkRetries,
		maxLimited: DefaultMaxRateLimitRetries,
		retryDelay: DefaultRetryDelay,
		logger:     zerolog.Nop(),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}

	bc := &stripe.BackendConfig{
		HTTPClient: cfg.httpClient, // nil: stripe-go's default client
		// withRetries retries; stripe-go retrying too would multiply
		// attempts and sleep without watching ctx.
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     newLogAdapter(cfg.logger, apiKey),
	}
	c := &Client{
		apiKey:     apiKey,
		maxRetries: cfg.maxRetries,
		maxLimited: cfg.maxLimited,
		retryDelay: cfg.retryDelay,
		log:        cfg.logger,
	}
	if baseURL != "" {
		if err := checkBaseURL(baseURL); err != nil {
			c.configErr = err
		}
		bc.URL = stripe.String(baseURL)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	// Only the API backend is set: this package calls nothing that goes
	// through the Connect, Uploads or MeterEvents backends.
	c.sc = stripe.NewClient(apiKey, stripe.WithBackends(&stripe.Backends{API: backend}))
	return c
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("stripe base URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("stripe base URL %q: want http(s)://host[:port], e.g. http://127.0.0.1:12111", raw)
	}
	return nil
}

// CreateInvoiceItem creates the invoice item and returns its Stripe id
// (ii_...). The request carries it.IdempotencyKey, so calling again with the
// same key (after a timeout, a crash, an unavailable error) returns the item
// created the first time instead of creating another, for as long as Stripe
// keeps the key (about 24 hours; see FindInvoiceItem). Transient failures
// and rate limits are retried (see DefaultMaxNetworkRetries and
// DefaultMaxRateLimitRetries) until ctx ends.
//
// On failure the error says which customer and key it was about and how
// many attempts were made, never the API key; use IsUnavailable to decide
// whether to retry later (exitcode.Of gives exitcode.Unavailable for the
// same errors), and errors.As with *stripe.Error for Stripe's own answer.
func (c *Client) CreateInvoiceItem(ctx context.Context, it InvoiceItem) (string, error) {
	op := operation{
		desc:     fmt.Sprintf("create stripe invoice item for customer %q (idempotency key %q)", it.Customer, it.IdempotencyKey),
		retryMsg: "stripe invoice item create failed; retrying",
		log:      c.log.With().Str("customer", it.Customer).Str("idempotency_key", it.IdempotencyKey).Logger(),
	}
	if c.configErr != nil {
		return "", c.newError(op.desc, 0, c.configErr, false)
	}
	if err := it.validate(); err != nil {
		return "", c.newError(op.desc, 0, err, false)
	}

	var id string
	err := c.withRetries(ctx, op, func(ctx context.Context) error {
		var err error
		id, err = c.create(ctx, it)
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// create makes one attempt. The params are built afresh each time, as
// stripe-go writes into them.
func (c *Client) create(ctx context.Context, it InvoiceItem) (string, error) {
	params := &stripe.InvoiceItemCreateParams{
		Customer: stripe.String(it.Customer),
		Amount:   stripe.Int64(it.AmountCents),
		Currency: stripe.String(it.Currency),
	}
	if it.Description != "" {
		params.Description = stripe.String(it.Description)
	}
	for k, v := range it.Metadata {
		params.AddMetadata(k, v)
	}
	params.SetIdempotencyKey(it.IdempotencyKey)

	ii, err := c.sc.V1InvoiceItems.Create(ctx, params)
	if err != nil {
		return "", err
	}
	if ii.ID == "" {
		// A 2xx that is not an invoice item: the push may or may not have
		// happened, so the same key must be tried again.
		return "", errors.New("stripe answered without an invoice item id")
	}
	return ii.ID, nil
}

// operation describes one logical call to Stripe for withRetries.
type operation struct {
	desc     string         // what was attempted, starts every error, e.g. `create stripe invoice item for customer "cus_1" (...)`
	retryMsg string         // the warn message logged before each retry
	log      zerolog.Logger // c.log with the call's fields (customer, ...)
}

// withRetries runs attempt, one Stripe request per call, until it succeeds,
// fails for good (not retryable), the retries of its kind run out or ctx
// ends. Between attempts it logs op.retryMsg at warn and pauses (see
// pauseFor). On failure it returns a *callError that names op, counts the
// attempts, and is classified for IsUnavailable.
func (c *Client) withRetries(ctx context.Context, op operation, attempt func(context.Context) error) error {
	transient, limited := 0, 0 // retries made so far, of each kind
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		kind := retryKind(err)
		used, budget := &transient, c.maxRetries
		if kind == retryRateLimited {
			used, budget = &limited, c.maxLimited
		}
		if ctx.Err() != nil || kind == noRetry || *used >= budget {
			return c.newError(op.desc, n, err, unavailable(err))
		}
		*used++
		delay := c.pauseFor(err, *used)
		op.log.Warn().
			Int("attempt", n).
			Int64("retry_in_ms", delay.Milliseconds()).
			Bool("rate_limited", kind == retryRateLimited).
			Str("error", c.scrub(describe(err))).
			Msg(op.retryMsg)
		if werr := sleep(ctx, delay); werr != nil {
			return c.newError(op.desc, n, &stoppedError{last: err, ctxErr: werr}, true)
		}
	}
}

// pauseFor is the pause before the given retry (1-based, counted among
// retries of the same kind) of an attempt that failed with err: what a
// Retry-After header asks for, else the backoff of retryDelay.
func (c *Client) pauseFor(err error, retry int) time.Duration {
	if d, ok := retryAfter(err, time.Now()); ok {
		return d
	}
	return retryDelay(c.retryDelay, retry)
}

// retryDelay is the backoff before the given retry (1-based):
// base, 2*base, 4*base... capped at maxRetryDelay, minus up to 25% jitter.
func retryDelay(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, maxRetryDelay)
	if quarter := int64(d / 4); quarter > 0 {
		d -= time.Duration(rand.Int64N(quarter))
	}
	return d
}

// sleep waits for d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
