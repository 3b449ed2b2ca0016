package overage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// Tests of the Stripe push: bounded concurrency, one client's charges in
// chain order, rate limits, and what stops it.

// pushAsOf is the as-of of every push test; no usage exists, so a run only
// pushes the pending charges the test put in the ledger.
var pushAsOf = time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)

// pendingLedger creates clients on the starter plan, each with perClient
// pending charges of 100 units forming one chain (units_from 0, 100, ...),
// all written in one statement so they share created_at. It returns the
// client ids in creation order.
func pendingLedger(t testing.TB, d *dbtest.DB, clients, perClient int) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	ids := make([]uuid.UUID, clients)
	for i := range ids {
		ids[i] = uuid.New()
		_, err := d.Pool.Exec(ctx, `INSERT INTO clients (id, email, company_name, plan_code, stripe_customer_id, created_at)
			VALUES ($1, $2, 'Push Co', 'starter', $3, '2020-01-01')`, ids[i], ids[i].String()+"@example.test", "cus_"+ids[i].String()[:8])
		require.NoError(t, err)
	}
	_, err := d.Pool.Exec(ctx, `
		INSERT INTO overage_charges (client_id, period_start, units_from, units, amount_cents, currency, unit_price_micros, idempotency_key)
		SELECT c, '2026-03-01', n * 100, 100, 100, 'usd', 10000, 'push-' || c::text || '-' || n
		FROM unnest($1::uuid[]) c, generate_series($2::int - 1, 0, -1) n`, ids, perClient)
	require.NoError(t, err)
	return ids
}

func pushStripe(fake *stripetest.Fake) *stripeclient.Client {
	return stripeclient.New("sk_test_push", fake.URL(),
		stripeclient.WithRetryDelay(time.Millisecond), stripeclient.WithMaxNetworkRetries(1))
}

// pushRun runs the job for real with Stripe at fake and the given database.
func pushRun(t *testing.T, q db.DB, fake *stripetest.Fake, concurrency int) (overage.Report, error) {
	t.Helper()
	return overage.Run(context.Background(), overage.Deps{DB: q, Stripe: pushStripe(fake), RunID: uuid.New(), Log: zerolog.Nop()},
		overage.Options{
			Params:            runner.Params{AsOf: pushAsOf, Timeout: time.Minute},
			CloseWindow:       overage.DefaultCloseWindow,
			MaxDisablePercent: overage.DefaultMaxDisablePercent,
			StripeConcurrency: concurrency,
		})
}

