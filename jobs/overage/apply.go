package overage

import (
	"context"
	"fmt"
	"time"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// unitTimeout bounds one client's transaction. A signal or --timeout does
// not cut a transaction short: the run stops between clients.
const unitTimeout = time.Minute

// apply commits one client's charges and status change in one transaction.
// It re-reads the client's status and charges under a row lock and plans
// again from them, so whatever ran since the snapshot is never billed twice.
func apply(ctx context.Context, deps Deps, snap *snapshot, planned clientPlan, open []billing.Period, closed *billing.Period, asOf time.Time) ([]ClientLine, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unitTimeout)
	defer cancel()
	c := planned.client
	tx, err := deps.DB.Begin(ctx)
	if err != nil {
		return planned.lines, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	var disabledAt, exemptUntil *time.Time
	err = tx.QueryRow(ctx, `
		SELECT billing_status, coalesce(disabled_reason, ''), disabled_at, hard_cap_exempt_until FROM clients WHERE id = $1 FOR UPDATE`,
		c.id).Scan(&c.status.Billing, &c.status.DisabledReason, &disabledAt, &exemptUntil)
	if err != nil {
		return planned.lines, fmt.Errorf("lock client: %w", err)
	}
	c.status.DisabledAt, c.status.HardCapExemptUntil = time.Time{}, time.Time{}
	if disabledAt != nil {
		c.status.DisabledAt = *disabledAt
	}
	if exemptUntil != nil {
		c.status.HardCapExemptUntil = *exemptUntil
	}
	starts := make([]time.Time, len(open))
	for i, p := range open {
		starts[i] = p.Start
	}
	charged := map[periodKey]int64{}
	if err := sumCharged(ctx, tx, charged, starts, &c.id); err != nil {
		return planned.lines, err
	}
	// A closed period is only reported; keep the snapshot's view of it.
	if closed != nil {
		charged[periodKey{c.id, closed.Start}] = snap.charged[periodKey{c.id, closed.Start}]
	}
	p, err := planClient(c, snap.used, charged, open, closed, asOf)
	if err != nil {
		return planned.lines, err
	}

	if err := db.NameWriter(ctx, tx, Name, deps.RunID.String()); err != nil {
		return p.lines, err
	}
	for _, ch := range p.charges {
		_, err := tx.Exec(ctx, `
			INSERT INTO overage_charges
			    (client_id, period_start, units_from, units, amount_cents, currency, unit_price_micros, idempotency_key, job_run_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.id, ch.period.Start, ch.UnitsFrom, ch.Units, ch.AmountCents, c.plan.Currency, c.plan.UnitPriceMicros,
			IdempotencyKey(c.id.String(), ch.period, ch.UnitsFrom), deps.RunID)
		if err != nil {
			return p.lines, fmt.Errorf("record charge for %s: %w", ch.period, err)
		}
	}
	switch p.cap {
	case billing.CapDisable:
		_, err = tx.Exec(ctx, `
			UPDATE clients SET billing_status = 'disabled', disabled_reason = 'hard_cap', disabled_at = $2
			WHERE id = $1`, c.id, asOf)
	case billing.CapReactivate:
		_, err = tx.Exec(ctx, `
			UPDATE clients SET billing_status = 'active', disabled_reason = NULL, disabled_at = NULL
			WHERE id = $1`, c.id)
	}
	if err != nil {
		return p.lines, fmt.Errorf("%s client: %w", p.cap, err)
	}
	if err := runner.HoldsLock(ctx, deps.Lock, tx); err != nil {
		return p.lines, err
	}
	if err := tx.Commit(ctx); err != nil {
		return p.lines, fmt.Errorf("commit: %w", err)
	}
	deps.Log.Info().Str("client_id", c.id.String()).Int("charges", len(p.charges)).Str("status_action", string(p.cap)).Msg("client committed")
	return p.lines, nil
}

// IdempotencyKey names a charge by where it starts in the client's chain of
// charges for the period: a retry of the same charge, by this run or any
// later one, sends Stripe the same key.
func IdempotencyKey(clientID string, period billing.Period, unitsFrom int64) string {
	return fmt.Sprintf("cortexctl-overage-%s-%s-%d", clientID, period, unitsFrom)
}
