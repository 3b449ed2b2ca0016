package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// HistoryOptions are `jobs history`'s inputs once its flags are validated.
type HistoryOptions struct {
	Factory *cmdutil.Factory
	Job     string // "" for every job
	Limit   int
}

// NewCmdHistory is `cortexctl jobs history`.
func NewCmdHistory(f *cmdutil.Factory, runF func(*HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show recent job runs from job_runs",
		Example: `  cortexctl jobs history
  cortexctl jobs history --job billing-overage --limit 5 --output json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Job != "" && !slices.Contains(Names, opts.Job) {
				return exitcode.Errorf(exitcode.Usage, "unknown --job %q: use one of %s", opts.Job, strings.Join(Names, ", "))
			}
			if opts.Limit < 1 || opts.Limit > 1000 {
				return exitcode.Errorf(exitcode.Usage, "--limit %d is out of range: use 1 to 1000", opts.Limit)
			}
			if runF != nil {
				return runF(opts)
			}
			return runHistory(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Job, "job", "", "only this job: "+strings.Join(Names, ", "))
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "how many runs, newest first")
	return cmd
}

func runHistory(ctx context.Context, opts *HistoryOptions) error {
	f := opts.Factory
	pool, err := f.DB(ctx)
	if err != nil {
		return err
	}
	if err := db.CheckSchema(ctx, pool); err != nil {
		return err
	}
	runs, err := runner.History(ctx, pool, opts.Job, opts.Limit)
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	if f.JSON() {
		return cmdutil.WriteJSON(out, cmdutil.NonNil(runs))
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintln(out, "no runs recorded yet")
		return err
	}
	rows := [][]string{{"STARTED", "JOB", "STATUS", "DRY", "AS OF", "EXIT", "DURATION", "HOST", "RUN", "ERROR"}}
	for _, r := range runs {
		asOf, exit, dur, msg := "-", "-", "-", ""
		if r.AsOf != nil {
			asOf = cmdutil.Instant(*r.AsOf)
		}
		if r.ExitCode != nil {
			exit = fmt.Sprint(*r.ExitCode)
		}
		if r.FinishedAt != nil {
			dur = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		if r.Error != nil {
			msg = *r.Error
			if len(msg) > 80 && f.IOStreams.IsStdoutTTY() { // a pipe gets it whole
				msg = msg[:77] + "..."
			}
		}
		rows = append(rows, []string{r.StartedAt.UTC().Format(time.RFC3339), r.Job, r.Status, fmt.Sprint(r.DryRun),
			asOf, exit, dur, r.Host, r.ID.String()[:8], msg})
	}
	return cmdutil.Table(out, rows)
}
