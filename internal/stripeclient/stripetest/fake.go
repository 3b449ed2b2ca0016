package stripetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rateLimitMessage is the message of a rate-limited answer, after Stripe's
// (which comes with HTTP 429, type invalid_request_error, code rate_limit).
const rateLimitMessage = "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."

// invoiceItemsPath is the one endpoint Fake serves.
const invoiceItemsPath = "/v1/invoiceitems"

// Stripe's default and maximum page sizes for a list.
const (
	defaultListLimit = 10
	maxListLimit     = 100
)

// RecordedItem is an invoice item the Fake created.
type RecordedItem struct {
	ID             string // ii_fake_N, N counting from 1
	Customer       string
	AmountCents    int64
	Currency       string
	Description    string
	Metadata       map[string]string // nil when none was sent
	IdempotencyKey string            // "" when the request had none
}

// Fake is a fake Stripe API on an httptest server, for tests of code that
// pushes invoice items. It serves POST /v1/invoiceitems (form-encoded, as
// stripe-go sends it) and GET /v1/invoiceitems (a list, see below), and
// answers anything else with 404 in Stripe's error shape. A request without
// an Authorization bearer token gets 401.
//
// Like Stripe, it stores the outcome of a create under the request's
// Idempotency-Key: a later request with the same key and the same
// parameters gets the stored response (with header Idempotent-Replayed:
// true) and creates nothing; the same key with different parameters gets
// 400 idempotency_error. Stripe forgets a key after about 24 hours;
// ExpireIdempotencyKeys makes the Fake forget them all at once. Failures
// injected by FailNext are not stored, as Stripe stores nothing for a
// request its API never began to execute.
//
// The list answers a Stripe list object ({"object":"list","data":[...],
// "has_more":...,"url":"/v1/invoiceitems"}) of the items created so far,
// newest first as Stripe orders them, each as its create was answered.
// It honours customer (only that customer's items), limit (1 to 100,
// default 10), starting_after and ending_before (an item id, of any
// customer; an unknown one is 400 resource_missing). Other parameters are
// refused with 400 rather than ignored.
//
// SetLatency makes every request take a while, as the way to Stripe and
// back does, without serialising them: MaxInFlight tells how many were
// served at once. RateLimitNext answers creates the way Stripe's rate
// limiter does.
//
// All methods are safe to call from any goroutine, including while requests
// are in flight.
type Fake struct {
	srv       *httptest.Server
	closed    chan struct{} // closed by Down or cleanup
	closeOnce sync.Once

	mu          sync.Mutex
	requests    int        // POSTs received, any path, any outcome
	lists       int        // GETs received, any path, any outcome
	served      int        // all requests, for Request-Id
	items       []fakeItem // in creation order
	byKey       map[string]storedResponse
	failN       int
	failStatus  int
	limitN      int           // POSTs left to rate limit
	limitAfter  time.Duration // their Retry-After; 0 for none
	acceptFailN int
	blockers    []*blocker // armed by BlockAfterAccept, consumed in order
	latency     time.Duration
	inFlight    int // requests in the handler now, waiting or served
	maxInFlight int // the most at any one time
}

// fakeItem is a created item and the JSON its create was answered with,
// which the list repeats.
type fakeItem struct {
	RecordedItem
	body []byte
}

type storedResponse struct {
	fingerprint string // the request's form values, encoded in key order
	body        []byte
}

type blocker struct {
	accepted    chan struct{}
	release     chan struct{}
	releaseOnce sync.Once
}

// NewFake starts a Fake. It shuts down when the test ends, releasing any
// request held by BlockAfterAccept.
func NewFake(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{
		closed: make(chan struct{}),
		byKey:  make(map[string]storedResponse),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(f.shutdown)
	return f
}

// URL is the base URL to hand to stripeclient.New.
func (f *Fake) URL() string { return f.srv.URL }

// Items returns the invoice items created so far, in creation order. A
// replay of an idempotency key creates nothing, so each charge appears once.
func (f *Fake) Items() []RecordedItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]RecordedItem, len(f.items))
	for i, it := range f.items {
		rec := it.RecordedItem
		rec.Metadata = maps.Clone(rec.Metadata)
		out[i] = rec
	}
	return out
}

// Requests returns how many POST requests the Fake received: creates,
// replays, injected failures and rejected requests alike. stripe-go's own
// retries count one each. GET requests (lists) are counted by Lists.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Lists returns how many GET requests the Fake received: each page of a
// list, injected failures and rejected requests alike.
func (f *Fake) Lists() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

