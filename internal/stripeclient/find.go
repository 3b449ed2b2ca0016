package stripeclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v85"
)

// MetadataChargeID is the invoice item metadata key that carries the
// caller's charge id; FindInvoiceItem matches on it.
const MetadataChargeID = "charge_id"

// listPageSize is how many invoice items FindInvoiceItem asks for per page:
// Stripe's maximum.
const listPageSize = 100

// FindInvoiceItem looks among the customer's invoice items for one whose
// metadata["charge_id"] equals chargeID, and returns its id.
//
// It is how a charge whose earlier push may have reached Stripe is settled
// once Stripe has forgotten the push's idempotency key (after about 24
// hours): an item found was created by that push and must not be created
// again. It lists all the customer's invoice items (pending or on an
// invoice; deleted ones are gone), newest first, 100 per request, and stops
// at the first match, so if an expired key did let a charge in twice, the
// newest copy is returned. found is false, with a nil error, only when
// every page was read and none matched.
//
// Each page is one request, retried on its own as CreateInvoiceItem's are
// (see DefaultMaxNetworkRetries). On failure found is false and the error
// names the customer and charge id, never the API key; IsUnavailable
// classifies it. An empty customer or chargeID is ErrInvalidItem, and
// nothing is sent.
func (c *Client) FindInvoiceItem(ctx context.Context, customer, chargeID string) (id string, found bool, err error) {
	desc := fmt.Sprintf("find stripe invoice item for customer %q (charge id %q)", customer, chargeID)
	if c.configErr != nil {
		return "", false, c.newError(desc, 0, c.configErr, false)
	}
	if err := validateFind(customer, chargeID); err != nil {
		return "", false, c.newError(desc, 0, err, false)
	}

	log := c.log.With().Str("customer", customer).Str("charge_id", chargeID).Logger()
	after := "" // the last item of the page before; "" for the first page
	for {
		op := operation{
			desc:     desc,
			retryMsg: "stripe invoice item list failed; retrying",
			log:      log,
		}
		if after != "" {
			op.desc += " at the page after " + after
			op.log = log.With().Str("starting_after", after).Logger()
		}
		var items []*stripe.InvoiceItem
		var more bool
		err := c.withRetries(ctx, op, func(ctx context.Context) error {
			var err error
			items, more, err = c.listPage(ctx, customer, after)
			return err
		})
		if err != nil {
			return "", false, err
		}
		for _, ii := range items {
			if ii != nil && ii.Metadata[MetadataChargeID] == chargeID {
				return ii.ID, true, nil
			}
		}
		if !more {
			return "", false, nil
		}
		after = items[len(items)-1].ID
	}
}

// listPage makes one request for the page of the customer's invoice items
// that follows the item with id after ("" for the first page). The params
// are built afresh each time, as stripe-go writes into them.
func (c *Client) listPage(ctx context.Context, customer, after string) (items []*stripe.InvoiceItem, more bool, err error) {
	params := &stripe.InvoiceItemListParams{Customer: stripe.String(customer)}
	params.Limit = stripe.Int64(listPageSize)
	// One page per call: stripe-go's iterator would fetch the next page
	// itself, and a failed page could then only be retried from the first.
	params.Single = true
	if after != "" {
		params.StartingAfter = stripe.String(after)
	}

	list := c.sc.V1InvoiceItems.List(ctx, params)
	if err := list.Err(); err != nil {
		return nil, false, err
	}
	items, more = list.Data(), list.Meta().HasMore
	if more && (len(items) == 0 || items[len(items)-1] == nil || items[len(items)-1].ID == "") {
		// Without the last item's id there is no next page to ask for; like
		// a create's 2xx without an id, the answer is not what Stripe sends.
		return nil, false, errors.New("stripe answered has_more without an invoice item id to continue after")
	}
	return items, more, nil
}

// validateFind reports what is missing from FindInvoiceItem's arguments.
func validateFind(customer, chargeID string) error {
	var problems []string
	if strings.TrimSpace(customer) == "" {
		problems = append(problems, "customer is empty (set the Stripe customer id, cus_...)")
	}
	if strings.TrimSpace(chargeID) == "" {
		problems = append(problems, "charge id is empty (set the charge_id the item was pushed with)")
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidItem, strings.Join(problems, "; "))
}
