package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	store "github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/jobs/backup"
)

// VerifyOptions are `db verify`'s inputs.
type VerifyOptions struct {
	Factory  *cmdutil.Factory
	Store    cmdutil.StoreFlags
	ID       string // a backup id, or "latest"
	Identity string // age identity file, for an encrypted backup
	Drill    bool
}

// NewCmdVerify is `cortexctl db verify`.
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "verify [ID|latest]",
		Short: "Check a backup: size and SHA-256 against its manifest, decrypt, read its TOC; --drill restores it",
		Long: `Downloads a backup (default: the latest valid one) and checks its size and
SHA-256 against the manifest, decrypts it when it is encrypted (--identity),
and reads its table of contents back with pg_restore --list. With --drill it
restores into a new scratch database on the server of DATABASE_URL instead,
compares every table's row count with the counts recorded at backup time
(read in the dump's own snapshot), reports the restore time and drops the
scratch database. The result is recorded beside the backup (db backups shows
it). Exits 1 on any mismatch.`,
		Example: `  cortexctl db verify latest
  cortexctl db verify 20261127T020000Z-1a2b3c4d --identity /etc/cortexctl/backup.key
  cortexctl db verify --drill`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = "latest"
			if len(args) == 1 {
				if opts.ID = strings.TrimSpace(args[0]); opts.ID == "" {
					return exitcode.Errorf(exitcode.Usage, "the backup id is empty: give one from `cortexctl db backups`, or latest")
				}
			}
			if err := opts.Store.Resolve(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	opts.Store.Bind(cmd)
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "age identity file (AGE-SECRET-KEY-1…) for an encrypted backup")
	cmd.Flags().BoolVar(&opts.Drill, "drill", false, "restore into a scratch database and compare row counts (needs CREATEDB)")
	return cmd
}

// opened is a backup picked from the store, ready to be read.
type opened struct {
	store      objstore.Store
	manifest   backup.Manifest
	identities []age.Identity
	tools      backup.Tools
}

// openBackup reads the identity file (if any), opens the store, picks the
// backup (an id or latest) and finds a pg_restore at least as new as the
// server that made it, or than serverMajor.
func openBackup(ctx context.Context, sf *cmdutil.StoreFlags, id, identityFile string, serverMajor int) (opened, error) {
	var o opened
	var err error
	if identityFile != "" {
		if o.identities, err = backup.ReadIdentities(identityFile); err != nil {
			return o, err
		}
	}
	if o.store, err = sf.Open(ctx); err != nil {
		return o, err
	}
	if o.manifest, err = backup.Pick(ctx, o.store, id); err != nil {
		return o, err
	}
	if major, _, ok := backup.ParseToolVersion("(PostgreSQL) " + o.manifest.ServerVersion); ok && major > serverMajor {
		serverMajor = major
	}
	o.tools, err = backup.FindTools(ctx, serverMajor, backup.DefaultSearchDirs())
	return o, err
}

func runVerify(ctx context.Context, opts *VerifyOptions) error {
	f := opts.Factory
	// Only a drill needs the database: it restores into DATABASE_URL's
	// server, whose pg_restore must be at least as new as that server.
	serverMajor := 0
	var drill *store.Pool
	if opts.Drill {
		var err error
		if drill, err = f.DB(ctx); err != nil {
			return err
		}
		if err := drill.QueryRow(ctx, `SELECT current_setting('server_version_num')::int / 10000`).Scan(&serverMajor); err != nil {
			return err
		}
	}
	o, err := openBackup(ctx, &opts.Store, opts.ID, opts.Identity, serverMajor)
	if err != nil {
		return err
	}
	st, m := o.store, o.manifest
	v, verr := backup.Verify(ctx, st, o.tools, m, o.identities, drill)
	v.At = time.Now().UTC().Truncate(time.Microsecond)
	if verr == nil || exitcode.Of(verr) == exitcode.Failed {
		if err := backup.RecordVerification(ctx, st, v); err != nil {
			log := f.Log()
			log.Warn().Err(err).Msg("could not record the verification beside the backup")
		}
	}
	if f.JSON() {
		if err := cmdutil.WriteJSON(f.IOStreams.Out, v); err != nil {
			return err
		}
		return verr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "backup %s from %s: %s, sha256 %s\n", m.ID, cmdutil.Instant(m.StartedAt), mib(v.Size), v.SHA256)
	if v.Drill {
		fmt.Fprintf(&b, "restored into a scratch database in %s\n", time.Duration(v.RestoreMS)*time.Millisecond)
		rows := [][]string{{"TABLE", "RECORDED", "RESTORED"}}
		for _, t := range v.Tables {
			rows = append(rows, []string{t.Table, fmt.Sprint(t.Recorded), fmt.Sprint(t.Restored)})
		}
		if err := cmdutil.Table(&b, rows); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(&b, "table of contents: %s\n", english.Plural(v.TOCEntries, "entry"))
	}
	if v.OK && verr == nil {
		b.WriteString("verified: ok\n")
	} else {
		for _, p := range v.Problems {
			fmt.Fprintf(&b, "PROBLEM: %s\n", p)
		}
	}
	if _, err := fmt.Fprint(f.IOStreams.Out, b.String()); err != nil {
		return err
	}
	return verr
}
