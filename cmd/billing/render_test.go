package billing

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// The overage table: what an operator reads after a manual run.
func TestRenderOverage(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	code := 3
	msg := "1 charges were not accepted by Stripe"
	rec := runner.Record{ID: uuid.MustParse("11111111-2222-3333-4444-555555555555"), Job: overage.Name, Status: runner.StatusPartial,
		AsOf: &asOf, ExitCode: &code, Error: &msg}
	rep := &overage.Report{
		Periods: []string{"2026-03"}, ClosedPeriod: "2026-02",
		Clients: []overage.ClientLine{{Email: "a@example.test", Plan: "starter", Period: "2026-03", Status: "active",
			Used: 1300, Limit: 1000, Soft: 1200, Hard: 1500, NewUnits: 100, AmountCents: 150, Currency: "usd", Action: "bill"}},
		Stripe: overage.StripeReport{Enabled: true, Attempted: 2, Posted: 1, Failed: 1, Pending: 1,
			Errors: []overage.PushFailure{{ChargeID: uuid.Nil, ClientID: uuid.Nil, Error: "no customer"}}},
		Totals: overage.Totals{ClientsEvaluated: 3, ClientsOverSoftCap: 1, ChargesCreated: 1, NewUnits: 100,
			AmountCents: map[string]int64{"usd": 150}, ClosedPeriodUnbilledUnits: 7},
	}
	var b bytes.Buffer
	require.NoError(t, renderOverage(&b, rec, rep))
	out := b.String()
	require.Contains(t, out, "billing-overage  run 11111111-2222-3333-4444-555555555555  as of 2026-03-20T00:00:00Z  periods 2026-03 (2026-02 closed)")
	require.Regexp(t, `a@example\.test\s+starter\s+2026-03\s+active\s+1300\s+1000\s+1200\s+1500\s+0\s+100\s+1\.50 USD\s+bill`, out)
	require.Contains(t, out, "3 clients evaluated, 1 over the soft cap; billed 100 units in 1 charge (1.50 USD)")
	require.Contains(t, out, "closed period 2026-02: 7 billable units arrived after it closed; not billed")
	require.Contains(t, out, "stripe: 2 pushed, 1 posted, 1 failed; 1 still pending")
	require.Contains(t, out, "): no customer")
	require.Contains(t, out, "status: partial (exit 3): 1 charges were not accepted by Stripe")
	for _, line := range strings.Split(out, "\n") {
		require.Equal(t, strings.TrimRight(line, " "), line, "no trailing spaces")
	}

	// A run the job never got to (skipped for the lock): the footer only.
	b.Reset()
	require.NoError(t, renderOverage(&b, rec, nil))
	require.Equal(t, "\nstatus: partial (exit 3): 1 charges were not accepted by Stripe\n", b.String())
}
