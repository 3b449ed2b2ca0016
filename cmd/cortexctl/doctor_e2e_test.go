package main_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/ratelimit/ratelimittest"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// End-to-end tests of `cortexctl doctor` through the binary.

type doctorJSON struct {
	OK      bool `json:"ok"`
	Failed  int  `json:"failed"`
	Skipped int  `json:"skipped"`
	Checks  []struct {
		Name       string `json:"name"`
		Status     string `json:"status"`
		DurationMS int64  `json:"duration_ms"`
		Message    string `json:"message"`
	} `json:"checks"`
}

// doctorEnv configures every check: a migrated database, a backup
// directory, stripe-mock and Redis.
func doctorEnv(t *testing.T) []string {
	return []string{"BACKUP_URL=file://" + t.TempDir(), "STRIPE_API_KEY=sk_test_123",
		"STRIPE_API_BASE=" + stripetest.MockURL(t), "REDIS_URL=" + ratelimittest.URL(t)}
}

func TestDoctorEverythingConfiguredPasses(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	r := newCLI(t, d.URL, doctorEnv(t)...).runOK("doctor", "-o", "json")
	rep := decode[doctorJSON](t, r)
	require.True(t, rep.OK)
	require.Zero(t, rep.Failed)
	require.Zero(t, rep.Skipped)
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
		require.Equalf(t, "ok", c.Status, "%s: %s", c.Name, c.Message)
		require.NotEmpty(t, c.Message, c.Name)
	}
	require.Equal(t, []string{"database", "schema", "session", "clock", "pg_dump", "backup-bucket", "stripe", "redis"}, names)
	require.Empty(t, r.stderr)
}

func TestDoctorFailureExitsOneAndSaysWhy(t *testing.T) {
	t.Parallel()
	d := dbtest.NewEmpty(t) // not migrated
	r := newCLI(t, d.URL, append(doctorEnv(t), "REDIS_URL=redis://127.0.0.1:1")...).run("doctor", "-o", "json")
	require.Equalf(t, 1, r.code, "stderr:\n%s", r.stderr)
	rep := decode[doctorJSON](t, r)
	require.False(t, rep.OK)
	require.Equal(t, 2, rep.Failed)
	status := map[string]string{}
	for _, c := range rep.Checks {
		status[c.Name] = c.Status
	}
	require.Equal(t, map[string]string{"database": "ok", "schema": "failed", "session": "ok", "clock": "ok", "pg_dump": "ok",
		"backup-bucket": "ok", "stripe": "ok", "redis": "failed"}, status)

	final := finalError(t, r)
	require.Equal(t, 1, final.ExitCode)
	require.Contains(t, final.Error, "2 checks failed: schema:")
	require.Contains(t, final.Error, "run `cortexctl db migrate`")
	require.Contains(t, final.Error, "redis: Redis did not answer")
}
