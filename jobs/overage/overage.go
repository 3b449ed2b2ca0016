// Package overage is the `billing overage` job: per client and billing
// period it bills usage beyond the plan's soft cap as overage charges,
// pushes them to Stripe, and disables clients beyond the hard cap.
//
// A run plans from one consistent read (one aggregate query per period),
// then commits each client in its own transaction (charges and status
// change together, or nothing), then pushes pending charges to Stripe with
// a deterministic Idempotency-Key. Charges are incremental: a run only ever
// charges billable units no earlier charge covers, so runs never bill twice.
package overage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// Name is the job's name in job_runs and its lock.
const Name = "billing-overage"

// Defaults of the job's options.
const (
	DefaultCloseWindow       = 72 * time.Hour
	DefaultMaxDisablePercent = 25
	DefaultTimeout           = 30 * time.Minute
	DefaultStripeConcurrency = 8
	MaxStripeConcurrency     = 64
)

// Biller creates Stripe invoice items and finds them by charge id;
// *stripeclient.Client is one.
type Biller interface {
	CreateInvoiceItem(ctx context.Context, it stripeclient.InvoiceItem) (string, error)
	FindInvoiceItem(ctx context.Context, customer, chargeID string) (id string, found bool, err error)
}

// Deps are what the job needs from outside.
type Deps struct {
	DB     db.DB
	Stripe Biller // nil: charges are recorded and left pending (--no-stripe)
	RunID  uuid.UUID
	Log    zerolog.Logger
	// Lock, when set, is asked inside each client's transaction before it
	// commits and before each Stripe push: a run that lost its job lock
	// commits and pushes nothing more.
	Lock runner.LockChecker
}

// Options are the job's inputs, bound from flags.
type Options struct {
	runner.Params
	CloseWindow       time.Duration
	MaxDisablePercent int
	Force             bool
	// StripeConcurrency is how many charges are pushed to Stripe at once
	// (one client's charges always in order); 0 means DefaultStripeConcurrency.
	StripeConcurrency int
}

// Validate rejects options the job cannot run with. A zero AsOf passes: the
// runner sets it from the database's clock before Run.
func (o Options) Validate() error {
	switch {
	case o.CloseWindow < 0 || o.CloseWindow > 27*24*time.Hour:
		return exitcode.Errorf(exitcode.Usage, "--close-window %s is out of range: use a duration from 0s to 648h (27 days), e.g. 72h", o.CloseWindow)
	case o.MaxDisablePercent < 0 || o.MaxDisablePercent > 100:
		return exitcode.Errorf(exitcode.Usage, "--max-disable-percent %d is out of range: use 0 to 100", o.MaxDisablePercent)
	case o.StripeConcurrency < 0 || o.StripeConcurrency > MaxStripeConcurrency:
		return exitcode.Errorf(exitcode.Usage, "--stripe-concurrency %d is out of range: use 1 to %d", o.StripeConcurrency, MaxStripeConcurrency)
	}
	return nil
}

// Report is what a run did (or, dry, would do). Its JSON is documented in
// docs/jobs.md and kept stable.
type Report struct {
	AsOf         time.Time    `json:"as_of"`
	DryRun       bool         `json:"dry_run"`
	Periods      []string     `json:"periods"`       // settled, oldest first
	ClosedPeriod string       `json:"closed_period"` // the previous period when closed, else ""
	Clients      []ClientLine `json:"clients"`       // clients with anything to say
	Stripe       StripeReport `json:"stripe"`
	Guard        *GuardReport `json:"guard,omitempty"`
	Totals       Totals       `json:"totals"`

	overSoft map[uuid.UUID]bool // clients counted in Totals.ClientsOverSoftCap
}

// ClientLine is one client and period.
type ClientLine struct {
	ClientID      uuid.UUID `json:"client_id"`
	Email         string    `json:"email"`
	Plan          string    `json:"plan"`
	Period        string    `json:"period"`
	Status        string    `json:"status"` // billing status before the run
	Used          int64     `json:"used"`
	Limit         int64     `json:"limit"`
	Soft          int64     `json:"soft"`
	Hard          int64     `json:"hard"`
	ChargedBefore int64     `json:"units_charged_before"`
	NewUnits      int64     `json:"new_units"`
	AmountCents   int64     `json:"amount_cents"`
	Currency      string    `json:"currency"`
	Action        string    `json:"action"`         // none, bill, disable, reactivate, or a "+" join (bill+disable)
	Unbilled      int64     `json:"unbilled_units"` // billable units of a closed period that no charge covers
	Note          string    `json:"note,omitempty"`
	Error         string    `json:"error,omitempty"`
}

