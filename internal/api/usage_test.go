package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/api"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// recorded sums a client's usage rows: events and units.
func recorded(e *env, id uuid.UUID) (events, units int64) {
	e.t.Helper()
	e.F.Scalar(&events, `SELECT count(*) FROM usage_logs WHERE client_id = $1`, id)
	e.F.Scalar(&units, `SELECT coalesce(sum(quantity), 0) FROM usage_logs WHERE client_id = $1`, id)
	return events, units
}

func TestPostUsageRecordsOneEventWithDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.F.Client("starter")
	key := e.F.APIKey(id)

	r := e.do("POST", "/v1/usage", map[string]any{"operation_type": "query"}, bearer(key)...)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.JSONEq(t, `{"recorded":1,"quantity":1}`, string(r.Body))
	require.Equal(t, "active", r.Header.Get("X-Billing-Status"))
	require.Empty(t, r.Header.Get("Warning"))

	var at time.Time
	var qty int
	e.F.Scalar(&at, `SELECT occurred_at FROM usage_logs WHERE client_id = $1`, id)
	e.F.Scalar(&qty, `SELECT quantity FROM usage_logs WHERE client_id = $1`, id)
	require.True(t, at.Equal(e.Clock.Now()), "occurred_at defaults to the server's clock: %s", at)
	require.Equal(t, 1, qty)
}

func TestPostUsageBatchIsOneWriteAllOrNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.F.Client("starter")
	key := e.F.APIKey(id)
	now := e.Clock.Now()

	events := make([]map[string]any, api.MaxBatch)
	for i := range events {
		events[i] = map[string]any{"operation_type": "query", "quantity": i%3 + 1, "occurred_at": now.Add(-time.Duration(i) * time.Millisecond)}
	}
	r := e.do("POST", "/v1/usage", map[string]any{"events": events}, bearer(key)...)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.JSONEq(t, `{"recorded":1000,"quantity":1999}`, string(r.Body))
	n, units := recorded(e, id)
	require.EqualValues(t, 1000, n)
	require.EqualValues(t, 1999, units)

	// One bad event in a batch: 400 naming it, and none of the batch recorded.
	events[500]["quantity"] = -1
	r = e.do("POST", "/v1/usage", map[string]any{"events": events}, bearer(key)...)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, api.CodeInvalidRequest, r.ErrorCode(t))
	require.Contains(t, string(r.Body), "events[500].quantity")
	n, _ = recorded(e, id)
	require.EqualValues(t, 1000, n, "nothing of the refused batch was recorded")

	// More than MaxBatch: refused whole.
	events[500]["quantity"] = 1
	r = e.do("POST", "/v1/usage", map[string]any{"events": append(events, events[0])}, bearer(key)...)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, string(r.Body), "1001 events")
}

func TestPostUsageRefusesBadInputAndRecordsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.F.Client("starter")
	key := e.F.APIKey(id)
	now := e.Clock.Now()
	period := billing.PeriodOf(now)

	cases := []struct {
		name   string
		body   any
		status int
		code   string
		says   string
	}{
		{"malformed JSON", `{"operation_type": "query"`, 400, api.CodeInvalidJSON, "ends in the middle"},
		{"not JSON", `operation_type=query`, 400, api.CodeInvalidJSON, "malformed JSON"},
		{"empty body", ``, 400, api.CodeInvalidJSON, "empty"},
		{"two values", `{"operation_type":"query"} {"operation_type":"query"}`, 400, api.CodeInvalidJSON, "more than one"},
		{"an array", `[{"operation_type":"query"}]`, 400, api.CodeInvalidJSON, "send a JSON object"},
		{"unknown field", `{"operation_type":"query","qty":2}`, 400, api.CodeInvalidRequest, `unknown field \"qty\"`},
		{"no operation", `{"quantity":2}`, 400, api.CodeInvalidRequest, "operation_type is required"},
		{"bad operation", `{"operation_type":"DROP TABLE"}`, 400, api.CodeInvalidRequest, "operation_type"},
		{"negative quantity", `{"operation_type":"query","quantity":-5}`, 400, api.CodeInvalidRequest, "quantity is -5"},
		{"zero quantity", `{"operation_type":"query","quantity":0}`, 400, api.CodeInvalidRequest, "quantity is 0"},
		{"fractional quantity", `{"operation_type":"query","quantity":1.5}`, 400, api.CodeInvalidRequest, "quantity"},
		{"huge quantity", `{"operation_type":"query","quantity":99999999999}`, 400, api.CodeInvalidRequest, "quantity"},
		{"string quantity", `{"operation_type":"query","quantity":"3"}`, 400, api.CodeInvalidRequest, "quantity"},
		{"bad timestamp", `{"operation_type":"query","occurred_at":"yesterday"}`, 400, api.CodeInvalidRequest, "RFC 3339"},
		{"far future", map[string]any{"operation_type": "query", "occurred_at": now.Add(24 * time.Hour)}, 400, api.CodeInvalidRequest, "more than 5m0s after"},
		{"just past the future bound", map[string]any{"operation_type": "query", "occurred_at": now.Add(api.MaxFuture + time.Second)}, 400, api.CodeInvalidRequest, "after the server's clock"},
		{"closed period", map[string]any{"operation_type": "query", "occurred_at": period.Start.Add(-time.Second)}, 400, api.CodeInvalidRequest, "closed period"},
		{"event and batch", `{"operation_type":"query","events":[{"operation_type":"query"}]}`, 400, api.CodeInvalidRequest, "not both"},
		{"empty batch", `{"events":[]}`, 400, api.CodeInvalidRequest, "0 events"},
		{"huge body", `{"operation_type":"` + strings.Repeat("q", api.DefaultMaxBody) + `"}`, 413, api.CodeBodyTooLarge, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, e.URL, "POST", "/v1/usage", c.body, bearer(key)...)
			require.Equal(t, c.status, r.Status, "%s", r.Body)
			require.Equal(t, c.code, r.ErrorCode(t))
			require.Contains(t, string(r.Body), c.says)
		})
	}
	n, _ := recorded(e, id)
	require.Zero(t, n, "no refused request recorded anything")

	// The bounds themselves are accepted.
	for _, at := range []time.Time{now.Add(api.MaxFuture), period.Start} {
		r := e.do("POST", "/v1/usage", map[string]any{"operation_type": "query", "occurred_at": at}, bearer(key)...)
		require.Equal(t, http.StatusCreated, r.Status, "%s: %s", at, r.Body)
	}
}

func TestPostUsageIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.F.Client("starter")
	key := e.F.APIKey(id)
	body := map[string]any{"events": []map[string]any{{"operation_type": "query", "quantity": 3}, {"operation_type": "embed"}}}
	h := with(bearer(key), "Idempotency-Key", "req-1")

	first := e.do("POST", "/v1/usage", body, h...)
	require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
	require.Empty(t, first.Header.Get("Idempotent-Replayed"))

	// The clock moves on: a retry still hashes the same (defaults are not part of it).
	e.Clock.Set(e.Clock.Now().Add(time.Second))
	again := e.do("POST", "/v1/usage", body, h...)
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(again.Body))
	n, units := recorded(e, id)
	require.EqualValues(t, 2, n, "a retry records nothing")
	require.EqualValues(t, 4, units)

	// The same key with another request: 422, nothing recorded.
	other := e.do("POST", "/v1/usage", map[string]any{"operation_type": "query"}, h...)
	require.Equal(t, http.StatusUnprocessableEntity, other.Status)
	require.Equal(t, api.CodeIdempotencyReused, other.ErrorCode(t))
	n, _ = recorded(e, id)
	require.EqualValues(t, 2, n)

	// Keys belong to a client: another client's same key is its own.
	id2 := e.F.Client("starter")
	r := e.do("POST", "/v1/usage", body, with(bearer(e.F.APIKey(id2)), "Idempotency-Key", "req-1")...)
	require.Equal(t, http.StatusCreated, r.Status)
	require.Empty(t, r.Header.Get("Idempotent-Replayed"))
	n, _ = recorded(e, id2)
	require.EqualValues(t, 2, n)

	// A key that is not printable ASCII, or too long, is refused.
	for _, bad := range []string{"with space", strings.Repeat("k", api.MaxIdempotency+1)} {
		r := e.do("POST", "/v1/usage", body, with(bearer(key), "Idempotency-Key", bad)...)
		require.Equal(t, http.StatusBadRequest, r.Status)
	}
}

