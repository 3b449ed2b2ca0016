package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// ShowOptions are `jobs show`'s inputs once its argument is validated.
type ShowOptions struct {
	Factory *cmdutil.Factory
	RunID   string // a run id or its first characters
}

// NewCmdShow is `cortexctl jobs show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "show RUN_ID",
		Short: "Show one job run in full, with its report",
		Long: `Shows one run recorded in job_runs, with the report it stored. RUN_ID is the
run's id or its first characters, as ` + "`jobs history`" + ` prints them; a prefix that
matches more than one run is refused, naming them. With --output json it
prints the run envelope of the billing jobs: {"run": ..., "report": ...}.
Reads only; takes no job lock.`,
		Example: `  cortexctl jobs show 1e052956
  cortexctl jobs show 1e052956-8806-49e7-a9c7-6494e639f756 --output json`,
		Args: cmdutil.OneArg("a run id or its first characters"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.RunID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runShow(cmd.Context(), opts)
		},
	}
	return cmd
}

func runShow(ctx context.Context, opts *ShowOptions) error {
	f := opts.Factory
	pool, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	rec, err := runner.FindRun(ctx, pool, opts.RunID)
	if err != nil {
		return err
	}
	if f.JSON() {
		report := rec.Summary
		if len(report) == 0 {
			report = json.RawMessage("null")
		}
		rec.Summary = nil
		return cmdutil.WriteJSON(f.IOStreams.Out, struct {
			Run    runner.Record   `json:"run"`
			Report json.RawMessage `json:"report"`
		}{rec, report})
	}
	return renderShow(f.IOStreams.Out, rec)
}

func renderShow(w io.Writer, r runner.Record) error {
	orDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	asOf, finished, exit, dur, msg := "", "", "", "", ""
	if r.AsOf != nil {
		asOf = cmdutil.Instant(*r.AsOf)
	}
	if r.FinishedAt != nil {
		finished = cmdutil.Instant(*r.FinishedAt)
		dur = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
	}
	if r.ExitCode != nil {
		exit = fmt.Sprint(*r.ExitCode)
	}
	if r.Error != nil {
		msg = *r.Error
	}
	rows := [][]string{
		{"run", r.ID.String()},
		{"job", r.Job},
		{"status", r.Status},
		{"exit code", orDash(exit)},
		{"dry run", fmt.Sprint(r.DryRun)},
		{"as of", orDash(asOf)},
		{"started", cmdutil.Instant(r.StartedAt)},
		{"finished", orDash(finished)},
		{"duration", orDash(dur)},
		{"host", fmt.Sprintf("%s (pid %d)", r.Host, r.PID)},
		{"version", r.Version},
		{"error", orDash(msg)},
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}
	if len(r.Summary) == 0 {
		_, err := fmt.Fprintln(w, "\nreport: none (the run never got to evaluate)")
		return err
	}
	var report bytes.Buffer
	if err := json.Indent(&report, r.Summary, "", "  "); err != nil {
		return fmt.Errorf("read the run's report: %w", err)
	}
	_, err := fmt.Fprintf(w, "\nreport (as stored in job_runs.summary):\n%s\n", report.Bytes())
	return err
}
