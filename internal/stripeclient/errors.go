package stripeclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/stripe/stripe-go/v85"
)

// callError is what CreateInvoiceItem and FindInvoiceItem return on
// failure. Its text is built
// once, with the API key scrubbed; the cause stays reachable via Unwrap
// (errors.As with *stripe.Error gives Stripe's own answer).
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
// operation); attempts is 0 when nothing was sent.
func (c *Client) newError(desc string, attempts int, cause error, unavailable bool) error {
	tries := ""
	if attempts > 1 {
		tries = fmt.Sprintf(" after %d attempts", attempts)
	}
	msg := fmt.Sprintf("%s%s: %s", desc, tries, describe(cause))
	return &callError{msg: c.scrub(msg), unavailable: unavailable, cause: cause}
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
// hours), and FindInvoiceItem settles it after that.
//
// Errors from CreateInvoiceItem and FindInvoiceItem are classified when
// made, on the safe side: anything short of a definite rejection by Stripe
// counts as unavailable, including a call cut short by ctx (cancelled or
// past its deadline) and an answer that could not be decoded, because in
// those cases Stripe's verdict is unknown. An invalid item (ErrInvalidItem) or a malformed base URL is
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

// retryable reports whether a failed attempt is worth repeating at once
// with the same idempotency key. The policy is the one stripe-go's
// shouldRetry spells out (v85 only reaches it for answers it cannot
// decode): a Stripe-Should-Retry header wins; else 409 and 5xx are retried,
// 429 only for lock_timeout (retrying a rate limit adds to it), other 4xx
// never. Anything that is not a Stripe error answer (no answer at all, an
// undecodable one) is retried.
func retryable(err error) bool {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return true
	}
	if se.LastResponse != nil {
		switch se.LastResponse.Header.Get("Stripe-Should-Retry") {
		case "true":
			return true
		case "false":
			return false
		}
	}
	switch {
	case se.HTTPStatusCode == http.StatusConflict, se.HTTPStatusCode >= http.StatusInternalServerError:
		return true
	case se.HTTPStatusCode == http.StatusTooManyRequests:
		return se.Code == stripe.ErrorCodeLockTimeout
	}
	return false
}

func unavailableStatus(status int) bool {
	return status >= http.StatusInternalServerError ||
		status == http.StatusTooManyRequests ||
		status == http.StatusConflict
}
