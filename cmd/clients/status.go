package clients

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// EnableOptions are `clients enable`'s inputs once its flags are validated.
type EnableOptions struct {
	Factory *cmdutil.Factory
	Request admin.EnableRequest
}

// NewCmdEnable is `cortexctl clients enable`.
func NewCmdEnable(f *cmdutil.Factory, runF func(*EnableOptions) error) *cobra.Command {
	opts := &EnableOptions{Factory: f}
	var (
		wf          writerFlags
		exemptUntil string
	)
	cmd := &cobra.Command{
		Use:   "enable ID|EMAIL --note TEXT [--exempt-until DATE]",
		Short: "Set a disabled client back to active, audited",
		Long: `Sets a disabled client back to active, in one transaction that locks the
client's row and records a status event naming --actor and --note.

A client whose usage this period is beyond its hard cap would be disabled
again by the next overage run, so it is enabled only with --exempt-until: an
instant after now and at most the end of the current billing period (a date
means 00:00 UTC that day, so the latest is the 1st of next month). Until then
the overage job bills its usage but does not disable it; from then on, if it
is still beyond the hard cap, the next run disables it again. Enabling
without --exempt-until clears an earlier exemption; disabling clears it too.

"Now" and the current period are the database's clock. Takes no job lock.`,
		Example: `  cortexctl clients enable over@demo.cortexlayer.test --note 'OPS-123: usage double-counted' --dry-run
  cortexctl clients enable over@demo.cortexlayer.test --note 'OPS-123: customer upgrading' --exempt-until 2026-12-01
  cortexctl clients enable ac752efa-f584-4b21-a6ae-ce6209f00c6d --actor ops:alice --note 'OPS-124' --output json`,
		Args: cmdutil.OneArg(clientArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			actor, note, err := wf.resolve(f.Env)
			if err != nil {
				return err
			}
			opts.Request.Client, opts.Request.Actor, opts.Request.Note = args[0], actor, note
			if exemptUntil != "" {
				if opts.Request.ExemptUntil, err = cmdutil.ParseInstant("exempt-until", exemptUntil); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runEnable(cmd.Context(), opts)
		},
	}
	wf.bind(cmd)
	cmd.Flags().StringVar(&exemptUntil, "exempt-until", "", "exempt the client from the hard-cap disable until this instant (a date is 00:00 UTC; at most the end of the current period)")
	cmd.Flags().BoolVar(&opts.Request.DryRun, "dry-run", false, "check and show the change, write nothing")
	return cmd
}

func runEnable(ctx context.Context, opts *EnableOptions) error {
	return runChange(ctx, opts.Factory, func(ctx context.Context, p db.DB) (admin.Change, error) {
		return admin.Enable(ctx, p, opts.Request)
	})
}

// runChange makes one audited status change and prints it.
func runChange(ctx context.Context, f *cmdutil.Factory, change func(context.Context, db.DB) (admin.Change, error)) error {
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	c, err := change(ctx, p)
	if err != nil {
		return explain(err)
	}
	logChange(f, c)
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, c)
	}
	return renderChange(f.IOStreams.Out, c)
}

// DisableOptions are `clients disable`'s inputs once its flags are validated.
type DisableOptions struct {
	Factory *cmdutil.Factory
	Request admin.DisableRequest
}

// NewCmdDisable is `cortexctl clients disable`.
func NewCmdDisable(f *cmdutil.Factory, runF func(*DisableOptions) error) *cobra.Command {
	opts := &DisableOptions{Factory: f}
	var wf writerFlags
	cmd := &cobra.Command{
		Use:   "disable ID|EMAIL --note TEXT [--reason admin]",
		Short: "Disable a client by hand, audited",
		Long: `Disables an active client, or one in grace, in one transaction that locks the
client's row and records a status event naming --actor, --reason and --note.
It clears the client's grace clock and any hard-cap exemption.

--reason is one an operator may set: ` + strings.Join(billing.OperatorReasons, ", ") + `. hard_cap and grace_expired
belong to the billing jobs (which lift or keep them by their own rules) and
subscription_cancelled to the subscription flow. Takes no job lock.`,
		Example: `  cortexctl clients disable abuse@example.com --note 'OPS-125: scraping' --dry-run
  cortexctl clients disable abuse@example.com --reason admin --actor ops:alice --note 'OPS-125: scraping'`,
		Args: cmdutil.OneArg(clientArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(billing.OperatorReasons, opts.Request.Reason) {
				return exitcode.Errorf(exitcode.Usage,
					"invalid --reason %q: an operator may set %s (hard_cap and grace_expired are the billing jobs' own, subscription_cancelled the subscription flow's)",
					opts.Request.Reason, strings.Join(billing.OperatorReasons, ", "))
			}
			actor, note, err := wf.resolve(f.Env)
			if err != nil {
				return err
			}
			opts.Request.Client, opts.Request.Actor, opts.Request.Note = args[0], actor, note
			if runF != nil {
				return runF(opts)
			}
			return runDisable(cmd.Context(), opts)
		},
	}
	wf.bind(cmd)
	cmd.Flags().StringVar(&opts.Request.Reason, "reason", billing.ReasonAdmin, "why, as clients.disabled_reason: "+strings.Join(billing.OperatorReasons, ", "))
	cmd.Flags().BoolVar(&opts.Request.DryRun, "dry-run", false, "check and show the change, write nothing")
	return cmd
}

