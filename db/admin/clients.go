package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// ClientSummary is one client: plan, status and its current-period usage
// against its caps, as of the database's clock.
type ClientSummary struct {
	ID             uuid.UUID `json:"client_id"`
	Email          string    `json:"email"`
	Company        string    `json:"company_name"`
	Plan           string    `json:"plan"`
	Status         string    `json:"status"`
	DisabledReason *string   `json:"disabled_reason"` // null unless disabled
	// StatusSince is when the client entered its status: disabled_at,
	// grace_period_started_at, else the last status event into it, else
	// when the client was created.
	StatusSince time.Time `json:"status_since"`
	// HardCapExemptUntil is the end of the operator's exemption from the
	// hard-cap disable, null if none; HardCapExempt is whether it holds at AsOf.
	HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
	HardCapExempt      bool       `json:"hard_cap_exempt"`
	StripeCustomerID   *string    `json:"stripe_customer_id"`
	AsOf               time.Time  `json:"as_of"`  // the database's clock the usage is summed up to
	Period             string     `json:"period"` // the current billing period, YYYY-MM
	Used               int64      `json:"used"`   // query units in the period before AsOf
	Limit              int64      `json:"limit"`
	Soft               int64      `json:"soft"`
	Hard               int64      `json:"hard"`
	OverSoftCap        bool       `json:"over_soft_cap"`
	OverHardCap        bool       `json:"over_hard_cap"`

	currency        string
	unitPriceMicros int64
	createdAt       time.Time
	disabledAt      *time.Time
	graceStartedAt  *time.Time
}

// ClientFilter selects clients; zero fields select every client.
type ClientFilter struct {
	Status      string // a billing status
	Plan        string // a plan code; one that does not exist is refused
	OverSoftCap bool   // only clients beyond their soft cap this period
}

// summariesSQL reads clients with their usage in [$1, $2) and the instant
// they entered their status.
const summariesSQL = `
	SELECT c.id, c.email, c.company_name, c.plan_code, c.billing_status, c.disabled_reason,
	       c.disabled_at, c.grace_period_started_at, c.hard_cap_exempt_until, c.stripe_customer_id, c.created_at,
	       e.occurred_at,
	       p.monthly_query_limit, p.soft_cap_percent, p.hard_cap_percent, p.overage_unit_price_micros, p.currency,
	       coalesce(u.used, 0)
	FROM clients c
	JOIN plans p ON p.code = c.plan_code
	LEFT JOIN (
	    SELECT client_id, sum(quantity)::bigint AS used
	    FROM usage_logs
	    WHERE operation_type = 'query' AND occurred_at >= $1 AND occurred_at < $2
	      AND ($5::uuid IS NULL OR client_id = $5)
	    GROUP BY client_id
	) u ON u.client_id = c.id
	LEFT JOIN LATERAL (
	    SELECT occurred_at FROM client_status_events
	    WHERE client_id = c.id AND to_status = c.billing_status
	    ORDER BY id DESC LIMIT 1
	) e ON true
	WHERE ($3::text IS NULL OR c.billing_status = $3)
	  AND ($4::text IS NULL OR c.plan_code = $4)
	  AND ($5::uuid IS NULL OR c.id = $5)
	ORDER BY c.email`

func summaries(ctx context.Context, q db.Querier, now time.Time, status, plan string, id uuid.UUID) ([]ClientSummary, error) {
	period := billing.PeriodOf(now)
	rows, err := q.Query(ctx, summariesSQL, period.Start, now, db.Nullable(status), db.Nullable(plan), db.Nullable(id))
	if err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ClientSummary, error) {
		var (
			s         ClientSummary
			lastEvent *time.Time
			plan      billing.Plan
		)
		err := row.Scan(&s.ID, &s.Email, &s.Company, &s.Plan, &s.Status, &s.DisabledReason,
			&s.disabledAt, &s.graceStartedAt, &s.HardCapExemptUntil, &s.StripeCustomerID, &s.createdAt,
			&lastEvent,
			&plan.MonthlyLimit, &plan.SoftCapPercent, &plan.HardCapPercent, &plan.UnitPriceMicros, &plan.Currency,
			&s.Used)
		if err != nil {
			return s, err
		}
		s.disabledAt, s.graceStartedAt, s.HardCapExemptUntil = utc(s.disabledAt), utc(s.graceStartedAt), utc(s.HardCapExemptUntil)
		s.createdAt = s.createdAt.UTC()
		caps := billing.CapsOf(plan)
		s.AsOf, s.Period = now, period.String()
		s.Limit, s.Soft, s.Hard = caps.Limit, caps.Soft, caps.Hard
		s.OverSoftCap, s.OverHardCap = caps.OverSoft(s.Used), caps.OverHard(s.Used)
		if s.HardCapExemptUntil != nil {
			s.HardCapExempt = billing.HardCapExempt(*s.HardCapExemptUntil, now)
		}
		s.currency, s.unitPriceMicros = plan.Currency, plan.UnitPriceMicros
		switch {
		case s.Status == billing.StatusDisabled && s.disabledAt != nil:
			s.StatusSince = *s.disabledAt
		case s.Status == billing.StatusGrace && s.graceStartedAt != nil:
			s.StatusSince = *s.graceStartedAt
		case lastEvent != nil:
			s.StatusSince = lastEvent.UTC()
		default:
			s.StatusSince = s.createdAt
		}
		return s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	return out, nil
}

