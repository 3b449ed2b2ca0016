package main_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// End-to-end tests of `cortexctl billing grace`, run through the binary with
// an explicit --as-of against a fresh database each.

// graceAsOf is the instant every grace test evaluates at: in the past, so a
// real run accepts it.
var graceAsOf = time.Date(2026, 10, 15, 2, 0, 0, 0, time.UTC)

const graceWeek = 7 * 24 * time.Hour

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// graceRunJSON is `billing grace --output json`.
type graceRunJSON struct {
	Run struct {
		ID       uuid.UUID  `json:"run_id"`
		Job      string     `json:"job"`
		Status   string     `json:"status"`
		DryRun   bool       `json:"dry_run"`
		AsOf     *time.Time `json:"as_of"`
		ExitCode *int       `json:"exit_code"`
		Error    *string    `json:"error"`
	} `json:"run"`
	Report *struct {
		AsOf      time.Time       `json:"as_of"`
		DryRun    bool            `json:"dry_run"`
		GraceDays int             `json:"grace_days"`
		Clients   []graceLineJSON `json:"clients"`
		Totals    struct {
			InGrace       int `json:"in_grace"`
			Disabled      int `json:"disabled"`
			Reactivated   int `json:"reactivated"`
			ClientsFailed int `json:"clients_failed"`
		} `json:"totals"`
	} `json:"report"`
}

type graceLineJSON struct {
	ClientID       uuid.UUID  `json:"client_id"`
	Email          string     `json:"email"`
	Plan           string     `json:"plan"`
	GraceStartedAt time.Time  `json:"grace_started_at"`
	Deadline       time.Time  `json:"deadline"`
	PaidAt         *time.Time `json:"paid_at"`
	FailedPayments int        `json:"failed_payments"`
	Action         string     `json:"action"`
	Error          string     `json:"error"`
}

// line returns the report line of a client, failing if there is none.
func (g graceRunJSON) line(t testing.TB, id uuid.UUID) graceLineJSON {
	t.Helper()
	require.NotNil(t, g.Report, "no report")
	for _, l := range g.Report.Clients {
		if l.ClientID == id {
			return l
		}
	}
	t.Fatalf("client %s is not in the grace report: %+v", id, g.Report.Clients)
	return graceLineJSON{}
}

// actions maps each reported client to its action.
func (g graceRunJSON) actions(t testing.TB) map[uuid.UUID]string {
	t.Helper()
	require.NotNil(t, g.Report, "no report")
	out := map[uuid.UUID]string{}
	for _, l := range g.Report.Clients {
		out[l.ClientID] = l.Action
	}
	return out
}

// runGrace runs `billing grace --output json` with args, requires exit 0
// and decodes the report.
func runGrace(t testing.TB, c *cli, args ...string) graceRunJSON {
	t.Helper()
	r := c.runOK(append([]string{"billing", "grace", "--output", "json"}, args...)...)
	g := decode[graceRunJSON](t, r)
	require.Equal(t, "billing-grace", g.Run.Job)
	require.Equal(t, "succeeded", g.Run.Status)
	require.NotNil(t, g.Run.ExitCode)
	require.Equal(t, 0, *g.Run.ExitCode)
	require.NotNil(t, g.Report)
	return g
}

// graceClient creates a client already in grace since the given instant,
// with a failed payment at that instant (the failure that started grace).
func graceClient(f *fixture, plan string, since time.Time) uuid.UUID {
	f.t.Helper()
	id := uuid.New()
	f.exec(`INSERT INTO clients (id, email, company_name, plan_code, billing_status, stripe_customer_id,
	            grace_period_started_at, created_at)
		VALUES ($1, $2, 'Grace Co', $3, 'grace_period', $4, $5, '2020-01-01')`,
		id, id.String()+"@example.test", plan, "cus_"+id.String()[:8], since)
	gracePayment(f, id, "failed", since)
	return id
}

func gracePayment(f *fixture, id uuid.UUID, status string, at time.Time) {
	f.t.Helper()
	f.exec(`INSERT INTO payments (client_id, status, amount_cents, stripe_invoice_id, occurred_at)
		VALUES ($1, $2, 4900, 'in_test', $3)`, id, status, at)
}

