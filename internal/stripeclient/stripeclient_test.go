package stripeclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// testKey looks like a real secret key so that a leak is easy to spot.
const testKey = "sk_test_51CortexctlSecretKeyThatMustNeverLeak0123456789"

// newItem is a fixture: a valid overage charge, varied by key.
func newItem(key string) stripeclient.InvoiceItem {
	return stripeclient.InvoiceItem{
		Customer:    "cus_TestCustomer1",
		AmountCents: 12345,
		Currency:    "usd",
		Description: "Overage 2026-02: 1,234 requests above plan",
		Metadata: map[string]string{
			"client_id": "client-42",
			"period":    "2026-02",
			"charge_id": "charge-" + key,
		},
		IdempotencyKey: "cortexctl-overage-" + key,
	}
}

// newFakeClient returns a Fake and a client of it that retries transient
// failures and rate limits at most retries times each, after a tiny pause.
func newFakeClient(t *testing.T, retries int) (*stripetest.Fake, *stripeclient.Client) {
	t.Helper()
	fake := stripetest.NewFake(t)
	return fake, stripeclient.New(testKey, fake.URL(),
		stripeclient.WithMaxNetworkRetries(retries), stripeclient.WithMaxRateLimitRetries(retries),
		stripeclient.WithRetryDelay(time.Millisecond))
}

func TestCreateInvoiceItemAgainstStripeMock(t *testing.T) {
	t.Parallel()
	c := stripeclient.New("sk_test_123", stripetest.MockURL(t))

	id, err := c.CreateInvoiceItem(t.Context(), newItem("mock"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(id, "ii_"), "id %q should start with ii_", id)
}

func TestCreateInvoiceItemSendsEverything(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	it := newItem("roundtrip")

	id, err := c.CreateInvoiceItem(t.Context(), it)
	require.NoError(t, err)
	require.Equal(t, "ii_fake_1", id)
	require.Equal(t, []stripetest.RecordedItem{{
		ID:             id,
		Customer:       it.Customer,
		AmountCents:    it.AmountCents,
		Currency:       it.Currency,
		Description:    it.Description,
		Metadata:       it.Metadata,
		IdempotencyKey: it.IdempotencyKey,
	}}, fake.Items())
	require.Equal(t, 1, fake.Requests())
}

func TestCreateInvoiceItemIsIdempotent(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)

	first, err := c.CreateInvoiceItem(t.Context(), newItem("same"))
	require.NoError(t, err)
	second, err := c.CreateInvoiceItem(t.Context(), newItem("same"))
	require.NoError(t, err)

	require.Equal(t, first, second)
	require.Len(t, fake.Items(), 1)
	require.Equal(t, 2, fake.Requests())

	// A different key is a different charge.
	third, err := c.CreateInvoiceItem(t.Context(), newItem("other"))
	require.NoError(t, err)
	require.NotEqual(t, first, third)
	require.Len(t, fake.Items(), 2)
}

func TestCreateInvoiceItemFromManyGoroutinesCreatesOne(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)

	const n = 16
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = c.CreateInvoiceItem(t.Context(), newItem("concurrent")) })
	}
	wg.Wait()

	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, ids[0], ids[i])
	}
	require.Len(t, fake.Items(), 1)
	require.Equal(t, n, fake.Requests())
}

func TestLostResponseRetriedByClient(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 1)
	fake.AcceptThenFail(1)

	id, err := c.CreateInvoiceItem(t.Context(), newItem("lost"))
	require.NoError(t, err)

	items := fake.Items()
	require.Len(t, items, 1)
	require.Equal(t, items[0].ID, id)
	require.Equal(t, 2, fake.Requests(), "one lost answer, one replay")
}

