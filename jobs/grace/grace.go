// Package grace is the `billing grace` job: a client in grace_period whose
// grace started at least the grace period (7 days) before as-of, with no
// succeeded payment since, is disabled; one that has paid since is set back
// to active. The grace clock is clients.grace_period_started_at, the
// instant of the first failure: nothing else moves it (a trigger refuses).
package grace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// Name is the job's name in job_runs and its lock.
const Name = "billing-grace"

// Defaults of the job's options.
const (
	DefaultGraceDays = 7
	DefaultTimeout   = 10 * time.Minute
)

// Deps are what the job needs from outside.
type Deps struct {
	DB    db.DB
	RunID uuid.UUID
	Log   zerolog.Logger
	// Lock, when set, is asked inside each client's transaction before it
	// commits: a run that lost its job lock commits nothing more.
	Lock runner.LockChecker
}

// Options are the job's inputs, bound from flags.
type Options struct {
	runner.Params
	GraceDays int
}

// Validate rejects options the job cannot run with. A zero AsOf passes: the
// runner sets it from the database's clock before Run.
func (o Options) Validate() error {
	switch {
	case o.GraceDays < 1 || o.GraceDays > 90:
		return exitcode.Errorf(exitcode.Usage, "--grace-days %d is out of range: use 1 to 90", o.GraceDays)
	}
	return nil
}

// Report is what a run did (or, dry, would do). Its JSON is documented in
// docs/jobs.md and kept stable.
type Report struct {
	AsOf      time.Time    `json:"as_of"`
	DryRun    bool         `json:"dry_run"`
	GraceDays int          `json:"grace_days"`
	Clients   []ClientLine `json:"clients"` // every client in grace
	Totals    Totals       `json:"totals"`
}

// ClientLine is one client in grace.
type ClientLine struct {
	ClientID       uuid.UUID  `json:"client_id"`
	Email          string     `json:"email"`
	Plan           string     `json:"plan"`
	GraceStartedAt time.Time  `json:"grace_started_at"`
	Deadline       time.Time  `json:"deadline"`
	PaidAt         *time.Time `json:"paid_at"` // first succeeded payment since grace began
	FailedPayments int        `json:"failed_payments"`
	Action         string     `json:"action"` // none, disable, reactivate
	Error          string     `json:"error,omitempty"`
}

// Totals sum a run.
type Totals struct {
	InGrace       int `json:"in_grace"`
	Disabled      int `json:"disabled"`
	Reactivated   int `json:"reactivated"`
	ClientsFailed int `json:"clients_failed"`
}

// graceSQL reads every client in grace with its payments since grace began
// (before as-of), in one query.
const graceSQL = `
	SELECT c.id, c.email, c.plan_code, c.grace_period_started_at, pay.paid_at, pay.failed
	FROM clients c
	CROSS JOIN LATERAL (
	    SELECT min(p.occurred_at) FILTER (WHERE p.status = 'succeeded') AS paid_at,
	           count(*) FILTER (WHERE p.status = 'failed')::int         AS failed
	    FROM payments p
	    WHERE p.client_id = c.id AND p.occurred_at >= c.grace_period_started_at AND p.occurred_at < $1
	) pay
	WHERE c.billing_status = 'grace_period' AND ($2::uuid IS NULL OR c.id = $2)
	ORDER BY c.grace_period_started_at, c.id`

