package db

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	store "github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/english"
)

// MigrateOptions are `db migrate`'s and `db migrate status`'s inputs.
type MigrateOptions struct {
	Factory *cmdutil.Factory
}

// NewCmdMigrate is `cortexctl db migrate`.
func NewCmdMigrate(f *cmdutil.Factory, runF func(*MigrateOptions) error) *cobra.Command {
	opts := &MigrateOptions{Factory: f}
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded schema migrations (a no-op when up to date)",
		Long: `Applies every pending migration embedded in this binary, each in its own
transaction. Safe to run twice, and twice at once: concurrent runs wait for
each other on an advisory lock.`,
		Example: "  cortexctl db migrate\n  cortexctl db migrate status",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runMigrate(cmd.Context(), opts)
		},
	}
}

func runMigrate(ctx context.Context, opts *MigrateOptions) error {
	f := opts.Factory
	pool, err := f.DB(ctx)
	if err != nil {
		return err
	}
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	version, err := store.SchemaVersion(ctx, pool)
	if err != nil {
		return err
	}
	log := f.Log()
	log.Info().Int("applied", len(applied)).Int64("schema_version", version).Msg("migrations done")
	out := f.IOStreams.Out
	if f.JSON() {
		return cmdutil.WriteJSON(out, map[string]any{"applied": cmdutil.NonNil(applied), "schema_version": version})
	}
	for _, a := range applied {
		if _, err := fmt.Fprintf(out, "applied %s (%s)\n", a.Name, a.Duration.Round(time.Millisecond)); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(out, "schema is at version %d (%s applied now)\n", version, english.Plural(len(applied), "migration"))
	return err
}

// NewCmdMigrateStatus is `cortexctl db migrate status`.
func NewCmdMigrateStatus(f *cmdutil.Factory, runF func(*MigrateOptions) error) *cobra.Command {
	opts := &MigrateOptions{Factory: f}
	return &cobra.Command{
		Use:     "status",
		Short:   "List the embedded migrations and whether each is applied",
		Example: "  cortexctl db migrate status --output json",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runMigrateStatus(cmd.Context(), opts)
		},
	}
}

func runMigrateStatus(ctx context.Context, opts *MigrateOptions) error {
	f := opts.Factory
	pool, err := f.DB(ctx)
	if err != nil {
		return err
	}
	st, err := store.MigrationStatus(ctx, pool)
	if err != nil {
		return err
	}
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, st)
	}
	rows := [][]string{{"VERSION", "MIGRATION", "STATE", "APPLIED AT"}}
	for _, s := range st {
		state, at := "pending", "-"
		if s.Applied {
			state, at = "applied", s.AppliedAt.Format(time.RFC3339)
		}
		rows = append(rows, []string{fmt.Sprint(s.Version), s.Name, state, at})
	}
	return cmdutil.Table(f.IOStreams.Out, rows)
}
