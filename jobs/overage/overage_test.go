package overage_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// In-process tests of the billing rules, the ledger and the Stripe push:
// each runs the job as `billing overage` does (under runner.Execute, so
// with its lock and its job_runs row) against a fresh database, with Stripe
// absent (--no-stripe) or the recording fake. The command's own contract
// (flags, exit codes, output, signals, the lock between processes) is
// tested through the binary in cmd/cortexctl.

const march = "2026-03-01"

// at is an instant written in a test.
func at(s string) time.Time { return fixture.Time(s) }

// optionsAt are the command's default options at asOf.
func optionsAt(asOf string) overage.Options {
	return overage.Options{
		Params:            runner.Params{AsOf: at(asOf)},
		CloseWindow:       overage.DefaultCloseWindow,
		MaxDisablePercent: overage.DefaultMaxDisablePercent,
	}
}

// billRun runs the job once on pool, as the command does. stripe nil is
// --no-stripe.
func billRun(ctx context.Context, pool *db.Pool, stripe overage.Biller, opts overage.Options) (runner.Result[overage.Report], error) {
	r := &runner.Runner{Pool: pool, Log: zerolog.Nop(), Version: "v0.0.0-overage-test"}
	job := runner.Job{Name: overage.Name, Params: opts.Params, MonotonicAsOf: true}
	return runner.Execute(ctx, r, job, func(ctx context.Context, run runner.Run) (overage.Report, error) {
		return overage.Run(ctx, overage.Deps{DB: pool, Stripe: stripe, RunID: run.ID, Log: zerolog.Nop()}, opts)
	})
}

func bill(t *testing.T, fx *fixture.Fixture, stripe overage.Biller, opts overage.Options) (runner.Result[overage.Report], error) {
	t.Helper()
	return billRun(context.Background(), fx.DB.Pool, stripe, opts)
}

// billOK runs the job and requires success.
func billOK(t *testing.T, fx *fixture.Fixture, stripe overage.Biller, opts overage.Options) runner.Result[overage.Report] {
	t.Helper()
	res, err := bill(t, fx, stripe, opts)
	require.NoError(t, err)
	require.True(t, res.Ran)
	require.Equal(t, runner.StatusSucceeded, res.Record.Status)
	return res
}

// stripeAt is a client of the fake Stripe that retries without waiting.
func stripeAt(fake *stripetest.Fake, opts ...stripeclient.Option) *stripeclient.Client {
	return stripeclient.New("sk_test_overage", fake.URL(), append([]stripeclient.Option{stripeclient.WithRetryDelay(time.Millisecond)}, opts...)...)
}

// activeFillers adds n active clients under their caps, so the blast-radius
// guard sees a realistic population.
func activeFillers(fx *fixture.Fixture, n int) {
	for range n {
		fx.Client("scale")
	}
}

// lineOf is the report's line of a client and period ("2026-03").
func lineOf(t *testing.T, rep overage.Report, id uuid.UUID, period string) overage.ClientLine {
	t.Helper()
	for _, l := range rep.Clients {
		if l.ClientID == id && l.Period == period {
			return l
		}
	}
	t.Fatalf("no line for client %s period %s in %+v", id, period, rep.Clients)
	return overage.ClientLine{}
}

func hasLine(rep overage.Report, id uuid.UUID) bool {
	for _, l := range rep.Clients {
		if l.ClientID == id {
			return true
		}
	}
	return false
}

