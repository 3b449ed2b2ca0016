package overage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

type pendingRow struct {
	ID             uuid.UUID
	ClientID       uuid.UUID
	PeriodStart    time.Time
	UnitsFrom      int64
	Units          int64
	AmountCents    int64
	Currency       string
	IdempotencyKey string
	CustomerID     *string
	PushAttempts   int
}

const pendingSQL = `
	SELECT o.id, o.client_id, o.period_start, o.units_from, o.units, o.amount_cents, o.currency,
	       o.idempotency_key, c.stripe_customer_id, o.push_attempts
	FROM overage_charges o JOIN clients c ON c.id = o.client_id
	WHERE o.status = 'pending' AND ($1::uuid IS NULL OR o.client_id = $1)
	ORDER BY o.created_at, o.client_id, o.period_start, o.units_from -- each client's charges in chain order`

// push sends every pending charge (this run's and earlier runs' leftovers)
// to Stripe, with up to workers charges in flight at once. Each client's
// charges go in chain order, one after the other, so the invoice lists them
// as they were billed; different clients go in parallel. A charge is marked
// posted only once Stripe returned its id.
//
// Each attempt is counted in the ledger before Stripe is called. A charge
// with an earlier attempt may already exist at Stripe (the run died before
// hearing back), and Stripe forgets idempotency keys after about a day, so
// such a charge is first looked up by its metadata and only created if
// Stripe has no item for it.
//
// When Stripe is unavailable (after the client's own retries and rate-limit
// backoff) every worker stops taking charges and the rest stay pending for
// the next run. A Stripe rejection leaves that client's later charges
// pending too (they would be rejected the same way), and the others go on.
// A database that cannot be reached stops the push and is returned as the
// run's error (exit 69): it, not Stripe, failed. ctx ending stops the push
// between charges.
func push(ctx context.Context, deps Deps, clientID uuid.UUID, workers int, rep *StripeReport) error {
	rows, err := deps.DB.Query(ctx, pendingSQL, db.Nullable(clientID))
	if err != nil {
		return fmt.Errorf("load pending charges: %w", err)
	}
	pending, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pendingRow])
	if err != nil {
		return fmt.Errorf("load pending charges: %w", err)
	}
	queues := byClient(pending)
	if workers <= 0 {
		workers = DefaultStripeConcurrency
	}
	p := &pusher{deps: deps, rep: rep}
	next := make(chan []indexed)
	var wg sync.WaitGroup
	for range min(workers, len(queues)) {
		wg.Go(func() {
			for q := range next {
				p.pushClient(ctx, q)
			}
		})
	}
	for _, q := range queues {
		if p.stopped() || ctx.Err() != nil {
			break
		}
		next <- q
	}
	close(next)
	wg.Wait()

	slices.SortFunc(p.failures, func(a, b indexedFailure) int { return a.index - b.index })
	for _, f := range p.failures {
		rep.Errors = append(rep.Errors, f.PushFailure)
	}
	if p.fatal != nil {
		return p.fatal
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// indexed is a pending charge and its place in the ledger's order.
type indexed struct {
	index int
	pendingRow
}

type indexedFailure struct {
	index int
	PushFailure
}

// byClient splits the pending charges into one queue per client, each in
// ledger order, the queues ordered by their first charge.
func byClient(pending []pendingRow) [][]indexed {
	var queues [][]indexed
	at := map[uuid.UUID]int{}
	for i, ch := range pending {
		q, ok := at[ch.ClientID]
		if !ok {
			q = len(queues)
			at[ch.ClientID] = q
			queues = append(queues, nil)
		}
		queues[q] = append(queues[q], indexed{i, ch})
	}
	return queues
}

// pusher is the state the push workers share.
type pusher struct {
	deps Deps

	mu       sync.Mutex
	rep      *StripeReport
	failures []indexedFailure
	stop     bool  // no worker takes another charge
	fatal    error // why the whole push failed (the database), if it did
}

func (p *pusher) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stop
}

// pushClient pushes one client's charges in order, until one fails.
func (p *pusher) pushClient(ctx context.Context, queue []indexed) {
	for _, ch := range queue {
		if p.stopped() || ctx.Err() != nil {
			return
		}
		if !p.pushCharge(ctx, ch) {
			return
		}
	}
}

