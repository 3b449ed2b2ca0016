package main_test

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// End-to-end tests of "safe by default": nothing a typo, a missing
// variable, a drifting clock, a bad setting or a lost lock can turn into a
// run on the wrong target, a refused cron run, or money moved twice.

// overCap gives n active starter clients 1300 queries in March 2026 (100
// billable units each) and returns them in the order the job takes them.
func overCap(f *fixture.Fixture, n int) []uuid.UUID {
	for range n {
		f.Usage(f.Client("starter"), 1300, at("2026-03-10T10:00:00Z"))
	}
	ids := make([]uuid.UUID, 0, n)
	for i := range n {
		var id uuid.UUID
		f.Scalar(&id, `SELECT id FROM clients ORDER BY id OFFSET $1 LIMIT 1`, i)
		ids = append(ids, id)
	}
	return ids
}

func chargeCount(f *fixture.Fixture) int {
	var n int
	f.Scalar(&n, `SELECT count(*) FROM overage_charges`)
	return n
}

// terminateLock ends the session that holds a job's advisory lock, as a
// failover or an administrator would, and waits until it is gone (the
// termination is only a signal: the backend holds the lock until it exits).
func terminateLock(t *testing.T, f *fixture.Fixture, job string) {
	t.Helper()
	var n int
	f.Scalar(&n, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, "cortexctl/"+job+"/lock")
	require.Equal(t, 1, n, "one lock session to terminate")
	require.Eventually(t, func() bool {
		f.Scalar(&n, `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND d.datname = current_database()`)
		return n == 0
	}, time.Minute, 10*time.Millisecond, "the terminated session still holds the lock")
}

// A flag given empty (a shell variable that came out empty) or the nil UUID
// never means "every client"; nothing runs.
func TestSafetyGivenButEmptyFlagsChangeNothing(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	expired := f.GraceClient("starter", graceAsOf.Add(-8*24*time.Hour))
	c := newCLI(t, f.DB.URL)
	before := f.Dump()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"billing", "grace", "--client", ""}, "--client was given but is empty"},
		{[]string{"billing", "grace", "--client", "00000000-0000-0000-0000-000000000000"}, "nil UUID"},
		{[]string{"billing", "overage", "--no-stripe", "--client", " "}, "--client was given but is empty"},
		{[]string{"billing", "grace", "--as-of", ""}, "--as-of was given but is empty"},
		{[]string{"billing", "grace", "--database-url", ""}, "--database-url was given but is empty"},
		{[]string{"jobs", "history", "--job", ""}, "--job was given but is empty"},
	} {
		requireOneLineError(t, c.run(tc.args...), 2, tc.want)
	}
	require.Equal(t, before, f.Dump())
	require.Zero(t, f.JobRunCount())
	status, _ := f.Status(expired)
	require.Equal(t, "grace_period", status)
}

// No --database-url, no DATABASE_URL, no PG* variable: cortexctl does not
// let libpq guess a database (it would find one named after the OS user).
func TestSafetyNoDatabaseGiven(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "") // DATABASE_URL= counts as unset
	for _, args := range [][]string{{"billing", "grace"}, {"db", "migrate"}, {"jobs", "history"}} {
		requireOneLineError(t, c.run(args...), 78, "no database given: set DATABASE_URL (or --database-url)")
	}
}

// One real run at an as-of a few minutes ahead (allowed) used to make every
// plain cron run exit 2 until the clock caught up. A run without --as-of
// takes the database's clock and is never refused for it.
func TestSafetyRunWithoutAsOfIsNeverRefused(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	var dbNow time.Time
	f.Scalar(&dbNow, `SELECT now()`)
	ahead := dbNow.Add(4 * time.Minute).UTC().Format(time.RFC3339Nano)
	runGrace(t, c, "--as-of", ahead)

	plain := runGrace(t, c)
	require.NotNil(t, plain.Run.AsOf)
	require.Equal(t, ahead, plain.Run.AsOf.UTC().Format(time.RFC3339Nano),
		"the plain run evaluates the later instant an earlier run already evaluated, not the past")

	// A run that asks for the past is still refused, naming both instants in full.
	r := c.run("billing", "grace", "--as-of", dbNow.Add(-time.Hour).UTC().Format(time.RFC3339Nano))
	requireOneLineError(t, r, 2, "is earlier than the as-of of an earlier real run ("+ahead+")")
}

