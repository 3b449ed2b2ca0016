package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

const testVersion = "v0.0.0-runner-test"

// waitFor bounds every wait on a run, so a broken runner fails the test
// instead of hanging the package.
const waitFor = 15 * time.Second

// report is the job report the tests' job functions return.
type report struct {
	Processed int    `json:"processed"`
	Note      string `json:"note,omitempty"`
}

// syncBuffer is a log sink safe for the runner's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newRunner(d *dbtest.DB) *runner.Runner {
	return &runner.Runner{Pool: d.Pool, Log: zerolog.Nop(), Version: testVersion}
}

// outcome is what one Execute returned.
type outcome struct {
	res runner.Result[report]
	rec runner.Record // res.Record
	rep report        // res.Report
	err error
}

func execute(ctx context.Context, r *runner.Runner, job runner.Job, fn func(context.Context, runner.Run) (report, error)) outcome {
	res, err := runner.Execute(ctx, r, job, fn)
	return outcome{res, res.Record, res.Report, err}
}

// start runs Execute in the background.
func start(ctx context.Context, r *runner.Runner, job runner.Job, fn func(context.Context, runner.Run) (report, error)) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() { ch <- execute(ctx, r, job, fn) }()
	return ch
}

func await(t *testing.T, ch <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(waitFor):
		t.Fatalf("run did not end within %s", waitFor)
		return outcome{}
	}
}

func awaitRun(t *testing.T, ch <-chan runner.Run) runner.Run {
	t.Helper()
	select {
	case run := <-ch:
		return run
	case <-time.After(waitFor):
		t.Fatalf("job function not entered within %s", waitFor)
		return runner.Run{}
	}
}

// blocking is a job function that announces its run on entered, then
// waits for release (succeeding) or for its context to end (returning the
// cause, as the runner asks of job functions).
func blocking(entered chan<- runner.Run, release <-chan struct{}) func(context.Context, runner.Run) (report, error) {
	return func(ctx context.Context, run runner.Run) (report, error) {
		entered <- run
		select {
		case <-release:
			return report{Processed: 1}, nil
		case <-ctx.Done():
			return report{}, context.Cause(ctx)
		}
	}
}

// succeed is a job function that does nothing and succeeds.
func succeed(n int) func(context.Context, runner.Run) (report, error) {
	return func(context.Context, runner.Run) (report, error) { return report{Processed: n}, nil }
}

// mustNotRun fails the test if the runner calls it.
func mustNotRun(t *testing.T) func(context.Context, runner.Run) (report, error) {
	return func(context.Context, runner.Run) (report, error) {
		t.Errorf("the job function ran, but the runner should have refused the run")
		return report{}, nil
	}
}

// loadRun reads one job_runs row straight from the table.
func loadRun(t *testing.T, q db.Querier, id uuid.UUID) runner.Record {
	t.Helper()
	var rec runner.Record
	err := q.QueryRow(context.Background(), `
		SELECT id, job, status, dry_run, as_of, host, pid, version, started_at, finished_at, exit_code, error, summary
		FROM job_runs WHERE id = $1`, id).Scan(&rec.ID, &rec.Job, &rec.Status, &rec.DryRun, &rec.AsOf, &rec.Host,
		&rec.PID, &rec.Version, &rec.StartedAt, &rec.FinishedAt, &rec.ExitCode, &rec.Error, &rec.Summary)
	require.NoError(t, err, "job_runs row %s", id)
	return rec
}

func countRuns(t *testing.T, q db.Querier, job string) int {
	t.Helper()
	var n int
	require.NoError(t, q.QueryRow(context.Background(), `SELECT count(*) FROM job_runs WHERE job = $1`, job).Scan(&n))
	return n
}

// lockHeld reports whether some session of this database holds job's
// advisory lock (a bigint key shows in pg_locks as classid/objid halves).
func lockHeld(t *testing.T, q db.Querier, job string) bool {
	t.Helper()
	key := runner.LockKey(job)
	var held bool
	err := q.QueryRow(context.Background(), `
		SELECT EXISTS (
			SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND objsubid = 1
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND classid::bigint = $1 AND objid::bigint = $2)`,
		int64(uint32(uint64(key)>>32)), int64(uint32(uint64(key)))).Scan(&held)
	require.NoError(t, err)
	return held
}

func requireCode(t *testing.T, want int, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, exitcode.Of(err), "exit code of %q", err)
}

