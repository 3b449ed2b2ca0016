package grace_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/db/payments"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/grace"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// In-process tests of the grace rules: each runs the job as `billing grace`
// does (under runner.Execute, so with its lock and its job_runs row)
// against a fresh database. The command's own contract (flags, exit codes,
// output, the as-of floor) is tested through the binary in cmd/cortexctl.

// asOf is the instant every test evaluates at.
var asOf = time.Date(2026, 10, 15, 2, 0, 0, 0, time.UTC)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

func optionsAt(at time.Time) grace.Options {
	return grace.Options{Params: runner.Params{AsOf: at}, GraceDays: grace.DefaultGraceDays}
}

// run runs the job once, as the command does.
func run(t *testing.T, fx *fixture.Fixture, opts grace.Options) (runner.Result[grace.Report], error) {
	t.Helper()
	r := &runner.Runner{Pool: fx.DB.Pool, Log: zerolog.Nop(), Version: "v0.0.0-grace-test"}
	job := runner.Job{Name: grace.Name, Params: opts.Params, MonotonicAsOf: true}
	return runner.Execute(context.Background(), r, job, func(ctx context.Context, run runner.Run) (grace.Report, error) {
		return grace.Run(ctx, grace.Deps{DB: fx.DB.Pool, RunID: run.ID, Log: zerolog.Nop()}, opts)
	})
}

// runOK runs the job and requires success.
func runOK(t *testing.T, fx *fixture.Fixture, opts grace.Options) runner.Result[grace.Report] {
	t.Helper()
	res, err := run(t, fx, opts)
	require.NoError(t, err)
	require.True(t, res.Ran)
	require.Equal(t, runner.StatusSucceeded, res.Record.Status)
	return res
}

func line(t *testing.T, rep grace.Report, id uuid.UUID) grace.ClientLine {
	t.Helper()
	for _, l := range rep.Clients {
		if l.ClientID == id {
			return l
		}
	}
	t.Fatalf("client %s is not in the grace report: %+v", id, rep.Clients)
	return grace.ClientLine{}
}

func actions(rep grace.Report) map[uuid.UUID]string {
	out := map[uuid.UUID]string{}
	for _, l := range rep.Clients {
		out[l.ClientID] = l.Action
	}
	return out
}

// A client whose grace began exactly the grace period before as-of is
// disabled (grace_expired), with its clock cleared, disabled_at at the
// as-of and a status event naming the run; one second less and it is left
// alone.
func TestDisablesAtExactlyTheGracePeriod(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	expired := fx.GraceClient("starter", asOf.Add(-week))
	fx.Payment(expired, "failed", asOf.Add(-3*day))
	fresh := fx.GraceClient("growth", asOf.Add(-week+time.Second))

	res := runOK(t, fx, optionsAt(asOf))
	rep := res.Report
	require.True(t, asOf.Equal(rep.AsOf))
	require.False(t, rep.DryRun)
	require.Equal(t, 7, rep.GraceDays)
	require.Len(t, rep.Clients, 2)
	require.Equal(t, grace.Totals{InGrace: 2, Disabled: 1}, rep.Totals)

	le := line(t, rep, expired)
	require.Equal(t, "disable", le.Action)
	require.Empty(t, le.Error)
	require.True(t, asOf.Add(-week).Equal(le.GraceStartedAt))
	require.True(t, asOf.Equal(le.Deadline), "deadline %s", le.Deadline)
	require.Nil(t, le.PaidAt)
	require.Equal(t, 2, le.FailedPayments)
	require.Equal(t, "starter", le.Plan)
	require.Equal(t, expired.String()+"@example.test", le.Email)

	lf := line(t, rep, fresh)
	require.Equal(t, "none", lf.Action)
	require.True(t, asOf.Add(time.Second).Equal(lf.Deadline))
	require.Equal(t, 1, lf.FailedPayments)

	status, reason := fx.Status(expired)
	require.Equal(t, [2]string{"disabled", "grace_expired"}, [2]string{status, reason})
	require.Nil(t, fx.GraceStartedAt(expired))
	var disabledAt time.Time
	fx.Scalar(&disabledAt, `SELECT disabled_at FROM clients WHERE id = $1`, expired)
	require.True(t, asOf.Equal(disabledAt), "disabled_at %s, want the as-of", disabledAt)
	runID := res.Record.ID
	require.Equal(t, []fixture.StatusEvent{{From: "grace_period", To: "disabled", Reason: "grace_expired", Actor: "billing-grace", RunID: &runID}},
		fx.StatusEvents(expired))

	status, reason = fx.Status(fresh)
	require.Equal(t, [2]string{"grace_period", ""}, [2]string{status, reason})
	started := fx.GraceStartedAt(fresh)
	require.NotNil(t, started)
	require.True(t, asOf.Add(-week+time.Second).Equal(*started))
	require.Empty(t, fx.StatusEvents(fresh))
}

