package api_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	apicmd "github.com/cortexlayer/cortexctl/cmd/api"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Flags and settings of `cortexctl api`, through runF: nothing is dialled.

func TestAPIDefaults(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, apicmd.NewCmdAPI, nil)
	require.Equal(t, ":8000", got.Addr)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}, got.TrustedProxies)
	require.Equal(t, 25*time.Second, got.ShutdownTimeout)
	require.Empty(t, got.RedisURL)
	require.Empty(t, got.AdminKey)
	require.Empty(t, got.WebhookSecret)
}

func TestAPISettingsFlagOverEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"API_ADDR":              "127.0.0.1:9000",
		"API_TRUSTED_PROXIES":   "10.0.0.0/8, 172.16.0.1",
		"REDIS_URL":             "rediss://default:secret@eu1.upstash.io:6379",
		"ADMIN_API_KEY":         strings.Repeat("k", 32),
		"STRIPE_WEBHOOK_SECRET": "whsec_abc",
	}
	got := cmdtest.Parse(t, apicmd.NewCmdAPI, env)
	require.Equal(t, "127.0.0.1:9000", got.Addr)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.1/32")}, got.TrustedProxies)
	require.Equal(t, env["REDIS_URL"], got.RedisURL)
	require.Equal(t, env["ADMIN_API_KEY"], got.AdminKey)
	require.Equal(t, "whsec_abc", got.WebhookSecret)

	got = cmdtest.Parse(t, apicmd.NewCmdAPI, env, "--addr", ":8080", "--trusted-proxies", "192.168.0.0/16", "--shutdown-timeout", "5s")
	require.Equal(t, ":8080", got.Addr)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}, got.TrustedProxies)
	require.Equal(t, 5*time.Second, got.ShutdownTimeout)
}

func TestAPIRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"addr without port", nil, []string{"--addr", "localhost"}, exitcode.Usage, `invalid --addr "localhost": use HOST:PORT or :PORT`},
		{"addr from env", map[string]string{"API_ADDR": "8000"}, nil, exitcode.Usage, `invalid API_ADDR "8000"`},
		{"bad port", nil, []string{"--addr", ":http-ish"}, exitcode.Usage, "invalid --addr"},
		{"bad proxy", nil, []string{"--trusted-proxies", "10.0.0.0/8,nginx"}, exitcode.Usage, `invalid --trusted-proxies: "nginx" is neither an IP address nor a CIDR range`},
		{"bad proxy from env", map[string]string{"API_TRUSTED_PROXIES": "10.0.0.0/33"}, nil, exitcode.Usage, "invalid API_TRUSTED_PROXIES"},
		{"zero shutdown", nil, []string{"--shutdown-timeout", "0s"}, exitcode.Usage, "invalid --shutdown-timeout 0s"},
		{"short admin key", map[string]string{"ADMIN_API_KEY": "admin"}, nil, exitcode.Config, "ADMIN_API_KEY is 5 characters: use at least 32"},
		{"not a webhook secret", map[string]string{"STRIPE_WEBHOOK_SECRET": "sk_live_x"}, nil, exitcode.Config, "STRIPE_WEBHOOK_SECRET does not start with whsec_"},
		{"an argument", nil, []string{"serve"}, exitcode.Usage, "serve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, apicmd.NewCmdAPI, tc.env, tc.args...)
			require.Equal(t, tc.code, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "admin\"", "secrets are not echoed")
		})
	}
}
