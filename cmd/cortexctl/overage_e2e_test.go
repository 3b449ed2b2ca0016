package main_test

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// End-to-end tests of `cortexctl billing overage`: the JSON report, the
// exit codes of the guard and of Stripe's failures, the lock between
// processes, and what signals, --timeout and a kill do to a run. The billing
// rules themselves are tested in-process in jobs/overage.

// ledger runs `billing overage --no-stripe` at asOf and decodes the report.
func ledger(t *testing.T, c *cli, asOf string, extra ...string) overageJSON {
	t.Helper()
	args := append([]string{"billing", "overage", "--no-stripe", "--as-of", asOf, "--output", "json"}, extra...)
	return decode[overageJSON](t, c.runOK(args...))
}

// activeFillers adds n active clients under their caps, so the blast-radius
// guard sees a realistic population.
func activeFillers(f *fixture.Fixture, n int) {
	for range n {
		f.Client("scale")
	}
}

// One real run's JSON report, field by field, against what it wrote.
func TestOverageJSONReport(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	activeFillers(f, 4)
	between := f.Client("starter")
	f.Usage(between, 1250, at("2026-02-20T10:00:00Z")) // February closed: 50 units never billed
	f.Usage(between, 1300, at("2026-03-10T10:00:00Z"))
	over := f.Client("starter")
	f.Usage(over, 1600, at("2026-03-10T10:00:00Z"))

	rep := ledger(t, c, "2026-03-20T00:00:00Z")
	require.Equal(t, "succeeded", rep.Run.Status)
	require.False(t, rep.Run.DryRun)
	require.Equal(t, 0, rep.Run.ExitCode)
	require.NotNil(t, rep.Report)
	require.Equal(t, []string{"2026-03"}, rep.Report.Periods)
	require.Equal(t, "2026-02", rep.Report.ClosedPeriod)
	type line struct {
		used, before, newUnits, cents, unbilled int64
		action                                  string
	}
	got := map[string]line{}
	for _, l := range rep.Report.Clients {
		require.Empty(t, l.Error)
		got[l.ClientID.String()+" "+l.Period] = line{l.Used, l.ChargedBefore, l.NewUnits, l.AmountCents, l.Unbilled, l.Action}
	}
	require.Equal(t, map[string]line{
		between.String() + " 2026-02": {1250, 0, 0, 0, 50, "none"},
		between.String() + " 2026-03": {1300, 0, 100, 100, 0, "bill"},
		over.String() + " 2026-03":    {1600, 0, 400, 400, 0, "bill+disable"},
	}, got)
	require.False(t, rep.Report.Stripe.Enabled)
	require.Zero(t, rep.Report.Stripe.Attempted)
	require.Equal(t, 2, rep.Report.Stripe.Pending)
	tot := rep.Report.Totals
	require.Equal(t, 6, tot.ClientsEvaluated)
	require.Equal(t, 2, tot.ChargesCreated)
	require.EqualValues(t, 500, tot.NewUnits)
	require.Equal(t, map[string]int64{"usd": 500}, tot.AmountCents)
	require.Equal(t, 1, tot.Disabled)
	require.Zero(t, tot.Reactivated)
	require.EqualValues(t, 50, tot.ClosedPeriodUnbilledUnits)
	require.Zero(t, tot.ClientsFailed)

	// What it reported is what it wrote, and what job_runs remembers.
	units, cents := f.Charged(over, "2026-03-01")
	require.Equal(t, [2]int64{400, 400}, [2]int64{units, cents})
	status, reason := f.Status(over)
	require.Equal(t, [2]string{"disabled", "hard_cap"}, [2]string{status, reason})
	var charges int
	f.Scalar(&charges, `SELECT (summary->'totals'->>'charges_created')::int FROM job_runs WHERE id = $1 AND status = 'succeeded'`, rep.Run.ID)
	require.Equal(t, 2, charges)
}