// --grace-days sets the deadline: at it a client is disabled, a second
// before it is not.
func TestGraceDaysSetTheDeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		days   int
		since  time.Duration // before as-of
		action string
		status string
	}{
		{7, week, "disable", "disabled"},
		{7, week - time.Second, "none", "grace_period"},
		{3, 3 * day, "disable", "disabled"},
		{3, 3*day - time.Second, "none", "grace_period"},
		{30, 29 * day, "none", "grace_period"},
		{1, day, "disable", "disabled"},
	} {
		t.Run(fmt.Sprintf("%d days, grace began %s before: %s", tc.days, tc.since, tc.action), func(t *testing.T) {
			t.Parallel()
			fx := fixture.New(t)
			id := fx.GraceClient("starter", asOf.Add(-tc.since))
			opts := optionsAt(asOf)
			opts.GraceDays = tc.days
			rep := runOK(t, fx, opts).Report
			require.Equal(t, tc.days, rep.GraceDays)
			l := line(t, rep, id)
			require.Equal(t, tc.action, l.Action)
			require.True(t, asOf.Add(-tc.since).Add(time.Duration(tc.days)*day).Equal(l.Deadline), "deadline %s", l.Deadline)
			status, _ := fx.Status(id)
			require.Equal(t, tc.status, status)
		})
	}
}

func TestGraceDaysOutOfRangeIsRefused(t *testing.T) {
	t.Parallel()
	for _, days := range []int{0, 91} {
		opts := optionsAt(asOf)
		opts.GraceDays = days
		err := opts.Validate()
		require.Equal(t, exitcode.Usage, exitcode.Of(err))
		require.ErrorContains(t, err, "out of range: use 1 to 90")
	}
}

// Only a succeeded payment in [grace start, as-of) reactivates.
func TestOnlyAPaymentDuringGraceReactivates(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	cases := []struct {
		name    string
		since   time.Duration // grace began this long before as-of
		paid    time.Duration // the succeeded payment, after grace began
		action  string
		status  string
		paidAt  bool
		changes bool
	}{
		{"paid two days into grace: reactivated", 3 * day, 2 * day, "reactivate", "active", true, true},
		{"paid at the instant grace began: counts", 10 * day, 0, "reactivate", "active", true, true},
		{"paid a second before grace began, expired since: disabled", 8 * day, -time.Second, "disable", "disabled", false, true},
		{"paid exactly at as-of, 3 days in: not yet seen", 3 * day, 3 * day, "none", "grace_period", false, false},
		{"paid after as-of, expired: disabled as if unpaid", 9 * day, 9*day + time.Hour, "disable", "disabled", false, true},
	}
	ids := make([]uuid.UUID, len(cases))
	for i, tc := range cases {
		since := asOf.Add(-tc.since)
		ids[i] = fx.GraceClient("starter", since)
		fx.Payment(ids[i], "succeeded", since.Add(tc.paid))
	}

	res := runOK(t, fx, optionsAt(asOf))
	require.Equal(t, grace.Totals{InGrace: 5, Disabled: 2, Reactivated: 2}, res.Report.Totals)
	runID := res.Record.ID
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, since := ids[i], asOf.Add(-tc.since)
			l := line(t, res.Report, id)
			require.Equal(t, tc.action, l.Action)
			require.True(t, since.Add(week).Equal(l.Deadline))
			if tc.paidAt {
				require.NotNil(t, l.PaidAt)
				require.True(t, since.Add(tc.paid).Equal(*l.PaidAt), "paid_at %s", l.PaidAt)
			} else {
				require.Nil(t, l.PaidAt)
			}
			status, reason := fx.Status(id)
			require.Equal(t, tc.status, status)
			events := fx.StatusEvents(id)
			if !tc.changes {
				require.NotNil(t, fx.GraceStartedAt(id))
				require.Empty(t, events)
				return
			}
			require.Nil(t, fx.GraceStartedAt(id), "leaving grace clears the clock")
			require.Equal(t, []fixture.StatusEvent{{From: "grace_period", To: status, Reason: reason, Actor: "billing-grace", RunID: &runID}}, events)
		})
	}
}

