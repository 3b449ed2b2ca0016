package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// EnableRequest asks to set a disabled client back to active.
type EnableRequest struct {
	Client string // its id or e-mail
	Actor  string // who asks: recorded as the status event's actor
	Note   string // why: recorded as the status event's note
	// ExemptUntil exempts the client from the hard-cap disable until this
	// instant (billing.CheckExemptUntil); zero: no exemption. A client beyond
	// its hard cap is enabled only with one.
	ExemptUntil time.Time
	DryRun      bool // decide and report, write nothing
}

// DisableRequest asks to disable a client by hand.
type DisableRequest struct {
	Client string // its id or e-mail
	Reason string // one of billing.OperatorReasons
	Actor  string
	Note   string
	DryRun bool
}

// Change is what Enable or Disable did, or on a dry run would do.
type Change struct {
	DryRun             bool       `json:"dry_run"`
	AsOf               time.Time  `json:"as_of"` // the database's clock when the change was decided
	ClientID           uuid.UUID  `json:"client_id"`
	Email              string     `json:"email"`
	FromStatus         string     `json:"from_status"`
	FromReason         *string    `json:"from_reason"` // the disabled_reason before, if any
	ToStatus           string     `json:"to_status"`
	Reason             *string    `json:"reason"` // the disabled_reason after, if any
	HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
	Actor              string     `json:"actor"`
	Note               string     `json:"note"`
	Period             string     `json:"period"` // the current period, YYYY-MM
	Used               int64      `json:"used"`   // query units in it before as_of
	Hard               int64      `json:"hard"`
	OverHardCap        bool       `json:"over_hard_cap"`
	// Event is the client_status_events row the change wrote; null on a dry run.
	Event *StatusEvent `json:"event"`
}

// LogFields are what a log line of the change says, for the commands and
// the admin routes alike: the client, the statuses, the actor, whether it was
// a dry run, the status event and the exemption if any.
func (c Change) LogFields() map[string]any {
	f := map[string]any{"client_id": c.ClientID.String(), "from_status": c.FromStatus, "to_status": c.ToStatus,
		"actor": c.Actor, "dry_run": c.DryRun}
	if c.Event != nil {
		f["event_id"] = c.Event.ID
	}
	if c.HardCapExemptUntil != nil {
		f["hard_cap_exempt_until"] = *c.HardCapExemptUntil
	}
	return f
}

// Refused is the error of a change the rules do not allow: Rule is the
// billing error (billing.ErrOverHardCap, ...), PeriodEnd the latest instant
// an exemption may end at. Its exit code is exitcode.Usage.
type Refused struct {
	ClientID  uuid.UUID
	Email     string
	Verb      string // enable or disable
	Rule      error
	PeriodEnd time.Time
}

func (r *Refused) Error() string {
	return fmt.Sprintf("refusing to %s client %s (%s): %v", r.Verb, r.Email, r.ClientID, r.Rule)
}

func (r *Refused) Unwrap() error { return r.Rule }

// locked is a client read under FOR UPDATE with its usage this period.
type locked struct {
	id     uuid.UUID
	email  string
	plan   string
	status billing.Status
	caps   billing.Caps
	used   int64
	period billing.Period
}

// lockClient finds the client and locks its row for the transaction.
func lockClient(ctx context.Context, tx pgx.Tx, ref string, now time.Time) (locked, error) {
	id, err := findClient(ctx, tx, ref)
	if err != nil {
		return locked{}, err
	}
	l := locked{id: id, period: billing.PeriodOf(now)}
	var (
		plan                    billing.Plan
		disabledAt, exemptUntil *time.Time
	)
	err = tx.QueryRow(ctx, `
		SELECT c.email, c.plan_code, c.billing_status, coalesce(c.disabled_reason, ''), c.disabled_at, c.hard_cap_exempt_until,
		       p.monthly_query_limit, p.soft_cap_percent, p.hard_cap_percent
		FROM clients c JOIN plans p ON p.code = c.plan_code
		WHERE c.id = $1 FOR UPDATE OF c`, id).
		Scan(&l.email, &l.plan, &l.status.Billing, &l.status.DisabledReason, &disabledAt, &exemptUntil,
			&plan.MonthlyLimit, &plan.SoftCapPercent, &plan.HardCapPercent)
	if err != nil {
		return locked{}, fmt.Errorf("lock client %s: %w", id, err)
	}
	if disabledAt != nil {
		l.status.DisabledAt = disabledAt.UTC()
	}
	if exemptUntil != nil {
		l.status.HardCapExemptUntil = exemptUntil.UTC()
	}
	l.caps = billing.CapsOf(plan)
	err = tx.QueryRow(ctx, `
		SELECT coalesce(sum(quantity), 0)::bigint FROM usage_logs
		WHERE client_id = $1 AND operation_type = 'query' AND occurred_at >= $2 AND occurred_at < $3`,
		id, l.period.Start, now).Scan(&l.used)
	if err != nil {
		return locked{}, fmt.Errorf("sum usage of client %s: %w", id, err)
	}
	return l, nil
}

// checkWriter refuses a change nobody is named for.
func checkWriter(actor, note string) error {
	if err := checkActor(actor); err != nil {
		return err
	}
	if strings.TrimSpace(note) == "" {
		return exitcode.Errorf(exitcode.Usage, "no note: say why the change is made")
	}
	return nil
}

