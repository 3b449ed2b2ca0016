package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

func TestVerdictCodesAreExitcodes(t *testing.T) {
	t.Parallel()
	require.Equal(t, []int{exitcode.OK, exitcode.Failed, exitcode.Usage, exitcode.Partial, exitcode.Unavailable, exitcode.Locked, exitcode.Config},
		[]int{codeOK, codeFailed, codeUsage, codePartial, codeUnavailable, codeLocked, codeConfig})
}

func TestJudge(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	exited := func(code int) *LastRun { return &LastRun{ExitCode: &code} }
	const maxAge = 26 * time.Hour
	for _, tc := range []struct {
		name        string
		maxAge      time.Duration
		last        *LastRun
		lastSuccess *time.Time
		state       string
		failing     bool
		reason      string // a part of the reason
	}{
		{"fresh success", maxAge, exited(0), ago(10 * time.Hour), StateOK, false, "last success 10h ago (max age 26h)"},
		{"exactly max age is fresh", maxAge, exited(0), ago(maxAge), StateOK, false, "26h ago"},
		{"stale success", maxAge, exited(0), ago(maxAge + time.Minute), StateStale, true, "last success 26h1m ago is older than its max age 26h"},
		{"never ran", maxAge, nil, nil, StateNeverSucceeded, true, "never ran (max age 26h)"},
		{"ran, never succeeded", maxAge, exited(69), nil, StateNeverSucceeded, true, "never succeeded (max age 26h)"},
		{"first run in progress", maxAge, &LastRun{Running: true}, nil, StateNeverSucceeded, true, "a run is in progress"},
		{"69 with fresh success", maxAge, exited(69), ago(2 * time.Hour), StateRetrying, false, "exited 69 (a dependency was unavailable), the next run retries"},
		{"75 with fresh success", maxAge, exited(75), ago(2 * time.Hour), StateSkipped, false, "skipped (75"},
		{"timed out with fresh success", maxAge, exited(124), ago(2 * time.Hour), StateRetrying, false, "exited 124 (timed out)"},
		{"killed with fresh success", maxAge, &LastRun{}, ago(2 * time.Hour), StateRetrying, false, "was killed"},
		{"69 with stale success", maxAge, exited(69), ago(30 * time.Hour), StateStale, true, "older than its max age"},
		{"75 with stale success", maxAge, exited(75), ago(30 * time.Hour), StateStale, true, "last success 30h ago"},
		{"1 with fresh success", maxAge, exited(1), ago(time.Hour), StateNeedsHuman, true, "last run exited 1 (failed)"},
		{"2 with fresh success", maxAge, exited(2), ago(time.Hour), StateRefused, false, "last run exited 2 (bad arguments) changed nothing; last success 1h ago"},
		{"2 with stale success", maxAge, exited(2), ago(27 * time.Hour), StateStale, true, "27h ago is older"},
		{"3 with fresh success", maxAge, exited(3), ago(time.Hour), StateNeedsHuman, true, "exited 3 (partial)"},
		{"78 with fresh success", maxAge, exited(78), ago(time.Hour), StateNeedsHuman, true, "exited 78 (configuration error)"},
		{"78 and stale: both said", maxAge, exited(78), ago(30 * time.Hour), StateNeedsHuman, true, "exited 78 (configuration error): rerunning will not fix it, see docs/operations.md#recover; last success 30h ago is older than its max age 26h"},
		{"1 and never succeeded", maxAge, exited(1), nil, StateNeedsHuman, true, "never succeeded"},
		{"running now, fresh", maxAge, &LastRun{Running: true}, ago(time.Hour), StateRunning, false, "a run is in progress; last success 1h ago"},
		{"running now, stale", maxAge, &LastRun{Running: true}, ago(27 * time.Hour), StateStale, true, "27h ago is older"},
		{"success in the future (clock)", maxAge, exited(0), ago(-time.Minute), StateOK, false, "0s ago"},
		{"unscheduled never fails", 0, exited(1), nil, StateUnscheduled, false, "last run exited 1 (failed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := Judge(now, tc.maxAge, tc.last, tc.lastSuccess)
			require.Equal(t, tc.state, v.State, v.Reason)
			require.Equal(t, tc.failing, v.Failing, v.Reason)
			require.Contains(t, v.Reason, tc.reason)
			require.NotContains(t, v.Reason, "\n")
		})
	}
}

// Every scheduled job's MaxAge leaves a margin over its daily period: a run
// one day late still passes, one more late fails.
func TestJudgeWithTheRegistry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, e := range Entries {
		day := now.Add(-24 * time.Hour)
		require.False(t, Judge(now, e.MaxAge, nil, &day).Failing, e.Job)
		late := now.Add(-e.MaxAge - time.Second)
		require.True(t, Judge(now, e.MaxAge, nil, &late).Failing, e.Job)
	}
}
