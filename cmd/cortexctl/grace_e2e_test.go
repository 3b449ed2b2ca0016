package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
)

// End-to-end tests of `cortexctl billing grace`, run through the binary with
// an explicit --as-of against a fresh database each: the JSON report and the
// table, and how bad input (an earlier as-of, a bad --client) is refused.
// The grace rules themselves are tested in-process in jobs/grace.

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

// One real run's JSON report, field by field, against what it wrote and
// what job_runs recorded: a client whose grace began exactly 7×24h before
// as-of is disabled (grace_expired), with its clock cleared and a status
// event naming the run; one second less and it is left alone.
func TestGraceJSONReport(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	expired := f.GraceClient("starter", graceAsOf.Add(-graceWeek))
	f.Payment(expired, "failed", graceAsOf.Add(-3*24*time.Hour))
	fresh := f.GraceClient("growth", graceAsOf.Add(-graceWeek+time.Second))

	g := runGrace(t, newCLI(t, f.DB.URL), "--as-of", rfc(graceAsOf))

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
	status, reason := f.Status(expired)
	require.Equal(t, "disabled", status)
	require.Equal(t, "grace_expired", reason)
	require.Nil(t, f.GraceStartedAt(expired))
	var disabledAt time.Time
	f.Scalar(&disabledAt, `SELECT disabled_at FROM clients WHERE id = $1`, expired)
	require.True(t, graceAsOf.Equal(disabledAt), "disabled_at %s, want the as-of", disabledAt)
	runID := g.Run.ID
	require.Equal(t, []fixture.StatusEvent{{From: "grace_period", To: "disabled", Reason: "grace_expired", Actor: "billing-grace", RunID: &runID}},
		f.StatusEvents(expired))

	// The fresh client: untouched.
	status, reason = f.Status(fresh)
	require.Equal(t, "grace_period", status)
	require.Empty(t, reason)
	started := f.GraceStartedAt(fresh)
	require.NotNil(t, started)
	require.True(t, graceAsOf.Add(-graceWeek+time.Second).Equal(*started))
	require.Empty(t, f.StatusEvents(fresh))

	// The run is recorded as it was reported.
	var dbStatus string
	var dbDry bool
	var dbCode int
	f.Scalar(&dbStatus, `SELECT status FROM job_runs WHERE id = $1`, runID)
	f.Scalar(&dbDry, `SELECT dry_run FROM job_runs WHERE id = $1`, runID)
	f.Scalar(&dbCode, `SELECT exit_code FROM job_runs WHERE id = $1`, runID)
	require.Equal(t, "succeeded", dbStatus)
	require.False(t, dbDry)
	require.Equal(t, 0, dbCode)
}

// graceTrio adds one client of each grace outcome at graceAsOf: in grace 8
// days without payment, one who paid during grace, one a day into grace.
func graceTrio(f *fixture.Fixture) (expired, paid, fresh uuid.UUID) {
	day := 24 * time.Hour
	expired = f.GraceClient("starter", graceAsOf.Add(-8*day))
	paid = f.GraceClient("growth", graceAsOf.Add(-2*day))
	f.Payment(paid, "succeeded", graceAsOf.Add(-day))
	fresh = f.GraceClient("scale", graceAsOf.Add(-day))
	return expired, paid, fresh
}

// A real run at an earlier as-of than an earlier real run is refused; a
// dry run may look at the past.
func TestGraceEarlierAsOfRefused(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	expired, paid, fresh := graceTrio(f)
	c := newCLI(t, f.DB.URL)

	first := runGrace(t, c, "--as-of", rfc(graceAsOf))
	require.Equal(t, map[uuid.UUID]string{expired: "disable", paid: "reactivate", fresh: "none"}, first.actions(t))
	before := f.Dump()

	// The past, for real: refused with exit 2, nothing changed.
	earlier := graceAsOf.Add(-time.Hour)
	r := c.run("billing", "grace", "--output", "json", "--as-of", rfc(earlier))
	requireOneLineError(t, r, 2, "is earlier than the as-of of an earlier real run")
	require.Equal(t, before, f.Dump())
	var succeededEarlier int
	f.Scalar(&succeededEarlier, `SELECT count(*) FROM job_runs WHERE as_of = $1 AND status = 'succeeded'`, earlier)
	require.Equal(t, 0, succeededEarlier)

	// Looking at the past with --dry-run is allowed.
	dry := runGrace(t, c, "--as-of", rfc(earlier), "--dry-run")
	require.Equal(t, map[uuid.UUID]string{fresh: "none"}, dry.actions(t))
	require.Equal(t, before, f.Dump())
}

// A real run that was refused before it evaluated anything (a usage error:
// an as-of in the future, an unknown --client) changed nothing, so its
// as-of must not become the floor later real runs are held to.
func TestGraceRefusedRunDoesNotRaiseAsOfFloor(t *testing.T) {
	t.Parallel()

	t.Run("future as-of", func(t *testing.T) {
		t.Parallel()
		f := fixture.New(t)
		c := newCLI(t, f.DB.URL)
		future := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
		r := c.run("billing", "grace", "--output", "json", "--as-of", rfc(future))
		requireOneLineError(t, r, 2, "is in the future")

		// The next cron run, at now, must go ahead.
		r = c.run("billing", "grace", "--output", "json")
		require.Equalf(t, 0, r.code, "a refused future --as-of run blocks every later real run:\nstderr:\n%s", r.stderr)
	})

	t.Run("unknown client", func(t *testing.T) {
		t.Parallel()
		f := fixture.New(t)
		c := newCLI(t, f.DB.URL)
		r := c.run("billing", "grace", "--output", "json", "--as-of", rfc(graceAsOf.Add(time.Hour)), "--client", uuid.NewString())
		requireOneLineError(t, r, 2, "no client has that id")

		r = c.run("billing", "grace", "--output", "json", "--as-of", rfc(graceAsOf))
		require.Equalf(t, 0, r.code, "a refused --client run raised the as-of floor:\nstderr:\n%s", r.stderr)
	})
}

// A client that does not exist and an id that is not one are refused with
// exit 2. (That --client restricts the run is tested in jobs/grace.)
func TestGraceClientFlag(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	f.GraceClient("starter", graceAsOf.Add(-8*24*time.Hour))
	c := newCLI(t, f.DB.URL)

	// Malformed: refused before anything runs.
	r := c.run("billing", "grace", "--as-of", rfc(graceAsOf), "--client", "not-a-uuid")
	requireOneLineError(t, r, 2, `invalid --client "not-a-uuid"`)
	require.Equal(t, 0, f.JobRunCount())

	// Unknown: refused, nothing changed.
	before := f.Dump()
	unknown := uuid.New()
	r = c.run("billing", "grace", "--output", "json", "--as-of", rfc(graceAsOf), "--client", unknown.String())
	requireOneLineError(t, r, 2, unknown.String()+": no client has that id")
	require.Equal(t, before, f.Dump())
}

// The table a human reads names the clients and what happened to them.
func TestGraceTableOutput(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	expired, paid, fresh := graceTrio(f)
	c := newCLI(t, f.DB.URL)

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
