// Package runner runs cortexctl's one-shot jobs the same way: one run at a
// time per job across all hosts (a PostgreSQL advisory lock held on a
// dedicated connection), a job_runs row for every run, a timeout, and one
// mapping from outcome to status and exit code.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Run statuses, as stored in job_runs.status.
const (
	StatusRunning     = "running"
	StatusSucceeded   = "succeeded"
	StatusFailed      = "failed"
	StatusPartial     = "partial"
	StatusSkipped     = "skipped"
	StatusInterrupted = "interrupted"
	StatusTimedOut    = "timed_out"
)

// Statuses are the statuses a run can be recorded with.
var Statuses = []string{StatusRunning, StatusSucceeded, StatusFailed, StatusPartial,
	StatusSkipped, StatusInterrupted, StatusTimedOut}

// Runner runs jobs. Build one per process.
type Runner struct {
	Pool    *db.Pool
	Log     zerolog.Logger
	Now     func() time.Time // the clock; time.Now when nil
	Version string
	// LockCheckEvery is how often the lock connection is checked; a run
	// whose lock connection dies is cancelled. Default 5s.
	LockCheckEvery time.Duration
	// FutureSkew is how far ahead of Now a real run's as-of may be. Default 5m.
	FutureSkew time.Duration
}

// Params are the parameters every job shares, bound from the flags every
// job command declares once (--as-of, --dry-run, --timeout, --client). Each
// job's Options embed them; the runner reads them from Job.
type Params struct {
	AsOf     time.Time     // the instant the run evaluates; zero for a job that evaluates no instant
	DryRun   bool          // dry runs take no lock, write nothing but their job_runs row, and may look at any instant
	Timeout  time.Duration // the run stops cleanly (between units of work) after this long; 0: never
	ClientID uuid.UUID     // only this client; uuid.Nil: every client
}

// Job says which job to run and how.
type Job struct {
	Name string // e.g. "billing-overage"; also names the lock
	Params
	// DefaultAsOf: a zero AsOf means the database's clock (now()) once the
	// lock is held, never the host's: hosts' clocks differ, and a run that
	// waited to connect must not evaluate an instant before a run that
	// finished meanwhile. With MonotonicAsOf it is never earlier than an
	// earlier real run's as-of, so a run without --as-of is never refused.
	DefaultAsOf bool
	// MonotonicAsOf refuses a real run whose as-of is earlier than that of an
	// earlier real run of the same job: evaluating the past for real would
	// undo what later runs decided.
	MonotonicAsOf bool
	// Preflight checks the job's external settings (URLs, key shapes)
	// before the lock is taken. An error (an exitcode.Config one, say) ends
	// the run before it changes anything but its own job_runs row.
	Preflight func(context.Context) error
}

// Result is what Execute did: whether the run was recorded in job_runs,
// whether the job function ran, the run's record and the job's report.
type Result[R any] struct {
	// Started: the run has a job_runs row (Record), including a run skipped
	// for the lock or refused for its as-of. False when the run was refused
	// before that (bad configuration, database down or unmigrated).
	Started bool
	// Ran: the job function was called and Report is what it returned.
	Ran    bool
	Record Record
	Report R
}

// Run is what a job function learns of its run.
type Run struct {
	ID     uuid.UUID
	Job    Job // with the as-of the run evaluates
	Logger zerolog.Logger
	lock   *heldLock
}

// LockChecker is what a job asks before each unit commits: runner.Run is one.
type LockChecker interface {
	CheckLock(ctx context.Context, q db.Querier) error
}

// HoldsLock asks l, through q, whether the run still holds its lock; a nil
// l (a job run outside the runner, as in its own tests) holds nothing to
// lose.
func HoldsLock(ctx context.Context, l LockChecker, q db.Querier) error {
	if l == nil {
		return nil
	}
	return l.CheckLock(ctx, q)
}

// CheckLock returns an exitcode.Unavailable error unless this run still
// holds its job's lock, asked through q: a unit's transaction, right before
// it commits, so that no unit commits (and nothing is pushed) once another
// run may have taken the lock. A dry run holds no lock: nil.
func (r Run) CheckLock(ctx context.Context, q db.Querier) error {
	if r.lock == nil {
		return nil
	}
	return r.lock.check(ctx, q)
}