func graceStartedAt(f *fixture, id uuid.UUID) *time.Time {
	f.t.Helper()
	var at *time.Time
	f.scalar(&at, `SELECT grace_period_started_at FROM clients WHERE id = $1`, id)
	return at
}

// statusEvent is one row of client_status_events.
type statusEvent struct {
	From, To, Reason, Actor string
	RunID                   *uuid.UUID
}

func statusEvents(f *fixture, id uuid.UUID) []statusEvent {
	f.t.Helper()
	rows, err := f.db.Pool.Query(context.Background(), `
		SELECT from_status, to_status, coalesce(reason, ''), actor, job_run_id
		FROM client_status_events WHERE client_id = $1 ORDER BY id`, id)
	require.NoError(f.t, err)
	defer rows.Close()
	var out []statusEvent
	for rows.Next() {
		var e statusEvent
		require.NoError(f.t, rows.Scan(&e.From, &e.To, &e.Reason, &e.Actor, &e.RunID))
		out = append(out, e)
	}
	require.NoError(f.t, rows.Err())
	return out
}

func jobRunCount(f *fixture) int {
	f.t.Helper()
	var n int
	f.scalar(&n, `SELECT count(*) FROM job_runs`)
	return n
}

// A client whose grace began exactly 7×24h before as-of is disabled
// (grace_expired), with its clock cleared and a status event naming the run;
// one second less and it is left alone.
func TestGraceDisablesAtExactlySevenDays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	expired := graceClient(f, "starter", graceAsOf.Add(-graceWeek))
	gracePayment(f, expired, "failed", graceAsOf.Add(-3*24*time.Hour))
	fresh := graceClient(f, "growth", graceAsOf.Add(-graceWeek+time.Second))

	g := runGrace(t, newCLI(t, f.db.URL), "--as-of", rfc(graceAsOf))

	require.NotNil(t, g.Run.AsOf)
	require.True(t, graceAsOf.Equal(*g.Run.AsOf), "run as_of %s", g.Run.AsOf)
	require.False(t, g.Run.DryRun)
	require.True(t, graceAsOf.Equal(g.Report.AsOf))
	require.False(t, g.Report.DryRun)
	require.Equal(t, 7, g.Report.GraceDays)
	require.Len(t, g.Report.Clients, 2)

	le := g.line(t, expired)
	require.Equal(t, "disable", le.Action)
	require.Empty(t, le.Error)
	require.True(t, graceAsOf.Add(-graceWeek).Equal(le.GraceStartedAt), "grace_started_at %s", le.GraceStartedAt)
	require.True(t, graceAsOf.Equal(le.Deadline), "deadline %s, want %s", le.Deadline, graceAsOf)
	require.Nil(t, le.PaidAt)
	require.Equal(t, 2, le.FailedPayments)
	require.Equal(t, "starter", le.Plan)
	require.Equal(t, expired.String()+"@example.test", le.Email)

	lf := g.line(t, fresh)
	require.Equal(t, "none", lf.Action)
	require.True(t, graceAsOf.Add(time.Second).Equal(lf.Deadline), "deadline %s", lf.Deadline)
	require.Nil(t, lf.PaidAt)
	require.Equal(t, 1, lf.FailedPayments)

	require.Equal(t, 2, g.Report.Totals.InGrace)
	require.Equal(t, 1, g.Report.Totals.Disabled)
	require.Equal(t, 0, g.Report.Totals.Reactivated)
	require.Equal(t, 0, g.Report.Totals.ClientsFailed)

	// The database: expired disabled for grace_expired, clock cleared.
	status, reason := f.status(expired)
	require.Equal(t, "disabled", status)
	require.Equal(t, "grace_expired", reason)
	require.Nil(t, graceStartedAt(f, expired))
	var disabledAt time.Time
	f.scalar(&disabledAt, `SELECT disabled_at FROM clients WHERE id = $1`, expired)
	require.True(t, graceAsOf.Equal(disabledAt), "disabled_at %s, want the as-of", disabledAt)
	runID := g.Run.ID
	require.Equal(t, []statusEvent{{From: "grace_period", To: "disabled", Reason: "grace_expired", Actor: "billing-grace", RunID: &runID}},
		statusEvents(f, expired))

	// The fresh client: untouched.
	status, reason = f.status(fresh)
	require.Equal(t, "grace_period", status)
	require.Empty(t, reason)
	started := graceStartedAt(f, fresh)
	require.NotNil(t, started)
	require.True(t, graceAsOf.Add(-graceWeek+time.Second).Equal(*started))
	require.Empty(t, statusEvents(f, fresh))

	// The run is recorded as it was reported.
	var dbStatus string
	var dbDry bool
	var dbCode int
	f.scalar(&dbStatus, `SELECT status FROM job_runs WHERE id = $1`, runID)
	f.scalar(&dbDry, `SELECT dry_run FROM job_runs WHERE id = $1`, runID)
	f.scalar(&dbCode, `SELECT exit_code FROM job_runs WHERE id = $1`, runID)
	require.Equal(t, "succeeded", dbStatus)
	require.False(t, dbDry)
	require.Equal(t, 0, dbCode)
}

