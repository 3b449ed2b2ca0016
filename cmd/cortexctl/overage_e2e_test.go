package main_test

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// ledger runs `billing overage --no-stripe` at asOf and decodes the report.
func ledger(t *testing.T, c *cli, asOf string, extra ...string) overageJSON {
	t.Helper()
	args := append([]string{"billing", "overage", "--no-stripe", "--as-of", asOf, "--output", "json"}, extra...)
	return decode[overageJSON](t, c.runOK(args...))
}

func TestOverageBillsOnlyTheDeltaAndSumsLikeOneRun(t *testing.T) {
	t.Parallel()
	// 'odd' has a price that rounds: 3333 micros = 0.3333 cents a query.
	const plan = `INSERT INTO plans (code, monthly_query_limit, overage_unit_price_micros, rate_limit_per_minute) VALUES ('odd', 100, 3333, 10)`

	f := newFixture(t)
	f.exec(plan)
	c := newCLI(t, f.db.URL)
	a := f.client("odd")
	f.usage(a, 125, "2026-03-02T10:00:00Z") // soft cap 120: 5 billable

	first := ledger(t, c, "2026-03-05T00:00:00Z")
	require.Equal(t, 1, first.Report.Totals.ChargesCreated)
	require.EqualValues(t, 5, first.Report.Totals.NewUnits)
	require.EqualValues(t, 2, first.Report.Totals.AmountCents["usd"]) // 1.6665 → 2

	again := ledger(t, c, "2026-03-05T00:00:00Z")
	require.Zero(t, again.Report.Totals.ChargesCreated, "a second run with no new usage charges nothing")
	units, cents := f.charged(a, "2026-03-01")
	require.EqualValues(t, 5, units)
	require.EqualValues(t, 2, cents)

	f.usage(a, 1, "2026-03-05T10:00:00Z")
	third := ledger(t, c, "2026-03-06T00:00:00Z")
	require.EqualValues(t, 1, third.Report.Totals.NewUnits, "only the new unit")
	require.Len(t, third.Report.Clients, 1)
	require.EqualValues(t, 5, third.Report.Clients[0].ChargedBefore)

	f.usage(a, 7, "2026-03-06T10:00:00Z")
	f.usage(a, 1000, "2026-03-20T10:00:00Z") // after the next as-of: ignored
	ledger(t, c, "2026-03-07T00:00:00Z")
	units, cents = f.charged(a, "2026-03-01")
	require.EqualValues(t, 13, units)

	// One run at the end over the same usage bills exactly the same.
	g := newFixture(t)
	g.exec(plan)
	b := g.client("odd")
	g.usage(b, 133, "2026-03-02T10:00:00Z")
	ledger(t, newCLI(t, g.db.URL), "2026-03-07T00:00:00Z")
	oneUnits, oneCents := g.charged(b, "2026-03-01")
	require.Equal(t, oneUnits, units)
	require.Equal(t, oneCents, cents)
	want, err := billing.AmountCents(13, 3333)
	require.NoError(t, err)
	require.Equal(t, want, cents)

	// The charges form a chain: each starts where the previous ended.
	var gaps int
	f.scalar(&gaps, `
		SELECT count(*) FROM (
		  SELECT units_from, lag(units_from + units, 1, 0::bigint) OVER (ORDER BY units_from) AS expected
		  FROM overage_charges WHERE client_id = $1) s
		WHERE units_from <> expected`, a)
	require.Zero(t, gaps)
}

func TestOverageCountsOnlyQueriesBeforeAsOf(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	a := f.client("starter")
	f.usage(a, 1250, "2026-03-02T10:00:00Z")
	f.exec(`INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at) VALUES ($1, 'embedding', 5000, '2026-03-02T11:00:00Z')`, a)
	f.usage(a, 100, "2026-03-05T00:00:00Z") // exactly at as-of: not yet happened
	f.usage(a, 100, "2026-02-28T23:59:59Z") // previous month, under its caps

	rep := ledger(t, c, "2026-03-05T00:00:00Z")
	require.EqualValues(t, 50, rep.Report.Totals.NewUnits)
	require.Len(t, rep.Report.Clients, 1)
	require.EqualValues(t, 1250, rep.Report.Clients[0].Used)
}