func TestLostResponseRetriedByCaller(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	fake.AcceptThenFail(1)

	_, err := c.CreateInvoiceItem(t.Context(), newItem("lost"))
	require.Error(t, err)
	require.True(t, stripeclient.IsUnavailable(err), "a lost answer is unavailable: %v", err)
	require.Len(t, fake.Items(), 1, "Stripe accepted it before the answer was lost")

	// The next run pushes the same charge with the same key.
	id, err := c.CreateInvoiceItem(t.Context(), newItem("lost"))
	require.NoError(t, err)
	items := fake.Items()
	require.Len(t, items, 1)
	require.Equal(t, items[0].ID, id)
}

func TestFailuresAreClassified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status      int
		unavailable bool
	}{
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusPaymentRequired, false},
		{http.StatusNotFound, false},
		{http.StatusConflict, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			fake, c := newFakeClient(t, 0)
			fake.FailNext(1, tt.status)

			_, err := c.CreateInvoiceItem(t.Context(), newItem("fail"))
			require.Error(t, err)
			require.Equal(t, tt.unavailable, stripeclient.IsUnavailable(err), "error: %v", err)

			var se *stripe.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.status, se.HTTPStatusCode)
			require.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", tt.status))
			require.Contains(t, err.Error(), "cortexctl-overage-fail", "error names the idempotency key")
			require.NotContains(t, err.Error(), testKey)
			require.Empty(t, fake.Items())
			require.Equal(t, 1, fake.Requests())

			// The outage is over: the same charge goes through once.
			_, err = c.CreateInvoiceItem(t.Context(), newItem("fail"))
			require.NoError(t, err)
			require.Len(t, fake.Items(), 1)
		})
	}
}

func TestDefaultRetriesRideOutShortOutage(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond)) // default retries
	fake.FailNext(stripeclient.DefaultMaxNetworkRetries, http.StatusServiceUnavailable)

	_, err := c.CreateInvoiceItem(t.Context(), newItem("outage"))
	require.NoError(t, err)
	require.Len(t, fake.Items(), 1)
	require.Equal(t, stripeclient.DefaultMaxNetworkRetries+1, fake.Requests())
}

func TestDefaultRetriesGiveUp(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond))
	fake.FailNext(stripeclient.DefaultMaxNetworkRetries+1, http.StatusServiceUnavailable)

	_, err := c.CreateInvoiceItem(t.Context(), newItem("outage"))
	require.Error(t, err)
	require.True(t, stripeclient.IsUnavailable(err), "error: %v", err)
	require.Contains(t, err.Error(), fmt.Sprintf("after %d attempts", stripeclient.DefaultMaxNetworkRetries+1))
	require.Empty(t, fake.Items())
	require.Equal(t, stripeclient.DefaultMaxNetworkRetries+1, fake.Requests())
}

func TestRejectionIsNotRetried(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond)) // retries on
	fake.FailNext(5, http.StatusBadRequest)

	_, err := c.CreateInvoiceItem(t.Context(), newItem("rejected"))
	require.Error(t, err)
	require.False(t, stripeclient.IsUnavailable(err))
	require.Equal(t, 1, fake.Requests(), "HTTP 400 is not retried")
}

func TestRateLimitRetriedAfterRetryAfter(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(),
		stripeclient.WithMaxNetworkRetries(0), // a 429 has its own budget
		stripeclient.WithRetryDelay(time.Millisecond),
		stripeclient.WithLogger(zerolog.New(&logs)))
	fake.RateLimitNext(1, time.Second)

	start := time.Now()
	id, err := c.CreateInvoiceItem(t.Context(), newItem("limited"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After: 1 is waited out, not the 1ms backoff")
	require.Equal(t, 2, fake.Requests())
	items := fake.Items()
	require.Len(t, items, 1)
	require.Equal(t, items[0].ID, id)
	require.Equal(t, "cortexctl-overage-limited", items[0].IdempotencyKey)

	out := logs.String()
	require.Contains(t, out, `"level":"warn"`)
	require.Contains(t, out, `"attempt":1`)
	require.Contains(t, out, `"retry_in_ms":1000`)
	require.Contains(t, out, `"rate_limited":true`)
	require.Contains(t, out, "code rate_limit")
}

func TestRateLimitBacksOffWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(),
		stripeclient.WithMaxNetworkRetries(0), stripeclient.WithRetryDelay(time.Millisecond))
	fake.RateLimitNext(stripeclient.DefaultMaxRateLimitRetries, 0)

	_, err := c.CreateInvoiceItem(t.Context(), newItem("backoff"))
	require.NoError(t, err)
	require.Equal(t, stripeclient.DefaultMaxRateLimitRetries+1, fake.Requests())
	require.Len(t, fake.Items(), 1)
}