// Only a succeeded payment in [grace start, as-of) reactivates.
func TestGraceReactivatesOnlyOnPaymentDuringGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	day := 24 * time.Hour

	// Paid two days into grace: reactivated.
	paidSince := graceAsOf.Add(-3 * day)
	paid := graceClient(f, "starter", paidSince)
	gracePayment(f, paid, "succeeded", paidSince.Add(2*day))
	// Paid at the very instant grace began: counts (the window is closed at its start).
	paidAtStartSince := graceAsOf.Add(-10 * day)
	paidAtStart := graceClient(f, "starter", paidAtStartSince)
	gracePayment(f, paidAtStart, "succeeded", paidAtStartSince)
	// Paid one second before grace began, expired since: the old payment does not count.
	paidBeforeSince := graceAsOf.Add(-8 * day)
	paidBefore := graceClient(f, "starter", paidBeforeSince)
	gracePayment(f, paidBefore, "succeeded", paidBeforeSince.Add(-time.Second))
	// Paid exactly at as-of, 3 days in: not yet seen, left alone.
	paidAtAsOf := graceClient(f, "growth", graceAsOf.Add(-3*day))
	gracePayment(f, paidAtAsOf, "succeeded", graceAsOf)
	// Paid after as-of, expired: disabled as if it had not paid.
	paidAfterSince := graceAsOf.Add(-9 * day)
	paidAfter := graceClient(f, "growth", paidAfterSince)
	gracePayment(f, paidAfter, "succeeded", graceAsOf.Add(time.Hour))

	g := runGrace(t, newCLI(t, f.db.URL), "--as-of", rfc(graceAsOf))
	require.Equal(t, map[uuid.UUID]string{
		paid: "reactivate", paidAtStart: "reactivate", paidBefore: "disable", paidAtAsOf: "none", paidAfter: "disable",
	}, g.actions(t))

	l := g.line(t, paid)
	require.NotNil(t, l.PaidAt)
	require.True(t, paidSince.Add(2*day).Equal(*l.PaidAt), "paid_at %s", l.PaidAt)
	require.True(t, paidSince.Add(graceWeek).Equal(l.Deadline))
	l = g.line(t, paidAtStart)
	require.NotNil(t, l.PaidAt)
	require.True(t, paidAtStartSince.Equal(*l.PaidAt))
	require.Nil(t, g.line(t, paidBefore).PaidAt)
	require.Nil(t, g.line(t, paidAtAsOf).PaidAt)
	require.Nil(t, g.line(t, paidAfter).PaidAt)
	require.Equal(t, 5, g.Report.Totals.InGrace)
	require.Equal(t, 2, g.Report.Totals.Disabled)
	require.Equal(t, 2, g.Report.Totals.Reactivated)

	runID := g.Run.ID
	for _, id := range []uuid.UUID{paid, paidAtStart} {
		status, reason := f.status(id)
		require.Equal(t, "active", status)
		require.Empty(t, reason)
		require.Nil(t, graceStartedAt(f, id))
		require.Equal(t, []statusEvent{{From: "grace_period", To: "active", Actor: "billing-grace", RunID: &runID}}, statusEvents(f, id))
	}
	for _, id := range []uuid.UUID{paidBefore, paidAfter} {
		status, reason := f.status(id)
		require.Equal(t, "disabled", status)
		require.Equal(t, "grace_expired", reason)
		require.Nil(t, graceStartedAt(f, id))
	}
	status, _ := f.status(paidAtAsOf)
	require.Equal(t, "grace_period", status)
	require.NotNil(t, graceStartedAt(f, paidAtAsOf))
	require.Empty(t, statusEvents(f, paidAtAsOf))
}

