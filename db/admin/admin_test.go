package admin_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// In-process tests of the operator's reads and audited writes against the
// real PostgreSQL. "Now" is the database's clock, so usage is placed in the
// current period as the database sees it.

// clock is the database's now and its current period.
func clock(t *testing.T, fx *fixture.Fixture) (time.Time, billing.Period) {
	t.Helper()
	var now time.Time
	fx.Scalar(&now, `SELECT now()`)
	return now.UTC(), billing.PeriodOf(now)
}

func email(id uuid.UUID) string { return id.String() + "@example.test" }

// disable sets a client disabled as a job would have, at the given instant.
func disable(fx *fixture.Fixture, id uuid.UUID, reason string, at time.Time) {
	fx.Exec(`UPDATE clients SET billing_status = 'disabled', disabled_reason = $2, disabled_at = $3 WHERE id = $1`, id, reason, at)
}

// requireRefused checks a refusal of the rules: exit 2, the rule, the
// client; it returns the refusal.
func requireRefused(t *testing.T, err error, rule error) (r *admin.Refused) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
	require.ErrorIs(t, err, rule)
	require.ErrorAs(t, err, &r)
	return r
}

func TestFindClientByIDOrEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	id := fx.Client("starter")
	fx.Exec(`INSERT INTO clients (email, company_name, plan_code) VALUES ('Mixed@Example.test', 'M', 'starter'), ('mixed@example.test', 'm', 'starter')`)

	for _, ref := range []string{id.String(), email(id), "  " + email(id) + " ", "  " + id.String()} {
		got, err := admin.ShowClient(ctx, fx.DB.Pool, ref)
		require.NoError(t, err, ref)
		require.Equal(t, id, got.ID, ref)
	}
	got, err := admin.ShowClient(ctx, fx.DB.Pool, "Mixed@Example.test")
	require.NoError(t, err)
	require.Equal(t, "Mixed@Example.test", got.Email, "an exact match wins over a case-insensitive one")

	for _, tc := range []struct{ ref, want string }{
		{"", "no client given: name it by its id (a UUID) or its e-mail"},
		{"   ", "no client given"},
		{"nobody@example.test", `no client has the e-mail "nobody@example.test": check it with ` + "`cortexctl clients list`"},
		{uuid.NewString(), "no client has the id "},
		{"00000000-0000-0000-0000-000000000000", "no client has the id 00000000-0000-0000-0000-000000000000"},
		{"acme", `"acme" is neither a client id (a UUID) nor an e-mail`},
		{"MIXED@EXAMPLE.TEST", `the e-mail "MIXED@EXAMPLE.TEST" names 2 clients when case is ignored (Mixed@Example.test, mixed@example.test): give the exact e-mail or the id`},
	} {
		_, err := admin.ShowClient(ctx, fx.DB.Pool, tc.ref)
		require.Error(t, err, tc.ref)
		require.Equal(t, exitcode.Usage, exitcode.Of(err), "%q: %v", tc.ref, err)
		require.Contains(t, err.Error(), tc.want)
	}
	// The case-insensitive match of one client is found whatever the case.
	got, err = admin.ShowClient(ctx, fx.DB.Pool, strings.ToUpper(email(id)))
	require.NoError(t, err)
	require.Equal(t, id, got.ID)
}

