package overage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

type client struct {
	id         uuid.UUID
	email      string
	customerID *string
	status     billing.Status
	plan       billing.Plan
}

type periodKey struct {
	client uuid.UUID
	period time.Time
}

// snapshot is everything a run plans from, read set-based up front.
type snapshot struct {
	clients       []client
	activeClients int64
	used          map[periodKey]int64 // query usage per client and period
	charged       map[periodKey]int64 // units already charged per client and period
}

const clientsSQL = `
	SELECT c.id, c.email, c.stripe_customer_id, c.billing_status, coalesce(c.disabled_reason, ''), c.disabled_at,
	       c.hard_cap_exempt_until, p.code, p.monthly_query_limit, p.soft_cap_percent, p.hard_cap_percent, p.overage_unit_price_micros, p.currency
	FROM clients c JOIN plans p ON p.code = c.plan_code
	WHERE $1::uuid IS NULL OR c.id = $1
	ORDER BY c.id`

// usageSQL is the one aggregate of a period: only queries count.
const usageSQL = `
	SELECT client_id, sum(quantity)::bigint
	FROM usage_logs
	WHERE operation_type = 'query' AND occurred_at >= $1 AND occurred_at < $2
	  AND ($3::uuid IS NULL OR client_id = $3)
	GROUP BY client_id`

const chargedSQL = `
	SELECT client_id, period_start, sum(units)::bigint
	FROM overage_charges
	WHERE period_start = ANY($1) AND ($2::uuid IS NULL OR client_id = $2)
	GROUP BY client_id, period_start`