func TestBillsOnlyTheDeltaAndSumsLikeOneRun(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	fx.Plan("odd", 100, 3333) // a price that rounds: 0.3333 cents a query
	a := fx.Client("odd")
	fx.Usage(a, 125, at("2026-03-02T10:00:00Z")) // soft cap 120: 5 billable

	first := billOK(t, fx, nil, optionsAt("2026-03-05T00:00:00Z")).Report
	require.Equal(t, 1, first.Totals.ChargesCreated)
	require.EqualValues(t, 5, first.Totals.NewUnits)
	require.EqualValues(t, 2, first.Totals.AmountCents["usd"]) // 1.6665 → 2

	again := billOK(t, fx, nil, optionsAt("2026-03-05T00:00:00Z")).Report
	require.Zero(t, again.Totals.ChargesCreated, "a second run with no new usage charges nothing")
	units, cents := fx.Charged(a, march)
	require.EqualValues(t, 5, units)
	require.EqualValues(t, 2, cents)

	fx.Usage(a, 1, at("2026-03-05T10:00:00Z"))
	third := billOK(t, fx, nil, optionsAt("2026-03-06T00:00:00Z")).Report
	require.EqualValues(t, 1, third.Totals.NewUnits, "only the new unit")
	require.Len(t, third.Clients, 1)
	require.EqualValues(t, 5, third.Clients[0].ChargedBefore)
	require.Equal(t, "bill", third.Clients[0].Action)

	fx.Usage(a, 7, at("2026-03-06T10:00:00Z"))
	fx.Usage(a, 1000, at("2026-03-20T10:00:00Z")) // after the next as-of: ignored
	billOK(t, fx, nil, optionsAt("2026-03-07T00:00:00Z"))
	units, cents = fx.Charged(a, march)
	require.EqualValues(t, 13, units)

	// One run at the end over the same usage bills exactly the same.
	g := fixture.New(t)
	g.Plan("odd", 100, 3333)
	b := g.Client("odd")
	g.Usage(b, 133, at("2026-03-02T10:00:00Z"))
	billOK(t, g, nil, optionsAt("2026-03-07T00:00:00Z"))
	oneUnits, oneCents := g.Charged(b, march)
	require.Equal(t, oneUnits, units)
	require.Equal(t, oneCents, cents)
	want, err := billing.AmountCents(13, 3333)
	require.NoError(t, err)
	require.Equal(t, want, cents)

	// The charges form a chain: each starts where the previous ended.
	var gaps int
	fx.Scalar(&gaps, `
		SELECT count(*) FROM (
		  SELECT units_from, lag(units_from + units, 1, 0::bigint) OVER (ORDER BY units_from) AS expected
		  FROM overage_charges WHERE client_id = $1) s
		WHERE units_from <> expected`, a)
	require.Zero(t, gaps)
	var links int
	fx.Scalar(&links, `SELECT count(*) FROM overage_charges WHERE client_id = $1`, a)
	require.Equal(t, 3, links, "one charge per run that found new units")
}

func TestCountsOnlyQueriesBeforeAsOf(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	a := fx.Client("starter")
	fx.Usage(a, 1250, at("2026-03-02T10:00:00Z"))
	fx.Exec(`INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at) VALUES ($1, 'embedding', 5000, '2026-03-02T11:00:00Z')`, a)
	fx.Usage(a, 100, at("2026-03-05T00:00:00Z")) // exactly at as-of: not yet happened
	fx.Usage(a, 100, at("2026-02-28T23:59:59Z")) // previous month, under its caps

	rep := billOK(t, fx, nil, optionsAt("2026-03-05T00:00:00Z")).Report
	require.EqualValues(t, 50, rep.Totals.NewUnits)
	require.Len(t, rep.Clients, 1)
	require.EqualValues(t, 1250, rep.Clients[0].Used)
	units, cents := fx.Charged(a, march)
	require.EqualValues(t, 50, units)
	require.EqualValues(t, 50, cents)
}

func TestSettlesThePreviousMonthUntilItCloses(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	a := fx.Client("starter")
	fx.Usage(a, 1300, at("2026-02-27T10:00:00Z"))

	// On the 1st, February is still open: its 100 overage units are billed.
	rep := billOK(t, fx, nil, optionsAt("2026-03-01T02:00:00Z")).Report
	require.Equal(t, []string{"2026-02", "2026-03"}, rep.Periods)
	require.Empty(t, rep.ClosedPeriod)
	units, _ := fx.Charged(a, "2026-02-01")
	require.EqualValues(t, 100, units)

	// Late February usage within the 72h window is billed, and only it.
	fx.Usage(a, 50, at("2026-02-28T23:00:00Z"))
	billOK(t, fx, nil, optionsAt("2026-03-03T23:59:59Z"))
	units, _ = fx.Charged(a, "2026-02-01")
	require.EqualValues(t, 150, units)

	// From 72h after the month ended, February is closed: late usage is reported, never billed.
	fx.Usage(a, 30, at("2026-02-28T23:30:00Z"))
	closed := billOK(t, fx, nil, optionsAt("2026-03-04T00:00:00Z")).Report
	require.Equal(t, []string{"2026-03"}, closed.Periods)
	require.Equal(t, "2026-02", closed.ClosedPeriod)
	require.EqualValues(t, 30, closed.Totals.ClosedPeriodUnbilledUnits)
	require.Zero(t, closed.Totals.ChargesCreated)
	l := lineOf(t, closed, a, "2026-02")
	require.EqualValues(t, 30, l.Unbilled)
	require.Contains(t, l.Note, "closed")
	billOK(t, fx, nil, optionsAt("2026-03-20T00:00:00Z"))
	units, _ = fx.Charged(a, "2026-02-01")
	require.EqualValues(t, 150, units, "a closed period is never billed again")

	// Nor can a real run reopen it by looking back.
	before := fx.Dump()
	_, err := bill(t, fx, nil, optionsAt("2026-03-02T00:00:00Z"))
	require.Equal(t, exitcode.Usage, exitcode.Of(err))
	require.ErrorContains(t, err, "earlier than the as-of of an earlier real run")
	require.Equal(t, before, fx.Dump())
}

