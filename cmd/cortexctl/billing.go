package main

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/jobs/grace"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

func newBillingCmd(f *factory) *cobra.Command {
	return group("billing", "Daily billing jobs: overage charges and grace-period enforcement",
		newOverageCmd(f), newGraceCmd(f))
}

// runFlags are the flags every job shares.
type runFlags struct {
	asOf    string
	dryRun  bool
	timeout time.Duration
	client  string
}

func (r *runFlags) bind(cmd *cobra.Command, timeout time.Duration, ignored string) {
	fl := cmd.Flags()
	fl.StringVar(&r.asOf, "as-of", "", "evaluate as if run at this instant: RFC 3339 or a date (00:00 UTC); "+ignored+" at or after it is ignored (default now)")
	fl.BoolVar(&r.dryRun, "dry-run", false, "evaluate and report, write nothing but the run's own job_runs row")
	fl.DurationVar(&r.timeout, "timeout", timeout, "stop the run cleanly after this long (between clients)")
	fl.StringVar(&r.client, "client", "", "only this client (its id)")
}

func (r *runFlags) resolve(f *factory) (time.Time, uuid.UUID, error) {
	asOf, err := parseAsOf(r.asOf, f.now)
	if err != nil {
		return time.Time{}, uuid.Nil, err
	}
	if r.timeout <= 0 {
		return time.Time{}, uuid.Nil, exitcode.Errorf(exitcode.Usage, "--timeout must be positive, got %s", r.timeout)
	}
	var id uuid.UUID
	if r.client != "" {
		if id, err = uuid.Parse(r.client); err != nil {
			return time.Time{}, uuid.Nil, exitcode.Errorf(exitcode.Usage, "invalid --client %q: it takes a client id (a UUID)", r.client)
		}
	}
	return asOf, id, nil
}

func newOverageCmd(f *factory) *cobra.Command {
	var (
		rf        runFlags
		opts      overage.Options
		noStripe  bool
		stripeURL string
	)
	cmd := &cobra.Command{
		Use:   "overage",
		Short: "Bill usage beyond the soft cap to Stripe; disable clients beyond the hard cap",
		Long: `For each client, this month's query usage against its plan: usage beyond the
soft cap (limit +20%) is charged incrementally (each run bills only units no
earlier charge covers) and pushed to Stripe as invoice items; an active client
beyond the hard cap (limit +50%) is disabled. The previous month is settled too
while within --close-window after it ended; after that it is never billed again.

Needs STRIPE_API_KEY unless --no-stripe or --dry-run.

` + exitCodesHelp,
		Example: `  # what would be billed right now, changing nothing
  cortexctl billing overage --dry-run

  # the daily cron run
  cortexctl billing overage --output json

  # settle as of the start of a day, one client, ledger only
  cortexctl billing overage --as-of 2026-12-01 --client 0b5d... --no-stripe`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asOf, client, err := rf.resolve(f)
			if err != nil {
				return err
			}
			opts.AsOf, opts.DryRun, opts.ClientID = asOf, rf.dryRun, client
			if err := opts.Validate(); err != nil {
				return err
			}
			var newStripe func(zerolog.Logger) *stripeclient.Client
			if !rf.dryRun && !noStripe {
				if newStripe, err = f.Stripe(envOr(stripeURL, cmd.Flags().Changed("stripe-api-base"), f.env, EnvStripeAPIBase, "")); err != nil {
					return err
				}
			}
			job := runner.Job{Name: overage.Name, DryRun: rf.dryRun, AsOf: asOf, Timeout: rf.timeout, MonotonicAsOf: true}
			return runJob(cmd.Context(), f, job, func(ctx context.Context, run runner.Run, d deps) (overage.Report, error) {
				var biller overage.Biller
				if newStripe != nil {
					biller = newStripe(run.Logger)
				}
				return overage.Run(ctx, overage.Deps{DB: d.pool, Stripe: biller, RunID: run.ID, Log: run.Logger}, opts)
			}, renderOverage)
		},
	}
	rf.bind(cmd, overage.DefaultTimeout, "usage")
	fl := cmd.Flags()
	fl.DurationVar(&opts.CloseWindow, "close-window", overage.DefaultCloseWindow, "how long after a month ends it is still billed")
	fl.IntVar(&opts.MaxDisablePercent, "max-disable-percent", overage.DefaultMaxDisablePercent, "refuse a run that would disable more than this percent of active clients")
	fl.BoolVar(&opts.Force, "force", false, "run even when the blast-radius guard trips")
	fl.BoolVar(&noStripe, "no-stripe", false, "record charges in the ledger only; a later run with STRIPE_API_KEY pushes them")
	fl.StringVar(&stripeURL, "stripe-api-base", "", "Stripe API base URL, e.g. http://127.0.0.1:12111 for stripe-mock (env "+EnvStripeAPIBase+"; default Stripe's)")
	return cmd
}

func newGraceCmd(f *factory) *cobra.Command {
	var (
		rf   runFlags
		opts grace.Options
	)
	cmd := &cobra.Command{
		Use:   "grace",
		Short: "Disable clients in grace period with no payment for 7 days; reactivate those who paid",
		Long: `For each client in grace_period: one with a succeeded payment since it entered
grace is set back to active (the webhook that should have done it was missed);
one whose grace began at least --grace-days before as-of, with no succeeded
payment since, is disabled (grace_expired). The grace clock is the instant of
the first failed payment; nothing else moves it.

` + exitCodesHelp,
		Example: `  cortexctl billing grace --dry-run
  cortexctl billing grace --output json
  cortexctl billing grace --as-of 2026-11-27T02:00:00Z --grace-days 7`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asOf, client, err := rf.resolve(f)
			if err != nil {
				return err
			}
			opts.AsOf, opts.DryRun, opts.ClientID = asOf, rf.dryRun, client
			if err := opts.Validate(); err != nil {
				return err
			}
			job := runner.Job{Name: grace.Name, DryRun: rf.dryRun, AsOf: asOf, Timeout: rf.timeout, MonotonicAsOf: true}
			return runJob(cmd.Context(), f, job, func(ctx context.Context, run runner.Run, d deps) (grace.Report, error) {
				return grace.Run(ctx, grace.Deps{DB: d.pool, RunID: run.ID, Log: run.Logger}, opts)
			}, renderGrace)
		},
	}
	rf.bind(cmd, grace.DefaultTimeout, "a payment")
	cmd.Flags().IntVar(&opts.GraceDays, "grace-days", grace.DefaultGraceDays, "days in grace without a succeeded payment before a client is disabled")
	return cmd
}
