package billing_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/billing"
)

// FuzzNextChargeCumulative splits increasing usage across runs and checks
// that incremental charging adds up to one charge at the end: the same units
// and the same cents, never a negative amount, and each charge within a cent
// of the exact price of its units.
//
// steps is read two bytes at a time as the usage added before each run (0
// means a run that sees nothing new).
func FuzzNextChargeCumulative(f *testing.F) {
	f.Add(int64(1000), int64(20), int64(10_000), []byte{0xb0, 0x04, 0x01, 0x00, 0x00, 0x00, 0x2c, 0x01})
	f.Add(int64(5000), int64(20), int64(5_000), []byte{0x71, 0x17, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00})
	f.Add(int64(50000), int64(20), int64(4_999), []byte{0x61, 0xea, 0x01, 0x00, 0x01, 0x00, 0x03, 0x00})
	f.Add(int64(1001), int64(20), int64(15_000), []byte{0xb2, 0x04, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00})
	f.Add(int64(7), int64(33), int64(3_333), []byte{0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x10, 0x00, 0xff, 0xff})
	f.Add(int64(0), int64(0), int64(1), []byte{0x87, 0x13, 0x01, 0x00, 0x88, 0x13})
	f.Add(int64(1000), int64(20), int64(0), []byte{0xff, 0xff})
	f.Add(int64(-1), int64(-1), int64(-1), []byte{})

	f.Fuzz(func(t *testing.T, limit, softPercent, micros int64, steps []byte) {
		// Keep inputs in a range where every amount fits in int64 cents:
		// usage < 2^16 × 256 runs, price < $100 a query.
		plan := billing.Plan{
			MonthlyLimit:    int64(uint64(limit) % 1_000_001),
			SoftCapPercent:  int64(uint64(softPercent) % 301),
			HardCapPercent:  300,
			UnitPriceMicros: int64(uint64(micros) % 100_000_001),
		}
		if len(steps) > 512 {
			steps = steps[:512]
		}
		caps := billing.CapsOf(plan)

		var used, charged, units, cents, lastBillable int64
		for i := 0; i+1 < len(steps); i += 2 {
			run := i / 2
			used += int64(binary.LittleEndian.Uint16(steps[i:]))
			billable := caps.Billable(used)
			if billable < lastBillable {
				t.Fatalf("run %d: billable fell from %d to %d as usage grew to %d", run, lastBillable, billable, used)
			}
			lastBillable = billable

			c, ok, err := billing.NextCharge(billable, charged, plan.UnitPriceMicros)
			if err != nil {
				t.Fatalf("run %d: NextCharge(%d, %d, %d): %v", run, billable, charged, plan.UnitPriceMicros, err)
			}
			if !ok {
				if billable > charged || c != (billing.Charge{}) {
					t.Fatalf("run %d: ok=false with billable %d, charged %d, charge %+v", run, billable, charged, c)
				}
				continue
			}
			if c.UnitsFrom != charged || c.Units != billable-charged || c.Units <= 0 {
				t.Fatalf("run %d: billable %d, charged %d: got %+v", run, billable, charged, c)
			}
			if c.AmountCents < 0 {
				t.Fatalf("run %d: negative amount %+v", run, c)
			}
			// A charge is the difference of two amounts each rounded by at
			// most half a cent, so it is within a cent of its exact price.
			// (units < 2^25, micros ≤ 10^8: the products fit in int64.)
			if diff := c.AmountCents*10_000 - c.Units*plan.UnitPriceMicros; diff > 10_000 || diff < -10_000 {
				t.Fatalf("run %d: %d units at %d micros charged %d cents", run, c.Units, plan.UnitPriceMicros, c.AmountCents)
			}
			charged += c.Units
			units += c.Units
			cents += c.AmountCents
		}

		require.Equal(t, lastBillable, charged, "every billable unit is charged once")
		one, ok, err := billing.NextCharge(lastBillable, 0, plan.UnitPriceMicros)
		require.NoError(t, err)
		require.Equal(t, lastBillable > 0, ok)
		require.Equal(t, one.Units, units, "units of the runs vs one run")
		require.Equal(t, one.AmountCents, cents, "cents of the runs vs one run")
		total, err := billing.AmountCents(lastBillable, plan.UnitPriceMicros)
		require.NoError(t, err)
		require.Equal(t, total, cents)
		// Half up, in micros: total×10⁴ − 5000 ≤ exact < total×10⁴ + 5000.
		exact := lastBillable * plan.UnitPriceMicros
		require.Truef(t, total*10_000-5_000 <= exact && exact < total*10_000+5_000,
			"%d units at %d micros: %d cents is not rounded half up", lastBillable, plan.UnitPriceMicros, total)
	})
}

