// Package stripetest holds test helpers for code that talks to Stripe
// through stripeclient: MockURL finds Stripe's own stripe-mock, and Fake is
// a recording fake of the invoice-items API that honours idempotency keys
// the way Stripe does and can inject outages, lost responses and hangs.
//
// stripe-mock checks that requests match Stripe's API, but it is stateless:
// it does not store what it creates nor honour Idempotency-Key. Use it to
// prove that what stripe-go sends is accepted, and Fake for everything that
// depends on state (duplicates, retries, failures).
package stripetest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

const (
	// EnvMockURL names the environment variable that points tests at a
	// running stripe-mock, e.g. http://127.0.0.1:12111.
	EnvMockURL = "STRIPE_MOCK_URL"
	// EnvCI names the environment variable that, when non-empty, turns a
	// missing stripe-mock from a skipped test into a failed one.
	EnvCI = "CI"
	// DefaultMockURL is where MockURL looks when EnvMockURL is unset: the
	// port of `stripe-mock -http-port 12111`.
	DefaultMockURL = "http://127.0.0.1:12111"
)

// mockDialTimeout bounds the check that stripe-mock is listening.
const mockDialTimeout = 500 * time.Millisecond

// MockURL returns the URL of a running stripe-mock: $STRIPE_MOCK_URL if
// set, else DefaultMockURL. It checks that something accepts TCP
// connections there. If not, the test fails when $CI is non-empty (CI must
// run stripe-mock) and is skipped otherwise.
func MockURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvMockURL)
	if raw == "" {
		raw = DefaultMockURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		t.Fatalf("%s=%q: want a URL such as %s", EnvMockURL, raw, DefaultMockURL)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}

	dialer := net.Dialer{Timeout: mockDialTimeout}
	conn, err := dialer.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		msg := fmt.Sprintf("stripe-mock is not answering at %s (%v); start it with "+
			"`stripe-mock -http-port 12111` (install: go install github.com/stripe/stripe-mock@latest), "+
			"or set %s to where it runs", raw, err, EnvMockURL)
		if os.Getenv(EnvCI) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; skipping because " + EnvCI + " is unset")
	}
	_ = conn.Close()
	return strings.TrimSuffix(raw, "/")
}
