// Package schedule holds the `cortexctl schedule` commands: the job
// schedule of internal/schedule rendered for cron, supercronic or
// Kubernetes.
package schedule

import (
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
)

// NewCmdSchedule is `cortexctl schedule`.
func NewCmdSchedule(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group("schedule", "The jobs' schedule: export it as a crontab or Kubernetes CronJobs", NewCmdExport(f, nil))
}
