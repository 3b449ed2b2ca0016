package stripeclient_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

const whsec = "whsec_test_ParseWebhookSecretThatMustNeverLeak"

func TestParseWebhookReadsSignedEvents(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 10, 7, 2, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		ev   stripetest.Event
		want stripeclient.Event
	}{
		{
			"payment failed: amount due",
			stripetest.Event{ID: "evt_1", Type: "invoice.payment_failed", Created: created, Customer: "cus_A", Invoice: "in_1", AmountDue: 4900, AmountPaid: 0, Currency: "eur"},
			stripeclient.Event{ID: "evt_1", Type: "invoice.payment_failed", Created: created, CustomerID: "cus_A", InvoiceID: "in_1", AmountCents: 4900, Currency: "eur"},
		},
		{
			"paid: amount paid",
			stripetest.Event{ID: "evt_2", Type: "invoice.paid", Created: created, Customer: "cus_A", Invoice: "in_1", AmountDue: 4900, AmountPaid: 4800},
			stripeclient.Event{ID: "evt_2", Type: "invoice.paid", Created: created, CustomerID: "cus_A", InvoiceID: "in_1", AmountCents: 4800, Currency: "usd"},
		},
		{
			"subscription deleted: no invoice, no amount",
			stripetest.Event{ID: "evt_3", Type: "customer.subscription.deleted", Created: created, Customer: "cus_B"},
			stripeclient.Event{ID: "evt_3", Type: "customer.subscription.deleted", Created: created, CustomerID: "cus_B", Currency: "usd"},
		},
		{
			"a customer event names the customer itself",
			stripetest.Event{ID: "evt_4", Type: "customer.updated", Created: created, Customer: "cus_C"},
			stripeclient.Event{ID: "evt_4", Type: "customer.updated", Created: created, CustomerID: "cus_C"},
		},
		{
			"an invoice without a customer",
			stripetest.Event{ID: "evt_5", Type: "invoice.payment_failed", Created: created, Invoice: "in_2", AmountDue: 100},
			stripeclient.Event{ID: "evt_5", Type: "invoice.payment_failed", Created: created, InvoiceID: "in_2", AmountCents: 100, Currency: "usd"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			payload := c.ev.JSON()
			// Signed now: the event's own created time does not matter to the tolerance.
			got, err := stripeclient.ParseWebhook(payload, stripetest.Sign(payload, whsec, time.Time{}), whsec)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			require.Equal(t, time.UTC, got.Created.Location())
		})
	}
}

// An expanded customer object is read as its id; stripe-go's own API
// version differs from the event's (stripetest.EventAPIVersion) and that
// is not an error.
func TestParseWebhookExpandedCustomerAndForeignAPIVersion(t *testing.T) {
	t.Parallel()
	payload := []byte(`{"id":"evt_x","object":"event","api_version":"2019-12-03","created":1790000000,"type":"invoice.paid",
		"data":{"object":{"id":"in_x","object":"invoice","customer":{"id":"cus_X","object":"customer"},"amount_due":10,"amount_paid":10,"currency":"usd"}}}`)
	got, err := stripeclient.ParseWebhook(payload, stripetest.Sign(payload, whsec, time.Time{}), whsec)
	require.NoError(t, err)
	require.Equal(t, "cus_X", got.CustomerID)
	require.Equal(t, int64(10), got.AmountCents)
	require.True(t, time.Unix(1790000000, 0).Equal(got.Created))
}

func TestParseWebhookRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	payload := stripetest.Event{Type: "invoice.paid", Created: time.Now(), Customer: "cus_A", AmountPaid: 4900}.JSON()
	good := stripetest.Sign(payload, whsec, time.Time{})
	tampered := bytes.Replace(payload, []byte(`"amount_paid":4900`), []byte(`"amount_paid":1`), 1)
	require.NotEqual(t, payload, tampered, "the tampering changed the payload")

	cases := []struct {
		name    string
		payload []byte
		header  string
		secret  string
	}{
		{"tampered body", tampered, good, whsec},
		{"wrong secret", payload, good, "whsec_other"},
		{"signed with another secret", payload, stripetest.Sign(payload, "whsec_other", time.Time{}), whsec},
		{"expired: older than the tolerance", payload, stripetest.Sign(payload, whsec, time.Now().Add(-stripeclient.WebhookTolerance-time.Minute)), whsec},
		{"missing header", payload, "", whsec},
		{"garbage header", payload, "nonsense", whsec},
		{"no v1 signature", payload, "t=" + strings.Split(strings.TrimPrefix(good, "t="), ",")[0], whsec},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := stripeclient.ParseWebhook(c.payload, c.header, c.secret)
			require.ErrorIs(t, err, stripeclient.ErrInvalidSignature)
			require.False(t, errors.Is(err, stripeclient.ErrMalformedEvent))
			require.NotContains(t, err.Error(), whsec, "the error never names the secret")
		})
	}

	// Within the tolerance is fine.
	_, err := stripeclient.ParseWebhook(payload, stripetest.Sign(payload, whsec, time.Now().Add(-stripeclient.WebhookTolerance+time.Minute)), whsec)
	require.NoError(t, err)
}

// A payload signed correctly but not an event cortexctl can read is
// ErrMalformedEvent, not a signature error.
func TestParseWebhookMalformedSignedPayload(t *testing.T) {
	t.Parallel()
	for name, payload := range map[string]string{
		"not JSON":        `evt_1 invoice.paid`,
		"not an event":    `{"id":"in_1","object":"invoice"}`,
		"no id":           `{"object":"event","type":"invoice.paid","created":1790000000,"data":{"object":{"object":"invoice"}}}`,
		"no type":         `{"id":"evt_1","object":"event","created":1790000000,"data":{"object":{"object":"invoice"}}}`,
		"no created":      `{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"object":"invoice"}}}`,
		"no data":         `{"id":"evt_1","object":"event","type":"invoice.paid","created":1790000000}`,
		"object a string": `{"id":"evt_1","object":"event","type":"invoice.paid","created":1790000000,"data":{"object":"in_1"}}`,
		"customer a number": `{"id":"evt_1","object":"event","type":"invoice.paid","created":1790000000,
			"data":{"object":{"object":"invoice","customer":42}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := stripeclient.ParseWebhook([]byte(payload), stripetest.Sign([]byte(payload), whsec, time.Time{}), whsec)
			require.ErrorIs(t, err, stripeclient.ErrMalformedEvent)
			require.False(t, errors.Is(err, stripeclient.ErrInvalidSignature))
		})
	}
}

func TestParseWebhookWithoutSecretRefuses(t *testing.T) {
	t.Parallel()
	payload := stripetest.Event{Type: "invoice.paid", Created: time.Now()}.JSON()
	// Even a payload "signed" with the empty secret is refused.
	_, err := stripeclient.ParseWebhook(payload, stripetest.Sign(payload, "", time.Time{}), "")
	require.Error(t, err)
}
