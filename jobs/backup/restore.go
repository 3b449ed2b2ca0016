package backup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
)

// RestoreOptions say how far a restore may go.
type RestoreOptions struct {
	Clean bool // the target may hold tables: drop and recreate what the archive has
	Force bool // the target may be the database the backup came from
}

// RestoreReport is what a restore did.
type RestoreReport struct {
	ID         string `json:"id"`
	Target     string `json:"target"` // user@host:port/dbname
	Tables     int    `json:"tables_before"`
	DurationMS int64  `json:"duration_ms"`
	Size       int64  `json:"size"`
}

// ParseTarget reads a restore target's connection string; a bad one is a
// usage error naming the flag.
func ParseTarget(url string) (*pgx.ConnConfig, error) {
	c, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "invalid --target-url: %s", db.Redact(err.Error()))
	}
	return c, nil
}

// TargetName is a restore target as user@host:port/dbname.
func TargetName(url string) string {
	c, err := pgx.ParseConfig(url)
	if err != nil {
		return db.Redact(url)
	}
	return db.Describe(c)
}

// TargetCheck reads what a restore must know of its target: how many
// tables it holds, and whether it is the backup's own database.
func TargetCheck(ctx context.Context, target *pgx.ConnConfig, m Manifest) (tables int, same bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, target)
	if err != nil {
		return 0, false, exitcode.New(exitcode.Unavailable, fmt.Errorf("connect to the restore target %s: %w", db.Describe(target), err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var db, sysid string
	err = conn.QueryRow(ctx, `
		SELECT current_database(),
		       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%')`).
		Scan(&db, &tables)
	if err != nil {
		return 0, false, fmt.Errorf("inspect the restore target: %w", err)
	}
	sysid = systemIdentifier(ctx, conn)
	same = db == m.Database && (m.SystemIdentifier == "" || sysid == "" || sysid == m.SystemIdentifier)
	return tables, same, nil
}

// systemIdentifier is the server's pg_control system identifier, "" when
// the role may not read it (managed services).
func systemIdentifier(ctx context.Context, q db.Querier) string {
	var id *string
	if err := q.QueryRow(ctx, `SELECT system_identifier::text FROM pg_control_system()`).Scan(&id); err != nil || id == nil {
		return ""
	}
	return *id
}

// Restore streams m's archive into target with pg_restore, in one
// transaction (all or nothing) and stopping at the first error. It refuses
// a target that holds tables unless opts.Clean, and the backup's own
// database unless opts.Force. The archive comes through a pipe, so
// pg_restore --jobs cannot be used (it needs a seekable file).
func Restore(ctx context.Context, store objstore.Store, tools Tools, m Manifest, identities []age.Identity, targetURL string, opts RestoreOptions) (RestoreReport, error) {
	target, err := ParseTarget(targetURL)
	if err != nil {
		return RestoreReport{ID: m.ID}, err
	}
	rep := RestoreReport{ID: m.ID, Target: db.Describe(target)}
	tables, same, err := TargetCheck(ctx, target, m)
	if err != nil {
		return rep, err
	}
	rep.Tables = tables
	if same && !opts.Force {
		return rep, exitcode.Errorf(exitcode.Usage,
			"refusing to restore over %s: it is the database backup %s was taken from; pass --force if that is really what you want", rep.Target, m.ID)
	}
	if tables > 0 && !opts.Clean {
		return rep, exitcode.Errorf(exitcode.Usage,
			"refusing to restore into %s: it holds %d tables; restore into an empty database, or pass --clean to drop and recreate what the backup holds", rep.Target, tables)
	}
	a, err := OpenArchive(ctx, store, m, identities)
	if err != nil {
		return rep, err
	}
	defer a.Close()
	args := []string{"--single-transaction", "--exit-on-error", "--dbname=" + libpqConn(target)}
	if opts.Clean {
		args = append(args, "--clean", "--if-exists")
	}
	start := time.Now()
	out, err := pgRestore(ctx, tools, a, target.Password, args...)
	rep.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		return rep, exitcode.Errorf(exitcode.Failed, "pg_restore into %s failed, and rolled back: %v: %s", rep.Target, err, strings.TrimSpace(out))
	}
	if err := a.Drain(); err != nil {
		return rep, err
	}
	var v Verification
	v.OK = true
	a.Check(&v)
	rep.Size = v.Size
	if !v.OK {
		return rep, exitcode.Errorf(exitcode.Failed, "restored, but the archive did not match its manifest: %s", strings.Join(v.Problems, "; "))
	}
	return rep, nil
}