// checkActor refuses a write nobody is named for.
func checkActor(actor string) error {
	if strings.TrimSpace(actor) == "" {
		return exitcode.Errorf(exitcode.Usage, "no actor: say who makes the change")
	}
	return nil
}

// Enable sets a disabled client back to active in one transaction: it locks
// the client's row, checks billing.CheckEnable against its usage this period
// by the database's clock, names the actor and the note for the status
// event, and sets (or clears) its hard-cap exemption. A refusal is a
// *Refused with exit code 2; nothing is written.
func Enable(ctx context.Context, d db.DB, req EnableRequest) (Change, error) {
	if err := checkWriter(req.Actor, req.Note); err != nil {
		return Change{}, err
	}
	return change(ctx, d, req.Client, req.DryRun, func(tx pgx.Tx, l locked, now time.Time) (Change, error) {
		if err := billing.CheckEnable(l.status, l.caps, l.used, now, req.ExemptUntil); err != nil {
			return Change{}, refuse(l, "enable", err)
		}
		c := newChange(l, now, req.DryRun, req.Actor, req.Note)
		c.ToStatus = billing.StatusActive
		if !req.ExemptUntil.IsZero() {
			until := req.ExemptUntil.UTC()
			c.HardCapExemptUntil = &until
		}
		if req.DryRun {
			return c, nil
		}
		if err := nameOperator(ctx, tx, req.Actor, req.Note); err != nil {
			return Change{}, err
		}
		_, err := tx.Exec(ctx, `
			UPDATE clients SET billing_status = 'active', disabled_reason = NULL, disabled_at = NULL,
			       hard_cap_exempt_until = $2
			WHERE id = $1`, l.id, c.HardCapExemptUntil)
		if err != nil {
			return Change{}, fmt.Errorf("enable client %s: %w", l.id, err)
		}
		return c, nil
	})
}

// Disable disables an active client, or one in grace, by hand for one of
// billing.OperatorReasons, in one transaction like Enable. Disabling clears
// any hard-cap exemption (the trigger does) and the grace clock.
func Disable(ctx context.Context, d db.DB, req DisableRequest) (Change, error) {
	if err := checkWriter(req.Actor, req.Note); err != nil {
		return Change{}, err
	}
	return change(ctx, d, req.Client, req.DryRun, func(tx pgx.Tx, l locked, now time.Time) (Change, error) {
		if err := billing.CheckDisable(l.status, req.Reason); err != nil {
			return Change{}, refuse(l, "disable", err)
		}
		c := newChange(l, now, req.DryRun, req.Actor, req.Note)
		c.ToStatus = billing.StatusDisabled
		reason := req.Reason
		c.Reason = &reason
		if req.DryRun {
			return c, nil
		}
		if err := nameOperator(ctx, tx, req.Actor, req.Note); err != nil {
			return Change{}, err
		}
		_, err := tx.Exec(ctx, `
			UPDATE clients SET billing_status = 'disabled', disabled_reason = $2, disabled_at = now(),
			       grace_period_started_at = NULL
			WHERE id = $1`, l.id, reason)
		if err != nil {
			return Change{}, fmt.Errorf("disable client %s: %w", l.id, err)
		}
		return c, nil
	})
}

// change runs one audited status change: lock, decide (fn), and unless dry
// read back the event the trigger wrote, then commit.
func change(ctx context.Context, d db.DB, ref string, dry bool, fn func(pgx.Tx, locked, time.Time) (Change, error)) (Change, error) {
	tx, err := d.Begin(ctx)
	if err != nil {
		return Change{}, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	now, err := dbNow(ctx, tx)
	if err != nil {
		return Change{}, err
	}
	l, err := lockClient(ctx, tx, ref, now)
	if err != nil {
		return Change{}, err
	}
	c, err := fn(tx, l, now)
	if err != nil || dry {
		return c, err
	}
	events, err := statusEvents(ctx, tx, l.id, 1)
	if err != nil {
		return Change{}, err
	}
	if len(events) != 1 || events[0].To != c.ToStatus {
		return Change{}, errors.New("the status change left no status event: is the clients_status_event trigger in place?")
	}
	c.Event = &events[0]
	if err := tx.Commit(ctx); err != nil {
		return Change{}, fmt.Errorf("commit: %w", err)
	}
	return c, nil
}

func newChange(l locked, now time.Time, dry bool, actor, note string) Change {
	return Change{
		DryRun: dry, AsOf: now, ClientID: l.id, Email: l.email,
		FromStatus: l.status.Billing, FromReason: db.Nullable(l.status.DisabledReason),
		Actor: actor, Note: note,
		Period: l.period.String(), Used: l.used, Hard: l.caps.Hard, OverHardCap: l.caps.OverHard(l.used),
	}
}

func refuse(l locked, verb string, rule error) error {
	return exitcode.New(exitcode.Usage, &Refused{ClientID: l.id, Email: l.email, Verb: verb, Rule: rule, PeriodEnd: l.period.End})
}

// nameOperator names the operator and the note for the status event.
func nameOperator(ctx context.Context, tx pgx.Tx, actor, note string) error {
	if err := db.NameWriter(ctx, tx, actor, ""); err != nil {
		return err
	}
	return db.WriteNote(ctx, tx, note)
}