func TestCloseWindowDecidesWhenAMonthCloses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		window   time.Duration
		periods  []string
		closed   string
		febUnits int64
	}{
		{"default 72h: February still open on the 1st", overage.DefaultCloseWindow, []string{"2026-02", "2026-03"}, "", 100},
		{"0s: February closed at midnight", 0, []string{"2026-03"}, "2026-02", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := fixture.New(t)
			a := fx.Client("starter")
			fx.Usage(a, 1300, at("2026-02-27T10:00:00Z"))
			opts := optionsAt("2026-03-01T02:00:00Z")
			opts.CloseWindow = tc.window
			rep := billOK(t, fx, nil, opts).Report
			require.Equal(t, tc.periods, rep.Periods)
			require.Equal(t, tc.closed, rep.ClosedPeriod)
			units, _ := fx.Charged(a, "2026-02-01")
			require.Equal(t, tc.febUnits, units)
			require.Equal(t, 100-tc.febUnits, rep.Totals.ClosedPeriodUnbilledUnits)
		})
	}
}

// One run over clients of every status and usage: the hard cap disables
// only an active client strictly beyond it; every client is billed.
func TestHardCapDecidesTheStatus(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	activeFillers(fx, 12) // the guard stays quiet: 1 disable of 16 active
	cases := []struct {
		name       string
		prepare    func() uuid.UUID
		used       int64
		action     string
		status     string
		reason     string
		unitsAfter int64
	}{
		{"beyond the hard cap: billed and disabled", func() uuid.UUID { return fx.Client("starter") },
			1501, "bill+disable", "disabled", "hard_cap", 301},
		{"exactly at the hard cap: billed, not disabled", func() uuid.UUID { return fx.Client("starter") },
			1500, "bill", "active", "", 300},
		{"exactly at the soft cap: nothing to bill", func() uuid.UUID { return fx.Client("starter") },
			1200, "none", "active", "", 0},
		{"one beyond the soft cap: one unit", func() uuid.UUID { return fx.Client("starter") },
			1201, "bill", "active", "", 1},
		{"disabled for another reason: billed, untouched", func() uuid.UUID {
			id := fx.Client("starter")
			fx.Exec(`UPDATE clients SET billing_status = 'disabled', disabled_reason = 'grace_expired', disabled_at = '2026-02-01' WHERE id = $1`, id)
			return id
		}, 1600, "bill", "disabled", "grace_expired", 400},
		{"cancelled: billed, untouched", func() uuid.UUID {
			id := fx.Client("starter")
			fx.Exec(`UPDATE clients SET billing_status = 'cancelled' WHERE id = $1`, id)
			return id
		}, 1400, "bill", "cancelled", "", 200},
		{"in grace beyond the hard cap: billed, left to the grace job", func() uuid.UUID {
			return fx.GraceClient("starter", at("2026-03-15T00:00:00Z"))
		}, 1600, "bill", "grace_period", "", 400},
	}
	ids := make([]uuid.UUID, len(cases))
	for i, tc := range cases {
		ids[i] = tc.prepare()
		fx.Usage(ids[i], tc.used, at("2026-03-10T10:00:00Z"))
	}

	res := billOK(t, fx, nil, optionsAt("2026-03-20T00:00:00Z"))
	require.Equal(t, 1, res.Report.Totals.Disabled)
	require.Nil(t, res.Report.Guard)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := ids[i]
			if tc.action == "none" {
				require.False(t, hasLine(res.Report, id), "a client with nothing to say is not reported")
			} else {
				l := lineOf(t, res.Report, id, "2026-03")
				require.Equal(t, tc.action, l.Action)
				require.Equal(t, tc.used, l.Used)
				require.Equal(t, tc.unitsAfter, l.NewUnits)
				require.Equal(t, tc.unitsAfter, l.AmountCents) // 1 cent a query
			}
			status, reason := fx.Status(id)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.reason, reason)
			units, cents := fx.Charged(id, march)
			require.Equal(t, tc.unitsAfter, units)
			require.Equal(t, tc.unitsAfter, cents)
		})
	}
}

