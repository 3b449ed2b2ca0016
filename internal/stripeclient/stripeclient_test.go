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
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85"

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

func newFakeClient(t *testing.T, retries int) (*stripetest.Fake, *stripeclient.Client) {
	t.Helper()
	fake := stripetest.NewFake(t)
	return fake, stripeclient.New(testKey, fake.URL(),
		stripeclient.WithMaxNetworkRetries(retries), stripeclient.WithRetryDelay(time.Millisecond))
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

func TestRejectionAndRateLimitAreNotRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			fake := stripetest.NewFake(t)
			c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond)) // retries on
			fake.FailNext(5, status)

			_, err := c.CreateInvoiceItem(t.Context(), newItem("rejected"))
			require.Error(t, err)
			require.Equal(t, status == http.StatusTooManyRequests, stripeclient.IsUnavailable(err))
			require.Equal(t, 1, fake.Requests(), "HTTP %d is not retried at once", status)
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
