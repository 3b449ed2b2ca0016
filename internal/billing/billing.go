// Package billing holds the billing rules of CortexLayer as pure functions:
// billing periods, plan caps, overage money, the grace clock and what a
// Stripe event does to a client (stripe.go). Nothing here touches a
// database or a clock, so every rule is table-tested on its own.
package billing

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Period is a billing period: a calendar month in UTC, half-open
// [Start, End).
type Period struct {
	Start time.Time // first day of the month, 00:00 UTC
	End   time.Time // first day of the next month, 00:00 UTC
}

// PeriodOf returns the billing period that contains t.
func PeriodOf(t time.Time) Period {
	t = t.UTC()
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return Period{Start: start, End: start.AddDate(0, 1, 0)}
}

// Prev returns the period before p.
func (p Period) Prev() Period { return PeriodOf(p.Start.Add(-time.Nanosecond)) }

// Contains reports whether t falls in [Start, End).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// ClosesAt is the instant after which p is never billed again.
func (p Period) ClosesAt(closeWindow time.Duration) time.Time { return p.End.Add(closeWindow) }

// String formats p as YYYY-MM.
func (p Period) String() string { return p.Start.Format("2006-01") }

// PeriodsToSettle returns the periods a run at asOf bills: the current one
// and, while asOf is before its close, the previous one (oldest first). The
// second result is the previous period when it is already closed: it is
// reported, never billed.
func PeriodsToSettle(asOf time.Time, closeWindow time.Duration) (open []Period, closed *Period) {
	cur := PeriodOf(asOf)
	prev := cur.Prev()
	if asOf.Before(prev.ClosesAt(closeWindow)) {
		return []Period{prev, cur}, nil
	}
	return []Period{cur}, &prev
}

// Plan is what the billing rules need to know of a client's plan.
type Plan struct {
	Code            string
	MonthlyLimit    int64
	SoftCapPercent  int64
	HardCapPercent  int64
	UnitPriceMicros int64 // price of one overage query in millionths of the currency unit
	Currency        string
}

// Caps are a plan's monthly query thresholds.
type Caps struct {
	Limit int64 // the plan's monthly query limit
	Soft  int64 // usage above it is billed as overage
	Hard  int64 // usage above it disables the client
}

// CapsOf computes a plan's caps: limit × (100 + percent) / 100, rounded down.
func CapsOf(p Plan) Caps {
	return Caps{
		Limit: p.MonthlyLimit,
		Soft:  p.MonthlyLimit * (100 + p.SoftCapPercent) / 100,
		Hard:  p.MonthlyLimit * (100 + p.HardCapPercent) / 100,
	}
}

// Billable is the number of overage units in used: max(0, used − soft).
func (c Caps) Billable(used int64) int64 { return max(0, used-c.Soft) }

// OverSoft reports whether used is beyond the soft cap: some of it is billed.
func (c Caps) OverSoft(used int64) bool { return used > c.Soft }

// OverHard reports whether used is beyond the hard cap.
func (c Caps) OverHard(used int64) bool { return used > c.Hard }

// microsPerCent: one cent is 10,000 millionths of a currency unit.
const microsPerCent = 10_000

// ErrAmountOverflow is returned when an amount does not fit in int64 cents.
var ErrAmountOverflow = errors.New("overage amount overflows int64 cents")

// AmountCents is the price of units at unitPriceMicros, in cents (minor
// units of a two-decimal currency), rounded half up.
func AmountCents(units, unitPriceMicros int64) (int64, error) {
	if units < 0 || unitPriceMicros < 0 {
		return 0, fmt.Errorf("amount of %d units at %d micros: negative input", units, unitPriceMicros)
	}
	n := new(big.Int).Mul(big.NewInt(units), big.NewInt(unitPriceMicros))
	n.Add(n, big.NewInt(microsPerCent/2))
	n.Quo(n, big.NewInt(microsPerCent))
	if !n.IsInt64() {
		return 0, ErrAmountOverflow
	}
	return n.Int64(), nil
}