// A client disabled for the hard cap stays disabled for the rest of the
// month and is set back to active by the first run of the next month,
// unless it is beyond the hard cap again; every change leaves a status
// event naming the job and its run.
func TestHardCapDisabledClientIsReactivatedNextMonth(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	activeFillers(fx, 8)
	over := fx.Client("starter")
	fx.Usage(over, 1501, at("2026-03-10T10:00:00Z"))
	again := fx.Client("starter")
	fx.Usage(again, 1600, at("2026-03-10T10:00:00Z"))
	fx.Usage(again, 1600, at("2026-04-01T00:30:00Z")) // beyond the hard cap in April too
	expired := fx.Client("starter")
	fx.Exec(`UPDATE clients SET billing_status = 'disabled', disabled_reason = 'grace_expired', disabled_at = '2026-02-01' WHERE id = $1`, expired)

	marchRun := billOK(t, fx, nil, optionsAt("2026-03-20T00:00:00Z"))
	require.Equal(t, 2, marchRun.Report.Totals.Disabled)
	marchID := marchRun.Record.ID
	for _, id := range []uuid.UUID{over, again} {
		status, reason := fx.Status(id)
		require.Equal(t, [2]string{"disabled", "hard_cap"}, [2]string{status, reason})
		require.Equal(t, []fixture.StatusEvent{{From: "active", To: "disabled", Reason: "hard_cap", Actor: "billing-overage", RunID: &marchID}},
			fx.StatusEvents(id))
	}
	var disabledAt time.Time
	fx.Scalar(&disabledAt, `SELECT disabled_at FROM clients WHERE id = $1`, over)
	require.True(t, at("2026-03-20T00:00:00Z").Equal(disabledAt), "disabled_at is the as-of, not the wall clock: %s", disabledAt)

	// Still March: stays disabled, nothing new happens.
	later := billOK(t, fx, nil, optionsAt("2026-03-25T00:00:00Z")).Report
	require.Zero(t, later.Totals.Disabled)
	require.Zero(t, later.Totals.Reactivated)
	status, _ := fx.Status(over)
	require.Equal(t, "disabled", status)
	require.Len(t, fx.StatusEvents(over), 1)

	// The first run in April sets the hard-cap client back to active; not the
	// one beyond the hard cap again, nor the grace_expired one.
	april := billOK(t, fx, nil, optionsAt("2026-04-01T01:00:00Z"))
	require.Equal(t, 1, april.Report.Totals.Reactivated)
	require.Equal(t, "reactivate", lineOf(t, april.Report, over, "2026-04").Action)
	status, reason := fx.Status(over)
	require.Equal(t, [2]string{"active", ""}, [2]string{status, reason})
	aprilID := april.Record.ID
	require.Equal(t, fixture.StatusEvent{From: "disabled", To: "active", Actor: "billing-overage", RunID: &aprilID}, fx.StatusEvents(over)[1])
	status, reason = fx.Status(again)
	require.Equal(t, [2]string{"disabled", "hard_cap"}, [2]string{status, reason})
	units, _ := fx.Charged(again, "2026-04-01")
	require.EqualValues(t, 400, units, "a disabled client's April usage beyond the soft cap is billed")
	status, reason = fx.Status(expired)
	require.Equal(t, [2]string{"disabled", "grace_expired"}, [2]string{status, reason})
	require.Len(t, fx.StatusEvents(expired), 1, "only the fixture's own change: the job left it alone")
}

func TestBlastRadiusGuard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		force      bool
		maxPercent int
		code       int
		guard      *overage.GuardReport
		status     string
	}{
		{"tripped: refuses and changes nothing", false, 25, exitcode.Failed,
			&overage.GuardReport{WouldDisable: 1, ActiveClients: 3, MaxPercent: 25}, "active"},
		{"--force overrides it", true, 25, exitcode.OK,
			&overage.GuardReport{WouldDisable: 1, ActiveClients: 3, MaxPercent: 25, Forced: true}, "disabled"},
		{"a higher --max-disable-percent is not tripped", false, 34, exitcode.OK, nil, "disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := fixture.New(t)
			activeFillers(fx, 2)
			over := fx.Client("starter")
			fx.Usage(over, 2000, at("2026-03-10T10:00:00Z")) // 1 of 3 active clients: 33%

			before := fx.Dump()
			opts := optionsAt("2026-03-20T00:00:00Z")
			opts.Force, opts.MaxDisablePercent = tc.force, tc.maxPercent
			res, err := bill(t, fx, nil, opts)
			require.Equal(t, tc.code, exitcode.Of(err), "%v", err)
			require.Equal(t, tc.guard, res.Report.Guard)
			require.Equal(t, "bill+disable", lineOf(t, res.Report, over, "2026-03").Action, "the report says what the run does or would do")
			status, _ := fx.Status(over)
			require.Equal(t, tc.status, status)
			if tc.code != exitcode.OK {
				require.ErrorContains(t, err, "--force")
				require.Equal(t, runner.StatusFailed, res.Record.Status)
				require.Equal(t, before, fx.Dump(), "a tripped guard changes nothing")
				return
			}
			require.Equal(t, 1, res.Report.Totals.Disabled)
			units, _ := fx.Charged(over, march)
			require.EqualValues(t, 800, units)
		})
	}
}