func TestOverageBlastRadiusGuardChangesNothing(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	activeFillers(f, 2)
	over := f.Client("starter")
	f.Usage(over, 2000, at("2026-03-10T10:00:00Z")) // 1 of 3 active clients: 33% > 25%

	before := f.Dump()
	r := c.run("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "--force")
	rep := decode[overageJSON](t, r)
	require.Equal(t, "failed", rep.Run.Status)
	require.Equal(t, before, f.Dump(), "a tripped guard changes nothing")

	forced := ledger(t, c, "2026-03-20T00:00:00Z", "--force")
	require.Equal(t, 1, forced.Report.Totals.Disabled)
	st, _ := f.Status(over)
	require.Equal(t, "disabled", st)
}

func TestOverageConcurrentRunsBillOnce(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	a := f.Client("starter")
	b := f.Client("starter")
	f.Usage(a, 1300, at("2026-03-10T10:00:00Z"))
	f.Usage(b, 1300, at("2026-03-10T10:00:00Z"))

	// The first run holds the job lock while it waits on a client row.
	release := f.HoldRowLock(b)
	first, out1, err1 := c.start("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	f.WaitForLockWait()

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
		units, _ := f.Charged(id, "2026-03-01")
		require.EqualValues(t, 100, units)
	}
}

func TestOverageStartedTwiceAtOnceBillsOnce(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	for range 20 {
		f.Usage(f.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
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
	f.Scalar(&charges, `SELECT count(*) FROM overage_charges`)
	require.Equal(t, 20, charges)
}

func TestOverageKilledMidRunThenCompletes(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	var ids []uuid.UUID
	for range 3 {
		id := f.Client("starter")
		f.Usage(id, 1300, at("2026-03-10T10:00:00Z"))
		ids = append(ids, id)
	}
	var second uuid.UUID // clients are processed in id order
	f.Scalar(&second, `SELECT id FROM clients ORDER BY id OFFSET 1 LIMIT 1`)

	release := f.HoldRowLock(second)
	cmd, out, errb := c.start("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z")
	f.WaitForLockWait()
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no cleanup at all
	killed := c.wait(cmd, out, errb)
	require.Equal(t, -1, killed.code)
	release()

	var committed int
	f.Scalar(&committed, `SELECT count(*) FROM overage_charges`)
	require.Equal(t, 1, committed, "the client before the kill committed, nothing half-written")

	next := ledger(t, c, "2026-03-20T00:00:00Z")
	require.Equal(t, 2, next.Report.Totals.ChargesCreated)
	for _, id := range ids {
		units, cents := f.Charged(id, "2026-03-01")
		require.EqualValues(t, 100, units)
		require.EqualValues(t, 100, cents)
	}
	var interrupted int
	f.Scalar(&interrupted, `SELECT count(*) FROM job_runs WHERE status = 'interrupted' AND error LIKE '%found by run%'`)
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
			f := fixture.New(t)
			c := newCLI(t, f.DB.URL)
			for range 3 {
				f.Usage(f.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
			}
			var second uuid.UUID
			f.Scalar(&second, `SELECT id FROM clients ORDER BY id OFFSET 1 LIMIT 1`)
			release := f.HoldRowLock(second)
			args := append([]string{"billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json"}, tc.args...)
			cmd, out, errb := c.start(args...)
			f.WaitForLockWait()
			if tc.signal != 0 {
				signal(t, cmd, tc.signal)
				waitForLine(t, errb, "stopping after the current client") // handled before the client in flight can finish
			} else {
				time.Sleep(3500 * time.Millisecond) // past --timeout, while the run waits inside a client
			}
			release() // the client in flight finishes; the run stops before the next
			r := c.wait(cmd, out, errb)
			require.Equal(t, tc.code, r.code, r.stderr)
			rep := decode[overageJSON](t, r)
			require.Equal(t, tc.status, rep.Run.Status)
			var charges int
			f.Scalar(&charges, `SELECT count(*) FROM overage_charges`)
			require.Equal(t, 2, charges, "the first client and the one in flight committed, the third did not start")
			var recorded string
			f.Scalar(&recorded, `SELECT status FROM job_runs WHERE id = $1`, rep.Run.ID)
			require.Equal(t, tc.status, recorded)
		})
	}
}

// stripeCLI runs the binary with a Stripe key against baseURL.
func stripeCLI(t *testing.T, f *fixture.Fixture, baseURL string) *cli {
	return newCLI(t, f.DB.URL, "STRIPE_API_KEY=sk_test_cortexctl", "STRIPE_API_BASE="+baseURL)
}

func TestOveragePushesToStripeMock(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := stripeCLI(t, f, stripetest.MockURL(t))
	for range 2 {
		f.Usage(f.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
	}
	rep := decode[overageJSON](t, c.runOK("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--output", "json"))
	require.True(t, rep.Report.Stripe.Enabled)
	require.Equal(t, 2, rep.Report.Stripe.Posted)
	require.Zero(t, rep.Report.Stripe.Pending)
	var posted int
	f.Scalar(&posted, `SELECT count(*) FROM overage_charges WHERE status = 'posted' AND stripe_invoice_item_id LIKE 'ii_%' AND posted_at IS NOT NULL`)
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
			f := fixture.New(t)
			fake := stripetest.NewFake(t)
			c := stripeCLI(t, f, fake.URL())
			a := f.Client("starter")
			f.Usage(a, 1300, at("2026-03-10T10:00:00Z"))

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
			f.Scalar(&status, `SELECT status FROM overage_charges WHERE client_id = $1`, a)
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
			f.Scalar(&itemID, `SELECT stripe_invoice_item_id FROM overage_charges WHERE client_id = $1 AND status = 'posted'`, a)
			require.Equal(t, item.ID, itemID)
		})
	}
}

func TestOverageStripeDownLeavesChargesPending(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	down := stripetest.NewFake(t)
	down.Down()
	for range 2 {
		f.Usage(f.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
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
	f := fixture.New(t)
	fake := stripetest.NewFake(t)
	f.Usage(f.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
	noCustomer := f.Client("starter")
	f.Exec(`UPDATE clients SET stripe_customer_id = NULL WHERE id = $1`, noCustomer)
	f.Usage(noCustomer, 1300, at("2026-03-10T10:00:00Z"))

	r := stripeCLI(t, f, fake.URL()).run("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	require.Equal(t, 3, r.code, r.stderr)
	require.Contains(t, r.stderr, "stripe_customer_id")
	rep := decode[overageJSON](t, r)
	require.Equal(t, 1, rep.Report.Stripe.Posted)
	require.Equal(t, 1, rep.Report.Stripe.Failed)
	var lastErr string
	f.Scalar(&lastErr, `SELECT last_push_error FROM overage_charges WHERE client_id = $1 AND status = 'pending'`, noCustomer)
	require.True(t, strings.Contains(lastErr, "stripe_customer_id"), lastErr)
}
