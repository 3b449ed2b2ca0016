package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// DemoDomain is the e-mail domain of every demo client; `seed --demo
// --force` replaces exactly the clients of this domain.
const DemoDomain = "demo.cortexlayer.test"

// DemoClient is one seeded client and the rule it shows.
type DemoClient struct {
	Email    string `json:"email"`
	Plan     string `json:"plan"`
	Status   string `json:"status"`
	Queries  int64  `json:"queries_this_month"`
	Scenario string `json:"scenario"`
}

type demoSpec struct {
	DemoClient
	company      string
	otherOps     int64         // usage that is not a query and never counts
	prevQueries  int64         // query usage in the previous month
	prevCharged  int64         // units of the previous month already charged (posted)
	curCharged   int64         // units of this month already charged (posted)
	disabledAgo  time.Duration // hard-cap disable, this long before the month began
	graceAgo     time.Duration // entered grace this long before now
	failedAgo    []time.Duration
	succeededAgo []time.Duration
}

func demoSpecs() []demoSpec {
	day := 24 * time.Hour
	c := func(name, plan, status string, q int64, scenario string) DemoClient {
		return DemoClient{Email: name + "@" + DemoDomain, Plan: plan, Status: status, Queries: q, Scenario: scenario}
	}
	return []demoSpec{
		{DemoClient: c("under", "starter", "active", 800, "under the limit; 500 non-query operations do not count"), company: "Under Ltd", otherOps: 500},
		{DemoClient: c("between", "starter", "active", 1350, "between soft (1200) and hard (1500) cap: 150 units billed"), company: "Between GmbH"},
		{DemoClient: c("over", "growth", "active", 8000, "over the hard cap (7500): 2000 units billed and disabled"), company: "Over Inc"},
		{DemoClient: c("growing", "scale", "active", 61000, "1000 units over the soft cap, 500 charged earlier this month: 500 new"), company: "Growing SA", curCharged: 500},
		{DemoClient: c("steady", "growth", "active", 3000, "under the limit"), company: "Steady BV"},
		{DemoClient: c("quiet", "scale", "active", 100, "under the limit"), company: "Quiet Oy"},
		{DemoClient: c("recovered", "starter", "disabled", 200, "disabled for the hard cap last month: reactivated this month"), company: "Recovered AB",
			prevQueries: 1600, prevCharged: 400, disabledAgo: 10 * day},
		{DemoClient: c("cancelled", "starter", "cancelled", 1400, "cancelled: 200 units billed, status left alone"), company: "Cancelled Co"},
		{DemoClient: c("grace-expired", "starter", "grace_period", 300, "in grace 8 days, no payment: disabled (grace_expired)"), company: "Expired LLC",
			graceAgo: 8 * day, failedAgo: []time.Duration{8 * day, 5 * day, 2 * day}},
		{DemoClient: c("grace-fresh", "growth", "grace_period", 1000, "in grace 3 days: left alone"), company: "Fresh Ltd",
			graceAgo: 3 * day, failedAgo: []time.Duration{3 * day}},
		{DemoClient: c("grace-paid", "starter", "grace_period", 500, "paid during grace (missed webhook): reactivated"), company: "Paid Pty",
			graceAgo: 5 * day, failedAgo: []time.Duration{5 * day}, succeededAgo: []time.Duration{1 * day}},
	}
}

