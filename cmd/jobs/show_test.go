package jobs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// `jobs show` and the filters of `jobs history`, through runF (no
// database), and the record's table.

func TestShowArgs(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1e052956", cmdtest.Parse(t, NewCmdShow, nil, "1e052956").RunID)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no run", nil, "show needs a run id or its first characters"},
		{"an empty run", []string{""}, "was given an empty argument: it needs a run id"},
		{"two runs", []string{"1e05", "3bb4"}, `takes one argument, a run id or its first characters; got 2: "1e05 3bb4"`},
		{"unknown flag", []string{"1e05", "--job", "billing-grace"}, "unknown flag: --job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, NewCmdShow, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestHistoryFilterFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		status string
		since  time.Time
		within time.Duration
	}{
		{"no filter", nil, "", time.Time{}, 0},
		{"a status", []string{"--status", "failed"}, "failed", time.Time{}, 0},
		{"since a duration", []string{"--since", "36h"}, "", time.Time{}, 36 * time.Hour},
		{"since days", []string{"--since", "7d"}, "", time.Time{}, 7 * 24 * time.Hour},
		{"since a date", []string{"--since", "2026-11-20"}, "", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), 0},
		{"since an instant", []string{"--since", "2026-11-20T02:00:00+01:00", "--status", "partial"}, "partial",
			time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, NewCmdHistory, nil, tc.args...)
			require.Equal(t, tc.status, got.Status)
			require.True(t, tc.since.Equal(got.Since), "since %s", got.Since)
			require.Equal(t, tc.within, got.Within)
		})
	}
}

func TestHistoryFilterRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown status", []string{"--status", "ok"}, `unknown --status "ok": use one of running, succeeded, failed, partial, skipped, interrupted, timed_out`},
		{"status given but empty", []string{"--status", ""}, "--status was given but is empty"},
		{"since not a time", []string{"--since", "yesterday"}, `invalid --since "yesterday": use a duration back from now (24h, 90m, 7d)`},
		{"since zero", []string{"--since", "0s"}, "--since 0s must be a positive duration"},
		{"since negative days", []string{"--since", "-2d"}, "--since -2d must be a positive duration"},
		{"since given but empty", []string{"--since", ""}, "--since was given but is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, NewCmdHistory, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRenderShow(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 27, 2, 0, 0, 123456000, time.UTC)
	finished := asOf.Add(1500 * time.Millisecond)
	code, msg := 3, "Stripe rejected 1 charge"
	rec := runner.Record{ID: uuid.MustParse("11111111-2222-3333-4444-555555555555"), Job: "billing-overage", Status: "partial",
		AsOf: &asOf, Host: "vm", PID: 42, Version: "v1.2.3", StartedAt: asOf, FinishedAt: &finished, ExitCode: &code, Error: &msg,
		Summary: json.RawMessage(`{"totals": {"disabled": 1}, "as_of": "2026-11-27T02:00:00.123456Z"}`)}
	var b bytes.Buffer
	require.NoError(t, renderShow(&b, rec))
	out := b.String()
	for _, want := range []string{
		"run        11111111-2222-3333-4444-555555555555\n",
		"status     partial\n",
		"exit code  3\n",
		"dry run    false\n",
		"as of      2026-11-27T02:00:00.123456Z\n",
		"finished   2026-11-27T02:00:01.623456Z\n",
		"duration   1.5s\n",
		"host       vm (pid 42)\n",
		"error      Stripe rejected 1 charge\n",
		"\nreport (as stored in job_runs.summary):\n{\n  \"totals\": {\n    \"disabled\": 1\n  },\n",
	} {
		require.Contains(t, out, want)
	}
	for _, line := range strings.Split(out, "\n") {
		require.Equal(t, strings.TrimRight(line, " "), line, "no trailing spaces")
	}

	// A run that never evaluated (skipped for the lock, say): no report.
	rec.Summary, rec.FinishedAt, rec.ExitCode, rec.Error, rec.AsOf = nil, nil, nil, nil, nil
	b.Reset()
	require.NoError(t, renderShow(&b, rec))
	require.Contains(t, b.String(), "finished   -\n")
	require.Contains(t, b.String(), "error      -\n")
	require.True(t, strings.HasSuffix(b.String(), "\nreport: none (the run never got to evaluate)\n"))
}
