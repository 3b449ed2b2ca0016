package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/api"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

const (
	whsec       = "whsec_test"
	webhookPath = "/webhooks/stripe"
)

// webhookEnv is a server with the webhook secret configured.
func webhookEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, func(c *api.Config, _ *api.Deps) { c.WebhookSecret = whsec })
}

// deliver posts payload as Stripe does, signed now with the secret.
func (e *env) deliver(payload []byte) resp {
	e.t.Helper()
	return e.do("POST", webhookPath, payload, "Stripe-Signature", stripetest.Sign(payload, whsec, time.Time{}))
}

// outcome requires a 200 acknowledging the event and returns its outcome.
func outcome(t *testing.T, r resp, eventID string) string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var body struct {
		Received bool   `json:"received"`
		EventID  string `json:"event_id"`
		Outcome  string `json:"outcome"`
	}
	r.JSON(t, &body)
	require.True(t, body.Received)
	require.Equal(t, eventID, body.EventID)
	return body.Outcome
}

// Events of a fixture client (its customer is fixture.CustomerID), created at.
func failedEvent(id uuid.UUID, at time.Time) stripetest.Event {
	return stripetest.Event{ID: stripetest.NewID("evt"), Type: "invoice.payment_failed", Created: at,
		Customer: fixture.CustomerID(id), Invoice: stripetest.NewID("in"), AmountDue: 4900}
}

func paidEvent(id uuid.UUID, at time.Time) stripetest.Event {
	return stripetest.Event{ID: stripetest.NewID("evt"), Type: "invoice.paid", Created: at,
		Customer: fixture.CustomerID(id), Invoice: stripetest.NewID("in"), AmountDue: 4900, AmountPaid: 4900}
}

func deletedEvent(id uuid.UUID, at time.Time) stripetest.Event {
	return stripetest.Event{ID: stripetest.NewID("evt"), Type: "customer.subscription.deleted", Created: at,
		Customer: fixture.CustomerID(id)}
}

// statusEvent is a client_status_events row with its note.
type statusEvent struct{ From, To, Reason, Actor, Note string }

func statusEvents(e *env, id uuid.UUID) []statusEvent {
	e.t.Helper()
	rows, err := e.F.DB.Pool.Query(context.Background(), `
		SELECT from_status, to_status, coalesce(reason, ''), actor, coalesce(note, '')
		FROM client_status_events WHERE client_id = $1 ORDER BY id`, id)
	require.NoError(e.t, err)
	defer rows.Close()
	var out []statusEvent
	for rows.Next() {
		var s statusEvent
		require.NoError(e.t, rows.Scan(&s.From, &s.To, &s.Reason, &s.Actor, &s.Note))
		out = append(out, s)
	}
	require.NoError(e.t, rows.Err())
	return out
}

// payment is a payments row.
type payment struct {
	Status  string
	Cents   int64
	Invoice string
	At      time.Time
	EventID string
}

func paymentsOf(e *env, id uuid.UUID) []payment {
	e.t.Helper()
	rows, err := e.F.DB.Pool.Query(context.Background(), `
		SELECT status, amount_cents, coalesce(stripe_invoice_id, ''), occurred_at, coalesce(stripe_event_id, '')
		FROM payments WHERE client_id = $1 AND stripe_event_id IS NOT NULL ORDER BY id`, id)
	require.NoError(e.t, err)
	defer rows.Close()
	var out []payment
	for rows.Next() {
		var p payment
		require.NoError(e.t, rows.Scan(&p.Status, &p.Cents, &p.Invoice, &p.At, &p.EventID))
		p.At = p.At.UTC()
		out = append(out, p)
	}
	require.NoError(e.t, rows.Err())
	return out
}