func TestRateLimitAndOutageHaveSeparateBudgets(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(),
		stripeclient.WithMaxNetworkRetries(1), stripeclient.WithMaxRateLimitRetries(2),
		stripeclient.WithRetryDelay(time.Millisecond))
	fake.RateLimitNext(2, 0)
	fake.FailNext(1, http.StatusServiceUnavailable) // after the rate limits: they come first

	_, err := c.CreateInvoiceItem(t.Context(), newItem("budgets"))
	require.NoError(t, err)
	require.Equal(t, 4, fake.Requests(), "two 429s, one 503, one success")
	require.Len(t, fake.Items(), 1)
}

func TestRateLimitBudgetRunsOut(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond)) // default budgets
	fake.RateLimitNext(stripeclient.DefaultMaxRateLimitRetries+1, 0)

	_, err := c.CreateInvoiceItem(t.Context(), newItem("exhausted"))
	require.Error(t, err)
	attempts := stripeclient.DefaultMaxRateLimitRetries + 1
	require.Equal(t, attempts, fake.Requests())
	require.Contains(t, err.Error(), fmt.Sprintf("after %d attempts", attempts))
	require.True(t, stripeclient.IsUnavailable(err), "the charge stays pending: %v", err)
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err))
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusTooManyRequests, se.HTTPStatusCode)
	require.Equal(t, stripe.ErrorCodeRateLimit, se.Code)
	require.Empty(t, fake.Items())
}

