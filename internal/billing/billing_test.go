package billing_test

import (
	"errors"
	"math"
	"testing"
	"time"
	_ "time/tzdata" // real zones (DST) for the grace clock, whatever the host has

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/billing"
)

// Plans as the product spec defines them.
var (
	starter = billing.Plan{Code: "starter", MonthlyLimit: 1000, SoftCapPercent: 20, HardCapPercent: 50, UnitPriceMicros: 10_000, Currency: "usd"}
	growth  = billing.Plan{Code: "growth", MonthlyLimit: 5000, SoftCapPercent: 20, HardCapPercent: 50, UnitPriceMicros: 10_000, Currency: "usd"}
	scale   = billing.Plan{Code: "scale", MonthlyLimit: 50000, SoftCapPercent: 20, HardCapPercent: 50, UnitPriceMicros: 10_000, Currency: "usd"}
)

const (
	closeWindow = 72 * time.Hour
	gracePeriod = 7 * 24 * time.Hour
	maxPercent  = 25
)

var (
	utcPlus14  = time.FixedZone("UTC+14", 14*3600)
	utcMinus12 = time.FixedZone("UTC-12", -12*3600)
)

// utc builds an instant in UTC.
func utc(y int, m time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, m, d, h, mi, s, ns, time.UTC)
}

// month is the expected period of month m of year y.
func month(y int, m time.Month) billing.Period {
	start := utc(y, m, 1, 0, 0, 0, 0)
	return billing.Period{Start: start, End: start.AddDate(0, 1, 0)}
}

// requirePeriod checks p is want, and that both bounds are UTC instants.
func requirePeriod(t *testing.T, want, got billing.Period) {
	t.Helper()
	require.Truef(t, want.Start.Equal(got.Start), "start: want %s, got %s", want.Start, got.Start)
	require.Truef(t, want.End.Equal(got.End), "end: want %s, got %s", want.End, got.End)
	require.Equal(t, time.UTC, got.Start.Location(), "start must be in UTC")
	require.Equal(t, time.UTC, got.End.Location(), "end must be in UTC")
}

