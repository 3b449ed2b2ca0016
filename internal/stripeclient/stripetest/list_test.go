package stripetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// list sends GET /v1/invoiceitems with query, as stripe-go does, and
// decodes the JSON answer.
func list(t *testing.T, base string, query url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/v1/invoiceitems?"+query.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

// listIDs checks that body is a Stripe list object and returns the ids of
// its items and has_more.
func listIDs(t *testing.T, body map[string]any) (ids []string, hasMore bool) {
	t.Helper()
	require.Equal(t, "list", body["object"])
	require.Equal(t, "/v1/invoiceitems", body["url"])
	data, ok := body["data"].([]any)
	require.True(t, ok, "data is an array, also when empty: %v", body)
	for _, d := range data {
		item, ok := d.(map[string]any)
		require.True(t, ok)
		require.Equal(t, "invoiceitem", item["object"])
		ids = append(ids, item["id"].(string))
	}
	hasMore, ok = body["has_more"].(bool)
	require.True(t, ok)
	return ids, hasMore
}

func ids(from, to int) []string { // ii_fake_from down to ii_fake_to
	var out []string
	for n := from; n >= to; n-- {
		out = append(out, fmt.Sprintf("ii_fake_%d", n))
	}
	return out
}

func TestFakeListsNewestFirstAndPages(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	// ii_fake_1..20: every fourth is cus_b's, the rest cus_a's.
	bodies := map[string]map[string]any{}
	for n := 1; n <= 20; n++ {
		customer := "cus_a"
		if n%4 == 0 {
			customer = "cus_b"
		}
		status, _, body := post(t, f.URL(), "/v1/invoiceitems", fmt.Sprint("k", n), itemForm(customer))
		require.Equal(t, http.StatusOK, status)
		bodies[body["id"].(string)] = body
	}

	// All customers, default limit 10.
	status, body := list(t, f.URL(), nil)
	require.Equal(t, http.StatusOK, status)
	got, more := listIDs(t, body)
	require.Equal(t, ids(20, 11), got)
	require.True(t, more)
	for _, d := range body["data"].([]any) {
		item := d.(map[string]any)
		require.Equal(t, bodies[item["id"].(string)], item, "each item as its create was answered")
	}

	// One customer, paged by starting_after.
	status, body = list(t, f.URL(), url.Values{"customer": {"cus_b"}, "limit": {"3"}})
	require.Equal(t, http.StatusOK, status)
	got, more = listIDs(t, body)
	require.Equal(t, []string{"ii_fake_20", "ii_fake_16", "ii_fake_12"}, got)
	require.True(t, more)
	status, body = list(t, f.URL(), url.Values{"customer": {"cus_b"}, "limit": {"3"}, "starting_after": {"ii_fake_12"}})
	require.Equal(t, http.StatusOK, status)
	got, more = listIDs(t, body)
	require.Equal(t, []string{"ii_fake_8", "ii_fake_4"}, got)
	require.False(t, more)

	// A cursor of another customer's item counts by its position.
	status, body = list(t, f.URL(), url.Values{"customer": {"cus_b"}, "starting_after": {"ii_fake_9"}})
	require.Equal(t, http.StatusOK, status)
	got, more = listIDs(t, body)
	require.Equal(t, []string{"ii_fake_8", "ii_fake_4"}, got)
	require.False(t, more)

	// ending_before: the items just newer than the cursor, still newest first.
	status, body = list(t, f.URL(), url.Values{"customer": {"cus_a"}, "limit": {"2"}, "ending_before": {"ii_fake_5"}})
	require.Equal(t, http.StatusOK, status)
	got, more = listIDs(t, body)
	require.Equal(t, []string{"ii_fake_7", "ii_fake_6"}, got)
	require.True(t, more)

	// Limit 100, and nothing for an unknown customer.
	status, body = list(t, f.URL(), url.Values{"limit": {"100"}})
	require.Equal(t, http.StatusOK, status)
	got, more = listIDs(t, body)
	require.Equal(t, ids(20, 1), got)
	require.False(t, more)
	status, body = list(t, f.URL(), url.Values{"customer": {"cus_nobody"}})
	require.Equal(t, http.StatusOK, status)
	got, more = listIDs(t, body)
	require.Empty(t, got)
	require.False(t, more)

	require.Equal(t, 7, f.Lists())
	require.Equal(t, 20, f.Requests(), "lists are not counted as POSTs")
	require.Len(t, f.Items(), 20, "lists create nothing")
}

func TestFakeListPagesOver100(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	for n := 1; n <= 150; n++ {
		status, _, _ := post(t, f.URL(), "/v1/invoiceitems", fmt.Sprint("k", n), itemForm("cus_1"))
		require.Equal(t, http.StatusOK, status)
	}

	status, body := list(t, f.URL(), url.Values{"customer": {"cus_1"}, "limit": {"100"}})
	require.Equal(t, http.StatusOK, status)
	got, more := listIDs(t, body)
	require.Equal(t, ids(150, 51), got)
	require.True(t, more)

	status, body = list(t, f.URL(), url.Values{"customer": {"cus_1"}, "limit": {"100"}, "starting_after": {got[len(got)-1]}})
	require.Equal(t, http.StatusOK, status)
	got, more = listIDs(t, body)
	require.Equal(t, ids(50, 1), got)
	require.False(t, more)
}

func TestFakeListRejectsWhatStripeWould(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	status, _, _ := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)

	tests := map[string]struct {
		query url.Values
		param string
	}{
		"limit 0":                 {url.Values{"limit": {"0"}}, "limit"},
		"limit 101":               {url.Values{"limit": {"101"}}, "limit"},
		"limit not a number":      {url.Values{"limit": {"ten"}}, "limit"},
		"unknown starting_after":  {url.Values{"starting_after": {"ii_nope"}}, "starting_after"},
		"unknown ending_before":   {url.Values{"ending_before": {"ii_nope"}}, "ending_before"},
		"both cursors":            {url.Values{"starting_after": {"ii_fake_1"}, "ending_before": {"ii_fake_1"}}, ""},
		"filter the fake ignores": {url.Values{"pending": {"true"}}, "pending"},
	}
	for name, tt := range tests {
		status, body := list(t, f.URL(), tt.query)
		require.Equal(t, http.StatusBadRequest, status, name)
		e := stripeError(t, body)
		require.Equal(t, "invalid_request_error", e["type"], name)
		if tt.param != "" {
			require.Equal(t, tt.param, e["param"], name)
		}
	}
	require.Equal(t, len(tests), f.Lists())
}

