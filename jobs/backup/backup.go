// Package backup is the `db backup` job: pg_dump of the database streamed
// to object storage, with a manifest written last and retention that never
// deletes the last good backups.
//
// A run exports a snapshot in a read-only repeatable-read transaction,
// counts every table's rows in that snapshot, and runs
// `pg_dump --format=custom --snapshot=…` on it. pg_dump's output flows,
// without touching local disk, through a SHA-256 and byte counter, into
// `pg_restore --list` (the archive's table of contents must read back),
// through age encryption when recipients are given, and into a multipart
// upload. Any failure (pg_dump's exit status, an unreadable TOC, the store)
// aborts the upload: no manifest is written and retention does not run.
package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// Name is the job's name in job_runs and its lock.
const Name = "db-backup"

// Defaults of the job's options.
const (
	DefaultRetain  = 7 * 24 * time.Hour
	DefaultKeepMin = 3
	DefaultTimeout = 6 * time.Hour
)

// Deps are what the job needs from outside.
type Deps struct {
	DB    *db.Pool
	Store objstore.Store
	// ConnString is how pg_dump reaches the database ("" : libpq's PG*
	// variables). Its password reaches pg_dump through PGPASSWORD, never
	// its command line.
	ConnString string
	RunID      uuid.UUID
	Log        zerolog.Logger
	Lock       runner.LockChecker
	Version    string // cortexctl's, for the manifest
	// Progress, when set, is written pg_dump's output as it streams (a
	// progress bar on a terminal counts it); the job itself never prints.
	Progress io.Writer
}

// Options are the job's inputs, bound from flags. AsOf is the run's start
// by the database's clock (the runner sets it).
type Options struct {
	runner.Params
	Retain     time.Duration
	KeepMin    int
	Recipients []string // age public keys (age1…); none: not encrypted
	SearchDirs []string // where to look for pg_dump besides PATH
}

// Validate rejects options the job cannot run with.
func (o Options) Validate() error {
	switch {
	case o.Retain < time.Hour:
		return exitcode.Errorf(exitcode.Usage, "--retain %s is too short: keep backups at least an hour, e.g. 168h (7 days)", o.Retain)
	case o.KeepMin < 1:
		return exitcode.Errorf(exitcode.Usage, "--keep-min %d: keep at least 1 backup", o.KeepMin)
	}
	_, err := ParseRecipients(o.Recipients)
	return err
}