// StripeReport says what happened to pending charges.
type StripeReport struct {
	Enabled   bool          `json:"enabled"` // false with --no-stripe and in dry runs
	Attempted int           `json:"attempted"`
	Posted    int           `json:"posted"`
	Failed    int           `json:"failed"`
	Pending   int           `json:"pending"` // charges still pending after the run
	Errors    []PushFailure `json:"errors"`
}

// PushFailure is a charge Stripe did not take this run; it stays pending.
type PushFailure struct {
	ChargeID    uuid.UUID `json:"charge_id"`
	ClientID    uuid.UUID `json:"client_id"`
	Error       string    `json:"error"`
	Unavailable bool      `json:"stripe_unavailable"` // Stripe could not be reached or failed on its side
}

// GuardReport explains a tripped blast-radius guard.
type GuardReport struct {
	WouldDisable  int  `json:"would_disable"`
	ActiveClients int  `json:"active_clients"`
	MaxPercent    int  `json:"max_percent"`
	Forced        bool `json:"forced"`
}

// Totals sum a run.
type Totals struct {
	ClientsEvaluated          int              `json:"clients_evaluated"`
	ClientsOverSoftCap        int              `json:"clients_over_soft_cap"`
	ChargesCreated            int              `json:"charges_created"`
	NewUnits                  int64            `json:"new_units"`
	AmountCents               map[string]int64 `json:"amount_cents"` // by currency
	Disabled                  int              `json:"disabled"`
	Reactivated               int              `json:"reactivated"`
	ClosedPeriodUnbilledUnits int64            `json:"closed_period_unbilled_units"`
	ClientsFailed             int              `json:"clients_failed"`
}

// Run runs one evaluation and, unless dry, applies it. The report says
// what was done; for a dry run or a refused guard, what would have been.
func Run(ctx context.Context, deps Deps, opts Options) (Report, error) {
	rep, err := run(ctx, deps, opts)
	rep.sort()
	return rep, err
}

func run(ctx context.Context, deps Deps, opts Options) (rep Report, err error) {
	if err := opts.Validate(); err != nil {
		return Report{}, err
	}
	if opts.AsOf.IsZero() {
		return Report{}, exitcode.Errorf(exitcode.Usage, "as-of is not set")
	}
	open, closed := billing.PeriodsToSettle(opts.AsOf, opts.CloseWindow)
	rep = Report{AsOf: opts.AsOf.UTC(), DryRun: opts.DryRun, Clients: []ClientLine{},
		Stripe: StripeReport{Errors: []PushFailure{}}, Totals: Totals{AmountCents: map[string]int64{}}}
	if !opts.DryRun {
		defer func() {
			if err == nil {
				return // the run counted what is pending at its end
			}
			// Stopped early (a signal, --timeout, a lost lock): say what is
			// pending now, not what was before the run.
			recountCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if n, cErr := countPending(recountCtx, deps.DB, opts.ClientID); cErr == nil {
				rep.Stripe.Pending = n
			}
		}()
	}
	for _, p := range open {
		rep.Periods = append(rep.Periods, p.String())
	}
	if closed != nil {
		rep.ClosedPeriod = closed.String()
	}

	snap, err := loadSnapshot(ctx, deps.DB, opts, open, closed)
	if err != nil {
		return rep, err
	}
	plans := planAll(snap, open, closed, opts.AsOf)
	rep.Totals.ClientsEvaluated = len(snap.clients)
	if rep.Stripe.Pending, err = countPending(ctx, deps.DB, opts.ClientID); err != nil {
		return rep, err
	}

	disables := 0
	for _, p := range plans {
		if p.cap == billing.CapDisable {
			disables++
		}
	}
	if billing.BlastRadiusExceeded(int64(disables), snap.activeClients, int64(opts.MaxDisablePercent)) {
		rep.Guard = &GuardReport{WouldDisable: disables, ActiveClients: int(snap.activeClients),
			MaxPercent: opts.MaxDisablePercent, Forced: opts.Force}
		if !opts.Force {
			for _, p := range plans {
				rep.add(p.lines...)
			}
			return rep, exitcode.Errorf(exitcode.Failed,
				"refusing to disable %d of %d active clients (more than --max-disable-percent %d%%); nothing was changed. "+
					"Check the usage data; if this is right, rerun with --force", disables, snap.activeClients, opts.MaxDisablePercent)
		}
		deps.Log.Warn().Int("would_disable", disables).Int64("active_clients", snap.activeClients).Msg("blast-radius guard overridden by --force")
	}

	if opts.DryRun {
		for _, p := range plans {
			rep.add(p.lines...)
		}
		return rep, nil
	}

	var unitErr error
	for _, p := range plans {
		if p.err != nil {
			rep.Totals.ClientsFailed++
			unitErr = p.err
		}
		if !p.writes() {
			rep.add(p.lines...)
			continue
		}
		if ctx.Err() != nil {
			return rep, context.Cause(ctx)
		}
		lines, err := apply(ctx, deps, snap, p, open, closed, opts.AsOf)
		if err != nil {
			if exitcode.Of(err) == exitcode.Unavailable {
				return rep, exitcode.New(exitcode.Unavailable, fmt.Errorf("client %s: %w", p.client.id, err))
			}
			deps.Log.Error().Err(err).Str("client_id", p.client.id.String()).Msg("client not billed; nothing of it was written")
			for i := range lines {
				lines[i].Error = err.Error()
			}
			rep.Totals.ClientsFailed++
			unitErr = err
		}
		rep.add(lines...)
	}

	if deps.Stripe != nil {
		rep.Stripe.Enabled = true
		if err := push(ctx, deps, opts.ClientID, opts.StripeConcurrency, &rep.Stripe); err != nil {
			return rep, err
		}
	}
	if rep.Stripe.Pending, err = countPending(ctx, deps.DB, opts.ClientID); err != nil {
		return rep, err
	}
	return rep, outcome(rep, unitErr)
}

