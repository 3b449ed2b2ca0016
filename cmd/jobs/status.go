package jobs

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/schedule"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// StatusOptions are `jobs status`'s inputs.
type StatusOptions struct {
	Factory *cmdutil.Factory
	Check   bool // exit 1 when a scheduled job is failing
}

// NewCmdStatus is `cortexctl jobs status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each job's last run and last success, and whether it is overdue",
		Long: `Shows, for each scheduled job (and any other job found in job_runs), its
newest real run (start, status, exit code, duration), its last success and
that success's age by the database's clock, and a verdict. A scheduled job
fails when its last success is older than its max age (the MAX AGE column)
or it never succeeded, or when its last run needs a person (exit 1, 3 or
78). A last run that exited 69, 75, 124, 130 or 143 is reported but fails
nothing while the last success is fresh: the next run retries; nor does one
refused for bad arguments (2), which changed nothing.

With --check it exits 1 when any scheduled job fails, naming each failing
job and why, one line each: use it as the cron container's HEALTHCHECK or
any monitor's probe. Reads only; takes no job lock; dry runs are left out.`,
		Example: `  cortexctl jobs status
  cortexctl jobs status --check
  cortexctl jobs status --output json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Check, "check", false, "exit 1 when a scheduled job's last success is too old or its last run needs a person")
	return cmd
}

// StatusReport is `jobs status --output json`.
type StatusReport struct {
	Now     time.Time   `json:"now"`     // the database's clock the ages are measured by
	Failing int         `json:"failing"` // how many scheduled jobs fail the check
	Jobs    []JobStatus `json:"jobs"`    // the scheduled jobs in schedule order, then the others by name
}

// JobStatus is one job's line.
type JobStatus struct {
	Job           string         `json:"job"`
	Scheduled     bool           `json:"scheduled"`
	Cron          string         `json:"cron,omitempty"`
	MaxAgeSeconds int64          `json:"max_age_seconds,omitempty"`
	LastRun       *runner.Record `json:"last_run"` // without its summary; null if it never ran
	LastSuccessAt *time.Time     `json:"last_success_at"`
	// LastSuccessAgeSeconds is now minus LastSuccessAt; null if none.
	LastSuccessAgeSeconds *int64 `json:"last_success_age_seconds"`
	schedule.Verdict
}

// BuildStatus judges each job at now (the database's clock) from what
// runner.LatestRuns read.
func BuildStatus(now time.Time, latest []runner.Latest) StatusReport {
	rep := StatusReport{Now: now.UTC(), Jobs: []JobStatus{}}
	byJob := map[string]runner.Latest{}
	for _, l := range latest {
		byJob[l.Job] = l
	}
	add := func(job string, e schedule.Entry, scheduled bool) {
		js := JobStatus{Job: job, Scheduled: scheduled}
		if scheduled {
			js.Cron, js.MaxAgeSeconds = e.Cron, int64(e.MaxAge/time.Second)
		}
		var last *schedule.LastRun
		if l, ok := byJob[job]; ok {
			rec := l.LastRun
			rec.Summary = nil
			js.LastRun, js.LastSuccessAt = &rec, l.LastSuccess
			last = &schedule.LastRun{Running: rec.Status == runner.StatusRunning, ExitCode: rec.ExitCode}
		}
		js.Verdict = schedule.Judge(now, e.MaxAge, last, js.LastSuccessAt)
		if js.LastSuccessAt != nil {
			age := int64(js.Age / time.Second)
			js.LastSuccessAgeSeconds = &age
		}
		if js.Failing {
			rep.Failing++
		}
		rep.Jobs = append(rep.Jobs, js)
	}
	for _, e := range schedule.Entries {
		add(e.Job, e, true)
	}
	var others []string
	for job := range byJob {
		if _, ok := schedule.Find(job); !ok {
			others = append(others, job)
		}
	}
	slices.Sort(others)
	for _, job := range others {
		add(job, schedule.Entry{}, false)
	}
	return rep
}

func runStatus(ctx context.Context, opts *StatusOptions) error {
	f := opts.Factory
	pool, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	now, latest, err := runner.LatestRunsAt(ctx, pool)
	if err != nil {
		return err
	}
	return printStatus(f, BuildStatus(now, latest), opts.Check)
}

// printStatus prints the report and, with check, returns the exit-1 error
// naming the failing jobs.
func printStatus(f *cmdutil.Factory, rep StatusReport, check bool) error {
	var err error
	if f.JSON() {
		err = cmdutil.WriteJSON(f.IOStreams.Out, rep)
	} else {
		err = renderStatus(f.IOStreams.Out, rep)
	}
	if err != nil || !check || rep.Failing == 0 {
		return err
	}
	var names []string
	for _, j := range rep.Jobs {
		if j.Failing {
			names = append(names, j.Job+" ("+strings.ReplaceAll(j.State, "_", " ")+")")
		}
	}
	return exitcode.Errorf(exitcode.Failed, "jobs status --check: %d of %d scheduled jobs failing: %s",
		rep.Failing, len(schedule.Entries), strings.Join(names, ", "))
}

// renderStatus prints the table, then one line per job that is not ok:
// FAIL for those that fail --check, NOTE for the others.
func renderStatus(w io.Writer, rep StatusReport) error {
	rows := [][]string{{"JOB", "LAST RUN", "STATUS", "EXIT", "DURATION", "LAST SUCCESS", "AGE", "MAX AGE", "VERDICT"}}
	var lines []string
	for _, j := range rep.Jobs {
		started, status, exit, dur, success, age, maxAge := "never", "-", "-", "-", "never", "-", "-"
		if r := j.LastRun; r != nil {
			started, status = r.StartedAt.UTC().Format(time.RFC3339), r.Status
			if r.ExitCode != nil {
				exit = fmt.Sprint(*r.ExitCode)
			}
			if r.FinishedAt != nil {
				dur = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
			} else if r.Status == runner.StatusRunning {
				dur = "running " + schedule.Approx(rep.Now.Sub(r.StartedAt))
			}
		}
		if j.LastSuccessAt != nil {
			success, age = j.LastSuccessAt.UTC().Format(time.RFC3339), schedule.Approx(j.Age)
		}
		if j.Scheduled {
			maxAge = schedule.Approx(time.Duration(j.MaxAgeSeconds) * time.Second)
		}
		verdict := j.State
		if j.Failing {
			verdict = "FAIL: " + j.State
		}
		rows = append(rows, []string{j.Job, started, status, exit, dur, success, age, maxAge, verdict})
		switch {
		case j.Failing:
			lines = append(lines, fmt.Sprintf("FAIL %s: %s", j.Job, j.Reason))
		case j.State != schedule.StateOK:
			lines = append(lines, fmt.Sprintf("NOTE %s: %s", j.Job, j.Reason))
		}
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}
	if len(lines) > 0 {
		if _, err := fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "\n")); err != nil {
			return err
		}
	}
	return nil
}
