package clients

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/admin"
)

// What create, rotate-key, revoke-key and set-plan print: the secret once,
// with the line that says it will not be shown again.

const secret = "ck_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ"

var keyID = uuid.MustParse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")

func newKey() admin.NewKey {
	return admin.NewKey{Key: admin.Key{ID: keyID, ClientID: id1, Prefix: secret[:12], CreatedAt: now, CreatedBy: "ops:alice"}, Secret: secret}
}

func TestRenderCreated(t *testing.T) {
	t.Parallel()
	d := admin.ClientDetail{ClientSummary: admin.ClientSummary{ID: id1, Email: "billing@acme.test", Company: "Acme Ltd", Plan: "growth",
		Status: "active", Limit: 5000, Soft: 6000, Hard: 7500}}
	var b bytes.Buffer
	require.NoError(t, renderCreated(&b, admin.Created{Client: d, Key: newKey()}))
	out := b.String()
	require.True(t, strings.HasPrefix(out, "created client billing@acme.test (11111111-2222-3333-4444-555555555555)\n\n"), out)
	for _, want := range []string{
		"company          Acme Ltd",
		"plan             growth: limit 5000, soft cap 6000, hard cap 7500",
		"status           active",
		"stripe customer  none",
		"API key          " + secret + "\n",
		"key id           aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		"This API key is shown once, now",
		"cortexctl keeps only its SHA-256 and cannot show it again; if it is lost, make a new one with `cortexctl clients rotate-key billing@acme.test`.",
	} {
		require.Contains(t, out, want)
	}
	require.Equal(t, 1, strings.Count(out, secret[len("ck_live_"):]), "the secret is printed once")
	requireNoTrailingSpaces(t, out)
}

func TestRenderKeyCreated(t *testing.T) {
	t.Parallel()
	revokedAt := now
	old := admin.Key{ID: id1, Prefix: "ck_live_WXYZ", RevokedAt: &revokedAt, RevokedBy: ptr("ops:alice")}
	var b bytes.Buffer
	require.NoError(t, renderKeyCreated(&b, admin.KeyCreated{ClientID: id1, Email: "a@acme.test", Key: newKey(), Revoked: []admin.Key{old}}))
	out := b.String()
	require.True(t, strings.HasPrefix(out, "new API key for a@acme.test (11111111-2222-3333-4444-555555555555)\n\n"), out)
	require.Contains(t, out, "API key  "+secret+"\n")
	require.Contains(t, out, "revoked  1 key, refused from now on: ck_live_WXYZ (11111111-2222-3333-4444-555555555555)")
	require.Contains(t, out, "This API key is shown once, now")
	require.Equal(t, 1, strings.Count(out, secret))
	requireNoTrailingSpaces(t, out)

	b.Reset()
	require.NoError(t, renderKeyCreated(&b, admin.KeyCreated{ClientID: id1, Email: "a@acme.test", Key: newKey(), Revoked: []admin.Key{}}))
	require.Contains(t, b.String(), "revoked  none: the client's other keys still work")
}

func TestRenderRevoked(t *testing.T) {
	t.Parallel()
	revokedAt := now
	k := admin.KeyRevoked{Email: "a@acme.test", Key: admin.Key{ID: keyID, Prefix: "ck_live_ABCD", RevokedAt: &revokedAt, RevokedBy: ptr("ops:alice")}}
	var b bytes.Buffer
	require.NoError(t, renderRevoked(&b, k))
	require.Equal(t, "revoked API key ck_live_ABCD (aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee) of a@acme.test at 2026-11-27T16:00:00.123456Z; the API refuses it from now on\n", b.String())
	k.AlreadyRevoked = true
	b.Reset()
	require.NoError(t, renderRevoked(&b, k))
	require.Equal(t, "API key ck_live_ABCD (aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee) of a@acme.test was revoked already, at 2026-11-27T16:00:00.123456Z by ops:alice; nothing was changed\n", b.String())
}

