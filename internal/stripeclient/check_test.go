package stripeclient_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

func TestCheckKeyAgainstStripeMock(t *testing.T) {
	t.Parallel()
	require.NoError(t, stripeclient.New("sk_test_123", stripetest.MockURL(t)).CheckKey(t.Context()))
}

func TestCheckKeyRefused(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet || r.URL.Path != "/v1/balance" { // a check only reads
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"unexpected ` + r.Method + " " + r.URL.Path + `"}}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: ` + testKey + `"}}`))
	}))
	t.Cleanup(srv.Close)

	err := stripeclient.New(testKey, srv.URL, stripeclient.WithRetryDelay(1)).CheckKey(t.Context())
	require.Error(t, err)
	require.True(t, stripeclient.IsKeyRefused(err), "error: %v", err)
	require.False(t, stripeclient.IsUnavailable(err), "a refusal is not an outage: %v", err)
	require.NotContains(t, err.Error(), testKey)
	require.Equal(t, int32(1), calls.Load(), "a refused key is not retried")
}

func TestCheckKeyUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()

	err := stripeclient.New(testKey, srv.URL, stripeclient.WithMaxNetworkRetries(0)).CheckKey(t.Context())
	require.Error(t, err)
	require.True(t, stripeclient.IsUnavailable(err), "error: %v", err)
	require.False(t, stripeclient.IsKeyRefused(err))
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err))
}