func TestOverageSettlesPreviousMonthUntilItCloses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	a := f.client("starter")
	f.usage(a, 1300, "2026-02-27T10:00:00Z")

	// On the 1st, February is still open: its 100 overage units are billed.
	rep := ledger(t, c, "2026-03-01T02:00:00Z")
	require.Equal(t, []string{"2026-02", "2026-03"}, rep.Report.Periods)
	units, _ := f.charged(a, "2026-02-01")
	require.EqualValues(t, 100, units)

	// Late February usage within the 72h window is billed, and only it.
	f.usage(a, 50, "2026-02-28T23:00:00Z")
	ledger(t, c, "2026-03-03T23:59:59Z")
	units, _ = f.charged(a, "2026-02-01")
	require.EqualValues(t, 150, units)

	// From 72h after the month ended, February is closed: late usage is reported, never billed.
	f.usage(a, 30, "2026-02-28T23:30:00Z")
	closed := ledger(t, c, "2026-03-04T00:00:00Z")
	require.Equal(t, []string{"2026-03"}, closed.Report.Periods)
	require.Equal(t, "2026-02", closed.Report.ClosedPeriod)
	require.EqualValues(t, 30, closed.Report.Totals.ClosedPeriodUnbilledUnits)
	require.Zero(t, closed.Report.Totals.ChargesCreated)
	ledger(t, c, "2026-03-20T00:00:00Z")
	units, _ = f.charged(a, "2026-02-01")
	require.EqualValues(t, 150, units, "a closed period is never billed again")

	// Nor can a real run reopen it by looking back.
	r := c.run("billing", "overage", "--no-stripe", "--as-of", "2026-03-02T00:00:00Z")
	requireOneLineError(t, r, 2, "earlier than the as-of of an earlier real run")
}

// activeFillers adds n active clients under their caps, so the blast-radius
// guard sees a realistic population.
func activeFillers(f *fixture, n int) {
	for range n {
		f.client("scale")
	}
}

func TestOverageHardCapDisablesAndNextMonthReactivates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	activeFillers(f, 4)
	over := f.client("starter")
	f.usage(over, 1501, "2026-03-10T10:00:00Z") // hard cap 1500
	atHard := f.client("starter")
	f.usage(atHard, 1500, "2026-03-10T10:00:00Z") // exactly at the hard cap: billed, not disabled
	expired := f.client("starter")
	f.exec(`UPDATE clients SET billing_status = 'disabled', disabled_reason = 'grace_expired', disabled_at = '2026-02-01' WHERE id = $1`, expired)
	f.usage(expired, 1600, "2026-03-10T10:00:00Z")

	rep := ledger(t, c, "2026-03-20T00:00:00Z")
	require.Equal(t, 1, rep.Report.Totals.Disabled)
	st, reason := f.status(over)
	require.Equal(t, "disabled", st)
	require.Equal(t, "hard_cap", reason)
	st, _ = f.status(atHard)
	require.Equal(t, "active", st)
	units, _ := f.charged(expired, "2026-03-01")
	require.EqualValues(t, 400, units, "a client disabled for another reason is still billed")

	var events int
	f.scalar(&events, `SELECT count(*) FROM client_status_events
		WHERE client_id = $1 AND from_status = 'active' AND to_status = 'disabled' AND reason = 'hard_cap'
		  AND actor = 'billing-overage' AND job_run_id = $2`, over, rep.Run.ID)
	require.Equal(t, 1, events)

	// Still March: stays disabled.
	ledger(t, c, "2026-03-25T00:00:00Z")
	st, _ = f.status(over)
	require.Equal(t, "disabled", st)

	// The first run in April sets the hard-cap client back to active, not the grace_expired one.
	april := ledger(t, c, "2026-04-01T01:00:00Z")
	require.Equal(t, 1, april.Report.Totals.Reactivated)
	st, reason = f.status(over)
	require.Equal(t, "active", st)
	require.Empty(t, reason)
	st, reason = f.status(expired)
	require.Equal(t, "disabled", st)
	require.Equal(t, "grace_expired", reason)
}

func TestOverageBlastRadiusGuardChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	activeFillers(f, 2)
	over := f.client("starter")
	f.usage(over, 2000, "2026-03-10T10:00:00Z") // 1 of 3 active clients: 33% > 25%

	before := f.dump()
	r := c.run("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "--force")
	rep := decode[overageJSON](t, r)
	require.Equal(t, "failed", rep.Run.Status)
	require.Equal(t, before, f.dump(), "a tripped guard changes nothing")

	forced := ledger(t, c, "2026-03-20T00:00:00Z", "--force")
	require.Equal(t, 1, forced.Report.Totals.Disabled)
	st, _ := f.status(over)
	require.Equal(t, "disabled", st)
}

func TestOverageDryRunChangesNothingButItsRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	activeFillers(f, 4)
	over := f.client("starter")
	f.usage(over, 1600, "2026-03-10T10:00:00Z")
	between := f.client("growth")
	f.usage(between, 6500, "2026-03-10T10:00:00Z")
	ledger(t, c, "2026-03-05T00:00:00Z") // an earlier real run; its charges are none yet
	f.exec(`INSERT INTO overage_charges (client_id, period_start, units_from, units, amount_cents, currency, unit_price_micros, idempotency_key)
		VALUES ($1, '2026-03-01', 0, 100, 100, 'usd', 10000, 'k1')`, between) // a pending charge

	before := f.dump()
	var runsBefore int
	f.scalar(&runsBefore, `SELECT count(*) FROM job_runs`)
	dry := decode[overageJSON](t, c.runOK("billing", "overage", "--dry-run", "--as-of", "2026-03-20T00:00:00Z", "--output", "json"))
	require.Equal(t, before, f.dump(), "a dry run writes nothing but its job_runs row")
	var dryRows int
	f.scalar(&dryRows, `SELECT count(*) FROM job_runs WHERE dry_run AND id = $1 AND status = 'succeeded'`, dry.Run.ID)
	require.Equal(t, 1, dryRows)
	var runsAfter int
	f.scalar(&runsAfter, `SELECT count(*) FROM job_runs`)
	require.Equal(t, runsBefore+1, runsAfter)
	require.False(t, dry.Report.Stripe.Enabled)
	require.Equal(t, 1, dry.Report.Stripe.Pending)

	real := ledger(t, c, "2026-03-20T00:00:00Z")
	require.Equal(t, dry.Report.Totals, real.Report.Totals, "the dry run reports what the real run does")
	require.Equal(t, dry.Report.Clients, real.Report.Clients)
}

func TestOverageConcurrentRunsBillOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	a := f.client("starter")
	b := f.client("starter")
	f.usage(a, 1300, "2026-03-10T10:00:00Z")
	f.usage(b, 1300, "2026-03-10T10:00:00Z")

	// The first run holds the job lock while it waits on a client row.
	release := f.holdRowLock(b)
	first, out1, err1 := c.start("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	f.waitForLockWait()

	second := c.run("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	require.Equal(t, 75, second.code, second.stderr)
	require.Contains(t, second.stderr, "holds the lock")
	skipped := decode[overageJSON](t, second)
	require.Equal(t, "skipped", skipped.Run.Status)
	require.Nil(t, skipped.Report)

	release()
	r1 := c.wait(first, out1, err1)
	require.Equal(t, 0, r1.code, r1.stderr)
	for _, id := range []uuid.UUID{a, b} {
		units, _ := f.charged(id, "2026-03-01")
		require.EqualValues(t, 100, units)
	}
}

func TestOverageStartedTwiceAtOnceBillsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	for range 20 {
		f.usage(f.client("starter"), 1300, "2026-03-10T10:00:00Z")
	}
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() {
			results[i] = c.run("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
		})
	}
	wg.Wait()
	var billed int
	for _, r := range results {
		require.Containsf(t, []int{0, 75}, r.code, "stderr: %s", r.stderr)
		if rep := decode[overageJSON](t, r); rep.Report != nil {
			billed += rep.Report.Totals.ChargesCreated
		}
	}
	require.Equal(t, 20, billed, "the two runs together charge each client once")
	var charges int
	f.scalar(&charges, `SELECT count(*) FROM overage_charges`)
	require.Equal(t, 20, charges)
}

func TestOverageKilledMidRunThenCompletes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	var ids []uuid.UUID
	for range 3 {
		id := f.client("starter")
		f.usage(id, 1300, "2026-03-10T10:00:00Z")
		ids = append(ids, id)
	}
	var second uuid.UUID // clients are processed in id order
	f.scalar(&second, `SELECT id FROM clients ORDER BY id OFFSET 1 LIMIT 1`)

	release := f.holdRowLock(second)
	cmd, out, errb := c.start("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z")
	f.waitForLockWait()
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no cleanup at all
	killed := c.wait(cmd, out, errb)
	require.Equal(t, -1, killed.code)
	release()

	var committed int
	f.scalar(&committed, `SELECT count(*) FROM overage_charges`)
	require.Equal(t, 1, committed, "the client before the kill committed, nothing half-written")

	next := ledger(t, c, "2026-03-20T00:00:00Z")
	require.Equal(t, 2, next.Report.Totals.ChargesCreated)
	for _, id := range ids {
		units, cents := f.charged(id, "2026-03-01")
		require.EqualValues(t, 100, units)
		require.EqualValues(t, 100, cents)
	}
	var interrupted int
	f.scalar(&interrupted, `SELECT count(*) FROM job_runs WHERE status = 'interrupted' AND error LIKE '%found by run%'`)
	require.Equal(t, 1, interrupted, "the killed run's row is closed by the next run")
}