func runDisable(ctx context.Context, opts *DisableOptions) error {
	return runChange(ctx, opts.Factory, func(ctx context.Context, p db.DB) (admin.Change, error) {
		return admin.Disable(ctx, p, opts.Request)
	})
}

// explain adds to a refusal what to type to get past it.
func explain(err error) error {
	var r *admin.Refused
	if !errors.As(err, &r) {
		return err
	}
	end := r.PeriodEnd.Format(time.DateOnly)
	switch {
	case errors.Is(r.Rule, billing.ErrOverHardCap):
		return exitcode.Errorf(exitcode.Usage,
			"%w. To enable it all the same, pass --exempt-until DATE (after now, at most %s, the end of the current period): until then the overage job bills it but does not disable it. Or correct its usage data, or move it to a bigger plan, first",
			err, end)
	case errors.Is(r.Rule, billing.ErrExemptionNotAfterNow), errors.Is(r.Rule, billing.ErrExemptionBeyondPeriod):
		return exitcode.Errorf(exitcode.Usage, "%w: give --exempt-until an instant after now and at most %s (a date means 00:00 UTC)", err, end)
	case errors.Is(r.Rule, billing.ErrNotDisabled), errors.Is(r.Rule, billing.ErrNotDisablable):
		return exitcode.Errorf(exitcode.Usage, "%w: nothing was changed; see `cortexctl clients show %s`", err, r.Email)
	}
	return err
}

// logChange logs a status change on stderr, for the operator's log files.
func logChange(f *cmdutil.Factory, c admin.Change) {
	log := f.Log()
	ev := log.Info().Fields(c.LogFields())
	if c.DryRun {
		ev.Msg("status change checked (dry run); nothing was changed")
		return
	}
	ev.Msg("client status changed")
}

func renderChange(w io.Writer, c admin.Change) error {
	from := c.FromStatus
	if c.FromReason != nil {
		from += " (" + *c.FromReason + ")"
	}
	to := c.ToStatus
	if c.Reason != nil {
		to += " (" + *c.Reason + ")"
	}
	head := "enabled"
	if c.ToStatus == billing.StatusDisabled {
		head = "disabled"
	}
	tail := ""
	if c.DryRun {
		head = "DRY RUN: would have " + head
		tail = "; nothing was changed"
	}
	if _, err := fmt.Fprintf(w, "%s %s (%s)%s\n\n", head, c.Email, c.ClientID, tail); err != nil {
		return err
	}
	exempt := "none"
	if c.HardCapExemptUntil != nil {
		exempt = "until " + cmdutil.Instant(*c.HardCapExemptUntil) + ": the overage job bills it but does not disable it before then"
	}
	usage := fmt.Sprintf("%d queries in %s, hard cap %d", c.Used, c.Period, c.Hard)
	if c.OverHardCap {
		usage += ": beyond it"
	}
	rows := [][]string{
		{"status", from + " -> " + to},
		{"hard-cap exemption", exempt},
		{"usage", usage},
		{"actor", c.Actor},
		{"note", c.Note},
	}
	if c.Event != nil {
		rows = append(rows, []string{"status event", fmt.Sprintf("%d at %s", c.Event.ID, cmdutil.Instant(c.Event.OccurredAt))})
	} else {
		rows = append(rows, []string{"status event", "none (dry run)"})
	}
	return cmdutil.Table(w, rows)
}
