package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/grace"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// jobNames are the jobs that record runs.
var jobNames = []string{overage.Name, grace.Name}

func newJobsCmd(f *factory) *cobra.Command {
	var (
		job   string
		limit int
	)
	history := &cobra.Command{
		Use:   "history",
		Short: "Show recent job runs from job_runs",
		Example: `  cortexctl jobs history
  cortexctl jobs history --job billing-overage --limit 5 --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if job != "" && !slices.Contains(jobNames, job) {
				return exitcode.Errorf(exitcode.Usage, "unknown --job %q: use one of %s", job, strings.Join(jobNames, ", "))
			}
			if limit < 1 || limit > 1000 {
				return exitcode.Errorf(exitcode.Usage, "--limit %d is out of range: use 1 to 1000", limit)
			}
			pool, err := f.DB(cmd.Context())
			if err != nil {
				return err
			}
			if err := db.CheckSchema(cmd.Context(), pool); err != nil {
				return err
			}
			runs, err := runner.History(cmd.Context(), pool, job, limit)
			if err != nil {
				return err
			}
			if f.g.output == "json" {
				return writeJSON(f.stdout, nonNil(runs))
			}
			if len(runs) == 0 {
				_, err := fmt.Fprintln(f.stdout, "no runs recorded yet")
				return err
			}
			rows := [][]string{{"STARTED", "JOB", "STATUS", "DRY", "AS OF", "EXIT", "DURATION", "HOST", "RUN", "ERROR"}}
			for _, r := range runs {
				asOf, exit, dur, msg := "-", "-", "-", ""
				if r.AsOf != nil {
					asOf = r.AsOf.Format(time.RFC3339)
				}
				if r.ExitCode != nil {
					exit = fmt.Sprint(*r.ExitCode)
				}
				if r.FinishedAt != nil {
					dur = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
				}
				if r.Error != nil {
					msg = *r.Error
					if len(msg) > 80 {
						msg = msg[:77] + "..."
					}
				}
				rows = append(rows, []string{r.StartedAt.UTC().Format(time.RFC3339), r.Job, r.Status, fmt.Sprint(r.DryRun),
					asOf, exit, dur, r.Host, r.ID.String()[:8], msg})
			}
			return table(f.stdout, rows)
		},
	}
	history.Flags().StringVar(&job, "job", "", "only this job: "+strings.Join(jobNames, ", "))
	history.Flags().IntVar(&limit, "limit", 20, "how many runs, newest first")
	return group("jobs", "Job runs: history", history)
}
