package billing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/billing"
)

func TestStripeKindOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		typ     string
		kind    billing.StripeKind
		ok      bool
		payment string
	}{
		{"invoice.payment_failed", billing.StripePaymentFailed, true, "failed"},
		{"invoice.paid", billing.StripeInvoicePaid, true, "succeeded"},
		{"customer.subscription.deleted", billing.StripeSubscriptionDeleted, true, ""},
		{"invoice.payment_succeeded", "", false, ""}, // invoice.paid covers it (and out-of-band payments)
		{"invoice.created", "", false, ""},
		{"customer.subscription.updated", "", false, ""},
		{"", "", false, ""},
		{"INVOICE.PAID", "", false, ""},
	} {
		k, ok := billing.StripeKindOf(c.typ)
		require.Equal(t, c.ok, ok, c.typ)
		require.Equal(t, c.kind, k, c.typ)
		require.Equal(t, c.payment, k.Payment(), c.typ)
	}
	for _, k := range billing.StripeKinds {
		got, ok := billing.StripeKindOf(string(k))
		require.True(t, ok)
		require.Equal(t, k, got)
	}
}

func TestStripeDecision(t *testing.T) {
	t.Parallel()
	t0 := utc(2026, 10, 7, 2, 0, 0, 0)
	t1 := t0.Add(time.Hour)
	t2 := t0.Add(2 * time.Hour)
	var none time.Time

	state := func(status, reason string, grace, last time.Time) billing.StripeState {
		return billing.StripeState{Status: billing.Status{Billing: status, DisabledReason: reason}, GraceStartedAt: grace, LastEventAt: last}
	}
	const (
		active    = billing.StatusActive
		inGrace   = billing.StatusGrace
		disabled  = billing.StatusDisabled
		cancelled = billing.StatusCancelled
		failed    = billing.StripePaymentFailed
		paid      = billing.StripeInvoicePaid
		deleted   = billing.StripeSubscriptionDeleted
	)
	// The transitions expected: the status kept, or stale, or a change; last
	// is the LastEventAt after.
	kept := func(s billing.StripeState, last time.Time) billing.StripeTransition {
		return billing.StripeTransition{To: s.Billing, DisabledReason: s.DisabledReason, GraceStartedAt: s.GraceStartedAt, LastEventAt: last}
	}
	stale := func(s billing.StripeState) billing.StripeTransition {
		tr := kept(s, s.LastEventAt)
		tr.Stale = true
		return tr
	}
	toGrace := func(at time.Time) billing.StripeTransition {
		return billing.StripeTransition{Changed: true, To: inGrace, GraceStartedAt: at, LastEventAt: at}
	}
	toActive := func(last time.Time) billing.StripeTransition {
		return billing.StripeTransition{Changed: true, To: active, LastEventAt: last}
	}
	toCancelled := func(last time.Time) billing.StripeTransition {
		return billing.StripeTransition{Changed: true, To: cancelled, EventReason: "subscription_cancelled", LastEventAt: last}
	}

	tests := []struct {
		name string
		s    billing.StripeState
		kind billing.StripeKind
		at   time.Time
		want billing.StripeTransition
	}{
		// invoice.payment_failed
		{"failed: active enters grace at the event's time", state(active, "", none, none), failed, t1, toGrace(t1)},
		{"failed: active, newer than the last event", state(active, "", none, t0), failed, t1, toGrace(t1)},
		{"failed: as new as the last event applies", state(active, "", none, t1), failed, t1, toGrace(t1)},
		{"failed: in grace keeps its clock", state(inGrace, "", t0, t0), failed, t2, kept(state(inGrace, "", t0, t0), t2)},
		{"failed: disabled for hard cap stays", state(disabled, "hard_cap", none, none), failed, t1, kept(state(disabled, "hard_cap", none, none), t1)},
		{"failed: disabled for grace stays", state(disabled, "grace_expired", none, t0), failed, t1, kept(state(disabled, "grace_expired", none, t0), t1)},
		{"failed: cancelled stays", state(cancelled, "", none, t0), failed, t1, kept(state(cancelled, "", none, t0), t1)},
		{"failed: older than the last event is stale", state(active, "", none, t2), failed, t1, stale(state(active, "", none, t2))},

		// invoice.paid
		{"paid: in grace is active", state(inGrace, "", t0, t0), paid, t1, toActive(t1)},
		{"paid: in grace, at the very instant grace began", state(inGrace, "", t0, t0), paid, t0, toActive(t0)},
		{"paid: in grace without a Stripe event before", state(inGrace, "", t0, none), paid, t1, toActive(t1)},
		{"paid: before grace began is stale", state(inGrace, "", t1, none), paid, t0, stale(state(inGrace, "", t1, none))},
		{"paid: disabled for grace_expired is active", state(disabled, "grace_expired", none, t0), paid, t1, toActive(t1)},
		{"paid: disabled for hard_cap stays disabled", state(disabled, "hard_cap", none, t0), paid, t1, kept(state(disabled, "hard_cap", none, t0), t1)},
		{"paid: disabled by an admin stays disabled", state(disabled, "admin", none, none), paid, t1, kept(state(disabled, "admin", none, none), t1)},
		{"paid: active stays", state(active, "", none, t0), paid, t1, kept(state(active, "", none, t0), t1)},
		{"paid: cancelled stays", state(cancelled, "", none, t0), paid, t1, kept(state(cancelled, "", none, t0), t1)},
		{"paid: older than the last event is stale", state(inGrace, "", t0, t2), paid, t1, stale(state(inGrace, "", t0, t2))},

		// customer.subscription.deleted
		{"deleted: active is cancelled", state(active, "", none, none), deleted, t1, toCancelled(t1)},
		{"deleted: in grace is cancelled, clock cleared", state(inGrace, "", t0, t0), deleted, t1, toCancelled(t1)},
		{"deleted: disabled is cancelled, reason cleared", state(disabled, "hard_cap", none, none), deleted, t1, toCancelled(t1)},
		{"deleted: cancelled stays", state(cancelled, "", none, t0), deleted, t1, kept(state(cancelled, "", none, t0), t1)},
		{"deleted: older than the last event still cancels, last kept", state(active, "", none, t2), deleted, t1, toCancelled(t2)},
		{"deleted: older, already cancelled", state(cancelled, "", none, t2), deleted, t1, kept(state(cancelled, "", none, t2), t2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := billing.StripeDecision(tc.s, tc.kind, tc.at)
			require.Equal(t, tc.want, got)
		})
	}
}

