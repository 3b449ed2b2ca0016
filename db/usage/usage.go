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

// Authenticate finds the client whose live (unrevoked) key hashes to hash.
func Authenticate(ctx context.Context, q db.Querier, hash []byte) (Caller, error) {
	var c Caller
	err := q.QueryRow(ctx, `
		SELECT k.id, c.id, c.billing_status, coalesce(c.disabled_reason, ''), c.plan_code, p.rate_limit_per_minute
		FROM api_keys k
		JOIN clients c ON c.id = k.client_id
		JOIN plans p ON p.code = c.plan_code
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, hash).
		Scan(&c.KeyID, &c.ClientID, &c.Status, &c.DisabledReason, &c.Plan, &c.RatePerMinute)
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
	ClientID uuid.UUID
	Events   []Event
	// IdempotencyKey, when set, makes the request safe to retry: the first
	// request with it records the events and stores Response; any later one
	// from the same client records nothing and gets the stored response.
	IdempotencyKey string
	RequestHash    []byte          // what the key was first sent with
	Response       json.RawMessage // the response to store with the key
}

// Outcome is what Record did.
type Outcome struct {
	// Replayed: the key was seen before with the same request; nothing was
	// recorded now and Response is the one stored then.
	Replayed bool
	Response json.RawMessage
}

// ErrKeyReused: the Idempotency-Key was first sent with a different request.
var ErrKeyReused = errors.New("the Idempotency-Key was used before with a different request")

// insertSQL records the events of one request in one statement. With an
// idempotency key ($5 not null) the key's row is inserted first in the same
// statement: a key already stored (or being stored by a concurrent request,
// which this one then waits for) inserts no event.
const insertSQL = `
	WITH req AS (
	    INSERT INTO usage_requests (client_id, idempotency_key, request_hash, response)
	    SELECT $1, $5, $6, $7 WHERE $5::text IS NOT NULL
	    ON CONFLICT (client_id, idempotency_key) DO NOTHING
	    RETURNING 1
	)
	INSERT INTO usage_logs (client_id, operation_type, quantity, occurred_at)
	SELECT $1, e.op, e.qty, e.at
	FROM unnest($2::text[], $3::int[], $4::timestamptz[]) AS e(op, qty, at)
	WHERE $5::text IS NULL OR EXISTS (SELECT 1 FROM req)`

// Record writes the request's events in one statement (all or none). With
// an idempotency key already stored for the client, it writes nothing and
// returns the stored response (Replayed), or ErrKeyReused if the stored
// request differs.
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
	tag, err := q.Exec(ctx, insertSQL, r.ClientID, ops, qty, at, db.Nullable(r.IdempotencyKey), r.RequestHash, r.Response)
	if err != nil {
		return Outcome{}, fmt.Errorf("record usage: %w", err)
	}
	if r.IdempotencyKey == "" || tag.RowsAffected() > 0 {
		return Outcome{Response: r.Response}, nil
	}
	var (
		hash []byte
		resp json.RawMessage
	)
	err = q.QueryRow(ctx, `SELECT request_hash, response FROM usage_requests WHERE client_id = $1 AND idempotency_key = $2`,
		r.ClientID, r.IdempotencyKey).Scan(&hash, &resp)
	if err != nil {
		return Outcome{}, fmt.Errorf("read the stored response of Idempotency-Key %q: %w", r.IdempotencyKey, err)
	}
	if !bytes.Equal(hash, r.RequestHash) {
		return Outcome{}, ErrKeyReused
	}
	return Outcome{Replayed: true, Response: resp}, nil
}
