package clients

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// The tables an operator reads: aligned, no trailing spaces, instants in
// full, and the words that matter.

var (
	id1   = uuid.MustParse("11111111-2222-3333-4444-555555555555")
	runID = uuid.MustParse("99999999-8888-7777-6666-555555555555")
	now   = time.Date(2026, 11, 27, 16, 0, 0, 123456000, time.UTC)
	until = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
)

func ptr[T any](v T) *T { return &v }

func requireNoTrailingSpaces(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		require.Equal(t, strings.TrimRight(line, " "), line, "no trailing spaces")
	}
}

func summary() admin.ClientSummary {
	return admin.ClientSummary{ID: id1, Email: "over@example.test", Company: "Over Inc", Plan: "growth", Status: "disabled",
		DisabledReason: ptr("hard_cap"), StatusSince: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC),
		AsOf: now, Period: "2026-11", Used: 8000, Limit: 5000, Soft: 6000, Hard: 7500, OverSoftCap: true, OverHardCap: true}
}

func TestRenderList(t *testing.T) {
	t.Parallel()
	exempt := summary()
	exempt.Email, exempt.Status, exempt.DisabledReason, exempt.HardCapExemptUntil, exempt.HardCapExempt = "exempt@example.test", "active", nil, &until, true
	ended := summary()
	ended.Email, ended.Status, ended.DisabledReason, ended.Used, ended.OverSoftCap, ended.OverHardCap = "ended@example.test", "active", nil, 100, false, false
	ended.HardCapExemptUntil = ptr(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	var b bytes.Buffer
	require.NoError(t, renderList(&b, []admin.ClientSummary{summary(), exempt, ended}))
	out := b.String()
	require.Regexp(t, `(?m)^CLIENT\s+PLAN\s+STATUS\s+REASON\s+SINCE\s+USED\s+LIMIT\s+SOFT\s+HARD\s+OVER\s+EXEMPT UNTIL$`, out)
	require.Regexp(t, `(?m)^over@example\.test\s+growth\s+disabled\s+hard_cap\s+2026-11-20T02:00:00Z\s+8000\s+5000\s+6000\s+7500\s+hard\s+-$`, out)
	require.Regexp(t, `(?m)^exempt@example\.test\s+growth\s+active\s+-\s+.*\s+hard\s+2026-12-01T00:00:00Z$`, out)
	require.Regexp(t, `(?m)^ended@example\.test\s+.*\s+100\s+5000\s+6000\s+7500\s+-\s+2026-11-02T00:00:00Z \(ended\)$`, out)
	require.Contains(t, out, "3 clients, 2 over the soft cap, 2 over the hard cap; usage of 2026-11 up to 2026-11-27T16:00:00.123456Z (the database's clock)")
	requireNoTrailingSpaces(t, out)

	b.Reset()
	require.NoError(t, renderList(&b, nil))
	require.Equal(t, "no client matches\n", b.String())
}

func TestRenderShow(t *testing.T) {
	t.Parallel()
	d := admin.ClientDetail{ClientSummary: summary(), CreatedAt: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		Currency: "usd", UnitPriceMicros: 10_000,
		Charged: []admin.PeriodCharges{{Period: "2026-11", Currency: "usd", Units: 2000, AmountCents: 2000, Charges: 1, Pending: 1},
			{Period: "2026-10", Currency: "usd"}},
		PendingCharges: []admin.Charge{{ID: id1, Period: "2026-11", Units: 2000, AmountCents: 2000, Currency: "usd", PushAttempts: 2,
			CreatedAt: now, LastPushError: ptr(strings.Repeat("x", 100))}},
		StatusEvents: []admin.StatusEvent{
			{ID: 2, From: "disabled", To: "active", Actor: "ops:alice", Note: ptr("OPS-1: upgrading"), HardCapExemptUntil: &until, OccurredAt: now},
			{ID: 1, From: "active", To: "disabled", Reason: ptr("hard_cap"), Actor: "billing-overage", JobRunID: &runID, OccurredAt: now.Add(-time.Hour)},
		},
	}
	var b bytes.Buffer
	require.NoError(t, renderShow(&b, d, false))
	out := b.String()
	for _, want := range []string{
		"client              over@example.test",
		"plan                growth: limit 5000, soft cap 6000, hard cap 7500; 10.00 USD per 1000 units beyond the soft cap",
		"status              disabled (hard_cap) since 2026-11-20T02:00:00Z",
		"hard-cap exemption  none",
		"usage               8000 queries in 2026-11 up to 2026-11-27T16:00:00.123456Z: beyond the hard cap",
		"stripe customer     none",
		"Pending charges: 1",
		strings.Repeat("x", 100), // a pipe gets the error whole
		"Status events (newest first, at most 10):",
	} {
		require.Contains(t, out, want)
	}
	require.Regexp(t, `(?m)^2026-11\s+2000\s+20\.00 USD\s+1\s+1$`, out)
	require.Regexp(t, `(?m)^2026-10\s+0\s+0\.00 USD\s+0\s+0$`, out)
	require.Regexp(t, `(?m)^2026-11-27T16:00:00\.123456Z\s+disabled\s+active\s+-\s+ops:alice\s+-\s+2026-12-01T00:00:00Z\s+OPS-1: upgrading$`, out)
	require.Regexp(t, `(?m)^2026-11-27T15:00:00\.123456Z\s+active\s+disabled\s+hard_cap\s+billing-overage\s+99999999\s+-$`, out)
	requireNoTrailingSpaces(t, out)

	b.Reset()
	require.NoError(t, renderShow(&b, d, true))
	require.Contains(t, b.String(), strings.Repeat("x", 77)+"...", "a terminal gets the error cut")
	require.NotContains(t, b.String(), strings.Repeat("x", 78))

	d.StatusEvents, d.PendingCharges = nil, nil
	d.HardCapExemptUntil, d.HardCapExempt = &until, true
	b.Reset()
	require.NoError(t, renderShow(&b, d, false))
	require.Contains(t, b.String(), "hard-cap exemption  until 2026-12-01T00:00:00Z: the overage job bills it but does not disable it before then")
	require.Contains(t, b.String(), "Pending charges: 0\n")
	require.True(t, strings.HasSuffix(b.String(), "Status events (newest first, at most 10):\nnone\n"))
}

func TestRenderChange(t *testing.T) {
	t.Parallel()
	c := admin.Change{AsOf: now, ClientID: id1, Email: "over@example.test", FromStatus: "disabled", FromReason: ptr("hard_cap"),
		ToStatus: "active", HardCapExemptUntil: &until, Actor: "ops:alice", Note: "OPS-1", Period: "2026-11", Used: 8000, Hard: 7500,
		OverHardCap: true, Event: &admin.StatusEvent{ID: 42, OccurredAt: now}}
	var b bytes.Buffer
	require.NoError(t, renderChange(&b, c))
	out := b.String()
	require.True(t, strings.HasPrefix(out, "enabled over@example.test (11111111-2222-3333-4444-555555555555)\n\n"), out)
	for _, want := range []string{
		"status              disabled (hard_cap) -> active",
		"hard-cap exemption  until 2026-12-01T00:00:00Z: the overage job bills it but does not disable it before then",
		"usage               8000 queries in 2026-11, hard cap 7500: beyond it",
		"actor               ops:alice",
		"note                OPS-1",
		"status event        42 at 2026-11-27T16:00:00.123456Z",
	} {
		require.Contains(t, out, want)
	}
	requireNoTrailingSpaces(t, out)

	c = admin.Change{DryRun: true, ClientID: id1, Email: "abuse@example.test", FromStatus: "active", ToStatus: "disabled",
		Reason: ptr("admin"), Actor: "ops:bob", Note: "OPS-2", Period: "2026-11", Used: 10, Hard: 1500}
	b.Reset()
	require.NoError(t, renderChange(&b, c))
	out = b.String()
	require.True(t, strings.HasPrefix(out, "DRY RUN: would have disabled abuse@example.test (11111111-2222-3333-4444-555555555555); nothing was changed\n"), out)
	require.Contains(t, out, "status              active -> disabled (admin)")
	require.Contains(t, out, "usage               10 queries in 2026-11, hard cap 1500\n")
	require.Contains(t, out, "status event        none (dry run)")
	requireNoTrailingSpaces(t, out)
}

// A refusal says what to type to get past it, and stays exit 2.
func TestExplain(t *testing.T) {
	t.Parallel()
	refused := func(rule error) error {
		return exitcode.New(exitcode.Usage, &admin.Refused{ClientID: id1, Email: "over@example.test", Verb: "enable", Rule: rule, PeriodEnd: until})
	}
	for _, tc := range []struct {
		rule error
		want string
	}{
		{billing.ErrOverHardCap, "refusing to enable client over@example.test (11111111-2222-3333-4444-555555555555): the next overage run would disable it again. " +
			"To enable it all the same, pass --exempt-until DATE (after now, at most 2026-12-01, the end of the current period)"},
		{billing.ErrExemptionBeyondPeriod, "give --exempt-until an instant after now and at most 2026-12-01 (a date means 00:00 UTC)"},
		{billing.ErrExemptionNotAfterNow, "give --exempt-until an instant after now"},
		{billing.ErrNotDisabled, "nothing was changed; see `cortexctl clients show over@example.test`"},
	} {
		err := explain(refused(tc.rule))
		require.Equal(t, exitcode.Usage, exitcode.Of(err))
		require.ErrorIs(t, err, tc.rule)
		require.Contains(t, err.Error(), tc.want)
	}
	other := errors.New("boom")
	require.Equal(t, other, explain(other))
}