func TestListClients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	now, cur := clock(t, fx)

	under := fx.Client("starter")
	fx.Usage(under, 1200, cur.Start) // exactly the soft cap
	between := fx.Client("starter")
	fx.Usage(between, 1300, cur.Start)
	fx.Exec(`INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at) VALUES ($1, 'ingest', 5000, $2)`, under, cur.Start)
	fx.Usage(under, 5000, cur.Start.Add(-time.Second)) // last period: not counted
	over := fx.Client("growth")
	fx.Usage(over, 7501, cur.Start)
	disable(fx, over, billing.ReasonHardCap, cur.Start.Add(time.Minute))
	grace := fx.GraceClient("starter", cur.Start.Add(-48*time.Hour))
	exempt := fx.Client("starter")
	fx.Usage(exempt, 1600, cur.Start)
	fx.Exec(`UPDATE clients SET hard_cap_exempt_until = $2 WHERE id = $1`, exempt, cur.End)
	ended := fx.Client("starter")
	fx.Exec(`UPDATE clients SET hard_cap_exempt_until = $2 WHERE id = $1`, ended, cur.Start)

	all, err := admin.ListClients(ctx, fx.DB.Pool, admin.ClientFilter{})
	require.NoError(t, err)
	require.Len(t, all, 6)
	byID := map[uuid.UUID]admin.ClientSummary{}
	for i, s := range all {
		byID[s.ID] = s
		if i > 0 {
			require.Less(t, all[i-1].Email, s.Email, "by e-mail")
		}
		require.Equal(t, cur.String(), s.Period)
		require.False(t, s.AsOf.Before(now), "the database's clock when the list was read")
		require.True(t, all[0].AsOf.Equal(s.AsOf), "one snapshot, one now")
	}

	u := byID[under]
	require.EqualValues(t, 1200, u.Used, "only queries of this period count")
	require.Equal(t, [3]int64{1000, 1200, 1500}, [3]int64{u.Limit, u.Soft, u.Hard})
	require.False(t, u.OverSoftCap, "exactly the soft cap is not beyond it")
	require.Equal(t, "active", u.Status)
	require.Nil(t, u.DisabledReason)
	require.True(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Equal(u.StatusSince), "never changed: since created")
	require.Equal(t, "starter", u.Plan)
	require.Equal(t, "Test Co", u.Company)
	require.NotNil(t, u.StripeCustomerID)

	require.True(t, byID[between].OverSoftCap)
	require.False(t, byID[between].OverHardCap)

	o := byID[over]
	require.Equal(t, "disabled", o.Status)
	require.Equal(t, "hard_cap", *o.DisabledReason)
	require.True(t, cur.Start.Add(time.Minute).Equal(o.StatusSince), "since disabled_at")
	require.True(t, o.OverHardCap)

	g := byID[grace]
	require.Equal(t, "grace_period", g.Status)
	require.True(t, cur.Start.Add(-48*time.Hour).Equal(g.StatusSince), "since the grace clock")

	e := byID[exempt]
	require.True(t, e.HardCapExempt)
	require.True(t, cur.End.Equal(*e.HardCapExemptUntil))
	require.True(t, e.OverHardCap)
	require.False(t, byID[ended].HardCapExempt, "an exemption that ended no longer holds")
	require.NotNil(t, byID[ended].HardCapExemptUntil)

	ids := func(f admin.ClientFilter) []uuid.UUID {
		t.Helper()
		list, err := admin.ListClients(ctx, fx.DB.Pool, f)
		require.NoError(t, err)
		var out []uuid.UUID
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	require.ElementsMatch(t, []uuid.UUID{between, over, exempt}, ids(admin.ClientFilter{OverSoftCap: true}))
	require.ElementsMatch(t, []uuid.UUID{over}, ids(admin.ClientFilter{Status: "disabled"}))
	require.ElementsMatch(t, []uuid.UUID{over}, ids(admin.ClientFilter{Plan: "growth"}))
	require.ElementsMatch(t, []uuid.UUID{between, exempt}, ids(admin.ClientFilter{Status: "active", Plan: "starter", OverSoftCap: true}))
	require.Empty(t, ids(admin.ClientFilter{Plan: "scale"}))

	_, err = admin.ListClients(ctx, fx.DB.Pool, admin.ClientFilter{Plan: "platinum"})
	require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
	require.EqualError(t, err, `unknown plan "platinum": the plans are starter, growth, scale`)
	_, err = admin.ListClients(ctx, fx.DB.Pool, admin.ClientFilter{Status: "paused"})
	require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)

	// A status reached through an event: since the event.
	disable(fx, under, billing.ReasonAdmin, cur.Start)
	fx.Exec(`UPDATE clients SET billing_status = 'active', disabled_reason = NULL WHERE id = $1`, under)
	var at time.Time
	fx.Scalar(&at, `SELECT max(occurred_at) FROM client_status_events WHERE client_id = $1 AND to_status = 'active'`, under)
	list, err := admin.ListClients(ctx, fx.DB.Pool, admin.ClientFilter{Plan: "starter", Status: "active"})
	require.NoError(t, err)
	for _, s := range list {
		if s.ID == under {
			require.True(t, at.Equal(s.StatusSince), "since the event that made it active: %s", s.StatusSince)
		}
	}
}

func TestShowClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	_, cur := clock(t, fx)
	prev := cur.Prev()
	id := fx.Client("starter")
	other := fx.Client("starter")
	fx.Usage(id, 1400, cur.Start)
	period := func(p billing.Period) string { return p.Start.Format(time.DateOnly) }
	fx.Charge(fixture.PendingCharge{Client: id, Period: period(prev), Units: 300, Cents: 300})
	first := fx.Charge(fixture.PendingCharge{Client: id, Period: period(cur), Units: 100, Cents: 100, PushAttempts: 2})
	fx.Exec(`UPDATE overage_charges SET status = 'posted', stripe_invoice_item_id = 'ii_1', posted_at = now() WHERE id = $1`, first)
	pending := fx.Charge(fixture.PendingCharge{Client: id, Period: period(cur), UnitsFrom: 100, Units: 100, Cents: 100, PushAttempts: 1})
	fx.Exec(`UPDATE overage_charges SET last_push_error = 'no customer' WHERE id = $1`, pending)
	fx.Charge(fixture.PendingCharge{Client: other, Period: period(cur), Units: 7, Cents: 7})
	for i := range 12 { // more status events than are shown
		status := []string{"disabled", "active"}[i%2]
		reason := map[string]any{"disabled": "admin", "active": nil}[status]
		fx.Exec(`UPDATE clients SET billing_status = $2, disabled_reason = $3 WHERE id = $1`, id, status, reason)
	}

	d, err := admin.ShowClient(ctx, fx.DB.Pool, email(id))
	require.NoError(t, err)
	require.Equal(t, id, d.ID)
	require.EqualValues(t, 1400, d.Used)
	require.Equal(t, "usd", d.Currency)
	require.EqualValues(t, 10_000, d.UnitPriceMicros)
	require.True(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Equal(d.CreatedAt))
	require.Equal(t, []admin.PeriodCharges{
		{Period: cur.String(), Currency: "usd", Units: 200, AmountCents: 200, Charges: 2, Pending: 1},
		{Period: prev.String(), Currency: "usd", Units: 300, AmountCents: 300, Charges: 1, Pending: 1},
	}, d.Charged)
	require.Len(t, d.PendingCharges, 2, "this client's pending charges only")
	require.Equal(t, prev.String(), d.PendingCharges[0].Period, "oldest first")
	require.Equal(t, pending, d.PendingCharges[1].ID)
	require.Equal(t, "no customer", *d.PendingCharges[1].LastPushError)
	require.Equal(t, 1, d.PendingCharges[1].PushAttempts)
	require.Len(t, d.StatusEvents, admin.MaxEvents)
	require.Equal(t, "active", d.StatusEvents[0].To, "newest first")
	require.Greater(t, d.StatusEvents[0].ID, d.StatusEvents[1].ID)
	require.Equal(t, "postgres", d.StatusEvents[0].Actor, "a change made without naming itself is the database role")

	// A client with no charges: a line of zeros per period, in the plan's currency.
	d, err = admin.ShowClient(ctx, fx.DB.Pool, fx.Client("growth").String())
	require.NoError(t, err)
	require.Equal(t, []admin.PeriodCharges{{Period: cur.String(), Currency: "usd"}, {Period: prev.String(), Currency: "usd"}}, d.Charged)
	require.Empty(t, d.PendingCharges)
	require.Empty(t, d.StatusEvents)
}