// SeedDemo loads the demo clients, their usage this month (and last), their
// earlier charges and their payments, relative to now. It refuses a
// database that holds clients unless force, in which case it replaces the
// demo clients only and keeps every other client.
func SeedDemo(ctx context.Context, pool DB, now time.Time, force bool) ([]DemoClient, error) {
	if err := CheckSchema(ctx, pool); err != nil {
		return nil, err
	}
	now = now.UTC()
	cur := billing.PeriodOf(now)
	prev := cur.Prev()
	var out []DemoClient
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM clients`).Scan(&n); err != nil {
			return err
		}
		if n > 0 && !force {
			return exitcode.Errorf(exitcode.Failed,
				"the database already holds %d clients: `db seed --demo` only loads an empty database; pass --force to replace the demo clients (*@%s) and keep the others", n, DemoDomain)
		}
		if _, err := tx.Exec(ctx, `
			WITH demo AS (SELECT id FROM clients WHERE email LIKE '%@' || $1),
			     u AS (DELETE FROM usage_logs WHERE client_id IN (SELECT id FROM demo)),
			     p AS (DELETE FROM payments WHERE client_id IN (SELECT id FROM demo)),
			     o AS (DELETE FROM overage_charges WHERE client_id IN (SELECT id FROM demo)),
			     e AS (DELETE FROM client_status_events WHERE client_id IN (SELECT id FROM demo))
			DELETE FROM clients WHERE id IN (SELECT id FROM demo)`, DemoDomain); err != nil {
			return fmt.Errorf("remove earlier demo clients: %w", err)
		}
		for i, s := range demoSpecs() {
			if err := seedOne(ctx, tx, i, s, now, cur, prev); err != nil {
				return fmt.Errorf("seed %s: %w", s.Email, err)
			}
			out = append(out, s.DemoClient)
		}
		return nil
	})
	return out, err
}

func seedOne(ctx context.Context, tx pgx.Tx, i int, s demoSpec, now time.Time, cur, prev billing.Period) error {
	var disabledReason, disabledAt, graceAt any
	if s.Status == billing.StatusDisabled {
		disabledReason, disabledAt = billing.ReasonHardCap, cur.Start.Add(-s.disabledAgo)
	}
	if s.Status == billing.StatusGrace {
		graceAt = now.Add(-s.graceAgo)
	}
	var id string
	err := tx.QueryRow(ctx, `
		INSERT INTO clients (email, company_name, plan_code, billing_status, disabled_reason, disabled_at,
		                     stripe_customer_id, grace_period_started_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		s.Email, s.company, s.Plan, s.Status, disabledReason, disabledAt,
		fmt.Sprintf("cus_demo_%02d", i+1), graceAt, prev.Start).Scan(&id)
	if err != nil {
		return err
	}
	// Usage spread evenly over the month so far, 10 queries a row.
	usage := func(op string, total int64, from, to time.Time) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at)
			SELECT $1, $2, least(10, $3 - g * 10), $4::timestamptz + ($5::timestamptz - $4::timestamptz) * (g::float8 / n)
			FROM (SELECT ceil($3 / 10.0)::int AS n) k, generate_series(0, k.n - 1) g`,
			id, op, total, from, to)
		return err
	}
	if err := usage("query", s.Queries, cur.Start, now); err != nil {
		return err
	}
	if s.otherOps > 0 {
		if err := usage("embedding", s.otherOps, cur.Start, now); err != nil {
			return err
		}
	}
	if s.prevQueries > 0 {
		if err := usage("query", s.prevQueries, prev.Start, prev.End); err != nil {
			return err
		}
	}
	charge := func(p billing.Period, units int64) error {
		if units == 0 {
			return nil
		}
		amount, err := billing.AmountCents(units, 10000)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO overage_charges (client_id, period_start, units_from, units, amount_cents, currency,
			       unit_price_micros, status, stripe_invoice_item_id, idempotency_key, posted_at)
			VALUES ($1, $2, 0, $3, $4, 'usd', 10000, 'posted', $5, $6, $7)`,
			id, p.Start, units, amount, "ii_demo_"+id[:8]+"_"+p.String(), "demo-"+id+"-"+p.String(), p.Start)
		return err
	}
	if err := charge(prev, s.prevCharged); err != nil {
		return err
	}
	if err := charge(cur, s.curCharged); err != nil {
		return err
	}
	for status, agos := range map[string][]time.Duration{"failed": s.failedAgo, "succeeded": s.succeededAgo} {
		for _, ago := range agos {
			if _, err := tx.Exec(ctx, `
				INSERT INTO payments (client_id, status, amount_cents, stripe_invoice_id, occurred_at)
				VALUES ($1, $2, 4900, $3, $4)`, id, status, "in_demo_"+id[:8], now.Add(-ago)); err != nil {
				return err
			}
		}
	}
	return nil
}