// Nothing moves the grace clock: more failed payments do not, the database
// refuses a direct change, and an unrelated edit leaves it alone.
func TestGraceClockIsNotReset(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	since := asOf.Add(-week - time.Hour)
	id := fx.GraceClient("starter", since)
	for _, at := range []time.Time{since.Add(2 * day), since.Add(6 * day), asOf.Add(-time.Minute)} {
		fx.Payment(id, "failed", at)
	}

	_, err := fx.DB.Pool.Exec(context.Background(), `UPDATE clients SET grace_period_started_at = now() WHERE id = $1`, id)
	require.Error(t, err, "the database let grace_period_started_at move while in grace")
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%v", err)
	require.Equal(t, "23514", pgErr.Code) // check_violation
	require.Contains(t, pgErr.Message, "cannot change while it is in grace")
	fx.Exec(`UPDATE clients SET company_name = 'Renamed Co' WHERE id = $1`, id)
	var company string
	fx.Scalar(&company, `SELECT company_name FROM clients WHERE id = $1`, id)
	require.Equal(t, "Renamed Co", company)
	started := fx.GraceStartedAt(id)
	require.NotNil(t, started)
	require.True(t, since.Equal(*started), "grace_period_started_at moved to %s", started)

	// The deadline is 7 days after the first failure, however many followed.
	dryOpts := optionsAt(asOf)
	dryOpts.DryRun = true
	l := line(t, runOK(t, fx, dryOpts).Report, id)
	require.True(t, since.Equal(l.GraceStartedAt))
	require.True(t, since.Add(week).Equal(l.Deadline), "deadline %s", l.Deadline)
	require.Equal(t, 4, l.FailedPayments)
	require.Equal(t, "disable", l.Action)

	l = line(t, runOK(t, fx, optionsAt(asOf)).Report, id)
	require.Equal(t, "disable", l.Action)
	require.True(t, since.Add(week).Equal(l.Deadline))
	status, reason := fx.Status(id)
	require.Equal(t, [2]string{"disabled", "grace_expired"}, [2]string{status, reason})
}

// trio adds one client of each grace outcome at asOf: in grace 8 days
// without payment, one who paid during grace, one a day into grace.
func trio(fx *fixture.Fixture) (expired, paid, fresh uuid.UUID) {
	expired = fx.GraceClient("starter", asOf.Add(-8*day))
	paid = fx.GraceClient("growth", asOf.Add(-2*day))
	fx.Payment(paid, "succeeded", asOf.Add(-day))
	fresh = fx.GraceClient("scale", asOf.Add(-day))
	return expired, paid, fresh
}

