package charges

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Flag parsing and validation of `charges list` through runF (no
// database), and its table.

func TestListFlags(t *testing.T) {
	t.Parallel()
	nov := billing.PeriodOf(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name string
		args []string
		want admin.ChargeFilter
	}{
		{"defaults: every charge, the newest 100", nil, admin.ChargeFilter{Limit: 100}},
		{"every flag", []string{"--pending", "--client", "over@example.test", "--period", "2026-11", "--limit", "5"},
			admin.ChargeFilter{Pending: true, Client: "over@example.test", Period: &nov, Limit: 5}},
		{"a client by id", []string{"--client", "0b5d6d4e-7a8c-4c1e-9f7a-2d3b4c5d6e7f"},
			admin.ChargeFilter{Client: "0b5d6d4e-7a8c-4c1e-9f7a-2d3b4c5d6e7f", Limit: 100}},
		{"the most", []string{"--limit", "10000"}, admin.ChargeFilter{Limit: 10000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, NewCmdList, nil, tc.args...)
			require.Equal(t, tc.want, got.Filter)
		})
	}
}

func TestListRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a date is not a period", []string{"--period", "2026-11-01"}, `invalid --period "2026-11-01": use YYYY-MM, e.g. 2026-11`},
		{"month 13", []string{"--period", "2026-13"}, `invalid --period "2026-13"`},
		{"a month name", []string{"--period", "november"}, `invalid --period "november"`},
		{"--period given but empty", []string{"--period", ""}, "--period was given but is empty"},
		{"--client given but empty", []string{"--client", ""}, "--client was given but is empty"},
		{"--limit 0", []string{"--limit", "0"}, "--limit 0 is out of range: use 1 to 10000"},
		{"--limit too many", []string{"--limit", "10001"}, "--limit 10001 is out of range"},
		{"--pending takes no value", []string{"--pending=maybe"}, `invalid argument "maybe" for "--pending"`},
		{"an argument", []string{"pending"}, `takes no arguments, got "pending"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, NewCmdList, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRenderList(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	at := time.Date(2026, 11, 27, 2, 0, 0, 500, time.UTC)
	long := "stripe answered HTTP 400 (invalid_request_error): No such customer: 'cus_x'\nand " + strings.Repeat("more ", 20)
	list := []admin.Charge{
		{ID: id, Email: "a@example.test", Period: "2026-11", Units: 150, AmountCents: 150, Currency: "usd", Status: "pending",
			PushAttempts: 3, LastPushError: &long, CreatedAt: at},
		{ID: id, Email: "b@example.test", Period: "2026-10", Units: 400, AmountCents: 400, Currency: "usd", Status: "posted",
			StripeInvoiceItemID: func() *string { s := "ii_123"; return &s }(), PushAttempts: 1, CreatedAt: at.Add(-time.Hour)},
	}
	var b bytes.Buffer
	require.NoError(t, renderList(&b, list, 100, false))
	out := b.String()
	require.Regexp(t, `(?m)^CREATED\s+CLIENT\s+PERIOD\s+UNITS\s+AMOUNT\s+STATUS\s+ATTEMPTS\s+STRIPE ITEM\s+CHARGE\s+LAST ERROR$`, out)
	require.Regexp(t, `(?m)^2026-11-27T02:00:00\.0000005Z\s+a@example\.test\s+2026-11\s+150\s+1\.50 USD\s+pending\s+3\s+-\s+11111111-2222-3333-4444-555555555555\s+stripe answered HTTP 400 .* and more`, out)
	require.Regexp(t, `(?m)^2026-11-27T01:00:00\.0000005Z\s+b@example\.test\s+2026-10\s+400\s+4\.00 USD\s+posted\s+1\s+ii_123\s+11111111-2222-3333-4444-555555555555$`, out)
	require.True(t, strings.HasSuffix(out, "\n2 charges, 1 pending\n"), out)
	for _, line := range strings.Split(out, "\n") {
		require.Equal(t, strings.TrimRight(line, " "), line, "no trailing spaces")
	}

	b.Reset()
	require.NoError(t, renderList(&b, list, 2, true))
	require.Contains(t, b.String(), "2 charges, 1 pending (the newest 2: there may be more, raise --limit)")
	require.Contains(t, b.String(), "...", "a terminal gets long errors cut")

	b.Reset()
	require.NoError(t, renderList(&b, nil, 100, false))
	require.Equal(t, "no charge matches\n", b.String())
}