func TestFakeFailNextAppliesToLists(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext(1, http.StatusServiceUnavailable)

	status, body := list(t, f.URL(), url.Values{"customer": {"cus_1"}})
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, "api_error", stripeError(t, body)["type"])

	status, body = list(t, f.URL(), url.Values{"customer": {"cus_1"}})
	require.Equal(t, http.StatusOK, status)
	got, _ := listIDs(t, body)
	require.Empty(t, got)
	require.Equal(t, 2, f.Lists())
	require.Zero(t, f.Requests())
}

func TestFakeExpireIdempotencyKeys(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)

	status, _, first := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	f.ExpireIdempotencyKeys()
	require.Len(t, f.Items(), 1, "the items stay")

	// The same request a day later: Stripe no longer knows the key.
	status, hdr, second := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, hdr.Get("Idempotent-Replayed"))
	require.NotEqual(t, first["id"], second["id"])
	require.Len(t, f.Items(), 2)

	// The key is stored again, for the new item.
	status, hdr, replay := post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_1"))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, second["id"], replay["id"])

	// An expired key may even be reused with other parameters.
	f.ExpireIdempotencyKeys()
	status, _, _ = post(t, f.URL(), "/v1/invoiceitems", "k", itemForm("cus_2"))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, f.Items(), 3)

	status, body := list(t, f.URL(), url.Values{"customer": {"cus_1"}})
	require.Equal(t, http.StatusOK, status)
	got, _ := listIDs(t, body)
	require.Equal(t, []string{"ii_fake_2", "ii_fake_1"}, got)
}