func TestListCharges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	a, b := fx.Client("starter"), fx.Client("starter")
	older := fx.Charge(fixture.PendingCharge{Client: a, Period: "2026-10-01", Units: 10, Cents: 10})
	fx.Exec(`UPDATE overage_charges SET created_at = now() - interval '1 day', status = 'posted', stripe_invoice_item_id = 'ii_a', posted_at = now() WHERE id = $1`, older)
	newer := fx.Charge(fixture.PendingCharge{Client: a, Period: "2026-11-01", Units: 20, Cents: 20, PushAttempts: 3})
	fx.Exec(`UPDATE overage_charges SET last_push_error = 'stripe answered HTTP 400' WHERE id = $1`, newer)
	ofB := fx.Charge(fixture.PendingCharge{Client: b, Period: "2026-11-01", Units: 30, Cents: 30})
	fx.Exec(`UPDATE overage_charges SET created_at = now() - interval '1 hour' WHERE id = $1`, ofB)

	list := func(f admin.ChargeFilter) []uuid.UUID {
		t.Helper()
		got, err := admin.ListCharges(ctx, fx.DB.Pool, f)
		require.NoError(t, err)
		var out []uuid.UUID
		for _, c := range got {
			out = append(out, c.ID)
		}
		return out
	}
	nov := billing.PeriodOf(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	require.Equal(t, []uuid.UUID{newer, ofB, older}, list(admin.ChargeFilter{}), "newest first")
	require.Equal(t, []uuid.UUID{newer, ofB}, list(admin.ChargeFilter{Pending: true}))
	require.Equal(t, []uuid.UUID{newer, older}, list(admin.ChargeFilter{Client: email(a)}))
	require.Equal(t, []uuid.UUID{ofB}, list(admin.ChargeFilter{Client: b.String(), Period: &nov}))
	require.Equal(t, []uuid.UUID{newer, ofB}, list(admin.ChargeFilter{Period: &nov}))
	require.Equal(t, []uuid.UUID{newer}, list(admin.ChargeFilter{Limit: 1}))

	got, err := admin.ListCharges(ctx, fx.DB.Pool, admin.ChargeFilter{Client: email(a), Pending: true})
	require.NoError(t, err)
	require.Len(t, got, 1)
	c := got[0]
	require.Equal(t, admin.Charge{ID: newer, ClientID: a, Email: email(a), Period: "2026-11", Units: 20, AmountCents: 20, Currency: "usd",
		Status: "pending", IdempotencyKey: c.IdempotencyKey, PushAttempts: 3, LastPushError: c.LastPushError, CreatedAt: c.CreatedAt}, c)
	require.Equal(t, "stripe answered HTTP 400", *c.LastPushError)
	posted, err := admin.ListCharges(ctx, fx.DB.Pool, admin.ChargeFilter{Period: &billing.Period{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}})
	require.NoError(t, err)
	require.Equal(t, "ii_a", *posted[0].StripeInvoiceItemID)
	require.NotNil(t, posted[0].PostedAt)

	_, err = admin.ListCharges(ctx, fx.DB.Pool, admin.ChargeFilter{Client: "nobody@example.test"})
	require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
	require.Contains(t, err.Error(), `no client has the e-mail "nobody@example.test"`)
}

