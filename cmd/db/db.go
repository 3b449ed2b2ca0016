// Package db holds the `cortexctl db` commands: migrate, migrate status and
// seed. (The database package itself is imported as store.)
package db

import (
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
)

// NewCmdDB is `cortexctl db`.
func NewCmdDB(f *cmdutil.Factory) *cobra.Command {
	migrate := NewCmdMigrate(f, nil)
	migrate.AddCommand(NewCmdMigrateStatus(f, nil))
	return cmdutil.Group("db", "Database schema, data and backups: migrate, seed, backup, backups, verify, restore", migrate, NewCmdSeed(f, nil),
		NewCmdBackup(f, nil), NewCmdBackups(f, nil), NewCmdVerify(f, nil), NewCmdRestore(f, nil))
}