func requireFinished(t *testing.T, row runner.Record, status string, code int) {
	t.Helper()
	require.Equal(t, status, row.Status)
	require.NotNil(t, row.ExitCode)
	require.Equal(t, code, *row.ExitCode)
	require.NotNil(t, row.FinishedAt)
	require.False(t, row.FinishedAt.Before(row.StartedAt), "finished_at %s before started_at %s", row.FinishedAt, row.StartedAt)
}

func TestSuccessRecordsRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	logs := &syncBuffer{}
	r := newRunner(d)
	r.Log = zerolog.New(logs)
	asOf := time.Date(2026, 3, 1, 2, 0, 0, 0, time.FixedZone("CET", 3600))
	job := runner.Job{Name: "test-success", Params: runner.Params{AsOf: asOf}, MonotonicAsOf: true}

	var seen runner.Run
	o := execute(ctx, r, job, func(ctx context.Context, run runner.Run) (report, error) {
		seen = run
		require.True(t, lockHeld(t, d.Pool, job.Name), "a real run holds the job's lock while it runs")
		return report{Processed: 3, Note: "ok"}, nil
	})
	require.NoError(t, o.err)
	require.Equal(t, report{Processed: 3, Note: "ok"}, o.rep)
	require.True(t, o.res.Started)
	require.True(t, o.res.Ran)
	require.Equal(t, seen.ID, o.rec.ID)
	require.Equal(t, job, seen.Job)
	require.Equal(t, runner.StatusSucceeded, o.rec.Status)
	require.False(t, lockHeld(t, d.Pool, job.Name), "the lock is released when the run ends")

	host, err := os.Hostname()
	require.NoError(t, err)
	row := loadRun(t, d.Pool, o.rec.ID)
	requireFinished(t, row, runner.StatusSucceeded, exitcode.OK)
	require.Equal(t, job.Name, row.Job)
	require.False(t, row.DryRun)
	require.Nil(t, row.Error)
	require.JSONEq(t, `{"processed":3,"note":"ok"}`, string(row.Summary))
	require.Equal(t, host, row.Host)
	require.Equal(t, os.Getpid(), row.PID)
	require.Equal(t, testVersion, row.Version)
	require.NotNil(t, row.AsOf)
	require.True(t, row.AsOf.Equal(asOf), "as_of %s, want %s", row.AsOf, asOf)
	require.WithinDuration(t, time.Now(), row.StartedAt, time.Minute)

	// The returned record is the row.
	require.Equal(t, row.ID, o.rec.ID)
	require.Equal(t, row.Status, o.rec.Status)
	require.Equal(t, *row.ExitCode, *o.rec.ExitCode)
	require.JSONEq(t, string(row.Summary), string(o.rec.Summary))

	out := logs.String()
	require.Contains(t, out, `"job":"test-success"`)
	require.Contains(t, out, `"run_id":"`+o.rec.ID.String()+`"`)
	require.Contains(t, out, `"status":"succeeded"`)
	require.Contains(t, out, `"message":"run finished"`)

	// Without an as-of, as_of is NULL.
	o = execute(ctx, r, runner.Job{Name: "test-no-as-of", MonotonicAsOf: true}, succeed(0))
	require.NoError(t, o.err)
	row = loadRun(t, d.Pool, o.rec.ID)
	require.Nil(t, row.AsOf)
	requireFinished(t, row, runner.StatusSucceeded, exitcode.OK)
	require.JSONEq(t, `{"processed":0}`, string(row.Summary))
}

func TestDryRunTakesNoLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	job := runner.Job{Name: "test-dry", Params: runner.Params{DryRun: true, AsOf: time.Now().Add(30 * 24 * time.Hour)}}
	o := execute(ctx, newRunner(d), job, func(context.Context, runner.Run) (report, error) {
		require.False(t, lockHeld(t, d.Pool, job.Name), "a dry run takes no lock")
		return report{Processed: 2}, nil
	})
	require.NoError(t, o.err, "a dry run may look at the future")
	row := loadRun(t, d.Pool, o.rec.ID)
	requireFinished(t, row, runner.StatusSucceeded, exitcode.OK)
	require.True(t, row.DryRun)
}