// Charge is what a run bills a client for one period.
type Charge struct {
	UnitsFrom   int64 // billable units already charged before this charge
	Units       int64 // new units this charge covers
	AmountCents int64
}

// NextCharge returns the charge that brings what was charged up to what is
// billable now, or ok=false when there is nothing new to charge. The amount
// is cumulative: amount(all billable) − amount(already charged), so rounding
// never drifts however many runs split the units.
func NextCharge(billable, charged, unitPriceMicros int64) (c Charge, ok bool, err error) {
	if billable <= charged {
		return Charge{}, false, nil
	}
	total, err := AmountCents(billable, unitPriceMicros)
	if err != nil {
		return Charge{}, false, err
	}
	before, err := AmountCents(charged, unitPriceMicros)
	if err != nil {
		return Charge{}, false, err
	}
	return Charge{UnitsFrom: charged, Units: billable - charged, AmountCents: total - before}, true, nil
}

// Client statuses and disable reasons, as stored in clients.
const (
	StatusActive    = "active"
	StatusGrace     = "grace_period"
	StatusDisabled  = "disabled"
	StatusCancelled = "cancelled"

	ReasonHardCap               = "hard_cap"
	ReasonGraceExpired          = "grace_expired"
	ReasonAdmin                 = "admin"
	ReasonSubscriptionCancelled = "subscription_cancelled"
)

// Statuses are the billing statuses a client can be in.
var Statuses = []string{StatusActive, StatusGrace, StatusDisabled, StatusCancelled}

// Status is a client's billing status as the rules see it.
type Status struct {
	Billing        string
	DisabledReason string    // empty unless disabled
	DisabledAt     time.Time // zero if unknown
	// HardCapExemptUntil is the end of an operator's exemption from the
	// hard-cap disable (clients.hard_cap_exempt_until); zero: none.
	HardCapExemptUntil time.Time
}

// CapAction is what the hard-cap rule does to a client.
type CapAction string

const (
	CapNone       CapAction = "none"
	CapDisable    CapAction = "disable"
	CapReactivate CapAction = "reactivate"
)

// HardCapAction decides the hard-cap rule at asOf for a client whose usage
// in the current period is used: an active client beyond the hard cap is
// disabled, unless an operator exempted it until after asOf (it is billed,
// not disabled); a client disabled for the hard cap in an earlier period,
// and not beyond it now, is set back to active. Every other status is left
// alone, and so is a disabled client whose disable instant is unknown.
func HardCapAction(s Status, caps Caps, used int64, current Period, asOf time.Time) CapAction {
	switch {
	case s.Billing == StatusActive && caps.OverHard(used) && !HardCapExempt(s.HardCapExemptUntil, asOf):
		return CapDisable
	case s.Billing == StatusDisabled && s.DisabledReason == ReasonHardCap && !s.DisabledAt.IsZero() &&
		s.DisabledAt.Before(current.Start) && !caps.OverHard(used):
		return CapReactivate
	default:
		return CapNone
	}
}

// GraceAction is what the grace rule does to a client in grace.
type GraceAction string

const (
	GraceNone       GraceAction = "none"
	GraceDisable    GraceAction = "disable"
	GraceReactivate GraceAction = "reactivate"
)

// GraceDecision decides the grace rule for a client that entered grace at
// startedAt: a succeeded payment since then reactivates it; otherwise, once
// asOf is at least period after startedAt, it is disabled.
func GraceDecision(startedAt, asOf time.Time, paidSince bool, period time.Duration) GraceAction {
	switch {
	case paidSince:
		return GraceReactivate
	case !asOf.Before(startedAt.Add(period)):
		return GraceDisable
	default:
		return GraceNone
	}
}

// BlastRadiusExceeded reports whether disabling n of active clients is more
// than maxPercent of them.
func BlastRadiusExceeded(n, active int64, maxPercent int64) bool {
	return n*100 > active*maxPercent
}

