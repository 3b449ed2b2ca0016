package runner_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/schedule"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// What `jobs status` reads: each job's newest real run and newest success,
// with the database's clock, on rows written straight into job_runs.

// jobRun inserts a finished run (code nil: still running) started ago
// before the database's now and lasting one second.
func jobRun(f *fixture.Fixture, id, job string, dryRun bool, ago string, code *int) {
	status := runner.StatusRunning
	if code != nil {
		status = runner.StatusFor(*code)
	}
	f.Exec(`
		INSERT INTO job_runs (id, job, status, dry_run, host, pid, version, started_at, finished_at, exit_code)
		VALUES ($1, $2, $3, $4, 'vm', 1, 'v', now() - $5::interval,
		        CASE WHEN $6::int IS NULL THEN NULL ELSE now() - $5::interval + interval '1 second' END, $6)`,
		id, job, status, dryRun, ago, code)
}

func code(c int) *int { return &c }

func TestLatestRunsAt(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	ctx := t.Context()
	// billing-overage: succeeded 2h ago, then a 69 an hour ago: fresh, retrying.
	jobRun(f, "b0000001-0000-0000-0000-000000000000", "billing-overage", false, "2 hours", code(0))
	jobRun(f, "b0000002-0000-0000-0000-000000000000", "billing-overage", false, "1 hour", code(69))
	// billing-grace: its success is 30h old; a newer dry run succeeded, which does not count.
	jobRun(f, "b0000003-0000-0000-0000-000000000000", "billing-grace", false, "30 hours", code(0))
	jobRun(f, "b0000004-0000-0000-0000-000000000000", "billing-grace", true, "10 minutes", code(0))
	// db-backup: only a run in progress.
	jobRun(f, "b0000005-0000-0000-0000-000000000000", "db-backup", false, "5 minutes", nil)
	// a job no schedule holds, whose last run failed.
	jobRun(f, "b0000006-0000-0000-0000-000000000000", "one-off", false, "3 days", code(1))

	now, latest, err := runner.LatestRunsAt(ctx, f.DB.Pool)
	require.NoError(t, err)
	var dbNow time.Time
	f.Scalar(&dbNow, `SELECT now()`)
	require.WithinDuration(t, dbNow, now, 5*time.Second, "ages are judged by the database's clock")

	byJob := map[string]runner.Latest{}
	for _, l := range latest {
		byJob[l.Job] = l
	}
	require.Len(t, byJob, 4)

	o := byJob["billing-overage"]
	require.Equal(t, "b0000002", o.LastRun.ID.String()[:8], "the newest run")
	require.Equal(t, 69, *o.LastRun.ExitCode)
	require.NotNil(t, o.LastSuccess)
	require.InDelta(t, (2*time.Hour - time.Second).Seconds(), now.Sub(*o.LastSuccess).Seconds(), 5, "when the success finished")

	g := byJob["billing-grace"]
	require.Equal(t, "b0000003", g.LastRun.ID.String()[:8], "dry runs are left out")
	require.InDelta(t, (30*time.Hour - time.Second).Seconds(), now.Sub(*g.LastSuccess).Seconds(), 5)

	b := byJob["db-backup"]
	require.Equal(t, runner.StatusRunning, b.LastRun.Status)
	require.Nil(t, b.LastRun.ExitCode)
	require.Nil(t, b.LastSuccess)

	// What the command makes of it.
	judge := func(l runner.Latest) schedule.Verdict {
		e, _ := schedule.Find(l.Job)
		return schedule.Judge(now, e.MaxAge, &schedule.LastRun{Running: l.LastRun.Status == runner.StatusRunning, ExitCode: l.LastRun.ExitCode}, l.LastSuccess)
	}
	require.Equal(t, schedule.StateRetrying, judge(o).State)
	require.Equal(t, schedule.StateStale, judge(g).State)
	require.Equal(t, schedule.StateNeverSucceeded, judge(b).State)
	require.Equal(t, schedule.StateUnscheduled, judge(byJob["one-off"]).State)
}

func TestLatestRunsAtEmpty(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	now, latest, err := runner.LatestRunsAt(t.Context(), f.DB.Pool)
	require.NoError(t, err)
	require.Empty(t, latest)
	require.False(t, now.IsZero())
}