func TestDryRunWritesNothingAndReportsWhatTheRealRunDoes(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	activeFillers(fx, 4)
	over := fx.Client("starter")
	fx.Usage(over, 1600, at("2026-03-10T10:00:00Z"))
	between := fx.Client("growth")
	fx.Usage(between, 6500, at("2026-03-10T10:00:00Z"))
	billOK(t, fx, nil, optionsAt("2026-03-05T00:00:00Z")) // an earlier real run; its charges are none yet
	fx.Charge(fixture.PendingCharge{Client: between, Period: march, Units: 100, Cents: 100})

	before := fx.Dump()
	runsBefore := fx.JobRunCount()
	fake := stripetest.NewFake(t)
	opts := optionsAt("2026-03-20T00:00:00Z")
	opts.DryRun = true
	dry := billOK(t, fx, stripeAt(fake), opts)
	require.Equal(t, before, fx.Dump(), "a dry run writes nothing but its job_runs row")
	require.Equal(t, runsBefore+1, fx.JobRunCount())
	var dryRows int
	fx.Scalar(&dryRows, `SELECT count(*) FROM job_runs WHERE dry_run AND id = $1 AND status = 'succeeded'`, dry.Record.ID)
	require.Equal(t, 1, dryRows)
	require.True(t, dry.Report.DryRun)
	require.False(t, dry.Report.Stripe.Enabled)
	require.Equal(t, 1, dry.Report.Stripe.Pending)
	require.Zero(t, fake.Requests()+fake.Lists(), "a dry run calls no Stripe")
	require.Equal(t, 1, dry.Report.Totals.Disabled)
	require.Equal(t, "bill+disable", lineOf(t, dry.Report, over, "2026-03").Action)

	wet := billOK(t, fx, nil, optionsAt("2026-03-20T00:00:00Z")).Report
	require.Equal(t, dry.Report.Totals, wet.Totals, "the dry run reports what the real run does")
	require.Equal(t, dry.Report.Clients, wet.Clients)
	status, _ := fx.Status(over)
	require.Equal(t, "disabled", status)
}

func TestClientFilterRestrictsTheRun(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	activeFillers(fx, 4)
	a := fx.Client("starter")
	b := fx.Client("starter")
	fx.Usage(a, 1300, at("2026-03-10T10:00:00Z"))
	fx.Usage(b, 1600, at("2026-03-10T10:00:00Z"))
	fx.Charge(fixture.PendingCharge{Client: b, Period: "2026-02-01", Units: 10, Cents: 10}) // b's leftover

	fake := stripetest.NewFake(t)
	opts := optionsAt("2026-03-20T00:00:00Z")
	opts.ClientID = a
	rep := billOK(t, fx, stripeAt(fake), opts).Report
	require.Equal(t, 1, rep.Totals.ClientsEvaluated)
	require.Equal(t, 1, rep.Stripe.Posted, "only the client's own charges are pushed")
	require.Zero(t, rep.Stripe.Pending, "pending counts the client's charges only")
	require.Len(t, fake.Items(), 1)
	require.Equal(t, a.String(), fake.Items()[0].Metadata["client_id"])
	units, _ := fx.Charged(a, march)
	require.EqualValues(t, 100, units)
	units, _ = fx.Charged(b, march)
	require.Zero(t, units)
	status, _ := fx.Status(b)
	require.Equal(t, "active", status)
	var pendingB int
	fx.Scalar(&pendingB, `SELECT count(*) FROM overage_charges WHERE client_id = $1 AND status = 'pending'`, b)
	require.Equal(t, 1, pendingB)

	before := fx.Dump()
	opts.ClientID = uuid.New()
	_, err := bill(t, fx, nil, opts)
	require.Equal(t, exitcode.Usage, exitcode.Of(err))
	require.ErrorContains(t, err, "no client has that id")
	require.Equal(t, before, fx.Dump())
}

