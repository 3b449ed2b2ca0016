package billing

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/jobs/grace"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// GraceOptions are `billing grace`'s inputs once its flags are parsed and
// validated.
type GraceOptions struct {
	Factory *cmdutil.Factory
	Job     grace.Options
}

// NewCmdGrace is `cortexctl billing grace`. runF, when not nil, gets the
// validated options instead of the run (for tests).
func NewCmdGrace(f *cmdutil.Factory, runF func(*GraceOptions) error) *cobra.Command {
	opts := &GraceOptions{Factory: f}
	var jf cmdutil.JobFlags
	cmd := &cobra.Command{
		Use:   "grace",
		Short: "Disable clients in grace period with no payment for 7 days; reactivate those who paid",
		Long: `For each client in grace_period: one with a succeeded payment since it entered
grace is set back to active (the webhook that should have done it was missed);
one whose grace began at least --grace-days before as-of, with no succeeded
payment since, is disabled (grace_expired). The grace clock is the instant of
the first failed payment; nothing else moves it.

` + cmdutil.ExitCodesHelp,
		Example: `  cortexctl billing grace --dry-run
  cortexctl billing grace --output json
  cortexctl billing grace --as-of 2026-11-27T02:00:00Z --grace-days 7`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := jf.Params()
			if err != nil {
				return err
			}
			opts.Job.Params = params
			if err := opts.Job.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runGrace(cmd.Context(), opts)
		},
	}
	jf.Bind(cmd, grace.DefaultTimeout, "a payment")
	cmd.Flags().IntVar(&opts.Job.GraceDays, "grace-days", grace.DefaultGraceDays, "days in grace without a succeeded payment before a client is disabled")
	return cmd
}

func runGrace(ctx context.Context, opts *GraceOptions) error {
	job := runner.Job{Name: grace.Name, Params: opts.Job.Params, DefaultAsOf: true, MonotonicAsOf: true}
	return cmdutil.RunJob(ctx, opts.Factory, job, func(ctx context.Context, run runner.Run, pool *db.Pool) (grace.Report, error) {
		o := opts.Job
		o.Params = run.Job.Params // with the as-of the runner resolved
		return grace.Run(ctx, grace.Deps{DB: pool, RunID: run.ID, Log: run.Logger, Lock: run}, o)
	}, renderGrace)
}

func renderGrace(w io.Writer, rec runner.Record, rep *grace.Report) error {
	if rep == nil {
		return cmdutil.Footer(w, rec)
	}
	if err := header(w, rec, fmt.Sprintf("  grace %d days", rep.GraceDays)); err != nil {
		return err
	}
	if len(rep.Clients) == 0 {
		if _, err := fmt.Fprintln(w, "no client is in grace period"); err != nil {
			return err
		}
	} else {
		rows := [][]string{{"CLIENT", "PLAN", "GRACE SINCE", "DEADLINE", "PAID AT", "FAILED PAYMENTS", "ACTION", "NOTE"}}
		for _, l := range rep.Clients {
			paid := "-"
			if l.PaidAt != nil {
				paid = cmdutil.Instant(*l.PaidAt)
			}
			note := ""
			if l.Error != "" {
				note = "ERROR: " + l.Error
			}
			rows = append(rows, []string{l.Email, l.Plan, cmdutil.Instant(l.GraceStartedAt), cmdutil.Instant(l.Deadline),
				paid, fmt.Sprint(l.FailedPayments), l.Action, note})
		}
		if err := cmdutil.Table(w, rows); err != nil {
			return err
		}
	}
	t := rep.Totals
	verb := ""
	if rep.DryRun {
		verb = "would be "
	}
	if _, err := fmt.Fprintf(w, "\n%s in grace; %sdisabled %d, %sreactivated %d; failed %d\n",
		english.Plural(t.InGrace, "client"), verb, t.Disabled, verb, t.Reactivated, t.ClientsFailed); err != nil {
		return err
	}
	return cmdutil.Footer(w, rec)
}