func TestLockContention(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	const name = "test-contention"
	host, err := os.Hostname()
	require.NoError(t, err)

	entered, release := make(chan runner.Run, 1), make(chan struct{})
	aDone := start(ctx, r, runner.Job{Name: name}, blocking(entered, release))
	a := awaitRun(t, entered)
	require.True(t, lockHeld(t, d.Pool, name))

	// B, a second real run of the same job, is skipped and names A.
	b := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{AsOf: time.Now()}}, mustNotRun(t))
	requireCode(t, exitcode.Locked, b.err)
	require.Contains(t, b.err.Error(), a.ID.String(), "the skip names the holder's run")
	require.Contains(t, b.err.Error(), host, "the skip names the holder's host")
	require.Equal(t, runner.StatusSkipped, b.rec.Status)
	require.True(t, b.res.Started, "a skipped run is recorded")
	require.False(t, b.res.Ran, "a skipped run does not call the job")
	require.NotEqual(t, uuid.Nil, b.rec.ID)
	bRow := loadRun(t, d.Pool, b.rec.ID)
	requireFinished(t, bRow, runner.StatusSkipped, exitcode.Locked)
	require.NotNil(t, bRow.Error)
	require.Contains(t, *bRow.Error, a.ID.String())
	require.Nil(t, bRow.Summary, "a skipped run has no report")

	// B touched nothing else: A's row is still running, A still holds the lock.
	require.Equal(t, runner.StatusRunning, loadRun(t, d.Pool, a.ID).Status)
	require.True(t, lockHeld(t, d.Pool, name))

	// Another job is not blocked, nor is a dry run of the same job.
	other := execute(ctx, r, runner.Job{Name: name + "-other"}, succeed(1))
	require.NoError(t, other.err)
	dry := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{DryRun: true}}, succeed(1))
	require.NoError(t, dry.err)
	require.Equal(t, runner.StatusSucceeded, loadRun(t, d.Pool, dry.rec.ID).Status)
	require.Equal(t, runner.StatusRunning, loadRun(t, d.Pool, a.ID).Status, "a dry run closes no rows")

	close(release)
	ao := await(t, aDone)
	require.NoError(t, ao.err)
	requireFinished(t, loadRun(t, d.Pool, a.ID), runner.StatusSucceeded, exitcode.OK)
	require.False(t, lockHeld(t, d.Pool, name))

	// Once A is done, the next run takes the lock.
	c := execute(ctx, r, runner.Job{Name: name}, succeed(1))
	require.NoError(t, c.err)
	requireFinished(t, loadRun(t, d.Pool, c.rec.ID), runner.StatusSucceeded, exitcode.OK)
	// Skipped B was not taken for an abandoned run.
	require.Equal(t, runner.StatusSkipped, loadRun(t, d.Pool, b.rec.ID).Status)
}

func TestConcurrentRealRunsRunOneAtATime(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	const name, n = "test-concurrent", 6

	entered, release := make(chan runner.Run, n), make(chan struct{})
	var calls atomic.Int32
	fn := blocking(entered, release)
	results := make(chan outcome, n)
	for range n {
		go func() {
			results <- execute(ctx, r, runner.Job{Name: name}, func(ctx context.Context, run runner.Run) (report, error) {
				calls.Add(1)
				return fn(ctx, run)
			})
		}()
	}
	holder := awaitRun(t, entered)

	// Every other run is skipped while the holder blocks.
	for range n - 1 {
		o := await(t, results)
		requireCode(t, exitcode.Locked, o.err)
		require.Equal(t, runner.StatusSkipped, loadRun(t, d.Pool, o.rec.ID).Status)
	}
	require.EqualValues(t, 1, calls.Load(), "exactly one job function ran")
	close(release)
	o := await(t, results)
	require.NoError(t, o.err)
	require.Equal(t, holder.ID, o.rec.ID)
	require.Equal(t, n, countRuns(t, d.Pool, name))
}

// Cron starts the same job on several hosts in the same second: every run
// that loses the race must name the one that won, not another loser (a
// skipped run's row is inserted as 'running' and only then set to
// 'skipped') nor "a run whose job_runs row is not visible yet" (the winner
// takes the lock before it inserts its row).
func TestConcurrentSkippersNameTheHolder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	const name, n = "test-concurrent-holder", 6

	entered, release := make(chan runner.Run, n), make(chan struct{})
	results := make(chan outcome, n)
	for range n {
		go func() { results <- execute(ctx, r, runner.Job{Name: name}, blocking(entered, release)) }()
	}
	holder := awaitRun(t, entered)
	var misnamed []string
	for range n - 1 {
		o := await(t, results)
		requireCode(t, exitcode.Locked, o.err)
		if !strings.Contains(o.err.Error(), holder.ID.String()) {
			misnamed = append(misnamed, o.err.Error())
		}
	}
	close(release)
	require.NoError(t, await(t, results).err)
	require.Empty(t, misnamed, "skipped runs that do not name the holder %s", holder.ID)
}

func TestLostLockStopsRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	r.LockCheckEvery = 50 * time.Millisecond
	const name = "test-lost-lock"

	entered := make(chan runner.Run, 1)
	done := start(ctx, r, runner.Job{Name: name}, blocking(entered, nil))
	run := awaitRun(t, entered)

	var killed int
	require.NoError(t, d.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, "cortexctl/"+name+"/lock").Scan(&killed))
	require.Equal(t, 1, killed, "one lock connection to terminate")

	o := await(t, done)
	requireCode(t, exitcode.Unavailable, o.err)
	require.Contains(t, o.err.Error(), "lock")
	require.Contains(t, o.err.Error(), name)
	require.Equal(t, runner.StatusFailed, o.rec.Status)
	row := loadRun(t, d.Pool, run.ID)
	requireFinished(t, row, runner.StatusFailed, exitcode.Unavailable)
	require.NotNil(t, row.Error)
	require.Contains(t, *row.Error, "lock")

	require.Eventually(t, func() bool { return !lockHeld(t, d.Pool, name) }, waitFor, 20*time.Millisecond)
	next := execute(ctx, r, runner.Job{Name: name}, succeed(1))
	require.NoError(t, next.err)
}

func TestAbandonedRunsAreMarkedInterrupted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	const name = "test-abandoned"

	insert := func(job string, dry bool, age string) uuid.UUID {
		id := uuid.New()
		_, err := d.Pool.Exec(ctx, `
			INSERT INTO job_runs (id, job, status, dry_run, host, pid, version, started_at)
			VALUES ($1, $2, 'running', $3, 'dead-host', 4242, 'v0', now() - $4::interval)`, id, job, dry, age)
		require.NoError(t, err)
		return id
	}
	killed := insert(name, false, "1 hour")
	killedLongAgo := insert(name, false, "3 days")
	youngDry := insert(name, true, "1 hour")
	staleDry := insert(name, true, "2 days")
	otherJob := insert(name+"-other", false, "1 hour")

	// A dry run takes no lock, so it closes nothing.
	dry := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{DryRun: true}}, succeed(0))
	require.NoError(t, dry.err)
	require.Equal(t, runner.StatusRunning, loadRun(t, d.Pool, killed).Status)

	o := execute(ctx, r, runner.Job{Name: name}, func(ctx context.Context, run runner.Run) (report, error) {
		// Closed before the job function runs.
		require.Equal(t, runner.StatusInterrupted, loadRun(t, d.Pool, killed).Status)
		return report{}, nil
	})
	require.NoError(t, o.err)

	for _, id := range []uuid.UUID{killed, killedLongAgo, staleDry} {
		row := loadRun(t, d.Pool, id)
		require.Equal(t, runner.StatusInterrupted, row.Status, "row %s", id)
		require.NotNil(t, row.FinishedAt)
		require.Nil(t, row.ExitCode)
		require.NotNil(t, row.Error)
		require.Contains(t, *row.Error, o.rec.ID.String(), "the error names the run that found it")
	}
	require.Equal(t, runner.StatusRunning, loadRun(t, d.Pool, youngDry).Status, "a dry run younger than a day may still be running")
	require.Equal(t, runner.StatusRunning, loadRun(t, d.Pool, otherJob).Status, "another job's rows are its own")
	require.Equal(t, runner.StatusSucceeded, loadRun(t, d.Pool, o.rec.ID).Status, "the new run is not its own abandoned run")
}

