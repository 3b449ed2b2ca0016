// Package billing holds the `cortexctl billing` commands: overage and grace.
// Each parses its flags into an options struct, validates them, and runs
// its job under the job runner (or hands the options to runF in tests).
package billing

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// NewCmdBilling is `cortexctl billing`.
func NewCmdBilling(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group("billing", "Daily billing jobs: overage charges and grace-period enforcement",
		NewCmdOverage(f, nil), NewCmdGrace(f, nil))
}

// header is the first line of a job's table: job, run, as-of.
func header(w io.Writer, rec runner.Record, extra string) error {
	dry := ""
	if rec.DryRun {
		dry = "  DRY RUN: nothing was changed"
	}
	asOf := ""
	if rec.AsOf != nil {
		asOf = cmdutil.Instant(*rec.AsOf) // full precision: pasted back into --as-of
	}
	_, err := fmt.Fprintf(w, "%s  run %s  as of %s%s%s\n\n", rec.Job, rec.ID, asOf, extra, dry)
	return err
}
