package runner_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// The filters of `jobs history` and the run lookup of `jobs show`, on rows
// written straight into job_runs so that ids and start times are known.

type row struct {
	id      string
	job     string
	status  string
	started string // an interval before the database's now, e.g. "2 hours"
}

func insertRuns(t *testing.T, d *dbtest.DB, rows ...row) {
	t.Helper()
	for _, r := range rows {
		_, err := d.Pool.Exec(t.Context(), `
			INSERT INTO job_runs (id, job, status, host, pid, version, started_at, summary)
			VALUES ($1, $2, $3, 'vm', 1, 'v', now() - $4::interval, '{"n": 1}')`, r.id, r.job, r.status, r.started)
		require.NoError(t, err)
	}
}

func idsOf(recs []runner.Record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID.String()[:8])
	}
	return out
}

func TestRunsFilter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	insertRuns(t, d,
		row{"a0000001-0000-0000-0000-000000000000", "billing-overage", "succeeded", "1 hour"},
		row{"a0000002-0000-0000-0000-000000000000", "billing-overage", "failed", "3 hours"},
		row{"a0000003-0000-0000-0000-000000000000", "billing-grace", "failed", "2 days"},
		row{"a0000004-0000-0000-0000-000000000000", "billing-grace", "succeeded", "10 days"},
	)
	var dbNow, newest time.Time
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT now()`).Scan(&dbNow))
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT max(started_at) FROM job_runs`).Scan(&newest))

	for _, tc := range []struct {
		name string
		f    runner.Filter
		want []string
	}{
		{"everything, newest first", runner.Filter{Limit: 10}, []string{"a0000001", "a0000002", "a0000003", "a0000004"}},
		{"a job", runner.Filter{Job: "billing-grace", Limit: 10}, []string{"a0000003", "a0000004"}},
		{"a status", runner.Filter{Status: "failed", Limit: 10}, []string{"a0000002", "a0000003"}},
		{"job and status", runner.Filter{Job: "billing-overage", Status: "failed", Limit: 10}, []string{"a0000002"}},
		{"within a day of the database's now", runner.Filter{Within: 24 * time.Hour, Limit: 10}, []string{"a0000001", "a0000002"}},
		{"within 7 days, failed", runner.Filter{Within: 7 * 24 * time.Hour, Status: "failed", Limit: 10}, []string{"a0000002", "a0000003"}},
		{"since an instant", runner.Filter{Since: dbNow.Add(-4 * time.Hour), Limit: 10}, []string{"a0000001", "a0000002"}},
		{"since an instant, inclusive", runner.Filter{Since: newest, Limit: 10}, []string{"a0000001"}},
		{"the limit keeps the newest", runner.Filter{Limit: 1}, []string{"a0000001"}},
		{"nothing matches", runner.Filter{Status: "running", Limit: 10}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runner.Runs(ctx, d.Pool, tc.f)
			require.NoError(t, err)
			require.Equal(t, tc.want, idsOf(got))
		})
	}

	// History is Runs with a job and a limit.
	h, err := runner.History(ctx, d.Pool, "billing-overage", 1)
	require.NoError(t, err)
	require.Equal(t, []string{"a0000001"}, idsOf(h))
}

func TestFindRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	insertRuns(t, d,
		row{"3bb4d41d-1111-4000-8000-000000000000", "billing-overage", "failed", "1 hour"},
		row{"3bb4d41d-2222-4000-8000-000000000000", "billing-grace", "succeeded", "2 hours"},
		row{"c1fd597d-0307-439e-aebb-0d922339b3e8", "billing-grace", "succeeded", "3 hours"},
	)
	for _, prefix := range []string{"c", "c1fd597d", "C1FD597D", " c1fd597d-0307 ", "c1fd597d-0307-439e-aebb-0d922339b3e8"} {
		rec, err := runner.FindRun(ctx, d.Pool, prefix)
		require.NoError(t, err, prefix)
		require.Equal(t, uuid.MustParse("c1fd597d-0307-439e-aebb-0d922339b3e8"), rec.ID)
		require.Equal(t, "billing-grace", rec.Job)
		require.JSONEq(t, `{"n": 1}`, string(rec.Summary), "the whole record, with its report")
	}
	rec, err := runner.FindRun(ctx, d.Pool, "3bb4d41d-2")
	require.NoError(t, err)
	require.Equal(t, "billing-grace", rec.Job)

	for _, tc := range []struct{ prefix, want string }{
		{"3bb4d41d", `run id "3bb4d41d" is ambiguous, it matches 3bb4d41d-1111-4000-8000-000000000000 (billing-overage, failed, started `},
		{"3", "3bb4d41d-2222-4000-8000-000000000000 (billing-grace, succeeded, started "},
		{"3bb4", ": give more of the id"},
		{"d", `no run has an id starting with "d": see ` + "`cortexctl jobs history`"},
		{"", "no run id given"},
		{"xyz", `invalid run id "xyz": give a run id (a UUID) or its first characters`},
		{"3bb4%", `invalid run id "3bb4%"`},
		{"3bb4d41d-1111-4000-8000-0000000000000", "invalid run id"},
	} {
		_, err := runner.FindRun(ctx, d.Pool, tc.prefix)
		require.Error(t, err, tc.prefix)
		require.Equal(t, exitcode.Usage, exitcode.Of(err), "%q: %v", tc.prefix, err)
		require.Contains(t, err.Error(), tc.want)
	}

	// An ambiguous prefix names at most MaxCandidates runs.
	for i := range runner.MaxCandidates + 2 {
		insertRuns(t, d, row{fmt.Sprintf("eeee0000-0000-4000-8000-%012d", i), "billing-grace", "succeeded", "1 minute"})
	}
	_, err = runner.FindRun(ctx, d.Pool, "eeee")
	require.Error(t, err)
	require.Contains(t, err.Error(), "; and more: give more of the id")
}