// A run without Stripe leaves its charges pending; the next run with Stripe
// pushes them, each once, with the ledger's idempotency key and charge id.
func TestPushPostsPendingChargesToStripe(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	ids := []uuid.UUID{fx.Client("starter"), fx.Client("starter")}
	for _, id := range ids {
		fx.Usage(id, 1300, at("2026-03-10T10:00:00Z"))
	}
	ledgerOnly := billOK(t, fx, nil, optionsAt("2026-03-20T00:00:00Z")).Report
	require.False(t, ledgerOnly.Stripe.Enabled)
	require.Equal(t, 2, ledgerOnly.Stripe.Pending)

	fake := stripetest.NewFake(t)
	rep := billOK(t, fx, stripeAt(fake), optionsAt("2026-03-20T00:00:00Z")).Report
	require.Zero(t, rep.Totals.ChargesCreated)
	require.True(t, rep.Stripe.Enabled)
	require.Equal(t, 2, rep.Stripe.Attempted)
	require.Equal(t, 2, rep.Stripe.Posted)
	require.Zero(t, rep.Stripe.Failed)
	require.Zero(t, rep.Stripe.Pending)
	require.Empty(t, rep.Stripe.Errors)

	items := fake.Items()
	require.Len(t, items, 2)
	for _, it := range items {
		id := uuid.MustParse(it.Metadata["client_id"])
		require.Contains(t, ids, id)
		require.Equal(t, fixture.CustomerID(id), it.Customer)
		require.EqualValues(t, 100, it.AmountCents)
		require.Equal(t, "usd", it.Currency)
		require.Contains(t, it.Description, "2026-03")
		require.Equal(t, "2026-03", it.Metadata["period"])
		require.Equal(t, "0", it.Metadata["units_from"])
		require.Equal(t, "100", it.Metadata["units"])
		var chargeID, key, status, itemID string
		var attempts int
		fx.Scalar(&chargeID, `SELECT id::text FROM overage_charges WHERE client_id = $1`, id)
		fx.Scalar(&key, `SELECT idempotency_key FROM overage_charges WHERE client_id = $1`, id)
		fx.Scalar(&status, `SELECT status FROM overage_charges WHERE client_id = $1 AND posted_at IS NOT NULL`, id)
		fx.Scalar(&itemID, `SELECT stripe_invoice_item_id FROM overage_charges WHERE client_id = $1`, id)
		fx.Scalar(&attempts, `SELECT push_attempts FROM overage_charges WHERE client_id = $1`, id)
		require.Equal(t, chargeID, it.Metadata[stripeclient.MetadataChargeID])
		require.Equal(t, key, it.IdempotencyKey)
		require.Equal(t, overage.IdempotencyKey(id.String(), billing.PeriodOf(at("2026-03-10T00:00:00Z")), 0), key)
		require.Equal(t, "posted", status)
		require.Equal(t, it.ID, itemID)
		require.Equal(t, 1, attempts)
	}

	again := billOK(t, fx, stripeAt(fake), optionsAt("2026-03-20T00:00:00Z")).Report
	require.Zero(t, again.Stripe.Attempted, "a posted charge is never pushed again")
	require.Len(t, fake.Items(), 2)
}

func TestStripeDownLeavesChargesPendingForTheNextRun(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	down := stripetest.NewFake(t)
	down.Down()
	for range 2 {
		fx.Usage(fx.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
	}
	res, err := bill(t, fx, stripeAt(down), optionsAt("2026-03-20T00:00:00Z"))
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "%v", err)
	require.ErrorContains(t, err, "Stripe unavailable")
	rep := res.Report
	require.Equal(t, 2, rep.Totals.ChargesCreated, "the ledger is written before Stripe is called")
	require.Equal(t, 2, rep.Stripe.Pending)
	require.Zero(t, rep.Stripe.Posted)
	require.NotEmpty(t, rep.Stripe.Errors)
	for _, e := range rep.Stripe.Errors {
		require.True(t, e.Unavailable, e.Error)
	}
	var withError int
	fx.Scalar(&withError, `SELECT count(*) FROM overage_charges WHERE status = 'pending' AND last_push_error IS NOT NULL AND push_attempts > 0`)
	require.Equal(t, rep.Stripe.Failed, withError, "each failed push is recorded on its charge")

	up := stripetest.NewFake(t)
	next := billOK(t, fx, stripeAt(up), optionsAt("2026-03-20T00:00:00Z")).Report
	require.Zero(t, next.Totals.ChargesCreated)
	require.Equal(t, 2, next.Stripe.Posted)
	require.Zero(t, next.Stripe.Pending)
	require.Len(t, up.Items(), 2)
	var cleared int
	fx.Scalar(&cleared, `SELECT count(*) FROM overage_charges WHERE status = 'posted' AND last_push_error IS NULL`)
	require.Equal(t, 2, cleared)
}

func TestStripeRejectionIsPartial(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	fake := stripetest.NewFake(t)
	fine := fx.Client("starter")
	fx.Usage(fine, 1300, at("2026-03-10T10:00:00Z"))
	noCustomer := fx.Client("starter")
	fx.Exec(`UPDATE clients SET stripe_customer_id = NULL WHERE id = $1`, noCustomer)
	fx.Usage(noCustomer, 1300, at("2026-03-10T10:00:00Z"))

	res, err := bill(t, fx, stripeAt(fake), optionsAt("2026-03-20T00:00:00Z"))
	require.Equal(t, exitcode.Partial, exitcode.Of(err), "%v", err)
	require.ErrorContains(t, err, "stripe_customer_id")
	require.Equal(t, runner.StatusPartial, res.Record.Status)
	rep := res.Report
	require.Equal(t, 1, rep.Stripe.Posted)
	require.Equal(t, 1, rep.Stripe.Failed)
	require.Equal(t, 1, rep.Stripe.Pending)
	require.Len(t, rep.Stripe.Errors, 1)
	require.Equal(t, noCustomer, rep.Stripe.Errors[0].ClientID)
	require.False(t, rep.Stripe.Errors[0].Unavailable)
	var lastErr string
	fx.Scalar(&lastErr, `SELECT last_push_error FROM overage_charges WHERE client_id = $1 AND status = 'pending'`, noCustomer)
	require.True(t, strings.Contains(lastErr, "stripe_customer_id"), lastErr)
	require.Len(t, fake.Items(), 1, "nothing was sent for the client Stripe cannot bill")

	// Once the customer id is set, the next run pushes the charge.
	fx.Exec(`UPDATE clients SET stripe_customer_id = 'cus_fixed' WHERE id = $1`, noCustomer)
	next := billOK(t, fx, stripeAt(fake), optionsAt("2026-03-20T00:00:00Z")).Report
	require.Equal(t, 1, next.Stripe.Posted)
	require.Len(t, fake.Items(), 2)
	require.Equal(t, "cus_fixed", fake.Items()[1].Customer)
}

