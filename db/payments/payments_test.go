package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/db/payments"
)

// The webhook's behaviour is tested through the API in internal/api
// (webhook_test.go) and with the grace job in jobs/grace; these tests hold
// what only the store can show.

func TestApplyRefusesAnEventWithoutIdentity(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	at := time.Date(2026, 10, 7, 2, 0, 0, 0, time.UTC)
	for name, ev := range map[string]payments.Event{
		"no id":      {Type: "invoice.paid", Created: at},
		"no type":    {ID: "evt_1", Created: at},
		"no created": {ID: "evt_1", Type: "invoice.paid"},
	} {
		_, err := payments.Apply(context.Background(), fx.DB.Pool, ev)
		require.Error(t, err, name)
	}
	var n int
	fx.Scalar(&n, `SELECT count(*) FROM stripe_events`)
	require.Zero(t, n)
}

// A failure anywhere in Apply leaves nothing written, not even the
// stripe_events row, so Stripe's redelivery applies the event.
func TestApplyIsOneTransaction(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	ctx := context.Background()
	id := fx.Client("starter")
	ev := payments.Event{ID: "evt_atomic", Type: "invoice.payment_failed", Created: time.Date(2026, 10, 7, 2, 0, 0, 0, time.UTC),
		CustomerID: fixture.CustomerID(id), InvoiceID: "in_atomic", AmountCents: 4900}

	// The last write of Apply (the client's update) fails.
	fx.Exec(`CREATE FUNCTION fail_update() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure'; END; $$`)
	fx.Exec(`CREATE TRIGGER fail_update BEFORE UPDATE OF stripe_event_at ON clients FOR EACH ROW EXECUTE FUNCTION fail_update()`)
	before := fx.Dump()
	_, err := payments.Apply(ctx, fx.DB.Pool, ev)
	require.ErrorContains(t, err, "injected failure")
	require.ErrorContains(t, err, "evt_atomic", "the error names the event")
	require.Equal(t, before, fx.Dump())
	var n int
	fx.Scalar(&n, `SELECT count(*) FROM stripe_events`)
	require.Zero(t, n, "no stripe_events row: the redelivery is not a duplicate")

	fx.Exec(`DROP TRIGGER fail_update ON clients`)
	res, err := payments.Apply(ctx, fx.DB.Pool, ev)
	require.NoError(t, err)
	require.Equal(t, payments.Result{Outcome: payments.Applied, ClientID: id, From: "active", To: "grace_period"}, res)
	res, err = payments.Apply(ctx, fx.DB.Pool, ev)
	require.NoError(t, err)
	require.Equal(t, payments.Result{Outcome: payments.Duplicate}, res)
}