func TestOverageSignalAndTimeoutStopBetweenClients(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		signal syscall.Signal
		code   int
		status string
	}{
		{"sigterm", nil, syscall.SIGTERM, 143, "interrupted"},
		{"sigint", nil, syscall.SIGINT, 130, "interrupted"},
		{"timeout", []string{"--timeout", "3s"}, 0, 124, "timed_out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			c := newCLI(t, f.db.URL)
			for range 3 {
				f.usage(f.client("starter"), 1300, "2026-03-10T10:00:00Z")
			}
			var second uuid.UUID
			f.scalar(&second, `SELECT id FROM clients ORDER BY id OFFSET 1 LIMIT 1`)
			release := f.holdRowLock(second)
			args := append([]string{"billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json"}, tc.args...)
			cmd, out, errb := c.start(args...)
			f.waitForLockWait()
			if tc.signal != 0 {
				signal(t, cmd, tc.signal)
			} else {
				time.Sleep(3500 * time.Millisecond) // past --timeout, while the run waits inside a client
			}
			release() // the client in flight finishes; the run stops before the next
			r := c.wait(cmd, out, errb)
			require.Equal(t, tc.code, r.code, r.stderr)
			rep := decode[overageJSON](t, r)
			require.Equal(t, tc.status, rep.Run.Status)
			var charges int
			f.scalar(&charges, `SELECT count(*) FROM overage_charges`)
			require.Equal(t, 2, charges, "the first client and the one in flight committed, the third did not start")
			var recorded string
			f.scalar(&recorded, `SELECT status FROM job_runs WHERE id = $1`, rep.Run.ID)
			require.Equal(t, tc.status, recorded)
		})
	}
}

func TestOverageClientFlagRestrictsTheRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	activeFillers(f, 4)
	a := f.client("starter")
	b := f.client("starter")
	f.usage(a, 1300, "2026-03-10T10:00:00Z")
	f.usage(b, 1600, "2026-03-10T10:00:00Z")

	rep := ledger(t, c, "2026-03-20T00:00:00Z", "--client", a.String())
	require.Equal(t, 1, rep.Report.Totals.ClientsEvaluated)
	units, _ := f.charged(b, "2026-03-01")
	require.Zero(t, units)
	st, _ := f.status(b)
	require.Equal(t, "active", st)

	requireOneLineError(t, c.run("billing", "overage", "--no-stripe", "--client", uuid.NewString()), 2, "no client has that id")
}

// stripeCLI runs the binary with a Stripe key against baseURL.
func stripeCLI(t *testing.T, f *fixture, baseURL string) *cli {
	return newCLI(t, f.db.URL, "STRIPE_API_KEY=sk_test_cortexctl", "STRIPE_API_BASE="+baseURL)
}

func TestOveragePushesToStripeMock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := stripeCLI(t, f, stripetest.MockURL(t))
	for range 2 {
		f.usage(f.client("starter"), 1300, "2026-03-10T10:00:00Z")
	}
	rep := decode[overageJSON](t, c.runOK("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--output", "json"))
	require.True(t, rep.Report.Stripe.Enabled)
	require.Equal(t, 2, rep.Report.Stripe.Posted)
	require.Zero(t, rep.Report.Stripe.Pending)
	var posted int
	f.scalar(&posted, `SELECT count(*) FROM overage_charges WHERE status = 'posted' AND stripe_invoice_item_id LIKE 'ii_%' AND posted_at IS NOT NULL`)
	require.Equal(t, 2, posted)
}