// ExpireIdempotencyKeys forgets every stored idempotency key, as Stripe
// does about 24 hours after a key's first use: a create that reuses one
// creates a new item. The items created so far stay, in Items and in the
// list. A request held by BlockAfterAccept still gets its answer.
func (f *Fake) ExpireIdempotencyKeys() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.byKey)
}

// MaxInFlight returns the largest number of requests the Fake was handling
// at the same moment, counting those waiting out SetLatency: above 1 only if
// requests really overlapped.
func (f *Fake) MaxInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInFlight
}

// SetLatency makes every request that arrives from now on wait d before it
// is served, as if Stripe were d away; 0 (or less) serves at once. The
// requests wait side by side, not one after another, so n concurrent
// requests take about d, not n*d. The wait ends early, and the request is
// dropped uncounted, when the client gives up or the Fake shuts down.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = max(d, 0)
}

// RateLimitNext makes the next n POST requests fail as Stripe's rate
// limiter fails them, creating and storing nothing: HTTP 429 with
// {"error":{"type":"invalid_request_error","code":"rate_limit",...}} and a
// Stripe-Rate-Limited-Reason header. Stripe documents no Retry-After
// header; retryAfter > 0 adds one anyway (whole seconds, rounded up), as a
// gateway in front of Stripe might, so a test can check that it is obeyed.
// Calls add up: the retryAfter of the last call applies to all pending rate
// limits. GET requests (lists) are not rate limited, and a rate-limited
// POST does not consume a FailNext failure.
//
// stripeclient retries a 429 after a pause, up to
// stripeclient.DefaultMaxRateLimitRetries times (see
// stripeclient.WithMaxRateLimitRetries).
func (f *Fake) RateLimitNext(n int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limitN += max(n, 0)
	f.limitAfter = retryAfter
}

// FailNext makes the next n requests (creates and lists alike) fail with
// HTTP status and a Stripe-shaped JSON error body, creating and storing
// nothing (as a load balancer's 503 would; a 429 is answered as by
// RateLimitNext, without Retry-After). Calls add up: the status of the last
// call applies to all pending failures.
//
// stripeclient retries 409 and 5xx answers itself, each retry consuming one
// failure: New's default is 2 retries (3 attempts). To see a 503 reach the
// caller, build the client with stripeclient.WithMaxNetworkRetries(0) or
// fail retries+1 requests. A 429 is retried on a budget of its own (see
// RateLimitNext); other 4xx are not retried.
func (f *Fake) FailNext(n int, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN += max(n, 0)
	f.failStatus = status
}

// AcceptThenFail makes the next n creating requests create the item, store
// it under their idempotency key, and then answer 500 as if the response
// had been lost on the way back. A retry with the same key (stripeclient's
// own, or the caller's) gets the stored success and creates nothing.
// Replays do not consume a pending AcceptThenFail.
func (f *Fake) AcceptThenFail(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acceptFailN += max(n, 0)
}