// The instant evaluated is the instant reported and recorded: sub-microsecond
// digits are dropped at parse, as PostgreSQL keeps microseconds.
func TestSafetyAsOfIsTruncatedToTheMicrosecond(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	id := f.Client("starter")
	f.Usage(id, 1300, at("2026-03-20T00:00:00.123455Z")) // before as-of: counts
	f.Usage(id, 500, at("2026-03-20T00:00:00.123456Z"))  // at as-of: ignored

	rep := ledger(t, c, "2026-03-20T00:00:00.123456789Z")
	require.NotNil(t, rep.Report)
	require.EqualValues(t, 100, rep.Report.Totals.NewUnits, "1300 used: the row at the as-of's microsecond is not before it")
	var stored time.Time
	f.Scalar(&stored, `SELECT as_of FROM job_runs WHERE id = $1`, rep.Run.ID)
	want := at("2026-03-20T00:00:00.123456Z")
	require.True(t, want.Equal(stored), "job_runs.as_of %s", stored)
	require.True(t, want.Equal(rep.Report.AsOf), "report as_of %s", rep.Report.AsOf)
	require.True(t, want.Equal(rep.Run.AsOf), "run as_of %s", rep.Run.AsOf)
}

// Stripe settings that cannot work are refused before the lock, with
// something to bill: exit 78, nothing written but the run's own row.
func TestSafetyBadStripeSettingsRefusedBeforeAnythingIsWritten(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"a base URL that is not http", []string{"STRIPE_API_KEY=sk_test_x", "STRIPE_API_BASE=ftp://bad"}, `stripe base URL "ftp://bad"`},
		{"a live key aimed at a mock", []string{"STRIPE_API_KEY=sk_live_x", "STRIPE_API_BASE=http://127.0.0.1:12111"}, "refusing to send a live Stripe key"},
		{"not a secret key", []string{"STRIPE_API_KEY=pk_test_x"}, "does not look like one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := fixture.New(t)
			overCap(f, 2)
			before := f.Dump()
			r := newCLI(t, f.DB.URL, tc.env...).run("billing", "overage", "--as-of", "2026-03-20T00:00:00Z")
			requireOneLineError(t, r, 78, tc.want)
			require.Equal(t, before, f.Dump(), "no charge was written")
			var status string
			var exit int
			f.Scalar(&status, `SELECT status FROM job_runs`)
			f.Scalar(&exit, `SELECT exit_code FROM job_runs`)
			require.Equal(t, []any{1, "failed", 78}, []any{f.JobRunCount(), status, exit})
		})
	}
}

// The lock session terminated while a client waits in its transaction: that
// client does not commit, no later one starts, and the run exits 69.
func TestSafetyLostLockDuringClientsCommitsNothingMore(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	ids := overCap(f, 3)
	release := f.HoldRowLock(ids[1])
	cmd, out, errb := c.start("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z", "--output", "json")
	f.WaitForLockWait()
	terminateLock(t, f, "billing-overage")
	release()
	r := c.wait(cmd, out, errb)
	require.Equal(t, 69, r.code, r.stderr)
	require.Contains(t, finalError(t, r).Error, "lost the billing-overage lock")
	require.Equal(t, 1, chargeCount(f), "only the client before the loss committed")
	units, _ := f.Charged(ids[0], "2026-03-01")
	require.EqualValues(t, 100, units)
	var status string
	f.Scalar(&status, `SELECT status FROM job_runs WHERE job = 'billing-overage'`)
	require.Equal(t, "failed", status)
}

// heldAtStripe is a real overage run whose first push Stripe has accepted
// but not yet answered.
type heldAtStripe struct {
	c       *cli
	cmd     *exec.Cmd
	out, er *syncBuffer
	release func()
}