// outcome decides the run's error from what failed.
func outcome(rep Report, unitErr error) error {
	switch {
	case rep.Totals.ClientsFailed > 0:
		return exitcode.Errorf(exitcode.Partial, "%d of %s failed (the rest committed); first error: %v",
			rep.Totals.ClientsFailed, english.Plural(rep.Totals.ClientsEvaluated, "client"), unitErr)
	case firstUnavailable(rep.Stripe.Errors) != nil:
		return exitcode.Errorf(exitcode.Unavailable, "Stripe unavailable: %s posted, %s left pending for the next run; %s",
			english.Plural(rep.Stripe.Posted, "charge"), english.Plural(rep.Stripe.Pending, "charge"), firstUnavailable(rep.Stripe.Errors).Error)
	case rep.Stripe.Failed > 0:
		return exitcode.Errorf(exitcode.Partial, "Stripe rejected %s, which stay pending; first: %s",
			english.Plural(rep.Stripe.Failed, "charge"), rep.Stripe.Errors[0].Error)
	}
	return nil
}

// firstUnavailable is the first push that failed because Stripe could not
// be reached or failed on its side, nil if none did.
func firstUnavailable(errs []PushFailure) *PushFailure {
	for i := range errs {
		if errs[i].Unavailable {
			return &errs[i]
		}
	}
	return nil
}

// sort orders the lines by client e-mail, then period.
func (r *Report) sort() {
	slices.SortStableFunc(r.Clients, func(a, b ClientLine) int {
		return cmp.Or(strings.Compare(a.Email, b.Email), strings.Compare(a.Period, b.Period))
	})
}

// add appends lines that have something to say and sums them.
func (r *Report) add(lines ...ClientLine) {
	for _, l := range lines {
		t := &r.Totals
		if l.Used > l.Soft && l.Period != r.ClosedPeriod && !r.overSoft[l.ClientID] {
			if r.overSoft == nil {
				r.overSoft = map[uuid.UUID]bool{}
			}
			r.overSoft[l.ClientID] = true
			t.ClientsOverSoftCap++
		}
		if l.NewUnits > 0 && l.Error == "" {
			t.ChargesCreated++
			t.NewUnits += l.NewUnits
			t.AmountCents[l.Currency] += l.AmountCents
		}
		if l.Error == "" {
			switch l.Action {
			case "disable", "bill+disable":
				t.Disabled++
			case "reactivate", "bill+reactivate":
				t.Reactivated++
			}
		}
		t.ClosedPeriodUnbilledUnits += l.Unbilled
		if l.Used > l.Soft || l.Action != "none" || l.Note != "" || l.Error != "" {
			r.Clients = append(r.Clients, l)
		}
	}
}