// A charge Stripe accepted whose answer never came back is posted once,
// however the retry learns of it: Stripe replaying the idempotency key, or
// the lookup by charge id once Stripe has forgotten the key.
func TestAcceptedThenRetriedIsNotBilledTwice(t *testing.T) {
	t.Parallel()
	noRetries := stripeclient.WithMaxNetworkRetries(0)
	for _, tc := range []struct {
		name string
		// lose sets up the fake (and the ledger) so that Stripe has, or may
		// have, the client's charge; it returns the client for the run.
		lose     func(t *testing.T, fx *fixture.Fixture, fake *stripetest.Fake, client uuid.UUID) overage.Biller
		requests int // POSTs the fake received in all
	}{
		{"the client's own retry within the run gets the stored answer", func(t *testing.T, fx *fixture.Fixture, fake *stripetest.Fake, _ uuid.UUID) overage.Biller {
			fake.AcceptThenFail(1)
			return stripeAt(fake)
		}, 2},
		{"the next run, Stripe remembering the key", func(t *testing.T, fx *fixture.Fixture, fake *stripetest.Fake, _ uuid.UUID) overage.Biller {
			fake.AcceptThenFail(1)
			_, err := bill(t, fx, stripeAt(fake, noRetries), optionsAt("2026-03-20T00:00:00Z"))
			require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "%v", err)
			return stripeAt(fake, noRetries)
		}, 1},
		{"the next run, after Stripe forgot the key", func(t *testing.T, fx *fixture.Fixture, fake *stripetest.Fake, _ uuid.UUID) overage.Biller {
			fake.AcceptThenFail(1)
			_, err := bill(t, fx, stripeAt(fake, noRetries), optionsAt("2026-03-20T00:00:00Z"))
			require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "%v", err)
			fake.ExpireIdempotencyKeys()
			return stripeAt(fake, noRetries)
		}, 1},
		{"an earlier run's attempt that Stripe took under another key", func(t *testing.T, fx *fixture.Fixture, fake *stripetest.Fake, client uuid.UUID) overage.Biller {
			// The ledger as a run killed after Stripe took its item leaves it.
			charge := fx.Charge(fixture.PendingCharge{Client: client, Period: march, Units: 100, Cents: 100, PushAttempts: 1})
			_, err := stripeAt(fake).CreateInvoiceItem(context.Background(), stripeclient.InvoiceItem{
				Customer: fixture.CustomerID(client), AmountCents: 100, Currency: "usd", Description: "earlier attempt",
				Metadata:       map[string]string{stripeclient.MetadataChargeID: charge.String(), "client_id": client.String()},
				IdempotencyKey: "forgotten-" + charge.String(),
			})
			require.NoError(t, err)
			return stripeAt(fake)
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := fixture.New(t)
			fake := stripetest.NewFake(t)
			a := fx.Client("starter")
			fx.Usage(a, 1300, at("2026-03-10T10:00:00Z"))
			stripe := tc.lose(t, fx, fake, a)

			rep := billOK(t, fx, stripe, optionsAt("2026-03-20T00:00:00Z")).Report
			require.Equal(t, 1, rep.Stripe.Posted)
			require.Zero(t, rep.Stripe.Pending)
			items := fake.Items()
			require.Len(t, items, 1, "one invoice item, however the retry found it")
			require.EqualValues(t, 100, items[0].AmountCents)
			require.Equal(t, a.String(), items[0].Metadata["client_id"])
			require.Equal(t, tc.requests, fake.Requests())
			var itemID string
			var charges int
			fx.Scalar(&itemID, `SELECT stripe_invoice_item_id FROM overage_charges WHERE client_id = $1 AND status = 'posted'`, a)
			fx.Scalar(&charges, `SELECT count(*) FROM overage_charges WHERE client_id = $1`, a)
			require.Equal(t, items[0].ID, itemID)
			require.Equal(t, 1, charges)
		})
	}
}