// FuzzPeriodOf checks that the period of any instant, seen from any zone,
// contains it and is a calendar month in UTC starting on the 1st at 00:00.
//
// Seconds are folded into ±2^50 s (±35 million years): far beyond any real
// timestamp, and inside the range where the time package's own calendar
// arithmetic is exact (near ±2^63 s time.Unix itself wraps).
func FuzzPeriodOf(f *testing.F) {
	f.Add(int64(0), int64(0), int32(0))
	f.Add(utc(2026, time.January, 31, 23, 59, 59, 0).Unix(), int64(999_999_999), int32(0))
	f.Add(utc(2026, time.March, 1, 0, 0, 0, 0).Unix(), int64(0), int32(14*3600))
	f.Add(utc(2026, time.February, 28, 15, 0, 0, 0).Unix(), int64(0), int32(14*3600))
	f.Add(utc(2026, time.December, 31, 23, 0, 0, 0).Unix(), int64(1), int32(-12*3600))
	f.Add(utc(2028, time.February, 29, 0, 0, 0, 0).Unix(), int64(0), int32(-3600))
	f.Add(utc(2100, time.February, 28, 23, 59, 59, 0).Unix(), int64(999_999_999), int32(5*3600+45*60))
	f.Add(utc(1, time.January, 1, 0, 0, 0, 0).Unix(), int64(0), int32(0))
	f.Add(utc(-1, time.December, 31, 0, 0, 0, 0).Unix(), int64(0), int32(0))
	f.Add(int64(-1), int64(999_999_999), int32(0))

	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int32) {
		sec %= 1 << 50
		nsec = int64(uint64(nsec) % 1_000_000_000)
		off := int(int64(offset) % (18*3600 + 1)) // any fixed offset up to ±18h
		at := time.Unix(sec, nsec).In(time.FixedZone("fuzz", off))

		p := billing.PeriodOf(at)
		require.Truef(t, p.Contains(at), "%s (%s UTC) not in %s [%s, %s)", at, at.UTC(), p, p.Start, p.End)

		for _, b := range []time.Time{p.Start, p.End} {
			require.Equal(t, time.UTC, b.Location())
			require.Equal(t, 1, b.Day())
			h, m, s := b.Clock()
			require.Equal(t, [4]int{0, 0, 0, 0}, [4]int{h, m, s, b.Nanosecond()}, "bound %s is not 00:00", b)
		}
		u := at.UTC()
		require.Equal(t, u.Year(), p.Start.Year())
		require.Equal(t, u.Month(), p.Start.Month())
		require.True(t, p.End.Equal(p.Start.AddDate(0, 1, 0)))
		days := p.End.Sub(p.Start) / (24 * time.Hour)
		require.Contains(t, []time.Duration{28, 29, 30, 31}, days)

		require.False(t, p.Contains(p.Start.Add(-time.Nanosecond)))
		require.False(t, p.Contains(p.End))
		require.True(t, p.Prev().End.Equal(p.Start))
		require.True(t, billing.PeriodOf(p.End).Start.Equal(p.End))

		same := billing.PeriodOf(u)
		require.True(t, same.Start.Equal(p.Start) && same.End.Equal(p.End), "period depends on the zone of the input")
	})
}
