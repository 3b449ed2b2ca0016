package cmdutil

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/schedule"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

func TestEnvPingURLNames(t *testing.T) {
	t.Parallel()
	var got []string
	for _, e := range schedule.Entries {
		got = append(got, EnvPingURL(e.Job))
	}
	require.Equal(t, []string{"CORTEXCTL_PING_URL_BILLING_OVERAGE", "CORTEXCTL_PING_URL_BILLING_GRACE", "CORTEXCTL_PING_URL_DB_BACKUP"}, got)
}

// pingServer records "METHOD path?query body" of each ping.
func pingServer(t *testing.T) (string, func() []string) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+string(b))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hc/0f3c1a2b", func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
}

func pingFactory(env map[string]string) *Factory {
	ios, _, _ := Test()
	return &Factory{IOStreams: ios, Env: func(k string) string { return env[k] }, Build: BuildInfo{Version: "v-test"},
		Settings: Settings{DatabaseURL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", LogFormat: "json", LogLevel: "info", Output: OutputJSON}}
}

func TestPingOutcomes(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("1e052956-8806-49e7-a9c7-6494e639f756")
	fin := time.Date(2026, 11, 27, 2, 0, 1, 0, time.UTC)
	rec := runner.Record{ID: id, Status: runner.StatusSucceeded, StartedAt: fin.Add(-time.Second), FinishedAt: &fin}
	for _, tc := range []struct {
		name    string
		dryRun  bool
		started bool
		err     error
		want    []string
	}{
		{"success", false, true, nil, []string{"POST /hc/0f3c1a2b?rid=" + id.String() + " billing-grace succeeded, run " + id.String() + " in 1s"}},
		{"failure carries the code and the error", false, true, exitcode.Errorf(exitcode.Partial, "2 clients failed"),
			[]string{"POST /hc/0f3c1a2b/3?rid=" + id.String() + " exit 3: 2 clients failed"}},
		{"skipped is a log event", false, true, exitcode.Errorf(exitcode.Locked, "another run holds the lock"),
			[]string{"POST /hc/0f3c1a2b/log?rid=" + id.String() + " skipped (exit 75): another run holds the lock"}},
		{"refused for bad arguments: nothing", false, true, exitcode.Errorf(exitcode.Usage, "--as-of in the future"), nil},
		{"refused before a record: no run id", false, false, exitcode.Errorf(exitcode.Config, "schema too old"),
			[]string{"POST /hc/0f3c1a2b/78? exit 78: schema too old"}},
		{"an error without a code fails as 1", false, true, errors.New("boom"), []string{"POST /hc/0f3c1a2b/1?rid=" + id.String() + " exit 1: boom"}},
		{"a dry run pings nothing", true, true, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, got := pingServer(t)
			f := pingFactory(map[string]string{"CORTEXCTL_PING_URL_BILLING_GRACE": url})
			jp := f.pings(runner.Job{Name: "billing-grace", Params: runner.Params{DryRun: tc.dryRun}})
			jp.finish(tc.started, rec, tc.err)
			jp.close()
			require.Equal(t, tc.want, got())
		})
	}
}

// A database that cannot be reached: the run has no job_runs row, and the
// switch hears its exit code without a run id; the error is the run's.
func TestRunJobPingsADatabaseDown(t *testing.T) {
	t.Parallel()
	url, got := pingServer(t)
	f := pingFactory(map[string]string{"CORTEXCTL_PING_URL_BILLING_GRACE": url})
	err := RunJob(t.Context(), f, runner.Job{Name: "billing-grace"},
		func(context.Context, runner.Run, *db.Pool) (struct{}, error) {
			t.Error("the job ran without a database")
			return struct{}{}, nil
		}, func(io.Writer, runner.Record, *struct{}) error { return nil })
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "%v", err)
	require.Len(t, got(), 1)
	require.Regexp(t, `^POST /hc/0f3c1a2b/69\? exit 69: `, got()[0])
}

func TestABadPingURLIsIgnored(t *testing.T) {
	t.Parallel()
	f := pingFactory(map[string]string{"CORTEXCTL_PING_URL_DB_BACKUP": "hc-ping.com/0f3c1a2b-secret"})
	jp := f.pings(runner.Job{Name: "db-backup"})
	require.Nil(t, jp.p)
	jp.start(uuid.New()) // no panic, nothing sent
	jp.finish(true, runner.Record{}, nil)
	jp.close()
}
