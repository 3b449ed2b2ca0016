package stripetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
	"github.com/cortexlayer/cortexctl/internal/testenv"
)

// post sends a form-encoded create the way stripe-go does and decodes the
// JSON answer.
func post(t *testing.T, base, path, key string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	status, hdr, body, err := tryPost(t.Context(), base, path, key, form)
	require.NoError(t, err)
	return status, hdr, body
}

// tryPost is post for goroutines other than the test's own.
func tryPost(ctx context.Context, base, path, key string, form url.Values) (int, http.Header, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer sk_test_123")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("decode answer: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

func itemForm(customer string) url.Values {
	return url.Values{
		"customer":            {customer},
		"amount":              {"999"},
		"currency":            {"eur"},
		"metadata[client_id]": {"c-1"},
	}
}

func stripeError(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	require.True(t, ok, "want a Stripe error object, got %v", body)
	require.NotEmpty(t, e["type"])
	require.NotEmpty(t, e["message"])
	return e
}

func TestFakeCreatesAndReplays(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)

	status, hdr, body := post(t, f.URL(), "/v1/invoiceitems", "k1", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ii_fake_1", body["id"])
	require.Equal(t, "invoiceitem", body["object"])
	require.EqualValues(t, 999, body["amount"])
	require.Equal(t, "eur", body["currency"])
	require.Equal(t, "cus_1", body["customer"])
	require.Equal(t, map[string]any{"client_id": "c-1"}, body["metadata"])
	require.Empty(t, hdr.Get("Idempotent-Replayed"))

	status, hdr, replay := post(t, f.URL(), "/v1/invoiceitems", "k1", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, body, replay)

	// Same key, other parameters: Stripe refuses.
	status, _, mismatch := post(t, f.URL(), "/v1/invoiceitems", "k1", itemForm("cus_2"))
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "idempotency_error", stripeError(t, mismatch)["type"])

	// No key: every request creates.
	for range 2 {
		status, _, _ = post(t, f.URL(), "/v1/invoiceitems", "", itemForm("cus_3"))
		require.Equal(t, http.StatusOK, status)
	}

	items := f.Items()
	require.Len(t, items, 3)
	require.Equal(t, stripetest.RecordedItem{
		ID: "ii_fake_1", Customer: "cus_1", AmountCents: 999, Currency: "eur",
		Metadata: map[string]string{"client_id": "c-1"}, IdempotencyKey: "k1",
	}, items[0])
	require.Equal(t, 5, f.Requests())

	items[0].Metadata["client_id"] = "changed"
	require.Equal(t, "c-1", f.Items()[0].Metadata["client_id"], "Items returns copies")
}

func TestFakeRejectsWhatStripeWould(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)

	status, _, body := post(t, f.URL(), "/v1/customers", "k", url.Values{"email": {"a@b.c"}})
	require.Equal(t, http.StatusNotFound, status)
	stripeError(t, body)

	status, _, body = post(t, f.URL(), "/v1/invoiceitems", "k", url.Values{"amount": {"1"}})
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "customer", stripeError(t, body)["param"])

	status, _, body = post(t, f.URL(), "/v1/invoiceitems", "k", url.Values{"customer": {"cus_1"}, "amount": {"1.5"}})
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "amount", stripeError(t, body)["param"])

	noKey, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.URL()+"/v1/invoiceitems", strings.NewReader("customer=cus_1"))
	require.NoError(t, err)
	noKey.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(noKey)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no API key")

	get, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.URL()+"/v1/invoiceitems", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(get)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a list needs the API key too")

	del, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, f.URL()+"/v1/invoiceitems", nil)
	require.NoError(t, err)
	del.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err = http.DefaultClient.Do(del)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	require.Empty(t, f.Items(), "rejected requests create nothing, and are not stored")
	require.Equal(t, 4, f.Requests(), "POSTs only")
	require.Equal(t, 1, f.Lists(), "GETs only")
	status, _, _ = post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status, "a rejected request did not burn its key")
}

func TestFakeFailNext(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext(2, http.StatusServiceUnavailable)

	for range 2 {
		status, _, body := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "api_error", stripeError(t, body)["type"])
	}
	require.Empty(t, f.Items())

	status, _, body := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ii_fake_1", body["id"])
	require.Equal(t, 3, f.Requests())
}

func TestFakeAcceptThenFail(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.AcceptThenFail(1)

	status, _, body := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusInternalServerError, status)
	stripeError(t, body)
	require.Len(t, f.Items(), 1)

	status, hdr, body := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, "ii_fake_1", body["id"])
	require.Len(t, f.Items(), 1)
}