func TestPostUsageSameKeyConcurrentlyRecordsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.F.Client("starter")
	key := e.F.APIKey(id)
	body := map[string]any{"operation_type": "query", "quantity": 7}

	const n = 16
	var wg sync.WaitGroup
	results := make([]resp, n)
	for i := range n {
		wg.Go(func() { results[i] = e.do("POST", "/v1/usage", body, with(bearer(key), "Idempotency-Key", "same")...) })
	}
	wg.Wait()
	replayed := 0
	for _, r := range results {
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.JSONEq(t, `{"recorded":1,"quantity":7}`, string(r.Body))
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	require.Equal(t, n-1, replayed, "one request recorded, every other one replayed")
	events, units := recorded(e, id)
	require.EqualValues(t, 1, events)
	require.EqualValues(t, 7, units)
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.F.Client("starter")
	key := e.F.APIKey(id)
	other := e.F.APIKey(e.F.Client("starter"))
	body := map[string]any{"operation_type": "query"}

	for name, h := range map[string][]string{
		"no header":       nil,
		"basic auth":      {"Authorization", "Basic dXNlcjpwYXNz"},
		"malformed key":   bearer("sk_live_abc"),
		"unknown key":     bearer("ck_live_" + strings.Repeat("A", 26)),
		"key with spaces": {"Authorization", "Bearer"},
	} {
		t.Run(name, func(t *testing.T) {
			r := do(t, e.URL, "POST", "/v1/usage", body, h...)
			require.Equal(t, http.StatusUnauthorized, r.Status)
			require.Equal(t, api.CodeUnauthorized, r.ErrorCode(t))
			require.Equal(t, `Bearer realm="cortexlayer"`, r.Header.Get("WWW-Authenticate"))
		})
	}

	// A revoked key is refused at once, though the server has seen it a
	// moment ago; the other client's key still works.
	require.Equal(t, http.StatusCreated, e.do("POST", "/v1/usage", body, bearer(key)...).Status)
	e.F.Exec(`UPDATE api_keys SET revoked_at = now(), revoked_by = 'test' WHERE client_id = $1`, id)
	r := e.do("POST", "/v1/usage", body, bearer(key)...)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Contains(t, string(r.Body), "revoked")
	r = e.do("GET", "/v1/usage", nil, bearer(key)...)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, http.StatusOK, e.do("GET", "/v1/usage", nil, bearer(other)...).Status)
	n, _ := recorded(e, id)
	require.EqualValues(t, 1, n, "only the request before the revocation")
}

func TestClientStatusIsEnforcedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.F.Client("starter")
	key := e.F.APIKey(id)
	body := map[string]any{"operation_type": "query"}

	for _, reason := range []string{billing.ReasonHardCap, billing.ReasonGraceExpired, billing.ReasonAdmin} {
		e.F.Disable(id, reason)
		r := e.do("POST", "/v1/usage", body, bearer(key)...)
		require.Equal(t, http.StatusForbidden, r.Status, reason)
		require.Equal(t, api.CodeClientDisabled, r.ErrorCode(t))
		var b struct {
			Error struct{ Reason, Message string }
		}
		r.JSON(t, &b)
		require.Equal(t, reason, b.Error.Reason)
		require.NotContains(t, b.Error.Message, "contact support;", "one sentence of what to do")
		require.Equal(t, http.StatusForbidden, e.do("GET", "/v1/usage", nil, bearer(key)...).Status)

		// Re-enabled: served again on the very next request (nothing cached).
		e.F.Exec(`UPDATE clients SET billing_status = 'active', disabled_reason = NULL WHERE id = $1`, id)
		require.Equal(t, http.StatusCreated, e.do("POST", "/v1/usage", body, bearer(key)...).Status, reason)
	}

	e.F.Exec(`UPDATE clients SET billing_status = 'cancelled' WHERE id = $1`, id)
	r := e.do("POST", "/v1/usage", body, bearer(key)...)
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, api.CodeClientCancelled, r.ErrorCode(t))

	// In grace: served, with a warning.
	e.F.Exec(`UPDATE clients SET billing_status = 'grace_period', grace_period_started_at = now() WHERE id = $1`, id)
	r = e.do("POST", "/v1/usage", body, bearer(key)...)
	require.Equal(t, http.StatusCreated, r.Status)
	require.Equal(t, api.GraceWarning, r.Header.Get("Warning"))
	require.Equal(t, "grace_period", r.Header.Get("X-Billing-Status"))
	n, _ := recorded(e, id)
	require.EqualValues(t, 4, n, "three re-enabled requests and the one in grace")
}

