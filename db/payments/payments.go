// Package payments is the store of what Stripe tells cortexctl about its
// clients' payments: Apply takes one webhook event, once, and in one
// transaction records it (stripe_events), writes the payment it carries
// (payments) and moves the client's billing status as
// billing.StripeDecision says, leaving the status event the trigger writes
// named after the event. It knows nothing of stripe-go: the API converts
// stripeclient's event into this package's Event.
package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// Event is one Stripe webhook event, as Apply needs it.
type Event struct {
	ID          string    // evt_…: the status event's actor, and what makes a redelivery a duplicate
	Type        string    // e.g. invoice.payment_failed: the status event's note
	Created     time.Time // when Stripe created it: the order events apply in
	CustomerID  string    // the Stripe customer (clients.stripe_customer_id); "" if none
	InvoiceID   string    // the invoice of a payment event; "" if none
	AmountCents int64     // the payment's amount (amount_due of a failure, amount_paid of a payment)
}

// Outcome is what Apply did with an event; all but Duplicate are stored in
// stripe_events.outcome.
type Outcome string

const (
	// Applied: the client's status changed.
	Applied Outcome = "applied"
	// Recorded: the event was taken in (its payment row written, if it
	// carries one) and the client's status needed no change.
	Recorded Outcome = "recorded"
	// Stale: older than the newest event applied to the client; its payment
	// row is written, the status is not touched.
	Stale Outcome = "stale"
	// Ignored: a type the billing rules do not act on.
	Ignored Outcome = "ignored"
	// UnknownCustomer: no client has the event's Stripe customer.
	UnknownCustomer Outcome = "unknown_customer"
	// Duplicate: the event was taken in before (a redelivery, or a
	// concurrent delivery that got there first); nothing was written now.
	Duplicate Outcome = "duplicate"
)

// Result is what Apply did.
type Result struct {
	Outcome  Outcome
	ClientID uuid.UUID // the event's client; uuid.Nil when none was looked up or found
	From, To string    // the client's status before and after; equal unless Applied
}