// Out of order: whatever order two events of one client arrive in, the
// status ends where the newer one puts it.
func TestStripeDecisionOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	t1 := utc(2026, 10, 7, 2, 0, 0, 0)
	t2 := t1.Add(time.Minute)
	apply := func(s billing.StripeState, kind billing.StripeKind, at time.Time) billing.StripeState {
		tr := billing.StripeDecision(s, kind, at)
		if tr.Stale {
			return s
		}
		s.Billing, s.DisabledReason, s.GraceStartedAt, s.LastEventAt = tr.To, tr.DisabledReason, tr.GraceStartedAt, tr.LastEventAt
		return s
	}
	start := billing.StripeState{Status: billing.Status{Billing: billing.StatusActive}}
	type ev struct {
		kind billing.StripeKind
		at   time.Time
	}
	for _, pair := range [][2]ev{
		{{billing.StripePaymentFailed, t1}, {billing.StripeInvoicePaid, t2}},
		{{billing.StripeInvoicePaid, t1}, {billing.StripePaymentFailed, t2}},
		{{billing.StripePaymentFailed, t1}, {billing.StripeSubscriptionDeleted, t2}},
		{{billing.StripeSubscriptionDeleted, t1}, {billing.StripeInvoicePaid, t2}},
		{{billing.StripeSubscriptionDeleted, t1}, {billing.StripePaymentFailed, t2}},
		{{billing.StripeInvoicePaid, t1}, {billing.StripeSubscriptionDeleted, t2}},
	} {
		inOrder := apply(apply(start, pair[0].kind, pair[0].at), pair[1].kind, pair[1].at)
		reversed := apply(apply(start, pair[1].kind, pair[1].at), pair[0].kind, pair[0].at)
		require.Equal(t, inOrder.Billing, reversed.Billing, "%s at t1 then %s at t2", pair[0].kind, pair[1].kind)
		require.True(t, inOrder.LastEventAt.Equal(t2))
		require.True(t, reversed.LastEventAt.Equal(t2))
	}
}

