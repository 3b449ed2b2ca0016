// Package usage is the API's store on its hot path: it finds the client an
// API key belongs to, and records usage events, idempotently when the
// client sends an Idempotency-Key. Each is one statement, one round trip.
package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// Caller is the client an API key belongs to, as the API needs it on every
// request: who, its status, and its plan's rate limit.
type Caller struct {
	KeyID          uuid.UUID
	ClientID       uuid.UUID
	Status         string
	DisabledReason string // empty unless disabled
	Plan           string
	RatePerMinute  int
}

// ErrUnknownKey: no live key has that hash (never made, or revoked).
var ErrUnknownKey = errors.New("unknown or revoked API key")

// callerSQL reads the client of the live (unrevoked) key whose hash is $1,
// with what the API needs of it: Authenticate runs it alone, Record as the
// first part of the statement that writes.
const callerSQL = `
	SELECT k.id AS key_id, c.id, c.billing_status, coalesce(c.disabled_reason, '') AS reason,
	       c.plan_code, p.rate_limit_per_minute
	FROM api_keys k
	JOIN clients c ON c.id = k.client_id
	JOIN plans p ON p.code = c.plan_code
	WHERE k.key_hash = $1 AND k.revoked_at IS NULL`

// scan reads a row that starts with callerSQL's columns, then extra.
func (c *Caller) scan(row pgx.Row, extra ...any) error {
	return row.Scan(append([]any{&c.KeyID, &c.ClientID, &c.Status, &c.DisabledReason, &c.Plan, &c.RatePerMinute}, extra...)...)
}

// Authenticate finds the client whose live (unrevoked) key hashes to hash.
func Authenticate(ctx context.Context, q db.Querier, hash []byte) (Caller, error) {
	var c Caller
	err := c.scan(q.QueryRow(ctx, callerSQL, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return Caller{}, ErrUnknownKey
	}
	if err != nil {
		return Caller{}, fmt.Errorf("look up API key: %w", err)
	}
	return c, nil
}

// Event is one usage event to record.
type Event struct {
	OperationType string
	Quantity      int32
	OccurredAt    time.Time
}

// Request is one POST /v1/usage: its events, all recorded or none.
type Request struct {
	// KeyHash is the caller's API key: Record checks, in the statement that
	// writes, that the key is live and its client may be served, so a key
	// revoked or a client disabled a moment ago records nothing.
	KeyHash []byte
	Events  []Event
	// IdempotencyKey, when set, makes the request safe to retry: the first
	// request with it records the events and stores Response; any later one
	// from the same client records nothing and gets the stored response.
	IdempotencyKey string
	RequestHash    []byte          // what the key was first sent with
	Response       json.RawMessage // the response to store with the key
}

// Outcome is what Record did.
type Outcome struct {
	// Caller is the key's client as the statement saw it: its Status says
	// whether anything was recorded (only active and grace_period clients
	// are served; for others nothing is written).
	Caller Caller
	// Replayed: the key was seen before with the same request; nothing was
	// recorded now and Response is the one stored then.
	Replayed bool
	Response json.RawMessage
}

// Served reports whether a client in status may use the API.
func Served(status string) bool {
	return status == billing.StatusActive || status == billing.StatusGrace
}

// ErrKeyReused: the Idempotency-Key was first sent with a different request.
var ErrKeyReused = errors.New("the Idempotency-Key was used before with a different request")

// recordSQL checks the key and the client's status and records the events
// of one request, in one statement and one round trip. With an idempotency
// key ($5 not null) the key's row is inserted first in the same statement: a
// key already stored (or being stored by a concurrent request, which this one
// then waits for) inserts no event. It returns no row for a key that is
// unknown or revoked; else the client, its status and the events inserted.
const recordSQL = `
	WITH caller AS (` + callerSQL + `
	), served AS (
	    SELECT id FROM caller WHERE billing_status IN ('active', 'grace_period')
	), req AS (
	    INSERT INTO usage_requests (client_id, idempotency_key, request_hash, response)
	    SELECT id, $5, $6, $7 FROM served WHERE $5::text IS NOT NULL
	    ON CONFLICT (client_id, idempotency_key) DO NOTHING
	    RETURNING 1
	), ins AS (
	    INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at)
	    SELECT s.id, e.op, e.qty, e.at
	    FROM served s, unnest($2::text[], $3::int[], $4::timestamptz[]) AS e(op, qty, at)
	    WHERE $5::text IS NULL OR EXISTS (SELECT 1 FROM req)
	    RETURNING 1
	)
	SELECT caller.*, (SELECT count(*) FROM ins) FROM caller`

// recordOneSQL is recordSQL for the common request, one event and no
// idempotency key: no arrays to unpack, no key row to write.
const recordOneSQL = `
	WITH caller AS (` + callerSQL + `
	), ins AS (
	    INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at)
	    SELECT id, $2, $3, $4 FROM caller WHERE billing_status IN ('active', 'grace_period')
	    RETURNING 1
	)
	SELECT caller.*, (SELECT count(*) FROM ins) FROM caller`

// Record checks the caller's key and status and writes the request's events
// in one statement (all or none). A key unknown or revoked is
// ErrUnknownKey; a client not Served records nothing (Outcome.Caller says
// why). With an idempotency key already stored for the client, it writes
// nothing and returns the stored response (Replayed), or ErrKeyReused if the
// stored request differs.
func Record(ctx context.Context, q db.Querier, r Request) (Outcome, error) {
	if len(r.Events) == 0 {
		return Outcome{}, errors.New("record usage: no events")
	}
	ops := make([]string, len(r.Events))
	qty := make([]int32, len(r.Events))
	at := make([]time.Time, len(r.Events))
	for i, e := range r.Events {
		ops[i], qty[i], at[i] = e.OperationType, e.Quantity, e.OccurredAt
	}
	var (
		out      Outcome
		inserted int64
	)
	c := &out.Caller
	var row pgx.Row
	if len(r.Events) == 1 && r.IdempotencyKey == "" {
		row = q.QueryRow(ctx, recordOneSQL, r.KeyHash, ops[0], qty[0], at[0])
	} else {
		row = q.QueryRow(ctx, recordSQL, r.KeyHash, ops, qty, at, db.Nullable(r.IdempotencyKey), r.RequestHash, r.Response)
	}
	err := c.scan(row, &inserted)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Outcome{}, ErrUnknownKey
	case err != nil:
		return Outcome{}, fmt.Errorf("record usage: %w", err)
	case !Served(c.Status) || r.IdempotencyKey == "" || inserted > 0:
		out.Response = r.Response
		return out, nil
	}
	var hash []byte
	err = q.QueryRow(ctx, `SELECT request_hash, response FROM usage_requests WHERE client_id = $1 AND idempotency_key = $2`,
		c.ClientID, r.IdempotencyKey).Scan(&hash, &out.Response)
	if err != nil {
		return Outcome{}, fmt.Errorf("read the stored response of Idempotency-Key %q: %w", r.IdempotencyKey, err)
	}
	if !bytes.Equal(hash, r.RequestHash) {
		return Outcome{}, ErrKeyReused
	}
	out.Replayed = true
	return out, nil
}
