package doctor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/dbtest"
)

// The session check fails a URL that names a transaction pooler even when
// the connection behaved as a session (an idle pooler may hand out one
// backend every time), and passes a direct one.
func TestCheckSessionPoolerHint(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	for _, tc := range []struct {
		url, status, msg string
	}{
		{d.URL, StatusOK, "a session of its own"},
		{"postgres://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres", StatusFailed, "port is 6543, Supabase's transaction pooler"},
		{"postgres://u:pw@bouncer:5432/db?pgbouncer=true", StatusFailed, "pgbouncer=true"},
	} {
		status, msg := checkSession(t.Context(), d.Pool, tc.url)
		require.Equal(t, tc.status, status, msg)
		require.Contains(t, msg, tc.msg)
		if status == StatusFailed {
			require.Contains(t, msg, "advisory locks need a session")
		}
	}
}