func TestPeriodOf(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		at      time.Time
		want    billing.Period
		wantStr string
		days    int
	}{
		{"mid month", utc(2026, time.March, 15, 12, 30, 0, 0), month(2026, time.March), "2026-03", 31},
		{"exactly at start", utc(2026, time.March, 1, 0, 0, 0, 0), month(2026, time.March), "2026-03", 31},
		{"1ns before end", utc(2026, time.March, 31, 23, 59, 59, 999_999_999), month(2026, time.March), "2026-03", 31},
		{"exactly at end belongs to next", utc(2026, time.April, 1, 0, 0, 0, 0), month(2026, time.April), "2026-04", 30},
		{"Jan 31 is January", utc(2026, time.January, 31, 23, 59, 59, 999_999_999), month(2026, time.January), "2026-01", 31},
		{"Jan 31 period ends Feb 1", utc(2026, time.January, 31, 0, 0, 0, 0), billing.Period{Start: utc(2026, time.January, 1, 0, 0, 0, 0), End: utc(2026, time.February, 1, 0, 0, 0, 0)}, "2026-01", 31},
		{"February non-leap", utc(2026, time.February, 28, 23, 0, 0, 0), billing.Period{Start: utc(2026, time.February, 1, 0, 0, 0, 0), End: utc(2026, time.March, 1, 0, 0, 0, 0)}, "2026-02", 28},
		{"December ends next year", utc(2026, time.December, 31, 23, 59, 59, 999_999_999), billing.Period{Start: utc(2026, time.December, 1, 0, 0, 0, 0), End: utc(2027, time.January, 1, 0, 0, 0, 0)}, "2026-12", 31},
		{"new year instant is January", utc(2027, time.January, 1, 0, 0, 0, 0), month(2027, time.January), "2027-01", 31},
		{"leap day 2028-02-29", utc(2028, time.February, 29, 12, 0, 0, 0), billing.Period{Start: utc(2028, time.February, 1, 0, 0, 0, 0), End: utc(2028, time.March, 1, 0, 0, 0, 0)}, "2028-02", 29},
		{"leap day last ns", utc(2028, time.February, 29, 23, 59, 59, 999_999_999), month(2028, time.February), "2028-02", 29},
		{"2000 is leap (div by 400)", utc(2000, time.February, 29, 0, 0, 0, 0), month(2000, time.February), "2000-02", 29},
		{"2100 is not leap", utc(2100, time.February, 28, 23, 59, 59, 999_999_999), billing.Period{Start: utc(2100, time.February, 1, 0, 0, 0, 0), End: utc(2100, time.March, 1, 0, 0, 0, 0)}, "2100-02", 28},
		{"2100-03-01 is March", utc(2100, time.March, 1, 0, 0, 0, 0), month(2100, time.March), "2100-03", 31},
		{
			"UTC+14 March 1 is still February in UTC",
			time.Date(2026, time.March, 1, 5, 0, 0, 0, utcPlus14), // 2026-02-28 15:00 UTC
			month(2026, time.February), "2026-02", 28,
		},
		{
			"UTC+14 Jan 1 is still December of the year before in UTC",
			time.Date(2027, time.January, 1, 13, 59, 59, 0, utcPlus14), // 2026-12-31 23:59:59 UTC
			month(2026, time.December), "2026-12", 31,
		},
		{
			"UTC+14 at exactly the UTC start",
			time.Date(2026, time.March, 1, 14, 0, 0, 0, utcPlus14), // 2026-03-01 00:00 UTC
			month(2026, time.March), "2026-03", 31,
		},
		{
			"UTC-12 Jan 31 evening is February in UTC",
			time.Date(2026, time.January, 31, 20, 0, 0, 0, utcMinus12), // 2026-02-01 08:00 UTC
			month(2026, time.February), "2026-02", 28,
		},
		{
			"UTC-12 Feb 28 2028 evening is the leap day in UTC",
			time.Date(2028, time.February, 28, 13, 0, 0, 0, utcMinus12), // 2028-02-29 01:00 UTC
			month(2028, time.February), "2028-02", 29,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := billing.PeriodOf(tt.at)
			requirePeriod(t, tt.want, got)
			require.Equal(t, tt.wantStr, got.String())
			require.Equal(t, time.Duration(tt.days)*24*time.Hour, got.End.Sub(got.Start))
			require.True(t, got.Contains(tt.at), "period %s must contain %s", got, tt.at)
		})
	}
}

func TestPeriodContains(t *testing.T) {
	t.Parallel()

	feb := month(2028, time.February)
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"start is in", feb.Start, true},
		{"1ns before start is out", feb.Start.Add(-time.Nanosecond), false},
		{"leap day is in", utc(2028, time.February, 29, 12, 0, 0, 0), true},
		{"1ns before end is in", feb.End.Add(-time.Nanosecond), true},
		{"end is out (half-open)", feb.End, false},
		{"start seen from UTC+14 is in", feb.Start.In(utcPlus14), true},
		{"end seen from UTC-12 is out", feb.End.In(utcMinus12), false},
		{"Feb 29 local in UTC+14 but Feb 28 UTC is in", time.Date(2028, time.February, 29, 5, 0, 0, 0, utcPlus14), true},
		{"Mar 1 local in UTC+14 but Feb 29 UTC is in", time.Date(2028, time.March, 1, 5, 0, 0, 0, utcPlus14), true},
		{"Feb 29 local in UTC-12 but Mar 1 UTC is out", time.Date(2028, time.February, 29, 13, 0, 0, 0, utcMinus12), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, feb.Contains(tt.at))
		})
	}
}

func TestPeriodPrev(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		p    billing.Period
		want billing.Period
	}{
		{"mid year", month(2026, time.July), month(2026, time.June)},
		{"across a year", month(2027, time.January), month(2026, time.December)},
		{"March to leap February", month(2028, time.March), month(2028, time.February)},
		{"March to non-leap February 2100", month(2100, time.March), month(2100, time.February)},
		{"February to January 31 days", month(2026, time.February), month(2026, time.January)},
		{"from a non-UTC input", billing.PeriodOf(time.Date(2027, time.January, 1, 13, 0, 0, 0, utcPlus14)), month(2026, time.November)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.p.Prev()
			requirePeriod(t, tt.want, got)
			require.True(t, got.End.Equal(tt.p.Start), "prev must end where p starts")
		})
	}
}

