package main

import (
	"context"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// deps are what runJob hands a job function besides its run.
type deps struct{ pool *pgxpool.Pool }

// runJob runs fn under the job runner and prints the outcome: the report as
// a table or, with the run record, as JSON. A run that never started (bad
// configuration, database down) or was refused as bad input (exit 2)
// prints nothing on stdout: the error line on stderr says it all.
func runJob[R any](ctx context.Context, f *factory, job runner.Job,
	fn func(context.Context, runner.Run, deps) (R, error),
	render func(io.Writer, runner.Record, *R) error,
) error {
	r, err := f.Runner(ctx)
	if err != nil {
		return err
	}
	ran := false
	rec, report, runErr := runner.Execute(ctx, r, job, func(ctx context.Context, run runner.Run) (R, error) {
		ran = true
		return fn(ctx, run, deps{pool: r.Pool})
	})
	if rec.Job == "" || exitcode.Of(runErr) == exitcode.Usage {
		return runErr
	}
	var rp *R
	if ran {
		rp = &report
	}
	var printErr error
	if f.g.output == "json" {
		rec.Summary = nil
		printErr = writeJSON(f.stdout, struct {
			Run    runner.Record `json:"run"`
			Report *R            `json:"report"`
		}{rec, rp})
	} else {
		printErr = render(f.stdout, rec, rp)
	}
	if runErr != nil {
		return runErr
	}
	return printErr
}
