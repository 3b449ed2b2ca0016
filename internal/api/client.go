package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cortexlayer/cortexctl/db/usage"
	"github.com/cortexlayer/cortexctl/internal/apikey"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// LimiterTimeout bounds one rate-limit decision: a slow Redis must not
// become a slow API.
const LimiterTimeout = 250 * time.Millisecond

// bearer is the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func unauthorized(w http.ResponseWriter, msg string) *Problem {
	w.Header().Set("WWW-Authenticate", `Bearer realm="cortexlayer"`)
	return problem(http.StatusUnauthorized, CodeUnauthorized, msg)
}

// refusals say, per disable reason, why a client is refused and what to do.
var refusals = map[string]string{
	billing.ReasonHardCap:      "this month's usage is beyond the plan's hard cap; upgrade the plan or contact support (access returns with the next billing period)",
	billing.ReasonGraceExpired: "the last invoice is unpaid and the 7-day grace period has ended; pay the open invoice in the billing portal to restore access at once",
	billing.ReasonAdmin:        "the account was disabled by CortexLayer; contact support",
}

// GraceWarning is the Warning header a client in grace is served with.
const GraceWarning = `299 cortexlayer "payment failed: pay the open invoice within the grace period or access will be disabled"`

// client authenticates the caller by its API key, refuses a disabled or
// cancelled client (403) and one over its plan's rate limit (429), and
// calls h with the caller. The key and the status are read afresh on every
// request.
func (s *Server) client(h func(http.ResponseWriter, *http.Request, usage.Caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.identify(w, r, false)
		c := id.Caller
		if err == nil {
			err = s.admit(w, c)
		}
		if err == nil {
			err = s.rateLimit(w, r, c)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, c)
	})
}

// identify finds the caller of a request by its bearer key. With cached,
// a caller seen in the last KeyCacheTTL is taken from memory: its plan's
// rate limit is then up to that old, and its key and status are not
// checked here, so the caller must have its store check them (usage.Record
// does, in the statement that writes).
func (s *Server) identify(w http.ResponseWriter, r *http.Request, cached bool) (identity, error) {
	token, ok := bearer(r)
	if !ok {
		return identity{}, unauthorized(w, "no API key: send it as Authorization: Bearer ck_live_…")
	}
	if err := apikey.Check(token); err != nil {
		return identity{}, unauthorized(w, err.Error())
	}
	id := identity{KeyHash: apikey.Hash(token)}
	if cached {
		if c, ok := s.keys.get(id.KeyHash); ok {
			id.Caller = c
			reqInfo(r.Context()).clientID = c.ClientID.String()
			return id, nil
		}
	}
	c, err := usage.Authenticate(r.Context(), s.deps.DB, id.KeyHash)
	if errors.Is(err, usage.ErrUnknownKey) {
		s.keys.forget(id.KeyHash)
		return identity{}, unknownKey(w)
	}
	if err != nil {
		return identity{}, err
	}
	s.keys.put(id.KeyHash, c)
	reqInfo(r.Context()).clientID = c.ClientID.String()
	id.Caller, id.Fresh = c, true
	return id, nil
}

// identity is who a request's key says it comes from.
type identity struct {
	usage.Caller
	KeyHash []byte // the key's SHA-256, what the stores look it up by
	Fresh   bool   // the caller was just read from the database, not the cache
}

func unknownKey(w http.ResponseWriter) *Problem {
	return unauthorized(w, "unknown or revoked API key: use a current key, or ask for a new one")
}

// admit refuses a client that may not be served (403, with the reason and
// what to do) and warns one in grace.
func (s *Server) admit(w http.ResponseWriter, c usage.Caller) error {
	w.Header().Set("X-Billing-Status", c.Status)
	switch c.Status {
	case billing.StatusDisabled:
		msg, ok := refusals[c.DisabledReason]
		if !ok {
			msg = "the account is disabled; contact support"
		}
		return &Problem{Status: http.StatusForbidden, Code: CodeClientDisabled, Reason: c.DisabledReason, Message: msg}
	case billing.StatusCancelled:
		return &Problem{Status: http.StatusForbidden, Code: CodeClientCancelled, Reason: billing.ReasonSubscriptionCancelled,
			Message: "the subscription was cancelled; subscribe again to restore access"}
	case billing.StatusGrace:
		w.Header().Set("Warning", GraceWarning)
	}
	return nil
}

// rateLimit applies the plan's rate per minute. When the limiter fails
// (Redis down or slow) the request is let through: the API fails open, so
// an outage of the rate limiter is not an outage of metering; the failure
// is counted in cortexctl_ratelimit_errors_total and logged at most every
// LimiterWarnEvery.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, c usage.Caller) error {
	if s.deps.Limiter == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), LimiterTimeout)
	defer cancel()
	d, err := s.deps.Limiter.Allow(ctx, c.ClientID.String(), c.RatePerMinute)
	if err != nil && r.Context().Err() != nil {
		return r.Context().Err() // the caller went away: not the limiter's failure
	}
	if err != nil {
		s.metrics.limiterDown.Inc()
		if s.warnLimiter() {
			s.cfg.Log.Warn().Err(err).Msg("rate limiter failed: serving without rate limits (fail open) until it answers again")
		}
		return nil
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, d.Remaining)))
	if d.Allowed {
		return nil
	}
	secs := int(math.Ceil(d.RetryAfter.Seconds()))
	h.Set("Retry-After", strconv.Itoa(max(1, secs)))
	return problem(http.StatusTooManyRequests, CodeRateLimited,
		"rate limit of "+strconv.Itoa(d.Limit)+" requests per minute reached (plan "+c.Plan+"); retry after the Retry-After header's seconds, or batch events in one request")
}

// LimiterWarnEvery spaces the warnings of a failing rate limiter.
const LimiterWarnEvery = 10 * time.Second

func (s *Server) warnLimiter() bool {
	now := time.Now().UnixNano()
	last := s.limiterWarn.Load()
	return now-last >= int64(LimiterWarnEvery) && s.limiterWarn.CompareAndSwap(last, now)
}