// ParseRecipients reads age public keys; a bad one is a configuration error.
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range keys {
		r, err := age.ParseX25519Recipient(strings.TrimSpace(k))
		if err != nil {
			return nil, exitcode.Errorf(exitcode.Config, "invalid age recipient %q in BACKUP_AGE_RECIPIENTS: %v (want an age1… public key, from age-keygen -y)", k, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Report is what a run did (or, dry, would do).
type Report struct {
	DryRun     bool      `json:"dry_run"`
	Store      string    `json:"store"`
	ID         string    `json:"id"`
	Manifest   *Manifest `json:"manifest"` // nil for a dry run or a failed backup
	DurationMS int64     `json:"duration_ms"`
	MiBPerSec  float64   `json:"mib_per_s"`
	// DatabaseSize is pg_database_size(), what a dry run would upload at most.
	DatabaseSize int64     `json:"database_size"`
	Retention    Retention `json:"retention"`
	Deleted      []string  `json:"deleted"` // keys deleted by retention (none in a dry run)
	// Swept are leftovers of interrupted writes older than OrphanAge that
	// the store kept (a file store's partial files) and this run removed.
	Swept []string `json:"swept"`
}

// Run makes one backup and, once its manifest is written, applies retention.
func Run(ctx context.Context, deps Deps, opts Options) (Report, error) {
	rep := Report{DryRun: opts.DryRun, Store: deps.Store.String(), Deleted: []string{}, Swept: []string{}}
	if err := opts.Validate(); err != nil {
		return rep, err
	}
	if opts.AsOf.IsZero() {
		return rep, exitcode.Errorf(exitcode.Usage, "the run's start is not set")
	}
	recipients, _ := ParseRecipients(opts.Recipients)
	started := opts.AsOf.UTC()
	rep.ID = BackupID(started, deps.RunID.String())

	var dbName, serverVersion string
	var serverNum int
	err := deps.DB.QueryRow(ctx, `SELECT current_database(), current_setting('server_version'),
		current_setting('server_version_num')::int, pg_database_size(current_database())`).Scan(&dbName, &serverVersion, &serverNum, &rep.DatabaseSize)
	if err != nil {
		return rep, fmt.Errorf("read the server's version: %w", err)
	}
	tools, err := FindTools(ctx, serverNum/10000, opts.SearchDirs)
	if err != nil {
		return rep, err
	}

	if opts.DryRun {
		rep.Retention, _, err = plan(ctx, deps.Store, started, opts, "")
		return rep, err
	}

	m := Manifest{
		FormatVersion: FormatVersion, ID: rep.ID, Database: dbName, ServerVersion: serverVersion,
		SystemIdentifier: systemIdentifier(ctx, deps.DB),
		PgDumpVersion:    tools.Version, CortexctlVersion: deps.Version, RunID: deps.RunID.String(),
		StartedAt: started, DumpKey: DumpKey(rep.ID, len(recipients) > 0), Encrypted: len(recipients) > 0,
		Recipients: opts.Recipients,
	}
	if m.Recipients == nil {
		m.Recipients = []string{}
	}
	clock := time.Now()
	if err := dump(ctx, deps, tools, recipients, rep.DatabaseSize, &m); err != nil {
		return rep, err
	}
	if err := runner.HoldsLock(ctx, deps.Lock, deps.DB); err != nil {
		return rep, fmt.Errorf("dump %s uploaded, manifest not written: %w", m.DumpKey, err)
	}
	elapsed := time.Since(clock)
	m.FinishedAt = started.Add(elapsed).Truncate(time.Microsecond)
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return rep, err
	}
	if _, err := deps.Store.Put(ctx, ManifestKey(rep.ID), bytes.NewReader(append(body, '\n')), objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return rep, fmt.Errorf("write manifest (the dump %s is uploaded but is not a backup without it): %w", m.DumpKey, err)
	}
	rep.Manifest = &m
	rep.DurationMS = elapsed.Milliseconds()
	if s := elapsed.Seconds(); s > 0 {
		rep.MiBPerSec = float64(m.Size) / (1 << 20) / s
	}
	deps.Log.Info().Str("key", m.DumpKey).Int64("size", m.Size).Int64("duration_ms", rep.DurationMS).Msg("backup written")

	r, deletable, err := plan(ctx, deps.Store, started, opts, rep.ID)
	rep.Retention = r
	if err != nil {
		return rep, fmt.Errorf("backup %s written; retention not applied: %w", rep.ID, err)
	}
	if len(deletable) > 0 {
		if err := runner.HoldsLock(ctx, deps.Lock, deps.DB); err != nil {
			return rep, err
		}
		if err := deps.Store.Delete(ctx, deletable...); err != nil {
			return rep, fmt.Errorf("backup %s written; retention: %w", rep.ID, err)
		}
		rep.Deleted = deletable
		deps.Log.Info().Strs("deleted", deletable).Msg("retention applied")
	}
	if sw, ok := deps.Store.(objstore.Sweeper); ok {
		swept, err := sw.Sweep(ctx, OrphanAge)
		rep.Swept = append(rep.Swept, swept...)
		if err != nil {
			// The backup is written; leftovers wait for the next run.
			deps.Log.Warn().Err(err).Msg("could not remove the leftovers of interrupted writes")
		} else if len(swept) > 0 {
			deps.Log.Info().Strs("swept", swept).Msg("removed the leftovers of interrupted writes")
		}
	}
	return rep, nil
}

// plan reads the store's manifests and plans retention; deletable lists
// the keys to delete, each backup's manifest after its dump. self is the
// backup just written: it must be among the valid ones.
func plan(ctx context.Context, store objstore.Store, now time.Time, opts Options, self string) (Retention, []string, error) {
	backups, objects, err := List(ctx, store)
	if err != nil {
		return Retention{}, nil, err
	}
	if self != "" && !containsValid(backups, self) {
		return Retention{}, nil, fmt.Errorf("the backup just written (%s) does not list as valid; not deleting anything", self)
	}
	r := PlanRetention(objects, backups, now, opts.Retain, opts.KeepMin)
	var keys []string
	for _, d := range r.Delete {
		keys = append(keys, d.Keys...)
	}
	for _, o := range r.Orphans {
		if o.Delete {
			keys = append(keys, o.Key)
		}
	}
	return r, keys, nil
}

func containsValid(backups []Backup, id string) bool {
	for _, b := range backups {
		if b.Manifest.ID == id && b.Valid {
			return true
		}
	}
	return false
}

// List reads every backup of the store from its manifest, newest first,
// and returns the store's objects too.
func List(ctx context.Context, store objstore.Store) ([]Backup, []objstore.Object, error) {
	objects, err := store.List(ctx, "")
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", store, err)
	}
	var backups []Backup
	for _, o := range objects {
		if !IsManifestKey(o.Key) {
			continue
		}
		m, err := ReadManifest(ctx, store, o.Key)
		if err != nil {
			backups = append(backups, Backup{Manifest: Manifest{ID: strings.TrimSuffix(o.Key, "/"+manifestName), StartedAt: o.Modified},
				Problem: err.Error()})
			continue
		}
		backups = append(backups, Check(m, objects))
	}
	slices.Reverse(backups) // the keys sort by start: reversed, newest first
	return backups, objects, nil
}

// ReadManifest reads and decodes one manifest.
func ReadManifest(ctx context.Context, store objstore.Store, key string) (Manifest, error) {
	rc, _, err := store.Get(ctx, key)
	if err != nil {
		return Manifest{}, err
	}
	defer rc.Close()
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("manifest %s is not readable: %w", key, err)
	}
	return m, nil
}

