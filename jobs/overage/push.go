package overage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
)

type pendingRow struct {
	ID             uuid.UUID
	ClientID       uuid.UUID
	PeriodStart    time.Time
	UnitsFrom      int64
	Units          int64
	AmountCents    int64
	Currency       string
	IdempotencyKey string
	CustomerID     *string
	PushAttempts   int
}

const pendingSQL = `
	SELECT o.id, o.client_id, o.period_start, o.units_from, o.units, o.amount_cents, o.currency,
	       o.idempotency_key, c.stripe_customer_id, o.push_attempts
	FROM overage_charges o JOIN clients c ON c.id = o.client_id
	WHERE o.status = 'pending' AND ($1::uuid IS NULL OR o.client_id = $1)
	ORDER BY o.created_at, o.id`

// push sends every pending charge (this run's and earlier runs' leftovers)
// to Stripe. A charge is marked posted only once Stripe returned its id.
// When Stripe is unreachable the rest are left for the next run.
//
// Each attempt is counted in the ledger before Stripe is called. A charge
// with an earlier attempt may already exist at Stripe (the run died before
// hearing back), and Stripe forgets idempotency keys after about a day, so
// such a charge is first looked up by its metadata and only created if
// Stripe has no item for it.
func push(ctx context.Context, deps Deps, clientID uuid.UUID, rep *StripeReport) error {
	rows, err := deps.DB.Query(ctx, pendingSQL, nullable(clientID))
	if err != nil {
		return fmt.Errorf("load pending charges: %w", err)
	}
	pending, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pendingRow])
	if err != nil {
		return fmt.Errorf("load pending charges: %w", err)
	}
	for _, ch := range pending {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		rep.Attempted++
		id, err := pushOne(ctx, deps, ch)
		if err == nil {
			err = markPosted(ctx, deps.DB, ch.ID, id)
			if err == nil {
				rep.Posted++
				continue
			}
			// Stripe has the item; the next push of this charge sends the same key.
			err = fmt.Errorf("stripe accepted invoice item %s but recording it failed (the next run resends the same idempotency key): %w", id, err)
		}
		unavailable := stripeclient.IsUnavailable(err)
		rep.Failed++
		rep.Errors = append(rep.Errors, PushFailure{ChargeID: ch.ID, ClientID: ch.ClientID, Error: err.Error(), Unavailable: unavailable})
		deps.Log.Error().Err(err).Str("client_id", ch.ClientID.String()).Str("charge_id", ch.ID.String()).Msg("charge not pushed; it stays pending")
		recordAttempt(ctx, deps, ch.ID, err)
		if unavailable {
			deps.Log.Warn().Msg("Stripe is unavailable: leaving the remaining charges pending for the next run")
			return nil
		}
	}
	return nil
}

var errNoCustomer = errors.New("client has no stripe_customer_id: set it, and the next run pushes the charge")

func pushOne(ctx context.Context, deps Deps, ch pendingRow) (string, error) {
	if ch.CustomerID == nil || *ch.CustomerID == "" {
		return "", errNoCustomer
	}
	if ch.PushAttempts > 0 {
		id, found, err := deps.Stripe.FindInvoiceItem(ctx, *ch.CustomerID, ch.ID.String())
		if err != nil {
			return "", fmt.Errorf("look up charge from an earlier attempt: %w", err)
		}
		if found {
			deps.Log.Info().Str("charge_id", ch.ID.String()).Str("invoice_item", id).Msg("Stripe already had this charge from an earlier attempt")
			return id, nil
		}
	}
	if err := countAttempt(ctx, deps.DB, ch.ID); err != nil {
		return "", fmt.Errorf("count the attempt before calling Stripe: %w", err)
	}
	period := ch.PeriodStart.Format("2006-01")
	return deps.Stripe.CreateInvoiceItem(ctx, stripeclient.InvoiceItem{
		Customer:    *ch.CustomerID,
		AmountCents: ch.AmountCents,
		Currency:    ch.Currency,
		Description: fmt.Sprintf("CortexLayer overage %s: %d queries beyond the soft cap", period, ch.Units),
		Metadata: map[string]string{
			"client_id":                   ch.ClientID.String(),
			"period":                      period,
			stripeclient.MetadataChargeID: ch.ID.String(),
			"units_from":                  fmt.Sprint(ch.UnitsFrom),
			"units":                       fmt.Sprint(ch.Units),
		},
		IdempotencyKey: ch.IdempotencyKey,
	})
}

func markPosted(ctx context.Context, q db.Querier, id uuid.UUID, itemID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := q.Exec(ctx, `
		UPDATE overage_charges
		SET status = 'posted', stripe_invoice_item_id = $2, posted_at = now(), last_push_error = NULL
		WHERE id = $1 AND status = 'pending'`, id, itemID)
	return err
}

func recordAttempt(ctx context.Context, deps Deps, id uuid.UUID, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := deps.DB.Exec(ctx, `
		UPDATE overage_charges SET last_push_error = $2
		WHERE id = $1 AND status = 'pending'`, id, cause.Error())
	if err != nil {
		deps.Log.Error().Err(err).Str("charge_id", id.String()).Msg("could not record the failed push")
	}
}

// countAttempt commits that a push is about to be attempted.
func countAttempt(ctx context.Context, q db.Querier, id uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE overage_charges SET push_attempts = push_attempts + 1 WHERE id = $1 AND status = 'pending'`, id)
	return err
}

func countPending(ctx context.Context, q db.Querier, clientID uuid.UUID) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM overage_charges WHERE status = 'pending' AND ($1::uuid IS NULL OR client_id = $1)`,
		nullable(clientID)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending charges: %w", err)
	}
	return n, nil
}
