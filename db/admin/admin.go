// Package admin is what an operator reads of clients and does to them
// outside the jobs: client summaries against their caps, the charges
// ledger, enabling or disabling a client with an audited status event,
// creating a client with its first API key, changing its plan, and making
// or revoking its keys. `cortexctl clients` and `cortexctl charges` call
// it, and so do the admin routes of the HTTP API (internal/api).
//
// Every read runs in one read-only snapshot (REPEATABLE READ, READ ONLY)
// and takes "now" and the current billing period from the database's clock.
// Every write runs in one transaction that locks the client's row (FOR
// UPDATE) and names who makes it: Enable and Disable decide with the rules
// of internal/billing and name the operator and a note for the trigger that
// records the change in client_status_events; a key records its maker in
// api_keys.created_by and its revoker in revoked_by. An API key's secret is
// returned once, by the call that makes it, and is stored nowhere.
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
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// readOnly runs fn in a read-only snapshot with the database's now().
func readOnly[T any](ctx context.Context, d db.DB, fn func(tx pgx.Tx, now time.Time) (T, error)) (T, error) {
	return transact(ctx, d, true, fn)
}

// dbNow is the database's clock: the transaction's start, in UTC.
func dbNow(ctx context.Context, q db.Querier) (time.Time, error) {
	var now time.Time
	if err := q.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	return now.UTC(), nil
}

// inTx runs fn in one read-write transaction with the database's now() and
// commits what it did unless it fails.
func inTx[T any](ctx context.Context, d db.DB, fn func(tx pgx.Tx, now time.Time) (T, error)) (T, error) {
	return transact(ctx, d, false, fn)
}

// transact runs fn in one transaction (a REPEATABLE READ, READ ONLY
// snapshot if readOnly) with the database's now(), and commits unless fn fails.
func transact[T any](ctx context.Context, d db.DB, readOnly bool, fn func(tx pgx.Tx, now time.Time) (T, error)) (T, error) {
	var zero T
	tx, err := d.Begin(ctx)
	if err != nil {
		return zero, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if readOnly {
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`); err != nil {
			return zero, fmt.Errorf("begin a read-only snapshot: %w", err)
		}
	}
	now, err := dbNow(ctx, tx)
	if err != nil {
		return zero, err
	}
	v, err := fn(tx, now)
	if err != nil {
		return zero, err
	}
	if err := tx.Commit(ctx); err != nil {
		return zero, fmt.Errorf("commit: %w", err)
	}
	return v, nil
}

// ErrNoClient is what the error of a client reference that names no
// client is (errors.Is): the API answers it 404, the commands exit 2.
var ErrNoClient = errors.New("no such client")

// typed is an error the callers decide on: its message, and the sentinel
// it is (ErrNoClient, ErrNoKey, ErrClientExists).
type typed struct {
	msg string
	is  error
}

func (e *typed) Error() string        { return e.msg }
func (e *typed) Is(target error) bool { return target == e.is }

// usageErrorf is an exitcode.Usage error that is sentinel (errors.Is) and
// says format.
func usageErrorf(sentinel error, format string, args ...any) error {
	return exitcode.New(exitcode.Usage, &typed{msg: fmt.Sprintf(format, args...), is: sentinel})
}

func unknownClient(format string, args ...any) error {
	return usageErrorf(ErrNoClient, format, args...)
}

// findClient resolves how an operator names a client, its id (a UUID) or
// its e-mail (exact, else case-insensitive when that names one client), to
// its id. A name that matches no client is an exitcode.Usage error that
// repeats what was given and is ErrNoClient.
func findClient(ctx context.Context, q db.Querier, ref string) (uuid.UUID, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return uuid.Nil, exitcode.Errorf(exitcode.Usage, "no client given: name it by its id (a UUID) or its e-mail")
	}
	if id, err := uuid.Parse(ref); err == nil {
		var found bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clients WHERE id = $1)`, id).Scan(&found); err != nil {
			return uuid.Nil, fmt.Errorf("find client %s: %w", id, err)
		}
		if !found {
			return uuid.Nil, unknownClient("no client has the id %s: check it with `cortexctl clients list`", id)
		}
		return id, nil
	}
	if !strings.Contains(ref, "@") {
		return uuid.Nil, exitcode.Errorf(exitcode.Usage, "%q is neither a client id (a UUID) nor an e-mail", ref)
	}
	rows, err := q.Query(ctx, `
		SELECT id, email FROM clients WHERE lower(email) = lower($1)
		ORDER BY (email = $1) DESC, email`, ref)
	if err != nil {
		return uuid.Nil, fmt.Errorf("find client %s: %w", ref, err)
	}
	type match struct {
		id    uuid.UUID
		email string
	}
	matches, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (match, error) {
		var m match
		return m, row.Scan(&m.id, &m.email)
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("find client %s: %w", ref, err)
	}
	switch {
	case len(matches) == 0:
		return uuid.Nil, unknownClient("no client has the e-mail %q: check it with `cortexctl clients list`", ref)
	case len(matches) == 1 || matches[0].email == ref:
		return matches[0].id, nil
	}
	var names []string
	for _, m := range matches {
		names = append(names, m.email)
	}
	return uuid.Nil, exitcode.Errorf(exitcode.Usage, "the e-mail %q names %d clients when case is ignored (%s): give the exact e-mail or the id",
		ref, len(matches), strings.Join(names, ", "))
}

// utc turns a nullable instant into UTC.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