// dump runs pg_dump on an exported snapshot and streams its output to the
// store, filling in the manifest's sizes, hashes, TOC count and row counts.
func dump(ctx context.Context, deps Deps, tools Tools, recipients []age.Recipient, sizeHint int64, m *Manifest) error {
	conn, err := deps.DB.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin the snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&m.Snapshot); err != nil {
		return fmt.Errorf("export a snapshot: %w", err)
	}

	dumpCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := startPipeline(dumpCtx, deps.ConnString, tools, m.Snapshot, deps.Progress)
	if err != nil {
		return err
	}
	// The row counts read the same snapshot as pg_dump, on the snapshot's
	// own connection, while pg_dump streams.
	var counts map[string]int64
	var countErr error
	var wg sync.WaitGroup
	wg.Go(func() { counts, countErr = countRows(ctx, tx) })

	var body io.Reader = p
	if len(recipients) > 0 {
		if body, err = age.EncryptReader(p, recipients...); err != nil {
			cancel()
			_ = p.wait() // stopped: its error is the cancellation
			wg.Wait()
			return fmt.Errorf("start encryption: %w", err)
		}
	}
	stored := newHashCount()
	_, putErr := deps.Store.Put(dumpCtx, m.DumpKey, io.TeeReader(body, stored), objstore.PutOptions{SizeHint: sizeHint})
	if putErr != nil {
		cancel() // stops pg_dump if the store failed first
	}
	pipeErr := p.wait()
	wg.Wait()
	switch {
	case pipeErr != nil:
		return pipeErr // the upload saw it and aborted
	case putErr != nil:
		return fmt.Errorf("upload %s to %s: %w", m.DumpKey, deps.Store, putErr)
	case countErr != nil:
		_ = deps.Store.Delete(context.WithoutCancel(ctx), m.DumpKey)
		return fmt.Errorf("count rows in the dump's snapshot: %w", countErr)
	}
	m.Size, m.SHA256 = stored.n, stored.sum()
	m.DumpSize, m.DumpSHA256, m.TOCEntries = p.dump.n, p.dump.sum(), countTOC(p.tocOut)
	m.Tables = counts
	return nil
}

