// Package charges holds the `cortexctl charges` commands: the overage
// charges ledger as the billing job wrote it and Stripe confirmed it. They
// read through db/admin and never write.
package charges

import (
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
)

// NewCmdCharges is `cortexctl charges`.
func NewCmdCharges(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group("charges", "Overage charges: list the ledger, pending pushes and their errors", NewCmdList(f, nil))
}