// ListClients returns the clients that pass the filter, by e-mail, with
// their usage this period up to the database's now.
func ListClients(ctx context.Context, d db.DB, f ClientFilter) ([]ClientSummary, error) {
	if f.Status != "" && !slices.Contains(billing.Statuses, f.Status) {
		return nil, exitcode.Errorf(exitcode.Usage, "unknown status %q: use one of %s", f.Status, strings.Join(billing.Statuses, ", "))
	}
	return readOnly(ctx, d, func(tx pgx.Tx, now time.Time) ([]ClientSummary, error) {
		if f.Plan != "" {
			if err := checkPlan(ctx, tx, f.Plan); err != nil {
				return nil, err
			}
		}
		all, err := summaries(ctx, tx, now, f.Status, f.Plan, uuid.Nil)
		if err != nil {
			return nil, err
		}
		if !f.OverSoftCap {
			return all, nil
		}
		return slices.DeleteFunc(all, func(s ClientSummary) bool { return !s.OverSoftCap }), nil
	})
}

// checkPlan refuses a plan code that names no plan, listing those that exist.
func checkPlan(ctx context.Context, q db.Querier, code string) error {
	rows, err := q.Query(ctx, `SELECT code FROM plans ORDER BY monthly_query_limit, code`)
	if err != nil {
		return fmt.Errorf("read plans: %w", err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read plans: %w", err)
	}
	if !slices.Contains(codes, code) {
		return exitcode.Errorf(exitcode.Usage, "unknown plan %q: the plans are %s", code, strings.Join(codes, ", "))
	}
	return nil
}

// ClientDetail is everything `clients show` says of one client.
type ClientDetail struct {
	ClientSummary
	CreatedAt            time.Time  `json:"created_at"`
	DisabledAt           *time.Time `json:"disabled_at"`
	GracePeriodStartedAt *time.Time `json:"grace_period_started_at"`
	Currency             string     `json:"currency"`
	UnitPriceMicros      int64      `json:"unit_price_micros"`
	// Charged sums the charges of the current period, then of the previous
	// one (one line per period and currency; a period with no charge is a
	// line of zeros in the plan's currency).
	Charged        []PeriodCharges `json:"charged"`
	PendingCharges []Charge        `json:"pending_charges"` // every pending charge of the client, oldest first
	StatusEvents   []StatusEvent   `json:"status_events"`   // the newest first, at most MaxEvents
	// APIKeys are the client's API keys without their secrets: the live
	// ones first, then the revoked, each newest first, at most MaxKeys.
	APIKeys []Key `json:"api_keys"`
}

// MaxEvents is how many status events ShowClient returns.
const MaxEvents = 10

// PeriodCharges sums a client's charges of one period.
type PeriodCharges struct {
	Period      string `json:"period"`
	Currency    string `json:"currency"`
	Units       int64  `json:"units"`
	AmountCents int64  `json:"amount_cents"`
	Charges     int    `json:"charges"`
	Pending     int    `json:"pending"` // of Charges, those Stripe has not confirmed yet
}

// StatusEvent is one row of client_status_events.
type StatusEvent struct {
	ID                 int64      `json:"event_id"`
	ClientID           uuid.UUID  `json:"client_id"`
	From               string     `json:"from_status"`
	To                 string     `json:"to_status"`
	Reason             *string    `json:"reason"`
	Actor              string     `json:"actor"`
	Note               *string    `json:"note"`
	HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
	JobRunID           *uuid.UUID `json:"job_run_id"`
	OccurredAt         time.Time  `json:"occurred_at"`
}

const eventsSQL = `
	SELECT id, client_id, from_status, to_status, reason, actor, note, hard_cap_exempt_until, job_run_id, occurred_at
	FROM client_status_events WHERE client_id = $1
	ORDER BY id DESC LIMIT $2`

func statusEvents(ctx context.Context, q db.Querier, id uuid.UUID, limit int) ([]StatusEvent, error) {
	rows, err := q.Query(ctx, eventsSQL, id, limit)
	if err != nil {
		return nil, fmt.Errorf("read status events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StatusEvent, error) {
		var e StatusEvent
		err := row.Scan(&e.ID, &e.ClientID, &e.From, &e.To, &e.Reason, &e.Actor, &e.Note, &e.HardCapExemptUntil, &e.JobRunID, &e.OccurredAt)
		e.OccurredAt, e.HardCapExemptUntil = e.OccurredAt.UTC(), utc(e.HardCapExemptUntil)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read status events: %w", err)
	}
	return out, nil
}

// ShowClient returns one client, named by its id or e-mail, in full.
func ShowClient(ctx context.Context, d db.DB, ref string) (ClientDetail, error) {
	return readOnly(ctx, d, func(tx pgx.Tx, now time.Time) (ClientDetail, error) {
		id, err := findClient(ctx, tx, ref)
		if err != nil {
			return ClientDetail{}, err
		}
		return detail(ctx, tx, id, now)
	})
}

// detail reads one client in full, as of now.
func detail(ctx context.Context, q db.Querier, id uuid.UUID, now time.Time) (ClientDetail, error) {
	sums, err := summaries(ctx, q, now, "", "", id)
	if err != nil {
		return ClientDetail{}, err
	}
	if len(sums) != 1 {
		return ClientDetail{}, fmt.Errorf("read client %s: found %d rows", id, len(sums))
	}
	s := sums[0]
	det := ClientDetail{ClientSummary: s, CreatedAt: s.createdAt, DisabledAt: s.disabledAt,
		GracePeriodStartedAt: s.graceStartedAt, Currency: s.currency, UnitPriceMicros: s.unitPriceMicros}
	cur := billing.PeriodOf(now)
	if det.Charged, err = periodCharges(ctx, q, id, s.currency, cur, cur.Prev()); err != nil {
		return ClientDetail{}, err
	}
	if det.PendingCharges, err = charges(ctx, q, ChargeFilter{Pending: true, Limit: MaxLimit}, id, true); err != nil {
		return ClientDetail{}, err
	}
	if det.StatusEvents, err = statusEvents(ctx, q, id, MaxEvents); err != nil {
		return ClientDetail{}, err
	}
	if det.APIKeys, err = keys(ctx, q, id, MaxKeys); err != nil {
		return ClientDetail{}, err
	}
	return det, nil
}

// periodCharges sums a client's charges of each period, in that order.
func periodCharges(ctx context.Context, q db.Querier, id uuid.UUID, planCurrency string, periods ...billing.Period) ([]PeriodCharges, error) {
	starts := make([]time.Time, len(periods))
	for i, p := range periods {
		starts[i] = p.Start
	}
	rows, err := q.Query(ctx, `
		SELECT period_start, currency, sum(units)::bigint, sum(amount_cents)::bigint, count(*)::int,
		       (count(*) FILTER (WHERE status = 'pending'))::int
		FROM overage_charges
		WHERE client_id = $1 AND period_start = ANY($2)
		GROUP BY period_start, currency
		ORDER BY currency`, id, starts)
	if err != nil {
		return nil, fmt.Errorf("sum charges: %w", err)
	}
	type sum struct {
		start time.Time
		PeriodCharges
	}
	sums, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (sum, error) {
		var s sum
		err := row.Scan(&s.start, &s.Currency, &s.Units, &s.AmountCents, &s.Charges, &s.Pending)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("sum charges: %w", err)
	}
	var out []PeriodCharges
	for _, p := range periods {
		n := len(out)
		for _, s := range sums {
			if s.start.Equal(p.Start) {
				s.Period = p.String()
				out = append(out, s.PeriodCharges)
			}
		}
		if len(out) == n {
			out = append(out, PeriodCharges{Period: p.String(), Currency: planCurrency})
		}
	}
	return out, nil
}

// ClientUsage is a client's current period as the client itself sees it
// (GET /v1/usage): its summary and what its overage was charged so far.
type ClientUsage struct {
	ClientSummary
	Currency string        `json:"currency"`
	Charged  PeriodCharges `json:"charged"`
}

// Usage returns the client's current period, by the database's clock. A
// client id that names no client is an exitcode.Usage error.
func Usage(ctx context.Context, d db.DB, id uuid.UUID) (ClientUsage, error) {
	return readOnly(ctx, d, func(tx pgx.Tx, now time.Time) (ClientUsage, error) {
		sums, err := summaries(ctx, tx, now, "", "", id)
		if err != nil {
			return ClientUsage{}, err
		}
		if len(sums) != 1 {
			return ClientUsage{}, unknownClient("no client has the id %s", id)
		}
		u := ClientUsage{ClientSummary: sums[0], Currency: sums[0].currency}
		charged, err := periodCharges(ctx, tx, id, u.Currency, billing.PeriodOf(now))
		if err != nil {
			return ClientUsage{}, err
		}
		// One line per currency; the plan's comes first when the plan
		// changed currency mid-period (which plans do not do).
		for _, c := range charged {
			if c.Currency == u.Currency {
				u.Charged = c
			}
		}
		u.Charged.Period, u.Charged.Currency = u.Period, u.Currency
		return u, nil
	})
}