func TestPeriodClosesAt(t *testing.T) {
	t.Parallel()

	jan := month(2026, time.January)
	require.True(t, utc(2026, time.February, 4, 0, 0, 0, 0).Equal(jan.ClosesAt(closeWindow)))
	require.True(t, jan.End.Equal(jan.ClosesAt(0)))
}

func TestPeriodsToSettle(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		asOf       time.Time
		window     time.Duration
		wantOpen   []billing.Period
		wantClosed *billing.Period
	}{
		{
			name:     "day 1 00:00 settles previous and current",
			asOf:     utc(2026, time.February, 1, 0, 0, 0, 0),
			window:   closeWindow,
			wantOpen: []billing.Period{month(2026, time.January), month(2026, time.February)},
		},
		{
			name:     "end+window-1ns previous still open",
			asOf:     utc(2026, time.February, 3, 23, 59, 59, 999_999_999),
			window:   closeWindow,
			wantOpen: []billing.Period{month(2026, time.January), month(2026, time.February)},
		},
		{
			name:       "exactly end+window previous is closed",
			asOf:       utc(2026, time.February, 4, 0, 0, 0, 0),
			window:     closeWindow,
			wantOpen:   []billing.Period{month(2026, time.February)},
			wantClosed: ptr(month(2026, time.January)),
		},
		{
			name:       "mid month previous is closed",
			asOf:       utc(2026, time.February, 20, 8, 0, 0, 0),
			window:     closeWindow,
			wantOpen:   []billing.Period{month(2026, time.February)},
			wantClosed: ptr(month(2026, time.January)),
		},
		{
			name:       "last ns of month previous is closed",
			asOf:       utc(2026, time.February, 28, 23, 59, 59, 999_999_999),
			window:     closeWindow,
			wantOpen:   []billing.Period{month(2026, time.February)},
			wantClosed: ptr(month(2026, time.January)),
		},
		{
			name:     "day 1 across a year",
			asOf:     utc(2027, time.January, 1, 0, 0, 0, 0),
			window:   closeWindow,
			wantOpen: []billing.Period{month(2026, time.December), month(2027, time.January)},
		},
		{
			name:     "end+window-1ns across a year",
			asOf:     utc(2027, time.January, 3, 23, 59, 59, 999_999_999),
			window:   closeWindow,
			wantOpen: []billing.Period{month(2026, time.December), month(2027, time.January)},
		},
		{
			name:       "end+window across a year",
			asOf:       utc(2027, time.January, 4, 0, 0, 0, 0),
			window:     closeWindow,
			wantOpen:   []billing.Period{month(2027, time.January)},
			wantClosed: ptr(month(2026, time.December)),
		},
		{
			name:     "after leap February, still in window",
			asOf:     utc(2028, time.March, 3, 12, 0, 0, 0),
			window:   closeWindow,
			wantOpen: []billing.Period{month(2028, time.February), month(2028, time.March)},
		},
		{
			name:     "non-UTC as-of: Feb 4 09:00 UTC+14 is Feb 3 19:00 UTC, still in window",
			asOf:     time.Date(2026, time.February, 4, 9, 0, 0, 0, utcPlus14),
			window:   closeWindow,
			wantOpen: []billing.Period{month(2026, time.January), month(2026, time.February)},
		},
		{
			name:     "non-UTC as-of: Jan 31 UTC-12 evening is Feb 1 UTC",
			asOf:     time.Date(2026, time.January, 31, 20, 0, 0, 0, utcMinus12),
			window:   closeWindow,
			wantOpen: []billing.Period{month(2026, time.January), month(2026, time.February)},
		},
		{
			name:       "non-UTC as-of: Mar 1 UTC+14 morning is still February in UTC",
			asOf:       time.Date(2026, time.March, 1, 5, 0, 0, 0, utcPlus14),
			window:     closeWindow,
			wantOpen:   []billing.Period{month(2026, time.February)},
			wantClosed: ptr(month(2026, time.January)),
		},
		{
			name:       "zero window closes previous at once",
			asOf:       utc(2026, time.February, 1, 0, 0, 0, 0),
			window:     0,
			wantOpen:   []billing.Period{month(2026, time.February)},
			wantClosed: ptr(month(2026, time.January)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			open, closed := billing.PeriodsToSettle(tt.asOf, tt.window)
			require.Len(t, open, len(tt.wantOpen))
			for i := range open {
				requirePeriod(t, tt.wantOpen[i], open[i])
			}
			require.True(t, open[len(open)-1].Contains(tt.asOf), "the last open period is the current one")
			if tt.wantClosed == nil {
				require.Nil(t, closed)
				return
			}
			require.NotNil(t, closed)
			requirePeriod(t, *tt.wantClosed, *closed)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCapsOf(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		plan billing.Plan
		want billing.Caps
	}{
		{"starter", starter, billing.Caps{Limit: 1000, Soft: 1200, Hard: 1500}},
		{"growth", growth, billing.Caps{Limit: 5000, Soft: 6000, Hard: 7500}},
		{"scale", scale, billing.Caps{Limit: 50000, Soft: 60000, Hard: 75000}},
		{"limit 1001 rounds down", billing.Plan{MonthlyLimit: 1001, SoftCapPercent: 20, HardCapPercent: 50}, billing.Caps{Limit: 1001, Soft: 1201, Hard: 1501}}, // 1201.2, 1501.5
		{"limit 999 rounds down", billing.Plan{MonthlyLimit: 999, SoftCapPercent: 20, HardCapPercent: 50}, billing.Caps{Limit: 999, Soft: 1198, Hard: 1498}},    // 1198.8, 1498.5
		{"limit 7 rounds down", billing.Plan{MonthlyLimit: 7, SoftCapPercent: 20, HardCapPercent: 50}, billing.Caps{Limit: 7, Soft: 8, Hard: 10}},               // 8.4, 10.5
		{"limit 3 rounds down", billing.Plan{MonthlyLimit: 3, SoftCapPercent: 20, HardCapPercent: 50}, billing.Caps{Limit: 3, Soft: 3, Hard: 4}},                // 3.6, 4.5
		{"limit 1", billing.Plan{MonthlyLimit: 1, SoftCapPercent: 20, HardCapPercent: 50}, billing.Caps{Limit: 1, Soft: 1, Hard: 1}},                            // 1.2, 1.5
		{"limit 0", billing.Plan{MonthlyLimit: 0, SoftCapPercent: 20, HardCapPercent: 50}, billing.Caps{}},
		{"odd percents", billing.Plan{MonthlyLimit: 10, SoftCapPercent: 33, HardCapPercent: 99}, billing.Caps{Limit: 10, Soft: 13, Hard: 19}}, // 13.3, 19.9
		{"zero percents", billing.Plan{MonthlyLimit: 1234, SoftCapPercent: 0, HardCapPercent: 0}, billing.Caps{Limit: 1234, Soft: 1234, Hard: 1234}},
		{"limit 1001 at 199/299 percent", billing.Plan{MonthlyLimit: 1001, SoftCapPercent: 199, HardCapPercent: 299}, billing.Caps{Limit: 1001, Soft: 2992, Hard: 3993}}, // 2992.99, 3993.99
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, billing.CapsOf(tt.plan))
		})
	}
}

