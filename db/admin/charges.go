package admin

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Charge is one row of the overage_charges ledger, with its client's e-mail.
type Charge struct {
	ID                  uuid.UUID  `json:"charge_id"`
	ClientID            uuid.UUID  `json:"client_id"`
	Email               string     `json:"email"`
	Period              string     `json:"period"`     // YYYY-MM
	UnitsFrom           int64      `json:"units_from"` // the charge covers units (units_from, units_from + units]
	Units               int64      `json:"units"`
	AmountCents         int64      `json:"amount_cents"`
	Currency            string     `json:"currency"`
	Status              string     `json:"status"` // pending or posted
	StripeInvoiceItemID *string    `json:"stripe_invoice_item_id"`
	IdempotencyKey      string     `json:"idempotency_key"`
	PushAttempts        int        `json:"push_attempts"`
	LastPushError       *string    `json:"last_push_error"`
	JobRunID            *uuid.UUID `json:"job_run_id"`
	CreatedAt           time.Time  `json:"created_at"`
	PostedAt            *time.Time `json:"posted_at"`
}

// Limits of ChargeFilter.Limit.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// ChargeFilter selects charges; zero fields select every charge.
type ChargeFilter struct {
	Pending bool            // only charges Stripe has not confirmed yet
	Client  string          // a client's id or e-mail; "" for every client
	Period  *billing.Period // only charges of this period
	Limit   int             // at most this many, newest first; 0 is DefaultLimit
}

const chargesSQL = `
	SELECT o.id, o.client_id, c.email, o.period_start, o.units_from, o.units, o.amount_cents, o.currency, o.status,
	       o.stripe_invoice_item_id, o.idempotency_key, o.push_attempts, o.last_push_error, o.job_run_id,
	       o.created_at, o.posted_at
	FROM overage_charges o JOIN clients c ON c.id = o.client_id
	WHERE (NOT $1 OR o.status = 'pending')
	  AND ($2::uuid IS NULL OR o.client_id = $2)
	  AND ($3::date IS NULL OR o.period_start = $3)
	ORDER BY o.created_at DESC, o.client_id, o.period_start, o.units_from DESC
	LIMIT $4`

// ListCharges returns the charges that pass the filter, newest first.
func ListCharges(ctx context.Context, d db.DB, f ChargeFilter) ([]Charge, error) {
	if f.Limit < 0 || f.Limit > MaxLimit {
		return nil, exitcode.Errorf(exitcode.Usage, "limit %d is out of range: use 1 to %d", f.Limit, MaxLimit)
	}
	return readOnly(ctx, d, func(tx pgx.Tx, _ time.Time) ([]Charge, error) {
		id := uuid.Nil
		if f.Client != "" {
			var err error
			if id, err = findClient(ctx, tx, f.Client); err != nil {
				return nil, err
			}
		}
		return charges(ctx, tx, f, id, false)
	})
}

// charges reads the ledger; oldestFirst orders it the other way.
func charges(ctx context.Context, q db.Querier, f ChargeFilter, client uuid.UUID, oldestFirst bool) ([]Charge, error) {
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	var period *time.Time
	if f.Period != nil {
		period = &f.Period.Start
	}
	rows, err := q.Query(ctx, chargesSQL, f.Pending, db.Nullable(client), period, limit)
	if err != nil {
		return nil, fmt.Errorf("read charges: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Charge, error) {
		var (
			c     Charge
			start time.Time
		)
		err := row.Scan(&c.ID, &c.ClientID, &c.Email, &start, &c.UnitsFrom, &c.Units, &c.AmountCents, &c.Currency, &c.Status,
			&c.StripeInvoiceItemID, &c.IdempotencyKey, &c.PushAttempts, &c.LastPushError, &c.JobRunID,
			&c.CreatedAt, &c.PostedAt)
		c.Period = billing.PeriodOf(start).String()
		c.CreatedAt, c.PostedAt = c.CreatedAt.UTC(), utc(c.PostedAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read charges: %w", err)
	}
	if oldestFirst {
		slices.Reverse(out)
	}
	return out, nil
}
