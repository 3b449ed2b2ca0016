// Package stripetest holds test helpers for code that talks to Stripe
// through stripeclient: MockURL finds Stripe's own stripe-mock, and Fake is
// a recording fake of the invoice-items API that honours idempotency keys
// the way Stripe does and can inject outages, lost responses and hangs.
// For webhooks, Event builds the JSON of an event as Stripe sends it and
// Sign its Stripe-Signature header.
//
// stripe-mock checks that requests match Stripe's API, but it is stateless:
// it does not store what it creates nor honour Idempotency-Key. Use it to
// prove that what stripe-go sends is accepted, and Fake for everything that
// depends on state (duplicates, retries, failures).
package stripetest

import (
	"fmt"
	"testing"

	"github.com/cortexlayer/cortexctl/internal/testenv"
)

const (
	// EnvMockURL names the environment variable that points tests at a
	// running stripe-mock, e.g. http://127.0.0.1:12111.
	EnvMockURL = "STRIPE_MOCK_URL"
	// DefaultMockURL is where MockURL looks when EnvMockURL is unset: the
	// port of `stripe-mock -http-port 12111`, where `make test` starts it.
	DefaultMockURL = "http://127.0.0.1:12111"
	// Service is stripe-mock's name in testenv.EnvSkip
	// (CORTEXCTL_TEST_SKIP=stripe-mock).
	Service = "stripe-mock"
)

// MockURL returns the URL of a running stripe-mock: $STRIPE_MOCK_URL if
// set, else DefaultMockURL. It checks that something accepts TCP
// connections there. If not, the test fails with how to start stripe-mock
// (`make test` does), or is skipped if CORTEXCTL_TEST_SKIP lists
// stripe-mock (see testenv.Need). A malformed $STRIPE_MOCK_URL always fails.
func MockURL(t testing.TB) string {
	t.Helper()
	return testenv.URL(t, Service, EnvMockURL, DefaultMockURL, fmt.Sprintf("set %s to where it runs, "+
		"or start `stripe-mock -http-port 12111 -https-port 12112` yourself; `make tools` installs the pinned one", EnvMockURL))
}
