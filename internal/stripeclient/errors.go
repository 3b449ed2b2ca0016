package stripeclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v85"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// callError is what CreateInvoiceItem and FindInvoiceItem return on
// failure, wrapped in an *exitcode.Error with exitcode.Unavailable when it
// is unavailable. Its text is built once, with the API key scrubbed; the
// cause stays reachable via Unwrap (errors.As with *stripe.Error gives
// Stripe's own answer).
type callError struct {
	msg         string
	unavailable bool
	cause       error
}

func (e *callError) Error() string { return e.msg }
func (e *callError) Unwrap() error { return e.cause }

// redacted replaces the API key wherever it appears in error text.
const redacted = "[redacted]"

// newError wraps the cause of a failed call described by desc (see
// operation); attempts is 0 when nothing was sent. An unavailable error
// exits with exitcode.Unavailable; any other with exitcode.Of's default.
func (c *Client) newError(desc string, attempts int, cause error, unavailable bool) error {
	tries := ""
	if attempts > 1 {
		tries = fmt.Sprintf(" after %d attempts", attempts)
	}
	msg := fmt.Sprintf("%s%s: %s", desc, tries, describe(cause))
	err := &callError{msg: c.scrub(msg), unavailable: unavailable, cause: cause}
	if unavailable {
		return exitcode.New(exitcode.Unavailable, err)
	}
	return err
}

// scrub replaces the API key wherever it appears in s.
func (c *Client) scrub(s string) string {
	if c.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.apiKey, redacted)
}

// stoppedError is the last attempt's failure when ctx ended during the
// pause before a retry.
type stoppedError struct {
	last, ctxErr error
}

func (e *stoppedError) Error() string {
	return describe(e.last) + " (stopped before retrying: " + e.ctxErr.Error() + ")"
}

func (e *stoppedError) Unwrap() []error { return []error{e.last, e.ctxErr} }

// describe renders Stripe's answer readably instead of stripe-go's JSON dump.
func describe(err error) string {
	var stopped *stoppedError
	if errors.As(err, &stopped) {
		return stopped.Error() // it describes its own Stripe answer
	}
	var se *stripe.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stripe answered HTTP %d", se.HTTPStatusCode)
	details := []string{}
	if se.Type != "" {
		details = append(details, string(se.Type))
	}
	if se.Code != "" {
		details = append(details, "code "+string(se.Code))
	}
	if se.Param != "" {
		details = append(details, "param "+se.Param)
	}
	if se.RequestID != "" {
		details = append(details, "request "+se.RequestID)
	}
	if len(details) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(details, ", "))
	}
	if se.Msg != "" {
		b.WriteString(": " + se.Msg)
	}
	return b.String()
}

// IsUnavailable reports whether err means Stripe could not be reached or is
// failing on its side (network error, timeout, HTTP 5xx, 429, or 409 which
// Stripe uses for a concurrent request with the same idempotency key), as
// opposed to a request Stripe rejected (other 4xx), which retrying will not
// fix. For an unavailable error from CreateInvoiceItem the charge may or
// may not exist in Stripe; retrying later with the same idempotency key
// settles it without a duplicate while Stripe holds the key (about 24
// hours), and FindInvoiceItem settles it after that. Such an error from
// this package also carries exitcode.Unavailable, so exitcode.Of maps it to
// 69 and the charge is left pending.
//
// Errors from CreateInvoiceItem and FindInvoiceItem are classified when
// made, on the safe side: anything short of a definite rejection by Stripe
// counts as unavailable, including a call cut short by ctx (cancelled or
// past its deadline) and an answer that could not be decoded, because in
// those cases Stripe's verdict is unknown, and a rate limit that outlasted
// its retries. An invalid item (ErrInvalidItem) or a malformed base URL is
// not unavailable. Other errors are classified by what they wrap: a
// *stripe.Error by its status, a net.Error or context.DeadlineExceeded as
// unavailable, anything else not.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *callError
	if errors.As(err, &ce) {
		return ce.unavailable
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		return unavailableStatus(se.HTTPStatusCode)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// unavailable classifies an error returned by stripe-go for a request that
// was sent: only a Stripe error answer with a 4xx status (other than 409 and
// 429) is a rejection.
func unavailable(err error) bool {
	var se *stripe.Error
	if errors.As(err, &se) {
		return unavailableStatus(se.HTTPStatusCode)
	}
	return true
}

// retryClass says whether, and how, a failed attempt is retried.
type retryClass int

const (
	noRetry          retryClass = iota
	retryTransient              // within the budget of DefaultMaxNetworkRetries
	retryRateLimited            // HTTP 429, within the budget of DefaultMaxRateLimitRetries
)

// retryKind reports whether a failed attempt is worth repeating with the
// same idempotency key. The policy is the one stripe-go's shouldRetry spells
// out (v85 only reaches it for answers it cannot decode), except for 429:
// Stripe-Should-Retry: false wins; a 429 (a rate limit, or a lock_timeout)
// is retried after a pause; else Stripe-Should-Retry: true, 409 and 5xx are
// retried as transient, other 4xx never. Anything that is not a Stripe
// error answer (no answer at all, an undecodable one) is transient.
func retryKind(err error) retryClass {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return retryTransient
	}
	shouldRetry := ""
	if se.LastResponse != nil {
		shouldRetry = se.LastResponse.Header.Get("Stripe-Should-Retry")
	}
	switch {
	case shouldRetry == "false":
		return noRetry
	case se.HTTPStatusCode == http.StatusTooManyRequests:
		return retryRateLimited
	case shouldRetry == "true", se.HTTPStatusCode == http.StatusConflict, se.HTTPStatusCode >= http.StatusInternalServerError:
		return retryTransient
	}
	return noRetry
}

// retryAfter reads the Retry-After header of Stripe's answer in err, as
// seconds or as an HTTP date (relative to now), capped at maxRetryAfter. A
// date in the past is no pause. ok is false when there is no answer, no
// header or none that parses.
func retryAfter(err error, now time.Time) (d time.Duration, ok bool) {
	var se *stripe.Error
	if !errors.As(err, &se) || se.LastResponse == nil {
		return 0, false
	}
	return parseRetryAfter(se.LastResponse.Header.Get("Retry-After"), now)
}

// parseRetryAfter parses a Retry-After header value (see retryAfter).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	// A number too large for uint64 parses as its maximum: the cap.
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return min(max(at.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

func unavailableStatus(status int) bool {
	return status >= http.StatusInternalServerError ||
		status == http.StatusTooManyRequests ||
		status == http.StatusConflict
}