// Record is one row of job_runs.
type Record struct {
	ID         uuid.UUID       `json:"run_id"`
	Job        string          `json:"job"`
	Status     string          `json:"status"`
	DryRun     bool            `json:"dry_run"`
	AsOf       *time.Time      `json:"as_of"`
	Host       string          `json:"host"`
	PID        int             `json:"pid"`
	Version    string          `json:"version"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	ExitCode   *int            `json:"exit_code"`
	Error      *string         `json:"error"`
	Summary    json.RawMessage `json:"summary,omitempty"`
}

// StatusFor maps an exit code to the job_runs status it is recorded as.
func StatusFor(code int) string {
	switch code {
	case exitcode.OK:
		return StatusSucceeded
	case exitcode.Partial:
		return StatusPartial
	case exitcode.Locked:
		return StatusSkipped
	case exitcode.Timeout:
		return StatusTimedOut
	case exitcode.Interrupted, exitcode.Terminated:
		return StatusInterrupted
	default:
		return StatusFailed
	}
}

// LockKey is the advisory lock key of a job.
func LockKey(job string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("cortexctl/job/" + job))
	return int64(h.Sum64()) //nolint:gosec // a hash reinterpreted as a lock key
}

// Execute runs fn as one run of job and records it. It returns what
// happened and the error that decides the exit code (nil on success). fn
// must stop between units of work once ctx is done, returning
// context.Cause(ctx).
func Execute[R any](ctx context.Context, r *Runner, job Job, fn func(context.Context, Run) (R, error)) (Result[R], error) {
	var res Result[R]
	if err := db.CheckSchema(ctx, r.Pool); err != nil {
		return res, stopped(ctx, err)
	}
	host, _ := os.Hostname()
	rec := Record{
		ID: uuid.New(), Job: job.Name, Status: StatusRunning, DryRun: job.DryRun,
		Host: host, PID: os.Getpid(), Version: r.Version, StartedAt: r.now(),
	}
	rec.setAsOf(job.AsOf)
	log := r.Log.With().Str("job", job.Name).Str("run_id", rec.ID.String()).Bool("dry_run", job.DryRun).Logger()

	if job.Preflight != nil {
		if err := job.Preflight(ctx); err != nil {
			err = refused(ctx, r, log, &rec, err)
			res.Started, res.Record = true, rec
			return res, stopped(ctx, err)
		}
	}

	var lock *heldLock
	if !job.DryRun {
		var err error
		lock, err = acquire(ctx, r.Pool, job.Name)
		if err != nil {
			return res, stopped(ctx, fmt.Errorf("take the %s lock: %w", job.Name, err))
		}
		if lock == nil {
			err := skipped(ctx, r, log, &rec)
			res.Started, res.Record = exitcode.Of(err) == exitcode.Locked, rec
			return res, stopped(ctx, err)
		}
		defer lock.release(log)
		if err := markAbandoned(ctx, r.Pool, job.Name, rec.ID); err != nil {
			return res, stopped(ctx, err)
		}
	}
	dbNow, defaulted, err := r.resolveAsOf(ctx, &job, log)
	if err != nil {
		return res, stopped(ctx, err)
	}
	rec.setAsOf(job.AsOf)
	if err := insertRun(ctx, r.Pool, &rec); err != nil {
		return res, stopped(ctx, err)
	}
	res.Started = true
	log.Info().Time("as_of", job.AsOf).Msg("run started")

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if job.Timeout > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeoutCause(runCtx, job.Timeout, exitcode.ErrTimeout)
		defer stop()
	}
	if lock != nil {
		stopWatch := lock.watch(runCtx, r.lockCheckEvery(), func(err error) {
			log.Error().Err(err).Msg("lost the lock connection; stopping the run")
			cancel(exitcode.Errorf(exitcode.Unavailable,
				"lost the database connection holding the %s lock (%v): stopped so that no other run overlaps", job.Name, err))
		})
		defer stopWatch()
	}

	err = r.checkAsOf(ctx, job, rec.ID, dbNow, defaulted)
	if err == nil {
		res.Ran = true
		res.Report, err = fn(runCtx, Run{ID: rec.ID, Job: job, Logger: log, lock: lock})
	}
	if err != nil && runCtx.Err() != nil {
		if cause := context.Cause(runCtx); !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%w)", cause, err)
		}
	}
	if lock != nil && res.Ran {
		// Whatever the job did, a run that lost its lock must not look done.
		checkCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		if lockErr := lock.check(checkCtx, r.Pool); lockErr != nil && exitcode.Of(err) != exitcode.Unavailable {
			err = errors.Join(lockErr, err)
		}
		stop()
	}
	code := exitcode.Of(err)
	rec.Status = StatusFor(code)
	rec.ExitCode = &code
	if err != nil {
		msg := err.Error()
		rec.Error = &msg
	}
	if res.Ran {
		if summary, mErr := json.Marshal(res.Report); mErr == nil {
			rec.Summary = summary
		}
	}
	finishCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer stop()
	if fErr := finishRun(finishCtx, r.Pool, &rec, r.now()); fErr != nil {
		log.Error().Err(fErr).Msg("could not record the run's outcome in job_runs")
		if err == nil {
			err = fmt.Errorf("record outcome: %w", fErr)
		}
	}
	level := zerolog.InfoLevel
	if err != nil {
		level = zerolog.ErrorLevel
	}
	log.WithLevel(level).Err(err).Str("status", rec.Status).Int("exit_code", code).
		Int64("duration_ms", rec.FinishedAt.Sub(rec.StartedAt).Milliseconds()).Msg("run finished")
	res.Record = rec
	return res, err
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

func (r *Runner) lockCheckEvery() time.Duration {
	if r.LockCheckEvery <= 0 {
		return 5 * time.Second
	}
	return r.LockCheckEvery
}

// clockSkewWarning is how far the host's clock may be from the database's
// before a run says so.
const clockSkewWarning = 30 * time.Second

// resolveAsOf reads the database's clock, warns when the host's differs from
// it, and sets a defaulted as-of: the database's now, truncated to the
// microsecond PostgreSQL keeps, and for a monotonic job never earlier than
// an earlier real run's.
func (r *Runner) resolveAsOf(ctx context.Context, job *Job, log zerolog.Logger) (dbNow time.Time, defaulted bool, err error) {
	if err := r.Pool.QueryRow(ctx, `SELECT now()`).Scan(&dbNow); err != nil {
		return time.Time{}, false, fmt.Errorf("read the database clock: %w", err)
	}
	dbNow = dbNow.UTC()
	if skew := r.now().Sub(dbNow); skew > clockSkewWarning || skew < -clockSkewWarning {
		log.Warn().Time("host_now", r.now()).Time("database_now", dbNow).Int64("skew_ms", skew.Milliseconds()).
			Msg("the host clock differs from the database's by more than 30s; runs use the database's clock")
	}
	if !job.DefaultAsOf || !job.AsOf.IsZero() {
		return dbNow, false, nil
	}
	job.AsOf = dbNow.Truncate(time.Microsecond)
	if job.MonotonicAsOf && !job.DryRun {
		latest, err := r.latestAsOf(ctx, job.Name, uuid.Nil)
		if err != nil {
			return time.Time{}, false, err
		}
		if latest != nil && latest.After(job.AsOf) {
			log.Info().Time("database_now", job.AsOf).Time("as_of", *latest).
				Msg("an earlier real run evaluated a later instant: this run evaluates that one, not the past")
			job.AsOf = latest.UTC()
		}
	}
	return dbNow, true, nil
}

// checkAsOf refuses real runs that evaluate the future (by the database's
// clock), or the past before an earlier real run's as-of when the job asks
// for it. A defaulted as-of is never refused.
func (r *Runner) checkAsOf(ctx context.Context, job Job, self uuid.UUID, dbNow time.Time, defaulted bool) error {
	if job.DryRun || job.AsOf.IsZero() || defaulted {
		return nil
	}
	skew := r.FutureSkew
	if skew <= 0 {
		skew = 5 * time.Minute
	}
	if job.AsOf.After(dbNow.Add(skew)) {
		return exitcode.Errorf(exitcode.Usage,
			"--as-of %s is in the future (the database's clock says %s): only a --dry-run may look ahead",
			job.AsOf.UTC().Format(time.RFC3339Nano), dbNow.Format(time.RFC3339Nano))
	}
	if !job.MonotonicAsOf {
		return nil
	}
	latest, err := r.latestAsOf(ctx, job.Name, self)
	if err != nil {
		return err
	}
	if latest != nil && job.AsOf.Before(*latest) {
		return exitcode.Errorf(exitcode.Usage,
			"--as-of %s is earlier than the as-of of an earlier real run (%s): running the past for real would undo later decisions; use --dry-run to look at it, or leave --as-of out",
			job.AsOf.UTC().Format(time.RFC3339Nano), latest.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// latestAsOf is the newest as-of of the job's earlier real runs that may
// have changed something, nil if none.
func (r *Runner) latestAsOf(ctx context.Context, job string, self uuid.UUID) (*time.Time, error) {
	var latest *time.Time
	err := r.Pool.QueryRow(ctx, `
		SELECT max(as_of) FROM job_runs
		WHERE job = $1 AND NOT dry_run AND status <> 'skipped' AND id <> $2
		  AND coalesce(exit_code, -1) NOT IN (2, 78) -- refused as bad input or configuration: it wrote nothing`, job, self).Scan(&latest)
	if err != nil {
		return nil, fmt.Errorf("read earlier runs: %w", err)
	}
	return latest, nil
}

// refused records a run that its preflight refused.
func refused(ctx context.Context, r *Runner, log zerolog.Logger, rec *Record, cause error) error {
	log.Error().Err(cause).Msg("run refused before it started")
	if err := insertEnded(ctx, r, rec, cause); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func (rec *Record) setAsOf(t time.Time) {
	rec.AsOf = nil
	if !t.IsZero() {
		asOf := t.UTC()
		rec.AsOf = &asOf
	}
}

// skipped records a run that found the lock taken, naming the holder.
func skipped(ctx context.Context, r *Runner, log zerolog.Logger, rec *Record) error {
	holder := "a run whose job_runs row is not visible yet"
	var (
		id    uuid.UUID
		host  string
		pid   int
		since time.Time
	)
	// The holder records its row just after taking the lock: give it a moment.
	var err error
	for range 10 {
		err = r.Pool.QueryRow(ctx, `
			SELECT id, host, pid, started_at FROM job_runs
			WHERE job = $1 AND status = 'running' AND NOT dry_run
			ORDER BY started_at DESC LIMIT 1`, rec.Job).Scan(&id, &host, &pid, &since)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err == nil {
		holder = fmt.Sprintf("run %s on host %s (pid %d) since %s", id, host, pid, since.UTC().Format(time.RFC3339))
		log = log.With().Str("holder_run_id", id.String()).Str("holder_host", host).
			Int("holder_pid", pid).Time("holder_since", since).Logger()
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read lock holder: %w", err)
	}
	runErr := exitcode.Errorf(exitcode.Locked, "another %s run holds the lock: %s; this run touched nothing", rec.Job, holder)
	log.Warn().Msg("another run holds the lock; skipping")
	if err := insertEnded(ctx, r, rec, runErr); err != nil {
		return err
	}
	return runErr
}

// markAbandoned closes the rows of runs of job that never recorded an
// outcome: the caller holds the lock, so none of them is still running.
func markAbandoned(ctx context.Context, q db.Querier, job string, by uuid.UUID) error {
	_, err := q.Exec(ctx, `
		UPDATE job_runs SET status = 'interrupted', finished_at = now(),
		       error = 'ended without recording an outcome (killed or lost its connection); found by run ' || $2::text
		WHERE job = $1 AND status = 'running'
		  AND (NOT dry_run OR started_at < now() - interval '1 day')`, job, by)
	if err != nil {
		return fmt.Errorf("close abandoned runs: %w", err)
	}
	return nil
}

func insertRun(ctx context.Context, q db.Querier, rec *Record) error {
	_, err := q.Exec(ctx, `
		INSERT INTO job_runs (id, job, status, dry_run, as_of, host, pid, version, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		rec.ID, rec.Job, rec.Status, rec.DryRun, rec.AsOf, rec.Host, rec.PID, rec.Version, rec.StartedAt)
	if err != nil {
		return fmt.Errorf("record run start: %w", err)
	}
	return nil
}