// stored is the stripe_events row of an event: its outcome and client;
// outcome "" when there is none.
func stored(e *env, eventID string) (outcome string, client *uuid.UUID) {
	e.t.Helper()
	var n int
	e.F.Scalar(&n, `SELECT count(*) FROM stripe_events WHERE id = $1`, eventID)
	if n == 0 {
		return "", nil
	}
	e.F.Scalar(&outcome, `SELECT outcome FROM stripe_events WHERE id = $1`, eventID)
	e.F.Scalar(&client, `SELECT client_id FROM stripe_events WHERE id = $1`, eventID)
	return outcome, client
}

func lastEventAt(e *env, id uuid.UUID) *time.Time {
	e.t.Helper()
	var at *time.Time
	e.F.Scalar(&at, `SELECT stripe_event_at FROM clients WHERE id = $1`, id)
	return at
}

func count(e *env, table string) int {
	e.t.Helper()
	var n int
	e.F.Scalar(&n, `SELECT count(*) FROM `+table)
	return n
}

func requireStatus(t *testing.T, e *env, id uuid.UUID, status, reason string) {
	t.Helper()
	s, r := e.F.Status(id)
	require.Equal(t, [2]string{status, reason}, [2]string{s, r}, "status and disabled reason of %s", id)
}

func requireTime(t *testing.T, want time.Time, got *time.Time, what string) {
	t.Helper()
	require.NotNil(t, got, what)
	require.True(t, want.Equal(*got), "%s: want %s, got %s", what, want, got)
}

// now is the test's "now" to the second, as Stripe's created times are.
func (e *env) now() time.Time { return e.Clock.Now().Truncate(time.Second) }

func TestWebhookPaymentFailedStartsGrace(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	other := e.F.Client("starter")
	at := e.now().Add(-time.Hour)
	ev := failedEvent(id, at)

	require.Equal(t, "applied", outcome(t, e.deliver(ev.JSON()), ev.ID))

	requireStatus(t, e, id, "grace_period", "")
	requireTime(t, at, e.F.GraceStartedAt(id), "the grace clock starts at the event's creation")
	requireTime(t, at, lastEventAt(e, id), "stripe_event_at")
	require.Equal(t, []payment{{Status: "failed", Cents: 4900, Invoice: ev.Invoice, At: at, EventID: ev.ID}}, paymentsOf(e, id))
	require.Equal(t, []statusEvent{{From: "active", To: "grace_period", Actor: ev.ID, Note: "invoice.payment_failed"}}, statusEvents(e, id))
	o, client := stored(e, ev.ID)
	require.Equal(t, "applied", o)
	require.Equal(t, &id, client)
	var typ string
	var created time.Time
	e.F.Scalar(&typ, `SELECT type FROM stripe_events WHERE id = $1`, ev.ID)
	e.F.Scalar(&created, `SELECT created_at FROM stripe_events WHERE id = $1`, ev.ID)
	require.Equal(t, "invoice.payment_failed", typ)
	require.True(t, at.Equal(created))

	// Only that customer's client moved.
	requireStatus(t, e, other, "active", "")
	require.Empty(t, statusEvents(e, other))
	require.Contains(t, e.Logs.String(), ev.ID)
}

