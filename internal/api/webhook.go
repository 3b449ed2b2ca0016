package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db/payments"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
)

// Error codes of POST /webhooks/stripe (see docs/api.md#stripe-webhooks).
const (
	CodeInvalidSignature = "invalid_signature" // 400: no, a malformed, a wrong or an expired Stripe-Signature
	CodeInvalidEvent     = "invalid_event"     // 400: signed, but not an event the API can read
	CodeWebhooksDisabled = "webhooks_disabled" // 503: STRIPE_WEBHOOK_SECRET is not set; Stripe retries
)

// routeWebhooks registers POST /webhooks/stripe.
func (s *Server) routeWebhooks(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/stripe", s.stripeWebhook)
}

// webhookReceived is the 200 answer to a webhook Stripe delivered.
type webhookReceived struct {
	Received bool   `json:"received"`
	EventID  string `json:"event_id"`
	Outcome  string `json:"outcome"` // payments.Outcome
}

// stripeWebhook takes one Stripe event: it verifies the signature over the
// exact bytes of the body, then applies the event once (payments.Apply).
// Anything but a 2xx makes Stripe deliver the event again, for days: a bad
// signature (400) changes nothing, and neither does a database that is down
// (503) or a missing secret (503).
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	if s.cfg.WebhookSecret == "" {
		s.cfg.Log.Warn().Str("request_id", reqInfo(r.Context()).id).
			Msg("Stripe webhook refused with 503: STRIPE_WEBHOOK_SECRET is not set; Stripe retries it for days")
		s.writeError(w, r, problem(http.StatusServiceUnavailable, CodeWebhooksDisabled,
			"Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET); the event was not processed: retry later"))
		return
	}
	payload, err := s.readBody(w, r)
	if err != nil {
		var p *Problem
		if errors.As(err, &p) && p.Code == CodeBodyTooLarge {
			p.Message = fmt.Sprintf("the body is larger than %d bytes, which no Stripe event is", s.cfg.MaxBody)
		}
		s.writeError(w, r, err)
		return
	}
	ev, err := stripeclient.ParseWebhook(payload, r.Header.Get("Stripe-Signature"), s.cfg.WebhookSecret)
	switch {
	case errors.Is(err, stripeclient.ErrInvalidSignature):
		s.cfg.Log.Warn().Err(err).Str("request_id", reqInfo(r.Context()).id).Msg("Stripe webhook refused: invalid signature")
		s.writeError(w, r, problem(http.StatusBadRequest, CodeInvalidSignature,
			"the Stripe-Signature header is missing, malformed, expired or does not match the body and the endpoint's signing secret"))
		return
	case errors.Is(err, stripeclient.ErrMalformedEvent):
		s.cfg.Log.Warn().Err(err).Str("request_id", reqInfo(r.Context()).id).Msg("Stripe webhook refused: signed, but not an event")
		s.writeError(w, r, problem(http.StatusBadRequest, CodeInvalidEvent, err.Error()))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	res, err := payments.Apply(r.Context(), s.deps.DB, payments.Event{
		ID: ev.ID, Type: ev.Type, Created: ev.Created, CustomerID: ev.CustomerID,
		InvoiceID: ev.InvoiceID, AmountCents: ev.AmountCents,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.ClientID != uuid.Nil {
		reqInfo(r.Context()).clientID = res.ClientID.String()
	}
	s.logWebhook(r, ev, res)
	writeJSON(w, http.StatusOK, webhookReceived{Received: true, EventID: ev.ID, Outcome: string(res.Outcome)})
}

// logWebhook logs what an event did: an ignored type at debug, an unknown
// customer at warn (a client missing its stripe_customer_id?), the rest at info.
func (s *Server) logWebhook(r *http.Request, ev stripeclient.Event, res payments.Result) {
	var l *zerolog.Event
	switch res.Outcome {
	case payments.Ignored:
		l = s.cfg.Log.Debug()
	case payments.UnknownCustomer:
		l = s.cfg.Log.Warn()
	default:
		l = s.cfg.Log.Info()
	}
	l = l.Str("request_id", reqInfo(r.Context()).id).Str("event_id", ev.ID).Str("event_type", ev.Type).
		Time("event_created", ev.Created).Str("outcome", string(res.Outcome))
	if ev.CustomerID != "" {
		l = l.Str("stripe_customer_id", ev.CustomerID)
	}
	if res.ClientID != uuid.Nil {
		l = l.Str("client_id", res.ClientID.String()).Str("from_status", res.From).Str("to_status", res.To)
	}
	msg := "Stripe webhook event"
	if res.Outcome == payments.UnknownCustomer {
		msg = "Stripe webhook event for a customer no client has"
	}
	l.Msg(msg)
}
