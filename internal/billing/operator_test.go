package billing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/billing"
)

// The rules of an operator's status changes: until when an exemption from
// the hard-cap disable may run, whether a client may be enabled or
// disabled by hand.

func TestHardCapExempt(t *testing.T) {
	t.Parallel()
	asOf := utc(2026, time.November, 27, 2, 0, 0, 0)
	for _, tt := range []struct {
		name  string
		until time.Time
		want  bool
	}{
		{"no exemption", time.Time{}, false},
		{"ends later", asOf.Add(time.Hour), true},
		{"ends 1ns later", asOf.Add(time.Nanosecond), true},
		{"ends exactly at as-of: over", asOf, false},
		{"ended earlier", asOf.Add(-time.Hour), false},
		{"the same instant in another zone", asOf.In(utcPlus14), false},
		{"later, seen from UTC-12", asOf.Add(time.Minute).In(utcMinus12), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, billing.HardCapExempt(tt.until, asOf))
		})
	}
}

func TestCheckExemptUntil(t *testing.T) {
	t.Parallel()
	now := utc(2026, time.November, 27, 16, 0, 0, 0)
	end := utc(2026, time.December, 1, 0, 0, 0, 0) // November's end
	for _, tt := range []struct {
		name  string
		until time.Time
		now   time.Time
		want  error
	}{
		{"the end of the period", end, now, nil},
		{"an hour from now", now.Add(time.Hour), now, nil},
		{"1ns after now", now.Add(time.Nanosecond), now, nil},
		{"tomorrow at 00:00 UTC", utc(2026, time.November, 28, 0, 0, 0, 0), now, nil},
		{"the period's end seen from UTC+14", end.In(utcPlus14), now, nil},
		{"exactly now", now, now, billing.ErrExemptionNotAfterNow},
		{"earlier today (a date meaning 00:00 UTC)", utc(2026, time.November, 27, 0, 0, 0, 0), now, billing.ErrExemptionNotAfterNow},
		{"1ns past the period's end", end.Add(time.Nanosecond), now, billing.ErrExemptionBeyondPeriod},
		{"the 2nd of next month", utc(2026, time.December, 2, 0, 0, 0, 0), now, billing.ErrExemptionBeyondPeriod},
		{"granted in the last second of a period, until its end", end, end.Add(-time.Second), nil},
		{"granted at the very start of a period, until its end", utc(2026, time.December, 1, 0, 0, 0, 0).AddDate(0, 1, 0),
			utc(2026, time.December, 1, 0, 0, 0, 0), nil},
		{"granted at the start of a period, until the previous end", end, end, billing.ErrExemptionNotAfterNow},
		{"February in a leap year ends on the 1st of March", utc(2028, time.March, 1, 0, 0, 0, 0), utc(2028, time.February, 29, 12, 0, 0, 0), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := billing.CheckExemptUntil(tt.until, tt.now)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestCheckEnable(t *testing.T) {
	t.Parallel()
	caps := billing.CapsOf(starter) // hard 1500
	now := utc(2026, time.November, 27, 16, 0, 0, 0)
	end := utc(2026, time.December, 1, 0, 0, 0, 0)
	disabled := func(reason string) billing.Status {
		return billing.Status{Billing: billing.StatusDisabled, DisabledReason: reason, DisabledAt: utc(2026, time.November, 20, 2, 0, 0, 0)}
	}
	for _, tt := range []struct {
		name   string
		status billing.Status
		used   int64
		until  time.Time
		want   error
	}{
		{"hard_cap, back under the hard cap", disabled(billing.ReasonHardCap), 1500, time.Time{}, nil},
		{"hard_cap, still beyond, no exemption", disabled(billing.ReasonHardCap), 1501, time.Time{}, billing.ErrOverHardCap},
		{"hard_cap, still beyond, exempt to the period's end", disabled(billing.ReasonHardCap), 1501, end, nil},
		{"hard_cap, still beyond, exempt for an hour", disabled(billing.ReasonHardCap), 8000, now.Add(time.Hour), nil},
		{"hard_cap, still beyond, exemption past the period", disabled(billing.ReasonHardCap), 1501, end.Add(time.Second), billing.ErrExemptionBeyondPeriod},
		{"hard_cap, still beyond, exemption already over", disabled(billing.ReasonHardCap), 1501, now, billing.ErrExemptionNotAfterNow},
		{"under, with an exemption it does not need: allowed", disabled(billing.ReasonHardCap), 10, end, nil},
		{"under, with a bad exemption: refused all the same", disabled(billing.ReasonHardCap), 10, end.AddDate(0, 0, 1), billing.ErrExemptionBeyondPeriod},
		{"admin, under", disabled(billing.ReasonAdmin), 0, time.Time{}, nil},
		{"admin, beyond the hard cap: the next run would disable it too", disabled(billing.ReasonAdmin), 1600, time.Time{}, billing.ErrOverHardCap},
		{"grace_expired, beyond the hard cap, exempt", disabled(billing.ReasonGraceExpired), 1600, end, nil},
		{"grace_expired, under", disabled(billing.ReasonGraceExpired), 100, time.Time{}, nil},
		{"active: nothing to enable", billing.Status{Billing: billing.StatusActive}, 0, time.Time{}, billing.ErrNotDisabled},
		{"in grace: not disabled", billing.Status{Billing: billing.StatusGrace}, 0, time.Time{}, billing.ErrNotDisabled},
		{"cancelled: not disabled", billing.Status{Billing: billing.StatusCancelled}, 0, end, billing.ErrNotDisabled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := billing.CheckEnable(tt.status, caps, tt.used, now, tt.until)
			if tt.want == nil {
				require.NoError(t, err)
				// What the job then does at now: never disable it right away.
				s := billing.Status{Billing: billing.StatusActive, HardCapExemptUntil: tt.until}
				require.NotEqual(t, billing.CapDisable, billing.HardCapAction(s, caps, tt.used, billing.PeriodOf(now), now),
					"an enable the rules allow is not undone by the next run")
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}

	err := billing.CheckEnable(disabled(billing.ReasonHardCap), caps, 8000, now, time.Time{})
	require.EqualError(t, err, "the next overage run would disable it again: its 8000 queries this period (2026-11) are beyond its hard cap of 1500")
}

func TestCheckDisable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		status string
		reason string
		want   error
	}{
		{"active, admin", billing.StatusActive, billing.ReasonAdmin, nil},
		{"in grace, admin", billing.StatusGrace, billing.ReasonAdmin, nil},
		{"already disabled", billing.StatusDisabled, billing.ReasonAdmin, billing.ErrNotDisablable},
		{"cancelled", billing.StatusCancelled, billing.ReasonAdmin, billing.ErrNotDisablable},
		{"hard_cap is the overage job's", billing.StatusActive, billing.ReasonHardCap, billing.ErrNotOperatorReason},
		{"grace_expired is the grace job's", billing.StatusActive, billing.ReasonGraceExpired, billing.ErrNotOperatorReason},
		{"subscription_cancelled is the subscription flow's", billing.StatusActive, billing.ReasonSubscriptionCancelled, billing.ErrNotOperatorReason},
		{"an unknown reason", billing.StatusActive, "fraud", billing.ErrNotOperatorReason},
		{"no reason", billing.StatusActive, "", billing.ErrNotOperatorReason},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := billing.CheckDisable(billing.Status{Billing: tt.status}, tt.reason)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
	require.EqualError(t, billing.CheckDisable(billing.Status{Billing: billing.StatusActive}, "hard_cap"),
		`not a reason an operator may set: "hard_cap"; an operator may set admin`)
}