func TestEnable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	now, cur := clock(t, fx)
	over := fx.Client("starter")
	fx.Usage(over, 1600, cur.Start)
	disable(fx, over, billing.ReasonHardCap, cur.Start)
	req := admin.EnableRequest{Client: email(over), Actor: "ops:alice", Note: "OPS-123: upgrading"}

	// Beyond the hard cap without an exemption: refused, nothing written.
	before := fx.Dump()
	_, err := admin.Enable(ctx, fx.DB.Pool, req)
	r := requireRefused(t, err, billing.ErrOverHardCap)
	require.Equal(t, over, r.ClientID)
	require.True(t, cur.End.Equal(r.PeriodEnd))
	require.Contains(t, err.Error(), "refusing to enable client "+email(over)+" ("+over.String()+"): the next overage run would disable it again: its 1600 queries this period")

	// An exemption past the period, or already over: refused.
	_, err = admin.Enable(ctx, fx.DB.Pool, with(req, func(r *admin.EnableRequest) { r.ExemptUntil = cur.End.Add(time.Second) }))
	_ = requireRefused(t, err, billing.ErrExemptionBeyondPeriod)
	_, err = admin.Enable(ctx, fx.DB.Pool, with(req, func(r *admin.EnableRequest) { r.ExemptUntil = now.Add(-time.Second) }))
	_ = requireRefused(t, err, billing.ErrExemptionNotAfterNow)

	// A dry run decides, and writes nothing.
	dry, err := admin.Enable(ctx, fx.DB.Pool, with(req, func(r *admin.EnableRequest) { r.ExemptUntil, r.DryRun = cur.End, true }))
	require.NoError(t, err)
	require.True(t, dry.DryRun)
	require.Nil(t, dry.Event)
	require.Equal(t, [2]string{"disabled", "active"}, [2]string{dry.FromStatus, dry.ToStatus})
	require.Equal(t, before, fx.Dump(), "refusals and dry runs write nothing")

	// With an exemption to the end of the period: enabled and audited.
	c, err := admin.Enable(ctx, fx.DB.Pool, with(req, func(r *admin.EnableRequest) { r.ExemptUntil = cur.End }))
	require.NoError(t, err)
	require.False(t, c.DryRun)
	require.Equal(t, over, c.ClientID)
	require.Equal(t, "hard_cap", *c.FromReason)
	require.Nil(t, c.Reason)
	require.EqualValues(t, 1600, c.Used)
	require.EqualValues(t, 1500, c.Hard)
	require.True(t, c.OverHardCap)
	require.Equal(t, cur.String(), c.Period)
	require.True(t, cur.End.Equal(*c.HardCapExemptUntil))
	require.NotNil(t, c.Event)
	require.Equal(t, admin.StatusEvent{ID: c.Event.ID, ClientID: over, From: "disabled", To: "active", Actor: "ops:alice",
		Note: ptr("OPS-123: upgrading"), HardCapExemptUntil: c.HardCapExemptUntil, OccurredAt: c.AsOf}, *c.Event)
	status, reason := fx.Status(over)
	require.Equal(t, [2]string{"active", ""}, [2]string{status, reason})
	var until *time.Time
	fx.Scalar(&until, `SELECT hard_cap_exempt_until FROM clients WHERE id = $1`, over)
	require.True(t, cur.End.Equal(*until))
	require.Equal(t, []fixture.StatusEvent{
		{From: "active", To: "disabled", Reason: "hard_cap", Actor: "postgres"},
		{From: "disabled", To: "active", Actor: "ops:alice"},
	}, fx.StatusEvents(over))

	// Enabled already: refused.
	_, err = admin.Enable(ctx, fx.DB.Pool, req)
	_ = requireRefused(t, err, billing.ErrNotDisabled)

	// Disabled by an operator: the disable clears the exemption (the trigger),
	// and records its reason and note.
	d, err := admin.Disable(ctx, fx.DB.Pool, admin.DisableRequest{Client: over.String(), Reason: "admin", Actor: "ops:bob", Note: "OPS-124: abuse"})
	require.NoError(t, err)
	require.Equal(t, "admin", *d.Event.Reason)
	require.Equal(t, "OPS-124: abuse", *d.Event.Note)
	require.Nil(t, d.Event.HardCapExemptUntil)
	fx.Scalar(&until, `SELECT hard_cap_exempt_until FROM clients WHERE id = $1`, over)
	require.Nil(t, until, "a disable clears the exemption")
	var disabledAt time.Time
	fx.Scalar(&disabledAt, `SELECT disabled_at FROM clients WHERE id = $1`, over)
	require.True(t, d.AsOf.Equal(disabledAt), "disabled at the transaction's now")

	// A client back under its hard cap needs no exemption; none is kept.
	under := fx.Client("starter")
	fx.Usage(under, 1500, cur.Start)
	disable(fx, under, billing.ReasonHardCap, cur.Start)
	c, err = admin.Enable(ctx, fx.DB.Pool, admin.EnableRequest{Client: under.String(), Actor: "ops:alice", Note: "usage corrected"})
	require.NoError(t, err)
	require.Nil(t, c.HardCapExemptUntil)
	require.False(t, c.OverHardCap)

	// Nobody named: refused before anything is read.
	for _, bad := range []admin.EnableRequest{{Client: under.String(), Note: "n"}, {Client: under.String(), Actor: "a", Note: " "}} {
		_, err := admin.Enable(ctx, fx.DB.Pool, bad)
		require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
	}
}

func TestDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	_, cur := clock(t, fx)
	grace := fx.GraceClient("starter", cur.Start)
	c, err := admin.Disable(ctx, fx.DB.Pool, admin.DisableRequest{Client: email(grace), Reason: "admin", Actor: "ops:alice", Note: "OPS-9"})
	require.NoError(t, err)
	require.Equal(t, [2]string{"grace_period", "disabled"}, [2]string{c.FromStatus, c.ToStatus})
	require.Nil(t, fx.GraceStartedAt(grace), "the grace clock is cleared")
	require.Equal(t, []fixture.StatusEvent{{From: "grace_period", To: "disabled", Reason: "admin", Actor: "ops:alice"}}, fx.StatusEvents(grace))

	cancelled := fx.Client("starter")
	fx.Exec(`UPDATE clients SET billing_status = 'cancelled' WHERE id = $1`, cancelled)
	active := fx.Client("starter")
	before := fx.Dump()
	_, err = admin.Disable(ctx, fx.DB.Pool, admin.DisableRequest{Client: email(grace), Reason: "admin", Actor: "ops:alice", Note: "again"})
	_ = requireRefused(t, err, billing.ErrNotDisablable)
	_, err = admin.Disable(ctx, fx.DB.Pool, admin.DisableRequest{Client: cancelled.String(), Reason: "admin", Actor: "a", Note: "n"})
	_ = requireRefused(t, err, billing.ErrNotDisablable)
	_, err = admin.Disable(ctx, fx.DB.Pool, admin.DisableRequest{Client: active.String(), Reason: "hard_cap", Actor: "a", Note: "n"})
	_ = requireRefused(t, err, billing.ErrNotOperatorReason)
	dry, err := admin.Disable(ctx, fx.DB.Pool, admin.DisableRequest{Client: active.String(), Reason: "admin", Actor: "a", Note: "n", DryRun: true})
	require.NoError(t, err)
	require.Equal(t, "admin", *dry.Reason)
	require.Equal(t, before, fx.Dump(), "refusals and dry runs write nothing")
}

// Two operators enabling the same client at once: the row lock serialises
// them, one enables it, the other finds it enabled and is refused.
func TestEnableTwiceAtOnce(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	_, cur := clock(t, fx)
	id := fx.Client("starter")
	disable(fx, id, billing.ReasonAdmin, cur.Start)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			_, errs[i] = admin.Enable(context.Background(), fx.DB.Pool, admin.EnableRequest{Client: id.String(), Actor: "ops", Note: "n"})
		})
	}
	wg.Wait()
	require.True(t, (errs[0] == nil) != (errs[1] == nil), "exactly one succeeds: %v", errs)
	for _, err := range errs {
		if err != nil {
			_ = requireRefused(t, err, billing.ErrNotDisabled)
		}
	}
	require.Len(t, fx.StatusEvents(id), 2, "the fixture's disable and one enable")
}

func with[T any](v T, change func(*T)) T {
	change(&v)
	return v
}

func ptr[T any](v T) *T { return &v }
