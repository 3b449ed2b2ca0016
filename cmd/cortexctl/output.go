package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cortexlayer/cortexctl/jobs/grace"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns; the first row is the header.
func table(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// money formats minor units of a two-decimal currency: 150 usd → "1.50 USD".
func money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, strings.ToUpper(currency))
}

func header(w io.Writer, rec runner.Record, extra string) error {
	dry := ""
	if rec.DryRun {
		dry = "  DRY RUN: nothing was changed"
	}
	asOf := ""
	if rec.AsOf != nil {
		asOf = rec.AsOf.Format(time.RFC3339)
	}
	_, err := fmt.Fprintf(w, "%s  run %s  as of %s%s%s\n\n", rec.Job, rec.ID, asOf, extra, dry)
	return err
}

func footer(w io.Writer, rec runner.Record) error {
	code := 0
	if rec.ExitCode != nil {
		code = *rec.ExitCode
	}
	msg := ""
	if rec.Error != nil {
		msg = ": " + *rec.Error
	}
	_, err := fmt.Fprintf(w, "\nstatus: %s (exit %d)%s\n", rec.Status, code, msg)
	return err
}

func renderOverage(w io.Writer, rec runner.Record, rep *overage.Report) error {
	if rep == nil {
		return footer(w, rec)
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
			fmt.Sprint(l.ChargedBefore), fmt.Sprint(l.NewUnits), money(l.AmountCents, l.Currency), l.Action, note})
	}
	if len(rep.Clients) == 0 {
		if _, err := fmt.Fprintln(w, "no client is over its soft cap; nothing to bill"); err != nil {
			return err
		}
	} else if err := table(w, rows); err != nil {
		return err
	}
	t := rep.Totals
	var amounts []string
	for cur, cents := range t.AmountCents {
		amounts = append(amounts, money(cents, cur))
	}
	sort.Strings(amounts)
	if len(amounts) == 0 {
		amounts = []string{"nothing"}
	}
	would := ""
	if rep.DryRun || (rep.Guard != nil && !rep.Guard.Forced) {
		would = "would be "
	}
	_, err := fmt.Fprintf(w, "\n%d clients evaluated, %d over the soft cap; %sbilled %d units in %d charges (%s); %sdisabled %d, %sreactivated %d; failed %d\n",
		t.ClientsEvaluated, t.ClientsOverSoftCap, would, t.NewUnits, t.ChargesCreated, strings.Join(amounts, ", "),
		would, t.Disabled, would, t.Reactivated, t.ClientsFailed)
	if err != nil {
		return err
	}
	if t.ClosedPeriodUnbilledUnits > 0 {
		if _, err := fmt.Fprintf(w, "closed period %s: %d billable units arrived after it closed; they are not billed\n", rep.ClosedPeriod, t.ClosedPeriodUnbilledUnits); err != nil {
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
		_, err = fmt.Fprintf(w, "stripe: not called (dry run); %d charges pending from earlier runs\n", s.Pending)
	case !s.Enabled:
		_, err = fmt.Fprintf(w, "stripe: not called (--no-stripe); %d charges pending in the ledger\n", s.Pending)
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
	return footer(w, rec)
}

func renderGrace(w io.Writer, rec runner.Record, rep *grace.Report) error {
	if rep == nil {
		return footer(w, rec)
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
				paid = l.PaidAt.Format(time.RFC3339)
			}
			note := ""
			if l.Error != "" {
				note = "ERROR: " + l.Error
			}
			rows = append(rows, []string{l.Email, l.Plan, l.GraceStartedAt.Format(time.RFC3339), l.Deadline.Format(time.RFC3339),
				paid, fmt.Sprint(l.FailedPayments), l.Action, note})
		}
		if err := table(w, rows); err != nil {
			return err
		}
	}
	t := rep.Totals
	verb := ""
	if rep.DryRun {
		verb = "would be "
	}
	if _, err := fmt.Fprintf(w, "\n%d clients in grace; %sdisabled %d, %sreactivated %d; failed %d\n",
		t.InGrace, verb, t.Disabled, verb, t.Reactivated, t.ClientsFailed); err != nil {
		return err
	}
	return footer(w, rec)
}
