package billing

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// OverageOptions are `billing overage`'s inputs once its flags are parsed
// and validated.
type OverageOptions struct {
	Factory  *cmdutil.Factory
	Job      overage.Options
	NoStripe bool
	// Stripe is set for a run that pushes (neither --dry-run nor --no-stripe);
	// the run's preflight checks it.
	Stripe *cmdutil.StripeSettings
}

// Preflight checks the settings of what the run talks to besides the
// database, before it takes its lock (exit 78 when they are wrong).
func (o *OverageOptions) Preflight(context.Context) error {
	if o.Stripe == nil {
		return nil
	}
	return o.Stripe.Check()
}

// NewCmdOverage is `cortexctl billing overage`. runF, when not nil, gets the
// validated options instead of the run (for tests).
func NewCmdOverage(f *cmdutil.Factory, runF func(*OverageOptions) error) *cobra.Command {
	opts := &OverageOptions{Factory: f}
	var (
		jf        cmdutil.JobFlags
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

` + cmdutil.ExitCodesHelp,
		Example: `  # what would be billed right now, changing nothing
  cortexctl billing overage --dry-run

  # the daily cron run
  cortexctl billing overage --output json

  # settle as of the start of a day, one client, ledger only
  cortexctl billing overage --as-of 2026-12-01 --client 0b5d... --no-stripe`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := jf.Params()
			if err != nil {
				return err
			}
			opts.Job.Params = params
			if opts.Job.StripeConcurrency < 1 { // the job reads 0 as the default; a flag given as 0 is a mistake
				return exitcode.Errorf(exitcode.Usage, "--stripe-concurrency %d is out of range: use 1 to %d", opts.Job.StripeConcurrency, overage.MaxStripeConcurrency)
			}
			if err := opts.Job.Validate(); err != nil {
				return err
			}
			if !opts.Job.DryRun && !opts.NoStripe {
				s := f.Stripe(stripeURL, cmd.Flags().Changed("stripe-api-base"))
				opts.Stripe = &s
			}
			if runF != nil {
				return runF(opts)
			}
			return runOverage(cmd.Context(), opts)
		},
	}
	jf.Bind(cmd, overage.DefaultTimeout, "usage")
	fl := cmd.Flags()
	fl.DurationVar(&opts.Job.CloseWindow, "close-window", overage.DefaultCloseWindow, "how long after a month ends it is still billed")
	fl.IntVar(&opts.Job.MaxDisablePercent, "max-disable-percent", overage.DefaultMaxDisablePercent, "refuse a run that would disable more than this percent of active clients")
	fl.BoolVar(&opts.Job.Force, "force", false, "run even when the blast-radius guard trips")
	fl.IntVar(&opts.Job.StripeConcurrency, "stripe-concurrency", overage.DefaultStripeConcurrency, fmt.Sprintf("charges pushed to Stripe at once, 1 to %d (one client's charges always in order)", overage.MaxStripeConcurrency))
	fl.BoolVar(&opts.NoStripe, "no-stripe", false, "record charges in the ledger only; a later run with STRIPE_API_KEY pushes them")
	fl.StringVar(&stripeURL, "stripe-api-base", "", "Stripe API base URL, e.g. http://127.0.0.1:12111 for stripe-mock (env "+cmdutil.EnvStripeAPIBase+"; default Stripe's)")
	return cmd
}

func runOverage(ctx context.Context, opts *OverageOptions) error {
	job := runner.Job{Name: overage.Name, Params: opts.Job.Params, DefaultAsOf: true, MonotonicAsOf: true, Preflight: opts.Preflight}
	return cmdutil.RunJob(ctx, opts.Factory, job, func(ctx context.Context, run runner.Run, pool *db.Pool) (overage.Report, error) {
		deps := overage.Deps{DB: pool, RunID: run.ID, Log: run.Logger, Lock: run}
		if opts.Stripe != nil {
			deps.Stripe = opts.Stripe.Client(run.Logger)
		}
		o := opts.Job
		o.Params = run.Job.Params // with the as-of the runner resolved
		return overage.Run(ctx, deps, o)
	}, renderOverage)
}

func renderOverage(w io.Writer, rec runner.Record, rep *overage.Report) error {
	if rep == nil {
		return cmdutil.Footer(w, rec)
	}
	extra := "  periods " + strings.Join(rep.Periods, ", ")
	if rep.ClosedPeriod != "" {
		extra += " (" + rep.ClosedPeriod + " closed)"
	}
	if err := header(w, rec, extra); err != nil {
		return err
	}
	rows := [][]string{{"CLIENT", "PLAN", "PERIOD", "STATUS", "USED", "LIMIT", "SOFT", "HARD", "CHARGED", "NEW", "AMOUNT", "ACTION", "NOTE"}}
	for _, l := range rep.Clients {
		note := l.Note
		if l.Error != "" {
			note = "ERROR: " + l.Error
		}
		rows = append(rows, []string{l.Email, l.Plan, l.Period, l.Status,
			fmt.Sprint(l.Used), fmt.Sprint(l.Limit), fmt.Sprint(l.Soft), fmt.Sprint(l.Hard),
			fmt.Sprint(l.ChargedBefore), fmt.Sprint(l.NewUnits), cmdutil.Money(l.AmountCents, l.Currency), l.Action, note})
	}
	if len(rep.Clients) == 0 {
		if _, err := fmt.Fprintln(w, "no client is over its soft cap; nothing to bill"); err != nil {
			return err
		}
	} else if err := cmdutil.Table(w, rows); err != nil {
		return err
	}
	t := rep.Totals
	var amounts []string
	for cur, cents := range t.AmountCents {
		amounts = append(amounts, cmdutil.Money(cents, cur))
	}
	sort.Strings(amounts)
	if len(amounts) == 0 {
		amounts = []string{"nothing"}
	}
	would := ""
	if rep.DryRun || (rep.Guard != nil && !rep.Guard.Forced) {
		would = "would be "
	}
	_, err := fmt.Fprintf(w, "\n%s evaluated, %d over the soft cap; %sbilled %s in %s (%s); %sdisabled %d, %sreactivated %d; failed %d\n",
		english.Plural(t.ClientsEvaluated, "client"), t.ClientsOverSoftCap, would, english.Plural(int(t.NewUnits), "unit"),
		english.Plural(t.ChargesCreated, "charge"), strings.Join(amounts, ", "),
		would, t.Disabled, would, t.Reactivated, t.ClientsFailed)
	if err != nil {
		return err
	}
	if t.ClosedPeriodUnbilledUnits > 0 {
		if _, err := fmt.Fprintf(w, "closed period %s: %s arrived after it closed; not billed\n", rep.ClosedPeriod, english.Plural(int(t.ClosedPeriodUnbilledUnits), "billable unit")); err != nil {
			return err
		}
	}
	if g := rep.Guard; g != nil {
		if _, err := fmt.Fprintf(w, "blast-radius guard: would disable %d of %d active clients (limit %d%%), forced: %t\n", g.WouldDisable, g.ActiveClients, g.MaxPercent, g.Forced); err != nil {
			return err
		}
	}
	s := rep.Stripe
	switch {
	case rep.DryRun:
		_, err = fmt.Fprintf(w, "stripe: not called (dry run); %s pending from earlier runs\n", english.Plural(s.Pending, "charge"))
	case !s.Enabled:
		_, err = fmt.Fprintf(w, "stripe: not called (--no-stripe); %s pending in the ledger\n", english.Plural(s.Pending, "charge"))
	default:
		_, err = fmt.Fprintf(w, "stripe: %d pushed, %d posted, %d failed; %d still pending\n", s.Attempted, s.Posted, s.Failed, s.Pending)
		for _, e := range s.Errors {
			if err == nil {
				_, err = fmt.Fprintf(w, "  charge %s (client %s): %s\n", e.ChargeID, e.ClientID, e.Error)
			}
		}
	}
	if err != nil {
		return err
	}
	return cmdutil.Footer(w, rec)
}