func TestRateLimitWithShouldRetryFalseIsNotRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Stripe-Should-Retry", "false")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Request rate limit exceeded."}}`)
	}))
	t.Cleanup(srv.Close)
	c := stripeclient.New(testKey, srv.URL, stripeclient.WithRetryDelay(time.Millisecond))

	_, err := c.CreateInvoiceItem(t.Context(), newItem("should-not-retry"))
	require.Error(t, err)
	require.Equal(t, int64(1), calls.Load())
	require.True(t, stripeclient.IsUnavailable(err))
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err))
}

func TestCancelDuringRetryAfterPauseReturnsAtOnce(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond))
	fake.RateLimitNext(1, time.Hour) // the client caps it at a minute

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.CreateInvoiceItem(ctx, newItem("limited-pause"))
	// Far below the capped pause: only the cancellation can have ended it.
	require.Less(t, time.Since(start), 30*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	require.Contains(t, err.Error(), "stopped before retrying")
	var se *stripe.Error
	require.ErrorAs(t, err, &se, "the 429 stays reachable")
	require.Equal(t, http.StatusTooManyRequests, se.HTTPStatusCode)
	require.True(t, stripeclient.IsUnavailable(err))
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err))
	require.Equal(t, 1, fake.Requests())
	require.Empty(t, fake.Items())
}

// TestUnavailableErrorsCarryExitCode checks that every error the package
// classifies as unavailable exits 69, and no other does.
func TestUnavailableErrorsCarryExitCode(t *testing.T) {
	t.Parallel()
	failCreate := func(status int) func(*testing.T) error {
		return func(t *testing.T) error {
			fake, c := newFakeClient(t, 0)
			fake.FailNext(1, status)
			_, err := c.CreateInvoiceItem(t.Context(), newItem("exit"))
			return err
		}
	}
	tests := []struct {
		name string
		call func(*testing.T) error
		want int
	}{
		{"503", failCreate(http.StatusServiceUnavailable), exitcode.Unavailable},
		{"500", failCreate(http.StatusInternalServerError), exitcode.Unavailable},
		{"409", failCreate(http.StatusConflict), exitcode.Unavailable},
		{"429", failCreate(http.StatusTooManyRequests), exitcode.Unavailable},
		{"lost answer", func(t *testing.T) error {
			fake, c := newFakeClient(t, 0)
			fake.AcceptThenFail(1)
			_, err := c.CreateInvoiceItem(t.Context(), newItem("exit"))
			return err
		}, exitcode.Unavailable},
		{"down", func(t *testing.T) error {
			fake, c := newFakeClient(t, 0)
			fake.Down()
			_, err := c.CreateInvoiceItem(t.Context(), newItem("exit"))
			return err
		}, exitcode.Unavailable},
		{"cancelled", func(t *testing.T) error {
			_, c := newFakeClient(t, 0)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := c.CreateInvoiceItem(ctx, newItem("exit"))
			return err
		}, exitcode.Unavailable},
		{"find 503", func(t *testing.T) error {
			fake, c := newFakeClient(t, 0)
			fake.FailNext(1, http.StatusServiceUnavailable)
			_, _, err := c.FindInvoiceItem(t.Context(), "cus_1", "charge-1")
			return err
		}, exitcode.Unavailable},
		{"400", failCreate(http.StatusBadRequest), exitcode.Failed},
		{"401", failCreate(http.StatusUnauthorized), exitcode.Failed},
		{"402", failCreate(http.StatusPaymentRequired), exitcode.Failed},
		{"404", failCreate(http.StatusNotFound), exitcode.Failed},
		{"invalid item", func(t *testing.T) error {
			_, c := newFakeClient(t, 0)
			it := newItem("exit")
			it.Customer = ""
			_, err := c.CreateInvoiceItem(t.Context(), it)
			return err
		}, exitcode.Failed},
		{"find invalid", func(t *testing.T) error {
			_, c := newFakeClient(t, 0)
			_, _, err := c.FindInvoiceItem(t.Context(), "cus_1", "")
			return err
		}, exitcode.Failed},
		{"bad base URL", func(t *testing.T) error {
			_, err := stripeclient.New(testKey, "ftp://example.com").CreateInvoiceItem(t.Context(), newItem("exit"))
			return err
		}, exitcode.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(t)
			require.Error(t, err)
			require.Equal(t, tt.want, exitcode.Of(err), "error: %v", err)
			require.Equal(t, tt.want == exitcode.Unavailable, stripeclient.IsUnavailable(err))
			require.Equal(t, tt.want, exitcode.Of(fmt.Errorf("push charge: %w", err)), "survives wrapping")
			require.NotContains(t, err.Error(), testKey)
		})
	}
}

func TestStripeShouldRetryHeaderWins(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Stripe-Should-Retry", "false")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error":{"type":"api_error","message":"replayed 500"}}`)
	}))
	t.Cleanup(srv.Close)
	c := stripeclient.New(testKey, srv.URL, stripeclient.WithRetryDelay(time.Millisecond))

	_, err := c.CreateInvoiceItem(t.Context(), newItem("should-retry"))
	require.Error(t, err)
	require.True(t, stripeclient.IsUnavailable(err))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 1, calls)
}

func TestCancelDuringRetryPauseReturnsAtOnce(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Hour))
	fake.FailNext(1, http.StatusServiceUnavailable)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.CreateInvoiceItem(ctx, newItem("pause"))
	require.Less(t, time.Since(start), 5*time.Second)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var se *stripe.Error
	require.ErrorAs(t, err, &se, "the last answer stays reachable")
	require.Equal(t, http.StatusServiceUnavailable, se.HTTPStatusCode)
	require.Contains(t, err.Error(), "stopped before retrying")
	require.True(t, stripeclient.IsUnavailable(err))
	require.Equal(t, 1, fake.Requests())
}