// Nothing moves the grace clock: more failed payments do not, the database
// refuses a direct change, and an unrelated edit leaves it alone.
func TestGraceClockIsNotReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	day := 24 * time.Hour
	since := graceAsOf.Add(-graceWeek - time.Hour)
	id := graceClient(f, "starter", since)
	for _, at := range []time.Time{since.Add(2 * day), since.Add(6 * day), graceAsOf.Add(-time.Minute)} {
		gracePayment(f, id, "failed", at)
	}

	// A direct re-anchoring is refused by the trigger.
	_, err := f.db.Pool.Exec(context.Background(), `UPDATE clients SET grace_period_started_at = now() WHERE id = $1`, id)
	require.Error(t, err, "the database let grace_period_started_at move while in grace")
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%v", err)
	require.Equal(t, "23514", pgErr.Code) // check_violation
	require.Contains(t, pgErr.Message, "cannot change while it is in grace")
	// An edit of another column works and leaves the clock alone.
	f.exec(`UPDATE clients SET company_name = 'Renamed Co' WHERE id = $1`, id)
	var company string
	f.scalar(&company, `SELECT company_name FROM clients WHERE id = $1`, id)
	require.Equal(t, "Renamed Co", company)
	started := graceStartedAt(f, id)
	require.NotNil(t, started)
	require.True(t, since.Equal(*started), "grace_period_started_at moved to %s", started)

	// The deadline is 7 days after the first failure, however many followed.
	c := newCLI(t, f.db.URL)
	dry := runGrace(t, c, "--as-of", rfc(graceAsOf), "--dry-run")
	l := dry.line(t, id)
	require.True(t, since.Equal(l.GraceStartedAt))
	require.True(t, since.Add(graceWeek).Equal(l.Deadline), "deadline %s", l.Deadline)
	require.Equal(t, 4, l.FailedPayments)
	require.Equal(t, "disable", l.Action)

	g := runGrace(t, c, "--as-of", rfc(graceAsOf))
	require.Equal(t, "disable", g.line(t, id).Action)
	require.True(t, since.Add(graceWeek).Equal(g.line(t, id).Deadline))
	status, reason := f.status(id)
	require.Equal(t, "disabled", status)
	require.Equal(t, "grace_expired", reason)
}

// graceTrio adds one client of each grace outcome at graceAsOf: in grace 8
// days without payment, one who paid during grace, one a day into grace.
func graceTrio(f *fixture) (expired, paid, fresh uuid.UUID) {
	day := 24 * time.Hour
	expired = graceClient(f, "starter", graceAsOf.Add(-8*day))
	paid = graceClient(f, "growth", graceAsOf.Add(-2*day))
	gracePayment(f, paid, "succeeded", graceAsOf.Add(-day))
	fresh = graceClient(f, "scale", graceAsOf.Add(-day))
	return expired, paid, fresh
}