func TestWebhookBadSignatureChangesNothing(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	ev := failedEvent(id, e.now())
	payload := ev.JSON()
	tampered := bytes.Replace(payload, []byte(`"amount_due":4900`), []byte(`"amount_due":1`), 1)
	require.NotEqual(t, payload, tampered)
	good := stripetest.Sign(payload, whsec, time.Time{})
	before := e.F.Dump()

	cases := []struct {
		name    string
		payload []byte
		headers []string
	}{
		{"tampered body", tampered, []string{"Stripe-Signature", good}},
		{"signed with another secret", payload, []string{"Stripe-Signature", stripetest.Sign(payload, "whsec_other", time.Time{})}},
		{"missing header", payload, nil},
		{"garbage header", payload, []string{"Stripe-Signature", "t=abc,v1=zz"}},
		{"expired: signed beyond the tolerance", payload, []string{"Stripe-Signature",
			stripetest.Sign(payload, whsec, time.Now().Add(-stripeclient.WebhookTolerance-time.Minute))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, e.URL, "POST", webhookPath, c.payload, c.headers...)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			require.Equal(t, api.CodeInvalidSignature, r.ErrorCode(t))
		})
	}

	// Signed, but not an event: 400 invalid_event.
	notEvent := []byte(`{"id":"in_1","object":"invoice"}`)
	r := e.do("POST", webhookPath, notEvent, "Stripe-Signature", stripetest.Sign(notEvent, whsec, time.Time{}))
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, api.CodeInvalidEvent, r.ErrorCode(t))

	require.Equal(t, before, e.F.Dump(), "no refused delivery changed anything")
	require.Zero(t, count(e, "stripe_events"))
	require.Zero(t, count(e, "payments"))
	requireStatus(t, e, id, "active", "")
	require.Contains(t, e.Logs.String(), "invalid signature")

	// Within the tolerance, the same event is taken in.
	r = e.do("POST", webhookPath, payload, "Stripe-Signature",
		stripetest.Sign(payload, whsec, time.Now().Add(-stripeclient.WebhookTolerance+time.Minute)))
	require.Equal(t, "applied", outcome(t, r, ev.ID))
	require.Equal(t, int64(4900), paymentsOf(e, id)[0].Cents, "the signed amount, not the tampered one")
}

func TestWebhookRedeliveryIsDuplicate(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	failed := failedEvent(id, e.now().Add(-2*time.Hour))
	payload := failed.JSON()

	require.Equal(t, "applied", outcome(t, e.deliver(payload), failed.ID))
	// Stripe signs every attempt anew.
	r := e.do("POST", webhookPath, payload, "Stripe-Signature", stripetest.Sign(payload, whsec, time.Now().Add(-time.Minute)))
	require.Equal(t, "duplicate", outcome(t, r, failed.ID))
	require.Len(t, paymentsOf(e, id), 1, "a redelivery adds no payment")
	require.Len(t, statusEvents(e, id), 1)
	o, _ := stored(e, failed.ID)
	require.Equal(t, "applied", o, "the stored outcome is the first delivery's")

	// The client pays; the failure delivered again now moves nothing back.
	paid := paidEvent(id, e.now().Add(-time.Hour))
	require.Equal(t, "applied", outcome(t, e.deliver(paid.JSON()), paid.ID))
	requireStatus(t, e, id, "active", "")
	require.Equal(t, "duplicate", outcome(t, e.deliver(payload), failed.ID))
	requireStatus(t, e, id, "active", "")
	require.Len(t, paymentsOf(e, id), 2)
	require.Equal(t, []statusEvent{
		{From: "active", To: "grace_period", Actor: failed.ID, Note: "invoice.payment_failed"},
		{From: "grace_period", To: "active", Actor: paid.ID, Note: "invoice.paid"},
	}, statusEvents(e, id))
}

