package overage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/jobs/overage"
)

// dryAt are the command's default options at asOf, for a dry run.
func dryAt(asOf string) overage.Options {
	o := optionsAt(asOf)
	o.DryRun = true
	return o
}

// An operator's exemption from the hard-cap disable (clients.
// hard_cap_exempt_until, set by `clients enable --exempt-until`): the job
// bills an exempt client beyond its hard cap but does not disable it while
// the as-of is before the exemption's end; from the end on it disables it
// like any other, and the disable clears the exemption.
func TestHardCapExemptionIsHonouredUntilItEnds(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	activeFillers(fx, 8)
	exempt := fx.Client("starter")
	fx.Usage(exempt, 1600, at("2026-03-10T10:00:00Z"))
	fx.Exec(`UPDATE clients SET hard_cap_exempt_until = '2026-03-25T00:00:00Z' WHERE id = $1`, exempt)
	plain := fx.Client("starter") // the same usage, no exemption
	fx.Usage(plain, 1600, at("2026-03-10T10:00:00Z"))

	// A dry run before the end says what the real run does.
	dry := billOK(t, fx, nil, dryAt("2026-03-20T00:00:00Z")).Report
	require.Equal(t, "bill", lineOf(t, dry, exempt, "2026-03").Action)
	require.Equal(t, "bill+disable", lineOf(t, dry, plain, "2026-03").Action)

	first := billOK(t, fx, nil, optionsAt("2026-03-20T00:00:00Z"))
	l := lineOf(t, first.Report, exempt, "2026-03")
	require.Equal(t, "bill", l.Action, "billed, not disabled")
	require.EqualValues(t, 400, l.NewUnits)
	require.Equal(t, "beyond the hard cap, exempt until 2026-03-25T00:00:00Z: billed, not disabled", l.Note)
	require.Equal(t, "bill+disable", lineOf(t, first.Report, plain, "2026-03").Action)
	require.Equal(t, 1, first.Report.Totals.Disabled, "only the client without an exemption")
	status, reason := fx.Status(exempt)
	require.Equal(t, [2]string{"active", ""}, [2]string{status, reason})
	require.Empty(t, fx.StatusEvents(exempt))

	// More usage before the end: billed, still not disabled.
	fx.Usage(exempt, 100, at("2026-03-22T10:00:00Z"))
	second := billOK(t, fx, nil, optionsAt("2026-03-24T23:59:59Z")).Report
	require.Equal(t, "bill", lineOf(t, second, exempt, "2026-03").Action)
	require.EqualValues(t, 100, lineOf(t, second, exempt, "2026-03").NewUnits)
	status, _ = fx.Status(exempt)
	require.Equal(t, "active", status)

	// A dry run may look past the end: it would disable.
	after := billOK(t, fx, nil, dryAt("2026-03-25T00:00:00Z")).Report
	require.Equal(t, "disable", lineOf(t, after, exempt, "2026-03").Action)

	// The first real run at the end disables it, and the exemption is gone.
	ended := billOK(t, fx, nil, optionsAt("2026-03-25T00:00:00Z"))
	require.Equal(t, "disable", lineOf(t, ended.Report, exempt, "2026-03").Action)
	require.Empty(t, lineOf(t, ended.Report, exempt, "2026-03").Note)
	status, reason = fx.Status(exempt)
	require.Equal(t, [2]string{"disabled", "hard_cap"}, [2]string{status, reason})
	var until *time.Time
	fx.Scalar(&until, `SELECT hard_cap_exempt_until FROM clients WHERE id = $1`, exempt)
	require.Nil(t, until, "a disable clears the exemption")
	runID := ended.Record.ID
	require.Equal(t, []fixture.StatusEvent{{From: "active", To: "disabled", Reason: "hard_cap", Actor: "billing-overage", RunID: &runID}},
		fx.StatusEvents(exempt))
	units, _ := fx.Charged(exempt, march)
	require.EqualValues(t, 500, units, "everything beyond the soft cap was billed, once")

	// Next month, under the hard cap: reactivated as any hard-cap disable.
	april := billOK(t, fx, nil, optionsAt("2026-04-02T00:00:00Z")).Report
	require.Equal(t, "reactivate", lineOf(t, april, exempt, "2026-04").Action)
}

// An exemption is re-read under the client's row lock: one granted after
// the run's snapshot, while the run waited for the row, is honoured.
func TestHardCapExemptionIsReadUnderTheRowLock(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	activeFillers(fx, 8)
	id := fx.Client("starter")
	fx.Usage(id, 1600, at("2026-03-10T10:00:00Z"))

	// The operator's transaction holds the row while the run plans.
	ctx := t.Context()
	tx, err := fx.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SELECT 1 FROM clients WHERE id = $1 FOR UPDATE`, id)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := billRun(context.Background(), fx.DB.Pool, nil, optionsAt("2026-03-20T00:00:00Z"))
		done <- err
	}()
	fx.WaitForLockWait() // planned bill+disable from its snapshot; waits on the row
	_, err = tx.Exec(ctx, `UPDATE clients SET hard_cap_exempt_until = '2026-03-31T00:00:00Z' WHERE id = $1`, id)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, <-done)
	status, _ := fx.Status(id)
	require.Equal(t, "active", status, "the exemption committed before the client's transaction is honoured")
	units, _ := fx.Charged(id, march)
	require.EqualValues(t, 400, units)
}