func TestFakeBlockAfterAccept(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	accepted, release := f.BlockAfterAccept()

	type answer struct {
		status int
		id     any
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		status, _, body, err := tryPost(t.Context(), f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
		done <- answer{status, body["id"], err}
	}()

	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("request was never accepted")
	}
	require.Len(t, f.Items(), 1, "created before the answer is held")
	select {
	case <-done:
		t.Fatal("answered before release")
	case <-time.After(50 * time.Millisecond):
	}

	// Same key while held: the stored success, nothing new.
	status, _, body := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ii_fake_1", body["id"])

	release()
	release() // harmless
	select {
	case a := <-done:
		require.Equal(t, answer{http.StatusOK, "ii_fake_1", nil}, a)
	case <-time.After(5 * time.Second):
		t.Fatal("not answered after release")
	}
	require.Len(t, f.Items(), 1)
}

func TestFakeDownRefusesAndDropsHeldRequests(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	accepted, _ := f.BlockAfterAccept() // never released

	errc := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.URL()+"/v1/invoiceitems", strings.NewReader(itemForm("cus_1").Encode()))
		if err != nil {
			errc <- err
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			err = fmt.Errorf("held request was answered: %s", resp.Status)
		}
		errc <- err
	}()
	<-accepted

	f.Down() // must not wait for the held request
	f.Down() // harmless

	select {
	case err := <-errc:
		require.Error(t, err, "the held request is dropped")
	case <-time.After(5 * time.Second):
		t.Fatal("held request still hanging after Down")
	}

	dialer := net.Dialer{Timeout: time.Second}
	_, err := dialer.DialContext(t.Context(), "tcp", strings.TrimPrefix(f.URL(), "http://"))
	require.Error(t, err, "connections are refused after Down")
	require.Len(t, f.Items(), 1, "what happened before Down is still reported")
	require.Equal(t, 1, f.Requests())
}

func TestFakeIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext(5, http.StatusBadGateway)
	f.AcceptThenFail(5)

	var wg sync.WaitGroup
	errs := make(chan error, 80)
	var failedLists atomic.Int64
	for i := range 40 {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i%10)
			for {
				status, _, _, err := tryPost(t.Context(), f.URL(), "/v1/invoiceitems", key, itemForm("cus_"+key))
				if err != nil || status == http.StatusOK {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			status, err := tryList(t.Context(), f.URL(), fmt.Sprintf("cus_k%d", i%10))
			if status == http.StatusBadGateway {
				failedLists.Add(1)
			}
			errs <- err
		})
		wg.Go(func() { _ = f.Items(); _ = f.Requests(); _ = f.Lists() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	items := f.Items()
	require.Len(t, items, 10, "one item per key")
	seen := map[string]bool{}
	for _, it := range items {
		require.False(t, seen[it.IdempotencyKey], "duplicate for %s", it.IdempotencyKey)
		seen[it.IdempotencyKey] = true
	}
	require.Equal(t, 40, f.Lists())
	// 40 POSTs succeeded, 5 lost their answer, and each injected failure
	// hit one request: a POST (retried) or a GET.
	require.Equal(t, 40+5+5, f.Requests()+int(failedLists.Load()))
}

func TestFakeLatencyOverlapsRequests(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.SetLatency(100 * time.Millisecond)

	const workers = 8
	start := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			<-start
			status, _, _, err := tryPost(t.Context(), f.URL(), "/v1/invoiceitems", fmt.Sprintf("k%d", i), itemForm("cus_1"))
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("status %d", status)
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Greater(t, f.MaxInFlight(), 1, "requests waited side by side")
	require.LessOrEqual(t, f.MaxInFlight(), workers)
	require.Len(t, f.Items(), workers)
	require.Equal(t, workers, f.Requests())
}

func TestFakeLatencyEndsWithClientOrFake(t *testing.T) {
	t.Parallel()
	t.Run("client gives up", func(t *testing.T) {
		t.Parallel()
		f := stripetest.NewFake(t)
		f.SetLatency(time.Hour)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()

		_, _, _, err := tryPost(ctx, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		f.SetLatency(0)
		status, _, _ := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, 1, f.Requests(), "the abandoned request was never served")
	})
	t.Run("fake shuts down", func(t *testing.T) {
		t.Parallel()
		f := stripetest.NewFake(t)
		f.SetLatency(time.Hour)
		errc := make(chan error, 1)
		go func() {
			_, _, _, err := tryPost(t.Context(), f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
			errc <- err
		}()
		require.Eventually(t, func() bool { return f.MaxInFlight() == 1 }, 5*time.Second, time.Millisecond)

		f.Down() // must not wait out the latency
		select {
		case err := <-errc:
			require.Error(t, err, "the waiting request is dropped")
		case <-time.After(5 * time.Second):
			t.Fatal("request still waiting after Down")
		}
		require.Empty(t, f.Items())
	})
}

func TestFakeRateLimitNext(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.RateLimitNext(2, 1500*time.Millisecond)
	f.FailNext(1, http.StatusServiceUnavailable)

	status, err := tryList(t.Context(), f.URL(), "cus_1")
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, status, "a list is not rate limited; it takes the FailNext")

	for range 2 {
		status, hdr, body := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
		require.Equal(t, http.StatusTooManyRequests, status)
		require.Equal(t, "2", hdr.Get("Retry-After"), "whole seconds, rounded up")
		require.NotEmpty(t, hdr.Get("Stripe-Rate-Limited-Reason"))
		require.NotEmpty(t, hdr.Get("Request-Id"))
		e := stripeError(t, body)
		require.Equal(t, "invalid_request_error", e["type"])
		require.Equal(t, "rate_limit", e["code"])
	}
	require.Empty(t, f.Items(), "a rate-limited request creates nothing")

	f.RateLimitNext(1, 0)
	status, hdr, _ := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Empty(t, hdr.Get("Retry-After"))

	status, _, body := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status, "the key was not burnt")
	require.Equal(t, "ii_fake_1", body["id"])
	require.Equal(t, 4, f.Requests())
	require.Equal(t, 1, f.Lists())
}

