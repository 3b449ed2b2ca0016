package admin_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/db/usage"
	"github.com/cortexlayer/cortexctl/internal/apikey"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Creating clients, their keys and their plan: one transaction each, the
// secret returned once and stored nowhere, the key working (or refused) as
// soon as the call returns.

// works reports whether a key authenticates its client now, as the API
// would ask.
func works(t *testing.T, fx *fixture.Fixture, secret string) bool {
	t.Helper()
	_, err := usage.Authenticate(context.Background(), fx.DB.Pool, apikey.Hash(secret))
	if err != nil {
		require.ErrorIs(t, err, usage.ErrUnknownKey)
		return false
	}
	return true
}

// requireSecretStoredAsHash checks that no row of api_keys or clients
// holds the secret, in any column, and that the stored hash is the
// secret's.
func requireSecretStoredAsHash(t *testing.T, fx *fixture.Fixture, k admin.NewKey) {
	t.Helper()
	var n int
	fx.Scalar(&n, `SELECT count(*) FROM api_keys t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0`,
		k.Secret, strings.TrimPrefix(k.Secret, apikey.Prefix))
	require.Zero(t, n, "the secret is stored nowhere in api_keys")
	fx.Scalar(&n, `SELECT count(*) FROM clients t WHERE strpos(t::text, $1) > 0`, strings.TrimPrefix(k.Secret, apikey.Prefix))
	require.Zero(t, n)
	var hash []byte
	var prefix string
	fx.Scalar(&hash, `SELECT key_hash FROM api_keys WHERE id = $1`, k.ID)
	fx.Scalar(&prefix, `SELECT prefix FROM api_keys WHERE id = $1`, k.ID)
	require.True(t, bytes.Equal(apikey.Hash(k.Secret), hash), "only the key's SHA-256 is stored")
	require.Equal(t, k.Secret[:apikey.ShownLen], prefix)
	require.Equal(t, prefix, k.Prefix)
}

func countClients(t *testing.T, fx *fixture.Fixture) int {
	t.Helper()
	var n int
	fx.Scalar(&n, `SELECT count(*) FROM clients`)
	return n
}

func TestCreateClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	now, cur := clock(t, fx)

	c, err := admin.CreateClient(ctx, fx.DB.Pool, admin.CreateRequest{
		Email: " billing@acme.test ", Company: " Acme Ltd ", Plan: "growth", StripeCustomerID: "cus_Acme1", Actor: "ops:alice"})
	require.NoError(t, err)
	d := c.Client
	require.NotEqual(t, uuid.Nil, d.ID)
	require.Equal(t, "billing@acme.test", d.Email, "trimmed")
	require.Equal(t, "Acme Ltd", d.Company)
	require.Equal(t, "growth", d.Plan)
	require.Equal(t, "active", d.Status)
	require.Equal(t, "cus_Acme1", *d.StripeCustomerID)
	require.Equal(t, cur.String(), d.Period)
	require.Zero(t, d.Used)
	require.EqualValues(t, 5000, d.Limit)
	require.False(t, d.CreatedAt.Before(now), "created by the database's clock")
	require.True(t, d.CreatedAt.Equal(d.StatusSince))
	require.Equal(t, []admin.PeriodCharges{{Period: cur.String(), Currency: "usd"}, {Period: cur.Prev().String(), Currency: "usd"}}, d.Charged)
	require.Empty(t, d.StatusEvents)

	k := c.Key
	require.NoError(t, apikey.Check(k.Secret))
	require.Equal(t, d.ID, k.ClientID)
	require.Equal(t, "ops:alice", k.CreatedBy)
	require.Nil(t, k.RevokedAt)
	require.True(t, d.CreatedAt.Equal(k.CreatedAt), "one transaction")
	require.Equal(t, []admin.Key{k.Key}, d.APIKeys, "the detail lists the key, without its secret")
	requireSecretStoredAsHash(t, fx, k)
	require.True(t, works(t, fx, k.Secret))

	// Read back as any client is.
	shown, err := admin.ShowClient(ctx, fx.DB.Pool, "billing@acme.test")
	require.NoError(t, err)
	require.Equal(t, d.ID, shown.ID)
	require.Equal(t, d.APIKeys, shown.APIKeys)

	// No Stripe customer: null.
	c2, err := admin.CreateClient(ctx, fx.DB.Pool, admin.CreateRequest{Email: "b@acme.test", Company: "B", Plan: "starter", Actor: "ops"})
	require.NoError(t, err)
	require.Nil(t, c2.Client.StripeCustomerID)
	require.NotEqual(t, c.Key.Secret, c2.Key.Secret)
}

func TestCreateClientRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	existing := fx.Client("starter")
	req := admin.CreateRequest{Email: "new@example.test", Company: "New Co", Plan: "starter", Actor: "ops:alice"}
	before := countClients(t, fx)

	for _, tc := range []struct {
		name   string
		change func(*admin.CreateRequest)
		exists bool
		want   string
	}{
		{"the same e-mail", func(r *admin.CreateRequest) { r.Email = email(existing) }, true,
			"client " + existing.String() + " has the e-mail \"" + email(existing) + "\" already"},
		{"the same e-mail but for case", func(r *admin.CreateRequest) { r.Email = strings.ToUpper(email(existing)) }, true,
			"has the e-mail \"" + email(existing) + "\" already (e-mails are compared ignoring case)"},
		{"the same Stripe customer", func(r *admin.CreateRequest) { r.StripeCustomerID = fixture.CustomerID(existing) }, true,
			"the Stripe customer " + fixture.CustomerID(existing) + " is client " + email(existing) + "'s (" + existing.String() + ") already"},
		{"an unknown plan", func(r *admin.CreateRequest) { r.Plan = "platinum" }, false,
			`unknown plan "platinum": the plans are starter, growth, scale`},
		{"no plan", func(r *admin.CreateRequest) { r.Plan = " " }, false, "no plan: give a plan code"},
		{"no e-mail", func(r *admin.CreateRequest) { r.Email = "" }, false, "no e-mail"},
		{"not an e-mail", func(r *admin.CreateRequest) { r.Email = "acme" }, false, `"acme" is not an e-mail address`},
		{"an e-mail with a name", func(r *admin.CreateRequest) { r.Email = "Bob <bob@example.test>" }, false, "is not an e-mail address"},
		{"a too long e-mail", func(r *admin.CreateRequest) { r.Email = strings.Repeat("a", 250) + "@x.test" }, false, "at most 254"},
		{"no company", func(r *admin.CreateRequest) { r.Company = "  " }, false, "no company name"},
		{"a too long company", func(r *admin.CreateRequest) { r.Company = strings.Repeat("é", 201) }, false, "201 characters long: at most 200"},
		{"not a Stripe customer", func(r *admin.CreateRequest) { r.StripeCustomerID = "sub_123" }, false, `"sub_123" is not a Stripe customer id`},
		{"no actor", func(r *admin.CreateRequest) { r.Actor = " " }, false, "no actor"},
	} {
		_, err := admin.CreateClient(ctx, fx.DB.Pool, with(req, tc.change))
		require.Error(t, err, tc.name)
		require.Equal(t, exitcode.Usage, exitcode.Of(err), "%s: %v", tc.name, err)
		require.Equal(t, tc.exists, errors.Is(err, admin.ErrClientExists), "%s: %v", tc.name, err)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	require.Equal(t, before, countClients(t, fx), "no refusal created a client")
	var keys int
	fx.Scalar(&keys, `SELECT count(*) FROM api_keys`)
	require.Zero(t, keys, "nor a key")
}

// Two operators create the same client at once, one spelling its e-mail
// in capitals: exactly one succeeds.
func TestCreateClientTwiceAtOnce(t *testing.T) {
	t.Parallel()
	fx := fixture.New(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, e := range []string{"twice@example.test", "TWICE@example.test"} {
		wg.Go(func() {
			_, errs[i] = admin.CreateClient(context.Background(), fx.DB.Pool,
				admin.CreateRequest{Email: e, Company: "Twice", Plan: "starter", Actor: "ops"})
		})
	}
	wg.Wait()
	require.True(t, (errs[0] == nil) != (errs[1] == nil), "exactly one succeeds: %v", errs)
	for _, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, admin.ErrClientExists)
		}
	}
	require.Equal(t, 1, countClients(t, fx))
}