func TestWebhookSameEventConcurrentlyAppliesOnce(t *testing.T) {
	t.Parallel()
	const n = 12
	// The server gets a pool of its own, wide enough for every delivery to
	// hold a connection at once (the fixture's has 4).
	e := newEnv(t, func(c *api.Config, d *api.Deps) {
		c.WebhookSecret = whsec
		d.DB = widePool(t, d.DB, n+2)
	})
	id := e.F.Client("starter")
	ev := failedEvent(id, e.now().Add(-time.Hour))
	payload := ev.JSON()
	sig := stripetest.Sign(payload, whsec, time.Time{})

	// Hold the client's row so that every delivery is in flight at once:
	// the first waits on the row lock, the others on its stripe_events row.
	release := e.F.HoldRowLock(id)
	var wg sync.WaitGroup
	results := make([]resp, n)
	for i := range n {
		wg.Go(func() { results[i] = e.do("POST", webhookPath, payload, "Stripe-Signature", sig) })
	}
	require.Eventually(t, func() bool {
		var waiting int
		e.F.Scalar(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
		return waiting == n
	}, 30*time.Second, 20*time.Millisecond, "every delivery waits: one on the client's row, the rest on the event's")
	release()
	wg.Wait()

	outcomes := map[string]int{}
	for _, r := range results {
		outcomes[outcome(t, r, ev.ID)]++
	}
	require.Equal(t, map[string]int{"applied": 1, "duplicate": n - 1}, outcomes)
	require.Len(t, paymentsOf(e, id), 1)
	require.Equal(t, []statusEvent{{From: "active", To: "grace_period", Actor: ev.ID, Note: "invoice.payment_failed"}}, statusEvents(e, id))
	require.Equal(t, 1, count(e, "stripe_events"))
}

// invoice.paid created at t2 arrives before invoice.payment_failed created
// at t1: the client stays active, both payments are recorded, the failure
// is stale.
func TestWebhookOutOfOrderNeverMovesBack(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	t1 := e.now().Add(-2 * time.Hour)
	t2 := t1.Add(time.Minute)
	failed, paid := failedEvent(id, t1), paidEvent(id, t2)
	paid.Invoice = failed.Invoice // Stripe's retry of the same invoice succeeded

	require.Equal(t, "recorded", outcome(t, e.deliver(paid.JSON()), paid.ID))
	require.Equal(t, "stale", outcome(t, e.deliver(failed.JSON()), failed.ID))

	requireStatus(t, e, id, "active", "")
	require.Nil(t, e.F.GraceStartedAt(id))
	requireTime(t, t2, lastEventAt(e, id), "stripe_event_at stays at the newest event")
	require.Equal(t, []payment{
		{Status: "succeeded", Cents: 4900, Invoice: paid.Invoice, At: t2, EventID: paid.ID},
		{Status: "failed", Cents: 4900, Invoice: failed.Invoice, At: t1, EventID: failed.ID},
	}, paymentsOf(e, id))
	require.Empty(t, statusEvents(e, id))
	o, client := stored(e, failed.ID)
	require.Equal(t, "stale", o)
	require.Equal(t, &id, client)

	// A newer failure still applies; one as old as the newest event too.
	again := failedEvent(id, t2)
	require.Equal(t, "applied", outcome(t, e.deliver(again.JSON()), again.ID))
	requireStatus(t, e, id, "grace_period", "")
	requireTime(t, t2, e.F.GraceStartedAt(id), "grace clock")
}

// Stripe retries a failed invoice for days; every failure is recorded, the
// grace clock stays at the first.
func TestWebhookRepeatedFailuresKeepTheGraceStart(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("growth")
	t1 := e.now().Add(-72 * time.Hour)
	first := failedEvent(id, t1)
	require.Equal(t, "applied", outcome(t, e.deliver(first.JSON()), first.ID))
	for i, after := range []time.Duration{24 * time.Hour, 48 * time.Hour, 71 * time.Hour} {
		retry := failedEvent(id, t1.Add(after))
		retry.Invoice = first.Invoice
		require.Equal(t, "recorded", outcome(t, e.deliver(retry.JSON()), retry.ID), "retry %d", i)
		requireTime(t, t1, e.F.GraceStartedAt(id), "the grace clock after retry")
		requireTime(t, t1.Add(after), lastEventAt(e, id), "stripe_event_at")
	}
	requireStatus(t, e, id, "grace_period", "")
	require.Len(t, paymentsOf(e, id), 4)
	require.Len(t, statusEvents(e, id), 1, "one status change: the first failure")
}

func TestWebhookPaidDuringGraceReactivates(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	since := e.now().Add(-3 * 24 * time.Hour)
	id := e.F.GraceClient("starter", since)
	paid := paidEvent(id, e.now().Add(-time.Minute))

	require.Equal(t, "applied", outcome(t, e.deliver(paid.JSON()), paid.ID))
	requireStatus(t, e, id, "active", "")
	require.Nil(t, e.F.GraceStartedAt(id))
	require.Equal(t, []statusEvent{{From: "grace_period", To: "active", Actor: paid.ID, Note: "invoice.paid"}}, statusEvents(e, id))
	require.Equal(t, "succeeded", paymentsOf(e, id)[0].Status)

	// A payment made before this grace began does not end it.
	id2 := e.F.GraceClient("starter", since)
	early := paidEvent(id2, since.Add(-time.Hour))
	require.Equal(t, "stale", outcome(t, e.deliver(early.JSON()), early.ID))
	requireStatus(t, e, id2, "grace_period", "")
	require.Len(t, paymentsOf(e, id2), 1, "recorded all the same")
}

func TestWebhookPaidAfterGraceExpiredReactivates(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	e.F.Disable(id, "grace_expired")
	paid := paidEvent(id, e.now())

	require.Equal(t, "applied", outcome(t, e.deliver(paid.JSON()), paid.ID))
	requireStatus(t, e, id, "active", "")
	var disabledAt *time.Time
	e.F.Scalar(&disabledAt, `SELECT disabled_at FROM clients WHERE id = $1`, id)
	require.Nil(t, disabledAt)
	events := statusEvents(e, id)
	require.Equal(t, statusEvent{From: "disabled", To: "active", Actor: paid.ID, Note: "invoice.paid"}, events[len(events)-1])
}

func TestWebhookPaidDoesNotLiftHardCapOrAdminDisable(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	for _, reason := range []string{"hard_cap", "admin"} {
		id := e.F.Client("starter")
		e.F.Disable(id, reason)
		before := len(statusEvents(e, id))
		paid := paidEvent(id, e.now())

		require.Equal(t, "recorded", outcome(t, e.deliver(paid.JSON()), paid.ID), reason)
		requireStatus(t, e, id, "disabled", reason)
		require.Len(t, statusEvents(e, id), before, "%s: no status change", reason)
		require.Len(t, paymentsOf(e, id), 1, "%s: the payment is recorded", reason)
	}
}

func TestWebhookSubscriptionDeletedCancels(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	active := e.F.Client("starter")
	inGrace := e.F.GraceClient("starter", e.now().Add(-time.Hour))
	disabled := e.F.Client("starter")
	e.F.Disable(disabled, "hard_cap")

	for _, c := range []struct {
		id   uuid.UUID
		from string
	}{{active, "active"}, {inGrace, "grace_period"}, {disabled, "disabled"}} {
		ev := deletedEvent(c.id, e.now())
		require.Equal(t, "applied", outcome(t, e.deliver(ev.JSON()), ev.ID), c.from)
		requireStatus(t, e, c.id, "cancelled", "") // disabled_reason NULL: the CHECK wants it
		require.Nil(t, e.F.GraceStartedAt(c.id))
		events := statusEvents(e, c.id)
		require.Equal(t, statusEvent{From: c.from, To: "cancelled", Reason: "subscription_cancelled", Actor: ev.ID,
			Note: "customer.subscription.deleted"}, events[len(events)-1])
		require.Empty(t, paymentsOf(e, c.id), "a cancel carries no payment")

		// Already cancelled: recorded, nothing more.
		again := deletedEvent(c.id, e.now())
		require.Equal(t, "recorded", outcome(t, e.deliver(again.JSON()), again.ID))
		require.Len(t, statusEvents(e, c.id), len(events))
	}
}

// A cancel is never stale: an invoice.paid created after it but delivered
// first must not keep the client active.
func TestWebhookCancelDeliveredLateStillCancels(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	t1 := e.now().Add(-time.Hour)
	cancel, paid := deletedEvent(id, t1), paidEvent(id, t1.Add(time.Minute))

	require.Equal(t, "recorded", outcome(t, e.deliver(paid.JSON()), paid.ID))
	require.Equal(t, "applied", outcome(t, e.deliver(cancel.JSON()), cancel.ID))
	requireStatus(t, e, id, "cancelled", "")
	requireTime(t, t1.Add(time.Minute), lastEventAt(e, id), "stripe_event_at never moves back")
}

func TestWebhookUnknownCustomer(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	ev := stripetest.Event{ID: stripetest.NewID("evt"), Type: "invoice.payment_failed", Created: e.now(), Customer: "cus_nobody", AmountDue: 4900}
	before := e.F.Dump()

	require.Equal(t, "unknown_customer", outcome(t, e.deliver(ev.JSON()), ev.ID))
	o, client := stored(e, ev.ID)
	require.Equal(t, "unknown_customer", o)
	require.Nil(t, client)
	require.Equal(t, before, e.F.Dump(), "no client, no payment, no status changed")
	requireStatus(t, e, id, "active", "")
	require.Contains(t, e.Logs.String(), `"level":"warn"`)
	require.Contains(t, e.Logs.String(), "cus_nobody")

	// An event of a handled type whose object names no customer is the same.
	none := stripetest.Event{ID: stripetest.NewID("evt"), Type: "invoice.paid", Created: e.now()}
	require.Equal(t, "unknown_customer", outcome(t, e.deliver(none.JSON()), none.ID))
}

func TestWebhookOtherTypesAreIgnored(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	id := e.F.Client("starter")
	before := e.F.Dump()
	for _, typ := range []string{"invoice.created", "invoice.payment_succeeded", "customer.updated", "charge.succeeded"} {
		ev := stripetest.Event{ID: stripetest.NewID("evt"), Type: typ, Created: e.now(), Customer: fixture.CustomerID(id), AmountDue: 4900, AmountPaid: 4900}
		payload := ev.JSON()
		require.Equal(t, "ignored", outcome(t, e.deliver(payload), ev.ID), typ)
		o, _ := stored(e, ev.ID)
		require.Equal(t, "ignored", o)
		require.Equal(t, "duplicate", outcome(t, e.deliver(payload), ev.ID), typ)
	}
	require.Equal(t, before, e.F.Dump(), "an ignored event changes nothing")
	require.Nil(t, lastEventAt(e, id))
	require.Contains(t, e.Logs.String(), `"level":"debug"`)
}

func TestWebhookWithoutSecretIs503(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // no STRIPE_WEBHOOK_SECRET
	id := e.F.Client("starter")
	ev := failedEvent(id, e.now())
	payload := ev.JSON()

	r := e.do("POST", webhookPath, payload, "Stripe-Signature", stripetest.Sign(payload, "", time.Time{}))
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
	require.Equal(t, api.CodeWebhooksDisabled, r.ErrorCode(t))
	require.Zero(t, count(e, "stripe_events"))
	requireStatus(t, e, id, "active", "")
	require.Contains(t, e.Logs.String(), "STRIPE_WEBHOOK_SECRET is not set")
	require.Contains(t, e.Logs.String(), `"level":"warn"`)
}

// widePool is a pool of its own on the database of d, of size conns.
func widePool(t *testing.T, d api.Store, conns int) api.Store {
	t.Helper()
	cfg := d.(*db.Pool).Config().Copy()
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return db.NewPool(pool)
}

func TestWebhookDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/nothing?connect_timeout=2")
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	e := newEnv(t, func(c *api.Config, d *api.Deps) {
		c.WebhookSecret = whsec
		d.DB = db.NewPool(pool)
	})
	ev := failedEvent(uuid.New(), e.now())

	r := e.deliver(ev.JSON())
	require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s", r.Body)
	require.Equal(t, api.CodeUnavailable, r.ErrorCode(t))
}

func TestWebhookBodyTooLarge(t *testing.T) {
	t.Parallel()
	e := webhookEnv(t)
	payload := []byte(`{"id":"evt_big","object":"event","pad":"` + strings.Repeat("x", api.DefaultMaxBody) + `"}`)
	r := e.deliver(payload)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	require.Equal(t, api.CodeBodyTooLarge, r.ErrorCode(t))
	require.NotContains(t, string(r.Body), "1000 events", "the message speaks of Stripe events, not usage batches")
	require.Zero(t, count(e, "stripe_events"))
}