func TestGetUsageReportsThePeriod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.F.Plan("small", 100, 10_000) // soft 120, hard 150
	id := e.F.Client("small")
	key := e.F.APIKey(id)
	now := e.Clock.Now()
	period := billing.PeriodOf(now)
	e.F.Usage(id, 130, period.Start.Add(time.Hour))
	e.F.Usage(id, 1000, period.Start.Add(-time.Hour)) // the previous period: not counted
	e.F.Exec(`INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at) VALUES ($1, 'embed', 50, $2)`, id, now)
	e.F.Exec(`INSERT INTO overage_charges (client_id, period_start, units_from, units, amount_cents, currency, unit_price_micros, idempotency_key)
		VALUES ($1, $2, 0, 10, 10, 'usd', 10000, 'k1')`, id, period.Start)

	r := e.do("GET", "/v1/usage", nil, bearer(key)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var u struct {
		ClientID    string    `json:"client_id"`
		Status      string    `json:"status"`
		Period      string    `json:"period"`
		PeriodStart time.Time `json:"period_start"`
		Used        int64     `json:"used"`
		Limit       int64     `json:"limit"`
		SoftCap     int64     `json:"soft_cap"`
		HardCap     int64     `json:"hard_cap"`
		BilledUnits int64     `json:"billed_units"`
		BilledCents int64     `json:"billed_amount_cents"`
		Currency    string    `json:"currency"`
	}
	r.JSON(t, &u)
	require.Equal(t, id.String(), u.ClientID)
	require.Equal(t, "active", u.Status)
	require.Equal(t, period.String(), u.Period)
	require.True(t, u.PeriodStart.Equal(period.Start))
	require.EqualValues(t, 130, u.Used, "query units of this period only")
	require.EqualValues(t, 100, u.Limit)
	require.EqualValues(t, 120, u.SoftCap)
	require.EqualValues(t, 150, u.HardCap)
	require.EqualValues(t, 10, u.BilledUnits)
	require.EqualValues(t, 10, u.BilledCents)
	require.Equal(t, "usd", u.Currency)
}

func TestOperationsRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.do("GET", "/healthz", nil, "X-Request-ID", "abc-123")
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "abc-123", r.Header.Get("X-Request-ID"), "a sane X-Request-ID is kept")
	r = e.do("GET", "/healthz", nil, "X-Request-ID", "bad id with spaces")
	require.NotEqual(t, "bad id with spaces", r.Header.Get("X-Request-ID"))

	r = e.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.JSONEq(t, `{"status":"ready","checks":[{"name":"database","ok":true},{"name":"schema","ok":true}]}`, string(r.Body))

	// Not found and wrong method: the error shape, not the mux's text.
	r = e.do("GET", "/v2/nothing", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	require.Equal(t, api.CodeNotFound, r.ErrorCode(t))
	r = e.do("DELETE", "/v1/usage", nil)
	require.Equal(t, http.StatusMethodNotAllowed, r.Status)
	require.Equal(t, api.CodeMethodNotAllowed, r.ErrorCode(t))
	require.Contains(t, r.Header.Get("Allow"), "POST")
}

func TestReadyzFailsOnAnOldSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.F.Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`)
	r := e.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
	require.Contains(t, string(r.Body), `"name":"schema","ok":false`)
}

func TestMetricsCountRequestsAndReadJobRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.F.APIKey(e.F.Client("starter"))
	e.F.Exec(`INSERT INTO job_runs (id, job, status, host, pid, version, started_at, finished_at, exit_code)
		VALUES (gen_random_uuid(), 'billing-overage', 'succeeded', 'h', 1, 'v', '2026-03-01T00:00:00Z', '2026-03-01T00:00:30Z', 0),
		       (gen_random_uuid(), 'billing-overage', 'failed', 'h', 1, 'v', '2026-03-02T00:00:00Z', '2026-03-02T00:00:05Z', 69),
		       (gen_random_uuid(), 'billing-overage', 'succeeded', 'h', 1, 'v', '2026-03-03T00:00:00Z', '2026-03-03T00:00:01Z', 0)`)
	e.F.Exec(`UPDATE job_runs SET dry_run = true WHERE started_at = '2026-03-03T00:00:00Z'`)
	e.do("POST", "/v1/usage", map[string]any{"operation_type": "query"}, bearer(key)...)
	e.do("POST", "/v1/usage", `{`, bearer(key)...)

	r := e.do("GET", "/metrics", nil)
	require.Equal(t, http.StatusOK, r.Status)
	m := string(r.Body)
	for _, want := range []string{
		`cortexctl_http_requests_total{method="POST",route="POST /v1/usage",status="201"} 1`,
		`cortexctl_http_requests_total{method="POST",route="POST /v1/usage",status="400"} 1`,
		`cortexctl_http_request_duration_seconds_count{method="POST",route="POST /v1/usage"} 2`,
		`cortexctl_job_metrics_up 1`,
		// The dry run of 03-03 is not a success: the last one is 03-01's.
		fmt.Sprintf(`cortexctl_job_last_success_timestamp_seconds{job="billing-overage"} %g`, float64(time.Date(2026, 3, 1, 0, 0, 30, 0, time.UTC).Unix())),
		`cortexctl_job_last_run_status{job="billing-overage",status="failed"} 1`,
		`cortexctl_job_last_run_exit_code{job="billing-overage"} 69`,
		`cortexctl_job_last_run_duration_seconds{job="billing-overage"} 5`,
		`cortexctl_build_info{version="test"} 1`,
	} {
		require.Contains(t, m, want)
	}
}
