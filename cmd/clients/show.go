package clients

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db/admin"
)

// ShowOptions are `clients show`'s inputs once its arguments are validated.
type ShowOptions struct {
	Factory *cmdutil.Factory
	Client  string // id or e-mail
}

// NewCmdShow is `cortexctl clients show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "show ID|EMAIL",
		Short: "Show one client: status, usage against the caps, charges, API keys, status events",
		Long: `Shows one client, named by its id or its e-mail: plan, billing status with the
reason and since when, any hard-cap exemption, query usage in the current
billing period against the limit, soft cap and hard cap, units and amount
charged this period and last, its pending charges, its API keys (never the
keys themselves) and its last ` + fmt.Sprint(admin.MaxEvents) + ` status events with who made them. The period and "now" are the database's clock.
Reads only; takes no job lock.`,
		Example: `  cortexctl clients show over@demo.cortexlayer.test
  cortexctl clients show ac752efa-f584-4b21-a6ae-ce6209f00c6d --output json`,
		Args: cmdutil.OneArg(clientArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Client = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runShow(cmd.Context(), opts)
		},
	}
	return cmd
}

func runShow(ctx context.Context, opts *ShowOptions) error {
	f := opts.Factory
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	det, err := admin.ShowClient(ctx, p, opts.Client)
	if err != nil {
		return err
	}
	if f.JSON() {
		det.PendingCharges = cmdutil.NonNil(det.PendingCharges)
		det.StatusEvents = cmdutil.NonNil(det.StatusEvents)
		det.APIKeys = cmdutil.NonNil(det.APIKeys)
		return cmdutil.WriteJSON(f.IOStreams.Out, det)
	}
	return renderShow(f.IOStreams.Out, det, f.IOStreams.IsStdoutTTY())
}

func renderShow(w io.Writer, d admin.ClientDetail, tty bool) error {
	status := d.Status
	if d.DisabledReason != nil {
		status += " (" + *d.DisabledReason + ")"
	}
	usage := fmt.Sprintf("%d queries in %s up to %s", d.Used, d.Period, cmdutil.Instant(d.AsOf))
	switch {
	case d.OverHardCap:
		usage += ": beyond the hard cap"
	case d.OverSoftCap:
		usage += ": beyond the soft cap"
	}
	exempt := "none"
	if d.HardCapExemptUntil != nil {
		exempt = "until " + cmdutil.Instant(*d.HardCapExemptUntil)
		if d.HardCapExempt {
			exempt += ": the overage job bills it but does not disable it before then"
		} else {
			exempt += " (ended)"
		}
	}
	rows := [][]string{
		{"client", d.Email},
		{"id", d.ID.String()},
		{"company", d.Company},
		{"plan", fmt.Sprintf("%s: limit %d, soft cap %d, hard cap %d; %s per 1000 units beyond the soft cap",
			d.Plan, d.Limit, d.Soft, d.Hard, cmdutil.Money((d.UnitPriceMicros*1000+5000)/10000, d.Currency))},
		{"status", status + " since " + cmdutil.Instant(d.StatusSince)},
		{"hard-cap exemption", exempt},
		{"usage", usage},
		{"stripe customer", deref(d.StripeCustomerID, "none")},
		{"created", cmdutil.Instant(d.CreatedAt)},
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}

	if _, err := fmt.Fprintln(w, "\nCharged:"); err != nil {
		return err
	}
	rows = [][]string{{"PERIOD", "UNITS", "AMOUNT", "CHARGES", "PENDING"}}
	for _, c := range d.Charged {
		rows = append(rows, []string{c.Period, fmt.Sprint(c.Units), cmdutil.Money(c.AmountCents, c.Currency), fmt.Sprint(c.Charges), fmt.Sprint(c.Pending)})
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}

	if _, err := fmt.Fprintf(w, "\nPending charges: %d\n", len(d.PendingCharges)); err != nil {
		return err
	}
	if len(d.PendingCharges) > 0 {
		if err := chargeTable(w, d.PendingCharges, tty); err != nil {
			return err
		}
	}

	if err := keyTable(w, d.APIKeys); err != nil {
		return err
	}

	if _, err := fmt.Fprintf(w, "\nStatus events (newest first, at most %d):\n", admin.MaxEvents); err != nil {
		return err
	}
	if len(d.StatusEvents) == 0 {
		_, err := fmt.Fprintln(w, "none")
		return err
	}
	rows = [][]string{{"AT", "FROM", "TO", "REASON", "ACTOR", "RUN", "EXEMPT UNTIL", "NOTE"}}
	for _, e := range d.StatusEvents {
		run := "-"
		if e.JobRunID != nil {
			run = e.JobRunID.String()[:8]
		}
		rows = append(rows, []string{cmdutil.Instant(e.OccurredAt), e.From, e.To, deref(e.Reason, "-"), e.Actor, run,
			instant(e.HardCapExemptUntil, "-"), cut(deref(e.Note, ""), tty)})
	}
	return cmdutil.Table(w, rows)
}

// keyTable lists a client's API keys, never their secrets.
func keyTable(w io.Writer, keys []admin.Key) error {
	if _, err := fmt.Fprintf(w, "\nAPI keys (live first, newest first, at most %d):\n", admin.MaxKeys); err != nil {
		return err
	}
	if len(keys) == 0 {
		_, err := fmt.Fprintln(w, "none")
		return err
	}
	rows := [][]string{{"KEY", "ID", "CREATED", "BY", "REVOKED", "REVOKED BY"}}
	for _, k := range keys {
		rows = append(rows, []string{k.Prefix, k.ID.String(), cmdutil.Instant(k.CreatedAt), k.CreatedBy,
			instant(k.RevokedAt, "-"), deref(k.RevokedBy, "-")})
	}
	return cmdutil.Table(w, rows)
}

// chargeTable lists charges of one client.
func chargeTable(w io.Writer, charges []admin.Charge, tty bool) error {
	rows := [][]string{{"CHARGE", "PERIOD", "UNITS", "AMOUNT", "ATTEMPTS", "CREATED", "LAST ERROR"}}
	for _, c := range charges {
		rows = append(rows, []string{c.ID.String(), c.Period, fmt.Sprint(c.Units), cmdutil.Money(c.AmountCents, c.Currency),
			fmt.Sprint(c.PushAttempts), cmdutil.Instant(c.CreatedAt), cut(deref(c.LastPushError, ""), tty)})
	}
	return cmdutil.Table(w, rows)
}

// cut shortens s to 80 characters on a terminal; a pipe gets it whole.
func cut(s string, tty bool) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if tty && len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