// pushCharge pushes one charge and records the outcome; false means the
// client's later charges must wait for the next run.
func (p *pusher) pushCharge(ctx context.Context, ch indexed) bool {
	log := p.deps.Log.With().Str("client_id", ch.ClientID.String()).Str("charge_id", ch.ID.String()).Logger()
	if err := runner.HoldsLock(ctx, p.deps.Lock, p.deps.DB); err != nil {
		p.mu.Lock()
		if p.fatal == nil {
			p.fatal = err
		}
		p.stop = true
		p.mu.Unlock()
		return false
	}
	p.count(func(r *StripeReport) { r.Attempted++ })
	id, err := pushOne(ctx, p.deps, ch.pendingRow)
	if err == nil {
		err = markPosted(ctx, p.deps.DB, ch.ID, id)
		if err == nil {
			p.count(func(r *StripeReport) { r.Posted++ })
			return true
		}
		// Stripe has the item; the next push of this charge finds it by its charge id.
		err = ledgerError{fmt.Errorf("stripe accepted invoice item %s but recording it in the ledger failed (the next run finds it at Stripe by its charge id): %w", id, err)}
	}
	// Blame what failed: the ledger's database, or Stripe.
	var unavailable, dbDown bool
	if errors.As(err, new(ledgerError)) {
		dbDown = exitcode.Of(err) == exitcode.Unavailable
	} else {
		unavailable = stripeclient.IsUnavailable(err)
	}
	p.mu.Lock()
	p.rep.Failed++
	p.failures = append(p.failures, indexedFailure{ch.index, PushFailure{ChargeID: ch.ID, ClientID: ch.ClientID, Error: err.Error(), Unavailable: unavailable}})
	switch {
	case dbDown:
		if p.fatal == nil {
			p.fatal = fmt.Errorf("database unavailable while pushing charges to Stripe; the rest stay pending for the next run: %w", err)
		}
		p.stop = true
	case unavailable:
		p.stop = true
	}
	p.mu.Unlock()
	log.Error().Err(err).Msg("charge not pushed; it stays pending")
	if dbDown {
		return false
	}
	recordAttempt(ctx, p.deps, ch.ID, err)
	if unavailable {
		log.Warn().Msg("Stripe is unavailable: leaving the remaining charges pending for the next run")
	}
	return false
}

func (p *pusher) count(f func(*StripeReport)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p.rep)
}

// ledgerError is a failure of the ledger's database during a push, as
// opposed to one of Stripe's.
type ledgerError struct{ err error }

func (e ledgerError) Error() string { return e.err.Error() }
func (e ledgerError) Unwrap() error { return e.err }

var errNoCustomer = errors.New("client has no stripe_customer_id: set it, and the next run pushes the charge")

func pushOne(ctx context.Context, deps Deps, ch pendingRow) (string, error) {
	if ch.CustomerID == nil || *ch.CustomerID == "" {
		return "", errNoCustomer
	}
	if ch.PushAttempts > 0 {
		id, found, err := deps.Stripe.FindInvoiceItem(ctx, *ch.CustomerID, ch.ID.String())
		if err != nil {
			return "", fmt.Errorf("look up charge from an earlier attempt: %w", err)
		}
		if found {
			deps.Log.Info().Str("charge_id", ch.ID.String()).Str("invoice_item", id).Msg("Stripe already had this charge from an earlier attempt")
			return id, nil
		}
	}
	if err := countAttempt(ctx, deps.DB, ch.ID); err != nil {
		return "", ledgerError{fmt.Errorf("count the attempt before calling Stripe: %w", err)}
	}
	period := ch.PeriodStart.Format("2006-01")
	return deps.Stripe.CreateInvoiceItem(ctx, stripeclient.InvoiceItem{
		Customer:    *ch.CustomerID,
		AmountCents: ch.AmountCents,
		Currency:    ch.Currency,
		Description: fmt.Sprintf("CortexLayer overage %s: %d queries beyond the soft cap", period, ch.Units),
		Metadata: map[string]string{
			"client_id":                   ch.ClientID.String(),
			"period":                      period,
			stripeclient.MetadataChargeID: ch.ID.String(),
			"units_from":                  fmt.Sprint(ch.UnitsFrom),
			"units":                       fmt.Sprint(ch.Units),
		},
		IdempotencyKey: ch.IdempotencyKey,
	})
}

func markPosted(ctx context.Context, q db.Querier, id uuid.UUID, itemID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := q.Exec(ctx, `
		UPDATE overage_charges
		SET status = 'posted', stripe_invoice_item_id = $2, posted_at = now(), last_push_error = NULL
		WHERE id = $1 AND status = 'pending'`, id, itemID)
	return err
}

func recordAttempt(ctx context.Context, deps Deps, id uuid.UUID, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := deps.DB.Exec(ctx, `
		UPDATE overage_charges SET last_push_error = $2
		WHERE id = $1 AND status = 'pending'`, id, cause.Error())
	if err != nil {
		deps.Log.Error().Err(err).Str("charge_id", id.String()).Msg("could not record the failed push")
	}
}

// countAttempt commits that a push is about to be attempted.
func countAttempt(ctx context.Context, q db.Querier, id uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE overage_charges SET push_attempts = push_attempts + 1 WHERE id = $1 AND status = 'pending'`, id)
	return err
}

func countPending(ctx context.Context, q db.Querier, clientID uuid.UUID) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM overage_charges WHERE status = 'pending' AND ($1::uuid IS NULL OR client_id = $1)`,
		db.Nullable(clientID)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending charges: %w", err)
	}
	return n, nil
}
