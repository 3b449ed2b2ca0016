package stripeclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"
)

// WebhookTolerance is how old a webhook's signature timestamp may be:
// stripe-go's default, 5 minutes. An older one is refused as a replay.
const WebhookTolerance = webhook.DefaultTolerance

// Why ParseWebhook refuses a payload.
var (
	// ErrInvalidSignature: the Stripe-Signature header is missing or
	// malformed, no signature in it matches the payload and the secret, or
	// its timestamp is older than WebhookTolerance. Nothing in the payload
	// may be believed.
	ErrInvalidSignature = errors.New("invalid Stripe webhook signature")
	// ErrMalformedEvent: the signature holds, but the payload is not an event
	// this package can read (not JSON, not an "event" object, no id, type or
	// created time, or a data object that is not a JSON object).
	ErrMalformedEvent = errors.New("malformed Stripe webhook event")
)

// Event is a Stripe webhook event as cortexctl reads it: what the billing
// rules need, and nothing of stripe-go's types.
type Event struct {
	ID      string    // evt_…
	Type    string    // e.g. invoice.payment_failed
	Created time.Time // when Stripe created the event, UTC, to the second
	// CustomerID is the customer of the event's object (cus_…): the invoice's
	// or subscription's customer, or the customer itself for customer.*
	// events other than subscriptions; "" when the object names none.
	CustomerID string
	// InvoiceID is the invoice's id for an invoice.* event; "" otherwise.
	InvoiceID string
	// AmountCents is, for an invoice.* event, what the event is about in the
	// currency's minor unit: amount_paid for invoice.paid, amount_due for
	// any other (invoice.payment_failed); 0 for other events.
	AmountCents int64
	Currency    string // the invoice's or subscription's currency ("usd"); "" if none
}

// dataObject is the part of an event's data.object that Event needs; the
// rest is ignored, so an account's API version cannot break the parse.
type dataObject struct {
	ID         string          `json:"id"`
	Object     string          `json:"object"`
	Customer   json.RawMessage `json:"customer"`
	AmountDue  int64           `json:"amount_due"`
	AmountPaid int64           `json:"amount_paid"`
	Currency   string          `json:"currency"`
}

// ParseWebhook verifies a webhook's Stripe-Signature header (sigHeader)
// against the exact bytes of its body (payload) and the endpoint's signing
// secret (whsec_…), with WebhookTolerance, and returns the event. The
// event's API version is not checked: it is the Stripe account's, not ours
// to pin, and only the few fields Event holds are read. A bad signature is
// ErrInvalidSignature, an unreadable event ErrMalformedEvent (use
// errors.Is); the error never contains the secret.
func ParseWebhook(payload []byte, sigHeader, secret string) (Event, error) {
	if secret == "" {
		return Event{}, errors.New("parse Stripe webhook: no signing secret configured")
	}
	se, err := webhook.ConstructEventWithOptions(payload, sigHeader, secret, webhook.ConstructEventOptions{
		Tolerance:                WebhookTolerance,
		IgnoreAPIVersionMismatch: true,
	})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		return Event{}, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	case err != nil:
		// The signature held; what follows is stripe-go failing to read the body.
		return Event{}, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	e := Event{ID: se.ID, Type: string(se.Type), Created: time.Unix(se.Created, 0).UTC()}
	switch {
	case e.ID == "":
		return Event{}, fmt.Errorf("%w: no id", ErrMalformedEvent)
	case e.Type == "":
		return Event{}, fmt.Errorf("%w: event %s has no type", ErrMalformedEvent, e.ID)
	case se.Created <= 0:
		return Event{}, fmt.Errorf("%w: event %s has no created time", ErrMalformedEvent, e.ID)
	case se.Data == nil || len(se.Data.Raw) == 0:
		return Event{}, fmt.Errorf("%w: event %s has no data.object", ErrMalformedEvent, e.ID)
	}
	var obj dataObject
	if err := json.Unmarshal(se.Data.Raw, &obj); err != nil {
		return Event{}, fmt.Errorf("%w: data.object of event %s: %w", ErrMalformedEvent, e.ID, err)
	}
	customer, err := customerID(obj)
	if err != nil {
		return Event{}, fmt.Errorf("%w: customer of event %s: %w", ErrMalformedEvent, e.ID, err)
	}
	e.CustomerID, e.Currency = customer, obj.Currency
	if strings.HasPrefix(e.Type, "invoice.") && obj.Object == "invoice" {
		e.InvoiceID = obj.ID
		e.AmountCents = obj.AmountDue
		if e.Type == "invoice.paid" {
			e.AmountCents = obj.AmountPaid
		}
	}
	return e, nil
}

// customerID is the customer an object names: its "customer" field, an id
// or (expanded) an object with one, or for a customer object its own id.
func customerID(obj dataObject) (string, error) {
	if obj.Object == "customer" {
		return obj.ID, nil
	}
	raw := obj.Customer
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var id string
	if err := json.Unmarshal(raw, &id); err == nil {
		return id, nil
	}
	var expanded struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &expanded); err != nil {
		return "", err
	}
	return expanded.ID, nil
}