// tryList lists a customer's invoice items from any goroutine and returns
// the status; the answer must be a Stripe list or a Stripe error.
func tryList(ctx context.Context, base, customer string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/invoiceitems?customer="+url.QueryEscape(customer), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return resp.StatusCode, fmt.Errorf("decode answer: %w", err)
	}
	if body["object"] != "list" && body["error"] == nil {
		return resp.StatusCode, fmt.Errorf("neither a list nor an error: %v", body)
	}
	return resp.StatusCode, nil
}

// tbRecorder captures Skip and Fatal from MockURL. Both end the goroutine,
// as the real ones do.
type tbRecorder struct {
	testing.TB
	skipped, failed string
}

func (r *tbRecorder) Helper() {}
func (r *tbRecorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *tbRecorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *tbRecorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runMockURL(t *testing.T) (url string, rec *tbRecorder) {
	rec = &tbRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url = stripetest.MockURL(rec)
	}()
	<-done
	return url, rec
}

func listen(t *testing.T) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := listen(t)
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// Not parallel: these set environment variables.
func TestMockURL(t *testing.T) {
	t.Run("answering", func(t *testing.T) {
		l, err := listen(t)
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })
		t.Setenv(stripetest.EnvMockURL, "http://"+l.Addr().String()+"/")
		t.Setenv(testenv.EnvSkip, stripetest.Service) // allows a skip, does not force one

		url, rec := runMockURL(t)
		require.Empty(t, rec.failed)
		require.Empty(t, rec.skipped)
		require.Equal(t, "http://"+l.Addr().String(), url)
	})
	t.Run("missing fails", func(t *testing.T) {
		t.Setenv(stripetest.EnvMockURL, "http://"+closedAddr(t))
		t.Setenv(testenv.EnvSkip, "")

		_, rec := runMockURL(t)
		require.Empty(t, rec.skipped)
		require.Contains(t, rec.failed, "stripe-mock -http-port 12111")
		require.Contains(t, rec.failed, stripetest.EnvMockURL)
	})
	t.Run("missing and opted out skips", func(t *testing.T) {
		t.Setenv(stripetest.EnvMockURL, "http://"+closedAddr(t))
		t.Setenv(testenv.EnvSkip, stripetest.Service)

		_, rec := runMockURL(t)
		require.Empty(t, rec.failed)
		require.Contains(t, rec.skipped, testenv.EnvSkip)
	})
	t.Run("malformed fails", func(t *testing.T) {
		t.Setenv(stripetest.EnvMockURL, "127.0.0.1:12111")

		_, rec := runMockURL(t)
		require.Contains(t, rec.failed, stripetest.EnvMockURL)
	})
}
