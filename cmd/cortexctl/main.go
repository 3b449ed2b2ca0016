// Command cortexctl is CortexLayer's operations binary: one-shot jobs
// (billing overage, billing grace), schema migrations and demo data, run
// by cron. See docs/jobs.md for every command, flag and exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Set by the Makefile through -ldflags.
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		first := (<-sigs).(syscall.Signal)
		cancel(exitcode.Signal{Sig: first})
		// A second signal does not wait for the current unit of work.
		second := (<-sigs).(syscall.Signal)
		fmt.Fprintf(os.Stderr, "cortexctl: %s again: exiting now\n", second)
		os.Exit(128 + int(second))
	}()

	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() } // logs are in UTC like everything else
	f := &factory{stdout: os.Stdout, stderr: os.Stderr, now: time.Now, env: os.Getenv}
	err := newRootCmd(f).ExecuteContext(ctx)
	f.close()
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		// Stopped by a signal outside a job run (while connecting, say).
		err = fmt.Errorf("%w: %w", cause, err)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %s\n", err)
	}
	os.Exit(exitcode.Of(err))
}