// finish lets Stripe answer and waits for the run to end.
func (h heldAtStripe) finish() result {
	h.release()
	return h.c.wait(h.cmd, h.out, h.er)
}

// pushingThree bills three clients for real, one push at a time, and
// returns once Stripe has accepted the first charge and holds its answer.
func pushingThree(t *testing.T) (*fixture.Fixture, *stripetest.Fake, heldAtStripe) {
	t.Helper()
	f := fixture.New(t)
	overCap(f, 3)
	fake := stripetest.NewFake(t)
	c := stripeCLI(t, f, fake.URL())
	accepted, release := fake.BlockAfterAccept()
	cmd, out, errb := c.start("billing", "overage", "--as-of", "2026-03-20T00:00:00Z", "--stripe-concurrency", "1", "--output", "json")
	select {
	case <-accepted:
	case <-time.After(time.Minute):
		t.Fatal("the run never reached Stripe")
	}
	return f, fake, heldAtStripe{c: c, cmd: cmd, out: out, er: errb, release: release}
}

// The lock session terminated while a charge is with Stripe: that answer is
// recorded, no further charge is pushed, and the run exits 69.
func TestSafetyLostLockDuringPushPushesNothingMore(t *testing.T) {
	t.Parallel()
	f, fake, run := pushingThree(t)
	terminateLock(t, f, "billing-overage")
	r := run.finish()
	require.Equal(t, 69, r.code, r.stderr)
	require.Len(t, fake.Items(), 1, "nothing was pushed after the lock was lost")
	var pending int
	f.Scalar(&pending, `SELECT count(*) FROM overage_charges WHERE status = 'pending'`)
	require.Equal(t, 2, pending)
	rep := decode[overageJSON](t, r)
	require.Equal(t, 2, rep.Report.Stripe.Pending, "the pending count is the one after the run")
}

// Stripe failing after some charges were posted is an outage (69) named as
// one, not "not accepted by Stripe".
func TestSafetyStripeOutageAfterSomePostedIsNamedAnOutage(t *testing.T) {
	t.Parallel()
	f, fake, run := pushingThree(t)
	fake.FailNext(100, 500)
	r := run.finish()
	require.Equal(t, 69, r.code, r.stderr)
	final := finalError(t, r).Error
	require.Contains(t, final, "Stripe unavailable: 1 charge posted, 2 charges left pending for the next run")
	require.NotContains(t, final, "not accepted")
	rep := decode[overageJSON](t, r)
	require.Equal(t, 1, rep.Report.Stripe.Posted)
	require.Equal(t, 2, rep.Report.Stripe.Pending)
	var pending int
	f.Scalar(&pending, `SELECT count(*) FROM overage_charges WHERE status = 'pending'`)
	require.Equal(t, 2, pending, "the ledger agrees with the report")
}

// The first SIGINT says at once that the run stops after the current client;
// a second aborts at once (exit 130) and the client in flight never commits.
func TestSafetySecondSignalAbortsAtOnce(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	ids := overCap(f, 3)
	release := f.HoldRowLock(ids[1])
	defer release()
	cmd, out, errb := c.start("billing", "overage", "--no-stripe", "--as-of", "2026-03-20T00:00:00Z")
	f.WaitForLockWait()
	signal(t, cmd, syscall.SIGINT)
	waitForLine(t, errb, "stopping after the current client") // acknowledged while the client still waits
	signal(t, cmd, syscall.SIGINT)
	r := c.wait(cmd, out, errb) // returns while the row lock is still held
	require.Equal(t, 130, r.code, r.stderr)
	stop := strings.Index(r.stderr, "stopping after the current client")
	abort := strings.Index(r.stderr, "aborting now")
	require.GreaterOrEqual(t, stop, 0, "the first signal is acknowledged:\n%s", r.stderr)
	require.Greater(t, abort, stop, "then the second aborts:\n%s", r.stderr)
	require.Equal(t, 1, chargeCount(f), "the client in flight was rolled back")
}