// Run runs one evaluation and, unless dry, applies it.
func Run(ctx context.Context, deps Deps, opts Options) (Report, error) {
	if err := opts.Validate(); err != nil {
		return Report{}, err
	}
	if opts.AsOf.IsZero() {
		return Report{}, exitcode.Errorf(exitcode.Usage, "as-of is not set")
	}
	rep := Report{AsOf: opts.AsOf.UTC(), DryRun: opts.DryRun, GraceDays: opts.GraceDays, Clients: []ClientLine{}}
	var filter *uuid.UUID
	if opts.ClientID != uuid.Nil {
		filter = &opts.ClientID
		var exists bool
		if err := deps.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clients WHERE id = $1)`, filter).Scan(&exists); err != nil {
			return rep, fmt.Errorf("look up client: %w", err)
		}
		if !exists {
			return rep, exitcode.Errorf(exitcode.Usage, "--client %s: no client has that id", opts.ClientID)
		}
	}
	lines, err := load(ctx, deps.DB, opts, filter)
	if err != nil {
		return rep, err
	}
	rep.Totals.InGrace = len(lines)

	var firstErr error
	for _, l := range lines {
		if !opts.DryRun && l.Action != string(billing.GraceNone) {
			if ctx.Err() != nil {
				return rep, context.Cause(ctx)
			}
			applied, err := apply(ctx, deps, opts, l)
			if err != nil {
				if exitcode.Of(err) == exitcode.Unavailable {
					return rep, exitcode.New(exitcode.Unavailable, fmt.Errorf("client %s: %w", l.ClientID, err))
				}
				deps.Log.Error().Err(err).Str("client_id", l.ClientID.String()).Msg("client not changed")
				applied.Error = err.Error()
				rep.Totals.ClientsFailed++
				if firstErr == nil {
					firstErr = err
				}
			}
			l = applied
		}
		if l.Error == "" {
			switch l.Action {
			case string(billing.GraceDisable):
				rep.Totals.Disabled++
			case string(billing.GraceReactivate):
				rep.Totals.Reactivated++
			}
		}
		rep.Clients = append(rep.Clients, l)
	}
	if rep.Totals.ClientsFailed > 0 {
		return rep, exitcode.Errorf(exitcode.Partial, "%d of %d clients in grace failed (the rest committed); first error: %v",
			rep.Totals.ClientsFailed, rep.Totals.InGrace, firstErr)
	}
	return rep, nil
}

func load(ctx context.Context, q db.Querier, opts Options, filter *uuid.UUID) ([]ClientLine, error) {
	rows, err := q.Query(ctx, graceSQL, opts.AsOf, filter)
	if err != nil {
		return nil, fmt.Errorf("load clients in grace: %w", err)
	}
	period := time.Duration(opts.GraceDays) * 24 * time.Hour
	lines, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ClientLine, error) {
		var l ClientLine
		if err := row.Scan(&l.ClientID, &l.Email, &l.Plan, &l.GraceStartedAt, &l.PaidAt, &l.FailedPayments); err != nil {
			return l, err
		}
		l.GraceStartedAt = l.GraceStartedAt.UTC()
		if l.PaidAt != nil {
			paid := l.PaidAt.UTC()
			l.PaidAt = &paid
		}
		l.Deadline = l.GraceStartedAt.Add(period)
		l.Action = string(billing.GraceDecision(l.GraceStartedAt, opts.AsOf, l.PaidAt != nil, period))
		return l, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load clients in grace: %w", err)
	}
	return lines, nil
}

// apply changes one client in its own transaction, after checking under a
// row lock that it is still in the same grace and deciding again.
func apply(ctx context.Context, deps Deps, opts Options, planned ClientLine) (ClientLine, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	tx, err := deps.DB.Begin(ctx)
	if err != nil {
		return planned, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var locked bool
	if err := tx.QueryRow(ctx, `
		SELECT true FROM clients
		WHERE id = $1 AND billing_status = 'grace_period' AND grace_period_started_at = $2
		FOR UPDATE`, planned.ClientID, planned.GraceStartedAt).Scan(&locked); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			planned.Action = string(billing.GraceNone)
			planned.Error = ""
			deps.Log.Info().Str("client_id", planned.ClientID.String()).Msg("client left grace since the run started; left alone")
			return planned, nil
		}
		return planned, fmt.Errorf("lock client: %w", err)
	}
	fresh, err := load(ctx, tx, opts, &planned.ClientID)
	if err != nil || len(fresh) != 1 {
		return planned, fmt.Errorf("re-read client: %w", err)
	}
	l := fresh[0]
	if err := db.NameWriter(ctx, tx, Name, deps.RunID.String()); err != nil {
		return l, err
	}
	switch billing.GraceAction(l.Action) {
	case billing.GraceDisable:
		_, err = tx.Exec(ctx, `
			UPDATE clients SET billing_status = 'disabled', disabled_reason = 'grace_expired', disabled_at = $2,
			       grace_period_started_at = NULL
			WHERE id = $1`, l.ClientID, opts.AsOf)
	case billing.GraceReactivate:
		_, err = tx.Exec(ctx, `
			UPDATE clients SET billing_status = 'active', grace_period_started_at = NULL WHERE id = $1`, l.ClientID)
	}
	if err != nil {
		return l, fmt.Errorf("%s client: %w", l.Action, err)
	}
	if err := runner.HoldsLock(ctx, deps.Lock, tx); err != nil {
		return l, err
	}
	if err := tx.Commit(ctx); err != nil {
		return l, fmt.Errorf("commit: %w", err)
	}
	deps.Log.Info().Str("client_id", l.ClientID.String()).Str("action", l.Action).Msg("client committed")
	return l, nil
}
