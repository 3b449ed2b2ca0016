package jobs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// HistoryOptions are `jobs history`'s inputs once its flags are validated.
type HistoryOptions struct {
	Factory *cmdutil.Factory
	Job     string // "" for every job
	Limit   int
	Status  string        // "" for every status
	Since   time.Time     // --since an instant; zero if not
	Within  time.Duration // --since a duration; 0 if not
}

// NewCmdHistory is `cortexctl jobs history`.
func NewCmdHistory(f *cmdutil.Factory, runF func(*HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{Factory: f}
	var since string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show recent job runs from job_runs",
		Long: `Shows the newest runs recorded in job_runs, dry runs included, newest first.
--since takes a duration back from the database's clock (24h, 90m, 7d) or an
instant (RFC 3339, or a date meaning 00:00 UTC). Reads only; takes no job lock.`,
		Example: `  cortexctl jobs history
  cortexctl jobs history --job billing-overage --limit 5 --output json
  cortexctl jobs history --status failed --since 7d`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Job != "" && !slices.Contains(Names, opts.Job) {
				return exitcode.Errorf(exitcode.Usage, "unknown --job %q: use one of %s", opts.Job, strings.Join(Names, ", "))
			}
			if opts.Status != "" && !slices.Contains(runner.Statuses, opts.Status) {
				return exitcode.Errorf(exitcode.Usage, "unknown --status %q: use one of %s", opts.Status, strings.Join(runner.Statuses, ", "))
			}
			if since != "" {
				var err error
				if opts.Since, opts.Within, err = parseSince(since); err != nil {
					return err
				}
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
	cmd.Flags().StringVar(&opts.Status, "status", "", "only runs with this status: "+strings.Join(runner.Statuses, ", "))
	cmd.Flags().StringVar(&since, "since", "", "only runs started since: a duration back from now (24h, 7d) or an instant (RFC 3339 or a date)")
	return cmd
}

// parseSince reads --since: a positive duration (Go's, or whole days as
// 7d), or an instant.
func parseSince(s string) (time.Time, time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok && err != nil {
		if n, nErr := strconv.Atoi(days); nErr == nil {
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err == nil {
		if d <= 0 {
			return time.Time{}, 0, exitcode.Errorf(exitcode.Usage, "--since %s must be a positive duration, e.g. 24h or 7d", s)
		}
		return time.Time{}, d, nil
	}
	t, err := cmdutil.ParseInstant("since", s)
	if err != nil {
		return time.Time{}, 0, exitcode.Errorf(exitcode.Usage,
			"invalid --since %q: use a duration back from now (24h, 90m, 7d), RFC 3339 (2026-11-27T02:00:00Z) or a date (2026-11-27, meaning 00:00 UTC)", s)
	}
	return t, 0, nil
}

func runHistory(ctx context.Context, opts *HistoryOptions) error {
	f := opts.Factory
	pool, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	runs, err := runner.Runs(ctx, pool, runner.Filter{Job: opts.Job, Status: opts.Status, Since: opts.Since, Within: opts.Within, Limit: opts.Limit})
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	if f.JSON() {
		return cmdutil.WriteJSON(out, cmdutil.NonNil(runs))
	}
	if len(runs) == 0 {
		msg := "no runs recorded yet"
		if opts.Job != "" || opts.Status != "" || !opts.Since.IsZero() || opts.Within > 0 {
			msg = "no run matches"
		}
		_, err := fmt.Fprintln(out, msg)
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