// BlockAfterAccept makes the next creating request (after any pending
// AcceptThenFail) create and store the item, close accepted, and then hold
// the response until release is called, the client goes away, or the Fake
// shuts down. It lets a test kill a process that is waiting on Stripe after
// Stripe committed the charge. Each call arms one more request. release may
// be called any number of times, also before the request arrives.
//
// While the response is held, a request with the same idempotency key gets
// the stored success at once: the Fake models the moment after Stripe
// committed, when only the answer is still in flight.
func (f *Fake) BlockAfterAccept() (accepted <-chan struct{}, release func()) {
	b := &blocker{accepted: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.blockers = append(f.blockers, b)
	f.mu.Unlock()
	return b.accepted, func() { b.releaseOnce.Do(func() { close(b.release) }) }
}

// Down shuts the server: its listener is closed, so connections to URL are
// refused from then on, and held requests are dropped. Items, Requests and
// Lists still report what happened before.
func (f *Fake) Down() { f.shutdown() }

func (f *Fake) shutdown() {
	f.closeOnce.Do(func() {
		close(f.closed) // unblock held handlers first: Close waits for them
		f.srv.Close()
	})
}

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	latency := f.latency
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if latency > 0 && !f.wait(r, latency) {
		return
	}

	f.mu.Lock()
	f.served++
	w.Header().Set("Request-Id", fmt.Sprintf("req_fake_%d", f.served))
	switch r.Method {
	case http.MethodPost:
		f.requests++
	case http.MethodGet:
		f.lists++
	}
	if r.Method == http.MethodPost && f.limitN > 0 {
		f.limitN--
		retryAfter := f.limitAfter
		f.mu.Unlock()
		writeRateLimited(w, retryAfter)
		return
	}
	if f.failN > 0 {
		f.failN--
		status := f.failStatus
		f.mu.Unlock()
		writeInjectedFailure(w, status)
		return
	}
	f.mu.Unlock()

	if (r.Method != http.MethodPost && r.Method != http.MethodGet) || r.URL.Path != invoiceItemsPath {
		writeError(w, http.StatusNotFound, apiError{
			Type: "invalid_request_error",
			Message: fmt.Sprintf("Unrecognized request URL (%s: %s). The fake Stripe serves only POST and GET %s.",
				r.Method, r.URL.Path, invoiceItemsPath),
		})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") == "" {
		writeError(w, http.StatusUnauthorized, apiError{
			Type:    "invalid_request_error",
			Message: "You did not provide an API key. Provide it as a Bearer token in the Authorization header.",
		})
		return
	}
	if r.Method == http.MethodGet {
		f.serveList(w, r.URL.Query())
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, apiError{
			Type: "invalid_request_error", Message: "Invalid request body: " + err.Error(),
		})
		return
	}
	item, apiErr := parseItem(r.PostForm)
	if apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	item.IdempotencyKey = key
	fingerprint := r.PostForm.Encode()

	f.mu.Lock()
	if stored, ok := f.byKey[key]; key != "" && ok {
		f.mu.Unlock()
		if stored.fingerprint != fingerprint {
			writeError(w, http.StatusBadRequest, apiError{
				Type: "idempotency_error",
				Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. "+
					"Try using a key other than '%s' if you meant to execute a different request.", key),
			})
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, stored.body)
		return
	}
	item.ID = fmt.Sprintf("ii_fake_%d", len(f.items)+1)
	body := itemJSON(item)
	f.items = append(f.items, fakeItem{RecordedItem: item, body: body})
	if key != "" {
		f.byKey[key] = storedResponse{fingerprint: fingerprint, body: body}
	}
	loseResponse := f.acceptFailN > 0
	var hold *blocker
	if loseResponse {
		f.acceptFailN--
	} else if len(f.blockers) > 0 {
		hold = f.blockers[0]
		f.blockers = f.blockers[1:]
	}
	f.mu.Unlock()

	if loseResponse {
		writeError(w, http.StatusInternalServerError, apiError{
			Type:    "api_error",
			Message: "fake Stripe: the invoice item was created but this response was lost (AcceptThenFail)",
		})
		return
	}
	if hold != nil {
		close(hold.accepted)
		select {
		case <-hold.release:
		case <-r.Context().Done():
			return // the client is gone; nobody is left to answer
		case <-f.closed:
			panic(http.ErrAbortHandler) // drop the connection, as a dead server would
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// wait holds the request for d (see SetLatency), without the lock. It
// reports false when the client went away first; when the Fake shuts down
// first, it drops the connection, as a dead server would.
func (f *Fake) wait(r *http.Request, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	case <-f.closed:
		panic(http.ErrAbortHandler)
	}
}

// serveList answers GET /v1/invoiceitems (see Fake).
func (f *Fake) serveList(w http.ResponseWriter, query url.Values) {
	for name := range query {
		switch name {
		case "customer", "limit", "starting_after", "ending_before":
		default:
			writeError(w, http.StatusBadRequest, apiError{Type: "invalid_request_error", Code: "parameter_unknown", Param: name,
				Message: fmt.Sprintf("Received unknown parameter: %s (the fake Stripe lists by customer, limit, starting_after and ending_before only)", name)})
			return
		}
	}
	limit := defaultListLimit
	if raw := query.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, apiError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "limit",
				Message: fmt.Sprintf("Invalid limit %q: must be an integer from 1 to %d.", raw, maxListLimit)})
			return
		}
		limit = n
	}
	after, before := query.Get("starting_after"), query.Get("ending_before")
	if after != "" && before != "" {
		writeError(w, http.StatusBadRequest, apiError{Type: "invalid_request_error",
			Message: "You may only specify one of these parameters: starting_after, ending_before."})
		return
	}
	customer := query.Get("customer")

	f.mu.Lock()
	// Newest first; a cursor's position is among all items, of any customer.
	newest := make([]fakeItem, 0, len(f.items))
	cursor := -1
	for i := len(f.items) - 1; i >= 0; i-- {
		if id := f.items[i].ID; id == after || id == before {
			cursor = len(newest)
		}
		newest = append(newest, f.items[i])
	}
	f.mu.Unlock()

	if cursorID := after + before; cursorID != "" && cursor < 0 {
		param := "starting_after"
		if before != "" {
			param = "ending_before"
		}
		writeError(w, http.StatusBadRequest, apiError{Type: "invalid_request_error", Code: "resource_missing", Param: param,
			Message: fmt.Sprintf("No such invoiceitem: '%s'", cursorID)})
		return
	}
	var candidates []fakeItem
	switch {
	case after != "":
		candidates = newest[cursor+1:]
	case before != "":
		candidates = newest[:cursor]
	default:
		candidates = newest
	}
	var matching []json.RawMessage
	for _, it := range candidates {
		if customer == "" || it.Customer == customer {
			matching = append(matching, it.body)
		}
	}
	page := matching
	if len(page) > limit {
		if before != "" {
			page = page[len(page)-limit:] // the items just before the cursor
		} else {
			page = page[:limit]
		}
	}
	if page == nil {
		page = []json.RawMessage{}
	}
	body, err := json.Marshal(map[string]any{
		"object":   "list",
		"data":     page,
		"has_more": len(matching) > len(page),
		"url":      invoiceItemsPath,
	})
	if err != nil {
		panic(fmt.Sprintf("stripetest: encode list: %v", err)) // the items were encoded once already
	}
	writeJSON(w, http.StatusOK, body)
}