// A dry run reports what a real run does and changes nothing but job_runs.
func TestGraceDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	expired, paid, fresh := graceTrio(f)
	c := newCLI(t, f.db.URL)

	before := f.dump()
	dry := runGrace(t, c, "--as-of", rfc(graceAsOf), "--dry-run")
	require.Equal(t, before, f.dump(), "a dry run changed the database")

	require.True(t, dry.Run.DryRun)
	require.True(t, dry.Report.DryRun)
	require.Equal(t, map[uuid.UUID]string{expired: "disable", paid: "reactivate", fresh: "none"}, dry.actions(t))
	require.Equal(t, 3, dry.Report.Totals.InGrace)
	require.Equal(t, 1, dry.Report.Totals.Disabled)
	require.Equal(t, 1, dry.Report.Totals.Reactivated)
	var dbDry bool
	var dbStatus string
	f.scalar(&dbDry, `SELECT dry_run FROM job_runs WHERE id = $1`, dry.Run.ID)
	f.scalar(&dbStatus, `SELECT status FROM job_runs WHERE id = $1`, dry.Run.ID)
	require.True(t, dbDry)
	require.Equal(t, "succeeded", dbStatus)
	require.Equal(t, 1, jobRunCount(f))

	// The real run does exactly what the dry run said.
	realRun := runGrace(t, c, "--as-of", rfc(graceAsOf))
	require.False(t, realRun.Report.DryRun)
	require.Equal(t, dry.Report.Clients, realRun.Report.Clients)
	require.Equal(t, dry.Report.Totals, realRun.Report.Totals)
	require.NotEqual(t, before, f.dump())
	status, _ := f.status(expired)
	require.Equal(t, "disabled", status)
	status, _ = f.status(paid)
	require.Equal(t, "active", status)
	status, _ = f.status(fresh)
	require.Equal(t, "grace_period", status)
}

// A second run at the same as-of finds nothing to do; a real run at an
// earlier as-of than an earlier real run is refused.
func TestGraceRunTwiceAndEarlierAsOfRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	expired, paid, fresh := graceTrio(f)
	c := newCLI(t, f.db.URL)

	first := runGrace(t, c, "--as-of", rfc(graceAsOf))
	require.Equal(t, map[uuid.UUID]string{expired: "disable", paid: "reactivate", fresh: "none"}, first.actions(t))

	before := f.dump()
	second := runGrace(t, c, "--as-of", rfc(graceAsOf))
	require.Equal(t, before, f.dump(), "the second run changed the database")
	require.Equal(t, map[uuid.UUID]string{fresh: "none"}, second.actions(t))
	require.Equal(t, 1, second.Report.Totals.InGrace)
	require.Equal(t, 0, second.Report.Totals.Disabled)
	require.Equal(t, 0, second.Report.Totals.Reactivated)
	for _, id := range []uuid.UUID{expired, paid} {
		require.Len(t, statusEvents(f, id), 1, "client %s changed status again", id)
	}

	// The past, for real: refused with exit 2, nothing changed.
	earlier := graceAsOf.Add(-time.Hour)
	r := c.run("billing", "grace", "--output", "json", "--as-of", rfc(earlier))
	requireOneLineError(t, r, 2, "is earlier than the as-of of an earlier real run")
	require.Equal(t, before, f.dump())
	var succeededEarlier int
	f.scalar(&succeededEarlier, `SELECT count(*) FROM job_runs WHERE as_of = $1 AND status = 'succeeded'`, earlier)
	require.Equal(t, 0, succeededEarlier)

	// Looking at the past with --dry-run is allowed.
	dry := runGrace(t, c, "--as-of", rfc(earlier), "--dry-run")
	require.Equal(t, map[uuid.UUID]string{fresh: "none"}, dry.actions(t))
	require.Equal(t, before, f.dump())
}

// A real run that was refused before it evaluated anything (a usage error:
// an as-of in the future, an unknown --client) changed nothing, so its
// as-of must not become the floor later real runs are held to.
func TestGraceRefusedRunDoesNotRaiseAsOfFloor(t *testing.T) {
	t.Parallel()

	t.Run("future as-of", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		c := newCLI(t, f.db.URL)
		future := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
		r := c.run("billing", "grace", "--output", "json", "--as-of", rfc(future))
		requireOneLineError(t, r, 2, "is in the future")

		// The next cron run, at now, must go ahead.
		r = c.run("billing", "grace", "--output", "json")
		require.Equalf(t, 0, r.code, "a refused future --as-of run blocks every later real run:\nstderr:\n%s", r.stderr)
	})

	t.Run("unknown client", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		c := newCLI(t, f.db.URL)
		r := c.run("billing", "grace", "--output", "json", "--as-of", rfc(graceAsOf.Add(time.Hour)), "--client", uuid.NewString())
		requireOneLineError(t, r, 2, "no client has that id")

		r = c.run("billing", "grace", "--output", "json", "--as-of", rfc(graceAsOf))
		require.Equalf(t, 0, r.code, "a refused --client run raised the as-of floor:\nstderr:\n%s", r.stderr)
	})
}

