package stripeclient

import (
	"context"
	"errors"
	"net/http"

	"github.com/stripe/stripe-go/v85"
)

// CheckKey makes one read-only call (it retrieves the account's balance)
// to find out whether Stripe accepts the key, for `cortexctl doctor`. It
// changes nothing in Stripe. Failures are classified as the other calls'
// are: IsUnavailable when Stripe could not be reached or failed on its
// side, IsKeyRefused when Stripe answered that the key is not valid (HTTP
// 401) or may not read the balance (HTTP 403, a restricted key).
func (c *Client) CheckKey(ctx context.Context) error {
	op := operation{
		desc:     "check the stripe API key (retrieve the balance)",
		retryMsg: "stripe balance retrieve failed; retrying",
		log:      c.log,
	}
	if c.configErr != nil {
		return c.newError(op.desc, 0, c.configErr, false)
	}
	return c.withRetries(ctx, op, func(ctx context.Context) error {
		_, err := c.sc.V1Balance.Retrieve(ctx, &stripe.BalanceRetrieveParams{})
		return err
	})
}

// IsKeyRefused reports whether Stripe answered a call with HTTP 401 (the
// key is unknown, revoked or mistyped) or 403 (the key may not make it).
func IsKeyRefused(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && (se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden)
}