func TestRenderPlanChange(t *testing.T) {
	t.Parallel()
	up := admin.PlanChange{AsOf: now, ClientID: id1, Email: "over@acme.test", FromPlan: "starter", ToPlan: "growth", Actor: "ops:alice",
		Status: "disabled", DisabledReason: ptr("hard_cap"), Period: "2026-11", Used: 1600, Limit: 5000, Soft: 6000, Hard: 7500}
	var b bytes.Buffer
	require.NoError(t, renderPlanChange(&b, up))
	out := b.String()
	require.True(t, strings.HasPrefix(out, "moved over@acme.test (11111111-2222-3333-4444-555555555555) from starter to growth\n\n"), out)
	for _, want := range []string{
		"plan    growth: limit 5000, soft cap 6000, hard cap 7500, for the whole of 2026-11",
		"usage   1600 queries in 2026-11 up to 2026-11-27T16:00:00.123456Z\n",
		"status  disabled (hard_cap) (unchanged)",
		"next    still disabled: it is under the new hard cap, so `cortexctl clients enable over@acme.test --note …` enables it without an exemption",
		"actor   ops:alice",
	} {
		require.Contains(t, out, want)
	}
	requireNoTrailingSpaces(t, out)

	down := admin.PlanChange{AsOf: now, ClientID: id1, Email: "big@acme.test", FromPlan: "growth", ToPlan: "starter", Actor: "ops:bob",
		Status: "active", Period: "2026-11", Used: 1600, Limit: 1000, Soft: 1200, Hard: 1500, OverSoftCap: true, OverHardCap: true}
	b.Reset()
	require.NoError(t, renderPlanChange(&b, down))
	require.Contains(t, b.String(), "usage   1600 queries in 2026-11 up to 2026-11-27T16:00:00.123456Z: beyond the new hard cap")
	require.Contains(t, b.String(), "next    the next overage run disables it: its usage is beyond the new hard cap")

	down.HardCapExempt = true
	b.Reset()
	require.NoError(t, renderPlanChange(&b, down))
	require.NotContains(t, b.String(), "next", "an exempt client is not disabled")
	down.HardCapExempt, down.Used, down.OverHardCap = false, 1300, false
	b.Reset()
	require.NoError(t, renderPlanChange(&b, down))
	require.Contains(t, b.String(), ": beyond the new soft cap (billed as overage)")
	require.NotContains(t, b.String(), "next")
}

func TestRenderShowKeys(t *testing.T) {
	t.Parallel()
	revokedAt := now
	d := admin.ClientDetail{ClientSummary: summary(), Currency: "usd", APIKeys: []admin.Key{
		{ID: keyID, Prefix: "ck_live_ABCD", CreatedAt: now, CreatedBy: "admin-api:alice"},
		{ID: id1, Prefix: "ck_live_WXYZ", CreatedAt: now.Add(-48 * time.Hour), CreatedBy: "fixture", RevokedAt: &revokedAt, RevokedBy: ptr("ops:bob")},
	}}
	var b bytes.Buffer
	require.NoError(t, renderShow(&b, d, false))
	out := b.String()
	require.Contains(t, out, "API keys (live first, newest first, at most 20):\n")
	require.Regexp(t, `(?m)^KEY\s+ID\s+CREATED\s+BY\s+REVOKED\s+REVOKED BY$`, out)
	require.Regexp(t, `(?m)^ck_live_ABCD\s+aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\s+2026-11-27T16:00:00.123456Z\s+admin-api:alice\s+-\s+-$`, out)
	require.Regexp(t, `(?m)^ck_live_WXYZ\s+11111111-2222-3333-4444-555555555555\s+2026-11-25T16:00:00.123456Z\s+fixture\s+2026-11-27T16:00:00.123456Z\s+ops:bob$`, out)
	requireNoTrailingSpaces(t, out)

	d.APIKeys = nil
	b.Reset()
	require.NoError(t, renderShow(&b, d, false))
	require.Contains(t, b.String(), "API keys (live first, newest first, at most 20):\nnone\n")
}
