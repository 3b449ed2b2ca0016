package billing

import "time"

// StripeKind is a Stripe event type the billing rules act on.
type StripeKind string

// The Stripe events that change a client's billing status. Any other type
// is recorded and ignored.
const (
	StripePaymentFailed       StripeKind = "invoice.payment_failed"
	StripeInvoicePaid         StripeKind = "invoice.paid"
	StripeSubscriptionDeleted StripeKind = "customer.subscription.deleted"
)

// StripeKinds are the kinds the rules act on.
var StripeKinds = []StripeKind{StripePaymentFailed, StripeInvoicePaid, StripeSubscriptionDeleted}

// StripeKindOf returns the kind of a Stripe event type; ok is false for a
// type the rules do not act on.
func StripeKindOf(eventType string) (k StripeKind, ok bool) {
	switch k := StripeKind(eventType); k {
	case StripePaymentFailed, StripeInvoicePaid, StripeSubscriptionDeleted:
		return k, true
	}
	return "", false
}

// Payment statuses, as stored in payments.
const (
	PaymentSucceeded = "succeeded"
	PaymentFailed    = "failed"
)

// Payment is the payments row status an event of kind k records, or "" when
// it records none (a deleted subscription).
func (k StripeKind) Payment() string {
	switch k {
	case StripePaymentFailed:
		return PaymentFailed
	case StripeInvoicePaid:
		return PaymentSucceeded
	}
	return ""
}

// StripeState is a client as the Stripe rule reads it, under its row lock.
type StripeState struct {
	Status
	GraceStartedAt time.Time // clients.grace_period_started_at; zero unless in grace
	// LastEventAt is clients.stripe_event_at: the creation time of the newest
	// Stripe event applied to the client; zero if none.
	LastEventAt time.Time
}

// StripeTransition is what one Stripe event does to a client.
type StripeTransition struct {
	// Stale: the event is older than what the client's status already
	// reflects. It is recorded (its payment too) but changes nothing, not
	// even LastEventAt.
	Stale bool
	// LastEventAt is the client's LastEventAt after the event: the later of
	// the one before and the event's time (unchanged when stale).
	LastEventAt time.Time
	// Changed: To differs from the status before.
	Changed bool
	// To, DisabledReason and GraceStartedAt are the client's status,
	// clients.disabled_reason ("" for NULL) and grace clock (zero for NULL)
	// after the event; unchanged from before when the status does not change.
	To             string
	DisabledReason string
	GraceStartedAt time.Time
	// EventReason is the reason the status event carries when the client
	// has no disabled_reason to give it (a cancel: subscription_cancelled).
	EventReason string
}

// StripeDecision decides what a Stripe event of kind created at at does to a
// client in state s. Events apply in the order Stripe created them, not the
// order they arrive in: a payment event created before s.LastEventAt is
// stale and moves nothing back; one created at or after it applies and
// becomes the new LastEventAt.
//
// A deleted subscription is never stale: cancelled is the end, no later
// payment event moves a client out of it, so a cancel applies whatever
// arrived before it (an invoice.paid created after it and delivered first
// must not keep a cancelled client active). It never moves LastEventAt back.
//
//   - invoice.payment_failed: an active client enters grace, its clock
//     starting at at. A client already in grace keeps its clock: Stripe's
//     retries of one invoice never reset it.
//   - invoice.paid: a client in grace, or disabled because its grace ran out
//     (grace_expired), is active again. A payment made before the client's
//     grace began is stale: it cannot end a grace it did not see, as the
//     grace job counts only payments since grace began. A client disabled for
//     its hard cap or by an operator stays disabled: paying does not lift
//     either.
//   - customer.subscription.deleted: any client not yet cancelled is
//     cancelled, with no disabled reason and no grace clock; its status event
//     says subscription_cancelled.
//
// Any other change is none: the event is recorded, the status kept.
func StripeDecision(s StripeState, kind StripeKind, at time.Time) StripeTransition {
	t := StripeTransition{To: s.Billing, DisabledReason: s.DisabledReason, GraceStartedAt: s.GraceStartedAt, LastEventAt: s.LastEventAt}
	if at.Before(s.LastEventAt) && kind != StripeSubscriptionDeleted {
		t.Stale = true
		return t
	}
	if at.After(s.LastEventAt) {
		t.LastEventAt = at
	}
	switch kind {
	case StripePaymentFailed:
		if s.Billing == StatusActive {
			t.To, t.GraceStartedAt = StatusGrace, at
		}
	case StripeInvoicePaid:
		switch {
		case s.Billing == StatusGrace && at.Before(s.GraceStartedAt):
			t.Stale, t.LastEventAt = true, s.LastEventAt
			return t
		case s.Billing == StatusGrace, s.Billing == StatusDisabled && s.DisabledReason == ReasonGraceExpired:
			t.To, t.DisabledReason, t.GraceStartedAt = StatusActive, "", time.Time{}
		}
	case StripeSubscriptionDeleted:
		if s.Billing != StatusCancelled {
			t.To, t.DisabledReason, t.GraceStartedAt = StatusCancelled, "", time.Time{}
			t.EventReason = ReasonSubscriptionCancelled
		}
	}
	t.Changed = t.To != s.Billing
	return t
}
