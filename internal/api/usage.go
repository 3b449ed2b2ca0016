package api

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/db/usage"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// Limits of POST /v1/usage.
const (
	MaxBatch        = 1000            // events in one request
	MaxQuantity     = 1_000_000       // units in one event
	MaxFuture       = 5 * time.Minute // how far ahead of the server's clock occurred_at may be
	MaxIdempotency  = 255             // characters of an Idempotency-Key
	maxOperationLen = 64
)

var operationRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]*$`)

// usageEvent is one event as a client sends it.
type usageEvent struct {
	OperationType string     `json:"operation_type"`
	Quantity      *int64     `json:"quantity,omitempty"`
	OccurredAt    *time.Time `json:"occurred_at,omitempty"`
}

// usageBody is POST /v1/usage: one event, or a batch under "events".
type usageBody struct {
	usageEvent
	Events []usageEvent `json:"events,omitempty"`
}

// usageRecorded is the 201 answer (and the one replayed for a retry).
type usageRecorded struct {
	Recorded int   `json:"recorded"` // events
	Quantity int64 `json:"quantity"` // their units
}

// postUsage is the hot path: the caller comes from the key cache when it can,
// for the rate limit; the key and the client's status are checked by the
// statement that records (usage.Record), so it costs one round trip.
func (s *Server) postUsage(w http.ResponseWriter, r *http.Request) {
	id, err := s.identify(w, r, true)
	c := id.Caller
	if err == nil && id.Fresh && !usage.Served(c.Status) {
		err = s.admit(w, c) // refused before reading the body, when the database just said so
	}
	if err == nil {
		err = s.rateLimit(w, r, c)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > MaxIdempotency || !printable(key) {
		s.writeError(w, r, problem(http.StatusBadRequest, CodeInvalidRequest,
			fmt.Sprintf("Idempotency-Key must be 1 to %d printable ASCII characters (a UUID is a good one)", MaxIdempotency)))
		return
	}
	var body usageBody
	if err := s.decode(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.cfg.Now()
	events, err := body.validate(now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := usageRecorded{Recorded: len(events)}
	for _, e := range events {
		resp.Quantity += int64(e.Quantity)
	}
	respJSON, err := json.Marshal(resp)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req := usage.Request{KeyHash: id.KeyHash, Events: events, Response: respJSON}
	if key != "" {
		// The request as sent, before defaults: a retry of it hashes the same.
		sent, err := json.Marshal(body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		sum := sha256.Sum256(sent)
		req.IdempotencyKey, req.RequestHash = key, sum[:]
	}
	out, err := usage.Record(r.Context(), s.deps.DB, req)
	switch {
	case errors.Is(err, usage.ErrUnknownKey):
		s.keys.forget(req.KeyHash)
		s.writeError(w, r, unknownKey(w))
		return
	case errors.Is(err, usage.ErrKeyReused):
		s.writeError(w, r, problem(http.StatusUnprocessableEntity, CodeIdempotencyReused,
			"this Idempotency-Key was first sent with a different request: use a new key for a new request"))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	if err := s.admit(w, out.Caller); err != nil {
		s.writeError(w, r, err)
		return
	}
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, http.StatusCreated, out.Response)
}

// validate checks the body against the rules and the clock and returns the
// events to record, defaults applied (quantity 1, occurred_at now).
func (b usageBody) validate(now time.Time) ([]usage.Event, error) {
	batch := b.Events != nil
	in := b.Events
	if !batch {
		in = []usageEvent{b.usageEvent}
	}
	switch {
	case batch && (b.OperationType != "" || b.Quantity != nil || b.OccurredAt != nil):
		return nil, invalid("send either one event or a batch under \"events\", not both")
	case batch && (len(in) == 0 || len(in) > MaxBatch):
		return nil, invalid(fmt.Sprintf("events holds %d events: send 1 to %d per request", len(in), MaxBatch))
	}
	period := billing.PeriodOf(now)
	out := make([]usage.Event, len(in))
	for i, e := range in {
		field := func(name string) string {
			if batch {
				return fmt.Sprintf("events[%d].%s", i, name)
			}
			return name
		}
		ev := usage.Event{OperationType: e.OperationType, Quantity: 1, OccurredAt: now}
		switch {
		case e.OperationType == "":
			return nil, invalid(field("operation_type") + " is required, e.g. \"query\"")
		case len(e.OperationType) > maxOperationLen || !operationRE.MatchString(e.OperationType):
			return nil, invalid(fmt.Sprintf("%s %q: use up to %d lower-case letters, digits and _ . : -, starting with a letter or digit",
				field("operation_type"), e.OperationType, maxOperationLen))
		}
		if e.Quantity != nil {
			if *e.Quantity < 1 || *e.Quantity > MaxQuantity {
				return nil, invalid(fmt.Sprintf("%s is %d: it must be a whole number from 1 to %d", field("quantity"), *e.Quantity, MaxQuantity))
			}
			ev.Quantity = int32(*e.Quantity)
		}
		if e.OccurredAt != nil {
			at := e.OccurredAt.UTC()
			switch {
			case at.After(now.Add(MaxFuture)):
				return nil, invalid(fmt.Sprintf("%s %s is more than %s after the server's clock (%s): send the time the usage happened",
					field("occurred_at"), at.Format(time.RFC3339), MaxFuture, now.UTC().Format(time.RFC3339)))
			case at.Before(period.Start):
				return nil, invalid(fmt.Sprintf("%s %s is before the open billing period %s, which began %s: usage of a closed period cannot be recorded",
					field("occurred_at"), at.Format(time.RFC3339), period, period.Start.Format(time.RFC3339)))
			}
			ev.OccurredAt = at
		}
		out[i] = ev
	}
	return out, nil
}

func invalid(msg string) *Problem { return problem(http.StatusBadRequest, CodeInvalidRequest, msg) }

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// usageReport is GET /v1/usage.
type usageReport struct {
	ClientID       string    `json:"client_id"`
	Status         string    `json:"status"`
	DisabledReason *string   `json:"disabled_reason"`
	Plan           string    `json:"plan"`
	Period         string    `json:"period"`
	PeriodStart    time.Time `json:"period_start"`
	PeriodEnd      time.Time `json:"period_end"`
	AsOf           time.Time `json:"as_of"`
	Used           int64     `json:"used"`
	Limit          int64     `json:"limit"`
	SoftCap        int64     `json:"soft_cap"`
	HardCap        int64     `json:"hard_cap"`
	BilledUnits    int64     `json:"billed_units"`
	BilledCents    int64     `json:"billed_amount_cents"`
	Currency       string    `json:"currency"`
}

func (s *Server) getUsage(w http.ResponseWriter, r *http.Request, c usage.Caller) {
	u, err := admin.Usage(r.Context(), s.deps.DB, c.ClientID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := billing.PeriodOf(u.AsOf)
	writeJSON(w, http.StatusOK, usageReport{
		ClientID: u.ID.String(), Status: u.Status, DisabledReason: u.DisabledReason, Plan: u.Plan,
		Period: u.Period, PeriodStart: p.Start, PeriodEnd: p.End, AsOf: u.AsOf,
		Used: u.Used, Limit: u.Limit, SoftCap: u.Soft, HardCap: u.Hard,
		BilledUnits: u.Charged.Units, BilledCents: u.Charged.AmountCents, Currency: u.Currency,
	})
}
