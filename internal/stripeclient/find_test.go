package stripeclient_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85"

	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// pushMany creates n items for the fixture customer, with charge ids
// charge-<prefix>-1 ... charge-<prefix>-n, and returns their ids in order.
func pushMany(t *testing.T, c *stripeclient.Client, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		id, err := c.CreateInvoiceItem(t.Context(), newItem(fmt.Sprintf("%s-%d", prefix, i)))
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}

func TestFindInvoiceItemAgainstStripeMock(t *testing.T) {
	t.Parallel()
	c := stripeclient.New("sk_test_123", stripetest.MockURL(t))

	// stripe-mock answers a fixture list whose items carry other metadata.
	id, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-"+rand.Text())
	require.NoError(t, err)
	require.False(t, found)
	require.Empty(t, id)
}

func TestFindInvoiceItemAfterCreate(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	pushMany(t, c, "other", 3)
	it := newItem("wanted")
	want, err := c.CreateInvoiceItem(t.Context(), it)
	require.NoError(t, err)
	pushMany(t, c, "later", 3)

	id, found, err := c.FindInvoiceItem(t.Context(), it.Customer, it.Metadata["charge_id"])
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, want, id)
	require.Equal(t, 1, fake.Lists())
	require.Equal(t, 7, fake.Requests(), "a find creates nothing")
	require.Len(t, fake.Items(), 7)
}

func TestFindInvoiceItemOtherChargeIsNotFound(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	pushMany(t, c, "a", 3)

	id, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-b-1")
	require.NoError(t, err)
	require.False(t, found)
	require.Empty(t, id)
	require.Equal(t, 1, fake.Lists())
}

func TestFindInvoiceItemOtherCustomerIsNotFound(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	it := newItem("mine")
	_, err := c.CreateInvoiceItem(t.Context(), it)
	require.NoError(t, err)

	// The same charge id under another customer is not this customer's.
	id, found, err := c.FindInvoiceItem(t.Context(), "cus_SomeoneElse", it.Metadata["charge_id"])
	require.NoError(t, err)
	require.False(t, found)
	require.Empty(t, id)
	require.Equal(t, 1, fake.Lists())
}

func TestFindInvoiceItemReadsEveryPage(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	ids := pushMany(t, c, "bulk", 150)

	// Newest first: the first item pushed is on the second page of 100.
	id, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-bulk-1")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, ids[0], id)
	require.Equal(t, 2, fake.Lists(), "two pages of 100")

	// A recent one is on the first page: the search stops there.
	id, found, err = c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-bulk-150")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, ids[149], id)
	require.Equal(t, 3, fake.Lists())

	// A miss reads every page.
	_, found, err = c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-bulk-151")
	require.NoError(t, err)
	require.False(t, found)
	require.Equal(t, 5, fake.Lists())
}

// The danger FindInvoiceItem guards against: once Stripe has forgotten an
// idempotency key, pushing the charge again creates a second invoice item.
func TestFindInvoiceItemAfterIdempotencyKeyExpired(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	it := newItem("yesterday")
	first, err := c.CreateInvoiceItem(t.Context(), it)
	require.NoError(t, err)
	fake.ExpireIdempotencyKeys() // a day passes

	// The guard: the item from yesterday's attempt is found, so the job
	// records it instead of pushing again.
	id, found, err := c.FindInvoiceItem(t.Context(), it.Customer, it.Metadata["charge_id"])
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, first, id)

	// Without the guard, the same key no longer protects the charge.
	second, err := c.CreateInvoiceItem(t.Context(), it)
	require.NoError(t, err)
	require.NotEqual(t, first, second, "an expired key creates a duplicate")
	items := fake.Items()
	require.Len(t, items, 2)
	require.Equal(t, items[0].Metadata, items[1].Metadata)

	// With a duplicate in Stripe, the newest copy is the one found.
	id, found, err = c.FindInvoiceItem(t.Context(), it.Customer, it.Metadata["charge_id"])
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, second, id)
}

func TestFindInvoiceItemRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), // default retries
		stripeclient.WithRetryDelay(time.Millisecond),
		stripeclient.WithLogger(zerolog.New(&buf)))
	it := newItem("flaky")
	want, err := c.CreateInvoiceItem(t.Context(), it)
	require.NoError(t, err)
	fake.FailNext(stripeclient.DefaultMaxNetworkRetries, http.StatusServiceUnavailable)

	id, found, err := c.FindInvoiceItem(t.Context(), it.Customer, it.Metadata["charge_id"])
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, want, id)
	require.Equal(t, stripeclient.DefaultMaxNetworkRetries+1, fake.Lists())

	out := buf.String()
	require.Contains(t, out, `"message":"stripe invoice item list failed; retrying"`)
	require.Contains(t, out, `"charge_id":"charge-flaky"`)
	require.Contains(t, out, `"customer":"cus_TestCustomer1"`)
	require.NotContains(t, out, testKey)
}

func TestFindInvoiceItemGivesUp(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond))
	fake.FailNext(stripeclient.DefaultMaxNetworkRetries+1, http.StatusServiceUnavailable)

	id, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-down")
	require.Error(t, err)
	require.False(t, found)
	require.Empty(t, id)
	require.True(t, stripeclient.IsUnavailable(err), "error: %v", err)
	require.Contains(t, err.Error(), `find stripe invoice item for customer "cus_TestCustomer1" (charge id "charge-down")`)
	require.Contains(t, err.Error(), fmt.Sprintf("after %d attempts", stripeclient.DefaultMaxNetworkRetries+1))
	require.Contains(t, err.Error(), "HTTP 503")
	require.NotContains(t, err.Error(), testKey)
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusServiceUnavailable, se.HTTPStatusCode)
	require.Equal(t, stripeclient.DefaultMaxNetworkRetries+1, fake.Lists())
}

func TestFindInvoiceItemRejectionIsNotRetried(t *testing.T) {
	t.Parallel()
	fake := stripetest.NewFake(t)
	c := stripeclient.New(testKey, fake.URL(), stripeclient.WithRetryDelay(time.Millisecond)) // retries on
	fake.FailNext(5, http.StatusUnauthorized)

	_, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-x")
	require.Error(t, err)
	require.False(t, found)
	require.False(t, stripeclient.IsUnavailable(err), "error: %v", err)
	require.Contains(t, err.Error(), "HTTP 401")
	require.Equal(t, 1, fake.Lists())
}

// A failure on a later page is retried on that page, not from the first.
func TestFindInvoiceItemRetriesAPageOnItsOwn(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 1)
	ids := pushMany(t, c, "paged", 150)

	// In front of the fake: fail the first request for a later page once.
	var failed atomic.Bool
	target, err := url.Parse(fake.URL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("starting_after") != "" && failed.CompareAndSwap(false, true) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"error":{"type":"api_error","message":"bad gateway"}}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c = stripeclient.New(testKey, srv.URL,
		stripeclient.WithMaxNetworkRetries(1), stripeclient.WithRetryDelay(time.Millisecond))

	id, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-paged-1")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, ids[0], id)
	require.True(t, failed.Load())
	require.Equal(t, 2, fake.Lists(), "page 1 once, page 2 once after its failure at the proxy")
}

func TestFindInvoiceItemStripeDown(t *testing.T) {
	t.Parallel()
	fake, c := newFakeClient(t, 0)
	fake.Down()

	_, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-down")
	require.Error(t, err)
	require.False(t, found)
	require.True(t, stripeclient.IsUnavailable(err), "error: %v", err)
	require.Contains(t, err.Error(), "connection refused")
	require.Contains(t, err.Error(), `charge id "charge-down"`)
	require.NotContains(t, err.Error(), testKey)
}

func TestFindInvoiceItemInvalidArgumentsAreNotSent(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ customer, chargeID string }{
		"no customer":  {"", "charge-1"},
		"no charge id": {"cus_TestCustomer1", " "},
		"neither":      {"", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake, c := newFakeClient(t, 0)

			_, found, err := c.FindInvoiceItem(t.Context(), tt.customer, tt.chargeID)
			require.ErrorIs(t, err, stripeclient.ErrInvalidItem)
			require.False(t, found)
			require.False(t, stripeclient.IsUnavailable(err))
			require.Zero(t, fake.Lists())
		})
	}
}

func TestFindInvoiceItemBadBaseURL(t *testing.T) {
	t.Parallel()
	c := stripeclient.New(testKey, "127.0.0.1:12111")
	_, found, err := c.FindInvoiceItem(t.Context(), "cus_TestCustomer1", "charge-1")
	require.Error(t, err)
	require.False(t, found)
	require.Contains(t, err.Error(), "base URL")
	require.False(t, stripeclient.IsUnavailable(err))
}
