package stripeclient

import (
	"net/url"
	"strings"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// StripeAPIHost is Stripe's own API host, the only one a live key is sent to.
const StripeAPIHost = "api.stripe.com"

// CheckConfig checks an API key's shape and a base URL ("" is Stripe's own
// API) before anything is sent, so that a run refuses bad settings before it
// changes anything: an exitcode.Config error saying what is wrong and how to
// fix it. The key is never part of the message.
//
// A key is a secret key (sk_test_, sk_live_) or a restricted key (rk_test_,
// rk_live_). A live key goes to Stripe's own API only: sent to another base
// (a mock, a proxy, a typo) it would leak.
func CheckConfig(apiKey, baseURL string) error {
	mode := ""
	for _, prefix := range []string{"sk_test_", "rk_test_", "sk_live_", "rk_live_"} {
		if strings.HasPrefix(apiKey, prefix) && len(apiKey) > len(prefix) {
			mode = prefix[3:7]
		}
	}
	if apiKey == "" {
		return exitcode.Errorf(exitcode.Config, "the Stripe API key is empty")
	}
	if mode == "" {
		return exitcode.Errorf(exitcode.Config,
			"the Stripe API key does not look like one: it must start with sk_test_, sk_live_, rk_test_ or rk_live_ (a publishable pk_ key cannot create invoice items)")
	}
	if baseURL == "" {
		return nil
	}
	if err := checkBaseURL(baseURL); err != nil {
		return exitcode.New(exitcode.Config, err)
	}
	u, _ := url.Parse(baseURL) // checked above
	if mode == "live" && (u.Scheme != "https" || u.Hostname() != StripeAPIHost) {
		return exitcode.Errorf(exitcode.Config,
			"refusing to send a live Stripe key to %s: a live key goes to https://%s only; unset the base URL, or use a test key (sk_test_) with a mock",
			u.Redacted(), StripeAPIHost)
	}
	return nil
}
