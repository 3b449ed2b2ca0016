package billing_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/billing"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/grace"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// Flag parsing and validation of `billing overage` and `billing grace`,
// through runF: no database is dialled.

const clientID = "0b5d6d4e-7a8c-4c1e-9f7a-2d3b4c5d6e7f"

var stripeEnv = map[string]string{cmdutil.EnvStripeAPIKey: "sk_test_123"}

func TestOverageFlags(t *testing.T) {
	t.Parallel()
	defaults := overage.Options{
		Params:            runner.Params{Timeout: overage.DefaultTimeout}, // no --as-of: the runner takes the database's clock
		CloseWindow:       overage.DefaultCloseWindow,
		MaxDisablePercent: overage.DefaultMaxDisablePercent,
		StripeConcurrency: overage.DefaultStripeConcurrency,
	}
	with := func(change func(*overage.Options)) overage.Options {
		o := defaults
		change(&o)
		return o
	}
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		want     overage.Options
		noStripe bool
		stripe   *cmdutil.StripeSettings // nil: no Stripe client for this run
	}{
		{name: "defaults", env: stripeEnv, want: defaults,
			stripe: &cmdutil.StripeSettings{APIKey: "sk_test_123"}},
		{name: "as-of a date is 00:00 UTC", args: []string{"--as-of", "2026-03-01"}, env: stripeEnv,
			want:   with(func(o *overage.Options) { o.AsOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }),
			stripe: &cmdutil.StripeSettings{APIKey: "sk_test_123"}},
		{name: "as-of RFC 3339 in another zone", args: []string{"--as-of", "2026-03-01T02:00:00+02:00"}, env: stripeEnv,
			want:   with(func(o *overage.Options) { o.AsOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }),
			stripe: &cmdutil.StripeSettings{APIKey: "sk_test_123"}},
		{name: "as-of below the microsecond is truncated, as PostgreSQL keeps it", args: []string{"--as-of", "2026-03-01T00:00:00.123456789Z"}, env: stripeEnv,
			want:   with(func(o *overage.Options) { o.AsOf = time.Date(2026, 3, 1, 0, 0, 0, 123456000, time.UTC) }),
			stripe: &cmdutil.StripeSettings{APIKey: "sk_test_123"}},
		{name: "the key is checked by the run's preflight, not here", want: defaults, stripe: &cmdutil.StripeSettings{}},
		{name: "every flag", env: stripeEnv, args: []string{"--client", clientID, "--timeout", "5m", "--close-window", "24h",
			"--max-disable-percent", "10", "--force", "--stripe-concurrency", "3", "--stripe-api-base", "http://127.0.0.1:12111"},
			want: with(func(o *overage.Options) {
				o.ClientID, o.Timeout, o.CloseWindow, o.MaxDisablePercent, o.Force, o.StripeConcurrency =
					uuid.MustParse(clientID), 5*time.Minute, 24*time.Hour, 10, true, 3
			}),
			stripe: &cmdutil.StripeSettings{APIKey: "sk_test_123", APIBase: "http://127.0.0.1:12111"}},
		{name: "Stripe base from the environment",
			env:    map[string]string{cmdutil.EnvStripeAPIKey: "sk_test_1", cmdutil.EnvStripeAPIBase: "http://127.0.0.1:9"},
			want:   defaults,
			stripe: &cmdutil.StripeSettings{APIKey: "sk_test_1", APIBase: "http://127.0.0.1:9"}},
		{name: "the flag beats the environment", args: []string{"--stripe-api-base", "http://127.0.0.1:12111"},
			env:    map[string]string{cmdutil.EnvStripeAPIKey: "sk_test_1", cmdutil.EnvStripeAPIBase: "http://127.0.0.1:9"},
			want:   defaults,
			stripe: &cmdutil.StripeSettings{APIKey: "sk_test_1", APIBase: "http://127.0.0.1:12111"}},
		{name: "--no-stripe needs no key", args: []string{"--no-stripe"}, want: defaults, noStripe: true},
		{name: "--dry-run needs no key", args: []string{"--dry-run"},
			want: with(func(o *overage.Options) { o.DryRun = true })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, billing.NewCmdOverage, tc.env, tc.args...)
			require.Equal(t, tc.want, got.Job)
			require.Equal(t, tc.noStripe, got.NoStripe)
			require.Equal(t, tc.stripe, got.Stripe)
			require.NotNil(t, got.Factory)
		})
	}
}

func TestOverageRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"bad --as-of", []string{"--as-of", "yesterday"}, stripeEnv, exitcode.Usage, `invalid --as-of "yesterday"`},
		{"bad month", []string{"--as-of", "2026-13-01"}, stripeEnv, exitcode.Usage, `invalid --as-of "2026-13-01"`},
		{"--timeout 0s", []string{"--timeout", "0s"}, stripeEnv, exitcode.Usage, "--timeout must be positive, got 0s"},
		{"--timeout not a duration", []string{"--timeout", "soon"}, stripeEnv, exitcode.Usage, `invalid argument "soon" for "--timeout"`},
		{"--client not a uuid", []string{"--client", "acme"}, stripeEnv, exitcode.Usage, `invalid --client "acme": it takes a client id (a UUID)`},
		{"--close-window negative", []string{"--close-window", "-1h"}, stripeEnv, exitcode.Usage, "--close-window -1h0m0s is out of range"},
		{"--close-window too long", []string{"--close-window", "700h"}, stripeEnv, exitcode.Usage, "--close-window 700h0m0s is out of range"},
		{"--max-disable-percent over 100", []string{"--max-disable-percent", "101"}, stripeEnv, exitcode.Usage, "--max-disable-percent 101 is out of range: use 0 to 100"},
		{"--stripe-concurrency 0", []string{"--stripe-concurrency", "0"}, stripeEnv, exitcode.Usage, "--stripe-concurrency 0 is out of range: use 1 to 64"},
		{"--stripe-concurrency too many", []string{"--stripe-concurrency", "65"}, stripeEnv, exitcode.Usage, "--stripe-concurrency 65 is out of range"},
		{"unknown flag", []string{"--bogus"}, stripeEnv, exitcode.Usage, "unknown flag: --bogus"},
		{"an argument", []string{"now"}, stripeEnv, exitcode.Usage, `takes no arguments, got "now"`},
		{"--client given but empty", []string{"--client", ""}, stripeEnv, exitcode.Usage, "--client was given but is empty"},
		{"--client blank", []string{"--client", "  "}, stripeEnv, exitcode.Usage, "--client was given but is empty"},
		{"--client the nil UUID", []string{"--client", "00000000-0000-0000-0000-000000000000"}, stripeEnv, exitcode.Usage, "is the nil UUID, which no client has"},
		{"--as-of given but empty", []string{"--as-of", ""}, stripeEnv, exitcode.Usage, "--as-of was given but is empty"},
		{"--stripe-api-base given but empty", []string{"--stripe-api-base", ""}, stripeEnv, exitcode.Usage, "--stripe-api-base was given but is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, billing.NewCmdOverage, tc.env, tc.args...)
			require.Equal(t, tc.code, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestGraceFlags(t *testing.T) {
	t.Parallel()
	defaults := grace.Options{Params: runner.Params{Timeout: grace.DefaultTimeout}, GraceDays: grace.DefaultGraceDays}
	for _, tc := range []struct {
		name string
		args []string
		want grace.Options
	}{
		{"defaults", nil, defaults},
		{"every flag", []string{"--as-of", "2026-10-15T02:00:00Z", "--dry-run", "--timeout", "1m", "--client", clientID, "--grace-days", "10"},
			grace.Options{Params: runner.Params{AsOf: time.Date(2026, 10, 15, 2, 0, 0, 0, time.UTC), DryRun: true, Timeout: time.Minute,
				ClientID: uuid.MustParse(clientID)}, GraceDays: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, cmdtest.Parse(t, billing.NewCmdGrace, nil, tc.args...).Job)
		})
	}
}

func TestGraceRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad --as-of", []string{"--as-of", "yesterday"}, `invalid --as-of "yesterday"`},
		{"--timeout 0s", []string{"--timeout", "0s"}, "--timeout must be positive, got 0s"},
		{"--grace-days 0", []string{"--grace-days", "0"}, "--grace-days 0 is out of range: use 1 to 90"},
		{"--grace-days 91", []string{"--grace-days", "91"}, "--grace-days 91 is out of range"},
		{"--client not a uuid", []string{"--client", "42"}, `invalid --client "42"`},
		{"--client given but empty", []string{"--client", ""}, "--client was given but is empty"},
		{"--client the nil UUID", []string{"--client", "00000000-0000-0000-0000-000000000000"}, "nil UUID"},
		{"unknown flag", []string{"--bogus"}, "unknown flag: --bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, billing.NewCmdGrace, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// The overage run's preflight: Stripe settings that cannot work are refused
// (exit 78) before the run takes its lock, never after charges were written.
func TestOveragePreflight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // "" passes
	}{
		{"test key, Stripe", nil, stripeEnv, ""},
		{"--no-stripe needs nothing", []string{"--no-stripe"}, nil, ""},
		{"--dry-run needs nothing", []string{"--dry-run"}, map[string]string{cmdutil.EnvStripeAPIBase: "ftp://bad"}, ""},
		{"no key", nil, nil, "STRIPE_API_KEY is not set"},
		{"no key names --no-stripe", nil, nil, "pass --no-stripe"},
		{"a publishable key", nil, map[string]string{cmdutil.EnvStripeAPIKey: "pk_test_123"}, "does not look like one"},
		{"a base URL that is not http", []string{"--stripe-api-base", "ftp://bad"}, stripeEnv, `stripe base URL "ftp://bad"`},
		{"a bad base URL from the environment", nil, map[string]string{cmdutil.EnvStripeAPIKey: "sk_test_1", cmdutil.EnvStripeAPIBase: "127.0.0.1:12111"}, "stripe base URL"},
		{"a live key to a mock", []string{"--stripe-api-base", "http://127.0.0.1:12111"},
			map[string]string{cmdutil.EnvStripeAPIKey: "sk_live_123"}, "refusing to send a live Stripe key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Parse(t, billing.NewCmdOverage, tc.env, tc.args...).Preflight(t.Context())
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, exitcode.Config, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
