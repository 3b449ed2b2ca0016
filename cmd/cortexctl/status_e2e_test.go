package main_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
)

// End-to-end tests of what tells an operator that jobs ran: a job's
// dead-man's switch pings (to a fake healthchecks.io) and `jobs status
// --check`, the cron container's HEALTHCHECK, on a fresh and a stale
// database.

// pingLog is a fake healthchecks.io: each request as "METHOD path?query",
// and its body.
type pingLog struct {
	mu     sync.Mutex
	reqs   []string
	bodies []string
}

func newPingServer(t *testing.T) (*httptest.Server, *pingLog) {
	l := &pingLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		l.bodies = append(l.bodies, string(b))
		l.mu.Unlock()
		_, _ = io.WriteString(w, "OK")
	}))
	t.Cleanup(srv.Close)
	return srv, l
}

func (l *pingLog) get() ([]string, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...), append([]string(nil), l.bodies...)
}

const pingToken = "0f3c1a2b-1234-4a5b-8c9d-0123456789ab"

func TestDeadManPingsOfBillingGrace(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	srv, pings := newPingServer(t)
	c := newCLI(t, f.DB.URL, "CORTEXCTL_PING_URL_BILLING_GRACE="+srv.URL+"/"+pingToken, "CORTEXCTL_LOG_LEVEL=debug")

	dry := c.runOK("billing", "grace", "--dry-run", "--output", "json")
	reqs, _ := pings.get()
	require.Empty(t, reqs, "a dry run pings nothing; stderr:\n%s", dry.stderr)

	r := c.runOK("billing", "grace", "--output", "json")
	run := decode[graceRunJSON](t, r).Run
	reqs, bodies := pings.get()
	rid := run.ID.String()
	require.Equal(t, []string{"POST /" + pingToken + "/start?rid=" + rid, "POST /" + pingToken + "?rid=" + rid}, reqs,
		"/start, then success, with the run id; stderr:\n%s", r.stderr)
	require.Contains(t, bodies[1], "billing-grace succeeded, run "+rid)
	require.Contains(t, r.stderr, `"ping_url":"`+srv.URL+`/0f3c…"`, "the ping is logged, redacted")
	require.NotContains(t, r.stderr, pingToken, "the token never reaches a log line")

	// The status sees that run, and the two jobs that never ran.
	st := c.run("jobs", "status", "--check", "--output", "json")
	require.Equal(t, 1, st.code, st.stderr)
	type statusJSON struct {
		Failing int `json:"failing"`
		Jobs    []struct {
			Job     string `json:"job"`
			State   string `json:"state"`
			LastRun *struct {
				ID string `json:"run_id"`
			} `json:"last_run"`
		} `json:"jobs"`
	}
	got := decode[statusJSON](t, st)
	require.Equal(t, 2, got.Failing)
	require.Equal(t, "billing-grace", got.Jobs[1].Job)
	require.Equal(t, "ok", got.Jobs[1].State)
	require.Equal(t, rid, got.Jobs[1].LastRun.ID)
	require.Equal(t, "jobs status --check: 2 of 3 scheduled jobs failing: billing-overage (never succeeded), db-backup (never succeeded)",
		finalError(t, st).Error)
}

// A switch that cannot be reached fails nothing.
func TestDeadManUnreachableFailsNothing(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	srv, _ := newPingServer(t)
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := newCLI(t, f.DB.URL, "CORTEXCTL_PING_URL_BILLING_GRACE="+url+"/"+pingToken)
	r := c.runOK("billing", "grace", "--output", "json")
	require.Equal(t, "succeeded", decode[graceRunJSON](t, r).Run.Status)
	require.Contains(t, r.stderr, `"message":"dead-man ping"`, "the failed ping is logged")
	require.NotContains(t, r.stderr, pingToken)
}

func TestStatusCheckFreshAndStale(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)

	empty := c.run("jobs", "status", "--check")
	require.Equal(t, 1, empty.code, empty.stderr)
	for _, job := range []string{"billing-overage", "billing-grace", "db-backup"} {
		require.Contains(t, empty.stdout, "\nFAIL "+job+": never ran (max age 26h)\n")
	}

	insert := func(job, ago string, code int) {
		status := map[int]string{0: "succeeded", 69: "failed", 75: "skipped", 1: "failed"}[code]
		f.Exec(`
			INSERT INTO job_runs (id, job, status, host, pid, version, started_at, finished_at, exit_code)
			VALUES (gen_random_uuid(), $1, $2, 'vm', 1, 'v', now() - $3::interval, now() - $3::interval + interval '2 seconds', $4)`,
			job, status, ago, code)
	}
	insert("billing-overage", "3 hours", 0)
	insert("billing-overage", "1 hour", 69) // a dependency was down: the next run retries
	insert("billing-grace", "2 hours", 0)
	insert("billing-grace", "1 hour", 75) // skipped for the lock
	insert("db-backup", "25 hours", 0)

	fresh := c.run("jobs", "status", "--check")
	require.Equalf(t, 0, fresh.code, "stdout:\n%s\nstderr:\n%s", fresh.stdout, fresh.stderr)
	require.Contains(t, fresh.stdout, "NOTE billing-overage: last run exited 69 (a dependency was unavailable), the next run retries")
	require.Contains(t, fresh.stdout, "NOTE billing-grace: last run skipped (75")
	require.NotContains(t, fresh.stdout, "FAIL")
	require.Equal(t, 0, c.run("jobs", "status").code)

	f.Exec(`UPDATE job_runs SET started_at = started_at - interval '2 hours', finished_at = finished_at - interval '2 hours' WHERE job = 'db-backup'`)
	insert("billing-grace", "10 minutes", 1)
	stale := c.run("jobs", "status", "--check")
	require.Equalf(t, 1, stale.code, "stdout:\n%s", stale.stdout)
	require.Contains(t, stale.stdout, "\nFAIL db-backup: last success 27h ago is older than its max age 26h\n")
	require.Contains(t, stale.stdout, "\nFAIL billing-grace: last run exited 1 (failed): rerunning will not fix it")
	require.Equal(t, 2, strings.Count(stale.stdout, "\nFAIL "), stale.stdout)
	require.Equal(t, "jobs status --check: 2 of 3 scheduled jobs failing: billing-grace (needs human), db-backup (stale)",
		finalError(t, stale).Error)

	// Without --check it reports the same and exits 0.
	plain := c.run("jobs", "status")
	require.Equal(t, 0, plain.code, plain.stderr)
	require.Contains(t, plain.stdout, "FAIL db-backup")
}
