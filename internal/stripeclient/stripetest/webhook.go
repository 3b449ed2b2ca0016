package stripetest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"
)

// EventAPIVersion is the API version the events Event builds say they were
// rendered with: an account's version, deliberately not stripe-go's, as a
// real account's often is.
const EventAPIVersion = "2025-03-31.basil"

// Sign returns the Stripe-Signature header Stripe would send with payload,
// signed with secret (whsec_…) at the instant at (zero: now), as stripe-go's
// webhook.GenerateTestSignedPayload makes it.
func Sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: secret, Timestamp: at,
	}).Header
}

// Event describes a webhook event for its JSON. The object in data.object
// follows the type: an invoice for invoice.*, a subscription for
// customer.subscription.*, the customer for other customer.* events, and a
// bare object for anything else.
type Event struct {
	ID       string    // evt_…; "" for a new random one
	Type     string    // e.g. invoice.paid
	Created  time.Time // when Stripe created it (to the second)
	Customer string    // cus_…; "" for an object without one
	// Invoice is the invoice's id (in_…) of an invoice.* event; "" for a new
	// random one.
	Invoice    string
	AmountDue  int64  // cents
	AmountPaid int64  // cents
	Currency   string // "" for usd
}

// NewID returns a new random Stripe-like id with prefix ("evt", "in", ...).
func NewID(prefix string) string {
	return prefix + "_1Q" + rand.Text()[:22]
}

// JSON is the event as Stripe sends it to a webhook endpoint. Its ids are
// filled in where empty, so call it once per event and keep the bytes.
func (e Event) JSON() []byte {
	if e.ID == "" {
		e.ID = NewID("evt")
	}
	if e.Currency == "" {
		e.Currency = "usd"
	}
	created := e.Created.Unix()
	var customer any
	if e.Customer != "" {
		customer = e.Customer
	}
	var obj map[string]any
	switch {
	case strings.HasPrefix(e.Type, "invoice."):
		if e.Invoice == "" {
			e.Invoice = NewID("in")
		}
		status := "open"
		if e.Type == "invoice.paid" {
			status = "paid"
		}
		obj = map[string]any{
			"id": e.Invoice, "object": "invoice", "customer": customer,
			"amount_due": e.AmountDue, "amount_paid": e.AmountPaid, "amount_remaining": e.AmountDue - e.AmountPaid,
			"currency": e.Currency, "created": created, "status": status, "livemode": false,
			"attempt_count": 1, "billing_reason": "subscription_cycle", "collection_method": "charge_automatically",
			"lines":    map[string]any{"object": "list", "data": []any{}, "has_more": false, "url": "/v1/invoices/" + e.Invoice + "/lines"},
			"metadata": map[string]any{},
		}
	case strings.HasPrefix(e.Type, "customer.subscription."):
		status := "active"
		if e.Type == "customer.subscription.deleted" {
			status = "canceled"
		}
		sub := NewID("sub")
		obj = map[string]any{
			"id": sub, "object": "subscription", "customer": customer, "currency": e.Currency,
			"created": created, "status": status, "livemode": false, "canceled_at": created, "ended_at": created,
			"cancel_at_period_end": false, "collection_method": "charge_automatically",
			"items":    map[string]any{"object": "list", "data": []any{}, "has_more": false, "url": "/v1/subscription_items?subscription=" + sub},
			"metadata": map[string]any{},
		}
	case strings.HasPrefix(e.Type, "customer."):
		obj = map[string]any{"id": e.Customer, "object": "customer", "created": created, "email": "billing@example.test", "livemode": false}
	default:
		kind, _, _ := strings.Cut(e.Type, ".")
		obj = map[string]any{"id": NewID(kind), "object": kind, "created": created, "livemode": false}
	}
	b, err := json.Marshal(map[string]any{
		"id": e.ID, "object": "event", "api_version": EventAPIVersion, "created": created,
		"type": e.Type, "livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"data":    map[string]any{"object": obj},
	})
	if err != nil {
		panic(fmt.Sprintf("stripetest: marshal event: %v", err))
	}
	return b
}
