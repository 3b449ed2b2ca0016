package admin

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// CreateRequest asks for a new client.
type CreateRequest struct {
	Email            string // unique, ignoring case
	Company          string
	Plan             string // a plan code
	StripeCustomerID string // optional: cus_…, unique
	Actor            string // who asks: recorded as the first key's created_by
}

// Created is a new client and its first API key, whose secret is shown
// once, here.
type Created struct {
	Client ClientDetail `json:"client"`
	Key    NewKey       `json:"api_key"`
}

// ErrClientExists is what the error of a client that exists already is
// (errors.Is): the API answers it 409, the commands exit 2.
var ErrClientExists = errors.New("client exists")

// Limits of a new client's fields.
const (
	MaxEmailLen   = 254
	MaxCompanyLen = 200
)

var customerRE = regexp.MustCompile(`^cus_[A-Za-z0-9]+$`)

// Check refuses what would make a client nobody can name or bill, and
// returns the request trimmed. It reads nothing: CreateClient calls it
// first, and a command may call it before it dials the database. Whether
// the plan exists, and the e-mail and customer are free, CreateClient
// checks in its transaction.
func (r CreateRequest) Check() (CreateRequest, error) {
	r.Email, r.Company, r.Plan = strings.TrimSpace(r.Email), strings.TrimSpace(r.Company), strings.TrimSpace(r.Plan)
	r.StripeCustomerID = strings.TrimSpace(r.StripeCustomerID)
	if err := checkActor(r.Actor); err != nil {
		return r, err
	}
	switch {
	case r.Email == "":
		return r, exitcode.Errorf(exitcode.Usage, "no e-mail: a client needs one, e.g. billing@example.com")
	case len(r.Email) > MaxEmailLen:
		return r, exitcode.Errorf(exitcode.Usage, "the e-mail is %d characters long: at most %d", len(r.Email), MaxEmailLen)
	case !isAddress(r.Email):
		return r, exitcode.Errorf(exitcode.Usage, "%q is not an e-mail address: give one like billing@example.com, without a name or <>", r.Email)
	case r.Company == "":
		return r, exitcode.Errorf(exitcode.Usage, "no company name: a client needs one")
	case utf8.RuneCountInString(r.Company) > MaxCompanyLen:
		return r, exitcode.Errorf(exitcode.Usage, "the company name is %d characters long: at most %d", utf8.RuneCountInString(r.Company), MaxCompanyLen)
	case r.Plan == "":
		return r, exitcode.Errorf(exitcode.Usage, "no plan: give a plan code, e.g. starter")
	case r.StripeCustomerID != "" && !customerRE.MatchString(r.StripeCustomerID):
		return r, exitcode.Errorf(exitcode.Usage, "%q is not a Stripe customer id: they look like cus_NffrFeUfNV2Hib", r.StripeCustomerID)
	}
	return r, nil
}

// isAddress reports whether s is a bare e-mail address (no display name).
func isAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// CreateClient creates an active client on a plan and its first API key,
// in one transaction. An e-mail that is a client's already, ignoring case,
// or a Stripe customer that is, is an exitcode.Usage error that is
// ErrClientExists; an unknown plan is refused with the list of plans.
// Creations of the same e-mail wait for each other (an advisory lock of
// the transaction on the e-mail, in the two-key space no job lock uses), so
// exactly one of two at once succeeds.
func CreateClient(ctx context.Context, d db.DB, req CreateRequest) (Created, error) {
	req, err := req.Check()
	if err != nil {
		return Created{}, err
	}
	return inTx(ctx, d, func(tx pgx.Tx, now time.Time) (Created, error) {
		if err := checkPlan(ctx, tx, req.Plan); err != nil {
			return Created{}, err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('cortexctl.clients.email'), hashtext(lower($1)))`, req.Email); err != nil {
			return Created{}, fmt.Errorf("lock the e-mail %s: %w", req.Email, err)
		}
		if err := checkFree(ctx, tx, req); err != nil {
			return Created{}, err
		}
		var id uuid.UUID
		err := tx.QueryRow(ctx, `
			INSERT INTO clients (email, company_name, plan_code, stripe_customer_id) VALUES ($1, $2, $3, $4)
			RETURNING id`, req.Email, req.Company, req.Plan, db.Nullable(req.StripeCustomerID)).Scan(&id)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" { // a writer outside CreateClient got there first
			return Created{}, usageErrorf(ErrClientExists, "a client with the e-mail %q or the Stripe customer %q exists already: %s",
				req.Email, req.StripeCustomerID, pgErr.Message)
		}
		if err != nil {
			return Created{}, fmt.Errorf("create client %s: %w", req.Email, err)
		}
		key, err := insertKey(ctx, tx, id, req.Actor)
		if err != nil {
			return Created{}, err
		}
		det, err := detail(ctx, tx, id, now)
		if err != nil {
			return Created{}, err
		}
		return Created{Client: det, Key: key}, nil
	})
}

// checkFree refuses an e-mail (ignoring case) or a Stripe customer that is
// a client's already, naming that client.
func checkFree(ctx context.Context, q db.Querier, req CreateRequest) error {
	var (
		id    uuid.UUID
		email string
	)
	err := q.QueryRow(ctx, `SELECT id, email FROM clients WHERE lower(email) = lower($1) ORDER BY email = $1 DESC LIMIT 1`, req.Email).Scan(&id, &email)
	switch {
	case err == nil:
		return usageErrorf(ErrClientExists, "client %s has the e-mail %q already (e-mails are compared ignoring case)", id, email)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("look up the e-mail %s: %w", req.Email, err)
	}
	if req.StripeCustomerID == "" {
		return nil
	}
	err = q.QueryRow(ctx, `SELECT id, email FROM clients WHERE stripe_customer_id = $1`, req.StripeCustomerID).Scan(&id, &email)
	switch {
	case err == nil:
		return usageErrorf(ErrClientExists, "the Stripe customer %s is client %s's (%s) already: one customer pays for one client",
			req.StripeCustomerID, email, id)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("look up the Stripe customer %s: %w", req.StripeCustomerID, err)
	}
	return nil
}