func TestCapsBillableAndOverHard(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		plan         billing.Plan
		used         int64
		wantBillable int64
		wantOverHard bool
	}{
		{"starter no usage", starter, 0, 0, false},
		{"starter at limit", starter, 1000, 0, false},
		{"starter soft-1", starter, 1199, 0, false},
		{"starter exactly soft", starter, 1200, 0, false},
		{"starter soft+1", starter, 1201, 1, false},
		{"starter exactly hard", starter, 1500, 300, false},
		{"starter hard+1", starter, 1501, 301, true},
		{"growth exactly soft", growth, 6000, 0, false},
		{"growth soft+1", growth, 6001, 1, false},
		{"growth exactly hard", growth, 7500, 1500, false},
		{"growth hard+1", growth, 7501, 1501, true},
		{"scale exactly soft", scale, 60000, 0, false},
		{"scale soft+1", scale, 60001, 1, false},
		{"scale exactly hard", scale, 75000, 15000, false},
		{"scale hard+1", scale, 75001, 15001, true},
		{"odd limit 1001 exactly soft", billing.Plan{MonthlyLimit: 1001, SoftCapPercent: 20, HardCapPercent: 50}, 1201, 0, false},
		{"odd limit 1001 soft+1", billing.Plan{MonthlyLimit: 1001, SoftCapPercent: 20, HardCapPercent: 50}, 1202, 1, false},
		{"odd limit 1001 exactly hard", billing.Plan{MonthlyLimit: 1001, SoftCapPercent: 20, HardCapPercent: 50}, 1501, 300, false},
		{"odd limit 1001 hard+1", billing.Plan{MonthlyLimit: 1001, SoftCapPercent: 20, HardCapPercent: 50}, 1502, 301, true},
		{"negative usage bills nothing", starter, -5, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			caps := billing.CapsOf(tt.plan)
			require.Equal(t, tt.wantBillable, caps.Billable(tt.used))
			require.Equal(t, tt.wantOverHard, caps.OverHard(tt.used))
			require.Equal(t, tt.wantBillable > 0, caps.OverSoft(tt.used), "beyond the soft cap exactly when something is billable")
		})
	}
}