func TestAsOfGuards(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	earlier := now.Add(-24 * time.Hour)

	d := dbtest.New(t) // shared by the subtests, each with its own job
	newClocked := func(t *testing.T) (*runner.Runner, *dbtest.DB) {
		r := newRunner(d)
		r.Now = func() time.Time { return now }
		return r, d
	}

	t.Run("future refused", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		r, d := newClocked(t) // the host clock is months off: the database's decides
		o := execute(ctx, r, runner.Job{Name: "test-future", Params: runner.Params{AsOf: time.Now().Add(10 * time.Minute)}}, mustNotRun(t))
		requireCode(t, exitcode.Usage, o.err)
		require.Contains(t, o.err.Error(), "future")
		require.Contains(t, o.err.Error(), "--dry-run")
		require.Equal(t, runner.StatusFailed, o.rec.Status)
		require.True(t, o.res.Started, "a refused as-of is recorded")
		require.False(t, o.res.Ran, "a refused as-of does not call the job")
		row := loadRun(t, d.Pool, o.rec.ID)
		requireFinished(t, row, runner.StatusFailed, exitcode.Usage)
		require.NotNil(t, row.Error)
		require.Contains(t, *row.Error, "future")
	})

	t.Run("future within skew allowed", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		r, _ := newClocked(t)
		require.NoError(t, execute(ctx, r, runner.Job{Name: "test-skew", Params: runner.Params{AsOf: time.Now().Add(4 * time.Minute)}}, succeed(1)).err)
		r.FutureSkew = time.Minute
		o := execute(ctx, r, runner.Job{Name: "test-skew2", Params: runner.Params{AsOf: time.Now().Add(2 * time.Minute)}}, mustNotRun(t))
		requireCode(t, exitcode.Usage, o.err)
	})

	t.Run("future allowed for a dry run", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		r, _ := newClocked(t)
		o := execute(ctx, r, runner.Job{Name: "test-future-dry", Params: runner.Params{DryRun: true, AsOf: now.AddDate(1, 0, 0)}, MonotonicAsOf: true}, succeed(1))
		require.NoError(t, o.err)
		// The dry run's as-of does not count for later real runs.
		require.NoError(t, execute(ctx, r, runner.Job{Name: "test-future-dry", Params: runner.Params{AsOf: now}, MonotonicAsOf: true}, succeed(1)).err)
	})

	t.Run("monotonic", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		r, d := newClocked(t)
		const name = "test-monotonic"
		job := func(asOf time.Time) runner.Job {
			return runner.Job{Name: name, Params: runner.Params{AsOf: asOf}, MonotonicAsOf: true}
		}

		require.NoError(t, execute(ctx, r, job(now), succeed(1)).err)

		o := execute(ctx, r, job(earlier), mustNotRun(t))
		requireCode(t, exitcode.Usage, o.err)
		require.Contains(t, o.err.Error(), "earlier")
		require.Contains(t, o.err.Error(), now.Format(time.RFC3339Nano), "names the earlier run's as-of")
		require.Contains(t, o.err.Error(), earlier.Format(time.RFC3339Nano), "and its own")
		requireFinished(t, loadRun(t, d.Pool, o.rec.ID), runner.StatusFailed, exitcode.Usage)

		require.NoError(t, execute(ctx, r, job(now), succeed(1)).err, "the same as-of again is allowed")

		dry := job(earlier)
		dry.DryRun = true
		require.NoError(t, execute(ctx, r, dry, succeed(1)).err, "a dry run may look at the past")

		free := job(earlier)
		free.MonotonicAsOf = false
		require.NoError(t, execute(ctx, r, free, succeed(1)).err, "without MonotonicAsOf the past is allowed")

		require.NoError(t, execute(ctx, r, job(now.Add(time.Minute)), succeed(1)).err, "a later as-of is allowed")
	})

	t.Run("skipped runs do not count", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		r, d := newClocked(t)
		const name = "test-monotonic-skipped"
		entered, release := make(chan runner.Run, 1), make(chan struct{})
		aDone := start(ctx, r, runner.Job{Name: name, Params: runner.Params{AsOf: earlier}, MonotonicAsOf: true}, blocking(entered, release))
		awaitRun(t, entered)
		b := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{AsOf: now}, MonotonicAsOf: true}, mustNotRun(t))
		requireCode(t, exitcode.Locked, b.err)
		close(release)
		require.NoError(t, await(t, aDone).err)
		// The skipped run's later as-of does not raise the floor.
		o := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{AsOf: earlier.Add(time.Hour)}, MonotonicAsOf: true}, succeed(1))
		require.NoError(t, o.err)
		require.Equal(t, runner.StatusSucceeded, loadRun(t, d.Pool, o.rec.ID).Status)
	})
}