func TestStripeDown(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	fake.Down()

	_, err := c.CreateInvoiceItem(t.Context(), newItem("down"))
	require.Error(t, err)
	require.True(t, stripeclient.IsUnavailable(err), "error: %v", err)
	require.NotContains(t, err.Error(), testKey)
	require.Contains(t, err.Error(), "connection refused")
	var ne net.Error
	require.ErrorAs(t, err, &ne)
}

func TestTimeoutAfterStripeAcceptedIsUnavailableAndRetrySettlesIt(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	accepted, release := fake.BlockAfterAccept()
	defer release()

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := c.CreateInvoiceItem(ctx, newItem("hang"))
	require.Error(t, err)
	require.True(t, stripeclient.IsUnavailable(err), "error: %v", err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case <-accepted:
	default:
		t.Fatal("the fake never signalled that it accepted the item")
	}
	require.Len(t, fake.Items(), 1)

	// While the first answer is still held, a retry gets the stored item.
	id, err := c.CreateInvoiceItem(t.Context(), newItem("hang"))
	require.NoError(t, err)
	require.Equal(t, fake.Items()[0].ID, id)
	require.Len(t, fake.Items(), 1)
}

func TestCancelledCallIsUnavailable(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	accepted, release := fake.BlockAfterAccept()
	defer release()

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-accepted
		cancel() // SIGTERM while waiting on Stripe
	}()
	_, err := c.CreateInvoiceItem(ctx, newItem("cancel"))
	require.ErrorIs(t, err, context.Canceled)
	require.True(t, stripeclient.IsUnavailable(err), "outcome unknown, so retry later: %v", err)
}

func TestErrorNeverContainsAPIKey(t *testing.T) {
	t.Parallel()
	// A hostile server that echoes the credentials it received, in a
	// Stripe-shaped error and then in a body stripe-go cannot decode.
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		auth := r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: %s"}}`,
				strings.TrimPrefix(auth, "Bearer "))
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		_, _ = fmt.Fprintf(w, "<html>bad gateway for %s</html>", auth)
	}))
	t.Cleanup(srv.Close)
	c := stripeclient.New(testKey, srv.URL, stripeclient.WithMaxNetworkRetries(0))

	_, err := c.CreateInvoiceItem(t.Context(), newItem("leak"))
	require.Error(t, err)
	require.NotContains(t, err.Error(), testKey)
	require.Contains(t, err.Error(), "[redacted]")
	require.False(t, stripeclient.IsUnavailable(err))

	_, err = c.CreateInvoiceItem(t.Context(), newItem("leak"))
	require.Error(t, err)
	require.NotContains(t, err.Error(), testKey)
	require.Contains(t, err.Error(), "502")
	require.True(t, stripeclient.IsUnavailable(err), "a proxy's non-JSON 502 is unavailable: %v", err)
}

func TestInvalidItemIsNotSent(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*stripeclient.InvoiceItem){
		"no customer":        func(it *stripeclient.InvoiceItem) { it.Customer = "" },
		"no currency":        func(it *stripeclient.InvoiceItem) { it.Currency = " " },
		"no idempotency key": func(it *stripeclient.InvoiceItem) { it.IdempotencyKey = "" },
		"key too long":       func(it *stripeclient.InvoiceItem) { it.IdempotencyKey = strings.Repeat("k", 256) },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake, c := newFakeClient(t, 0)
			it := newItem("invalid")
			mutate(&it)

			_, err := c.CreateInvoiceItem(t.Context(), it)
			require.ErrorIs(t, err, stripeclient.ErrInvalidItem)
			require.False(t, stripeclient.IsUnavailable(err))
			require.Zero(t, fake.Requests())
		})
	}
}