// A dry run reports what a real run does and changes nothing but job_runs.
func TestDryRunChangesNothingAndReportsWhatTheRealRunDoes(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	expired, paid, fresh := trio(fx)

	before := fx.Dump()
	opts := optionsAt(asOf)
	opts.DryRun = true
	dry := runOK(t, fx, opts)
	require.Equal(t, before, fx.Dump(), "a dry run changed the database")
	require.True(t, dry.Report.DryRun)
	require.True(t, dry.Record.DryRun)
	require.Equal(t, map[uuid.UUID]string{expired: "disable", paid: "reactivate", fresh: "none"}, actions(dry.Report))
	require.Equal(t, grace.Totals{InGrace: 3, Disabled: 1, Reactivated: 1}, dry.Report.Totals)
	var dbDry bool
	fx.Scalar(&dbDry, `SELECT dry_run FROM job_runs WHERE id = $1 AND status = 'succeeded'`, dry.Record.ID)
	require.True(t, dbDry)
	require.Equal(t, 1, fx.JobRunCount())

	wet := runOK(t, fx, optionsAt(asOf)).Report
	require.False(t, wet.DryRun)
	require.Equal(t, dry.Report.Clients, wet.Clients, "the real run does exactly what the dry run said")
	require.Equal(t, dry.Report.Totals, wet.Totals)
	for id, want := range map[uuid.UUID]string{expired: "disabled", paid: "active", fresh: "grace_period"} {
		status, _ := fx.Status(id)
		require.Equal(t, want, status)
	}
}

// A second run at the same as-of finds nothing more to do.
func TestRunTwiceIsIdempotent(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	expired, paid, fresh := trio(fx)

	first := runOK(t, fx, optionsAt(asOf)).Report
	require.Equal(t, map[uuid.UUID]string{expired: "disable", paid: "reactivate", fresh: "none"}, actions(first))

	before := fx.Dump()
	second := runOK(t, fx, optionsAt(asOf)).Report
	require.Equal(t, before, fx.Dump(), "the second run changed the database")
	require.Equal(t, map[uuid.UUID]string{fresh: "none"}, actions(second))
	require.Equal(t, grace.Totals{InGrace: 1}, second.Totals)
	for _, id := range []uuid.UUID{expired, paid} {
		require.Len(t, fx.StatusEvents(id), 1, "client %s changed status again", id)
	}
}

// The client filter restricts the run to one client; an unknown client is
// refused as bad input and changes nothing.
func TestClientFilter(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	one := fx.GraceClient("starter", asOf.Add(-8*day))
	other := fx.GraceClient("starter", asOf.Add(-9*day))

	before := fx.Dump()
	opts := optionsAt(asOf)
	opts.ClientID = uuid.New()
	_, err := run(t, fx, opts)
	require.Equal(t, exitcode.Usage, exitcode.Of(err))
	require.ErrorContains(t, err, opts.ClientID.String()+": no client has that id")
	require.Equal(t, before, fx.Dump())

	opts.ClientID = one
	rep := runOK(t, fx, opts).Report
	require.Equal(t, map[uuid.UUID]string{one: "disable"}, actions(rep))
	require.Equal(t, grace.Totals{InGrace: 1, Disabled: 1}, rep.Totals)
	status, reason := fx.Status(one)
	require.Equal(t, [2]string{"disabled", "grace_expired"}, [2]string{status, reason})
	status, _ = fx.Status(other)
	require.Equal(t, "grace_period", status)
	require.Empty(t, fx.StatusEvents(other))
}

// A client that leaves grace while a run waits on it is left alone: the
// run re-reads it under the row lock before it changes anything.
func TestClientThatLeftGraceMeanwhileIsLeftAlone(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	id := fx.GraceClient("starter", asOf.Add(-8*day))

	// Someone else (the API, on a payment) is reactivating the client.
	ctx := context.Background()
	tx, err := fx.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `UPDATE clients SET billing_status = 'active', grace_period_started_at = NULL WHERE id = $1`, id)
	require.NoError(t, err)

	done := make(chan runner.Result[grace.Report], 1)
	go func() {
		res, _ := run(t, fx, optionsAt(asOf))
		done <- res
	}()
	fx.WaitForLockWait()
	require.NoError(t, tx.Commit(ctx))
	var res runner.Result[grace.Report]
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the run did not finish")
	}
	require.Equal(t, runner.StatusSucceeded, res.Record.Status)
	require.Equal(t, "none", line(t, res.Report, id).Action, "planned as disable, re-read as no longer in grace")
	require.Zero(t, res.Report.Totals.Disabled)
	status, _ := fx.Status(id)
	require.Equal(t, "active", status)
	events := fx.StatusEvents(id)
	require.Len(t, events, 1)
	require.Equal(t, "active", events[0].To)
	require.NotEqual(t, "billing-grace", events[0].Actor)
}