func loadSnapshot(ctx context.Context, q db.Querier, opts Options, open []billing.Period, closed *billing.Period) (*snapshot, error) {
	filter := db.Nullable(opts.ClientID)
	rows, err := q.Query(ctx, clientsSQL, filter)
	if err != nil {
		return nil, fmt.Errorf("load clients: %w", err)
	}
	clients, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (client, error) {
		var c client
		var disabledAt, exemptUntil *time.Time
		err := row.Scan(&c.id, &c.email, &c.customerID, &c.status.Billing, &c.status.DisabledReason, &disabledAt,
			&exemptUntil, &c.plan.Code, &c.plan.MonthlyLimit, &c.plan.SoftCapPercent, &c.plan.HardCapPercent,
			&c.plan.UnitPriceMicros, &c.plan.Currency)
		if disabledAt != nil {
			c.status.DisabledAt = *disabledAt
		}
		if exemptUntil != nil {
			c.status.HardCapExemptUntil = *exemptUntil
		}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("load clients: %w", err)
	}
	if filter != nil && len(clients) == 0 {
		return nil, exitcode.Errorf(exitcode.Usage, "--client %s: no client has that id", opts.ClientID)
	}
	s := &snapshot{clients: clients, used: map[periodKey]int64{}, charged: map[periodKey]int64{}}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM clients WHERE billing_status = 'active'`).Scan(&s.activeClients); err != nil {
		return nil, fmt.Errorf("count active clients: %w", err)
	}

	all := open
	if closed != nil {
		all = append([]billing.Period{*closed}, open...)
	}
	starts := make([]time.Time, 0, len(all))
	for _, p := range all {
		end := p.End
		if opts.AsOf.Before(end) {
			end = opts.AsOf // usage after as-of is ignored
		}
		if err := sumInto(ctx, q, s.used, p.Start, usageSQL, p.Start, end, filter); err != nil {
			return nil, fmt.Errorf("sum usage of %s: %w", p, err)
		}
		starts = append(starts, p.Start)
	}
	if err := sumCharged(ctx, q, s.charged, starts, filter); err != nil {
		return nil, err
	}
	return s, nil
}

// sumCharged adds the units already charged per client and period to into.
func sumCharged(ctx context.Context, q db.Querier, into map[periodKey]int64, starts []time.Time, filter *uuid.UUID) error {
	rows, err := q.Query(ctx, chargedSQL, starts, filter)
	if err != nil {
		return fmt.Errorf("sum charges: %w", err)
	}
	var (
		id    uuid.UUID
		start time.Time
		units int64
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &start, &units}, func() error {
		into[periodKey{id, start.UTC()}] = units
		return nil
	})
	if err != nil {
		return fmt.Errorf("sum charges: %w", err)
	}
	return nil
}

func sumInto(ctx context.Context, q db.Querier, into map[periodKey]int64, period time.Time, sql string, args ...any) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	var (
		id  uuid.UUID
		sum int64
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &sum}, func() error {
		into[periodKey{id, period}] = sum
		return nil
	})
	return err
}

// clientPlan is what a run will do to one client.
type clientPlan struct {
	client  client
	charges []pendingCharge // new charges, oldest period first
	cap     billing.CapAction
	lines   []ClientLine
	err     error // the rules could not be applied (an amount overflowed); nothing is written
}

type pendingCharge struct {
	period billing.Period
	billing.Charge
}

func (p clientPlan) writes() bool { return len(p.charges) > 0 || p.cap != billing.CapNone }

func planAll(s *snapshot, open []billing.Period, closed *billing.Period, asOf time.Time) []clientPlan {
	out := make([]clientPlan, 0, len(s.clients))
	for _, c := range s.clients {
		p, err := planClient(c, s.used, s.charged, open, closed, asOf)
		if err != nil {
			p = clientPlan{client: c, cap: billing.CapNone, err: err}
			for _, per := range open {
				l := line(c, per, s.used[periodKey{c.id, per.Start}], s.charged[periodKey{c.id, per.Start}])
				l.Error = err.Error()
				p.lines = append(p.lines, l)
			}
		}
		out = append(out, p)
	}
	return out
}

// planClient applies the billing rules to one client; it is also run again
// inside the client's transaction, with the charges re-read under lock.
func planClient(c client, used, charged map[periodKey]int64, open []billing.Period, closed *billing.Period, asOf time.Time) (clientPlan, error) {
	p := clientPlan{client: c, cap: billing.CapNone}
	caps := billing.CapsOf(c.plan)
	if closed != nil {
		k := periodKey{c.id, closed.Start}
		l := line(c, *closed, used[k], charged[k])
		if late := caps.Billable(used[k]) - charged[k]; late > 0 {
			l.Unbilled = late
			l.Note = fmt.Sprintf("period %s closed: %d billable units arrived too late and are not billed", closed, late)
		}
		if l.Unbilled > 0 {
			p.lines = append(p.lines, l)
		}
	}
	for i, per := range open {
		k := periodKey{c.id, per.Start}
		l := line(c, per, used[k], charged[k])
		var actions []string
		ch, ok, err := billing.NextCharge(caps.Billable(used[k]), charged[k], c.plan.UnitPriceMicros)
		if err != nil {
			return clientPlan{}, fmt.Errorf("client %s period %s: %w", c.id, per, err)
		}
		if ok {
			p.charges = append(p.charges, pendingCharge{period: per, Charge: ch})
			l.NewUnits, l.AmountCents = ch.Units, ch.AmountCents
			actions = append(actions, "bill")
		}
		if i == len(open)-1 { // the current period decides the status
			p.cap = billing.HardCapAction(c.status, caps, used[k], per, asOf)
			if p.cap != billing.CapNone {
				actions = append(actions, string(p.cap))
			}
			if c.status.Billing == billing.StatusActive && caps.OverHard(used[k]) && billing.HardCapExempt(c.status.HardCapExemptUntil, asOf) {
				l.Note = fmt.Sprintf("beyond the hard cap, exempt until %s: billed, not disabled",
					c.status.HardCapExemptUntil.UTC().Format(time.RFC3339))
			}
		}
		l.Action = "none"
		if len(actions) > 0 {
			l.Action = strings.Join(actions, "+")
		}
		p.lines = append(p.lines, l)
	}
	return p, nil
}

func line(c client, per billing.Period, used, charged int64) ClientLine {
	caps := billing.CapsOf(c.plan)
	return ClientLine{
		ClientID: c.id, Email: c.email, Plan: c.plan.Code, Period: per.String(), Status: c.status.Billing,
		Used: used, Limit: caps.Limit, Soft: caps.Soft, Hard: caps.Hard, ChargedBefore: charged,
		Currency: c.plan.Currency, Action: "none",
	}
}
