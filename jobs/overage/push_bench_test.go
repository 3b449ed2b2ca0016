package overage_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
	"github.com/cortexlayer/cortexctl/jobs/overage"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// BenchmarkPush times the Stripe push of BENCH_PUSH_CLIENTS clients ×
// BENCH_PUSH_PER_CLIENT pending charges (default 5,000 × 2 = 10,000)
// against the recording fake answering every request after
// BENCH_PUSH_LATENCY (default 100ms), once per concurrency in
// BENCH_PUSH_CONCURRENCY (default "1,8"), in one run. Each measured run
// starts from the same ledger (every charge pending, never attempted) and a
// fresh fake. Run it with -benchtime 1x: scripts/bench-push.sh does, and
// writes the figures to docs/benchmarks.md.
func BenchmarkPush(b *testing.B) {
	clients := benchEnvInt(b, "BENCH_PUSH_CLIENTS", 5000)
	perClient := benchEnvInt(b, "BENCH_PUSH_PER_CLIENT", 2)
	latency := 100 * time.Millisecond
	if v := os.Getenv("BENCH_PUSH_LATENCY"); v != "" {
		var err error
		latency, err = time.ParseDuration(v)
		require.NoError(b, err, "BENCH_PUSH_LATENCY")
	}
	levels := []int{1, 8}
	if v := os.Getenv("BENCH_PUSH_CONCURRENCY"); v != "" {
		levels = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			require.NoError(b, err, "BENCH_PUSH_CONCURRENCY")
			levels = append(levels, n)
		}
	}
	d := dbtest.New(b)
	pendingLedger(b, d, clients, perClient)
	total := clients * perClient
	ctx := context.Background()

	for _, c := range levels {
		b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) {
			var posted int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				_, err := d.Pool.Exec(ctx, `UPDATE overage_charges SET status = 'pending', stripe_invoice_item_id = NULL,
					posted_at = NULL, push_attempts = 0, last_push_error = NULL`)
				require.NoError(b, err)
				fake := stripetest.NewFake(b)
				fake.SetLatency(latency)
				b.StartTimer()
				start := time.Now()
				rep, err := overage.Run(ctx, overage.Deps{DB: d.Pool, Stripe: pushStripe(fake), RunID: uuid.New(), Log: zerolog.Nop()},
					overage.Options{
						Params:            runner.Params{AsOf: pushAsOf, Timeout: time.Hour},
						CloseWindow:       overage.DefaultCloseWindow,
						MaxDisablePercent: overage.DefaultMaxDisablePercent,
						StripeConcurrency: c,
					})
				elapsed += time.Since(start)
				require.NoError(b, err)
				posted += rep.Stripe.Posted
				require.Equal(b, total, rep.Stripe.Posted)
				require.Len(b, fake.Items(), total)
			}
			b.ReportMetric(float64(posted)/elapsed.Seconds(), "charges/s")
			b.ReportMetric(float64(latency.Milliseconds()), "latency_ms")
			b.ReportMetric(float64(total), "charges")
		})
	}
}

func benchEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(b, err, name)
	return n
}