func TestOverageStripeAcceptedThenKilledIsNotBilledTwice(t *testing.T) {
	t.Parallel()
	for _, keyExpired := range []bool{false, true} {
		name := "retry within the key's lifetime"
		if keyExpired {
			name = "retry after Stripe forgot the key"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			fake := stripetest.NewFake(t)
			c := stripeCLI(t, f, fake.URL())
			a := f.client("starter")
			f.usage(a, 1300, "2026-03-10T10:00:00Z")

			accepted, releaseStripe := fake.BlockAfterAccept()
			cmd, out, errb := c.start("billing", "overage", "--as-of", "2026-03-20T00:00:00Z")
			select {
			case <-accepted:
			case <-time.After(time.Minute):
				t.Fatal("the run never reached Stripe")
			}
			require.NoError(t, cmd.Process.Kill()) // Stripe took the item; the run never heard back
			c.wait(cmd, out, errb)
			releaseStripe()
			var status string
			f.scalar(&status, `SELECT status FROM overage_charges WHERE client_id = $1`, a)
			require.Equal(t, "pending", status)
			if keyExpired {
				fake.ExpireIdempotencyKeys()
			}

			rep := decode[overageJSON](t, c.runOK("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--output", "json"))
			require.Equal(t, 1, rep.Report.Stripe.Posted)
			require.Len(t, fake.Items(), 1, "one invoice item, however the retry found it")
			item := fake.Items()[0]
			require.EqualValues(t, 100, item.AmountCents)
			require.Equal(t, a.String(), item.Metadata["client_id"])
			require.Equal(t, "2026-03", item.Metadata["period"])
			var itemID string
			f.scalar(&itemID, `SELECT stripe_invoice_item_id FROM overage_charges WHERE client_id = $1 AND status = 'posted'`, a)
			require.Equal(t, item.ID, itemID)
		})
	}
}

func TestOverageStripeDownLeavesChargesPending(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	down := stripetest.NewFake(t)
	down.Down()
	for range 2 {
		f.usage(f.client("starter"), 1300, "2026-03-10T10:00:00Z")
	}
	r := stripeCLI(t, f, down.URL()).run("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	require.Equal(t, 69, r.code, r.stderr)
	rep := decode[overageJSON](t, r)
	require.Equal(t, 2, rep.Report.Stripe.Pending)
	require.Equal(t, 2, rep.Report.Totals.ChargesCreated, "the ledger is written before Stripe is called")

	up := stripetest.NewFake(t)
	next := decode[overageJSON](t, stripeCLI(t, f, up.URL()).runOK("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--output", "json"))
	require.Zero(t, next.Report.Totals.ChargesCreated)
	require.Equal(t, 2, next.Report.Stripe.Posted)
	require.Len(t, up.Items(), 2)
}

func TestOverageStripeRejectionIsPartial(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	fake := stripetest.NewFake(t)
	f.usage(f.client("starter"), 1300, "2026-03-10T10:00:00Z")
	noCustomer := f.client("starter")
	f.exec(`UPDATE clients SET stripe_customer_id = NULL WHERE id = $1`, noCustomer)
	f.usage(noCustomer, 1300, "2026-03-10T10:00:00Z")

	r := stripeCLI(t, f, fake.URL()).run("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	require.Equal(t, 3, r.code, r.stderr)
	require.Contains(t, r.stderr, "stripe_customer_id")
	rep := decode[overageJSON](t, r)
	require.Equal(t, 1, rep.Report.Stripe.Posted)
	require.Equal(t, 1, rep.Report.Stripe.Failed)
	var lastErr string
	f.scalar(&lastErr, `SELECT last_push_error FROM overage_charges WHERE client_id = $1 AND status = 'pending'`, noCustomer)
	require.True(t, strings.Contains(lastErr, "stripe_customer_id"), lastErr)
}

func TestOverageClientThatCannotBeBilledIsPartial(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCLI(t, f.db.URL)
	// A price so large that the amount overflows int64 cents.
	f.exec(`INSERT INTO plans (code, monthly_query_limit, overage_unit_price_micros, rate_limit_per_minute) VALUES ('huge', 1, 9223372036854775807, 1)`)
	broken := f.client("huge")
	f.exec(`UPDATE clients SET billing_status = 'cancelled' WHERE id = $1`, broken) // keep the hard cap out of it
	f.usage(broken, 20001, "2026-03-10T10:00:00Z")
	fine := f.client("starter")
	f.usage(fine, 1300, "2026-03-10T10:00:00Z")

	r := c.run("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	require.Equal(t, 3, r.code, r.stderr)
	require.Contains(t, r.stderr, "overflows")
	rep := decode[overageJSON](t, r)
	require.Equal(t, "partial", rep.Run.Status)
	require.Equal(t, 1, rep.Report.Totals.ClientsFailed)
	units, _ := f.charged(fine, "2026-03-01")
	require.EqualValues(t, 100, units, "the other clients are billed")
	units, _ = f.charged(broken, "2026-03-01")
	require.Zero(t, units)
}