// FuzzStripeDecision applies a sequence of Stripe events, each at a time
// read from the input (so in or out of order), to a client in any start
// state, and checks the invariants the database also holds: a disabled
// client has a reason and nobody else does; the grace clock exists exactly
// in grace and never moves while the client stays there; LastEventAt never
// goes back; a stale event changes nothing; a cancelled client stays
// cancelled; a client disabled for its hard cap or by an operator leaves it
// only by a cancel.
//
// events is read two bytes at a time: the kind (mod 3) and the event's
// minute after t0.
func FuzzStripeDecision(f *testing.F) {
	f.Add(uint8(0), []byte{0, 10, 1, 5, 2, 3})
	f.Add(uint8(1), []byte{1, 1, 0, 0, 0, 2})
	f.Add(uint8(3), []byte{1, 9, 2, 1, 1, 200})
	f.Add(uint8(4), []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, start uint8, events []byte) {
		t0 := utc(2026, 10, 7, 0, 0, 0, 0)
		starts := []billing.StripeState{
			{Status: billing.Status{Billing: billing.StatusActive}},
			{Status: billing.Status{Billing: billing.StatusGrace}, GraceStartedAt: t0.Add(30 * time.Minute)},
			{Status: billing.Status{Billing: billing.StatusDisabled, DisabledReason: billing.ReasonGraceExpired}, LastEventAt: t0},
			{Status: billing.Status{Billing: billing.StatusDisabled, DisabledReason: billing.ReasonHardCap}},
			{Status: billing.Status{Billing: billing.StatusDisabled, DisabledReason: billing.ReasonAdmin}},
			{Status: billing.Status{Billing: billing.StatusCancelled}},
		}
		s := starts[int(start)%len(starts)]
		sticky := s.Billing == billing.StatusDisabled && s.DisabledReason != billing.ReasonGraceExpired
		for i := 0; i+1 < len(events); i += 2 {
			kind := billing.StripeKinds[int(events[i])%len(billing.StripeKinds)]
			at := t0.Add(time.Duration(events[i+1]) * time.Minute)
			tr := billing.StripeDecision(s, kind, at)
			switch {
			case (tr.To == billing.StatusDisabled) != (tr.DisabledReason != ""):
				t.Fatalf("%s at %s on %+v: status %s with disabled reason %q", kind, at, s, tr.To, tr.DisabledReason)
			case (tr.To == billing.StatusGrace) != !tr.GraceStartedAt.IsZero():
				t.Fatalf("%s at %s on %+v: status %s with grace clock %s", kind, at, s, tr.To, tr.GraceStartedAt)
			case s.Billing == billing.StatusGrace && tr.To == billing.StatusGrace && !tr.GraceStartedAt.Equal(s.GraceStartedAt):
				t.Fatalf("%s at %s on %+v: the grace clock moved to %s", kind, at, s, tr.GraceStartedAt)
			case tr.LastEventAt.Before(s.LastEventAt):
				t.Fatalf("%s at %s on %+v: LastEventAt went back to %s", kind, at, s, tr.LastEventAt)
			case tr.Stale && (tr.Changed || tr.To != s.Billing || !tr.LastEventAt.Equal(s.LastEventAt)):
				t.Fatalf("%s at %s on %+v: a stale event changed %+v", kind, at, s, tr)
			case tr.Changed != (tr.To != s.Billing):
				t.Fatalf("%s at %s on %+v: Changed %v but %s → %s", kind, at, s, tr.Changed, s.Billing, tr.To)
			case s.Billing == billing.StatusCancelled && tr.To != billing.StatusCancelled:
				t.Fatalf("%s at %s: a cancelled client became %s", kind, at, tr.To)
			case sticky && tr.To == billing.StatusActive:
				t.Fatalf("%s at %s: a client disabled for %s became active", kind, at, s.DisabledReason)
			}
			s.Billing, s.DisabledReason, s.GraceStartedAt, s.LastEventAt = tr.To, tr.DisabledReason, tr.GraceStartedAt, tr.LastEventAt
		}
	})
}