func TestCreateKeyRotates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	id := fx.Client("starter")
	old1, old2 := fx.APIKey(id), fx.APIKey(id)
	gone := fx.APIKey(id)
	fx.Exec(`UPDATE api_keys SET revoked_at = '2026-01-01', revoked_by = 'earlier' WHERE key_hash = $1`, apikey.Hash(gone))
	other := fx.APIKey(fx.Client("starter"))

	// A rotation: the new key works, the client's other live keys are
	// refused from the commit on, and nobody else's.
	r, err := admin.CreateKey(ctx, fx.DB.Pool, admin.KeyRequest{Client: email(id), Actor: "ops:alice", RevokeOthers: true})
	require.NoError(t, err)
	require.Equal(t, id, r.ClientID)
	require.Equal(t, email(id), r.Email)
	require.Equal(t, "ops:alice", r.Key.CreatedBy)
	requireSecretStoredAsHash(t, fx, r.Key)
	require.True(t, works(t, fx, r.Key.Secret))
	require.False(t, works(t, fx, old1))
	require.False(t, works(t, fx, old2))
	require.True(t, works(t, fx, other))
	require.Len(t, r.Revoked, 2, "the live keys only")
	require.False(t, r.Revoked[0].CreatedAt.Before(r.Revoked[1].CreatedAt), "newest first")
	var prefixes []string
	for _, k := range r.Revoked {
		require.Equal(t, "ops:alice", *k.RevokedBy)
		require.True(t, r.Key.CreatedAt.Equal(*k.RevokedAt), "revoked in the transaction that made the new key")
		prefixes = append(prefixes, k.Prefix)
	}
	require.ElementsMatch(t, []string{old1[:apikey.ShownLen], old2[:apikey.ShownLen]}, prefixes)
	var by string
	fx.Scalar(&by, `SELECT revoked_by FROM api_keys WHERE key_hash = $1`, apikey.Hash(gone))
	require.Equal(t, "earlier", by, "a key revoked before keeps who revoked it")

	// Keeping the others: one key more, both work.
	kept, err := admin.CreateKey(ctx, fx.DB.Pool, admin.KeyRequest{Client: id.String(), Actor: "ops:bob"})
	require.NoError(t, err)
	require.Empty(t, kept.Revoked)
	require.NotNil(t, kept.Revoked, "[] in JSON, not null")
	require.True(t, works(t, fx, kept.Key.Secret))
	require.True(t, works(t, fx, r.Key.Secret))

	// The detail lists the live keys first, newest first, then the revoked.
	d, err := admin.ShowClient(ctx, fx.DB.Pool, id.String())
	require.NoError(t, err)
	require.Len(t, d.APIKeys, 5)
	require.Equal(t, []uuid.UUID{kept.Key.ID, r.Key.ID}, []uuid.UUID{d.APIKeys[0].ID, d.APIKeys[1].ID})
	for i, k := range d.APIKeys {
		require.Equal(t, i >= 2, k.RevokedAt != nil, "live first: %d", i)
	}

	_, err = admin.CreateKey(ctx, fx.DB.Pool, admin.KeyRequest{Client: "nobody@example.test", Actor: "ops"})
	require.ErrorIs(t, err, admin.ErrNoClient)
	require.Equal(t, exitcode.Usage, exitcode.Of(err))
	_, err = admin.CreateKey(ctx, fx.DB.Pool, admin.KeyRequest{Client: id.String()})
	require.Equal(t, exitcode.Usage, exitcode.Of(err))
	require.ErrorContains(t, err, "no actor")
}

func TestRevokeKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	id, other := fx.Client("starter"), fx.Client("starter")
	key, spare, othersKey := fx.APIKey(id), fx.APIKey(id), fx.APIKey(other)
	keyID := func(secret string) uuid.UUID {
		var kid uuid.UUID
		fx.Scalar(&kid, `SELECT id FROM api_keys WHERE key_hash = $1`, apikey.Hash(secret))
		return kid
	}

	r, err := admin.RevokeKey(ctx, fx.DB.Pool, admin.RevokeRequest{Client: email(id), KeyID: keyID(key), Actor: "ops:alice"})
	require.NoError(t, err)
	require.False(t, r.AlreadyRevoked)
	require.Equal(t, email(id), r.Email)
	require.Equal(t, keyID(key), r.Key.ID)
	require.Equal(t, "ops:alice", *r.Key.RevokedBy)
	require.Equal(t, "fixture", r.Key.CreatedBy)
	require.False(t, works(t, fx, key), "refused from the commit on")
	require.True(t, works(t, fx, spare), "the client's other key still works")

	// Again: nothing changes, and the result says when and by whom.
	again, err := admin.RevokeKey(ctx, fx.DB.Pool, admin.RevokeRequest{Client: id.String(), KeyID: keyID(key), Actor: "ops:bob"})
	require.NoError(t, err)
	require.True(t, again.AlreadyRevoked)
	require.Equal(t, "ops:alice", *again.Key.RevokedBy)
	require.True(t, r.Key.RevokedAt.Equal(*again.Key.RevokedAt))

	// Another client's key, or no key at all: ErrNoKey, and nothing revoked.
	for _, kid := range []uuid.UUID{keyID(othersKey), uuid.New()} {
		_, err := admin.RevokeKey(ctx, fx.DB.Pool, admin.RevokeRequest{Client: id.String(), KeyID: kid, Actor: "ops"})
		require.ErrorIs(t, err, admin.ErrNoKey)
		require.Equal(t, exitcode.Usage, exitcode.Of(err))
		require.ErrorContains(t, err, "client "+email(id)+" ("+id.String()+") has no API key "+kid.String())
	}
	require.True(t, works(t, fx, othersKey))

	_, err = admin.RevokeKey(ctx, fx.DB.Pool, admin.RevokeRequest{Client: uuid.NewString(), KeyID: keyID(spare), Actor: "ops"})
	require.ErrorIs(t, err, admin.ErrNoClient)
	require.True(t, works(t, fx, spare))
}

func TestChangePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	now, cur := clock(t, fx)
	over := fx.Client("starter")
	fx.Usage(over, 1600, cur.Start)
	disable(fx, over, billing.ReasonHardCap, cur.Start)
	events := fx.StatusEvents(over)

	// An upgrade: the new caps, against this period's usage; no status change.
	c, err := admin.ChangePlan(ctx, fx.DB.Pool, admin.PlanRequest{Client: email(over), Plan: "growth", Actor: "ops:alice"})
	require.NoError(t, err)
	require.Equal(t, admin.PlanChange{AsOf: c.AsOf, ClientID: over, Email: email(over), FromPlan: "starter", ToPlan: "growth", Actor: "ops:alice",
		Status: "disabled", DisabledReason: ptr("hard_cap"), Period: cur.String(), Used: 1600, Limit: 5000, Soft: 6000, Hard: 7500}, c)
	require.False(t, c.AsOf.Before(now))
	var plan string
	fx.Scalar(&plan, `SELECT plan_code FROM clients WHERE id = $1`, over)
	require.Equal(t, "growth", plan)
	status, reason := fx.Status(over)
	require.Equal(t, [2]string{"disabled", "hard_cap"}, [2]string{status, reason}, "a plan change changes no status")
	require.Equal(t, events, fx.StatusEvents(over))

	// Now under its hard cap, the client is enabled without an exemption.
	_, err = admin.Enable(ctx, fx.DB.Pool, admin.EnableRequest{Client: over.String(), Actor: "ops:alice", Note: "upgraded"})
	require.NoError(t, err)

	// A downgrade puts it beyond the new hard cap: said, not acted on.
	c, err = admin.ChangePlan(ctx, fx.DB.Pool, admin.PlanRequest{Client: over.String(), Plan: "starter", Actor: "ops:bob"})
	require.NoError(t, err)
	require.True(t, c.OverHardCap)
	require.True(t, c.OverSoftCap)
	require.Equal(t, "active", c.Status)
	require.Nil(t, c.DisabledReason)
	require.EqualValues(t, 1500, c.Hard)

	before := fx.Dump()
	_, err = admin.ChangePlan(ctx, fx.DB.Pool, admin.PlanRequest{Client: over.String(), Plan: "starter", Actor: "ops"})
	r := requireRefused(t, err, admin.ErrSamePlan)
	require.Equal(t, over, r.ClientID)
	require.EqualError(t, err, "refusing to change the plan of client "+email(over)+" ("+over.String()+"): it is on that plan already")
	_, err = admin.ChangePlan(ctx, fx.DB.Pool, admin.PlanRequest{Client: over.String(), Plan: "platinum", Actor: "ops"})
	require.Equal(t, exitcode.Usage, exitcode.Of(err))
	require.EqualError(t, err, `unknown plan "platinum": the plans are starter, growth, scale`)
	_, err = admin.ChangePlan(ctx, fx.DB.Pool, admin.PlanRequest{Client: "nobody@example.test", Plan: "growth", Actor: "ops"})
	require.ErrorIs(t, err, admin.ErrNoClient)
	_, err = admin.ChangePlan(ctx, fx.DB.Pool, admin.PlanRequest{Client: over.String(), Plan: "growth"})
	require.ErrorContains(t, err, "no actor")
	require.Equal(t, before, fx.Dump(), "refusals write nothing")
}

// The reads say ErrNoClient for a client that is not there, and only then.
func TestUnknownClientIsErrNoClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := fixture.New(t)
	for _, ref := range []string{"nobody@example.test", uuid.NewString()} {
		_, err := admin.ShowClient(ctx, fx.DB.Pool, ref)
		require.ErrorIs(t, err, admin.ErrNoClient, ref)
		require.Equal(t, exitcode.Usage, exitcode.Of(err))
	}
	_, err := admin.Usage(ctx, fx.DB.Pool, uuid.New())
	require.ErrorIs(t, err, admin.ErrNoClient)
	for _, ref := range []string{"", "acme"} {
		_, err := admin.ShowClient(ctx, fx.DB.Pool, ref)
		require.Equal(t, exitcode.Usage, exitcode.Of(err))
		require.NotErrorIs(t, err, admin.ErrNoClient, "%q names no client because it names nothing", ref)
	}
}