// parseItem reads the parameters stripe-go sends for an invoice item.
func parseItem(form url.Values) (RecordedItem, *apiError) {
	it := RecordedItem{
		Customer:    form.Get("customer"),
		Currency:    form.Get("currency"),
		Description: form.Get("description"),
	}
	if it.Customer == "" {
		return it, &apiError{Type: "invalid_request_error", Code: "parameter_missing", Param: "customer",
			Message: "Missing required param: customer."}
	}
	if raw := form.Get("amount"); raw != "" {
		amount, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return it, &apiError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "amount",
				Message: fmt.Sprintf("Invalid integer: %s", raw)}
		}
		it.AmountCents = amount
	}
	for k, vs := range form {
		name, ok := strings.CutPrefix(k, "metadata[")
		if !ok || !strings.HasSuffix(name, "]") || len(vs) == 0 {
			continue
		}
		if it.Metadata == nil {
			it.Metadata = make(map[string]string)
		}
		it.Metadata[strings.TrimSuffix(name, "]")] = vs[0]
	}
	return it, nil
}

// itemJSON renders an invoice item the way Stripe does, as far as stripe-go
// decodes it.
func itemJSON(it RecordedItem) []byte {
	metadata := it.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	var description *string
	if it.Description != "" {
		description = &it.Description
	}
	body, err := json.Marshal(map[string]any{
		"id":           it.ID,
		"object":       "invoiceitem",
		"amount":       it.AmountCents,
		"currency":     it.Currency,
		"customer":     it.Customer,
		"description":  description,
		"metadata":     metadata,
		"date":         time.Now().Unix(),
		"discountable": true,
		"invoice":      nil,
		"livemode":     false,
		"proration":    false,
		"quantity":     1,
	})
	if err != nil {
		panic(fmt.Sprintf("stripetest: encode invoice item: %v", err)) // maps of strings always encode
	}
	return body
}

// apiError is the "error" object of a Stripe error response.
type apiError struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Param   string `json:"param,omitempty"`
	Message string `json:"message"`
}

// writeRateLimited answers as Stripe's rate limiter does (see
// RateLimitNext).
func writeRateLimited(w http.ResponseWriter, retryAfter time.Duration) {
	w.Header().Set("Stripe-Rate-Limited-Reason", "global-rate")
	if retryAfter > 0 {
		secs := (retryAfter + time.Second - 1) / time.Second
		w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	writeError(w, http.StatusTooManyRequests, apiError{
		Type: "invalid_request_error", Code: "rate_limit", Message: rateLimitMessage,
	})
}

func writeInjectedFailure(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		writeRateLimited(w, 0)
		return
	}
	e := apiError{
		Type:    "invalid_request_error",
		Message: fmt.Sprintf("fake Stripe: injected failure (HTTP %d %s)", status, http.StatusText(status)),
	}
	switch {
	case status >= http.StatusInternalServerError:
		e.Type = "api_error"
	case status == http.StatusConflict:
		e.Type, e.Code = "idempotency_error", "idempotency_key_in_use"
	case status == http.StatusPaymentRequired:
		e.Type = "card_error"
	}
	writeError(w, status, e)
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	body, err := json.Marshal(map[string]apiError{"error": e})
	if err != nil {
		panic(fmt.Sprintf("stripetest: encode error: %v", err)) // strings always encode
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
