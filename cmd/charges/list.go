package charges

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// ListOptions are `charges list`'s inputs once its flags are validated.
type ListOptions struct {
	Factory *cmdutil.Factory
	Filter  admin.ChargeFilter
}

// NewCmdList is `cortexctl charges list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Factory: f}
	var period string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List overage charges, newest first: Stripe invoice item, push attempts, last error",
		Long: `Lists rows of the overage_charges ledger, newest first: the client, the period,
units and amount, whether Stripe confirmed the charge (posted, with its invoice
item id) or not yet (pending), how many pushes were attempted and the last
push error. Reads only; takes no job lock.`,
		Example: `  cortexctl charges list --pending
  cortexctl charges list --client over@demo.cortexlayer.test --period 2026-11
  cortexctl charges list --period 2026-10 --limit 1000 --output json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if period != "" {
				t, err := time.Parse("2006-01", period)
				if err != nil {
					return exitcode.Errorf(exitcode.Usage, "invalid --period %q: use YYYY-MM, e.g. 2026-11", period)
				}
				p := billing.PeriodOf(t)
				opts.Filter.Period = &p
			}
			if opts.Filter.Limit < 1 || opts.Filter.Limit > admin.MaxLimit {
				return exitcode.Errorf(exitcode.Usage, "--limit %d is out of range: use 1 to %d", opts.Filter.Limit, admin.MaxLimit)
			}
			if runF != nil {
				return runF(opts)
			}
			return runList(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Filter.Pending, "pending", false, "only charges Stripe has not confirmed yet")
	fl.StringVar(&opts.Filter.Client, "client", "", "only this client's charges: its id or e-mail")
	fl.StringVar(&period, "period", "", "only charges of this billing period: YYYY-MM")
	fl.IntVar(&opts.Filter.Limit, "limit", admin.DefaultLimit, fmt.Sprintf("at most this many charges, newest first (1 to %d)", admin.MaxLimit))
	return cmd
}

func runList(ctx context.Context, opts *ListOptions) error {
	f := opts.Factory
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	list, err := admin.ListCharges(ctx, p, opts.Filter)
	if err != nil {
		if exitcode.Of(err) == exitcode.Usage {
			return exitcode.Errorf(exitcode.Usage, "--client: %w", err)
		}
		return err
	}
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, cmdutil.NonNil(list))
	}
	return renderList(f.IOStreams.Out, list, opts.Filter.Limit, f.IOStreams.IsStdoutTTY())
}

func renderList(w io.Writer, list []admin.Charge, limit int, tty bool) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no charge matches")
		return err
	}
	rows := [][]string{{"CREATED", "CLIENT", "PERIOD", "UNITS", "AMOUNT", "STATUS", "ATTEMPTS", "STRIPE ITEM", "CHARGE", "LAST ERROR"}}
	pending := 0
	for _, c := range list {
		if c.Status == "pending" {
			pending++
		}
		item := "-"
		if c.StripeInvoiceItemID != nil {
			item = *c.StripeInvoiceItemID
		}
		msg := ""
		if c.LastPushError != nil {
			msg = strings.ReplaceAll(*c.LastPushError, "\n", " ")
			if tty && len(msg) > 80 { // a pipe gets it whole
				msg = msg[:77] + "..."
			}
		}
		rows = append(rows, []string{cmdutil.Instant(c.CreatedAt), c.Email, c.Period, fmt.Sprint(c.Units),
			cmdutil.Money(c.AmountCents, c.Currency), c.Status, fmt.Sprint(c.PushAttempts), item, c.ID.String(), msg})
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}
	more := ""
	if len(list) == limit {
		more = fmt.Sprintf(" (the newest %d: there may be more, raise --limit)", limit)
	}
	_, err := fmt.Fprintf(w, "\n%s, %d pending%s\n", english.Plural(len(list), "charge"), pending, more)
	return err
}
