// Command cortexctl is CortexLayer's operations binary: one-shot jobs
// (billing overage, billing grace), schema migrations and demo data, run
// by cron. See docs/jobs.md for every command, flag and exit code.
//
// main does two things only: it turns SIGINT/SIGTERM into the cancellation
// cause of every run, and it turns the command's error into the process's
// exit code. The commands live in the packages under cmd/.
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

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/cmd/root"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Set by the Makefile through -ldflags.
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() } // logs are in UTC like everything else
	f := &cmdutil.Factory{
		IOStreams: cmdutil.System(),
		Env:       os.Getenv,
		Environ:   os.Environ,
		Now:       time.Now,
		Build:     cmdutil.BuildInfo{Version: version, Commit: commit, Date: date},
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		first := (<-sigs).(syscall.Signal)
		cancel(exitcode.Signal{Sig: first})
		log := f.Log()
		log.Warn().Str("signal", first.String()).Msg(f.Stopping())
		// A second signal does not wait for the current unit of work: the
		// process exits, the server rolls the open transaction back, and the
		// next run closes this run's job_runs row as interrupted.
		second := (<-sigs).(syscall.Signal)
		log.Error().Str("signal", second.String()).Msg("aborting now: the open transaction is rolled back")
		os.Exit(128 + int(second))
	}()
	err := root.NewCmdRoot(f).ExecuteContext(ctx)
	f.Close()
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		// Stopped by a signal outside a job run (while connecting, say).
		err = fmt.Errorf("%w: %w", cause, err)
	}
	code := exitcode.Of(err)
	switch {
	case err == nil:
	case f.JSONLogs():
		// Every line on stderr is JSON, the last one too: jq never chokes.
		log := zerolog.New(os.Stderr).With().Timestamp().Logger()
		log.Error().Str("error", err.Error()).Int("exit_code", code).Msg("cortexctl failed")
	default:
		fmt.Fprintf(os.Stderr, "Error: %s\n", err)
	}
	os.Exit(code)
}
