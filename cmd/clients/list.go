package clients

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// ListOptions are `clients list`'s inputs once its flags are validated.
type ListOptions struct {
	Factory *cmdutil.Factory
	Filter  admin.ClientFilter
}

// NewCmdList is `cortexctl clients list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List clients: plan, status, usage this period against the caps",
		Long: `Lists clients by e-mail with their plan, billing status (with the reason and
since when) and their query usage in the current billing period against the
plan's limit, soft cap and hard cap. The period and "now" are the database's
clock. Reads only; takes no job lock.`,
		Example: `  cortexctl clients list
  cortexctl clients list --status disabled
  cortexctl clients list --plan growth --over-soft-cap --output json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if s := opts.Filter.Status; s != "" && !slices.Contains(billing.Statuses, s) {
				return exitcode.Errorf(exitcode.Usage, "unknown --status %q: use one of %s", s, strings.Join(billing.Statuses, ", "))
			}
			if runF != nil {
				return runF(opts)
			}
			return runList(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Filter.Status, "status", "", "only clients in this status: "+strings.Join(billing.Statuses, ", "))
	fl.StringVar(&opts.Filter.Plan, "plan", "", "only clients on this plan (its code, e.g. growth)")
	fl.BoolVar(&opts.Filter.OverSoftCap, "over-soft-cap", false, "only clients beyond their soft cap this period (billed for overage)")
	return cmd
}

func runList(ctx context.Context, opts *ListOptions) error {
	f := opts.Factory
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	list, err := admin.ListClients(ctx, p, opts.Filter)
	if err != nil {
		if exitcode.Of(err) == exitcode.Usage && opts.Filter.Plan != "" {
			return exitcode.Errorf(exitcode.Usage, "--plan: %w", err)
		}
		return err
	}
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, cmdutil.NonNil(list))
	}
	return renderList(f.IOStreams.Out, list)
}

func renderList(w io.Writer, list []admin.ClientSummary) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no client matches")
		return err
	}
	rows := [][]string{{"CLIENT", "PLAN", "STATUS", "REASON", "SINCE", "USED", "LIMIT", "SOFT", "HARD", "OVER", "EXEMPT UNTIL"}}
	overSoft, overHard := 0, 0
	for _, c := range list {
		if c.OverSoftCap {
			overSoft++
		}
		if c.OverHardCap {
			overHard++
		}
		rows = append(rows, []string{c.Email, c.Plan, c.Status, deref(c.DisabledReason, "-"), cmdutil.Instant(c.StatusSince),
			fmt.Sprint(c.Used), fmt.Sprint(c.Limit), fmt.Sprint(c.Soft), fmt.Sprint(c.Hard), over(c.OverSoftCap, c.OverHardCap),
			exemption(c.HardCapExemptUntil, c.HardCapExempt)})
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s, %d over the soft cap, %d over the hard cap; usage of %s up to %s (the database's clock)\n",
		english.Plural(len(list), "client"), overSoft, overHard, list[0].Period, cmdutil.Instant(list[0].AsOf))
	return err
}

// over says which cap usage is beyond: -, soft or hard.
func over(soft, hard bool) string {
	switch {
	case hard:
		return "hard"
	case soft:
		return "soft"
	}
	return "-"
}