// --client restricts the run to one client; a client that does not exist
// and an id that is not one are refused with exit 2.
func TestGraceClientFlag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	day := 24 * time.Hour
	one := graceClient(f, "starter", graceAsOf.Add(-8*day))
	other := graceClient(f, "starter", graceAsOf.Add(-9*day))
	c := newCLI(t, f.db.URL)

	// Malformed: refused before anything runs.
	r := c.run("billing", "grace", "--as-of", rfc(graceAsOf), "--client", "not-a-uuid")
	requireOneLineError(t, r, 2, `invalid --client "not-a-uuid"`)
	require.Equal(t, 0, jobRunCount(f))

	// Unknown: refused, nothing changed.
	before := f.dump()
	unknown := uuid.New()
	r = c.run("billing", "grace", "--output", "json", "--as-of", rfc(graceAsOf), "--client", unknown.String())
	requireOneLineError(t, r, 2, unknown.String()+": no client has that id")
	require.Equal(t, before, f.dump())

	// One client: only it is evaluated and changed.
	g := runGrace(t, c, "--as-of", rfc(graceAsOf), "--client", one.String())
	require.Equal(t, map[uuid.UUID]string{one: "disable"}, g.actions(t))
	require.Equal(t, 1, g.Report.Totals.InGrace)
	require.Equal(t, 1, g.Report.Totals.Disabled)
	status, reason := f.status(one)
	require.Equal(t, "disabled", status)
	require.Equal(t, "grace_expired", reason)
	status, _ = f.status(other)
	require.Equal(t, "grace_period", status)
	require.Empty(t, statusEvents(f, other))
}

// The table a human reads names the clients and what happened to them.
func TestGraceTableOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	expired, paid, fresh := graceTrio(f)
	c := newCLI(t, f.db.URL)

	dry := c.runOK("billing", "grace", "--output", "table", "--dry-run", "--as-of", rfc(graceAsOf))
	require.Contains(t, dry.stdout, "DRY RUN: nothing was changed")
	require.Contains(t, dry.stdout, "3 clients in grace; would be disabled 1, would be reactivated 1; failed 0")

	r := c.runOK("billing", "grace", "--output", "table", "--as-of", rfc(graceAsOf))
	out := r.stdout
	require.Contains(t, out, "billing-grace  run ")
	require.Contains(t, out, "as of "+rfc(graceAsOf))
	require.Contains(t, out, "grace 7 days")
	require.NotContains(t, out, "DRY RUN")
	for _, h := range []string{"CLIENT", "PLAN", "GRACE SINCE", "DEADLINE", "PAID AT", "FAILED PAYMENTS", "ACTION"} {
		require.Contains(t, out, h)
	}
	lineOf := func(id uuid.UUID) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, id.String()+"@example.test") {
				return l
			}
		}
		t.Fatalf("no table row for client %s:\n%s", id, out)
		return ""
	}
	require.Regexp(t, `\sdisable\s*$`, lineOf(expired))
	require.Contains(t, lineOf(expired), rfc(graceAsOf.Add(-24*time.Hour))) // deadline: 8 days ago + 7
	require.Regexp(t, `\sreactivate\s*$`, lineOf(paid))
	require.Contains(t, lineOf(paid), rfc(graceAsOf.Add(-24*time.Hour))) // paid at
	require.Regexp(t, `\snone\s*$`, lineOf(fresh))
	require.Contains(t, out, "3 clients in grace; disabled 1, reactivated 1; failed 0")
	require.Contains(t, out, "status: succeeded (exit 0)")
	require.NotContains(t, out, `"level"`) // logs go to stderr, never into the table
	require.Contains(t, r.stderr, `"level"`)
}