// The scenario, end to end through the store the webhook uses:
// three clients' invoices fail 8 days before as-of, as Stripe tells the API
// (payments.Apply); Stripe's retry of one fails again; one client pays
// during grace. The grace job at as-of disables exactly the two who never
// paid. A payment made during grace but delivered after the job ran still
// brings its client back.
func TestPaymentDuringGraceThenTheJobDisablesExactlyThoseWhoNeverPaid(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	ctx := context.Background()
	failedAt := asOf.Add(-8 * day)
	never, retried, payer := fx.Client("starter"), fx.Client("growth"), fx.Client("scale")

	n := 0
	apply := func(id uuid.UUID, typ string, at time.Time) (string, payments.Result) {
		t.Helper()
		n++
		ev := payments.Event{ID: fmt.Sprintf("evt_grace_%d", n), Type: typ, Created: at,
			CustomerID: fixture.CustomerID(id), InvoiceID: fmt.Sprintf("in_%s", id.String()[:8]), AmountCents: 4900}
		res, err := payments.Apply(ctx, fx.DB.Pool, ev)
		require.NoError(t, err)
		return ev.ID, res
	}
	failures := map[uuid.UUID]string{}
	for _, id := range []uuid.UUID{never, retried, payer} {
		evID, res := apply(id, "invoice.payment_failed", failedAt)
		require.Equal(t, payments.Applied, res.Outcome)
		failures[id] = evID
		started := fx.GraceStartedAt(id)
		require.NotNil(t, started)
		require.True(t, failedAt.Equal(*started))
	}
	_, res := apply(retried, "invoice.payment_failed", failedAt.Add(3*day))
	require.Equal(t, payments.Recorded, res.Outcome, "Stripe's retry fails again: the clock stays")
	paidID, res := apply(payer, "invoice.paid", failedAt.Add(2*day))
	require.Equal(t, payments.Applied, res.Outcome)

	run := runOK(t, fx, optionsAt(asOf))
	require.Equal(t, grace.Totals{InGrace: 2, Disabled: 2}, run.Report.Totals)
	require.Equal(t, map[uuid.UUID]string{never: "disable", retried: "disable"}, actions(run.Report))
	require.Equal(t, 2, line(t, run.Report, retried).FailedPayments)
	runID := run.Record.ID
	for _, id := range []uuid.UUID{never, retried} {
		status, reason := fx.Status(id)
		require.Equal(t, [2]string{"disabled", "grace_expired"}, [2]string{status, reason})
		require.Equal(t, []fixture.StatusEvent{
			{From: "active", To: "grace_period", Actor: failures[id]},
			{From: "grace_period", To: "disabled", Reason: "grace_expired", Actor: "billing-grace", RunID: &runID},
		}, fx.StatusEvents(id))
	}
	status, _ := fx.Status(payer)
	require.Equal(t, "active", status)
	require.Equal(t, []fixture.StatusEvent{
		{From: "active", To: "grace_period", Actor: failures[payer]},
		{From: "grace_period", To: "active", Actor: paidID},
	}, fx.StatusEvents(payer))

	// never's payment was made on day 5 of its grace; Stripe delivers it
	// only now, after the job disabled it: it is active again.
	lateID, res := apply(never, "invoice.paid", failedAt.Add(5*day))
	require.Equal(t, payments.Applied, res.Outcome)
	status, reason := fx.Status(never)
	require.Equal(t, [2]string{"active", ""}, [2]string{status, reason})
	events := fx.StatusEvents(never)
	require.Equal(t, fixture.StatusEvent{From: "disabled", To: "active", Actor: lateID}, events[len(events)-1])

	// The next run finds nobody in grace and changes nothing.
	require.Equal(t, grace.Totals{}, runOK(t, fx, optionsAt(asOf.Add(time.Hour))).Report.Totals)
}
