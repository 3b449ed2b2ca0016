package clients

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// SetPlanOptions are `clients set-plan`'s inputs once its arguments are validated.
type SetPlanOptions struct {
	Factory *cmdutil.Factory
	Request admin.PlanRequest
}

// NewCmdSetPlan is `cortexctl clients set-plan`.
func NewCmdSetPlan(f *cmdutil.Factory, runF func(*SetPlanOptions) error) *cobra.Command {
	opts := &SetPlanOptions{Factory: f}
	var actor actorFlag
	cmd := &cobra.Command{
		Use:   "set-plan ID|EMAIL PLAN",
		Short: "Move a client to another plan",
		Long: `Moves a client to another plan, in one transaction that locks the client's
row, and shows its usage this period against the new plan's caps. The new
plan applies to the whole current period (billing.md): the next overage run
bills and caps this month's usage by it. The command changes no status: a
client disabled for the hard cap and now under it is enabled with
` + "`clients enable`" + `; an active client now beyond the hard cap is disabled by the
next overage run. An unknown plan, or the client's own, exits 2.

Plan changes are not recorded in the database (only clients.updated_at
moves): the command's output and its log line, with --actor, are the
record. Takes no job lock.`,
		Example: `  cortexctl clients set-plan over@demo.cortexlayer.test scale
  cortexctl clients set-plan ac752efa-f584-4b21-a6ae-ce6209f00c6d growth --actor ops:alice --output json`,
		Args: exactArgs(clientArg, "a plan's code (starter, growth, scale, ...)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Request.Actor, err = actor.resolve(f.Env); err != nil {
				return err
			}
			opts.Request.Client, opts.Request.Plan = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runSetPlan(cmd.Context(), opts)
		},
	}
	actor.bind(cmd, "in the log line")
	return cmd
}

func runSetPlan(ctx context.Context, opts *SetPlanOptions) error {
	f := opts.Factory
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	c, err := admin.ChangePlan(ctx, p, opts.Request)
	if err != nil {
		return err
	}
	log := f.Log()
	log.Info().Str("client_id", c.ClientID.String()).Str("from_plan", c.FromPlan).Str("to_plan", c.ToPlan).
		Bool("over_hard_cap", c.OverHardCap).Str("actor", c.Actor).Msg("plan changed")
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, c)
	}
	return renderPlanChange(f.IOStreams.Out, c)
}

func renderPlanChange(w io.Writer, c admin.PlanChange) error {
	if _, err := fmt.Fprintf(w, "moved %s (%s) from %s to %s\n\n", c.Email, c.ClientID, c.FromPlan, c.ToPlan); err != nil {
		return err
	}
	usage := fmt.Sprintf("%d queries in %s up to %s", c.Used, c.Period, cmdutil.Instant(c.AsOf))
	switch {
	case c.OverHardCap:
		usage += ": beyond the new hard cap"
	case c.OverSoftCap:
		usage += ": beyond the new soft cap (billed as overage)"
	}
	status := c.Status
	if c.DisabledReason != nil {
		status += " (" + *c.DisabledReason + ")"
	}
	rows := [][]string{
		{"plan", fmt.Sprintf("%s: limit %d, soft cap %d, hard cap %d, for the whole of %s", c.ToPlan, c.Limit, c.Soft, c.Hard, c.Period)},
		{"usage", usage},
		{"status", status + " (unchanged)"},
	}
	if next := planNext(c); next != "" {
		rows = append(rows, []string{"next", next})
	}
	rows = append(rows, []string{"actor", c.Actor})
	return cmdutil.Table(w, rows)
}

// planNext says what follows from a plan change, if anything does.
func planNext(c admin.PlanChange) string {
	reason := deref(c.DisabledReason, "")
	switch {
	case c.Status == billing.StatusActive && c.OverHardCap && !c.HardCapExempt:
		return "the next overage run disables it: its usage is beyond the new hard cap"
	case c.Status == billing.StatusDisabled && reason == billing.ReasonHardCap && !c.OverHardCap:
		return fmt.Sprintf("still disabled: it is under the new hard cap, so `cortexctl clients enable %s --note …` enables it without an exemption", c.Email)
	}
	return ""
}
