package cmdutil

import (
	"context"
	"io"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// RunJob runs fn under the job runner and prints the outcome: the report as
// a table (render) or, with the run's record, as JSON. A run refused before
// its job ran (bad input, bad configuration, database down) prints nothing
// on stdout: the error line on stderr says it all. A run skipped for the
// lock (75) prints its record, with no report.
//
// It is also where every job's dead-man's switch is pinged, when
// CORTEXCTL_PING_URL_<JOB> is set (see EnvPingURL): /start as the job
// function starts, the outcome once the run is recorded; the process waits
// for them at most PingWait at the end, and a ping never fails the run.
func RunJob[R any](ctx context.Context, f *Factory, job runner.Job,
	fn func(context.Context, runner.Run, *db.Pool) (R, error),
	render func(io.Writer, runner.Record, *R) error,
) error {
	pings := f.pings(job)
	defer pings.close()
	r, err := f.Runner(ctx)
	if err != nil {
		pings.finish(false, runner.Record{}, err)
		return err
	}
	res, runErr := runner.Execute(ctx, r, job, func(ctx context.Context, run runner.Run) (R, error) {
		pings.start(run.ID)
		return fn(ctx, run, r.Pool)
	})
	pings.finish(res.Started, res.Record, runErr)
	code := exitcode.Of(runErr)
	if !res.Started || code == exitcode.Usage || (!res.Ran && code != exitcode.Locked) {
		return runErr
	}
	var report *R
	if res.Ran {
		report = &res.Report
	}
	rec := res.Record
	var printErr error
	if f.JSON() {
		rec.Summary = nil // the report says it in full
		printErr = WriteJSON(f.IOStreams.Out, struct {
			Run    runner.Record `json:"run"`
			Report *R            `json:"report"`
		}{rec, report})
	} else {
		printErr = render(f.IOStreams.Out, rec, report)
	}
	if runErr != nil {
		return runErr
	}
	return printErr
}