// Apply takes one event in one transaction:
//
//  1. it inserts the event's stripe_events row, ON CONFLICT DO NOTHING: an
//     event stored before is a Duplicate and nothing else is written; a
//     concurrent delivery of the same event waits on the row until the first
//     commits, then finds it;
//  2. a type billing.StripeKindOf does not know is Ignored;
//  3. it locks the client whose stripe_customer_id is the event's customer
//     (FOR UPDATE; none: UnknownCustomer) and decides with
//     billing.StripeDecision;
//  4. a payment event writes its payments row (failed or succeeded), stale
//     or not;
//  5. unless stale, it updates the client: the status, disabled reason and
//     grace clock decided, and stripe_event_at. A status change is named
//     for the trigger's client_status_events row: actor the event's id, note
//     its type, reason (cortexctl.reason) subscription_cancelled for a
//     cancel;
//  6. it stores the outcome and the client on the stripe_events row.
//
// An error leaves nothing written; Stripe delivers the event again.
func Apply(ctx context.Context, d db.DB, e Event) (Result, error) {
	switch {
	case e.ID == "":
		return Result{}, errors.New("apply Stripe event: no event id")
	case e.Type == "":
		return Result{}, fmt.Errorf("apply Stripe event %s: no type", e.ID)
	case e.Created.IsZero():
		return Result{}, fmt.Errorf("apply Stripe event %s: no created time", e.ID)
	}
	tx, err := d.Begin(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("apply Stripe event %s: begin: %w", e.ID, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	r, err := apply(ctx, tx, e)
	if err != nil {
		return Result{}, fmt.Errorf("apply Stripe event %s (%s): %w", e.ID, e.Type, err)
	}
	if r.Outcome == Duplicate {
		return r, nil // nothing was written: the rollback ends the transaction
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("apply Stripe event %s: commit: %w", e.ID, err)
	}
	return r, nil
}

func apply(ctx context.Context, tx pgx.Tx, e Event) (Result, error) {
	kind, known := billing.StripeKindOf(e.Type)
	first := Recorded // replaced below by what the event does
	if !known {
		first = Ignored
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO stripe_events (id, type, created_at, outcome) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`, e.ID, e.Type, e.Created, first)
	if err != nil {
		return Result{}, fmt.Errorf("record event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return Result{Outcome: Duplicate}, nil
	}
	if !known {
		return Result{Outcome: Ignored}, nil
	}

	id, state, found, err := lockClient(ctx, tx, e.CustomerID)
	if err != nil {
		return Result{}, err
	}
	if !found {
		return Result{Outcome: UnknownCustomer}, setOutcome(ctx, tx, e.ID, UnknownCustomer, nil)
	}
	tr := billing.StripeDecision(state, kind, e.Created)
	r := Result{Outcome: Recorded, ClientID: id, From: state.Billing, To: tr.To}
	switch {
	case tr.Stale:
		r.Outcome = Stale
	case tr.Changed:
		r.Outcome = Applied
	}

	if status := kind.Payment(); status != "" {
		_, err := tx.Exec(ctx, `
			INSERT INTO payments (client_id, status, amount_cents, stripe_invoice_id, occurred_at, stripe_event_id)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, status, e.AmountCents, db.Nullable(e.InvoiceID), e.Created, e.ID)
		if err != nil {
			return Result{}, fmt.Errorf("record payment: %w", err)
		}
	}
	if !tr.Stale {
		if tr.Changed {
			if err := nameWriter(ctx, tx, e, tr.EventReason); err != nil {
				return Result{}, err
			}
		}
		_, err := tx.Exec(ctx, `
			UPDATE clients SET billing_status = $2, disabled_reason = $3, grace_period_started_at = $4, stripe_event_at = $5
			WHERE id = $1`,
			id, tr.To, db.Nullable(tr.DisabledReason), db.Nullable(tr.GraceStartedAt), db.Nullable(tr.LastEventAt))
		if err != nil {
			return Result{}, fmt.Errorf("update client %s: %w", id, err)
		}
	}
	return r, setOutcome(ctx, tx, e.ID, r.Outcome, &id)
}

// lockClient finds the client with the Stripe customer id and locks its row
// for the transaction; found is false when there is none.
func lockClient(ctx context.Context, tx pgx.Tx, customer string) (id uuid.UUID, s billing.StripeState, found bool, err error) {
	if customer == "" {
		return uuid.Nil, s, false, nil
	}
	var graceStarted, lastEvent *time.Time
	err = tx.QueryRow(ctx, `
		SELECT id, billing_status, coalesce(disabled_reason, ''), grace_period_started_at, stripe_event_at
		FROM clients WHERE stripe_customer_id = $1 FOR UPDATE`, customer).
		Scan(&id, &s.Billing, &s.DisabledReason, &graceStarted, &lastEvent)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, s, false, nil
	}
	if err != nil {
		return uuid.Nil, s, false, fmt.Errorf("lock the client of customer %s: %w", customer, err)
	}
	if graceStarted != nil {
		s.GraceStartedAt = graceStarted.UTC()
	}
	if lastEvent != nil {
		s.LastEventAt = lastEvent.UTC()
	}
	return id, s, true, nil
}

// nameWriter names the event as the writer of the status change, for the
// trigger's client_status_events row: actor the event id, note its type,
// and the reason when the client has no disabled_reason to give it.
func nameWriter(ctx context.Context, tx pgx.Tx, e Event, reason string) error {
	if err := db.NameWriter(ctx, tx, e.ID, ""); err != nil {
		return err
	}
	if err := db.WriteNote(ctx, tx, e.Type); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('cortexctl.reason', $1, true)`, reason); err != nil {
		return fmt.Errorf("record the reason: %w", err)
	}
	return nil
}

func setOutcome(ctx context.Context, tx pgx.Tx, eventID string, o Outcome, client *uuid.UUID) error {
	if _, err := tx.Exec(ctx, `UPDATE stripe_events SET outcome = $2, client_id = $3 WHERE id = $1`, eventID, o, client); err != nil {
		return fmt.Errorf("record the outcome: %w", err)
	}
	return nil
}
