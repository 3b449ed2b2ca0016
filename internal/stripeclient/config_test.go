package stripeclient_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
)

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	const live = "sk_live_51Hsecret"
	for _, tc := range []struct {
		name, key, base, want string
	}{
		{"test key, Stripe", "sk_test_abc", "", ""},
		{"test key, mock", "sk_test_abc", "http://127.0.0.1:12111", ""},
		{"restricted test key", "rk_test_abc", "http://127.0.0.1:12111", ""},
		{"live key, Stripe", live, "", ""},
		{"live key, Stripe spelled out", live, "https://api.stripe.com", ""},
		{"restricted live key, Stripe", "rk_live_abc", "", ""},
		{"empty key", "", "", "the Stripe API key is empty"},
		{"publishable key", "pk_test_abc", "", "does not look like one"},
		{"prefix only", "sk_test_", "", "does not look like one"},
		{"garbage", "hunter2", "", "must start with sk_test_"},
		{"ftp base", "sk_test_abc", "ftp://bad", `stripe base URL "ftp://bad": want http(s)://host`},
		{"no host", "sk_test_abc", "http://", "want http(s)://host"},
		{"live key to a mock", live, "http://127.0.0.1:12111", "refusing to send a live Stripe key to http://127.0.0.1:12111"},
		{"live key over http", live, "http://api.stripe.com", "refusing to send a live Stripe key"},
		{"live key to a look-alike", "rk_live_abc", "https://api.stripe.com.evil.test", "refusing to send a live Stripe key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := stripeclient.CheckConfig(tc.key, tc.base)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, exitcode.Config, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), live, "the key never appears")
		})
	}
}
