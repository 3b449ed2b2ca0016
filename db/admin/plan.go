package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// PlanRequest asks to move a client to another plan.
type PlanRequest struct {
	Client string // its id or e-mail
	Plan   string // the new plan's code
	Actor  string // who asks
}

// PlanChange is what ChangePlan did: the client's usage this period
// against the new plan's caps, which apply to the whole period (billing.md:
// plan changes mid-period).
type PlanChange struct {
	AsOf           time.Time `json:"as_of"` // the database's clock when the plan was changed
	ClientID       uuid.UUID `json:"client_id"`
	Email          string    `json:"email"`
	FromPlan       string    `json:"from_plan"`
	ToPlan         string    `json:"to_plan"`
	Actor          string    `json:"actor"`
	Status         string    `json:"status"`
	DisabledReason *string   `json:"disabled_reason"`
	HardCapExempt  bool      `json:"hard_cap_exempt"` // an operator's exemption holds at as_of
	Period         string    `json:"period"`
	Used           int64     `json:"used"` // query units in the period before as_of
	Limit          int64     `json:"limit"`
	Soft           int64     `json:"soft"`
	Hard           int64     `json:"hard"`
	OverSoftCap    bool      `json:"over_soft_cap"`
	OverHardCap    bool      `json:"over_hard_cap"`
}

// ErrSamePlan is the rule a plan change to the client's own plan breaks.
var ErrSamePlan = errors.New("it is on that plan already")

// ChangePlan moves a client to another plan in one transaction that locks
// the client's row. It changes no status: the overage job applies the new
// caps to the whole period on its next run (an active client beyond the new
// hard cap is then disabled), and a client disabled for the hard cap is
// enabled by `clients enable`. An unknown plan is refused with the list of
// plans, the client's own plan with a *Refused. Neither jobs nor the
// trigger record a plan change: the result (and the caller's log) is its
// record, with clients.updated_at.
func ChangePlan(ctx context.Context, d db.DB, req PlanRequest) (PlanChange, error) {
	if err := checkActor(req.Actor); err != nil {
		return PlanChange{}, err
	}
	return inTx(ctx, d, func(tx pgx.Tx, now time.Time) (PlanChange, error) {
		l, err := lockClient(ctx, tx, req.Client, now)
		if err != nil {
			return PlanChange{}, err
		}
		if err := checkPlan(ctx, tx, req.Plan); err != nil {
			return PlanChange{}, err
		}
		if req.Plan == l.plan {
			return PlanChange{}, refuse(l, "change the plan of", ErrSamePlan)
		}
		var plan billing.Plan
		err = tx.QueryRow(ctx, `
			UPDATE clients c SET plan_code = p.code FROM plans p
			WHERE c.id = $1 AND p.code = $2
			RETURNING p.monthly_query_limit, p.soft_cap_percent, p.hard_cap_percent`, l.id, req.Plan).
			Scan(&plan.MonthlyLimit, &plan.SoftCapPercent, &plan.HardCapPercent)
		if err != nil {
			return PlanChange{}, fmt.Errorf("change the plan of client %s: %w", l.id, err)
		}
		caps := billing.CapsOf(plan)
		return PlanChange{
			AsOf: now, ClientID: l.id, Email: l.email, FromPlan: l.plan, ToPlan: req.Plan, Actor: req.Actor,
			Status: l.status.Billing, DisabledReason: db.Nullable(l.status.DisabledReason),
			HardCapExempt: billing.HardCapExempt(l.status.HardCapExemptUntil, now),
			Period:        l.period.String(), Used: l.used, Limit: caps.Limit, Soft: caps.Soft, Hard: caps.Hard,
			OverSoftCap: caps.OverSoft(l.used), OverHardCap: caps.OverHard(l.used),
		}, nil
	})
}
