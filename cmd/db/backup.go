package db

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	store "github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/jobs/backup"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// BackupOptions are `db backup`'s inputs once its flags are parsed.
type BackupOptions struct {
	Factory *cmdutil.Factory
	Job     backup.Options
	Store   cmdutil.StoreFlags
}

// NewCmdBackup is `cortexctl db backup`.
func NewCmdBackup(f *cmdutil.Factory, runF func(*BackupOptions) error) *cobra.Command {
	opts := &BackupOptions{Factory: f}
	var (
		jf         cmdutil.JobFlags
		recipients []string
	)
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back the database up to object storage: pg_dump streamed, manifest last, then retention",
		Long: `Runs pg_dump --format=custom on an exported snapshot and streams it, with no
temporary file, through SHA-256 (and age encryption to BACKUP_AGE_RECIPIENTS)
into a multipart upload to --to (s3://bucket/prefix or file:///dir). The
archive's table of contents is read back while it streams. Only when pg_dump
exited 0, the TOC read back and the upload completed is the manifest written;
a backup exists only then. Retention runs after a successful backup: backups
older than --retain are deleted, but the --keep-min newest valid ones always
stay, and only objects a manifest names (or our own aborted dumps older than a
day) are ever deleted.

Needs a pg_dump whose major version is at least the server's (PATH, then
/usr/lib/postgresql/*/bin).

` + cmdutil.ExitCodesHelp,
		Example: `  BACKUP_URL=s3://acme-backups/cortexlayer cortexctl db backup
  cortexctl db backup --to file:///var/backups/cortexctl --dry-run
  AWS_ENDPOINT_URL_S3=https://<account>.r2.cloudflarestorage.com AWS_REGION=auto \
    cortexctl db backup --to s3://backups/cortexlayer -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := jf.Params()
			if err != nil {
				return err
			}
			opts.Job.Params = params
			if !cmd.Flags().Changed("age-recipient") {
				recipients = splitList(f.Env(cmdutil.EnvBackupRecipients))
			}
			opts.Job.Recipients = recipients
			if err := opts.Job.Validate(); err != nil {
				return err
			}
			if err := opts.Store.Resolve(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBackup(cmd.Context(), opts)
		},
	}
	jf.BindRun(cmd, backup.DefaultTimeout)
	opts.Store.Bind(cmd)
	fl := cmd.Flags()
	fl.DurationVar(&opts.Job.Retain, "retain", backup.DefaultRetain, "delete backups older than this (after a successful backup)")
	fl.IntVar(&opts.Job.KeepMin, "keep-min", backup.DefaultKeepMin, "always keep this many of the newest valid backups, however old")
	fl.StringSliceVar(&recipients, "age-recipient", nil, "encrypt to this age public key (age1…); repeat for several (env "+cmdutil.EnvBackupRecipients+", comma-separated)")
	return cmd
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
}

func runBackup(ctx context.Context, opts *BackupOptions) error {
	f := opts.Factory
	var st objstore.Store
	job := runner.Job{Name: backup.Name, Params: opts.Job.Params, DefaultAsOf: true,
		Preflight: func(ctx context.Context) error {
			var err error
			st, err = opts.Store.Open(ctx)
			return err
		}}
	return cmdutil.RunJob(ctx, f, job, func(ctx context.Context, run runner.Run, pool *store.Pool) (backup.Report, error) {
		o := opts.Job
		o.Params = run.Job.Params // AsOf: the start, by the database's clock
		o.SearchDirs = backup.DefaultSearchDirs()
		bar := progress(f, "pg_dump → "+st.String())
		defer bar.finish()
		return backup.Run(ctx, backup.Deps{DB: pool, Store: st, ConnString: f.Settings.DatabaseURL, RunID: run.ID,
			Log: run.Logger, Lock: run, Version: f.Build.Version, Progress: bar.w}, o)
	}, renderBackup)
}

// bar is a progress bar on a terminal, or nothing.
type bar struct {
	w      io.Writer // nil when there is no terminal
	finish func()
}

// progress shows bytes, rate and elapsed time on stderr when it is a
// terminal; cron and pipes get none (the report says it all).
func progress(f *cmdutil.Factory, what string) bar {
	if !f.IOStreams.IsStderrTTY() {
		return bar{finish: func() {}}
	}
	pb := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(f.IOStreams.ErrOut), progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true), progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionSpinnerType(14),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	return bar{w: pb, finish: func() { _ = pb.Finish() }}
}

func renderBackup(w io.Writer, rec runner.Record, rep *backup.Report) error {
	code := 0
	if rec.ExitCode != nil {
		code = *rec.ExitCode
	}
	if rep == nil {
		_, err := fmt.Fprintf(w, "status: %s (exit %d)\n", rec.Status, code)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  run %s  to %s", rec.Job, rec.ID, rep.Store)
	if rep.DryRun {
		b.WriteString("  DRY RUN: nothing was uploaded or deleted")
	}
	b.WriteString("\n\n")
	switch m := rep.Manifest; {
	case rep.DryRun:
		fmt.Fprintf(&b, "would upload %s/ (the database is %s before compression)\n", rep.ID, mib(rep.DatabaseSize))
	case m != nil:
		enc := "not encrypted"
		if m.Encrypted {
			enc = "encrypted to " + english.Plural(len(m.Recipients), "recipient")
		}
		fmt.Fprintf(&b, "backup %s: %s, %s, %s in the archive, %s counted\n", m.ID, mib(m.Size), enc,
			english.Plural(m.TOCEntries, "entry"), english.Plural(len(m.Tables), "table"))
		fmt.Fprintf(&b, "  %s  sha256 %s\n", m.DumpKey, m.SHA256)
		fmt.Fprintf(&b, "  %s in %s (%.1f MiB/s)\n", cmdutil.Instant(m.StartedAt), time.Duration(rep.DurationMS)*time.Millisecond, rep.MiBPerSec)
	}
	r := rep.Retention
	verb := "deleted"
	if rep.DryRun {
		verb = "would delete"
	}
	fmt.Fprintf(&b, "retention: keeping %s; %s %s\n", english.Plural(len(r.Keep), "backup"), verb, english.Plural(len(r.Delete), "backup"))
	for _, d := range r.Delete {
		fmt.Fprintf(&b, "  %s %s: %s\n", verb, d.ID, d.Reason)
	}
	for _, o := range r.Orphans {
		what := "left alone (younger than a day)"
		if o.Delete {
			what = verb + " (an aborted dump older than a day)"
		}
		fmt.Fprintf(&b, "  orphan %s: %s\n", o.Key, what)
	}
	if len(r.Foreign) > 0 {
		fmt.Fprintf(&b, "  %s not written by cortexctl: never deleted\n", english.Plural(len(r.Foreign), "object"))
	}
	if len(rep.Swept) > 0 {
		fmt.Fprintf(&b, "  removed %s of interrupted writes (older than a day)\n", english.Plural(len(rep.Swept), "partial file"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return cmdutil.Footer(w, rec)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// BackupsOptions are `db backups`'s inputs.
type BackupsOptions struct {
	Factory *cmdutil.Factory
	Store   cmdutil.StoreFlags
}

// NewCmdBackups is `cortexctl db backups`: the backups in the store.
func NewCmdBackups(f *cmdutil.Factory, runF func(*BackupsOptions) error) *cobra.Command {
	opts := &BackupsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:     "backups",
		Short:   "List the backups in the store, newest first, from their manifests",
		Example: "  cortexctl db backups --to s3://acme-backups/cortexlayer\n  cortexctl db backups -o json",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Store.Resolve(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBackups(cmd.Context(), opts)
		},
	}
	opts.Store.Bind(cmd)
	return cmd
}

// Listed is one line of `db backups`.
type Listed struct {
	backup.Backup
	Verified *backup.Verification `json:"verified"` // the last `db verify`, if any
}

func runBackups(ctx context.Context, opts *BackupsOptions) error {
	f := opts.Factory
	st, err := opts.Store.Open(ctx)
	if err != nil {
		return err
	}
	backups, objects, err := backup.List(ctx, st)
	if err != nil {
		return err
	}
	stored := make(map[string]bool, len(objects))
	for _, o := range objects {
		stored[o.Key] = true
	}
	out := make([]Listed, 0, len(backups))
	for _, b := range backups {
		l := Listed{Backup: b}
		if stored[backup.VerifiedKey(b.Manifest.ID)] {
			if v, err := backup.ReadVerification(ctx, st, b.Manifest.ID); err == nil {
				l.Verified = &v
			}
		}
		out = append(out, l)
	}
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, out)
	}
	if len(out) == 0 {
		_, err := fmt.Fprintf(f.IOStreams.Out, "no backups in %s\n", st)
		return err
	}
	now := f.Now()
	rows := [][]string{{"ID", "STARTED", "SIZE", "AGE", "ENCRYPTED", "VERIFIED", "STATUS"}}
	for _, l := range out {
		m := l.Manifest
		status, verified := "ok", "-"
		if !l.Valid {
			status = "INVALID: " + l.Problem
		}
		if v := l.Verified; v != nil {
			verified = cmdutil.Instant(v.At)
			if v.Drill {
				verified += " (drill)"
			}
			if !v.OK {
				verified = "FAILED " + verified
			}
		}
		rows = append(rows, []string{m.ID, cmdutil.Instant(m.StartedAt), mib(m.Size), now.Sub(m.StartedAt).Round(time.Minute).String(),
			fmt.Sprint(m.Encrypted), verified, status})
	}
	return cmdutil.Table(f.IOStreams.Out, rows)
}
