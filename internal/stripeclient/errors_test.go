package stripeclient

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"1", time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"60", maxRetryAfter, true},
		{"61", maxRetryAfter, true},
		{"99999999999999999999999", maxRetryAfter, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{date(10 * time.Second), 10 * time.Second, true},
		{date(-time.Minute), 0, true},
		{date(time.Hour), maxRetryAfter, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.header, now)
		require.Equal(t, tt.ok, ok, "%q", tt.header)
		require.Equal(t, tt.want, got, "%q", tt.header)
	}
}

func TestRetryKind(t *testing.T) {
	t.Parallel()
	answer := func(status int, code stripe.ErrorCode, shouldRetry string) error {
		h := http.Header{}
		if shouldRetry != "" {
			h.Set("Stripe-Should-Retry", shouldRetry)
		}
		se := &stripe.Error{HTTPStatusCode: status, Code: code}
		se.SetLastResponse(&stripe.APIResponse{Header: h, StatusCode: status})
		return se
	}
	tests := map[string]struct {
		err  error
		want retryClass
	}{
		"no answer":            {errors.New("connection reset"), retryTransient},
		"500":                  {answer(500, "", ""), retryTransient},
		"503":                  {answer(503, "", ""), retryTransient},
		"409":                  {answer(409, "", ""), retryTransient},
		"500 should-retry no":  {answer(500, "", "false"), noRetry},
		"400":                  {answer(400, "", ""), noRetry},
		"400 should-retry yes": {answer(400, "", "true"), retryTransient},
		"429 rate_limit":       {answer(429, stripe.ErrorCodeRateLimit, ""), retryRateLimited},
		"429 lock_timeout":     {answer(429, stripe.ErrorCodeLockTimeout, ""), retryRateLimited},
		"429 should-retry yes": {answer(429, stripe.ErrorCodeRateLimit, "true"), retryRateLimited},
		"429 should-retry no":  {answer(429, stripe.ErrorCodeRateLimit, "false"), noRetry},
		"429 no response":      {&stripe.Error{HTTPStatusCode: 429}, retryRateLimited},
	}
	for name, tt := range tests {
		require.Equal(t, tt.want, retryKind(tt.err), name)
	}
}