func pendingCount(t *testing.T, d *dbtest.DB, extra string) int {
	t.Helper()
	var n int
	require.NoError(t, d.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM overage_charges WHERE status = 'pending' `+extra).Scan(&n))
	return n
}

func TestPushRunsClientsConcurrentlyEachInChainOrder(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ids := pendingLedger(t, d, 24, 3)
	fake := stripetest.NewFake(t)
	fake.SetLatency(20 * time.Millisecond)

	rep, err := pushRun(t, d.Pool, fake, 8)
	require.NoError(t, err)
	require.Equal(t, 72, rep.Stripe.Attempted)
	require.Equal(t, 72, rep.Stripe.Posted)
	require.Zero(t, rep.Stripe.Pending)
	require.Zero(t, pendingCount(t, d, ""))
	require.Greater(t, fake.MaxInFlight(), 1, "pushes overlapped")
	require.LessOrEqual(t, fake.MaxInFlight(), 8, "never more than --stripe-concurrency at once")

	items := fake.Items()
	require.Len(t, items, 72, "one invoice item per charge")
	keys := map[string]bool{}
	order := map[string][]string{} // client → units_from, in the order Stripe received them
	for _, it := range items {
		require.False(t, keys[it.IdempotencyKey], "duplicate %s", it.IdempotencyKey)
		keys[it.IdempotencyKey] = true
		order[it.Metadata["client_id"]] = append(order[it.Metadata["client_id"]], it.Metadata["units_from"])
	}
	for _, id := range ids {
		require.Equal(t, []string{"0", "100", "200"}, order[id.String()], "client %s's charges in chain order", id)
	}
}

func TestPushConcurrencyOneIsSequential(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	pendingLedger(t, d, 6, 1)
	fake := stripetest.NewFake(t)
	fake.SetLatency(10 * time.Millisecond)

	rep, err := pushRun(t, d.Pool, fake, 1)
	require.NoError(t, err)
	require.Equal(t, 6, rep.Stripe.Posted)
	require.Equal(t, 1, fake.MaxInFlight())
}

func TestPushRateLimitedIsRetriedOnce(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	pendingLedger(t, d, 10, 2)
	fake := stripetest.NewFake(t)
	fake.RateLimitNext(6, 0)

	rep, err := pushRun(t, d.Pool, fake, 4)
	require.NoError(t, err)
	require.Equal(t, 20, rep.Stripe.Posted, "rate-limited pushes are retried after a pause, not given up")
	require.Len(t, fake.Items(), 20, "and no charge is created twice")
	var attempts int
	require.NoError(t, d.Pool.QueryRow(context.Background(), `SELECT sum(push_attempts) FROM overage_charges`).Scan(&attempts))
	require.Equal(t, 20, attempts, "a retry inside one push is one attempt")
}

func TestPushStripeDownStopsEveryWorker(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	pendingLedger(t, d, 30, 1)
	fake := stripetest.NewFake(t)
	fake.Down()

	rep, err := pushRun(t, d.Pool, fake, 4)
	require.Error(t, err)
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "%v", err)
	require.Contains(t, err.Error(), "Stripe unavailable")
	require.LessOrEqual(t, rep.Stripe.Attempted, 4, "each worker stops after its first unavailable answer")
	require.Equal(t, 30, rep.Stripe.Pending)
	require.Equal(t, 30, pendingCount(t, d, ""))
	require.LessOrEqual(t, pendingCount(t, d, "AND push_attempts > 0"), 4, "the untried charges were never counted as attempted")
	for _, e := range rep.Stripe.Errors {
		require.True(t, e.Unavailable)
	}
}

// failPosted is the database with the ledger write after Stripe's answer
// failing as a lost connection does.
type failPosted struct{ db.DB }

func (f failPosted) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if strings.Contains(sql, "status = 'posted'") {
		return pgconn.CommandTag{}, exitcode.New(exitcode.Unavailable, errors.New("connection reset by peer (injected)"))
	}
	return f.DB.Exec(ctx, sql, args...)
}

func TestPushDatabaseDownIsBlamedOnTheDatabaseAndNotBilledTwice(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	pendingLedger(t, d, 3, 1)
	fake := stripetest.NewFake(t)

	rep, err := pushRun(t, failPosted{d.Pool}, fake, 1)
	require.Error(t, err)
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "%v", err)
	require.Contains(t, err.Error(), "database unavailable")
	require.NotContains(t, err.Error(), "Stripe unavailable")
	require.Equal(t, 1, rep.Stripe.Attempted, "the push stops at the first charge it could not record")
	require.Len(t, rep.Stripe.Errors, 1)
	require.False(t, rep.Stripe.Errors[0].Unavailable, "Stripe did not fail: stripe_unavailable is false")
	require.Len(t, fake.Items(), 1, "Stripe has the item the ledger could not record")
	require.Equal(t, 3, pendingCount(t, d, ""))

	// The database is back: the next run finds the first item by its charge id.
	fake.ExpireIdempotencyKeys()
	rep, err = pushRun(t, d.Pool, fake, 8)
	require.NoError(t, err)
	require.Equal(t, 3, rep.Stripe.Posted)
	require.Len(t, fake.Items(), 3, "no charge was created twice")
	require.Zero(t, pendingCount(t, d, ""))
}

func TestPushRejectionHoldsBackTheClientsLaterCharges(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ids := pendingLedger(t, d, 3, 2)
	_, err := d.Pool.Exec(context.Background(), `UPDATE clients SET stripe_customer_id = NULL WHERE id = $1`, ids[1])
	require.NoError(t, err)
	fake := stripetest.NewFake(t)

	rep, err := pushRun(t, d.Pool, fake, 2)
	require.Error(t, err)
	require.Equal(t, exitcode.Partial, exitcode.Of(err), "%v", err)
	require.Equal(t, 4, rep.Stripe.Posted, "the other clients' charges are pushed")
	require.Equal(t, 1, rep.Stripe.Failed)
	require.Equal(t, 2, rep.Stripe.Pending, "the rejected charge and the one after it wait")
	require.Equal(t, 2, pendingCount(t, d, fmt.Sprintf("AND client_id = '%s'", ids[1])))
	require.Equal(t, 5, rep.Stripe.Attempted, "the later charge was not tried")
}