func TestBadBaseURL(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"127.0.0.1:12111", "ftp://example.com", "http://"} {
		c := stripeclient.New(testKey, raw)
		_, err := c.CreateInvoiceItem(t.Context(), newItem("url"))
		require.Error(t, err, raw)
		require.Contains(t, err.Error(), "base URL")
		require.False(t, stripeclient.IsUnavailable(err), raw)
	}
}

func TestIsUnavailableOnOtherErrors(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	fake.FailNext(1, http.StatusServiceUnavailable)
	_, ours := c.CreateInvoiceItem(t.Context(), newItem("wrapped"))
	require.Error(t, ours)

	tests := map[string]struct {
		err  error
		want bool
	}{
		"nil":               {nil, false},
		"plain":             {errors.New("boom"), false},
		"deadline":          {fmt.Errorf("push: %w", context.DeadlineExceeded), true},
		"net":               {&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		"stripe 503":        {fmt.Errorf("push: %w", &stripe.Error{HTTPStatusCode: 503}), true},
		"stripe 429":        {&stripe.Error{HTTPStatusCode: 429}, true},
		"stripe 400":        {&stripe.Error{HTTPStatusCode: 400}, false},
		"stripe 404":        {&stripe.Error{HTTPStatusCode: 404}, false},
		"invalid item":      {stripeclient.ErrInvalidItem, false},
		"wrapped our error": {fmt.Errorf("push charge: %w", ours), true},
	}
	for name, tt := range tests {
		require.Equal(t, tt.want, stripeclient.IsUnavailable(tt.err), name)
	}
}

func TestWithLoggerRoutesStripeGoLogs(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(),
		stripeclient.WithRetryDelay(time.Millisecond),
		stripeclient.WithLogger(zerolog.New(&buf).Level(zerolog.DebugLevel)))
	fake.FailNext(1, http.StatusServiceUnavailable)

	_, err := c.CreateInvoiceItem(t.Context(), newItem("log"))
	require.NoError(t, err)
	out := buf.String()
	require.Contains(t, out, `"component":"stripe-go"`)
	require.Contains(t, out, "Request error from Stripe (status 503)")
	require.Contains(t, out, `"message":"stripe invoice item create failed; retrying"`)
	require.Contains(t, out, `"idempotency_key":"cortexctl-overage-log"`)
	require.Contains(t, out, `"attempt":1`)
	require.NotContains(t, out, testKey)
	require.NotContains(t, out, `"level":"error"`, "the caller decides what is an error")
}

// Not parallel: it swaps os.Stdout and os.Stderr.
func TestStripeGoPrintsNothingByDefault(t *testing.T) {
	stdout, stderr := captureStdio(t)
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond))

	// A lost answer: stripe-go logs the 500 as an error; the client retries.
	fake.AcceptThenFail(1)
	_, err := c.CreateInvoiceItem(context.Background(), newItem("quiet"))
	require.NoError(t, err)
	// A rejection: stripe-go logs it as an error.
	fake.FailNext(1, http.StatusBadRequest)
	_, err = c.CreateInvoiceItem(context.Background(), newItem("quiet-2"))
	require.Error(t, err)
	require.Equal(t, 3, fake.Requests())
	require.Empty(t, stdout())
	require.Empty(t, stderr())
}

// captureStdio points os.Stdout and os.Stderr at pipes until the returned
// functions are called, which restore them and return what was written.
func captureStdio(t *testing.T) (stdout, stderr func() string) {
	t.Helper()
	capture := func(target **os.File) func() string {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		orig := *target
		*target = w
		done := make(chan string)
		go func() {
			b, _ := io.ReadAll(r)
			done <- string(b)
		}()
		var once sync.Once
		var out string
		restore := func() string {
			once.Do(func() {
				*target = orig
				_ = w.Close()
				out = <-done
				_ = r.Close()
			})
			return out
		}
		t.Cleanup(func() { restore() })
		return restore
	}
	return capture(&os.Stdout), capture(&os.Stderr)
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