// countRows counts every table's rows in tx's snapshot.
func countRows(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
	rows, err := tx.Query(ctx, `
		SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, table string
		err := r.Scan(&schema, &table)
		return pgx.Identifier{schema, table}, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, id := range names {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+id.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", id.Sanitize(), err)
		}
		out[id[0]+"."+id[1]] = n
	}
	return out, nil
}

// pipeline is pg_dump's stdout as a reader that hashes and counts it, feeds
// `pg_restore --list`, and at the end fails unless both exited 0: a reader
// the upload aborts on.
type pipeline struct {
	cmd     *exec.Cmd
	out     io.Reader
	stderr  *tail
	dump    *hashCount
	toc     *io.PipeWriter // pg_restore --list's input
	tocDone chan struct{}  // closed once pg_restore --list has returned
	tocOut  string
	tocErr  error
	once    sync.Once
	err     error
}

func startPipeline(ctx context.Context, connString string, tools Tools, snapshot string, progress io.Writer) (*pipeline, error) {
	conn, password := SplitPassword(connString)
	args := []string{"--format=custom", "--snapshot=" + snapshot, "--no-password"}
	if conn != "" {
		args = append(args, "--dbname="+conn)
	}
	p := &pipeline{stderr: &tail{}, dump: newHashCount(), tocDone: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, tools.PgDump, args...)
	p.cmd.Env = os.Environ()
	if password != "" {
		p.cmd.Env = append(p.cmd.Env, "PGPASSWORD="+password)
	}
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tocIn, toc := io.Pipe()
	p.toc = toc
	go func() {
		defer close(p.tocDone)
		p.tocOut, p.tocErr = pgRestore(ctx, tools, tocIn, "", "--list")
		_ = tocIn.Close() // if pg_restore never read, writes fail (and are ignored) instead of blocking
	}()
	if err := p.cmd.Start(); err != nil {
		_ = toc.Close()
		<-p.tocDone
		return nil, fmt.Errorf("start pg_dump: %w", err)
	}
	sinks := []io.Writer{p.dump, &ignoreAfterError{w: toc}}
	if progress != nil {
		sinks = append(sinks, &ignoreAfterError{w: progress}) // a broken terminal never fails a backup
	}
	p.out = io.TeeReader(out, io.MultiWriter(sinks...))
	return p, nil
}

// Read passes pg_dump's output on; at its end it waits for pg_dump and
// pg_restore --list and returns their failure instead of io.EOF.
func (p *pipeline) Read(b []byte) (int, error) {
	n, err := p.out.Read(b)
	if errors.Is(err, io.EOF) {
		if werr := p.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// wait waits for both programs once and says whether the dump is good.
func (p *pipeline) wait() error {
	p.once.Do(func() {
		dumpErr := p.cmd.Wait()
		_ = p.toc.Close()
		<-p.tocDone
		switch {
		case dumpErr != nil:
			p.err = fmt.Errorf("pg_dump failed (%w): %s; nothing was kept", dumpErr, strings.TrimSpace(p.stderr.String()))
		case p.tocErr != nil:
			p.err = fmt.Errorf("pg_restore --list cannot read the archive back (%w): %s; nothing was kept", p.tocErr, strings.TrimSpace(p.tocOut))
		case countTOC(p.tocOut) == 0:
			p.err = errors.New("the archive's table of contents is empty; nothing was kept")
		}
	})
	return p.err
}

// ignoreAfterError writes to w until w fails (pg_restore --list stops
// reading once it has the TOC), then discards.
type ignoreAfterError struct {
	w      io.Writer
	failed bool
}

func (i *ignoreAfterError) Write(b []byte) (int, error) {
	if !i.failed {
		if _, err := i.w.Write(b); err != nil {
			i.failed = true
		}
	}
	return len(b), nil
}

// tail keeps the last max bytes written (64 KiB by default).
type tail struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := t.max
	if limit == 0 {
		limit = 64 << 10
	}
	t.b = append(t.b, p...)
	if len(t.b) > limit {
		t.b = t.b[len(t.b)-limit:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
