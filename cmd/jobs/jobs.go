// Package jobs holds the `cortexctl jobs` commands: the runs recorded in
// job_runs.
package jobs

import (
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/jobs/backup"
	"github.com/cortexlayer/cortexctl/jobs/grace"
	"github.com/cortexlayer/cortexctl/jobs/overage"
)

// Names are the jobs that record runs.
var Names = []string{overage.Name, grace.Name, backup.Name}

// NewCmdJobs is `cortexctl jobs`.
func NewCmdJobs(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group("jobs", "Job runs: history, show, status", NewCmdHistory(f, nil), NewCmdShow(f, nil), NewCmdStatus(f, nil))
}