// An earlier attempt that never reached Stripe is created by the next run:
// the lookup finds nothing, so nothing is skipped either.
func TestEarlierAttemptThatNeverReachedStripeIsCreated(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	fake := stripetest.NewFake(t)
	a := fx.Client("starter")
	charge := fx.Charge(fixture.PendingCharge{Client: a, Period: march, Units: 100, Cents: 100, PushAttempts: 1})

	rep := billOK(t, fx, stripeAt(fake), optionsAt("2026-03-20T00:00:00Z")).Report
	require.Equal(t, 1, rep.Stripe.Posted)
	require.Positive(t, fake.Lists(), "Stripe was asked first whether it had the charge")
	items := fake.Items()
	require.Len(t, items, 1)
	require.Equal(t, charge.String(), items[0].Metadata[stripeclient.MetadataChargeID])
	var attempts int
	fx.Scalar(&attempts, `SELECT push_attempts FROM overage_charges WHERE id = $1 AND status = 'posted'`, charge)
	require.Equal(t, 2, attempts)
}

func TestClientTheRulesCannotPriceFailsAndTheRestAreBilled(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	// A price so large that the amount overflows int64 cents.
	fx.Plan("huge", 1, 9223372036854775807)
	broken := fx.Client("huge")
	fx.Exec(`UPDATE clients SET billing_status = 'cancelled' WHERE id = $1`, broken) // keep the hard cap out of it
	fx.Usage(broken, 20001, at("2026-03-10T10:00:00Z"))
	fine := fx.Client("starter")
	fx.Usage(fine, 1300, at("2026-03-10T10:00:00Z"))

	res, err := bill(t, fx, nil, optionsAt("2026-03-20T00:00:00Z"))
	require.Equal(t, exitcode.Partial, exitcode.Of(err), "%v", err)
	require.ErrorContains(t, err, "overflows")
	require.Equal(t, runner.StatusPartial, res.Record.Status)
	require.Equal(t, 1, res.Report.Totals.ClientsFailed)
	require.Equal(t, 1, res.Report.Totals.ChargesCreated)
	require.Contains(t, lineOf(t, res.Report, broken, "2026-03").Error, "overflows")
	units, _ := fx.Charged(fine, march)
	require.EqualValues(t, 100, units, "the other clients are billed")
	units, _ = fx.Charged(broken, march)
	require.Zero(t, units)
}

// A second run while the first holds the job's lock is skipped (exit 75)
// and touches nothing; the first bills every client once.
func TestRunWhileAnotherHoldsTheLockIsSkipped(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	a := fx.Client("starter")
	b := fx.Client("starter")
	fx.Usage(a, 1300, at("2026-03-10T10:00:00Z"))
	fx.Usage(b, 1300, at("2026-03-10T10:00:00Z"))

	release := fx.HoldRowLock(b)
	type outcome struct {
		res runner.Result[overage.Report]
		err error
	}
	first := make(chan outcome, 1)
	go func() {
		res, err := billRun(context.Background(), fx.DB.Pool, nil, optionsAt("2026-03-20T00:00:00Z"))
		first <- outcome{res, err}
	}()
	fx.WaitForLockWait()

	second, err := bill(t, fx, nil, optionsAt("2026-03-20T00:00:00Z"))
	require.Equal(t, exitcode.Locked, exitcode.Of(err), "%v", err)
	require.ErrorContains(t, err, "holds the lock")
	require.True(t, second.Started)
	require.False(t, second.Ran)
	require.Equal(t, runner.StatusSkipped, second.Record.Status)

	release()
	var got outcome
	select {
	case got = <-first:
	case <-time.After(time.Minute):
		t.Fatal("the first run did not finish")
	}
	require.NoError(t, got.err)
	require.Equal(t, 2, got.res.Report.Totals.ChargesCreated)
	for _, id := range []uuid.UUID{a, b} {
		units, _ := fx.Charged(id, march)
		require.EqualValues(t, 100, units)
	}
}

// Two runs started at once, in-process: whichever way they interleave, each
// client is charged once.
func TestRunsStartedAtOnceBillEachClientOnce(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	for range 20 {
		fx.Usage(fx.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
	}
	var wg sync.WaitGroup
	results := make([]runner.Result[overage.Report], 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = billRun(context.Background(), fx.DB.Pool, nil, optionsAt("2026-03-20T00:00:00Z"))
		})
	}
	wg.Wait()
	billed := 0
	for i, res := range results {
		require.Contains(t, []int{exitcode.OK, exitcode.Locked}, exitcode.Of(errs[i]), "%v", errs[i])
		if res.Ran {
			billed += res.Report.Totals.ChargesCreated
		}
	}
	require.Equal(t, 20, billed, "the two runs together charge each client once")
	var charges, clients int
	fx.Scalar(&charges, `SELECT count(*) FROM overage_charges`)
	fx.Scalar(&clients, `SELECT count(DISTINCT client_id) FROM overage_charges WHERE units = 100`)
	require.Equal(t, 20, charges)
	require.Equal(t, 20, clients)
}