// HardCapExempt reports whether an exemption from the hard-cap disable that
// ends at until (zero: none) still holds at asOf: it holds before until,
// and from until on the hard-cap rule applies again.
func HardCapExempt(until, asOf time.Time) bool {
	return !until.IsZero() && asOf.Before(until)
}

// Why an operator's status change is refused. Each is wrapped with the
// details (the status, the usage, the instants) by the rule that returns it.
var (
	// ErrExemptionNotAfterNow: an exemption must end after the instant it is granted.
	ErrExemptionNotAfterNow = errors.New("the exemption must end after now")
	// ErrExemptionBeyondPeriod: an exemption ends at the latest when the
	// current period does; the next period starts with a fresh count.
	ErrExemptionBeyondPeriod = errors.New("the exemption may not run past the end of the current billing period")
	// ErrNotDisabled: only a disabled client can be enabled.
	ErrNotDisabled = errors.New("the client is not disabled")
	// ErrOverHardCap: an enabled client beyond its hard cap with no exemption
	// would be disabled again by the next overage run.
	ErrOverHardCap = errors.New("the next overage run would disable it again")
	// ErrNotOperatorReason: the reason is not one an operator may set.
	ErrNotOperatorReason = errors.New("not a reason an operator may set")
	// ErrNotDisablable: only an active client or one in grace can be disabled by hand.
	ErrNotDisablable = errors.New("the client cannot be disabled by hand")
)

// OperatorReasons are the disable reasons an operator may set by hand.
// hard_cap and grace_expired belong to the jobs, which undo or keep them by
// their own rules (a hard_cap disable is lifted next period), and
// subscription_cancelled to the subscription flow.
var OperatorReasons = []string{ReasonAdmin}

// CheckExemptUntil checks an exemption from the hard-cap disable granted at
// now to end at until: after now, and no later than the end of the billing
// period that contains now.
func CheckExemptUntil(until, now time.Time) error {
	end := PeriodOf(now).End
	switch {
	case !until.After(now):
		return fmt.Errorf("%w: %s is not after %s", ErrExemptionNotAfterNow,
			until.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case until.After(end):
		return fmt.Errorf("%w: %s is after %s, when period %s ends", ErrExemptionBeyondPeriod,
			until.UTC().Format(time.RFC3339), end.Format(time.RFC3339), PeriodOf(now))
	}
	return nil
}

// CheckEnable decides whether a client in status s may be set back to
// active at now, with used queries in the current period against caps and
// an exemption until exemptUntil (zero: none). Only a disabled client is
// enabled. Once active, a client beyond its hard cap is disabled by the next
// overage run (whatever it was disabled for), so it is enabled only with an
// exemption; an exemption given must pass CheckExemptUntil.
func CheckEnable(s Status, caps Caps, used int64, now, exemptUntil time.Time) error {
	if s.Billing != StatusDisabled {
		return fmt.Errorf("%w: its status is %s", ErrNotDisabled, s.Billing)
	}
	if !exemptUntil.IsZero() {
		if err := CheckExemptUntil(exemptUntil, now); err != nil {
			return err
		}
	}
	if caps.OverHard(used) && !HardCapExempt(exemptUntil, now) {
		return fmt.Errorf("%w: its %d queries this period (%s) are beyond its hard cap of %d",
			ErrOverHardCap, used, PeriodOf(now), caps.Hard)
	}
	return nil
}

// CheckDisable decides whether an operator may disable a client in status s
// for reason: an active client or one in grace, for one of OperatorReasons.
func CheckDisable(s Status, reason string) error {
	if !slices.Contains(OperatorReasons, reason) {
		return fmt.Errorf("%w: %q; an operator may set %s", ErrNotOperatorReason, reason, strings.Join(OperatorReasons, ", "))
	}
	switch s.Billing {
	case StatusActive, StatusGrace:
		return nil
	case StatusDisabled:
		return fmt.Errorf("%w: it is already disabled (%s)", ErrNotDisablable, s.DisabledReason)
	default:
		return fmt.Errorf("%w: its status is %s", ErrNotDisablable, s.Billing)
	}
}
