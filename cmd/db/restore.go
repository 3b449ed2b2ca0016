package db

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/backup"
)

// RestoreOptions are `db restore`'s inputs.
type RestoreOptions struct {
	Factory   *cmdutil.Factory
	Store     cmdutil.StoreFlags
	ID        string
	TargetURL string
	Identity  string
	Clean     bool
	Force     bool
	Yes       bool
}

// NewCmdRestore is `cortexctl db restore`.
func NewCmdRestore(f *cmdutil.Factory, runF func(*RestoreOptions) error) *cobra.Command {
	opts := &RestoreOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "restore ID|latest --target-url URL",
		Short: "Restore a backup into a database, streamed, in one transaction",
		Long: `Streams a backup from the store into pg_restore against --target-url, in a
single transaction that stops at the first error (all or nothing). Refuses a
target that holds tables unless --clean (drop and recreate what the backup
holds), and the database the backup was taken from unless --force. On a
terminal it asks for confirmation unless --yes. The archive arrives through a
pipe, so pg_restore --jobs is not used.`,
		Example: `  cortexctl db restore latest --target-url postgres://postgres@db-new:5432/cortexlayer
  cortexctl db restore 20261127T020000Z-1a2b3c4d --target-url "$URL" --clean --yes --identity backup.key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.ID = strings.TrimSpace(args[0]); opts.ID == "" {
				return exitcode.Errorf(exitcode.Usage, "the backup id is empty: give one from `cortexctl db backups`, or latest")
			}
			if opts.TargetURL == "" {
				return exitcode.Errorf(exitcode.Usage, "--target-url is required: the database to restore into, e.g. postgres://postgres@db-new:5432/cortexlayer")
			}
			if _, err := backup.ParseTarget(opts.TargetURL); err != nil {
				return err
			}
			if err := opts.Store.Resolve(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRestore(cmd.Context(), opts)
		},
	}
	opts.Store.Bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.TargetURL, "target-url", "", "the database to restore into (required)")
	fl.StringVar(&opts.Identity, "identity", "", "age identity file for an encrypted backup")
	fl.BoolVar(&opts.Clean, "clean", false, "the target may hold tables: drop and recreate what the backup holds")
	fl.BoolVar(&opts.Force, "force", false, "the target may be the database the backup was taken from")
	fl.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation on a terminal")
	return cmd
}

func runRestore(ctx context.Context, opts *RestoreOptions) error {
	f := opts.Factory
	o, err := openBackup(ctx, &opts.Store, opts.ID, opts.Identity, 0)
	if err != nil {
		return err
	}
	m := o.manifest
	dest := backup.TargetName(opts.TargetURL)
	if f.IOStreams.IsStdoutTTY() && !opts.Yes {
		fmt.Fprintf(f.IOStreams.Out, "Restore backup %s (%s, from %s) into %s? Type yes: ", m.ID, mib(m.Size), m.Database, dest)
		answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			return exitcode.Errorf(exitcode.Failed, "not confirmed: nothing was restored")
		}
	}
	rep, err := backup.Restore(ctx, o.store, o.tools, m, o.identities, opts.TargetURL, backup.RestoreOptions{Clean: opts.Clean, Force: opts.Force})
	if err != nil {
		return err
	}
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, rep)
	}
	_, err = fmt.Fprintf(f.IOStreams.Out, "restored backup %s (%s) into %s in %s\n", m.ID, mib(rep.Size), rep.Target, time.Duration(rep.DurationMS)*time.Millisecond)
	return err
}