func TestAmountCents(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		units   int64
		micros  int64
		want    int64
		wantErr error // nil: no error; errAny: any error
	}{
		{"zero units", 0, 10_000, 0, nil},
		{"zero price", 5, 0, 0, nil},
		{"one unit at one cent", 1, 10_000, 1, nil},
		{"half a cent rounds up", 1, 5_000, 1, nil},
		{"just under half a cent rounds down", 1, 4_999, 0, nil},
		{"one micro rounds down", 1, 1, 0, nil},
		{"1.5 cents rounds up to 2", 1, 15_000, 2, nil},
		{"1.4999 cents rounds down to 1", 1, 14_999, 1, nil},
		{"2.5 cents rounds up to 3 (half up, not half even)", 1, 25_000, 3, nil},
		{"3 units at half a cent: 1.5 → 2", 3, 5_000, 2, nil},
		{"starter overage 300 units", 300, 10_000, 300, nil},
		{"3 units at 3333 micros: 0.9999 → 1", 3, 3_333, 1, nil},
		{"max units at 1 micro does not overflow the sum", math.MaxInt64, 1, 922_337_203_685_478, nil},
		{"max units at one cent is exactly max int64", math.MaxInt64, 10_000, math.MaxInt64, nil},
		{"overflow just above max", math.MaxInt64, 10_001, 0, billing.ErrAmountOverflow},
		{"overflow max × max", math.MaxInt64, math.MaxInt64, 0, billing.ErrAmountOverflow},
		{"negative units", -1, 10_000, 0, errAny},
		{"negative price", 1, -10_000, 0, errAny},
		{"min int64 units", math.MinInt64, 10_000, 0, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := billing.AmountCents(tt.units, tt.micros)
			switch {
			case tt.wantErr == nil:
				require.NoError(t, err)
			case errors.Is(tt.wantErr, errAny):
				require.Error(t, err)
				require.NotErrorIs(t, err, billing.ErrAmountOverflow, "negative input is not an overflow")
			default:
				require.ErrorIs(t, err, tt.wantErr)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// errAny marks a table case that expects some error, not a particular one.
var errAny = errorString("any error")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestNextCharge(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		billable int64
		charged  int64
		micros   int64
		want     billing.Charge
		wantOK   bool
		wantErr  error
	}{
		{name: "nothing billable", billable: 0, charged: 0, micros: 10_000},
		{name: "all already charged", billable: 300, charged: 300, micros: 10_000},
		{name: "charged more than billable never refunds", billable: 250, charged: 300, micros: 10_000},
		{name: "nothing new is not an error even at an overflowing price", billable: 10, charged: 10, micros: math.MaxInt64},
		{name: "nothing new is not an error for negative input", billable: -1, charged: 0, micros: -1},
		{name: "first charge", billable: 300, charged: 0, micros: 10_000, want: billing.Charge{UnitsFrom: 0, Units: 300, AmountCents: 300}, wantOK: true},
		{name: "incremental charge", billable: 300, charged: 120, micros: 10_000, want: billing.Charge{UnitsFrom: 120, Units: 180, AmountCents: 180}, wantOK: true},
		{name: "half cent first unit rounds up", billable: 1, charged: 0, micros: 5_000, want: billing.Charge{Units: 1, AmountCents: 1}, wantOK: true},
		{name: "second half cent unit is already paid by rounding", billable: 2, charged: 1, micros: 5_000, want: billing.Charge{UnitsFrom: 1, Units: 1, AmountCents: 0}, wantOK: true},
		{name: "third half cent unit: 1.5 → 2 minus 1", billable: 3, charged: 2, micros: 5_000, want: billing.Charge{UnitsFrom: 2, Units: 1, AmountCents: 1}, wantOK: true},
		{name: "sub-half-cent units", billable: 1, charged: 0, micros: 4_999, want: billing.Charge{Units: 1, AmountCents: 0}, wantOK: true},
		{name: "overflow", billable: math.MaxInt64, charged: 0, micros: 10_001, wantErr: billing.ErrAmountOverflow},
		{name: "negative price", billable: 5, charged: 0, micros: -1, wantErr: errAny},
		{name: "negative charged", billable: 5, charged: -1, micros: 10_000, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := billing.NextCharge(tt.billable, tt.charged, tt.micros)
			switch {
			case tt.wantErr == nil:
				require.NoError(t, err)
			case errors.Is(tt.wantErr, errAny):
				require.Error(t, err)
			default:
				require.ErrorIs(t, err, tt.wantErr)
			}
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestNextChargeCumulative runs a sequence of billable totals (one per run)
// through NextCharge and checks that the charges add up to one charge of the
// final total: the same units and, rounding included, the same cents.
func TestNextChargeCumulative(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		micros   int64
		billable []int64 // billable units seen by each run, non-decreasing
	}{
		{"unit by unit at half a cent", 5_000, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"unit by unit just under half a cent", 4_999, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"unit by unit at 1.5 cents", 15_000, []int64{1, 2, 3, 4, 5}},
		{"odd price, uneven steps", 3_333, []int64{1, 1, 4, 9, 9, 10, 100, 101, 1_000}},
		{"one micro per unit", 1, []int64{4_999, 5_000, 9_999, 10_000, 15_000, 15_001}},
		{"whole cents, repeated runs", 10_000, []int64{0, 0, 120, 120, 300, 300, 301}},
		{"price above a dollar", 1_234_567, []int64{1, 2, 7, 8, 13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var charged, units, cents int64
			for i, b := range tt.billable {
				c, ok, err := billing.NextCharge(b, charged, tt.micros)
				require.NoError(t, err)
				if !ok {
					require.LessOrEqualf(t, b, charged, "run %d: ok=false with new units", i)
					require.Equal(t, billing.Charge{}, c)
					continue
				}
				require.Equal(t, charged, c.UnitsFrom, "run %d", i)
				require.Equal(t, b-charged, c.Units, "run %d", i)
				require.GreaterOrEqual(t, c.AmountCents, int64(0), "run %d", i)
				charged += c.Units
				units += c.Units
				cents += c.AmountCents
			}
			final := tt.billable[len(tt.billable)-1]
			one, ok, err := billing.NextCharge(final, 0, tt.micros)
			require.NoError(t, err)
			require.Equal(t, final > 0, ok)
			require.Equal(t, one.Units, units)
			require.Equal(t, one.AmountCents, cents)
			want, err := billing.AmountCents(final, tt.micros)
			require.NoError(t, err)
			require.Equal(t, want, cents)
		})
	}
}

func TestHardCapAction(t *testing.T) {
	t.Parallel()

	caps := billing.CapsOf(starter) // hard 1500
	current := month(2026, time.February)
	earlier := utc(2026, time.January, 15, 10, 0, 0, 0)
	inCurrent := utc(2026, time.February, 10, 10, 0, 0, 0)

	const (
		under   = 0
		atHard  = 1500
		overOne = 1501
	)

	asOf := utc(2026, time.February, 20, 2, 0, 0, 0)

	disabled := func(reason string, at time.Time) billing.Status {
		return billing.Status{Billing: billing.StatusDisabled, DisabledReason: reason, DisabledAt: at}
	}
	exempt := func(until time.Time) billing.Status {
		return billing.Status{Billing: billing.StatusActive, HardCapExemptUntil: until}
	}

	tests := []struct {
		name   string
		status billing.Status
		used   int64
		want   billing.CapAction
	}{
		// active
		{"active under", billing.Status{Billing: billing.StatusActive}, under, billing.CapNone},
		{"active exactly hard", billing.Status{Billing: billing.StatusActive}, atHard, billing.CapNone},
		{"active hard+1 is disabled", billing.Status{Billing: billing.StatusActive}, overOne, billing.CapDisable},
		// grace_period: never changed by this rule
		{"grace under", billing.Status{Billing: billing.StatusGrace}, under, billing.CapNone},
		{"grace exactly hard", billing.Status{Billing: billing.StatusGrace}, atHard, billing.CapNone},
		{"grace hard+1", billing.Status{Billing: billing.StatusGrace}, overOne, billing.CapNone},
		// cancelled: never changed
		{"cancelled under", billing.Status{Billing: billing.StatusCancelled}, under, billing.CapNone},
		{"cancelled hard+1", billing.Status{Billing: billing.StatusCancelled}, overOne, billing.CapNone},
		// disabled for hard_cap in an earlier period
		{"hard_cap earlier, under, reactivated", disabled(billing.ReasonHardCap, earlier), under, billing.CapReactivate},
		{"hard_cap earlier, exactly hard, reactivated", disabled(billing.ReasonHardCap, earlier), atHard, billing.CapReactivate},
		{"hard_cap earlier, hard+1, stays", disabled(billing.ReasonHardCap, earlier), overOne, billing.CapNone},
		{"hard_cap 1ns before current start, reactivated", disabled(billing.ReasonHardCap, current.Start.Add(-time.Nanosecond)), under, billing.CapReactivate},
		{"hard_cap last year, reactivated", disabled(billing.ReasonHardCap, utc(2025, time.December, 31, 23, 0, 0, 0)), under, billing.CapReactivate},
		// disabled for hard_cap in the current period: stays
		{"hard_cap exactly at current start is NOT earlier", disabled(billing.ReasonHardCap, current.Start), under, billing.CapNone},
		{"hard_cap exactly at current start, exactly hard", disabled(billing.ReasonHardCap, current.Start), atHard, billing.CapNone},
		{"hard_cap in current, under", disabled(billing.ReasonHardCap, inCurrent), under, billing.CapNone},
		{"hard_cap in current, hard+1", disabled(billing.ReasonHardCap, inCurrent), overOne, billing.CapNone},
		// non-UTC disabled_at: what counts is the instant
		{"hard_cap at current start seen from UTC+14 is NOT earlier", disabled(billing.ReasonHardCap, current.Start.In(utcPlus14)), under, billing.CapNone},
		{"hard_cap Feb 1 local UTC+14 = Jan 31 UTC is earlier", disabled(billing.ReasonHardCap, time.Date(2026, time.February, 1, 13, 0, 0, 0, utcPlus14)), under, billing.CapReactivate},
		{"hard_cap Jan 31 local UTC-12 = Feb 1 UTC is NOT earlier", disabled(billing.ReasonHardCap, time.Date(2026, time.January, 31, 13, 0, 0, 0, utcMinus12)), under, billing.CapNone},
		// disabled for other reasons: never changed
		{"grace_expired earlier, under", disabled(billing.ReasonGraceExpired, earlier), under, billing.CapNone},
		{"grace_expired earlier, hard+1", disabled(billing.ReasonGraceExpired, earlier), overOne, billing.CapNone},
		{"grace_expired in current, under", disabled(billing.ReasonGraceExpired, inCurrent), under, billing.CapNone},
		{"other reason earlier, under", disabled("manual", earlier), under, billing.CapNone},
		{"no reason earlier, under", disabled("", earlier), under, billing.CapNone},
		{"no reason earlier, hard+1", disabled("", earlier), overOne, billing.CapNone},
		// active with an operator's exemption: billed, not disabled, before its end
		{"exempt until after as-of, hard+1, not disabled", exempt(asOf.Add(time.Hour)), overOne, billing.CapNone},
		{"exempt until 1ns after as-of, hard+1, not disabled", exempt(asOf.Add(time.Nanosecond)), overOne, billing.CapNone},
		{"exempt until exactly as-of has ended: disabled", exempt(asOf), overOne, billing.CapDisable},
		{"exempt until before as-of has ended: disabled", exempt(asOf.Add(-time.Hour)), overOne, billing.CapDisable},
		{"exempt until the period's end, hard+1, not disabled", exempt(current.End), overOne, billing.CapNone},
		{"exempt, under: nothing", exempt(asOf.Add(time.Hour)), under, billing.CapNone},
		{"an exemption on a hard_cap-disabled client changes nothing", billing.Status{Billing: billing.StatusDisabled,
			DisabledReason: billing.ReasonHardCap, DisabledAt: earlier, HardCapExemptUntil: asOf.Add(time.Hour)}, under, billing.CapReactivate},
		// unknown status
		{"unknown status hard+1", billing.Status{Billing: "trial"}, overOne, billing.CapNone},
		{"empty status hard+1", billing.Status{}, overOne, billing.CapNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, billing.HardCapAction(tt.status, caps, tt.used, current, asOf))
		})
	}
}

func TestGraceDecision(t *testing.T) {
	t.Parallel()

	start := utc(2026, time.February, 10, 12, 0, 0, 0)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	// 2026-03-08 is the US spring-forward: seven calendar days from
	// 2026-03-05 12:00 local are only 7×24h−1h.
	nyStart := time.Date(2026, time.March, 5, 12, 0, 0, 0, ny)

	tests := []struct {
		name    string
		started time.Time
		asOf    time.Time
		paid    bool
		want    billing.GraceAction
	}{
		{"just entered grace", start, start, false, billing.GraceNone},
		{"one day in", start, start.Add(24 * time.Hour), false, billing.GraceNone},
		{"7 days − 1ns", start, start.Add(gracePeriod - time.Nanosecond), false, billing.GraceNone},
		{"exactly 7 days disables", start, start.Add(gracePeriod), false, billing.GraceDisable},
		{"7 days + 1ns disables", start, start.Add(gracePeriod + time.Nanosecond), false, billing.GraceDisable},
		{"a month in disables", start, start.AddDate(0, 1, 0), false, billing.GraceDisable},
		{"paid on day one reactivates", start, start.Add(24 * time.Hour), true, billing.GraceReactivate},
		{"paid, exactly 7 days, reactivates", start, start.Add(gracePeriod), true, billing.GraceReactivate},
		{"paid, 7 days − 1ns, reactivates", start, start.Add(gracePeriod - time.Nanosecond), true, billing.GraceReactivate},
		{"paid, long expired, reactivates", start, start.AddDate(0, 2, 0), true, billing.GraceReactivate},
		{"non-UTC as-of exactly 7 days", start, start.Add(gracePeriod).In(utcPlus14), false, billing.GraceDisable},
		{"non-UTC start 7 days − 1ns", start.In(utcMinus12), start.Add(gracePeriod - time.Nanosecond).In(utcPlus14), false, billing.GraceNone},
		{"DST: 7 calendar days is 1h short of 7×24h", nyStart, nyStart.AddDate(0, 0, 7), false, billing.GraceNone},
		{"DST: 7×24h counts, not wall clock", nyStart, nyStart.Add(gracePeriod), false, billing.GraceDisable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, billing.GraceDecision(tt.started, tt.asOf, tt.paid, gracePeriod))
		})
	}
}

func TestBlastRadiusExceeded(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		n      int64
		active int64
		want   bool
	}{
		{"zero of zero", 0, 0, false},
		{"zero of some", 0, 10, false},
		{"one of zero", 1, 0, true},
		{"exactly 25%: 1 of 4", 1, 4, false},
		{"exactly 25%: 2 of 8", 2, 8, false},
		{"exactly 25%: 25 of 100", 25, 100, false},
		{"just over: 26 of 100", 26, 100, true},
		{"just over: 25001 of 100000", 25_001, 100_000, true},
		{"just over: 2 of 7 (28.6%)", 2, 7, true},
		{"just under: 1 of 5", 1, 5, false},
		{"just under: 24 of 97 (24.7%)", 24, 97, false},
		{"just over: 25 of 99 (25.3%)", 25, 99, true},
		{"one of three", 1, 3, true},
		{"all of them", 10, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, billing.BlastRadiusExceeded(tt.n, tt.active, maxPercent))
		})
	}
}
