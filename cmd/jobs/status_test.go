package jobs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/schedule"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// `jobs status` through runF (no database), and its verdicts, table, JSON
// and --check error on runs given as runner.LatestRuns would read them.

func TestStatusFlags(t *testing.T) {
	t.Parallel()
	require.False(t, cmdtest.Parse(t, NewCmdStatus, nil).Check)
	require.True(t, cmdtest.Parse(t, NewCmdStatus, nil, "--check").Check)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"an argument", []string{"billing-grace"}, `takes no arguments, got "billing-grace"`},
		{"check with a value", []string{"--check=maybe"}, `invalid argument "maybe" for "--check"`},
		{"unknown flag", []string{"--job", "billing-grace"}, "unknown flag: --job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, NewCmdStatus, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

var statusNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func latest(job string, startedAgo time.Duration, code *int, successAgo time.Duration) runner.Latest {
	started := statusNow.Add(-startedAgo)
	rec := runner.Record{ID: uuid.MustParse("c1fd597d-0307-439e-aebb-0d922339b3e8"), Job: job, Status: runner.StatusRunning,
		StartedAt: started, Summary: json.RawMessage(`{"big":"report"}`)}
	if code != nil {
		fin := started.Add(1500 * time.Millisecond)
		rec.Status, rec.ExitCode, rec.FinishedAt = runner.StatusFor(*code), code, &fin
	}
	l := runner.Latest{Job: job, LastRun: rec}
	if successAgo > 0 {
		s := statusNow.Add(-successAgo)
		l.LastSuccess = &s
	}
	return l
}

func exit(c int) *int { return &c }

func TestBuildStatus(t *testing.T) {
	t.Parallel()
	rep := BuildStatus(statusNow, []runner.Latest{
		latest("one-off", 72*time.Hour, exit(1), 0),
		latest("billing-grace", time.Hour, exit(69), 2*time.Hour),
		latest("billing-overage", 30*time.Hour, exit(0), 30*time.Hour),
	})
	require.Equal(t, statusNow, rep.Now)
	var jobs, states []string
	for _, j := range rep.Jobs {
		jobs, states = append(jobs, j.Job), append(states, j.State)
	}
	require.Equal(t, []string{"billing-overage", "billing-grace", "db-backup", "one-off"}, jobs, "the schedule's order, then the others")
	require.Equal(t, []string{schedule.StateStale, schedule.StateRetrying, schedule.StateNeverSucceeded, schedule.StateUnscheduled}, states)
	require.Equal(t, 2, rep.Failing, "an unscheduled job's failure does not count")
	require.Equal(t, int64(26*3600), rep.Jobs[0].MaxAgeSeconds)
	require.Equal(t, int64(30*3600), *rep.Jobs[0].LastSuccessAgeSeconds)
	require.Nil(t, rep.Jobs[0].LastRun.Summary, "the status leaves the reports out")
	require.Nil(t, rep.Jobs[2].LastRun)
	require.False(t, rep.Jobs[3].Scheduled)
}

func TestStatusCheck(t *testing.T) {
	t.Parallel()
	fresh := []runner.Latest{
		latest("billing-overage", time.Hour, exit(0), time.Hour),
		latest("billing-grace", time.Hour, exit(75), 20*time.Hour),
		latest("db-backup", time.Minute, nil, 23*time.Hour),
	}
	for _, tc := range []struct {
		name   string
		latest []runner.Latest
		check  bool
		code   int
		err    string   // of the error, when failing
		lines  []string // in the table output
	}{
		{"fresh", fresh, true, exitcode.OK, "", []string{
			"NOTE billing-grace: last run skipped (75: another run held the lock); last success 20h ago (max age 26h)",
			"NOTE db-backup: a run is in progress; last success 23h ago (max age 26h)",
		}},
		{"stale and failed", []runner.Latest{
			latest("billing-overage", 27*time.Hour, exit(0), 27*time.Hour),
			latest("billing-grace", time.Hour, exit(3), 2*time.Hour),
		}, true, exitcode.Failed,
			"jobs status --check: 3 of 3 scheduled jobs failing: billing-overage (stale), billing-grace (needs human), db-backup (never succeeded)",
			[]string{
				"FAIL billing-overage: last success 27h ago is older than its max age 26h",
				"FAIL billing-grace: last run exited 3 (partial): rerunning will not fix it, see docs/operations.md#recover",
				"FAIL db-backup: never ran (max age 26h)",
			}},
		{"failing without --check exits 0", nil, false, exitcode.OK, "", []string{"FAIL billing-overage: never ran (max age 26h)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := BuildStatus(statusNow, tc.latest)

			f, out, _ := cmdtest.Factory(nil)
			f.Settings.Output = cmdutil.OutputTable
			err := printStatus(f, rep, tc.check)
			require.Equal(t, tc.code, exitcode.Of(err), "%v", err)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
			}
			got := out.String()
			for _, l := range tc.lines {
				require.Contains(t, got, "\n"+l+"\n")
			}
			require.Equal(t, rep.Failing, strings.Count(got, "\nFAIL "), "one FAIL line per failing job:\n%s", got)
			require.True(t, strings.HasPrefix(got, "JOB "), got)

			f, out, _ = cmdtest.Factory(nil) // JSON
			err = printStatus(f, rep, tc.check)
			require.Equal(t, tc.code, exitcode.Of(err))
			var back struct {
				Failing int `json:"failing"`
				Jobs    []struct {
					Job     string `json:"job"`
					State   string `json:"state"`
					Failing bool   `json:"failing"`
					Reason  string `json:"reason"`
				} `json:"jobs"`
			}
			require.NoError(t, json.Unmarshal(out.Bytes(), &back), out.String())
			require.Equal(t, rep.Failing, back.Failing)
			require.Len(t, back.Jobs, 3)
			require.Equal(t, rep.Jobs[0].Reason, back.Jobs[0].Reason)
		})
	}
}

func TestStatusTable(t *testing.T) {
	t.Parallel()
	f, out, _ := cmdtest.Factory(nil)
	f.Settings.Output = cmdutil.OutputTable
	rep := BuildStatus(statusNow, []runner.Latest{
		latest("billing-overage", 2*time.Hour, exit(0), 2*time.Hour),
		latest("db-backup", 90*time.Second, nil, 25*time.Hour),
	})
	require.NoError(t, printStatus(f, rep, false), "without --check a failing job is printed, not an error")
	lines := strings.Split(out.String(), "\n")
	require.Regexp(t, `^JOB +LAST RUN +STATUS +EXIT +DURATION +LAST SUCCESS +AGE +MAX AGE +VERDICT$`, lines[0])
	require.Regexp(t, `^billing-overage +2026-11-27T10:00:00Z +succeeded +0 +1.5s +2026-11-27T10:00:00Z +2h +26h +ok$`, lines[1])
	require.Regexp(t, `^billing-grace +never +- +- +- +never +- +26h +FAIL: never_succeeded$`, lines[2])
	require.Regexp(t, `^db-backup +2026-11-27T11:58:30Z +running +- +running 2m +2026-11-26T11:00:00Z +25h +26h +running$`, lines[3])
}