// insertEnded records, in one statement, a run that ended before it began
// (skipped for the lock, refused by its preflight) with cause's outcome.
func insertEnded(ctx context.Context, r *Runner, rec *Record, cause error) error {
	code := exitcode.Of(cause)
	msg := cause.Error()
	now := r.now()
	rec.Status, rec.ExitCode, rec.Error, rec.FinishedAt = StatusFor(code), &code, &msg, &now
	_, err := r.Pool.Exec(ctx, `
		INSERT INTO job_runs (id, job, status, dry_run, as_of, host, pid, version, started_at, finished_at, exit_code, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		rec.ID, rec.Job, rec.Status, rec.DryRun, rec.AsOf, rec.Host, rec.PID, rec.Version, rec.StartedAt, now, code, msg)
	if err != nil {
		return fmt.Errorf("record run outcome: %w", err)
	}
	return nil
}

func finishRun(ctx context.Context, q db.Querier, rec *Record, now time.Time) error {
	rec.FinishedAt = &now
	var summary any
	if len(rec.Summary) > 0 && string(rec.Summary) != "null" {
		summary = rec.Summary
	}
	_, err := q.Exec(ctx, `
		UPDATE job_runs SET status = $2, finished_at = $3, exit_code = $4, summary = $5, error = $6
		WHERE id = $1`, rec.ID, rec.Status, now, rec.ExitCode, summary, rec.Error)
	if err != nil {
		return fmt.Errorf("record run outcome: %w", err)
	}
	return nil
}

// stopped names the signal or timeout that cut an early step short.
func stopped(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w (%w)", cause, err)
	}
	return err
}

// History returns the newest runs, of one job or (job empty) of all.
func History(ctx context.Context, q db.Querier, job string, limit int) ([]Record, error) {
	return Runs(ctx, q, Filter{Job: job, Limit: limit})
}

// Filter selects runs from job_runs; zero fields select every run.
type Filter struct {
	Job    string        // one job's runs
	Status string        // runs with this status (StatusSucceeded, ...)
	Since  time.Time     // runs started at or after this instant
	Within time.Duration // runs started within this long before the database's now()
	Limit  int           // at most this many, newest first (required)
}

const recordColumns = `id, job, status, dry_run, as_of, host, pid, version, started_at, finished_at, exit_code, error, summary`

// Runs returns the newest runs that pass the filter, newest first.
func Runs(ctx context.Context, q db.Querier, f Filter) ([]Record, error) {
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	var within *int64
	if f.Within > 0 {
		us := f.Within.Microseconds()
		within = &us
	}
	rows, err := q.Query(ctx, `
		SELECT `+recordColumns+`
		FROM job_runs
		WHERE ($1 = '' OR job = $1) AND ($2 = '' OR status = $2)
		  AND ($3::timestamptz IS NULL OR started_at >= $3)
		  AND ($4::bigint IS NULL OR started_at >= now() - $4 * interval '1 microsecond')
		ORDER BY started_at DESC LIMIT $5`, f.Job, f.Status, since, within, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("read job_runs: %w", err)
	}
	return collectRecords(rows)
}

// MaxCandidates is how many runs FindRun names when a prefix is ambiguous.
const MaxCandidates = 10

// FindRun returns the run whose id is id or starts with it (hex digits and
// dashes, any case). A prefix that matches no run, or more than one, is an
// exitcode.Usage error; an ambiguous one lists the runs it matches.
func FindRun(ctx context.Context, q db.Querier, id string) (Record, error) {
	prefix := strings.ToLower(strings.TrimSpace(id))
	if prefix == "" {
		return Record{}, exitcode.Errorf(exitcode.Usage, "no run id given: give a run id or its first characters, as `cortexctl jobs history` shows them")
	}
	if len(prefix) > 36 || strings.Trim(prefix, "0123456789abcdef-") != "" {
		return Record{}, exitcode.Errorf(exitcode.Usage, "invalid run id %q: give a run id (a UUID) or its first characters, as `cortexctl jobs history` shows them", id)
	}
	rows, err := q.Query(ctx, `
		SELECT `+recordColumns+`
		FROM job_runs WHERE id::text LIKE $1 || '%'
		ORDER BY started_at DESC LIMIT $2`, prefix, MaxCandidates+1)
	if err != nil {
		return Record{}, fmt.Errorf("read job_runs: %w", err)
	}
	found, err := collectRecords(rows)
	if err != nil {
		return Record{}, err
	}
	switch len(found) {
	case 0:
		return Record{}, exitcode.Errorf(exitcode.Usage, "no run has an id starting with %q: see `cortexctl jobs history`", prefix)
	case 1:
		return found[0], nil
	}
	var names []string
	for i, r := range found {
		if i == MaxCandidates {
			names = append(names, "and more")
			break
		}
		names = append(names, fmt.Sprintf("%s (%s, %s, started %s)", r.ID, r.Job, r.Status, r.StartedAt.Format(time.RFC3339)))
	}
	return Record{}, exitcode.Errorf(exitcode.Usage, "run id %q is ambiguous, it matches %s: give more of the id",
		prefix, strings.Join(names, "; "))
}

func collectRecords(rows pgx.Rows) ([]Record, error) {
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Record, error) {
		var rec Record
		return rec, scanRecord(row, &rec)
	})
	if err != nil {
		return nil, fmt.Errorf("read job_runs: %w", err)
	}
	return out, nil
}

// scanRecord scans the recordColumns of a row into rec, then any extra
// columns after them, and puts every instant in UTC. An extra *time.Time
// (**time.Time) is put in UTC too.
func scanRecord(row pgx.Row, rec *Record, extra ...any) error {
	dest := append([]any{&rec.ID, &rec.Job, &rec.Status, &rec.DryRun, &rec.AsOf, &rec.Host, &rec.PID, &rec.Version,
		&rec.StartedAt, &rec.FinishedAt, &rec.ExitCode, &rec.Error, &rec.Summary}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	rec.StartedAt = rec.StartedAt.UTC()
	times := []**time.Time{&rec.AsOf, &rec.FinishedAt}
	for _, e := range extra {
		if t, ok := e.(**time.Time); ok {
			times = append(times, t)
		}
	}
	for _, t := range times {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	return nil
}

// Latest is a job's newest run and its newest success, dry runs left out:
// what the API's /metrics exports and what monitoring alerts on.
type Latest struct {
	Job         string
	LastRun     Record
	LastSuccess *time.Time // when the newest succeeded run finished; nil if none
}

// LatestRuns returns, for each job that has run, its newest real run and
// when it last succeeded, by job name.
func LatestRuns(ctx context.Context, q db.Querier) ([]Latest, error) {
	rows, err := q.Query(ctx, `
		SELECT `+prefixed("r.", recordColumns)+`, ok.finished_at
		FROM (SELECT DISTINCT job FROM job_runs WHERE NOT dry_run) j
		CROSS JOIN LATERAL (
		    SELECT * FROM job_runs WHERE job = j.job AND NOT dry_run ORDER BY started_at DESC LIMIT 1
		) r
		LEFT JOIN LATERAL (
		    SELECT finished_at FROM job_runs
		    WHERE job = j.job AND NOT dry_run AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1
		) ok ON true
		ORDER BY j.job`)
	if err != nil {
		return nil, fmt.Errorf("read job_runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Latest, error) {
		var l Latest
		err := scanRecord(row, &l.LastRun, &l.LastSuccess)
		l.Job = l.LastRun.Job
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("read job_runs: %w", err)
	}
	return out, nil
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// LatestRunsAt is LatestRuns with the database's clock read just before
// it: what `jobs status` judges ages by, so that a host whose clock drifts
// judges nothing. It reads only and takes no lock.
func LatestRunsAt(ctx context.Context, q db.Querier) (time.Time, []Latest, error) {
	var now time.Time
	if err := q.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return time.Time{}, nil, fmt.Errorf("read the database clock: %w", err)
	}
	latest, err := LatestRuns(ctx, q)
	if err != nil {
		return time.Time{}, nil, err
	}
	return now.UTC(), latest, nil
}