// A real run refused for a future as-of evaluated nothing and touched
// nothing; its as-of must not become the floor for later monotonic runs.
// Otherwise one mistyped --as-of (say 2027 for 2026) makes every later cron
// run of the job exit 2 until that date.
func TestRefusedFutureAsOfDoesNotBlockLaterRuns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := newRunner(d)
	r.Now = func() time.Time { return now }
	const name = "test-future-floor"

	refused := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{AsOf: now.AddDate(1, 0, 0)}, MonotonicAsOf: true}, mustNotRun(t))
	requireCode(t, exitcode.Usage, refused.err)

	o := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{AsOf: now}, MonotonicAsOf: true}, succeed(1))
	require.NoError(t, o.err, "a run at now is refused because an earlier, refused run asked for the future")
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	cases := map[string]func(ctx context.Context) error{
		"fn returns the cause":   context.Cause,
		"fn returns ctx.Err()":   func(ctx context.Context) error { return ctx.Err() },
		"fn returns a query err": func(ctx context.Context) error { return errors.New("query: conn closed") },
	}
	d := dbtest.New(t) // shared by the subtests, each with its own job
	for name, ret := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			job := "test-timeout " + name
			began := time.Now()
			o := execute(ctx, newRunner(d), runner.Job{Name: job, Params: runner.Params{Timeout: 100 * time.Millisecond}},
				func(ctx context.Context, _ runner.Run) (report, error) {
					select {
					case <-ctx.Done():
						return report{Processed: 1}, ret(ctx)
					case <-time.After(waitFor):
						return report{}, errors.New("the timeout did not cancel the run")
					}
				})
			requireCode(t, exitcode.Timeout, o.err)
			require.ErrorIs(t, o.err, exitcode.ErrTimeout)
			require.Less(t, time.Since(began), 5*time.Second)
			require.Equal(t, runner.StatusTimedOut, o.rec.Status)
			row := loadRun(t, d.Pool, o.rec.ID)
			requireFinished(t, row, runner.StatusTimedOut, exitcode.Timeout)
			require.NotNil(t, row.Error)
			require.Contains(t, *row.Error, "timed out")
			require.JSONEq(t, `{"processed":1}`, string(row.Summary), "the report so far is kept")
			require.False(t, lockHeld(t, d.Pool, job))
		})
	}

	t.Run("a run within its timeout succeeds", func(t *testing.T) {
		t.Parallel()
		o := execute(t.Context(), newRunner(d), runner.Job{Name: "test-timeout-ok", Params: runner.Params{Timeout: time.Minute}}, succeed(1))
		require.NoError(t, o.err)
	})
}

func TestSignal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGTERM, exitcode.Terminated},
		{syscall.SIGINT, exitcode.Interrupted},
	}
	d := dbtest.New(t) // shared by the subtests, each with its own job
	for _, tc := range cases {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			r := newRunner(d)
			r.LockCheckEvery = 10 * time.Millisecond // a ping may be in flight when the signal comes
			name := "test-signal " + tc.sig.String()
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			entered := make(chan runner.Run, 1)
			done := start(ctx, r, runner.Job{Name: name, Params: runner.Params{Timeout: time.Minute}}, blocking(entered, nil))
			run := awaitRun(t, entered)
			cancel(exitcode.Signal{Sig: tc.sig})

			o := await(t, done)
			requireCode(t, tc.code, o.err)
			require.Equal(t, runner.StatusInterrupted, o.rec.Status)
			row := loadRun(t, d.Pool, run.ID)
			requireFinished(t, row, runner.StatusInterrupted, tc.code)
			require.NotNil(t, row.Error)
			require.Contains(t, *row.Error, exitcode.Signal{Sig: tc.sig}.Error(), "the error names the signal")
			require.False(t, lockHeld(t, d.Pool, name))
		})
	}
}

// A signal that arrives before the job function starts (while the runner
// checks the schema or takes the lock) still ends the process as signalled.
func TestSignalBeforeStart(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(exitcode.Signal{Sig: syscall.SIGTERM})
	o := execute(ctx, newRunner(d), runner.Job{Name: "test-signal-early"}, mustNotRun(t))
	requireCode(t, exitcode.Terminated, o.err)
}

func TestOutcomeStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		status string
		code   int
	}{
		{"partial", exitcode.Errorf(exitcode.Partial, "2 of 5 clients failed"), runner.StatusPartial, exitcode.Partial},
		{"plain error", errors.New("load clients: boom"), runner.StatusFailed, exitcode.Failed},
		{"wrapped partial", errors.Join(exitcode.Errorf(exitcode.Partial, "1 of 2 clients failed")), runner.StatusPartial, exitcode.Partial},
		{"unavailable", exitcode.Errorf(exitcode.Unavailable, "stripe unreachable"), runner.StatusFailed, exitcode.Unavailable},
		{"config", exitcode.Errorf(exitcode.Config, "STRIPE_API_KEY is not set"), runner.StatusFailed, exitcode.Config},
	}
	d := dbtest.New(t) // shared by the subtests, each with its own job
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := execute(t.Context(), newRunner(d), runner.Job{Name: "test-outcome " + tc.name},
				func(context.Context, runner.Run) (report, error) { return report{Processed: 5, Note: "so far"}, tc.err })
			requireCode(t, tc.code, o.err)
			require.Equal(t, tc.err.Error(), o.err.Error(), "the job's error is returned as is")
			require.Equal(t, report{Processed: 5, Note: "so far"}, o.rep)
			require.Equal(t, tc.status, o.rec.Status)
			row := loadRun(t, d.Pool, o.rec.ID)
			requireFinished(t, row, tc.status, tc.code)
			require.NotNil(t, row.Error)
			require.Equal(t, tc.err.Error(), *row.Error)
			require.JSONEq(t, `{"processed":5,"note":"so far"}`, string(row.Summary))
		})
	}
}

func TestUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.NewEmpty(t)
	for _, dry := range []bool{false, true} {
		o := execute(ctx, newRunner(d), runner.Job{Name: "test-unmigrated", Params: runner.Params{DryRun: dry}}, mustNotRun(t))
		requireCode(t, exitcode.Config, o.err)
		require.Contains(t, o.err.Error(), "cortexctl db migrate")
		require.False(t, o.res.Started, "no run was recorded")
		require.False(t, o.res.Ran)
	}
	var tables int
	require.NoError(t, d.Pool.QueryRow(ctx, `
		SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&tables))
	require.Zero(t, tables, "the runner created no table (job_runs or goose's)")
	require.False(t, lockHeld(t, d.Pool, "test-unmigrated"))
}

func TestHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	// A clock that moves a second per reading orders the runs for sure.
	var tick atomic.Int64
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Second) }

	var ids []uuid.UUID // oldest first
	for i, name := range []string{"job-a", "job-b", "job-a", "job-a", "job-b"} {
		o := execute(ctx, r, runner.Job{Name: name}, succeed(i))
		require.NoError(t, o.err)
		ids = append(ids, o.rec.ID)
	}
	failed := execute(ctx, r, runner.Job{Name: "job-a", Params: runner.Params{DryRun: true, AsOf: base}},
		func(context.Context, runner.Run) (report, error) { return report{}, errors.New("boom") })
	requireCode(t, exitcode.Failed, failed.err)
	ids = append(ids, failed.rec.ID)

	idsOf := func(recs []runner.Record) []uuid.UUID {
		out := make([]uuid.UUID, 0, len(recs))
		for _, rec := range recs {
			out = append(out, rec.ID)
		}
		return out
	}

	all, err := runner.History(ctx, d.Pool, "", 100)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}, idsOf(all), "newest first")

	a, err := runner.History(ctx, d.Pool, "job-a", 100)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{ids[5], ids[3], ids[2], ids[0]}, idsOf(a))

	b, err := runner.History(ctx, d.Pool, "job-b", 1)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{ids[4]}, idsOf(b))

	none, err := runner.History(ctx, d.Pool, "job-none", 10)
	require.NoError(t, err)
	require.Empty(t, none)

	// Records read back whole.
	newest := all[0]
	require.Equal(t, "job-a", newest.Job)
	require.True(t, newest.DryRun)
	requireFinished(t, newest, runner.StatusFailed, exitcode.Failed)
	require.NotNil(t, newest.Error)
	require.Equal(t, "boom", *newest.Error)
	require.NotNil(t, newest.AsOf)
	require.True(t, newest.AsOf.Equal(base))
	require.Equal(t, testVersion, newest.Version)

	oldest := all[5]
	requireFinished(t, oldest, runner.StatusSucceeded, exitcode.OK)
	require.Nil(t, oldest.Error)
	require.Nil(t, oldest.AsOf)
	require.JSONEq(t, `{"processed":0}`, string(oldest.Summary))
	require.True(t, oldest.StartedAt.Equal(base.Add(time.Second)), "started_at %s", oldest.StartedAt)

	// The JSON form of a record is what `jobs history --output json` prints.
	js, err := json.Marshal(oldest)
	require.NoError(t, err)
	require.Contains(t, string(js), `"run_id":"`+ids[0].String()+`"`)
	require.Contains(t, string(js), `"summary":{"processed":0}`)
}

func TestStatusFor(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]string{
		exitcode.OK: runner.StatusSucceeded, exitcode.Failed: runner.StatusFailed, exitcode.Usage: runner.StatusFailed,
		exitcode.Partial: runner.StatusPartial, exitcode.Unavailable: runner.StatusFailed, exitcode.Locked: runner.StatusSkipped,
		exitcode.Config: runner.StatusFailed, exitcode.Timeout: runner.StatusTimedOut,
		exitcode.Interrupted: runner.StatusInterrupted, exitcode.Terminated: runner.StatusInterrupted,
	} {
		require.Equal(t, want, runner.StatusFor(code), "exit code %d", code)
	}
}

func TestLockKey(t *testing.T) {
	t.Parallel()
	require.Equal(t, runner.LockKey("billing-overage"), runner.LockKey("billing-overage"))
	require.NotEqual(t, runner.LockKey("billing-overage"), runner.LockKey("billing-grace"))
}

// A run without an as-of evaluates the database's clock, read once the lock
// is held, to the microsecond; the host's clock only earns a warning.
func TestDefaultAsOfIsTheDatabaseClock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	var logs syncBuffer
	r := newRunner(d)
	r.Log = zerolog.New(&logs)
	hostNow := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // months off
	r.Now = func() time.Time { return hostNow }

	var seen time.Time
	before := time.Now()
	o := execute(ctx, r, runner.Job{Name: "test-default-as-of", DefaultAsOf: true, MonotonicAsOf: true},
		func(_ context.Context, run runner.Run) (report, error) { seen = run.Job.AsOf; return report{}, nil })
	require.NoError(t, o.err)
	require.NotNil(t, o.rec.AsOf)
	require.True(t, seen.Equal(*o.rec.AsOf), "the job evaluates the instant the run records")
	require.WithinDuration(t, before, seen, 5*time.Second, "the database's clock, not the host's %s", hostNow)
	require.Zero(t, seen.Nanosecond()%1000, "truncated to the microsecond PostgreSQL keeps")
	require.True(t, seen.Equal(*loadRun(t, d.Pool, o.rec.ID).AsOf))
	require.Contains(t, logs.String(), "the host clock differs from the database's")

	// A later real as-of (allowed: within the 5 minutes of skew) is never
	// undone by a run without --as-of, and that run is not refused either.
	ahead := time.Now().Add(4 * time.Minute).Truncate(time.Microsecond)
	require.NoError(t, execute(ctx, r, runner.Job{Name: "test-default-as-of", Params: runner.Params{AsOf: ahead}, MonotonicAsOf: true}, succeed(1)).err)
	o = execute(ctx, r, runner.Job{Name: "test-default-as-of", DefaultAsOf: true, MonotonicAsOf: true},
		func(_ context.Context, run runner.Run) (report, error) { seen = run.Job.AsOf; return report{}, nil })
	require.NoError(t, o.err)
	require.True(t, ahead.Equal(seen), "evaluates the earlier run's later as-of %s, got %s", ahead, seen)
}

// A preflight failure (bad settings of an external dependency) ends the run
// before the lock: exit 78, a job_runs row saying why, the job never called.
func TestPreflightRefusesBeforeTheLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	const name = "test-preflight"
	entered, release := make(chan runner.Run, 1), make(chan struct{})
	holder := start(ctx, r, runner.Job{Name: name}, blocking(entered, release))
	awaitRun(t, entered)

	o := execute(ctx, r, runner.Job{Name: name, Preflight: func(context.Context) error {
		return exitcode.Errorf(exitcode.Config, "stripe base URL %q: want http(s)://host", "ftp://bad")
	}}, mustNotRun(t))
	requireCode(t, exitcode.Config, o.err)
	require.True(t, o.res.Started)
	require.False(t, o.res.Ran)
	row := loadRun(t, d.Pool, o.rec.ID)
	requireFinished(t, row, runner.StatusFailed, exitcode.Config)
	require.Contains(t, *row.Error, "ftp://bad")
	close(release)
	require.NoError(t, await(t, holder).err, "the lock holder was not disturbed")
}

// A run whose lock backend is terminated learns it before its next commit
// (CheckLock), and exits 69 even if the job function itself returns nil.
func TestLostLockIsSeenBeforeCommitAndNeverSucceeds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.New(t)
	r := newRunner(d)
	r.LockCheckEvery = time.Hour // the watchdog must not be what notices
	const name = "test-lost-lock-check"
	var checkErr error
	o := execute(ctx, r, runner.Job{Name: name}, func(ctx context.Context, run runner.Run) (report, error) {
		require.NoError(t, run.CheckLock(ctx, d.Pool), "held at the start")
		var n int
		require.NoError(t, d.Pool.QueryRow(ctx, `
			SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
			"cortexctl/"+name+"/lock").Scan(&n))
		require.Equal(t, 1, n)
		require.Eventually(t, func() bool { checkErr = run.CheckLock(ctx, d.Pool); return checkErr != nil }, waitFor, 10*time.Millisecond)
		return report{Processed: 1}, nil // a job that ignored the check
	})
	requireCode(t, exitcode.Unavailable, checkErr)
	require.Contains(t, checkErr.Error(), "lost the "+name+" lock")
	requireCode(t, exitcode.Unavailable, o.err)
	requireFinished(t, loadRun(t, d.Pool, o.rec.ID), runner.StatusFailed, exitcode.Unavailable)

	dry := execute(ctx, r, runner.Job{Name: name, Params: runner.Params{DryRun: true}}, func(ctx context.Context, run runner.Run) (report, error) {
		return report{}, run.CheckLock(ctx, d.Pool) // a dry run holds no lock and has nothing to lose
	})
	require.NoError(t, dry.err)
}
